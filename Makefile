# MailFerry: the commands the README and CI use.
SWIFT_FLAGS = -Xswiftc -warnings-as-errors --explicit-target-dependency-import-check error

.PHONY: all build install test-install demo test test-slurm bench bench-quick bench-build fuzz lint clean

all: build

# Builds only: the C libraries it links are the one install (no test servers).
build:
	scripts/install-test-deps --libraries
	swift build -c release $(SWIFT_FLAGS)

# Installs a release binary with the Swift runtime and Foundation linked in (it needs only
# the system's libssl, libsqlite3 and libz), the provider profiles it reads, its man page
# and the bash and zsh completions (PREFIX=/usr/local by default; DESTDIR for staging). The
# binary finds the profiles in ../share/mailferry/profiles. The man page and completions
# are printed by the freshly built binary from the same text as its --help.
PREFIX ?= /usr/local
RELEASE = .build/release
install:
	scripts/install-test-deps --libraries
	swift build -c release --static-swift-stdlib --product mailferry $(SWIFT_FLAGS)
	$(RELEASE)/mailferry help --man >$(RELEASE)/mailferry.1
	$(RELEASE)/mailferry completions bash >$(RELEASE)/mailferry.bash
	$(RELEASE)/mailferry completions zsh >$(RELEASE)/_mailferry
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/mailferry/profiles \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 755 $(RELEASE)/mailferry $(DESTDIR)$(PREFIX)/bin/mailferry
	install -m 644 Profiles/*.json $(DESTDIR)$(PREFIX)/share/mailferry/profiles/
	install -m 644 $(RELEASE)/mailferry.1 $(DESTDIR)$(PREFIX)/share/man/man1/mailferry.1
	install -m 644 $(RELEASE)/mailferry.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mailferry
	install -m 644 $(RELEASE)/_mailferry $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_mailferry

# Installs into a temporary prefix and checks the installed binary runs with the Swift
# toolchain out of reach (also against private Dovecots, driven by mailferry-demo built the
# same way), and that its man page and completions work (scripts/test-install).
test-install:
	scripts/install-test-deps
	swift build --product mailferry $(SWIFT_FLAGS)
	swift build -c release --static-swift-stdlib --product mailferry-demo $(SWIFT_FLAGS)
	scripts/test-install

# Builds the tool and shows it at work against private Dovecots (probe, folders, migrate,
# backup, archive, restore).
demo: build
	scripts/install-test-deps
	swift build -c release --product mailferry-demo $(SWIFT_FLAGS)
	.build/release/mailferry-demo .build/release/mailferry

# The whole test suite against a private Dovecot (installed if missing), with the batch
# run as a Slurm job array on a private Slurm (about 30 s; SlurmBatchTests), then the
# install check (a static release build: a few minutes more).
test:
	scripts/install-test-deps --slurm
	swift build --build-tests $(SWIFT_FLAGS)
	swift format lint --strict --recursive Package.swift Sources Tests
	MAILFERRY_SLURM_TESTS=1 scripts/run-tests
	$(MAKE) --no-print-directory test-install

# Only the Slurm test: a batch of 20 accounts as a 4-task job array on a private
# single-node Slurm (munged, slurmctld and slurmd in a temporary directory; installed if
# missing).
test-slurm:
	scripts/install-test-deps --slurm
	swift build --build-tests $(SWIFT_FLAGS)
	MAILFERRY_SLURM_TESTS=1 scripts/run-tests --filter SlurmBatchTests

# Benchmarks against private Dovecots, side by side with a raw client, a minimal TLS
# client (the limit), mbsync, imapsync, mpop, getmail and fetchmail; every copy checked by
# a verifier (docs/benchmarks.md). The full run took 16 minutes on two cores, builds included.
# BENCH_ARGS="--only migrate --corpus sizemix" and the like run parts of it.
bench: bench-build
	stdbuf -oL .build/release/mailferry-bench $(BENCH_ARGS)

# Every section on small inputs, in a few minutes: 2,000 messages, one round, a size mix
# of 1,000, a 10,000-message no-op, 300 messages through the slow link.
QUICK_ARGS = --messages 2000 --rounds 1 --sizemix-messages 1000 --noop-messages 10000 \
  --slow-link-messages 300 --pop3-messages 500
bench-quick: bench-build
	stdbuf -oL .build/release/mailferry-bench $(QUICK_ARGS) $(BENCH_ARGS)

bench-build:
	scripts/install-test-deps --bench
	swift build -c release --product mailferry $(SWIFT_FLAGS)
	swift build -c release --product mailferry-bench $(SWIFT_FLAGS)

# A longer run of the parser fuzzers than the test suite's.
fuzz:
	swift build --build-tests $(SWIFT_FLAGS)
	MAILFERRY_FUZZ_ITERATIONS=$${MAILFERRY_FUZZ_ITERATIONS:-2000000} swift test --skip-build \
	  --filter 'ResponseParserFuzzTests|GzipFuzzTests|ManifestFuzzTests|MboxFuzzTests|ReplyParserFuzzTests'

lint:
	swift format lint --strict --recursive Package.swift Sources Tests

clean:
	rm -rf .build
