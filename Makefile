# MailFerry: the commands the README and CI use.
SWIFT_FLAGS = -Xswiftc -warnings-as-errors --explicit-target-dependency-import-check error

.PHONY: all build demo test lint clean

all: build

build:
	scripts/install-test-deps
	swift build -c release $(SWIFT_FLAGS)

# Builds the tool and shows it at work.
demo: build
	.build/release/mailferry --help

# The whole test suite against a private Dovecot (installed if missing).
test:
	scripts/install-test-deps
	swift build --build-tests $(SWIFT_FLAGS)
	swift format lint --strict --recursive Package.swift Sources Tests
	swift test --skip-build

lint:
	swift format lint --strict --recursive Package.swift Sources Tests

clean:
	rm -rf .build
