# Workplan progress reporting service.
#   make            build bin/workplan-api, bin/workplan-worker, bin/workplan-admin
#   make run        private PostgreSQL under var/, migrate, seed, API + worker
#   make test       the same set-up on a throwaway cluster, then every test
#   make bench      the benchmarks of docs/benchmarks.md, printed as a table
#   make SANITIZE=1 ...   the same, built with AddressSanitizer and UBSan (clang)
# Missing Debian packages are installed first (scripts/deps.sh).

ifeq ($(SANITIZE),1)
CC = clang
BUILD = build/san
BIN = build/san/bin
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
CC ?= gcc
BUILD = build/out
BIN = bin
SANFLAGS =
endif

PKGS = libpq libmicrohttpd jansson
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
TEST_SRC = $(wildcard tests/check_*.c)
TEST_HELPERS = $(BUILD)/tests/harness.o
EMBED_FILES = $(sort $(wildcard sql/migrations/*.sql sql/seed/*.sql charts/*.gp)) api/openapi.json workers/reference.docx

LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/embedded.o
API_OBJ = $(API_SRC:%.c=$(BUILD)/%.o)
TESTS = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
PROGRAMS = $(BIN)/workplan-api $(BIN)/workplan-worker $(BIN)/workplan-admin
DEPS_STAMP = build/deps.stamp

.PHONY: all deps run test test-sanitize tests bench clean
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

$(BUILD)/embed: tools/embed.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -std=c11 -O1 -Wall -Wextra -Werror $< -o $@

$(BUILD)/embedded.c: $(BUILD)/embed $(EMBED_FILES)
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

$(BIN)/workplan-worker: $(WORKER_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libworkplan.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -lm -o $@

$(BIN)/workplan-admin: $(ADMIN_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libworkplan.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -lm -o $@

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_HELPERS) $(BUILD)/libapi.a $(BUILD)/libworkplan.a
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) $(TEST_LIBS) -lm -o $@

tests: $(PROGRAMS) $(TESTS)

run: all
	@scripts/run.sh $(BIN)

test: tests
	@scripts/test.sh $(BIN) $(BUILD)/tests

bench: all
	@scripts/bench.sh $(BIN)

test-sanitize:
	@$(MAKE) --no-print-directory SANITIZE=1 test

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
