# Makefile: the two entry points of the README (`make serve`, `make test`) and helpers.
# Each target installs missing Debian packages first (scripts/ensure-deps.sh).
BUILD_DIR ?= build/release
JOBS ?= 2
CMAKE_FLAGS ?=

FUZZ_SECONDS ?= 60

SOAK_MINUTES ?= 60

.PHONY: serve test test-fast sanitize fuzz tsan check-all soak build deps bench format clean package

serve: build
	$(BUILD_DIR)/vpo serve

test: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DVPO_WERROR=ON -DCMAKE_INSTALL_PREFIX=/usr $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 120 -j $(JOBS)

# The unit tests only (CTest label `fast`, well under a minute): the quick loop while developing.
test-fast: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DVPO_WERROR=ON -DCMAKE_INSTALL_PREFIX=/usr $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 120 -j $(JOBS) -L fast

# The whole suite under AddressSanitizer + UBSan (Debug); leaks and UB fail the run.
sanitize: deps
	cmake -S . -B build/sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVPO_SANITIZE=ON -DVPO_WERROR=ON -DCMAKE_INSTALL_PREFIX=/usr
	cmake --build build/sanitize -j $(JOBS)
	cd build/sanitize && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure --timeout 180 -j $(JOBS)

# The libFuzzer targets (clang, ASan + UBSan), each for FUZZ_SECONDS from the checked-in seeds
# (fuzz/corpus/<target>); a finding fails the run and is kept under build/fuzz/artifacts.
fuzz:
	@scripts/ensure-deps.sh fuzz
	CC=clang-14 CXX=clang++-14 cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DVPO_FUZZ=ON -DVPO_WERROR=ON
	cmake --build build/fuzz -j $(JOBS)
	scripts/run-fuzzers.sh build/fuzz $(FUZZ_SECONDS)

# ThreadSanitizer on vpo and on CAF itself (built once with TSan into ~/.cache/vpo): the unit
# tests and the integration tests that stop the daemon under load. Any report fails the run.
tsan:
	@scripts/ensure-deps.sh tsan
	scripts/run-tsan.sh

# What CI runs: the README's test command, then the sanitizers and the fuzzers.
check-all: test sanitize fuzz tsan

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS) --target vpo vpo_man

deps:
	@scripts/ensure-deps.sh build

bench:
	@scripts/ensure-deps.sh bench
	bench/http_bench.sh
	bench/jobs_bench.sh
	bench/metrics_bench.sh
	bench/probe_allocs.sh
	bench/probe_latency.sh

# Mixed load on the real daemon for SOAK_MINUTES, printing RSS, fds, threads and errors each
# minute (not in CI; the last result is in docs/reliability.md).
soak: build
	cmake --build $(BUILD_DIR) -j $(JOBS) --target vpo_soak
	$(BUILD_DIR)/vpo_soak $(SOAK_MINUTES)

# The .deb (CPack): build/release/vpo_<version>_amd64.deb, installable with
# `apt-get install ./build/release/vpo_*.deb` (docs/systemd.md).
package: build
	cd $(BUILD_DIR) && cpack -G DEB

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf build
