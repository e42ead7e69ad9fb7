/* probe_report.h - the probe report a capture holds: which probes the
 * recorder attached, which the kernel refused and why, which it skipped.
 * The one parser of it, used by `beyla info` (which prints it) and by the
 * analyzer (which writes the table probes, schema/spans.sql).
 *
 * Three block types carry PROBE values (docs/capture-format.md 3.3, 3.8,
 * 3.9), all laid out alike: u8 status | u8 required | u16 reserved |
 * name NUL | detail (to the end of the value, no NUL).
 *   PROBES       the kernel probes (tracepoints): one block, a later one
 *                replaces an earlier one
 *   GO_BINARY    the Go probes (uprobes) of one Go executable, after its
 *                PATH, VERSION, MODULE, FLAGS and PID options
 *   TLS_LIBRARY  the OpenSSL probes (uprobes) of one library file, after
 *                its PATH, LIB and PID options
 *
 * Everything is checked against its container: a value shorter than its
 * fixed 4 bytes is reported and skipped, a name without its NUL takes the
 * whole value (the detail is then empty), an option whose length overruns
 * the block ends the iteration with an error.
 *
 *   struct bz_probe_iter it; struct bz_probe_value p; uint16_t code;
 *   bz_probe_iter_init(&it, &block);
 *   while ((rc = bz_probe_iter_next(&it, &code, &p)) > 0) {
 *       if (rc == BZ_PI_BAD) ...malformed value...
 *       else if (rc == BZ_PI_PROBE) ...p, it.place (the file so far)...
 *       else ...another option, now in it.place...
 *   }
 *   rc < 0: an option overran the block (the rest is lost).
 */
#ifndef BEYLA_PROBE_REPORT_H
#define BEYLA_PROBE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "capture_reader.h"

#define BZ_PROBE_NAME_MAX 128   /* Go: "net/http/internal/http2.(*responseWriter).handlerDone" */
#define BZ_PROBE_DETAIL_MAX 256
#define BZ_PROBE_PATH_MAX 256

/* One PROBE value, as the block holds it (not NUL-terminated: pointers
 * into the block, valid while it is). */
struct bz_probe_value {
	uint8_t status;   /* enum bz_probe_status; other values: unknown */
	uint8_t required; /* nonzero: recording cannot work without it */
	const uint8_t *name, *detail;
	uint32_t name_len, detail_len;
};

/* Where a block's probes are placed, from its other options as read so
 * far: a GO_BINARY's executable, a TLS_LIBRARY's file.  Strings are
 * bz_tlv_text()'s (NUL-terminated, cut). */
struct bz_probe_place {
	uint32_t block;                  /* BZ_BLK_PROBES, _GO_BINARY or _TLS_LIBRARY */
	char path[BZ_PROBE_PATH_MAX];    /* PATH; "" for PROBES or when absent */
	char version[48], module[160];   /* GO_BINARY's VERSION and MODULE */
	uint32_t flags;                  /* GO_BINARY: BZ_GB_FLAG_* */
	uint32_t lib;                    /* TLS_LIBRARY: enum bz_tls_lib_id, 0 unknown */
	uint32_t pid;                    /* PID; 0 a TLS library probed at start */
	int has_pid;
};

struct bz_probe_iter {
	struct bz_tlv_iter tlv;
	uint16_t probe_code; /* the block type's PROBE option code */
	struct bz_probe_place place;
};

/* bz_probe_iter_next's results above 0 */
enum { BZ_PI_OPTION = 1, BZ_PI_PROBE = 2, BZ_PI_BAD = 3 };

/* The three block types: 0.  Any other: -1 (and the iterator yields nothing). */
int bz_probe_iter_init(struct bz_probe_iter *it, const struct bz_block *b);
/* The block's next option, *code its code: BZ_PI_PROBE with *p filled,
 * BZ_PI_BAD for a probe value too short to hold its fixed part (skipped),
 * BZ_PI_OPTION for another option (a known one is now in it->place);
 * 0 at the end, -1 when an option overran the block (nothing more). */
int bz_probe_iter_next(struct bz_probe_iter *it, uint16_t *code, struct bz_probe_value *p);

/* A PROBE value: 0, or -1 when it is shorter than 4 bytes. */
int bz_probe_value_parse(const uint8_t *v, uint32_t n, struct bz_probe_value *p);

/* "attached", "refused", "skipped", or "unknown" for another value. */
const char *bz_probe_status_name(unsigned status);
/* What kind of probe: "raw_tracepoint" (a PROBES name "raw:..."),
 * "tracepoint" (the other PROBES names), "uprobe" (Go and TLS library
 * probes: uprobes, some with uretprobes). */
const char *bz_probe_kind(uint32_t block, const struct bz_probe_value *p);
/* Which set it belongs to: "kernel" (PROBES), "go" (GO_BINARY), or the TLS
 * library's key for TLS_LIBRARY ("openssl", "boringssl"; tls_libs.h). */
const char *bz_probe_category(const struct bz_probe_place *place);

/* One probe with its place, as C strings: what the analyzer stores. */
struct bz_probe_row {
	uint32_t block;   /* BZ_BLK_PROBES, _GO_BINARY or _TLS_LIBRARY */
	int first;        /* the first probe of its block (a PROBES block replaces the last one) */
	uint8_t status, required;
	const char *kind, *category; /* static strings */
	char name[BZ_PROBE_NAME_MAX];
	char detail[BZ_PROBE_DETAIL_MAX];
	char path[BZ_PROBE_PATH_MAX]; /* "" for kernel probes or unknown */
	uint32_t pid;
	int has_pid;
};
void bz_probe_row_fill(struct bz_probe_row *r, const struct bz_probe_iter *it, const struct bz_probe_value *p);

#endif
