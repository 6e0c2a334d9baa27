# imgdex — build, test, bench, demo, install.
#
# Every .c under src/ except src/cli/main.c goes into libimgdex.a; the binary
# and every test link that archive.  Nobody has to touch this file to add a
# source file or a test: tests/test_*.c each become one test program.
#
#   make                 build build/imgdex
#   make test            setup (if needed), build, run the whole suite, then
#                        the suite again under ASan+UBSan
#   make test-fast       the suite once, no sanitizers
#   make bench           benchmarks against peers measured in the same run
#   make demo            setup, build, index the Debian darknet sample photos, query
#   make install         PREFIX=/usr/local DESTDIR=
#
# BUILD=dir puts all objects elsewhere (each worktree/developer may use its own).

BUILD    ?= build
PREFIX   ?= /usr/local
CC       ?= cc
SAN      ?= 0
NPROC    := $(shell nproc 2>/dev/null || echo 2)

PKGS     := libjpeg libpng libwebp libexif sqlite3 libcjson openblas \
            libmicrohttpd tesseract lept libcurl libcrypto zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Tesseract and Leptonica are loaded on first use (src/describe/tess.h): only
# their headers are needed at build time.
PKG_LIBS   := $(shell pkg-config --libs $(filter-out tesseract lept,$(PKGS)) 2>/dev/null)

OPT      ?= -O2 -g
XCFLAGS  := $(OPT) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -pthread \
            -Isrc $(PKG_CFLAGS) -DIMGDEX_SRCDIR='"$(CURDIR)"' \
            -DIMGDEX_PREFIX='"$(PREFIX)"'
# gcc warns about every deliberate snprintf truncation into a fixed buffer.
ifeq ($(shell $(CC) --version 2>/dev/null | grep -c clang),0)
XCFLAGS  += -Wno-format-truncation
endif
LDLIBS   += $(PKG_LIBS) -lgif -lm -pthread

# float-cast-overflow: clang's "undefined" has it, gcc's does not (a float
# too large for its integer type went unnoticed in the gcc suite).
ifeq ($(SAN),1)
XCFLAGS  += -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=undefined,float-cast-overflow
LDFLAGS  += -fsanitize=address,undefined,float-cast-overflow
endif

SRC      := $(filter-out src/cli/main.c,$(wildcard src/*/*.c src/*/*/*.c))
OBJ      := $(SRC:%.c=$(BUILD)/%.o)
TESTS    := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
BENCHES  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/bench_*.c))
FUZZERS  := $(wildcard tests/fuzz_*.c)
LIB      := $(BUILD)/libimgdex.a
BIN      := $(BUILD)/imgdex

.PHONY: all test test-fast test-san bench demo install clean setup tests benches fuzz

all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo '  CC   $<'
	@$(CC) $(XCFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BIN): $(BUILD)/src/cli/main.o $(LIB)
	@echo "  LD   $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/%.c tests/test.h $(LIB)
	@mkdir -p $(dir $@)
	@echo '  TEST $<'
	@$(CC) $(XCFLAGS) $(CFLAGS) -Itests -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	@echo '  BENCH $<'
	@$(CC) $(XCFLAGS) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

tests: $(BIN) $(TESTS)
benches: $(BIN) $(BENCHES)

# setup is idempotent and quick when everything is present.
setup:
	@scripts/setup

# The whole suite twice, plain and under ASan+UBSan, with one total at the end.
# (Sub-makes, so that pkg-config is asked again after setup installed things.)
test: setup
	$(MAKE) -j$(NPROC) tests
	$(MAKE) -j$(NPROC) BUILD=$(BUILD)-san SAN=1 OPT="-O1 -g" tests
	@scripts/run-tests $(BUILD) $(BUILD)-san

test-fast: tests
	@scripts/run-tests $(BUILD)

test-san:
	$(MAKE) BUILD=$(BUILD)-san SAN=1 OPT="-O1 -g" tests
	@scripts/run-tests $(BUILD)-san

bench: setup
	$(MAKE) benches
	@IMGDEX_BUILD=$(BUILD) scripts/run-bench

demo: setup
	$(MAKE) $(BIN)
	@IMGDEX_BUILD=$(BUILD) scripts/demo

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/imgdex/web \
	           $(DESTDIR)$(PREFIX)/share/imgdex/models
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/imgdex
	cp -r web/. $(DESTDIR)$(PREFIX)/share/imgdex/web/
	if [ -d models ]; then cp -r models/. $(DESTDIR)$(PREFIX)/share/imgdex/models/; fi
	if [ -d share/models ]; then cp -r share/models/. $(DESTDIR)$(PREFIX)/share/imgdex/models/; fi

# libFuzzer targets (tests/fuzz_*.c), each run for FUZZ_SECONDS with clang's
# fuzzer + ASan + UBSan, linked against the whole library (the linker keeps
# what each target uses); FUZZ=name runs one.  Seeds come from
# tests/fuzz_seeds.py; a target's "FUZZ_MAX_LEN n" comment sets -max_len.
# A crash leaves its input in $(BUILD)-fuzz/ (docs/reliability.md).
FUZZ_SECONDS ?= 60
FUZZ ?= $(patsubst tests/%.c,%,$(FUZZERS))
# FUZZ_DIRS="base index query": build only those modules (enough for fuzz_query).
FUZZ_DIRS ?= $(patsubst src/%/,%,$(sort $(dir $(SRC))))
FUZZ_OBJ := $(patsubst %.c,$(BUILD)-fuzz/%.o,$(filter $(addprefix src/,$(addsuffix /%,$(FUZZ_DIRS))),$(SRC)))
fuzz:
	$(MAKE) CC=clang BUILD=$(BUILD)-fuzz SAN=1 OPT="-O1 -g -fsanitize=fuzzer-no-link" $(FUZZ_OBJ)
	@rm -f $(BUILD)-fuzz/libfuzz.a && ar rcs $(BUILD)-fuzz/libfuzz.a $(FUZZ_OBJ)
	@[ ! -x /usr/bin/python3 ] || /usr/bin/python3 tests/fuzz_seeds.py $(BUILD)-fuzz
	@set -e; for n in $(FUZZ); do f=tests/$$n.c; \
	  len=$$(sed -n 's/.*FUZZ_MAX_LEN \([0-9]*\).*/\1/p' $$f | head -n 1); \
	  echo "  FUZZ $$f ($(FUZZ_SECONDS) s)"; \
	  clang $(filter-out -Wno-format-truncation,$(XCFLAGS)) -Itests -O1 -g -fsanitize=fuzzer,address,undefined \
	    -o $(BUILD)-fuzz/$$n $$f $(BUILD)-fuzz/libfuzz.a $(LDLIBS); \
	  mkdir -p $(BUILD)-fuzz/$$n-corpus; \
	  (cd $(BUILD)-fuzz && ./$$n -max_total_time=$(FUZZ_SECONDS) -max_len=$${len:-512} -timeout=120 \
	    $$( [ -f $(CURDIR)/tests/$$n.dict ] && echo -dict=$(CURDIR)/tests/$$n.dict ) \
	    $$n-corpus 2>$$n.log) || { tail -n 40 $(BUILD)-fuzz/$$n.log; exit 1; }; \
	  grep -E '^Done|cov:' $(BUILD)-fuzz/$$n.log | tail -n 2; \
	done

# The suite's smoke run of every fuzz target includes their sources.
$(BUILD)/tests/test_fuzz_seeds: $(FUZZERS) tests/fuzz_util.h

clean:
	rm -rf $(BUILD) $(BUILD)-san

-include $(OBJ:.o=.d) $(BUILD)/src/cli/main.d
