# Fleetwire: two commands do all set-up on a fresh machine.
#   make demo   installs what is missing, builds, runs a fleet against the collector, prints the bandwidth comparison
#   make test   installs what is missing, runs every test
SWIFT ?= swift
SWIFT_BUILD_FLAGS ?=
# Release binaries link the Swift runtime and Foundation statically: 6 MiB less resident memory per process
# (only the code a binary touches is resident, not whole shared libraries) and no runtime libraries to ship.
RELEASE_BUILD = $(SWIFT) build -c release --static-swift-stdlib $(SWIFT_BUILD_FLAGS)
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 15

.PHONY: all deps build release test demo bench schema screenshot clean help fuzz fuzz-smoke

all: build

help:
	@echo "make demo    install what is missing, build, run a simulated fleet, print the bandwidth comparison"
	@echo "make test    install what is missing, run every test"
	@echo "make build   debug build;  make release: release build"
	@echo "make screenshot  render the dashboard of a collector fed by a simulated fleet into docs/dashboard.png"
	@echo "make bench   release build, then the benchmark suite (about 60 min); writes bench/results/<date>-<host>.json and .md"
	@echo "make schema  regenerate schema/descriptors.binpb (protoc) and the embedded copies of it and schema/sqlite.sql"
	@echo "make fuzz    build the five libFuzzer harnesses, fuzz each for FUZZ_SECONDS (default 600)"
	@echo "make fuzz-smoke  replay the fuzz regressions and seeds, fuzz each harness FUZZ_SMOKE_SECONDS (part of make test)"
	@echo "make clean   remove build products"

deps:
	@scripts/install-deps.sh test

build:
	@scripts/install-deps.sh build
	$(SWIFT) build $(SWIFT_BUILD_FLAGS)

release:
	@scripts/install-deps.sh build
	$(RELEASE_BUILD)

test: deps
	$(SWIFT) build --build-tests $(SWIFT_BUILD_FLAGS)
	$(SWIFT) test --skip-build $(SWIFT_BUILD_FLAGS)
	status=0; python3 -m pytest -q Tests/Python || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests in Tests/Python" >&2; fi; \
	exit $$status
	$(MAKE) fuzz-smoke

# libFuzzer harnesses (Tests/Fuzz): protobuf, json, http1, grpc-deframer, tls. Not SwiftPM targets; see scripts/fuzz.sh.
fuzz:
	FUZZ_JOBS=$${FUZZ_JOBS:-1} scripts/fuzz.sh run $(FUZZ_SECONDS)

fuzz-smoke:
	FUZZ_JOBS=$${FUZZ_JOBS:-2} scripts/fuzz.sh run $(FUZZ_SMOKE_SECONDS)

demo:
	@scripts/install-deps.sh demo
	$(RELEASE_BUILD) --product collector
	$(RELEASE_BUILD) --product device-sim
	@scripts/demo.sh

bench:
	@scripts/install-deps.sh bench
	$(RELEASE_BUILD) --product collector
	$(RELEASE_BUILD) --product device-sim
	$(RELEASE_BUILD) --product store-bench
	if scripts/build-baseline.sh; then python3 bench/run.py --baseline-bin .build-baseline/release; \
	else python3 bench/run.py; fi

schema:
	@scripts/embed-schema.sh
	@scripts/embed-descriptors.sh

screenshot:
	@scripts/screenshot.sh

clean:
	rm -rf .build
