# A thin layer over CMake. The two commands a newcomer needs:
#   make run     install what is missing, build, start attestd in development mode
#   make check   install what is missing, build, run every test (also under ASan+UBSan)
JOBS ?= $(shell nproc)
BUILD ?= build
DATA ?= ./data

.PHONY: install all setup build build-release build-asan build-fuzz run check test test-asan fuzz valgrind bench format lint clean

all: build

setup:
	@scripts/setup.sh

$(BUILD)/debug/CMakeCache.txt:
	cmake -S . -B $(BUILD)/debug -DCMAKE_BUILD_TYPE=Debug >/dev/null

$(BUILD)/release/CMakeCache.txt:
	cmake -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release >/dev/null

$(BUILD)/asan/CMakeCache.txt:
	cmake -S . -B $(BUILD)/asan -DCMAKE_BUILD_TYPE=Debug -DATTEST_SANITIZE=ON -DATTEST_BENCH=OFF >/dev/null

$(BUILD)/fuzz/CMakeCache.txt:
	CC=clang cmake -S . -B $(BUILD)/fuzz -DCMAKE_BUILD_TYPE=Debug -DATTEST_FUZZ=ON -DATTEST_BENCH=OFF >/dev/null

build: $(BUILD)/debug/CMakeCache.txt
	cmake --build $(BUILD)/debug -j$(JOBS)

build-release: $(BUILD)/release/CMakeCache.txt
	cmake --build $(BUILD)/release -j$(JOBS)

build-asan: $(BUILD)/asan/CMakeCache.txt
	cmake --build $(BUILD)/asan -j$(JOBS)

build-fuzz: $(BUILD)/fuzz/CMakeCache.txt
	cmake --build $(BUILD)/fuzz -j$(JOBS)

# Development mode: a development TLS certificate, and a development platform
# (attestctl dev init) whose synthetic evidence this attestd alone accepts.
run: setup build-release
	$(BUILD)/release/src/cli/attestctl dev init --dir $(DATA)/devplat
	$(BUILD)/release/src/server/attestd --dev --data $(DATA) --bootstrap-admin-file $(DATA)/admin-credential \
	  --trust-roots $(DATA)/devplat/roots.pem --collateral-dir $(DATA)/devplat/collateral

# Every test: unit and integration (Debug), then the sanitizer build, then
# each fuzz target briefly over its seed corpus.
check: setup
	scripts/check.sh

test: build
	cd $(BUILD)/debug && ATTESTCTL_DEV_KEY_CACHE=$(CURDIR)/$(BUILD)/devplat-key-cache ctest -j$(JOBS) --output-on-failure

test-asan: build-asan
	cd $(BUILD)/asan && ATTESTCTL_DEV_KEY_CACHE=$(CURDIR)/$(BUILD)/devplat-key-cache ctest -j$(JOBS) --output-on-failure -L unit

fuzz: setup build-fuzz
	scripts/fuzz.sh $(BUILD)/fuzz 300

# The whole integration suite with every attestd under valgrind memcheck (long;
# CI runs robust_valgrind only).
valgrind: setup build
	tests/robustness/valgrind_suite.sh $(BUILD)/debug

bench: setup build-release
	scripts/bench.sh $(BUILD)/release

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

lint: build
	scripts/lint.sh $(BUILD)/debug

clean:
	rm -rf $(BUILD)

# Installs into PREFIX (default /usr/local); DESTDIR works as usual. The prefix
# is set at configure time too: the systemd unit and the config path name it.
PREFIX ?= /usr/local
install: $(BUILD)/release/CMakeCache.txt
	cmake -S . -B $(BUILD)/release -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build $(BUILD)/release -j$(JOBS)
	cmake --install $(BUILD)/release
