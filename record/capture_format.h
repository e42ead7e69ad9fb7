/* capture_format.h - the on-disk layout of a beyla capture (*.bz.zst).
 *
 * docs/capture-format.md is the normative description; this header is its
 * C transcription, shared by the writer (record/) and the one reader
 * library (analyze/capture_reader.c) that `beyla info` and the analyzer use.
 *
 * A capture is a zstd stream of independent frames.  Concatenated, the
 * decompressed frames hold a sequence of blocks framed like pcapng blocks:
 *
 *     u32 type | u32 total_len | body (total_len - 12 bytes) | u32 total_len
 *
 * All integers little-endian.  A frame always ends on a block boundary, so a
 * file cut anywhere loses at most the frame being written.  Readers skip block
 * types they do not know; inside blocks, metadata is a list of TLV options
 * (u16 code | u16 reserved | u32 len | value) so readers skip unknown codes.
 */
#ifndef BEYLA_CAPTURE_FORMAT_H
#define BEYLA_CAPTURE_FORMAT_H

#include <stdint.h>

#define BZ_MAGIC "BEYLACAP"      /* 8 bytes, first bytes of the HEADER body */
#define BZ_FORMAT_MAJOR 1        /* bumped only when old readers would misread */
#define BZ_FORMAT_MINOR 8        /* bumped when something is added (3: DATA ranges, HTTP/2 stream of a Go
                                  * handler; 4: OpenSSL plaintext, TLS_LIBRARY blocks; 5: UNIX stream
                                  * connections, CONN_OPEN family 1 with its UNIX fields; 6: RX_ARRIVAL,
                                  * PEER_RX, SCHED_SWITCH, SCHED_WAKEUP events; 7: the Go handler's
                                  * request extension, the header's GO_MODE; 8: a write's DATA
                                  * arrival_ns, its delivery inside the write) */

#define BZ_BLOCK_OVERHEAD 12u    /* type + total_len + trailing total_len */
#define BZ_BLOCK_MAX (16u << 20) /* no block is larger: readers reject more */

enum bz_block_type {
	BZ_BLK_HEADER = 1, /* first block: magic, version, host, options, clock */
	BZ_BLK_PROBES = 2, /* the probe report: attached / refused and why */
	BZ_BLK_PROC = 3,   /* one process of the target set (may repeat per pid;
	                    * the latest one before an event describes it) */
	BZ_BLK_EVENTS = 4, /* a batch of bz_ev_* records (bpf/beyla_events.h) */
	BZ_BLK_STATS = 5,  /* per-probe counters so far (periodic and final) */
	BZ_BLK_END = 6,    /* last block: totals; without it the file was cut */
	BZ_BLK_GO_BINARY = 7, /* a Go executable among the targets: version and
	                       * the Go probes placed in it (before its events) */
	BZ_BLK_TLS_LIBRARY = 8, /* a TLS library file a target uses, and the
	                         * OpenSSL probes placed in it (before its events) */
};

/* HEADER body: magic[8] | u16 major | u16 minor | u32 flags | TLV options */
#define BZ_HDR_FLAG_NO_REDACT 0x1u /* payload redaction was turned off */
/* the kernel's waits were recorded (minor >= 6; bpf/kwait.bpf.h): PEER_RX
 * records follow for the deliveries to a peer on this host that happened
 * outside the tracked process (one inside its own write is not written:
 * a response with no PEER_RX was delivered by the end of its write), and
 * RX_ARRIVAL records as BZ_HO_KW_RX_MIN_NS says */
#define BZ_HDR_FLAG_KWAITS 0x2u

enum bz_hdr_opt {
	BZ_HO_BEYLA_VERSION = 1,  /* str */
	BZ_HO_ARGV = 2,           /* str: the recorder's argv, NUL-separated */
	BZ_HO_HOSTNAME = 3,       /* str */
	BZ_HO_KERNEL = 4,         /* str: uname release */
	BZ_HO_ARCH = 5,           /* str: uname machine */
	BZ_HO_NCPUS = 6,          /* u32 */
	BZ_HO_BOOT_ID = 7,        /* str */
	BZ_HO_CLOCK_MONO_NS = 8,  /* u64: CLOCK_MONOTONIC ... */
	BZ_HO_CLOCK_REAL_NS = 9,  /* u64: ... and CLOCK_REALTIME read together */
	BZ_HO_SNAPLEN = 10,       /* u32 */
	BZ_HO_TARGET = 11,        /* str: human description of the target set */
	BZ_HO_START_MONO_NS = 12, /* u64: when recording began */
	BZ_HO_RING_BYTES = 13,    /* u32: ring buffer size */
	BZ_HO_KW_RX_MIN_NS = 14,  /* u64 (minor >= 6): receive timestamps were on, and an
	                           * RX_ARRIVAL is written for a wait of at least this many ns
	                           * (a shorter one reads as 0); absent: timestamps off */
	BZ_HO_GO_MODE = 15,       /* u32 (minor >= 7): enum bz_go_mode, the Go probes' mode;
	                           * absent: an older recorder, which recorded as full */
};

/* What the Go uprobes record (`beyla record --go=MODE`, docs/go.md). */
enum bz_go_mode {
	BZ_GO_MODE_OFF = 1,  /* no Go probes (--no-go) */
	BZ_GO_MODE_FAST = 2, /* one probe per request served (the
	                      * handler's start, reading its *http.Request);
	                      * crypto/tls writes in plaintext, reads not at all */
	BZ_GO_MODE_FULL = 3, /* the default: also the handler's end, crypto/tls reads in
	                      * plaintext, round trips' returns, goroutine creation */
};

/* PROBES body: TLV list of BZ_PO_PROBE whose value is
 *   u8 status | u8 required | u16 reserved | name NUL | detail (no NUL) */
enum bz_probe_opt { BZ_PO_PROBE = 1 };
enum bz_probe_status { BZ_PROBE_ATTACHED = 0, BZ_PROBE_REFUSED = 1, BZ_PROBE_SKIPPED = 2 };

/* PROC body: u32 pid | u32 ppid | u64 seen_ns | u32 flags | u32 reserved | TLV */
#define BZ_PROC_FIXED 24u
enum bz_proc_flag {
	BZ_PF_AT_START = 0x1, /* already running when recording began */
	BZ_PF_FORKED = 0x2,   /* forked from a target during recording */
	BZ_PF_EXEC = 0x4,     /* written after an exec */
	BZ_PF_LAUNCHED = 0x8, /* started by `beyla record -- CMD` */
	BZ_PF_GONE = 0x10,    /* exited before /proc could be read: what the kernel
	                       * reported (an exec's or adoption's identity, or
	                       * the parent's for a forked child) */
	BZ_PF_ADOPTED = 0x20, /* became a target by using a --port port (minor >= 2) */
};
enum bz_proc_opt {
	BZ_PR_EXE = 1,          /* str: executable path */
	BZ_PR_CMDLINE = 2,      /* str: argv, NUL-separated */
	BZ_PR_COMM = 3,         /* str */
	BZ_PR_SERVICE_NAME = 4, /* str: OTEL_SERVICE_NAME from its environment */
	BZ_PR_RESOURCE_ATTRS = 5, /* str: OTEL_RESOURCE_ATTRIBUTES */
	BZ_PR_TLS_LIB = 6,      /* repeats (minor >= 2): a TLS library found when the
	                         * process became a target; value below */
};

/* BZ_PR_TLS_LIB value: u8 library (enum bz_tls_lib_id) | u8 source (enum
 * bz_tls_source) | u8 flags (BZ_TLS_F_*) | u8 reserved | path (str, to the
 * end of the value: the mapped file, or the executable).  A PROC block with
 * one value of library BZ_TLS_NONE says the recorder looked and found none;
 * a block without any says nothing (older recorder, or the process was
 * gone).  Ids are in the order a process using several is attributed. */
enum bz_tls_lib_id {
	BZ_TLS_NONE = 0,      /* looked, found none */
	BZ_TLS_OPENSSL = 1,   /* OpenSSL, or a fork with its API and file names (LibreSSL) */
	BZ_TLS_BORINGSSL = 2,
	BZ_TLS_GNUTLS = 3,
	BZ_TLS_NSS = 4,       /* Mozilla NSS (libnss3, libssl3) */
	BZ_TLS_WOLFSSL = 5,
	BZ_TLS_MBEDTLS = 6,
	BZ_TLS_GO = 7,        /* Go's crypto/tls, in a Go executable */
	BZ_TLS_LIB_MAX
};
enum bz_tls_source {
	BZ_TLS_SRC_NONE = 0,
	BZ_TLS_SRC_MAPPED = 1, /* a shared library in /proc/PID/maps */
	BZ_TLS_SRC_EXE = 2,    /* linked into the executable (exports its API in .dynsym) */
	BZ_TLS_SRC_GO = 3,     /* a Go executable (crypto/tls is part of it) */
};
#define BZ_TLS_F_PROBED 0x1u /* this recording's probes read its plaintext (Go
                              * crypto/tls with the Go probes on, OpenSSL with
                              * the OpenSSL probes on) */
#define BZ_TLS_F_PROBEABLE 0x2u /* the recorder has probes for this library, on or
                                 * off (an OpenSSL entry without it: recorded by a
                                 * beyla that had none) */

/* GO_BINARY body: TLV options.  BZ_GB_PROBE values are laid out like
 * BZ_PO_PROBE's (status, required, name NUL, detail). */
#define BZ_GB_FLAG_STRIPPED 0x1u   /* no symbol table: functions from .gopclntab */
#define BZ_GB_FLAG_DWARF 0x2u      /* struct offsets read from DWARF */
#define BZ_GB_FLAG_OFFS_TABLE 0x4u /* struct offsets from the table for its version */
enum bz_go_binary_opt {
	BZ_GB_PATH = 1,    /* str: executable path as the first process saw it */
	BZ_GB_VERSION = 2, /* str: "go1.26.8", "" if unknown */
	BZ_GB_MODULE = 3,  /* str: main module path */
	BZ_GB_FLAGS = 4,   /* u32: BZ_GB_FLAG_* */
	BZ_GB_PID = 5,     /* u32: the process it was found in */
	BZ_GB_PROBE = 6,   /* one per Go probe */
};

/* TLS_LIBRARY body: TLV options.  BZ_TL_PROBE values are laid out like
 * BZ_PO_PROBE's (status, required, name NUL, detail). */
enum bz_tls_library_opt {
	BZ_TL_PATH = 1,  /* str: the file as the first process that used it maps it */
	BZ_TL_LIB = 2,   /* u32: enum bz_tls_lib_id */
	BZ_TL_PID = 3,   /* u32: the process it was found in */
	BZ_TL_PROBE = 4, /* one per function probed */
};

/* EVENTS body: u32 count | u32 reserved | count records, each
 * bz_ev_hdr.size bytes (>= sizeof(struct bz_ev_hdr)) */
#define BZ_EVENTS_FIXED 8u

/* STATS body: u64 ts_ns | TLV list of BZ_SO_PROBE whose value is
 *   u64 emitted | u64 lost | u64 missed | name (no NUL) */
#define BZ_STATS_FIXED 8u
enum bz_stats_opt { BZ_SO_PROBE = 1 };

/* END body: TLV options */
enum bz_end_opt {
	BZ_EO_END_MONO_NS = 1,   /* u64 */
	BZ_EO_EVENTS = 2,        /* u64: records written */
	BZ_EO_DROPS = 3,         /* u64: records lost in the kernel, all probes */
	BZ_EO_STOP_REASON = 4,   /* str: "duration", "signal", "command exited", "disk full", ... */
	BZ_EO_RAW_BYTES = 5,     /* u64: uncompressed bytes before this block */
	BZ_EO_USER_DROPS = 6,    /* u64: records user space could not store */
};

#endif /* BEYLA_CAPTURE_FORMAT_H */
