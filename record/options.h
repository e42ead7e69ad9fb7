/* options.h - the options of `beyla record` and the parsers of their
 * values (durations, sizes, ports).  Pure functions: unit-tested without
 * root. */
#ifndef BEYLA_RECORD_OPTIONS_H
#define BEYLA_RECORD_OPTIONS_H

#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>

#define BZ_MAX_PIDS 64
#define BZ_MAX_PORTS 64
#define BZ_MAX_EXES 16
#define BZ_MAX_UNIX 8 /* --unix paths: bpf/maps.bpf.h's BZ_MAX_UNIX_PATHS */
#define BZ_UNIX_NAME_MAX 108 /* sun_path */
#define BZ_MAX_REDACT_NAMES 64 /* --redact-header / --redact-param, each */

struct record_opts {
	uint64_t duration_ns;     /* 0: until SIGINT/SIGTERM (or the command exits) */
	const char *output;       /* NULL: beyla-<date>-<time>.bz.zst */
	bool force;
	bool quiet;
	bool syscall_start;        /* enter hooks for read/write start times */
	int go_mode;              /* --go=MODE (enum bz_go_mode); --no-go: BZ_GO_MODE_OFF */
	bool no_openssl;          /* --no-openssl: no OpenSSL uprobes */
	bool no_kernel_waits;     /* --no-kernel-waits: no RX_ARRIVAL / PEER_RX (kwait.bpf.h) */
	bool sched;               /* --sched: scheduler events of target threads */
	bool empty_hooks;         /* --empty-hooks (benchmarks): hooks attached, programs empty */
	uint32_t snaplen;
	uint32_t ring_bytes;
	int zstd_level;
	/* The selection: every -p, --port and --exe given, and the command;
	 * the targets are the union of what each selects. */
	pid_t pids[BZ_MAX_PIDS];
	int npids;
	int ports[BZ_MAX_PORTS];  /* --port, in the order given, no repeats */
	int nports;
	const char *unix_paths[BZ_MAX_UNIX]; /* --unix, in the order given, no repeats */
	int nunix;
	const char *exe_res[BZ_MAX_EXES]; /* --exe regexes */
	int nexes;
	char **cmd;               /* argv after "--", NULL-terminated; NULL: none */
	bool no_redact;           /* --no-redact: payloads stored as captured */
	const char *redact_headers[BZ_MAX_REDACT_NAMES]; /* --redact-header, beyond the defaults */
	int nredact_headers;
	const char *redact_params[BZ_MAX_REDACT_NAMES];  /* --redact-param, beyond the defaults */
	int nredact_params;
	int argc;                 /* the recorder's own argv, stored in the capture */
	char **argv;
};

/* "500ms", "30s", "5m", "1h", "2h30m", a bare number means seconds.
 * Returns 0, or -EINVAL for anything else (including 0 and overflow). */
int bz_parse_duration(const char *s, uint64_t *ns);
/* "4096", "64k", "16M", "1G" (powers of 1024).  0 or -EINVAL. */
int bz_parse_size(const char *s, uint64_t *bytes);
/* 1..65535.  0 or -EINVAL. */
int bz_parse_port(const char *s, int *port);
/* A --unix PATH as the kernel stores a bound address: a pathname as is
 * (1..107 bytes: sun_path keeps its NUL), "@name" as an abstract name
 * (a 0 byte, then name: 1..107 bytes).  Writes the bytes to out (not
 * NUL-terminated) and their number to *len.  0 or -EINVAL. */
int bz_parse_unix_path(const char *s, char out[BZ_UNIX_NAME_MAX], int *len);
/* A positive pid that fits pid_t.  0 or -EINVAL. */
int bz_parse_pid(const char *s, pid_t *pid);
/* Formats ns as "1h02m03s", "4.5s", "120ms" into buf. */
const char *bz_fmt_duration(uint64_t ns, char *buf, size_t len);
/* Formats bytes as "512 B", "3.4 KiB", "12.0 MiB". */
const char *bz_fmt_bytes(uint64_t b, char *buf, size_t len);

/* Parses argv of `beyla record`.  On a usage error prints one line to
 * stderr and returns -EINVAL; --help exits 0 through argp. */
int record_parse_args(int argc, char **argv, struct record_opts *o);

#endif
