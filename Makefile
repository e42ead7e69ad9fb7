# beyla - see README.md.  `make` builds ./beyla; `make test` runs every test.
# Sources are discovered by wildcard: a new .c file in cmd/, record/ or
# analyze/ is built without touching this file.
#
#   make fuzz-build   every tests/fuzz/fuzz_*.c as a libFuzzer binary in $(BUILD)/fuzz/
#   make fuzz         scripts/fuzz.sh: seed, replay, then FUZZ_TIME seconds per target
#   make sanitize     unit tests and beyla with ASan+UBSan in build-san/, then the unit tests
# BUILD (the object directory) and EXTRA_CFLAGS may be set on the command line.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
BUILD      ?= build
SAN_BUILD  ?= build-san
CC         ?= cc
CLANG      ?= clang
# bpftool lives in /usr/sbin on Debian, which is not on an ordinary user's
# PATH: look there too, so `make` works for a user who is not root.
BPFTOOL    ?= $(firstword $(wildcard $(addsuffix /bpftool,$(subst :, ,$(PATH)) /usr/sbin /sbin)) bpftool)
ARCH       := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

CFLAGS     ?= -O2 -g
CFLAGS     += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
              -DBEYLA_VERSION='"$(VERSION)"' -I$(BUILD) -I. $(EXTRA_CFLAGS)
LDLIBS     := -lbpf -lelf -ldw -lcapstone -lz -lzstd -lsqlite3 -lcurl -lm -lpthread
SAN_FLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

BPF_SRC    := bpf/beyla.bpf.c
BPF_HDRS   := $(wildcard bpf/*.h)
LIB_SRC    := $(wildcard record/*.c analyze/*.c analyze/proto/*.c) $(filter-out cmd/main.c,$(wildcard cmd/*.c))
# Sources made at build time from a file of the tree (one source of truth):
# schema/spans.sql and the HTML report's page (analyze/report_page.html)
# embedded as strings (scripts/embed_text.sh).
GEN_SRC    := $(BUILD)/gen/schema_sql.c $(BUILD)/gen/report_page.c
LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/%.o) $(GEN_SRC:%.c=%.o)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
HDRS       := $(wildcard record/*.h analyze/*.h analyze/proto/*.h cmd/*.h) $(BPF_HDRS)

.PHONY: all test unit install clean bench accuracy fuzz fuzz-build sanitize go-servers
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

$(BUILD)/gen/schema_sql.c: schema/spans.sql scripts/embed_text.sh
	@mkdir -p $(dir $@)
	sh scripts/embed_text.sh bz_schema_sql $< analyze/schema_sql.h > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/report_page.c: analyze/report_page.html scripts/embed_text.sh
	@mkdir -p $(dir $@)
	sh scripts/embed_text.sh bz_report_page $< analyze/report_html.h > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c $(HDRS)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libbeyla.a: $(LIB_OBJ)
	ar rcs $@ $^

beyla: $(BUILD)/cmd/main.o $(BUILD)/libbeyla.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The same binary inside the build directory (what `make sanitize` builds).
$(BUILD)/beyla: $(BUILD)/cmd/main.o $(BUILD)/libbeyla.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libbeyla.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libbeyla.a $(LDLIBS) -lcmocka

# The Go test servers, built with Go 1.26 and Go 1.19, with and without
# symbols (scripts/build_go_servers.sh skips what is up to date).
# tests/unit/test_goelf.c reads them from build/go whatever BUILD is, so
# `make sanitize` does not build them a second time.
GO_SERVERS ?= build/go
go-servers:
	bash scripts/build_go_servers.sh $(GO_SERVERS)

unit: $(UNIT_BIN) go-servers

# The README's test command, for root and for a user who has sudo: everything
# builds and runs as the invoking user except the end-to-end tests under
# tests/e2e, which need root and a BPF-capable kernel: tests/run.sh runs each
# of them through sudo when not root (scripts/as-root.sh), and they fail
# without root.  TESTS picks a part, as tests/run.sh's arguments do:
#     make test TESTS='e2e record_go'     make test TESTS=golden
# Set on the command line only: a TESTS in the environment is ignored, so
# it cannot quietly shrink a run.
TESTS =
test: beyla unit
	bash tests/run.sh $(TESTS)

bench: beyla
	bash scripts/bench.sh

# Server spans against what real clients saw (issue 4; the CPU-bound cases of issue 20 pin the
# server to CPU 0 and the clients to CPU 1: two CPUs needed); rewrites docs/accuracy.md's table.
accuracy: beyla
	bash scripts/accuracy/run.sh

# Fuzz targets: the code they reach (analyze/, the recorder's redaction, Go inspector and TLS library scan)
# is compiled once with coverage and sanitizers into an archive, and each
# target links what it needs from it.  Needs clang's libFuzzer runtime
# (Debian: libclang-rt-14-dev).
FUZZ_FLAGS   := -g -O1 -std=c11 -D_GNU_SOURCE -DBEYLA_VERSION='"$(VERSION)"' -I$(BUILD) -I. \
                -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_LIB_SRC := $(filter analyze/%.c record/redact%.c record/goelf%.c \
                record/go_offsets_table.c record/tlslibs.c record/capture_writer.c,$(LIB_SRC))
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(BUILD)/fuzz/obj/%.o) $(BUILD)/fuzz/obj/gen/schema_sql.o \
                $(BUILD)/fuzz/obj/gen/report_page.o

$(BUILD)/fuzz/obj/gen/%.o: $(BUILD)/gen/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

$(BUILD)/fuzz/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

$(BUILD)/fuzz/libfuzzlib.a: $(FUZZ_LIB_OBJ)
	ar rcs $@ $^

$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/fuzz/libfuzzlib.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< \
	  $(BUILD)/fuzz/libfuzzlib.a $(LDLIBS)

fuzz-build: $(FUZZ_BIN)

# FUZZ_TIME: seconds per target (default 30).
fuzz:
	bash scripts/fuzz.sh

# Everything rebuilt with ASan+UBSan in $(SAN_BUILD) (./beyla is left alone:
# the sanitized one is $(SAN_BUILD)/beyla, e.g. for BEYLA=... tests/run.sh e2e),
# then the unit tests run from there.  Any report fails the run.
sanitize:
	$(MAKE) BUILD=$(SAN_BUILD) EXTRA_CFLAGS='$(SAN_FLAGS)' unit $(SAN_BUILD)/beyla
	SAN_BUILD=$(SAN_BUILD) bash scripts/sanitize.sh

# DESTDIR stages the install (make install DESTDIR=/tmp/pkg); the man page is
# written by hand in docs/ (docs/beyla.1: why there, in its header) and is
# checked against --help by tests/e2e/man_page.sh.
MANDIR     ?= $(PREFIX)/share/man
install: beyla
	install -D -m 0755 beyla $(DESTDIR)$(PREFIX)/bin/beyla
	install -D -m 0644 schema/spans.sql $(DESTDIR)$(PREFIX)/share/beyla/spans.sql
	install -D -m 0644 docs/beyla.1 $(DESTDIR)$(MANDIR)/man1/beyla.1

clean:
	rm -rf $(BUILD) $(SAN_BUILD) beyla
