# berth: thin wrapper over meson + ninja.  `make demo` and `make check` are the
# two commands of a fresh machine (see README.md).
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
CC ?= cc
MESON_OPTS ?=

.PHONY: all deps build install check unit cli fuzz-replay demo asan clang fuzz bench format clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	meson setup $(BUILD) --prefix=$(PREFIX) $(MESON_OPTS)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)
	@ln -sf cmd/berth/berth $(BUILD)/berth
	@if [ -e $(BUILD)/cmd/berth-monitor/berth-monitor ]; then ln -sf cmd/berth-monitor/berth-monitor $(BUILD)/berth-monitor; fi

install: $(BUILD)/build.ninja
	meson configure $(BUILD) -Dprefix=$(PREFIX) >/dev/null
	ninja -C $(BUILD)
	DESTDIR=$(DESTDIR) meson install -C $(BUILD) --no-rebuild

# Every suite; the last line is "N passed, N failed[, N skipped]".  The tree
# must also build warning-free with clang (it is compiled, not tested, twice).
check: deps build
	@$(MAKE) --no-print-directory clang >/dev/null
	@scripts/run-tests $(BUILD)

demo: deps build
	@scripts/demo $(BUILD)

# The suites under AddressSanitizer and UndefinedBehaviorSanitizer.
asan:
	@scripts/install-deps
	$(MAKE) BUILD=build-asan MESON_OPTS="-Db_sanitize=address,undefined -Db_lundef=false" build
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 scripts/run-tests build-asan

clang:
	CC=clang $(MAKE) --no-print-directory BUILD=build-clang build

# libFuzzer builds of the fuzz targets (clang); run one with build-fuzz/fuzz-tar CORPUS.
fuzz:
	@scripts/build-fuzzers build-fuzz

bench: build
	@bench/run-all $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) build-asan build-clang build-fuzz
