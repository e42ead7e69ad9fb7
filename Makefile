# beyla - see README.md.  `make` builds ./beyla; `make test` runs every test.
# Sources are discovered by wildcard: a new .c file in cmd/, record/ or
# analyze/ is built without touching this file.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
BUILD      := build
CC         ?= cc
CLANG      ?= clang
BPFTOOL    ?= bpftool
ARCH       := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

CFLAGS     ?= -O2 -g
CFLAGS     += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
              -DBEYLA_VERSION='"$(VERSION)"' -I$(BUILD) -I.
LDLIBS     := -lbpf -lelf -lz -lzstd -lsqlite3 -lcurl -lm
SAN_FLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

BPF_SRC    := bpf/beyla.bpf.c
BPF_HDRS   := $(wildcard bpf/*.h)
LIB_SRC    := $(wildcard record/*.c analyze/*.c) $(filter-out cmd/main.c,$(wildcard cmd/*.c))
LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
HDRS       := $(wildcard record/*.h analyze/*.h cmd/*.h) $(BPF_HDRS)

.PHONY: all test unit install clean bench fuzz sanitize
all: beyla

$(BUILD)/vmlinux.h:
	@mkdir -p $(BUILD)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/beyla.bpf.o: $(BPF_SRC) $(BPF_HDRS) $(BUILD)/vmlinux.h
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(BUILD) -Ibpf -c $< -o $@

$(BUILD)/beyla.skel.h: $(BUILD)/beyla.bpf.o
	$(BPFTOOL) gen skeleton $< name beyla_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/%.o: %.c $(HDRS) $(BUILD)/beyla.skel.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libbeyla.a: $(LIB_OBJ)
	ar rcs $@ $^

beyla: $(BUILD)/cmd/main.o $(BUILD)/libbeyla.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libbeyla.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libbeyla.a $(LDLIBS) -lcmocka

unit: $(UNIT_BIN)

# The README's test command.  Unit tests need no root; the end-to-end tests
# under tests/e2e need root and a BPF-capable kernel and fail without one.
test: beyla unit
	bash tests/run.sh

bench: beyla
	bash scripts/bench.sh

$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(HDRS) $(BUILD)/beyla.skel.h
	@mkdir -p $(dir $@)
	$(CLANG) -g -O1 -std=c11 -D_GNU_SOURCE -I$(BUILD) -I. -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all -o $@ $< $(filter analyze/%.c,$(LIB_SRC)) $(LDLIBS)

fuzz: $(FUZZ_BIN)
	bash scripts/fuzz.sh $(FUZZ_TIME)

install: beyla
	install -D -m 0755 beyla $(DESTDIR)$(PREFIX)/bin/beyla
	install -D -m 0644 schema/spans.sql $(DESTDIR)$(PREFIX)/share/beyla/spans.sql 2>/dev/null || true

clean:
	rm -rf $(BUILD) beyla
