# Cloak: two commands for a newcomer.
#
#   make demo   set up, build, run the demo
#   make test   set up, build, run the test suite (what CI runs)
#
# Builds are release builds with optimisation; on a CPU with AVX-512 (this project's machine kind) they
# also target znver4 so Swift SIMD code becomes real vector code (see BENCHMARKS.md and the engine notes).

SHELL := /bin/bash
SWIFT ?= swift

# Target the host CPU only where it has AVX-512; otherwise stay portable.
ifneq ($(shell grep -m1 -o -w avx512f /proc/cpuinfo 2>/dev/null),)
CPU_FLAGS := -Xswiftc -target-cpu -Xswiftc znver4
endif

# One set of flags for the binary and the tests, so `make demo` and `make test` share one build.
BUILD_FLAGS := -c release -Xswiftc -enable-testing $(CPU_FLAGS)
TEST_FLAGS  := $(BUILD_FLAGS)
CLOAK := .build/release/cloak

# oneDNN runs on OpenMP threads; spin-waiting threads are disastrous when the other core is busy.
export OMP_WAIT_POLICY ?= PASSIVE
export OMP_NUM_THREADS ?= 2

.PHONY: setup setup-test build test checks demo clean bench-engine

setup:
	@bash scripts/setup.sh

# What only the tests need: Debian's torchvision, to load outputs as PyTorch users do.
setup-test: setup
	@/usr/bin/python3 -c "import torchvision" 2>/dev/null || \
	  (echo "setup: installing python3-torchvision (the tests load outputs with torchvision's ImageFolder)" >&2; \
	   apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-torchvision >/dev/null)

# The module graph as committed (docs/module-graph.txt), its checker's own test, flag names in the CLI only, and
# short files and functions.
checks:
	bash scripts/check-imports.sh
	bash scripts/test-check-imports.sh
	bash scripts/check-flag-names.sh
	bash scripts/check-lengths.sh

build: setup
	$(SWIFT) build $(BUILD_FLAGS) --product cloak

test: setup-test checks
	$(SWIFT) build $(TEST_FLAGS) --build-tests
	$(SWIFT) test $(TEST_FLAGS) --skip-build

demo: build
	$(CLOAK) demo

# Cloak's engine against PyTorch (Debian python3-torch, 2 threads), side by side; see BENCHMARKS.md.
bench-engine: setup
	@test -x /usr/bin/python3 && /usr/bin/python3 -c "import torch" 2>/dev/null || \
	  (echo "bench-engine: installing python3-torch (the PyTorch baseline)" >&2; \
	   apt-get install -y -qq --no-install-recommends python3-torch >/dev/null)
	$(SWIFT) build $(BUILD_FLAGS) --product cloak-bench-engine
	/usr/bin/python3 bench/engine/compare.py .build/release/cloak-bench-engine

# Unlearnable examples: Cloak vs the PyTorch implementation of the same algorithm (bench/unlearnable/), class-wise
# on the full Fashion-MNIST train set then sample-wise on 10k (slow; BENCH_SAMPLE=0 skips it); see BENCHMARKS.md.
.PHONY: bench-unlearnable
bench-unlearnable: setup
	bash bench/unlearnable/run.sh

# The face cloak's speed: `cloak faces` on the sample photos, and one cloak step side by side with PyTorch
# (Debian python3-torch, 2 threads) doing the same network work (bench/faces/); see BENCHMARKS.md.
.PHONY: bench-faces
bench-faces: setup
	bash bench/faces/run.sh

clean:
	rm -rf .build
