# virtio-sim — the one entry point.
#   make            build build/libvirtiosim.{a,so} and build/virtio-sim
#   make run        build, the conformance suites against every built-in backend (out/report/),
#                   and every scenario as written (out/summary.{json,txt})
#   make test       build, C unit tests (normal and ASan+UBSan), determinism (gcc/clang, -O0/-O2), pytest
#   make bench      benchmarks (bench/): figures on stdout and in out/bench.json, chart out/bench-notify.svg
#   make CC=clang   build with clang
#   make install    PREFIX=/usr/local (and DESTDIR): public headers, libvirtiosim.{a,so}, the CLI, virtiosim.pc
# Missing Debian packages are installed with apt-get (as root) by `make deps`,
# which `run` and `test` call; it is a no-op when everything is present.

ifeq ($(origin CC),default)
CC := gcc
endif
OPT     ?= -O2
BUILD   ?= build
PYTHON  := /usr/bin/python3
# make test spreads its independent work over the machine's CPUs: the builds
# of the sanitizer and determinism passes, the scenario sweep, pytest (xdist)
NPROC   := $(shell nproc 2>/dev/null || echo 1)
PYTEST  := $(PYTHON) -m pytest -q -p no:cacheprovider -n $(NPROC) --dist loadfile
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE $(WARN) -g -fPIC -Iinclude -Isim -Ibackend-model -Ifrontend-model -Iconformance -Ireports
CFLAGS  ?= $(OPT)
ALL_CFLAGS = $(CFLAGS_BASE) $(CFLAGS) $(EXTRA_CFLAGS)
LDLIBS  := -ljansson -ldl -lm

LIB_SRC := $(sort $(wildcard sim/*.c backend-model/*.c frontend-model/*.c conformance/*.c reports/*.c))
LIB_SRC := $(filter-out sim/cli.c,$(LIB_SRC))
LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC))
CTEST_SRC := $(sort $(wildcard tests/c/test_*.c))
CTEST_BIN := $(patsubst tests/c/%.c,$(BUILD)/tests/%,$(CTEST_SRC))

DEB_PKGS := build-essential clang libclang-rt-14-dev libjansson-dev linux-libc-dev \
            python3-cffi python3-pytest python3-pytest-xdist python3-hypothesis python3-dev pkg-config chromium \
            qemu-system-common

.PHONY: all deps run test test-c test-asan test-determinism test-py bench clean python

all: $(BUILD)/libvirtiosim.a $(BUILD)/libvirtiosim.so $(BUILD)/virtio-sim

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "need root to apt-get install:$$missing" >&2; exit 1; fi; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(BUILD)/obj/%.o: %.c $(wildcard include/virtiosim/*.h) $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libvirtiosim.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libvirtiosim.so: $(LIB_OBJ)
	$(CC) -shared -o $@ $^ $(LDLIBS)

# The CLI exports the plugin API (backend-model/plugin_api.list) to the plugins it dlopen()s.
$(BUILD)/virtio-sim: sim/cli.c $(BUILD)/libvirtiosim.a backend-model/plugin_api.list
	$(CC) $(ALL_CFLAGS) -Wl,--dynamic-list=backend-model/plugin_api.list -o $@ $< $(BUILD)/libvirtiosim.a $(LDLIBS)

$(BUILD)/tests/%: tests/c/%.c tests/c/testutil.h $(BUILD)/libvirtiosim.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/c -o $@ $< $(BUILD)/libvirtiosim.a $(LDLIBS)

# every built-in backend through every applicable conformance suite (a report
# per backend under out/report/BACKEND/, their summary in out/report/index.html),
# then every scenario as written (out/summary.*)
BUILTIN_BACKENDS := blk console input net gpu

run: deps all
	@mkdir -p out
	@rm -rf out/report && mkdir -p out/report
	@set -e; for b in $(BUILTIN_BACKENDS); do \
	  $(BUILD)/virtio-sim conform --backend builtin:$$b --device $$b --jobs $(NPROC) --report out/report/$$b; done
	$(PYTHON) tools/report_index.py out/report $(BUILTIN_BACKENDS)
	$(PYTHON) tools/run_all.py --cli $(BUILD)/virtio-sim --out out scenarios

test-c: $(CTEST_BIN)
	@set -e; for t in $(CTEST_BIN); do echo "== $$t"; $$t; done

test-asan:
	$(MAKE) --no-print-directory -j$(NPROC) BUILD=build/asan OPT="-O1" EXTRA_CFLAGS="$(SAN)" \
	  LDFLAGS_EXTRA="$(SAN)" $(patsubst tests/c/%.c,build/asan/tests/%,$(CTEST_SRC)) build/asan/virtio-sim
	$(MAKE) --no-print-directory BUILD=build/asan OPT="-O1" EXTRA_CFLAGS="$(SAN)" \
	  LDFLAGS_EXTRA="$(SAN)" test-c-asan

ASAN_PYTESTS := test_binding.py test_fuzz.py test_fuzz_vhost_user.py test_vhost_user.py test_plugin.py \
                test_record.py test_replay.py test_conform.py test_pci.py test_net.py test_gpu.py test_console.py \
                test_input.py

test-c-asan: $(CTEST_BIN) $(BUILD)/virtio-sim
	@set -e; for t in $(CTEST_BIN); do echo "== [asan] $$t"; $$t; done
	@# fs scenarios have no built-in model (tests/py/test_virtiofsd.py runs them against virtiofsd)
	@find scenarios -name '*.json' | sort | xargs grep -L '"device": *"fs"' | \
	  xargs -P $(NPROC) -n 1 sh -c '$(BUILD)/virtio-sim run "$$0" --quiet >/dev/null || \
	  { echo "[asan] scenario failed: $$0"; exit 255; }'
	@echo "[asan] all scenarios ran clean"
	$(PYTHON) python/build_ffi.py --lib $(BUILD)/libvirtiosim.a --out $(BUILD)/python --sanitize="$(SAN)"
	@# the interpreter is not instrumented: preload the runtimes, and leave leak
	@# checking to the C tests (CPython keeps memory until exit on purpose).
	@# The tests whose C paths the sweep above does not take: the binding, the
	@# fuzz decoders, vhost-user, plugins, record/replay, conformance, the
	@# device models' own tests (not the scenario files, schedules, mutant
	@# proofs and catalog, which run the same code as the sweep)
	cd tests/py && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	  LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	  PYTHONPATH=$(CURDIR)/$(BUILD)/python VSIM_CLI=$(CURDIR)/$(BUILD)/virtio-sim \
	  $(PYTEST) $(ASAN_PYTESTS)

test-determinism: deps
	$(MAKE) --no-print-directory -j$(NPROC) BUILD=build/gcc-O0 CC=gcc OPT=-O0 all
	$(MAKE) --no-print-directory -j$(NPROC) BUILD=build/gcc-O2 CC=gcc OPT=-O2 all
	$(MAKE) --no-print-directory -j$(NPROC) BUILD=build/clang-O0 CC=clang OPT=-O0 all
	$(MAKE) --no-print-directory -j$(NPROC) BUILD=build/clang-O2 CC=clang OPT=-O2 all
	$(PYTHON) tools/determinism.py build/gcc-O0/virtio-sim build/gcc-O2/virtio-sim \
	  build/clang-O0/virtio-sim build/clang-O2/virtio-sim -- scenarios

python: all
	$(PYTHON) python/build_ffi.py --lib $(BUILD)/libvirtiosim.a --out $(BUILD)/python

test-py: python
	cd tests/py && PYTHONPATH=$(CURDIR)/$(BUILD)/python:$(CURDIR)/python VSIM_CLI=$(CURDIR)/$(BUILD)/virtio-sim \
	  $(PYTEST) . $(CURDIR)/scenarios

# the builds first, spread over the CPUs; then the passes one after another
# (each spreads its own work), so their output stays readable
test: deps
	$(MAKE) --no-print-directory -j$(NPROC) all $(CTEST_BIN)
	$(MAKE) --no-print-directory test-c test-asan test-determinism test-py
	@echo "make test: all green"

# the conformance and vhost-user timings first: bench_blk folds out/bench_conform.json and
# out/bench_vhost.json into out/bench.json (bench_vhost skips with a message without the daemon)
bench: deps all
	@mkdir -p out
	$(MAKE) --no-print-directory $(BUILD)/bench/bench_blk $(BUILD)/bench/bench_conform $(BUILD)/bench/bench_vhost
	$(BUILD)/bench/bench_conform | tee out/bench.txt
	$(BUILD)/bench/bench_vhost | tee -a out/bench.txt
	$(BUILD)/bench/bench_blk | tee -a out/bench.txt

$(BUILD)/bench/bench_blk: bench/bench_blk.c bench/chart.c bench/chart.h $(BUILD)/libvirtiosim.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ibench -o $@ bench/bench_blk.c bench/chart.c $(BUILD)/libvirtiosim.a $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libvirtiosim.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libvirtiosim.a $(LDLIBS)

clean:
	rm -rf build out

-include fuzz/fuzz.mk
-include mk/install.mk
