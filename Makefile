# MailFerry: the commands the README and CI use.
SWIFT_FLAGS = -Xswiftc -warnings-as-errors --explicit-target-dependency-import-check error

.PHONY: all build install demo test test-slurm bench fuzz lint clean

all: build

# Builds only: the C libraries it links are the one install (no test servers).
build:
	scripts/install-test-deps --libraries
	swift build -c release $(SWIFT_FLAGS)

# Installs the binary and the provider profiles it reads (PREFIX=/usr/local by default;
# DESTDIR for staging). The binary finds the profiles in ../share/mailferry/profiles.
PREFIX ?= /usr/local
install:
	scripts/install-test-deps --libraries
	swift build -c release --product mailferry $(SWIFT_FLAGS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/mailferry/profiles
	install -m 755 .build/release/mailferry $(DESTDIR)$(PREFIX)/bin/mailferry
	install -m 644 Profiles/*.json $(DESTDIR)$(PREFIX)/share/mailferry/profiles/

# Builds the tool and shows it at work against private Dovecots (probe, folders, migrate,
# backup, archive, restore).
demo: build
	scripts/install-test-deps
	swift build -c release --product mailferry-demo $(SWIFT_FLAGS)
	.build/release/mailferry-demo .build/release/mailferry

# The whole test suite against a private Dovecot (installed if missing), with the batch
# run as a Slurm job array on a private Slurm (about 30 s; SlurmBatchTests).
test:
	scripts/install-test-deps --slurm
	swift build --build-tests $(SWIFT_FLAGS)
	swift format lint --strict --recursive Package.swift Sources Tests
	MAILFERRY_SLURM_TESTS=1 scripts/run-tests

# Only the Slurm test: a batch of 20 accounts as a 4-task job array on a private
# single-node Slurm (munged, slurmctld and slurmd in a temporary directory; installed if
# missing).
test-slurm:
	scripts/install-test-deps --slurm
	swift build --build-tests $(SWIFT_FLAGS)
	MAILFERRY_SLURM_TESTS=1 scripts/run-tests --filter SlurmBatchTests

# Benchmarks against a private Dovecot, side by side with a raw client and mbsync.
# BENCH_ARGS="--messages 2000 --rounds 1" for a quick run.
bench:
	scripts/install-test-deps --bench
	swift build -c release --product mailferry $(SWIFT_FLAGS)
	swift build -c release --product mailferry-bench $(SWIFT_FLAGS)
	stdbuf -oL .build/release/mailferry-bench $(BENCH_ARGS)

# A longer run of the parser fuzzers than the test suite's.
fuzz:
	swift build --build-tests $(SWIFT_FLAGS)
	MAILFERRY_FUZZ_ITERATIONS=$${MAILFERRY_FUZZ_ITERATIONS:-2000000} swift test --skip-build \
	  --filter 'ResponseParserFuzzTests|GzipFuzzTests|ManifestFuzzTests|MboxFuzzTests|ReplyParserFuzzTests'

lint:
	swift format lint --strict --recursive Package.swift Sources Tests

clean:
	rm -rf .build
