/* options.c - command line of `beyla record`, and the value parsers it
 * shares with the rest of the tool. */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bpf/beyla_events.h"
#include "record/capture_format.h"
#include "record/options.h"
#include "record/redact.h"

int bz_parse_duration(const char *s, uint64_t *ns)
{
	uint64_t total = 0;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	while (*p) {
		char *end;
		double v;
		uint64_t unit;

		size_t digits = strspn(p, "0123456789."); /* no signs, no exponents */

		if (*p < '0' || *p > '9')
			return -EINVAL;
		errno = 0;
		v = strtod(p, &end);
		if (errno || end != p + digits || v < 0)
			return -EINVAL;
		if (!strncmp(end, "ms", 2)) {
			unit = 1000000ull; end += 2;
		} else if (!strncmp(end, "us", 2)) {
			unit = 1000ull; end += 2;
		} else if (!strncmp(end, "ns", 2)) {
			unit = 1ull; end += 2;
		} else if (*end == 's') {
			unit = 1000000000ull; end++;
		} else if (*end == 'm') {
			unit = 60000000000ull; end++;
		} else if (*end == 'h') {
			unit = 3600000000000ull; end++;
		} else if (*end == '\0' && p == s) {
			unit = 1000000000ull; /* a bare number: seconds */
		} else {
			return -EINVAL;
		}
		if (v * (double)unit > 9.0e18 || total + (uint64_t)(v * (double)unit) < total)
			return -EINVAL;
		total += (uint64_t)(v * (double)unit + 0.5);
		p = end;
	}
	if (total == 0)
		return -EINVAL;
	*ns = total;
	return 0;
}

int bz_parse_size(const char *s, uint64_t *bytes)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end || v == 0 || v > UINT64_MAX / mul)
		return -EINVAL;
	*bytes = v * mul;
	return 0;
}

/* A decimal integer in [lo, hi], digits only (no sign, no spaces). */
static int parse_range(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

int bz_parse_unix_path(const char *s, char out[BZ_UNIX_NAME_MAX], int *len)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0)
		return -EINVAL;
	if (s[0] == '@') {
		if (n < 2 || n > BZ_UNIX_NAME_MAX)
			return -EINVAL;
		out[0] = 0;
		memcpy(out + 1, s + 1, n - 1);
		*len = (int)n;
		return 0;
	}
	if (n >= BZ_UNIX_NAME_MAX)
		return -EINVAL;
	memcpy(out, s, n);
	*len = (int)n;
	return 0;
}

int bz_parse_port(const char *s, int *port)
{
	long v;

	if (parse_range(s, 1, 65535, &v))
		return -EINVAL;
	*port = (int)v;
	return 0;
}

int bz_parse_pid(const char *s, pid_t *pid)
{
	long v;

	if (parse_range(s, 1, INT_MAX, &v))
		return -EINVAL;
	*pid = (pid_t)v;
	return 0;
}

const char *bz_fmt_duration(uint64_t ns, char *buf, size_t len)
{
	uint64_t s = ns / 1000000000ull;

	if (ns < 1000000000ull)
		snprintf(buf, len, "%llums", (unsigned long long)(ns / 1000000ull));
	else if (s < 60)
		snprintf(buf, len, "%.1fs", ns / 1e9);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
	else
		snprintf(buf, len, "%lluh%02llum%02llus", (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
	return buf;
}

const char *bz_fmt_bytes(uint64_t b, char *buf, size_t len)
{
	if (b < 1024)
		snprintf(buf, len, "%llu B", (unsigned long long)b);
	else if (b < (1ull << 20))
		snprintf(buf, len, "%.1f KiB", b / 1024.0);
	else if (b < (1ull << 30))
		snprintf(buf, len, "%.1f MiB", b / 1048576.0);
	else
		snprintf(buf, len, "%.2f GiB", b / 1073741824.0);
	return buf;
}

enum { OPT_SNAPLEN = 1000, OPT_RING, OPT_FORCE, OPT_LEVEL, OPT_EXE, OPT_PORT, OPT_SYSSTART,
       OPT_REDACT_HEADER, OPT_REDACT_PARAM, OPT_NO_REDACT, OPT_NO_GO, OPT_GO_MODE, OPT_NO_OPENSSL, OPT_NO_KWAITS, OPT_EMPTY_HOOKS,
       OPT_UNIX, OPT_SCHED };

static const struct argp_option record_options[] = {
	{ 0, 0, 0, 0, "What to record (at least one; each is repeatable, and they combine: the "
	  "targets are every process any of them selects, and the children those fork):", 1 },
	{ "pid", 'p', "PID", 0, "Record process PID and the children it forks (repeatable)", 1 },
	{ "port", OPT_PORT, "N", 0,
	  "Record every process that serves or calls TCP port N, from its first use of it "
	  "(repeatable: --port 8080 --port 5432)", 1 },
	{ "unix", OPT_UNIX, "PATH", 0,
	  "Record every process that accepts on, or connects to, the UNIX stream socket bound to "
	  "PATH (@NAME: an abstract name), from that accept or connect on (repeatable)", 1 },
	{ "exe", OPT_EXE, "REGEX", 0,
	  "Record processes whose executable path, name, argv[0], or script (argv[1] of python, "
	  "node, ruby, perl, php, java) matches "
	  "REGEX (POSIX extended), running now or started later, from their exec on "
	  "(repeatable: a process matching any is recorded)", 1 },
	{ 0, 0, 0, 0, "Output:", 2 },
	{ "output", 'o', "FILE", 0, "Write the capture to FILE (default beyla-DATE-TIME.bz.zst)", 2 },
	{ "force", OPT_FORCE, 0, 0, "Overwrite FILE if it exists", 2 },
	{ "duration", 'd', "DUR", 0,
	  "Stop after DUR (500ms, 30s, 5m, 1h); default: until Ctrl-C/SIGTERM or the command exits", 2 },
	{ "quiet", 'q', 0, 0, "No status line and no summary, only errors", 2 },
	{ 0, 0, 0, 0, "Tuning:", 3 },
	{ "snaplen", OPT_SNAPLEN, "N", 0,
	  "Keep the first N bytes of every socket read and write (default 512, max 1024, 0: none)", 3 },
	{ "ring-size", OPT_RING, "BYTES", 0,
	  "Kernel ring buffer size, a power of two (default 16M); bigger absorbs longer bursts", 3 },
	{ "syscall-start", OPT_SYSSTART, 0, 0,
	  "Also record when each socket read/write syscall began (hooks every read/write "
	  "syscall on the machine: costs throughput; the end time is always recorded)", 3 },
	{ "sched", OPT_SCHED, 0, 0,
	  "Also record when target threads go on and off CPU and who wakes them, so that "
	  "`beyla analyze` splits each request's processing into on CPU, waiting for a CPU (run "
	  "queue) and blocked (I/O, locks, sleep, calls), and follows a request handed from a "
	  "reading thread to a worker. Costs: the scheduler's switch and wake-up hooks run for "
	  "every context switch of the machine (a filter drops other processes'), and a 40-56 byte "
	  "event per switch or wake-up of a target thread (docs/performance.md)", 3 },
	{ "go", OPT_GO_MODE, "MODE", 0,
	  "What the Go uprobes record: 'fast' (the default: no probe the kernel single-steps; the "
	  "handler's start, reading the request from its *http.Request, crypto/tls writes at their "
	  "entry and reads at their plaintext copy, round trips at their entry; the span ends at "
	  "its response's last write), 'full' (also the handler's end, crypto/tls reads at their "
	  "returns, round trips' returns and goroutine creation before Go 1.21; 2-3x the cost "
	  "over HTTPS: docs/go.md) or 'off' (as --no-go)", 3 },
	{ "no-go", OPT_NO_GO, 0, 0,
	  "No Go uprobes: Go programs are recorded from the kernel only (no HTTPS plaintext, "
	  "handler times or goroutine parents); the same as --go=off", 3 },
	{ "no-openssl", OPT_NO_OPENSSL, 0, 0,
	  "No OpenSSL uprobes: connections encrypted by OpenSSL (nginx, curl, Python, Node...) are "
	  "recorded as ciphertext, their sizes and times only (the probes sit on the library file: "
	  "processes that are not targets pay their traps too)", 3 },
	{ "no-kernel-waits", OPT_NO_KWAITS, 0, 0,
	  "Do not record the kernel's own waits around a request: the receive path before the "
	  "socket is told (the request's bytes are timestamped as they enter the host: the recorder "
	  "turns on the kernel's receive timestamps) and, when the client is on this host, the "
	  "delivery of the response to its socket after the last write (a saturated CPU defers it "
	  "by milliseconds).  Spans then begin when the socket was told and end at the last write; "
	  "saves an event per request and a lookup per data arrival of the machine's sockets", 3 },
	{ "zstd-level", OPT_LEVEL, "N", 0,
	  "zstd compression level 1-19 (default 1, the cheapest while recording; 3 saves ~10 % of "
	  "the file for ~15 % more of the recorder's CPU)", 3 },
	/* `make bench` only (docs/performance.md): attach every hook, record nothing per request */
	{ "empty-hooks", OPT_EMPTY_HOOKS, 0, OPTION_HIDDEN,
	  "Benchmarks: the per-request programs return at once (no reads, writes or Go events)", 3 },
	{ 0, 0, 0, 0, "Privacy (credentials in captured payloads are masked by default):", 4 },
	{ "redact-header", OPT_REDACT_HEADER, "NAME", 0,
	  "Also mask the value of HTTP header NAME (repeatable; Authorization, Cookie, Set-Cookie, "
	  "X-Api-Key and names with token, secret, password, session... are masked already)", 4 },
	{ "redact-param", OPT_REDACT_PARAM, "NAME", 0,
	  "Also mask the value of query or form parameter or JSON key NAME (repeatable; password, token, key, "
	  "secret, signature... are masked already)", 4 },
	{ "no-redact", OPT_NO_REDACT, 0, 0,
	  "Store payloads exactly as captured, credentials included (the capture says so)", 4 },
	{ 0 }
};

static const char record_doc[] =
	"Record what target processes' TCP requests really cost, from the kernel, into one "
	"self-describing, zstd-compressed capture file.\v"
	"Needs root (or CAP_BPF + CAP_PERFMON), BTF at /sys/kernel/btf/vmlinux and tracefs.\n"
	"\n"
	"Recorded for the targets: TCP connections (accept/connect, handshake time, close), every "
	"socket read and write (times, thread, bytes, first --snaplen bytes of payload), when data "
	"arrived before it was read, and process life (exec, fork, exit). Forked children of targets "
	"become targets. In Go programs (x86-64), uprobes also record each net/http handler's run, "
	"crypto/tls plaintext (HTTPS) and http.Client calls with the goroutine that made them.\n"
	"\n"
	"Targets: -p, --port, --exe and -- CMD can be given together and each of the first three "
	"more than once; a process any of them selects is recorded. A process matching --exe, and "
	"the command after --, is recorded from its exec, before it runs its own code; one using a "
	"--port port from that first use. Every target's identity (executable, comm, command line, "
	"OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES) is kept, even if it exits at once.\n"
	"\n"
	"Examples:\n"
	"  sudo beyla record -d 30s --port 8080 -o shop.bz.zst\n"
	"  sudo beyla record -p 1234 -p 1240\n"
	"  sudo beyla record --port 8080 --port 5432 --exe '^gunicorn$'   # all three, together\n"
	"  sudo beyla record --exe 'gunicorn|python3'\n"
	"  sudo beyla record -- ./myserver --flag      # launch and record until it exits\n"
	"  beyla info shop.bz.zst && beyla analyze shop.bz.zst\n"
	"\n"
	"Ctrl-C or SIGTERM stops recording and finishes the file. A killed recorder loses at most "
	"the last second: the rest of the file stays readable.\n"
	"\n"
	"Before payload bytes are written, the values of credential headers (Authorization, Cookie, "
	"Set-Cookie, API keys, tokens) and of secret-looking query and form parameters and JSON keys in HTTP/1 "
	"traffic are overwritten with '*', byte for byte, so sizes stay exact; a value masked once is "
	"masked wherever it comes back on its connection (a token repeated in a redirect or a page). "
	"The file is created with mode 0600.";

static error_t record_parse_opt(int key, char *arg, struct argp_state *state)
{
	struct record_opts *o = state->input;
	uint64_t v;

	switch (key) {
	case 'p':
		if (o->npids >= BZ_MAX_PIDS)
			argp_error(state, "too many -p (at most %d)", BZ_MAX_PIDS);
		if (bz_parse_pid(arg, &o->pids[o->npids]))
			argp_error(state, "invalid pid '%s'", arg);
		o->npids++;
		break;
	case OPT_PORT: {
		int port = 0, seen = 0;
		if (bz_parse_port(arg, &port))
			argp_error(state, "invalid port '%s' (expected 1-65535)", arg);
		for (int i = 0; i < o->nports; i++)
			seen |= o->ports[i] == port;
		if (seen)
			break;
		if (o->nports >= BZ_MAX_PORTS)
			argp_error(state, "too many --port (at most %d)", BZ_MAX_PORTS);
		o->ports[o->nports++] = port;
		break;
	}
	case OPT_UNIX: {
		char name[BZ_UNIX_NAME_MAX];
		int n, seen = 0;
		if (bz_parse_unix_path(arg, name, &n))
			argp_error(state, "invalid --unix path '%s' (1-107 bytes; @NAME for an abstract name)", arg);
		for (int i = 0; i < o->nunix; i++)
			seen |= !strcmp(o->unix_paths[i], arg);
		if (seen)
			break;
		if (o->nunix >= BZ_MAX_UNIX)
			argp_error(state, "too many --unix (at most %d)", BZ_MAX_UNIX);
		o->unix_paths[o->nunix++] = arg;
		break;
	}
	case OPT_EXE:
		if (o->nexes >= BZ_MAX_EXES)
			argp_error(state, "too many --exe (at most %d; one regex can hold "
				   "alternatives: 'nginx|gunicorn')", BZ_MAX_EXES);
		if (!*arg)
			argp_error(state, "empty --exe regex (it would match every process)");
		o->exe_res[o->nexes++] = arg;
		break;
	case OPT_NO_GO:
		o->go_mode = BZ_GO_MODE_OFF;
		break;
	case OPT_GO_MODE:
		if (!strcmp(arg, "fast"))
			o->go_mode = BZ_GO_MODE_FAST;
		else if (!strcmp(arg, "full"))
			o->go_mode = BZ_GO_MODE_FULL;
		else if (!strcmp(arg, "off"))
			o->go_mode = BZ_GO_MODE_OFF;
		else
			argp_error(state, "--go=%s: the modes are fast (the default), full and off", arg);
		break;
	case OPT_NO_OPENSSL:
		o->no_openssl = true;
		break;
	case OPT_NO_KWAITS:
		o->no_kernel_waits = true;
		break;
	case OPT_SCHED:
		o->sched = true;
		break;
	case OPT_EMPTY_HOOKS:
		o->empty_hooks = true;
		break;
	case 'o':
		o->output = arg;
		break;
	case OPT_FORCE:
		o->force = true;
		break;
	case 'd':
		if (bz_parse_duration(arg, &o->duration_ns))
			argp_error(state, "invalid duration '%s' (examples: 500ms, 30s, 5m, 1h)", arg);
		break;
	case 'q':
		o->quiet = true;
		break;
	case OPT_SYSSTART:
		o->syscall_start = true;
		break;
	case OPT_SNAPLEN:
		if (!strcmp(arg, "0")) {
			o->snaplen = 0;
			break;
		}
		if (bz_parse_size(arg, &v) || v > BZ_SNAPLEN_MAX)
			argp_error(state, "invalid snaplen '%s' (0-%d)", arg, BZ_SNAPLEN_MAX);
		o->snaplen = (uint32_t)v;
		break;
	case OPT_RING:
		if (bz_parse_size(arg, &v) || v < 4096 || v > (1ull << 30) || (v & (v - 1)))
			argp_error(state, "invalid ring size '%s' (a power of two, 4K-1G)", arg);
		o->ring_bytes = (uint32_t)v;
		break;
	case OPT_REDACT_HEADER:
	case OPT_REDACT_PARAM: {
		int *n = key == OPT_REDACT_HEADER ? &o->nredact_headers : &o->nredact_params;
		if (*n >= BZ_MAX_REDACT_NAMES)
			argp_error(state, "too many --redact-%s (at most %d)",
				   key == OPT_REDACT_HEADER ? "header" : "param", BZ_MAX_REDACT_NAMES);
		if (!bz_redact_name_ok(arg))
			argp_error(state, "invalid name '%s' (1-%d printable characters, "
				   "no space, ':', '=', '&', '?', '#')", arg, BZ_REDACT_NAME_MAX);
		(key == OPT_REDACT_HEADER ? o->redact_headers : o->redact_params)[(*n)++] = arg;
		break;
	}
	case OPT_NO_REDACT:
		o->no_redact = true;
		break;
	case OPT_LEVEL:
		o->zstd_level = atoi(arg);
		if (o->zstd_level < 1 || o->zstd_level > 19)
			argp_error(state, "invalid zstd level '%s' (1-19)", arg);
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'; to launch a command, put it after --: "
			   "beyla record -- %s ...", arg, arg);
		break;
	case ARGP_KEY_END:
		if (!o->npids && !o->nports && !o->nunix && !o->nexes && !o->cmd)
			argp_error(state, "nothing to record: give -p PID, --port N, --unix PATH, --exe REGEX or -- CMD");
		if (o->no_redact && (o->nredact_headers || o->nredact_params))
			argp_error(state, "--no-redact contradicts --redact-header/--redact-param");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int record_parse_args(int argc, char **argv, struct record_opts *o)
{
	static const struct argp argp = { record_options, record_parse_opt, "[-- CMD [ARG...]]",
					  record_doc, 0, 0, 0 };
	int nopt = argc;

	memset(o, 0, sizeof(*o));
	o->snaplen = BZ_SNAPLEN_DEFAULT;
	/* fast: no single-stepped probe on a request's path (docs/go.md) */
	o->go_mode = BZ_GO_MODE_FAST;
	o->ring_bytes = 16u << 20;
	/* level 3 made nginx captures ~11 % smaller for ~15 % more recorder CPU */
	o->zstd_level = 1;
	o->argc = argc;
	o->argv = argv;
	/* Everything after "--" is the command to launch, never our options. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			nopt = i;
			if (i + 1 >= argc) {
				fprintf(stderr, "beyla record: nothing after '--': give the command to launch\n");
				return -EINVAL;
			}
			o->cmd = argv + i + 1;
			break;
		}
	}
	{
		char *argv0 = argv[0];
		int rc;

		argv[0] = (char *)"beyla record"; /* for argp's usage lines */
		rc = argp_parse(&argp, nopt, argv, 0, NULL, o);
		argv[0] = argv0;
		if (rc)
			return -EINVAL;
	}
	return 0;
}
