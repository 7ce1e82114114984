# Workplan progress reporting service.
#   make            build bin/workplan-api, bin/workplan-worker, bin/workplan-admin
#                   and bin/workplan (the command-line client, cli/)
#   make run        private PostgreSQL under var/, migrate, seed, API + worker
#   make test       the same set-up on a throwaway cluster, then every test
#   make bench      the benchmarks of docs/benchmarks.md, printed as a table
#   make SANITIZE=1 ...   the same, built with AddressSanitizer and UBSan (clang)
#   make test-sanitize    make test so built
#   make fuzz FUZZ_SECONDS=N   each libFuzzer target (tests/fuzz) for N seconds
#   make test-cluster   two API hosts and two workers behind HAProxy, in network
#                   namespaces (tests/cluster/cluster.sh; as root)
#   make chaos      the long crash test (tests/check_chaos.c with CHAOS_ROUNDS=20)
# Missing Debian packages are installed first (scripts/deps.sh).

ifeq ($(SANITIZE),1)
CC = clang
BUILD = build/san
BIN = build/san/bin
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SANITIZE),fuzz)
CC = clang
BUILD = build/fuzz
BIN = build/fuzz/bin
SANFLAGS = -fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
CC ?= gcc
BUILD = build/out
BIN = bin
SANFLAGS =
endif

PKGS = libpq libmicrohttpd jansson libcurl
# the spreadsheet round trip (api/h_sheet.c, lib/sheet.c)
PKGS += xlsxwriter libzip libxml-2.0
# Recursively expanded, so pkg-config runs after scripts/deps.sh installed it.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))
TEST_LIBS = $(shell pkg-config --libs check libcurl)

CFLAGS = -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -pthread \
	-Ilib -Iapi -I$(BUILD) $(PKG_CFLAGS) $(SANFLAGS) -MMD -MP
LDFLAGS = -pthread $(SANFLAGS)

LIB_SRC = $(wildcard lib/*.c)
API_SRC = $(filter-out api/main.c,$(wildcard api/*.c))
WORKER_SRC = $(wildcard workers/*.c)
ADMIN_SRC = $(wildcard admin/*.c)
CLI_SRC = $(wildcard cli/*.c)
TEST_SRC = $(wildcard tests/check_*.c)
FUZZ_TARGETS = $(patsubst tests/fuzz/fuzz_%.c,%,$(filter-out tests/fuzz/fuzz_common.c,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_SECONDS ?= 60
# FUZZ_SEED=N makes a run repeatable (CI uses one); unset, each run differs
FUZZ_SEED ?= 0
TEST_HELPERS = $(BUILD)/tests/harness.o
EMBED_FILES = $(sort $(wildcard sql/migrations/*.sql sql/seed/*.sql charts/*.gp)) api/openapi.json workers/reference.docx
# the web app (api/h_web.c): every file under web/; its folders are
# prerequisites too, so adding or removing a file rebuilds the list
WEB_FILES = $(sort $(shell find web -type f ! -name '.*'))
WEB_DIRS = $(shell find web -type d)
EMBED_FILES += $(WEB_FILES)
# the mail texts, one catalogue per language (lib/mail.c)
EMBED_FILES += $(sort $(wildcard mail/*.json))

LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/embedded.o
API_OBJ = $(API_SRC:%.c=$(BUILD)/%.o)
TESTS = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%) $(FUZZ_TARGETS:%=$(BUILD)/tests/check_fuzz_%)
PROGRAMS = $(BIN)/workplan-api $(BIN)/workplan-worker $(BIN)/workplan-admin
PROGRAMS += $(BIN)/workplan
# the API with its fault points (api/fault.h), for the crash tests only
FAULT_API = $(BUILD)/faults/workplan-api
FAULT_OBJ = $(API_SRC:%.c=$(BUILD)/faults/%.o) $(BUILD)/faults/api/main.o
DEPS_STAMP = build/deps.stamp

.PHONY: all deps run test test-sanitize tests bench fuzz fuzz-targets chaos clean test-cluster
# keep test objects between runs
.SECONDARY:
all: $(PROGRAMS)

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh
	@scripts/deps.sh
	@mkdir -p $(@D) && touch $@

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/faults/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DWORKPLAN_FAULTS -c $< -o $@

$(BUILD)/embed: tools/embed.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -std=c11 -O1 -Wall -Wextra -Werror $< -o $@

$(BUILD)/embedded.c: $(BUILD)/embed $(EMBED_FILES) $(WEB_DIRS)
	$(BUILD)/embed $(EMBED_FILES) > $@.tmp && mv $@.tmp $@

$(BUILD)/embedded.o: $(BUILD)/embedded.c
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libworkplan.a: $(LIB_OBJ)
	ar rcs $@ $^

$(BUILD)/libapi.a: $(API_OBJ)
	ar rcs $@ $^

$(BIN)/workplan-api: $(BUILD)/api/main.o $(BUILD)/libapi.a $(BUILD)/libworkplan.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -lm -o $@

$(FAULT_API): $(FAULT_OBJ) $(BUILD)/libworkplan.a
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -lm -o $@

$(BIN)/workplan-worker: $(WORKER_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libworkplan.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -lm -o $@

$(BIN)/workplan-admin: $(ADMIN_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libworkplan.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -lm -o $@

# the command-line client: libcurl and jansson, and lib/ for SHA-256
$(BIN)/workplan: $(CLI_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libworkplan.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(shell pkg-config --libs libcurl jansson) -lm -o $@

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_HELPERS) $(BUILD)/libapi.a $(BUILD)/libworkplan.a
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) $(TEST_LIBS) -lm -o $@

# each fuzz target replays its corpus as a test (gcc, or clang with SANITIZE=1)
$(BUILD)/tests/check_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.c tests/fuzz/replay.c $(BUILD)/libapi.a $(BUILD)/libworkplan.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/fuzz -DCORPUS='"tests/fuzz/corpus/$*"' $(filter %.c,$^) \
		$(BUILD)/libapi.a $(BUILD)/libworkplan.a $(LDFLAGS) $(PKG_LIBS) -lm -o $@

# the libFuzzer builds
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.c $(BUILD)/libapi.a $(BUILD)/libworkplan.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer -Itests/fuzz $(filter %.c,$^) \
		$(BUILD)/libapi.a $(BUILD)/libworkplan.a $(LDFLAGS) -fsanitize=fuzzer $(PKG_LIBS) -lm -o $@

fuzz-targets: $(FUZZ_TARGETS:%=$(BUILD)/fuzz_%)

tests: $(PROGRAMS) $(TESTS) $(FAULT_API)

run: all
	@scripts/run.sh $(BIN)

test: tests
	@scripts/test.sh $(BIN) $(BUILD)/tests $(FAULT_API)

bench: all
	@scripts/bench.sh $(BIN)

# several hosts in network namespaces behind HAProxy (SPEC 15); as root
test-cluster: all
	@tests/cluster/cluster.sh $(BIN)

test-sanitize:
	@$(MAKE) --no-print-directory SANITIZE=1 test

# the crash test at length: 20 rounds of kills, 2 000 updates at the least
chaos: tests
	@CHAOS_ROUNDS=20 CHAOS_UPDATES=2000 SUITE=chaos scripts/test.sh $(BIN) $(BUILD)/tests $(FAULT_API)

# new inputs go to var/fuzz/<target>, crashes to var/fuzz/<target>-crash-*;
# copy a crash into tests/fuzz/corpus/<target>/ to keep it as a regression test
fuzz: | $(DEPS_STAMP)
	@$(MAKE) --no-print-directory SANITIZE=fuzz fuzz-targets
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p var/fuzz/$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -seed=$(FUZZ_SEED) -print_final_stats=1 \
			-artifact_prefix=var/fuzz/$$t- var/fuzz/$$t tests/fuzz/corpus/$$t 2>var/fuzz/$$t.log || \
			{ tail -40 var/fuzz/$$t.log; exit 1; }; \
		grep -E "stat::number_of_executed_units|stat::peak_rss" var/fuzz/$$t.log; \
	done

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
