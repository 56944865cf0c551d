# scaleplan build. `make` builds build/scaleplan and build/libscaleplan.a.
# `make run` installs missing Debian packages (make deps), builds, runs the default job.
# `make check` runs the whole test suite: normal build, then ASan+UBSan build.
CC      ?= cc
PKGS    := jansson cmocka nlopt
DEBS    := build-essential pkg-config libjansson-dev libcmocka-dev libnlopt-dev gnuplot-nox valgrind clang libclang-rt-14-dev \
           libopenmpi-dev openmpi-bin python3-dev python3-setuptools python3-pytest
CSTD    := -std=c17 -D_POSIX_C_SOURCE=200809L
WARN    := -Wall -Wextra -Wpedantic -Werror -Wshadow
OPT     ?= -O2 -g
BUILD   ?= build
SAN     ?=
DATADIR := $(abspath data)
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) $(SAN) -Iinclude -DSP_DATA_DIR='"$(DATADIR)"' \
             $(shell pkg-config --cflags jansson nlopt 2>/dev/null) -fopenmp
LIBS_ALL   = $(shell pkg-config --libs jansson nlopt 2>/dev/null) -lm -fopenmp
TESTLIBS   = $(shell pkg-config --libs cmocka 2>/dev/null)

# MPI (optional, docs/sweep.md): when Open MPI's mpicc is on PATH, src/sweep_mpi.c is built with MPI and the
# scaleplan binary links libmpi (the same binary runs alone or under mpirun); without it the sweep runs in one
# process and `make` says so.
MPICC    := $(shell command -v mpicc 2>/dev/null)
MPI_CFLAGS := $(if $(MPICC),-DSP_HAVE_MPI $(patsubst -I%,-isystem %,$(shell $(MPICC) --showme:compile 2>/dev/null)))
MPI_LIBS   := $(if $(MPICC),$(shell $(MPICC) --showme:link 2>/dev/null))

LIB_SRC := $(sort $(wildcard src/*.c))
CLI_SRC := $(sort $(wildcard cli/*.c))
TEST_SRC:= $(sort $(wildcard tests/test_*.c))
BENCH_SRC:= $(sort $(wildcard bench/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
TESTS   := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
# the CLI tests' JSON checker (tests/json_assert.c)
TOOLS   := $(BUILD)/tests/json_assert
BENCHES := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.SECONDARY:
.PHONY: all deps depcheck run check test test-asan valgrind bench clean validation-doc fuzz fuzz-smoke python \
        install-python test-python web test-web

all: depcheck $(BUILD)/scaleplan $(TESTS) $(TOOLS) $(BENCHES)

# Installs the Debian packages the build needs (root on Debian 12).
deps:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBS)
	sh web/deps.sh

# Runs `make deps` only when a pkg-config package is missing.
depcheck:
	@pkg-config --exists $(PKGS) && command -v gnuplot >/dev/null || $(MAKE) --no-print-directory deps

$(BUILD)/libscaleplan.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	ar rcs $@ $^

$(BUILD)/scaleplan: $(CLI_OBJ) $(BUILD)/libscaleplan.a
	$(if $(MPICC),,@echo "note: mpicc not found (make deps installs Open MPI): scaleplan sweep is built without MPI")
	$(CC) $(CFLAGS_ALL) -o $@ $(CLI_OBJ) $(BUILD)/libscaleplan.a $(LIBS_ALL) $(MPI_LIBS)

$(BUILD)/src/sweep_mpi.o: CFLAGS_ALL += $(MPI_CFLAGS)

$(BUILD)/%.o: %.c $(wildcard include/*.h) $(wildcard src/*.h) $(wildcard cli/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isrc -Icli -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(BUILD)/libscaleplan.a $(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isrc -o $@ $< $(BUILD)/libscaleplan.a $(LIBS_ALL) $(TESTLIBS) $(TEST_LDEXTRA)

# test_search counts allocations through a wrapped malloc
$(BUILD)/tests/test_search: TEST_LDEXTRA = -Wl,--wrap=malloc

$(BUILD)/bench/%: bench/%.c $(BUILD)/libscaleplan.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isrc -o $@ $< $(BUILD)/libscaleplan.a $(LIBS_ALL)

# The main job on built-in defaults: GPT-3 175B on 1024 A100-80GB, Megatron plan (Narayanan et al. 2021).
run: all
	./$(BUILD)/scaleplan train

# Whole test suite: unit tests + CLI tests on the normal build, then again under ASan+UBSan, then a short
# libFuzzer smoke pass over every fuzz target (tests/fuzz, docs/robustness.md).
check: test test-asan fuzz-smoke test-python test-web

test: all
	@SP_BIN=$(BUILD)/scaleplan SP_BUILD=$(BUILD) sh tests/run.sh $(TESTS)

test-asan: depcheck
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  build-asan/scaleplan $(TESTS:$(BUILD)/%=build-asan/%) $(TOOLS:$(BUILD)/%=build-asan/%)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 SP_BIN=build-asan/scaleplan SP_BUILD=build-asan \
	  sh tests/run.sh $(TESTS:$(BUILD)/%=build-asan/%)

# Python package (python/, docs/python.md): the C library's sources compiled into one extension module.
# `make python` builds it in place for $(PYTHON); `make install-python` installs it (no package index needed).
# Its tests run with the first of $(PYTHON) and Debian's /usr/bin/python3 that has pytest.
PYTHON ?= python3
PYTEST_PY = $(shell for p in $(PYTHON) /usr/bin/python3; do $$p -m pytest --version >/dev/null 2>&1 && { echo $$p; break; }; done)
python: depcheck
	cd python && $(PYTHON) setup.py -q build_ext --inplace
# pip needs the `wheel` package to build offline; a Python without it (e.g. a bare pyenv build) installs through
# setuptools directly.
install-python: depcheck
	@if $(PYTHON) -c "import wheel" 2>/dev/null; then $(PYTHON) -m pip install --no-build-isolation --no-index ./python; \
	 else cd python && $(PYTHON) setup.py -q install; fi
test-python: all
	@if [ -z "$(PYTEST_PY)" ]; then echo "python tests skipped: no python3 with pytest (make deps installs python3-pytest)"; \
	 else cd python && $(PYTEST_PY) setup.py -q build_ext --inplace >/dev/null && \
	   SP_BIN=$(BUILD)/scaleplan $(PYTEST_PY) -m pytest -q -p no:cacheprovider tests; fi

# Web app (web/, docs/web.md): the library compiled to WebAssembly with emscripten into web/dist; its tests
# drive Debian's chromium with playwright-core (npm) and run in `make check` when emcc, chromium and node are there.
CHROMIUM ?= /usr/bin/chromium
web: depcheck
	@sh web/build.sh
test-web: all
	@if command -v emcc >/dev/null && [ -x $(CHROMIUM) ] && command -v node >/dev/null; then \
	  sh web/build.sh >/dev/null; rc=$$?; \
	  if [ $$rc = 3 ]; then echo "web tests skipped: the WebAssembly build's sources are not available (make deps)"; \
	  elif [ $$rc != 0 ]; then exit $$rc; \
	  else { [ -d web/node_modules/playwright-core ] || (cd web && npm install --no-audit --no-fund >/dev/null); } && \
	    SP_BIN=$(BUILD)/scaleplan CHROMIUM=$(CHROMIUM) node --test web/tests/; fi; \
	else echo "web tests skipped: needs emcc, $(CHROMIUM) and node (make deps installs them)"; fi

# Unit and CLI tests under valgrind memcheck (tests/run.sh, tests/cli/_lib.sh); tests/valgrind.supp suppresses
# libgomp's pool-thread TLS, kept by design until exit, and nothing of ours.
valgrind: all
	@SP_VALGRIND=1 SP_BIN=$(BUILD)/scaleplan SP_BUILD=$(BUILD) sh tests/run.sh $(TESTS)

# libFuzzer targets (clang): tests/fuzz/fuzz_*.c, seed corpora in tests/fuzz/corpus/<target>/.
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FUZZ_SECONDS ?= 60
# SP_FIT_STARTS=4: a fit runs L-BFGS from its 4 best grid starts instead of 64 (the same code; the 64 runs made
# each fuzz_fit execution ~1 ms)
FUZZ_CFLAGS = -std=c17 -D_POSIX_C_SOURCE=200809L -g -O1 -Iinclude -Isrc -Icli -DSP_DATA_DIR='"$(DATADIR)"' -DSP_FIT_STARTS=4 \
              $(shell pkg-config --cflags jansson nlopt 2>/dev/null) -fopenmp
# The numerical model files get edge coverage only: comparison tracing (libFuzzer's value profile) in their
# search and fitting loops took over half of every execution; the parsers (config, csv, units, plan checks, cli)
# keep it, since that is where it finds input formats.
FUZZ_NOCMP := $(addprefix src/,search.c step.c memory.c collective.c hardware.c limits_epoch.c limits_full.c fit.c \
              scaling.c infer.c infer_coe.c shape.c energy.c finetune.c model.c)
build-fuzz/lib/%.o: %.c $(wildcard include/*.h) $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined $(if $(filter $<,$(FUZZ_NOCMP)),-fno-sanitize-coverage=trace-cmp) -c -o $@ $<
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=build-fuzz/lib/%.o) $(filter-out build-fuzz/lib/cli/main.o,$(CLI_SRC:%.c=build-fuzz/lib/%.o))
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(FUZZ_LIB_OBJ)
	clang $(FUZZ_CFLAGS) -Itests/fuzz -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_LIB_OBJ) $(LIBS_ALL)

# Common libFuzzer flags: the target's dictionary tests/fuzz/<target>.dict when there is one; the commands' own
# stdout/stderr closed (-close_fd_mask=3: libFuzzer and sanitizer reports still go to the log).
FUZZ_FLAGS = -timeout=10 -rss_limit_mb=4096 -close_fd_mask=3 -artifact_prefix=build-fuzz/
fuzz_dict = $$([ -f tests/fuzz/$$t.dict ] && echo -dict=tests/fuzz/$$t.dict)
# Which targets `make fuzz` runs (default all), for how long, and optionally how many executions at most:
#   nice -n 19 make fuzz FUZZ_TARGETS="fuzz_csv fuzz_units" FUZZ_SECONDS=900 FUZZ_RUNS=10000000
FUZZ_TARGETS ?= $(notdir $(FUZZ_BINS))
FUZZ_RUNS ?=

# Each target for FUZZ_SECONDS (default 60) from its seed corpus; new inputs go to build-fuzz/corpus.
fuzz: depcheck $(FUZZ_TARGETS:%=build-fuzz/%)
	@for t in $(FUZZ_TARGETS); do mkdir -p build-fuzz/corpus/$$t; \
	  echo "== $$t ($(FUZZ_SECONDS) s$(if $(FUZZ_RUNS), or $(FUZZ_RUNS) runs))"; \
	  ./build-fuzz/$$t -max_total_time=$(FUZZ_SECONDS) $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS)) $(FUZZ_FLAGS) $(fuzz_dict) \
	    build-fuzz/corpus/$$t tests/fuzz/corpus/$$t > build-fuzz/$$t.fuzz.log 2>&1; rc=$$?; \
	  grep -E "DONE|ERROR|SUMMARY" build-fuzz/$$t.fuzz.log; [ $$rc = 0 ] || { tail -30 build-fuzz/$$t.fuzz.log; exit 1; }; done

# A few seconds per target: keeps every target buildable and runs the seeds (part of make check).
fuzz-smoke: depcheck $(FUZZ_BINS)
	@pass=0; fail=0; for f in $(FUZZ_BINS); do t=$$(basename $$f); \
	  mkdir -p build-fuzz/smoke/$$t; \
	  if ./$$f -max_total_time=3 $(FUZZ_FLAGS) $(fuzz_dict) build-fuzz/smoke/$$t tests/fuzz/corpus/$$t > build-fuzz/$$t.log 2>&1; \
	  then echo "ok $$t ($$(grep -o 'Done [0-9]* runs' build-fuzz/$$t.log))"; pass=$$((pass+1)); \
	  else echo "not ok $$t"; tail -20 build-fuzz/$$t.log; fail=$$((fail+1)); fi; done; \
	  echo "fuzz-smoke: $$pass passed, $$fail failed"; [ $$fail = 0 ]

bench: all
	@for b in $(BENCHES); do echo "== $$b"; ./$$b || exit 1; done

validation-doc: all
	sh docs/make_validation.sh > docs/validation.md

clean:
	rm -rf build build-asan build-fuzz build-clang
