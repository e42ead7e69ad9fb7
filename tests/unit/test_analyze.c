/* test_analyze.c - the analyzer end to end on small captures built here
 * with the capture writer: spans in the SQLite database (timing rules,
 * queue + processing = duration exactly, parent/child, OpenTelemetry
 * attributes), ids stable across runs, truncated input, the embedded schema
 * matching schema/spans.sql, and the hash map under churn. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "analyze/analysis.h"
#include "analyze/capture_reader.h"
#include "analyze/conn.h"
#include "analyze/db.h"
#include "analyze/explain.h"
#include "analyze/otlp_export.h"
#include "analyze/report.h"
#include "analyze/schema_sql.h"
#include "analyze/u64map.h"
#include "analyze/unix_addr.h"
#include "bpf/beyla_events.h"
#include "record/capture_format.h"
#include "record/capture_writer.h"

#define MONO0 1000000000ull           /* clock pair: mono ... */
#define REAL0 1700000000000000000ull  /* ... and real */
#define MS(x) ((uint64_t)((x) * 1000000.0))
#define T(x) (MONO0 + MS(x))           /* capture time x ms */
#define U(x) ((int64_t)(REAL0 + MS(x))) /* the same as Unix ns */

/* ---- building captures ------------------------------------------------ */

/* cap_open: a capture whose recorder had the kernel's waits on (header flag
 * and receive-timestamp threshold, format 1.6) */
static int cap_kwaits;

struct cap {
	struct bz_writer *w;
	struct bz_buf ev;   /* records of the EVENTS block being built */
	uint32_t nev;
	char path[64];
};

static void cap_open(struct cap *c)
{
	struct bz_buf b = { 0 };
	int fd;

	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "/tmp/test_analyze.XXXXXX");
	fd = mkstemp(c->path);
	assert_true(fd >= 0);
	assert_int_equal(bz_writer_new(&c->w, fd, 3), 0);
	bz_buf_put(&b, BZ_MAGIC, 8);
	bz_buf_put_u16(&b, BZ_FORMAT_MAJOR);
	bz_buf_put_u16(&b, BZ_FORMAT_MINOR);
	bz_buf_put_u32(&b, cap_kwaits ? BZ_HDR_FLAG_KWAITS : 0);
	bz_buf_opt_str(&b, BZ_HO_BEYLA_VERSION, "0.1.0");
	if (cap_kwaits)
		bz_buf_opt_u64(&b, BZ_HO_KW_RX_MIN_NS, 20000);
	bz_buf_opt_str(&b, BZ_HO_HOSTNAME, "testhost");
	bz_buf_opt_str(&b, BZ_HO_BOOT_ID, "0f0e0d0c-boot");
	bz_buf_opt_u64(&b, BZ_HO_CLOCK_MONO_NS, MONO0);
	bz_buf_opt_u64(&b, BZ_HO_CLOCK_REAL_NS, REAL0);
	bz_buf_opt_u64(&b, BZ_HO_START_MONO_NS, MONO0);
	bz_buf_opt_u32(&b, BZ_HO_SNAPLEN, 512);
	assert_int_equal(bz_writer_block(c->w, BZ_BLK_HEADER, b.data, b.len), 0);
	bz_buf_free(&b);
}

static void cap_proc(struct cap *c, uint32_t pid, const char *exe, const char *service)
{
	struct bz_buf b = { 0 };
	bz_buf_put_u32(&b, pid);
	bz_buf_put_u32(&b, 1);
	bz_buf_put_u64(&b, MONO0);
	bz_buf_put_u32(&b, BZ_PF_AT_START);
	bz_buf_put_u32(&b, 0);
	bz_buf_opt_str(&b, BZ_PR_EXE, exe);
	bz_buf_opt(&b, BZ_PR_CMDLINE, "app\0--port\0" "8080\0", 17);
	bz_buf_opt_str(&b, BZ_PR_SERVICE_NAME, service);
	assert_int_equal(bz_writer_block(c->w, BZ_BLK_PROC, b.data, b.len), 0);
	bz_buf_free(&b);
}

static void hdr(struct bz_ev_hdr *h, uint16_t kind, uint16_t size, uint64_t ts, uint32_t pid, uint32_t tid)
{
	h->ts_ns = ts;
	h->pid = pid;
	h->tid = tid;
	h->kind = kind;
	h->size = size;
}

static void ev_open(struct cap *c, uint64_t conn, uint8_t role, uint64_t ts, uint64_t est, uint64_t sys,
		    uint16_t lport, uint16_t rport, uint32_t pid)
{
	struct bz_ev_conn_open e = { 0 };
	hdr(&e.h, BZ_EV_CONN_OPEN, sizeof(e), ts, pid, pid);
	e.conn_id = conn;
	e.established_ns = est;
	e.syscall_start_ns = sys;
	e.family = BZ_AF_INET;
	e.local_port = lport;
	e.remote_port = rport;
	e.role = role;
	e.fd = 5;
	e.local_addr[0] = 127;
	e.local_addr[3] = 1;
	e.remote_addr[0] = 10;
	e.remote_addr[3] = 7;
	bz_buf_put(&c->ev, &e, sizeof(e));
	c->nev++;
}

/* The server end of a connection ev_open made from the client's side: its
 * addresses and ports the reverse (10.0.0.7:lport <- 127.0.0.1:rport). */
static void ev_open_accepted_peer(struct cap *c, uint64_t conn, uint64_t ts, uint64_t est, uint16_t lport,
				  uint16_t rport, uint32_t pid)
{
	struct bz_ev_conn_open e = { 0 };
	hdr(&e.h, BZ_EV_CONN_OPEN, sizeof(e), ts, pid, pid);
	e.conn_id = conn;
	e.established_ns = est;
	e.family = BZ_AF_INET;
	e.local_port = lport;
	e.remote_port = rport;
	e.role = BZ_ROLE_ACCEPTED;
	e.local_addr[0] = 10, e.local_addr[3] = 7;
	e.remote_addr[0] = 127, e.remote_addr[3] = 1;
	bz_buf_put(&c->ev, &e, sizeof(e));
	c->nev++;
}

static void ev_est(struct cap *c, uint64_t conn, uint64_t ts, uint32_t pid)
{
	struct bz_ev_conn_est e = { 0 };
	hdr(&e.h, BZ_EV_CONN_EST, sizeof(e), ts, pid, pid);
	e.conn_id = conn;
	bz_buf_put(&c->ev, &e, sizeof(e));
	c->nev++;
}

static void ev_close(struct cap *c, uint64_t conn, uint64_t ts, uint32_t pid)
{
	struct bz_ev_conn_close e = { 0 };
	hdr(&e.h, BZ_EV_CONN_CLOSE, sizeof(e), ts, pid, pid);
	e.conn_id = conn;
	bz_buf_put(&c->ev, &e, sizeof(e));
	c->nev++;
}

/* A read (dir IN) or write; ret bytes moved, the first caplen of s known. */
static void ev_data_cut(struct cap *c, uint64_t conn, int dir, uint64_t ts, uint64_t start, uint64_t arrival,
			uint32_t pid, uint32_t tid, const char *s, size_t caplen, int32_t ret)
{
	struct bz_ev_data e = { 0 };
	hdr(&e.h, BZ_EV_DATA, (uint16_t)(sizeof(e) + caplen), ts, pid, tid);
	e.conn_id = conn;
	e.start_ns = start;
	e.arrival_ns = arrival;
	e.ret = ret;
	e.caplen = (uint16_t)caplen;
	e.dir = (uint8_t)dir;
	e.syscall = dir == BZ_DIR_IN ? BZ_SYS_READ : BZ_SYS_WRITE;
	bz_buf_put(&c->ev, &e, sizeof(e));
	bz_buf_put(&c->ev, s, caplen);
	c->nev++;
}

static void ev_data(struct cap *c, uint64_t conn, int dir, uint64_t ts, uint64_t start, uint64_t arrival,
		    uint32_t pid, uint32_t tid, const char *s)
{
	ev_data_cut(c, conn, dir, ts, start, arrival, pid, tid, s, strlen(s), (int32_t)strlen(s));
}

static void ev_fork(struct cap *c, uint32_t parent, uint32_t child, uint64_t ts)
{
	struct bz_ev_proc_fork e = { 0 };
	hdr(&e.h, BZ_EV_PROC_FORK, sizeof(e), ts, parent, parent);
	e.child_pid = child;
	bz_buf_put(&c->ev, &e, sizeof(e));
	c->nev++;
}

static void ev_exec(struct cap *c, uint32_t pid, const char *filename, uint64_t ts)
{
	struct bz_ev_proc_exec e = { 0 };
	hdr(&e.h, BZ_EV_PROC_EXEC, sizeof(e), ts, pid, pid);
	e.ppid = 1;
	e.filename_len = (uint16_t)strlen(filename);
	memcpy(e.filename, filename, strlen(filename));
	memcpy(e.comm, "gunicorn", 8);
	memcpy(e.args, "gunicorn\0app:app\0", 17);
	e.args_len = 17;
	bz_buf_put(&c->ev, &e, sizeof(e));
	c->nev++;
}

static void ev_exit(struct cap *c, uint32_t pid, int32_t code, uint64_t ts)
{
	struct bz_ev_proc_exit e = { 0 };
	hdr(&e.h, BZ_EV_PROC_EXIT, sizeof(e), ts, pid, pid);
	e.exit_code = code;
	bz_buf_put(&c->ev, &e, sizeof(e));
	c->nev++;
}

/* Writes the records gathered so far as one EVENTS block. */
static void cap_events(struct cap *c)
{
	struct bz_buf b = { 0 };
	bz_buf_put_u32(&b, c->nev);
	bz_buf_put_u32(&b, 0);
	bz_buf_put(&b, c->ev.data, c->ev.len);
	assert_int_equal(bz_writer_block(c->w, BZ_BLK_EVENTS, b.data, b.len), 0);
	bz_buf_free(&b);
	bz_buf_reset(&c->ev);
	c->nev = 0;
}

static void cap_flush(struct cap *c)
{
	assert_int_equal(bz_writer_flush(c->w), 0);
}

static void cap_close(struct cap *c, int with_end)
{
	struct bz_buf b = { 0 };
	if (c->nev)
		cap_events(c);
	bz_buf_put_u64(&b, 42);
	uint8_t probe[24 + 4] = { 0 };
	probe[0] = 10;  /* emitted */
	probe[8] = 2;   /* lost */
	memcpy(probe + 24, "recv", 4);
	bz_buf_opt(&b, BZ_SO_PROBE, probe, sizeof(probe));
	assert_int_equal(bz_writer_block(c->w, BZ_BLK_STATS, b.data, b.len), 0);
	bz_buf_reset(&b);
	if (with_end) {
		bz_buf_opt_u64(&b, BZ_EO_END_MONO_NS, T(100));
		bz_buf_opt_u64(&b, BZ_EO_EVENTS, 99);
		bz_buf_opt_u64(&b, BZ_EO_DROPS, 2);
		bz_buf_opt_str(&b, BZ_EO_STOP_REASON, "duration");
		assert_int_equal(bz_writer_block(c->w, BZ_BLK_END, b.data, b.len), 0);
	}
	bz_buf_free(&b);
	bz_buf_free(&c->ev);
	assert_int_equal(bz_writer_close(&c->w), 0);
}

/* ---- running the analyzer --------------------------------------------- */

/* Analyses the capture at path into an in-memory database. */
/* keep: how many durations route_stats may keep (SIZE_MAX: the default). */
static struct bz_db *analyse_keep(const char *path, struct bz_analysis_summary *sum, size_t keep)
{
	struct bz_reader *r = NULL;
	struct bz_db *db = NULL;
	char err[256];

	assert_int_equal(bz_reader_open_file(&r, path), 0);
	assert_int_equal(bz_db_create(&db, ":memory:", err, sizeof(err)), 0);
	if (keep != SIZE_MAX)
		assert_int_equal(bz_db_route_stats_keep(db, keep), 0);
	assert_int_equal(bz_db_start_writer(db), 0); /* as `beyla analyze` does */
	assert_int_equal(bz_analyze(r, db, path, NULL, NULL, sum), 0);
	bz_reader_free(&r);
	return db;
}

static struct bz_db *analyse(const char *path, struct bz_analysis_summary *sum)
{
	return analyse_keep(path, sum, SIZE_MAX);
}

static int64_t q_int(struct bz_db *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = INT64_MIN;
	if (sqlite3_prepare_v2(bz_db_handle(db), sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(bz_db_handle(db)));
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char *q_text(struct bz_db *db, const char *sql)
{
	sqlite3_stmt *st;
	char *v = NULL;
	if (sqlite3_prepare_v2(bz_db_handle(db), sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(bz_db_handle(db)));
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

static void assert_text(struct bz_db *db, const char *sql, const char *want)
{
	char *got = q_text(db, sql);
	if (!want) {
		assert_null(got);
		return;
	}
	if (!got)
		fail_msg("%s: NULL, want %s", sql, want);
	if (strcmp(got, want))
		fail_msg("%s: '%s', want '%s'", sql, got, want);
	free(got);
}

static char *dump(struct bz_db *db)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(bz_report_dump_spans(bz_db_handle(db), f), 0);
	fclose(f);
	return buf;
}

/* ---- the main scenario ------------------------------------------------- */

/* pid 100 ("shop") accepts conn 1 and serves three requests on it; while
 * serving the first, its thread 101 calls a backend over conn 2. */
static void build_shop(struct cap *c)
{
	cap_open(c);
	cap_proc(c, 100, "/usr/bin/python3", "shop");
	/* established at 0.1 ms, accepted at 0.3 ms */
	ev_open(c, 1, BZ_ROLE_ACCEPTED, T(0.3), T(0.1), T(0.05), 8080, 50000, 100);
	/* request bytes arrived at 0.15 ms; read entered 0.4, returned 0.5 */
	ev_data(c, 1, BZ_DIR_IN, T(0.5), T(0.4), T(0.15), 100, 101,
		"GET /users/42?token=abc&x HTTP/1.1\r\nHost: shop.example:8080\r\nUser-Agent: curl/8\r\n\r\n");
	cap_events(c);
	cap_flush(c); /* a frame boundary */
	/* the backend call: connect 0.6 -> established 0.65 */
	ev_open(c, 2, BZ_ROLE_CONNECTED, T(0.7), 0, T(0.6), 40000, 9000, 100);
	ev_est(c, 2, T(0.65), 100);
	ev_data(c, 2, BZ_DIR_OUT, T(0.8), T(0.75), 0, 100, 101,
		"GET /api/items/5f3a9c0e12 HTTP/1.1\r\nHost: backend:9000\r\n\r\n");
	ev_data(c, 2, BZ_DIR_IN, T(1.5), T(1.4), T(1.45), 100, 101,
		"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	ev_close(c, 2, T(1.6), 100);
	ev_data(c, 1, BZ_DIR_OUT, T(2.0), T(1.9), 0, 100, 101,
		"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nerror");
	/* keep-alive: arrived 2.5, read 2.8 -> 3.0, answered at 4.0 */
	ev_data(c, 1, BZ_DIR_IN, T(3.0), T(2.8), T(2.5), 100, 101,
		"POST /users HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd");
	ev_data(c, 1, BZ_DIR_OUT, T(4.0), T(3.9), 0, 100, 101,
		"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	/* never answered */
	ev_data(c, 1, BZ_DIR_IN, T(5.0), T(4.9), T(4.5), 100, 101, "GET /slow HTTP/1.1\r\n\r\n");
	/* a non-HTTP connection (TLS) */
	ev_open(c, 3, BZ_ROLE_ACCEPTED, T(6.0), T(5.9), 0, 8443, 50001, 100);
	ev_data_cut(c, 3, BZ_DIR_IN, T(6.5), T(6.4), T(6.1), 100, 101, "\x16\x03\x01\x02\x00", 5, 517);
	ev_close(c, 3, T(7.0), 100);
}

/* ---- Go runtime records ------------------------------------------------ */

static void ev_go_tls(struct cap *c, uint64_t conn, int dir, uint64_t ts, uint32_t pid, uint32_t tid, const char *s)
{
	struct bz_ev_data e = { 0 };
	size_t n = strlen(s);
	hdr(&e.h, BZ_EV_DATA, (uint16_t)(sizeof(e) + n), ts, pid, tid);
	e.conn_id = conn;
	e.ret = (int32_t)n;
	e.caplen = (uint16_t)n;
	e.dir = (uint8_t)dir;
	e.syscall = BZ_SYS_GO_TLS;
	bz_buf_put(&c->ev, &e, sizeof(e));
	bz_buf_put(&c->ev, s, n);
	c->nev++;
}

static void ev_go_handler(struct cap *c, uint64_t ts, uint32_t pid, uint64_t goid, int phase, uint16_t status,
			  const char *remote)
{
	struct bz_ev_go_handler e = { 0 };
	size_t rl = remote ? strlen(remote) : 0;
	hdr(&e.h, BZ_EV_GO_HANDLER, (uint16_t)(sizeof(e) + 3 + rl), ts, pid, pid);
	e.goid = goid;
	e.phase = (uint8_t)phase;
	e.status = status;
	e.method_len = 3;
	e.remote_len = (uint16_t)rl;
	bz_buf_put(&c->ev, &e, sizeof(e));
	bz_buf_put(&c->ev, "GET", 3);
	bz_buf_put(&c->ev, remote, rl);
	c->nev++;
}

static void ev_go_client(struct cap *c, uint64_t ts, uint32_t pid, uint64_t goid, uint64_t parent, int phase,
			 const char *path)
{
	struct bz_ev_go_client e = { 0 };
	size_t pl = strlen(path);
	hdr(&e.h, BZ_EV_GO_CLIENT, (uint16_t)(sizeof(e) + 3 + 4 + pl), ts, pid, pid + 1);
	e.goid = goid;
	e.parent_goid = parent;
	e.phase = (uint8_t)phase;
	e.method_len = 3;
	e.host_len = 4;
	e.path_len = (uint16_t)pl;
	bz_buf_put(&c->ev, &e, sizeof(e));
	bz_buf_put(&c->ev, "GETdown", 7);
	bz_buf_put(&c->ev, path, pl);
	c->nev++;
}

/* A Go HTTPS server (pid 300): its connection's socket bytes are TLS records,
 * the plaintext comes from crypto/tls; a handler (goroutine 7) starts,
 * is reported twice (a re-run probe), starts a goroutine 9 that calls a
 * backend over plain HTTP (the request written by another goroutine, on
 * another thread), and ends.  The backend (pid 400) is recorded too. */
static void test_go_https_handler_and_client(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum;

	cap_open(&c);
	cap_proc(&c, 300, "/srv/api", "api");
	cap_proc(&c, 400, "/srv/backend", "backend");
	/* client 10.0.0.7:50001 -> 127.0.0.1:8443 (ev_open's addresses) */
	ev_open(&c, 1, BZ_ROLE_ACCEPTED, T(1.0), T(0.9), 0, 8443, 50001, 300);
	ev_data_cut(&c, 1, BZ_DIR_IN, T(1.2), 0, T(1.1), 300, 301, "\x16\x03\x01\x02\x00", 5, 517);
	ev_data_cut(&c, 1, BZ_DIR_OUT, T(1.3), 0, 0, 300, 301, "\x16\x03\x03\x00\x7a", 5, 900);
	ev_data_cut(&c, 1, BZ_DIR_IN, T(2.0), 0, T(1.9), 300, 301, "\x17\x03\x03", 3, 80);
	ev_go_tls(&c, 1, BZ_DIR_IN, T(2.1), 300, 301, "GET /orders/42 HTTP/1.1\r\nHost: api\r\n\r\n");
	ev_go_handler(&c, T(2.5), 300, 7, BZ_GO_START, 0, "10.0.0.7:50001");
	ev_go_handler(&c, T(2.6), 300, 7, BZ_GO_START, 0, "10.0.0.7:50001"); /* seen twice */
	ev_go_client(&c, T(3.0), 300, 9, 7, BZ_GO_START, "/stock");
	/* the backend call: api's connection 2 (client) and backend's connection 3 (server) */
	ev_open(&c, 2, BZ_ROLE_CONNECTED, T(3.1), T(3.1), T(3.05), 50100, 9000, 300);
	ev_data(&c, 2, BZ_DIR_OUT, T(3.2), 0, 0, 300, 305, "GET /stock HTTP/1.1\r\nHost: down\r\n\r\n");
	ev_open_accepted_peer(&c, 3, T(3.15), T(3.1), 9000, 50100, 400); /* the reverse of connection 2 */
	ev_data(&c, 3, BZ_DIR_IN, T(3.3), 0, T(3.25), 400, 400, "GET /stock HTTP/1.1\r\nHost: down\r\n\r\n");
	ev_data(&c, 3, BZ_DIR_OUT, T(3.6), 0, 0, 400, 400, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
	ev_data(&c, 2, BZ_DIR_IN, T(3.7), 0, T(3.65), 300, 306, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
	ev_go_client(&c, T(3.8), 300, 9, 7, BZ_GO_END, "");
	ev_go_handler(&c, T(4.0), 300, 7, BZ_GO_END, 200, NULL);
	ev_go_tls(&c, 1, BZ_DIR_OUT, T(4.1), 300, 301, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
	ev_data_cut(&c, 1, BZ_DIR_OUT, T(4.2), 0, 0, 300, 301, "\x17\x03\x03", 3, 70);
	ev_close(&c, 1, T(5.0), 300);
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);

	assert_int_equal(sum.session.read_status, 0);
	/* the HTTPS request, parsed from plaintext only */
	assert_int_equal(q_int(db, "select count(*) from spans where kind='server' and pid=300"), 1);
	assert_text(db, "select name from spans where kind='server' and pid=300", "GET /orders/{id}");
	assert_text(db, "select value from span_attributes a join spans s using (span_id) "
			"where s.kind='server' and s.pid=300 and a.key='url.scheme'", "https");
	assert_text(db, "select protocol from connections where conn_id=1", "http/1");
	assert_int_equal(q_int(db, "select value from parse_stats where name='tls_conns_plaintext'"), 1);
	/* start: when the first ciphertext (the ClientHello, after the accept) arrived: the
	 * handshake is part of serving the first request; processing: the handler's start */
	assert_int_equal(q_int(db, "select start_ns from spans where kind='server' and pid=300"), U(1.1));
	assert_int_equal(q_int(db, "select end_ns from spans where kind='server' and pid=300"), U(4.1));
	assert_int_equal(q_int(db, "select queue_ns from spans where kind='server' and pid=300"), MS(1.4));
	assert_text(db, "select value from span_attributes a join spans s using (span_id) "
			"where s.kind='server' and s.pid=300 and a.key='beyla.go.handler_ns'", "1500000");
	assert_int_equal(q_int(db, "select value from parse_stats where name='go_handler_repeats'"), 1);
	assert_int_equal(q_int(db, "select value from parse_stats where name='go_handlers_matched'"), 1);
	/* the backend call: child of the handler's span through goroutine 9's parent 7 */
	assert_int_equal(q_int(db, "select count(*) from spans c join spans p on p.span_id=c.parent_id "
				   "where c.kind='client' and c.pid=300 and p.kind='server' and p.pid=300 "
				   "and c.trace_id=p.trace_id"), 1);
	assert_int_equal(q_int(db, "select value from parse_stats where name='go_round_trips_parented'"), 1);
	/* the backend's server span: child of that client span (both ends recorded) */
	assert_int_equal(q_int(db, "select count(*) from spans b join spans c on c.span_id=b.parent_id "
				   "where b.kind='server' and b.pid=400 and c.kind='client' and c.pid=300 "
				   "and b.trace_id=c.trace_id"), 1);
	assert_int_equal(q_int(db, "select value from parse_stats where name='peer_links'"), 1);
	bz_db_close(&db);
	unlink(c.path);
}

/* A UNIX stream CONN_OPEN as the recorder writes it (232 bytes). */
static void ev_open_unix(struct cap *c, uint64_t conn, uint8_t role, uint64_t ts, uint64_t est, uint32_t pid,
			 uint64_t ino, uint64_t peer_ino, uint32_t peer_pid, const char *path, size_t plen)
{
	struct bz_ev_conn_open e = { 0 };
	hdr(&e.h, BZ_EV_CONN_OPEN, sizeof(e), ts, pid, pid);
	e.conn_id = conn;
	e.established_ns = est;
	e.family = BZ_AF_UNIX;
	e.role = role;
	e.fd = 6;
	e.local_ino = ino;
	e.peer_ino = peer_ino;
	e.peer_pid = peer_pid;
	e.sock_type = BZ_SOCK_STREAM;
	e.path_from = role == BZ_ROLE_CONNECTED ? BZ_UNIX_PATH_PEER : BZ_UNIX_PATH_OWN;
	memcpy(e.path, path, plen);
	e.path_len = (uint16_t)plen;
	bz_buf_put(&c->ev, &e, sizeof(e));
	c->nev++;
}

/* A UNIX write wakes its reader, which may run first: gunicorn (600) reads
 * nginx's request, calls a backend and answers, all before nginx's
 * writev() returns, so its span is written before nginx's client span
 * opens.  The writes' DATA records say when their bytes were delivered
 * (format 1.8): nginx's request at 1.21, inside gunicorn's span, so the
 * client span takes it late, with its whole trace (the backend call too);
 * gunicorn's response at 1.45, before its write returned at 1.5: the span
 * ends there, inside nginx's read.  A second pair whose request was
 * delivered outside the written server span stays unlinked. */
static void test_unix_late_peer_link(void **state)
{
	static const char path[] = "/run/app.sock";
	struct cap c;
	struct bz_analysis_summary sum;
	const char *req = "GET /items/1 HTTP/1.0\r\nHost: app\r\n\r\n";
	const char *resp = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";

	cap_open(&c);
	cap_proc(&c, 500, "/usr/sbin/nginx", "nginx");
	cap_proc(&c, 600, "/usr/bin/python3", "gunicorn");
	ev_open_unix(&c, 1, BZ_ROLE_CONNECTED, T(1.0), T(1.0), 500, 7001, 7002, 600, path, sizeof(path));
	ev_open_unix(&c, 2, BZ_ROLE_ACCEPTED, T(1.1), T(1.0), 600, 7002, 7001, 500, path, sizeof(path));
	ev_data(&c, 2, BZ_DIR_IN, T(1.3), 0, T(1.21), 600, 600, req);
	ev_open(&c, 3, BZ_ROLE_CONNECTED, T(1.32), T(1.32), T(1.31), 50200, 6379, 600);
	ev_data(&c, 3, BZ_DIR_OUT, T(1.35), 0, 0, 600, 600, "GET /stock HTTP/1.1\r\nHost: down\r\n\r\n");
	ev_data(&c, 3, BZ_DIR_IN, T(1.4), 0, T(1.39), 600, 600, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
	ev_data(&c, 2, BZ_DIR_OUT, T(1.5), 0, T(1.45), 600, 600, resp);
	ev_close(&c, 2, T(1.52), 600);
	ev_data(&c, 1, BZ_DIR_OUT, T(1.55), 0, T(1.21), 500, 500, req);
	ev_data(&c, 1, BZ_DIR_IN, T(1.6), 0, T(1.45), 500, 500, resp);
	ev_close(&c, 1, T(1.7), 500);
	/* delivered at 2.9, after the server span [2.2, 2.5] it would take */
	ev_open_unix(&c, 4, BZ_ROLE_CONNECTED, T(2.0), T(2.0), 500, 7003, 7004, 600, path, sizeof(path));
	ev_open_unix(&c, 5, BZ_ROLE_ACCEPTED, T(2.1), T(2.0), 600, 7004, 7003, 500, path, sizeof(path));
	ev_data(&c, 5, BZ_DIR_IN, T(2.3), 0, T(2.2), 600, 600, req);
	ev_data(&c, 5, BZ_DIR_OUT, T(2.5), 0, 0, 600, 600, resp);
	ev_data(&c, 4, BZ_DIR_OUT, T(2.95), 0, T(2.9), 500, 500, req);
	ev_data(&c, 4, BZ_DIR_IN, T(3.0), 0, T(2.96), 500, 500, resp);
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);

	assert_int_equal(sum.session.read_status, 0);
	assert_int_equal(q_int(db, "select count(*) from spans s join spans n on n.span_id = s.parent_id "
				   "where s.kind='server' and s.conn_id=2 and n.kind='client' and n.conn_id=1 "
				   "and s.trace_id = n.trace_id"), 1);
	/* the backend call the server made moved to the client's trace with it */
	assert_int_equal(q_int(db, "select count(*) from spans b, spans n where b.conn_id=3 and n.conn_id=1 "
				   "and n.kind='client' and b.trace_id = n.trace_id"), 1);
	/* ... and its internal spans (the view derives them from the row) */
	assert_int_equal(q_int(db, "select count(*) from spans i join spans s on s.span_id = i.parent_id "
				   "where i.kind='internal' and s.conn_id=2 and i.trace_id = s.trace_id"), 2);
	assert_int_equal(q_int(db, "select value from parse_stats where name='peer_links_late'"), 1);
	assert_int_equal(q_int(db, "select value from parse_stats where name='peer_links'"), 1);
	/* the server span ends at its response's delivery, the client span starts at its request's */
	assert_int_equal(q_int(db, "select end_ns from spans where kind='server' and conn_id=2"), U(1.45));
	assert_int_equal(q_int(db, "select start_ns from spans where kind='client' and conn_id=1"), U(1.21));
	assert_int_equal(q_int(db, "select count(*) from spans s, spans n where s.conn_id=2 and s.kind='server' "
				   "and n.conn_id=1 and n.kind='client' and s.start_ns >= n.start_ns "
				   "and s.end_ns <= n.end_ns"), 1);
	/* no delivery inside the write said: its return */
	assert_int_equal(q_int(db, "select end_ns from spans where kind='server' and conn_id=5"), U(2.5));
	assert_int_equal(q_int(db, "select count(*) from spans where kind='server' and conn_id=5 "
				   "and parent_id is null"), 1);
	bz_db_close(&db);
	unlink(c.path);
}

/* The same over TLS on loopback, both ends OpenSSL users: the plaintext
 * records (SSL_read/SSL_write, stamped at their return) take the delivery
 * of the ciphertext write just before them, the one the call made. */
static void ev_ssl(struct cap *c, uint64_t conn, int dir, uint64_t ts, uint32_t pid, const char *s)
{
	size_t n = strlen(s);
	struct bz_ev_data e = { 0 };
	hdr(&e.h, BZ_EV_DATA, (uint16_t)(sizeof(e) + n), ts, pid, pid);
	e.conn_id = conn;
	e.ret = (int32_t)n;
	e.caplen = (uint16_t)n;
	e.dir = (uint8_t)dir;
	e.syscall = BZ_SYS_SSL;
	bz_buf_put(&c->ev, &e, sizeof(e));
	bz_buf_put(&c->ev, s, n);
	c->nev++;
}

static void test_tls_late_peer_link(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum;
	const char *req = "GET /items/1 HTTP/1.1\r\nHost: app\r\n\r\n";
	const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

	cap_open(&c);
	cap_proc(&c, 500, "/usr/bin/curl", "curl");
	cap_proc(&c, 600, "/usr/bin/python3", "server");
	ev_open(&c, 1, BZ_ROLE_CONNECTED, T(0.9), T(0.9), T(0.89), 50001, 8443, 500);
	ev_open_accepted_peer(&c, 2, T(0.95), T(0.9), 8443, 50001, 600); /* the reverse of connection 1 */
	/* the handshake */
	ev_data_cut(&c, 1, BZ_DIR_OUT, T(1.0), 0, T(0.99), 500, 500, "\x16\x03\x01\x02\x00", 5, 517);
	ev_data_cut(&c, 2, BZ_DIR_IN, T(1.02), 0, T(0.99), 600, 600, "\x16\x03\x01\x02\x00", 5, 517);
	ev_data_cut(&c, 2, BZ_DIR_OUT, T(1.05), 0, T(1.04), 600, 600, "\x16\x03\x03\x00\x7a", 5, 900);
	ev_data_cut(&c, 1, BZ_DIR_IN, T(1.06), 0, T(1.04), 500, 500, "\x16\x03\x03\x00\x7a", 5, 900);
	/* the server reads, answers: all before curl's SSL_write returns */
	ev_data_cut(&c, 2, BZ_DIR_IN, T(1.3), 0, T(1.21), 600, 600, "\x17\x03\x03", 3, 80);
	ev_ssl(&c, 2, BZ_DIR_IN, T(1.31), 600, req);
	ev_data_cut(&c, 2, BZ_DIR_OUT, T(1.5), 0, T(1.45), 600, 600, "\x17\x03\x03", 3, 70);
	ev_ssl(&c, 2, BZ_DIR_OUT, T(1.51), 600, resp);
	ev_data_cut(&c, 1, BZ_DIR_OUT, T(1.55), 0, T(1.21), 500, 500, "\x17\x03\x03", 3, 80);
	ev_ssl(&c, 1, BZ_DIR_OUT, T(1.56), 500, req);
	ev_data_cut(&c, 1, BZ_DIR_IN, T(1.6), 0, T(1.45), 500, 500, "\x17\x03\x03", 3, 70);
	ev_ssl(&c, 1, BZ_DIR_IN, T(1.61), 500, resp);
	ev_close(&c, 2, T(1.7), 600);
	ev_close(&c, 1, T(1.8), 500);
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);

	assert_int_equal(sum.session.read_status, 0);
	assert_int_equal(q_int(db, "select count(*) from spans s join spans n on n.span_id = s.parent_id "
				   "where s.kind='server' and s.conn_id=2 and n.kind='client' and n.conn_id=1 "
				   "and s.trace_id = n.trace_id"), 1);
	assert_int_equal(q_int(db, "select value from parse_stats where name='peer_links_late'"), 1);
	assert_int_equal(q_int(db, "select end_ns from spans where kind='server' and conn_id=2"), U(1.45));
	assert_int_equal(q_int(db, "select start_ns from spans where kind='client' and conn_id=1"), U(1.21));
	bz_db_close(&db);
	unlink(c.path);
}

/* nginx (pid 500) calls a gunicorn worker (pid 600) over a UNIX socket,
 * twice.  The first time the client's record does not know its peer's inode
 * (the server end had none when connect() returned) and the client opens
 * first; the second time the server's record comes first.  A third client
 * connection whose inodes disagree with the server's is not linked.  An
 * abstract name shows as "@name". */
static void test_unix_peer_link(void **state)
{
	static const char path[] = "/run/app.sock"; /* with its NUL, as the kernel stores it */
	struct cap c;
	struct bz_analysis_summary sum;
	const char *req = "GET /items/1 HTTP/1.0\r\nHost: app\r\n\r\n";
	const char *resp = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";

	cap_open(&c);
	cap_proc(&c, 500, "/usr/sbin/nginx", "nginx");
	cap_proc(&c, 600, "/usr/bin/python3", "gunicorn");
	ev_open_unix(&c, 1, BZ_ROLE_CONNECTED, T(1.0), T(1.0), 500, 7001, 0, 599, path, sizeof(path));
	ev_open_unix(&c, 2, BZ_ROLE_ACCEPTED, T(1.1), T(0.99), 600, 7002, 7001, 500, path, sizeof(path));
	ev_data(&c, 1, BZ_DIR_OUT, T(1.2), 0, 0, 500, 500, req);
	ev_data(&c, 2, BZ_DIR_IN, T(1.3), 0, T(1.21), 600, 600, req);
	ev_data(&c, 2, BZ_DIR_OUT, T(1.5), 0, 0, 600, 600, resp);
	ev_data(&c, 1, BZ_DIR_IN, T(1.6), 0, T(1.51), 500, 500, resp);
	ev_close(&c, 2, T(1.7), 600);
	ev_close(&c, 1, T(1.8), 500);
	/* the server end first, both inodes known on both ends */
	ev_open_unix(&c, 4, BZ_ROLE_ACCEPTED, T(2.1), T(2.0), 600, 7004, 7003, 500, path, sizeof(path));
	ev_open_unix(&c, 3, BZ_ROLE_PREEXISTING, T(2.15), 0, 500, 7003, 7004, 599, path, sizeof(path));
	ev_data(&c, 3, BZ_DIR_OUT, T(2.2), 0, 0, 500, 500, req);
	ev_data(&c, 4, BZ_DIR_IN, T(2.3), 0, T(2.21), 600, 600, req);
	ev_data(&c, 4, BZ_DIR_OUT, T(2.5), 0, 0, 600, 600, resp);
	ev_data(&c, 3, BZ_DIR_IN, T(2.6), 0, T(2.51), 500, 500, resp);
	/* a client whose peer inode says another server end: not linked */
	ev_open_unix(&c, 5, BZ_ROLE_CONNECTED, T(3.0), T(3.0), 500, 7005, 0, 599, "\0abstract", 9);
	ev_open_unix(&c, 6, BZ_ROLE_ACCEPTED, T(3.1), T(3.0), 600, 7006, 7099, 501, "\0abstract", 9);
	ev_data(&c, 5, BZ_DIR_OUT, T(3.2), 0, 0, 500, 500, req);
	ev_data(&c, 6, BZ_DIR_IN, T(3.3), 0, T(3.21), 600, 600, req);
	ev_data(&c, 6, BZ_DIR_OUT, T(3.5), 0, 0, 600, 600, resp);
	ev_data(&c, 5, BZ_DIR_IN, T(3.6), 0, T(3.51), 500, 500, resp);
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);

	assert_int_equal(sum.session.read_status, 0);
	assert_int_equal(q_int(db, "select count(*) from spans where kind='server'"), 3);
	assert_int_equal(q_int(db, "select count(*) from spans where kind='client'"), 3);
	assert_int_equal(q_int(db, "select count(*) from spans b join spans c on c.span_id=b.parent_id "
				   "where b.kind='server' and c.kind='client' and b.trace_id=c.trace_id"), 2);
	assert_int_equal(q_int(db, "select count(*) from spans where kind='server' and conn_id=6 "
				   "and parent_id is null"), 1);
	assert_int_equal(q_int(db, "select value from parse_stats where name='peer_links'"), 2);
	/* the connections' rows */
	assert_int_equal(q_int(db, "select count(*) from connections where family='unix' and local_port is null "
				   "and local_address is null and remote_port is null"), 6);
	assert_text(db, "select unix_path from connections where conn_id=2", "/run/app.sock");
	assert_text(db, "select unix_path from connections where conn_id=6", "@abstract");
	assert_int_equal(q_int(db, "select peer_inode from connections where conn_id=2"), 7001);
	assert_int_equal(q_int(db, "select count(*) from connections where conn_id=1 and peer_inode is null"), 1);
	assert_int_equal(q_int(db, "select peer_pid from connections where conn_id=2"), 500);
	assert_int_equal(q_int(db, "select local_inode from connections where conn_id=3"), 7003);
	/* OpenTelemetry's attributes */
	assert_int_equal(q_int(db, "select count(*) from spans s join span_attributes a using (span_id) "
				   "where s.kind in ('server','client') and a.key='network.transport' and a.value='unix'"), 6);
	assert_text(db, "select server_address from spans where kind='server' and conn_id=2", "/run/app.sock");
	assert_text(db, "select server_address from spans where kind='client' and conn_id=1", "/run/app.sock");
	assert_int_equal(q_int(db, "select count(*) from spans where kind='server' and conn_id=2 "
				   "and client_address is null and server_port is null"), 1);
	/* the queue: the request arrived at 1.21 ms, read at 1.3 */
	assert_int_equal(q_int(db, "select start_ns from spans where kind='server' and conn_id=2"), U(1.21));
	assert_int_equal(q_int(db, "select queue_ns from spans where kind='server' and conn_id=2"), U(1.3) - U(1.21));
	bz_db_close(&db);
	unlink(c.path);
}

/* A UNIX address from a capture as text: hostile bytes and lengths. */
static void test_unix_path_text(void **state)
{
	char out[64], big[4 * BZ_UNIX_PATH_MAX + 2], raw[200];

	assert_int_equal(bz_unix_path_text("/a.sock\0junk", 12, out, sizeof(out)), 7);
	assert_string_equal(out, "/a.sock");
	assert_int_equal(bz_unix_path_text("\0name\0x", 7, out, sizeof(out)), 10);
	assert_string_equal(out, "@name\\x00x");
	assert_int_equal(bz_unix_path_text("/\x01\\", 3, out, sizeof(out)), 9);
	assert_string_equal(out, "/\\x01\\x5c");
	assert_int_equal(bz_unix_path_text("", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* cut at the buffer, never past it; the length clamped to sun_path's */
	assert_int_equal(bz_unix_path_text("/abcdef", 7, out, 4), 3);
	assert_string_equal(out, "/ab");
	assert_int_equal(bz_unix_path_text("/\x01", 2, out, 4), 1);
	assert_string_equal(out, "/");
	memset(raw, 0xff, sizeof(raw));
	assert_int_equal(bz_unix_path_text(raw, 0xffff, big, sizeof(big)), 4 * BZ_UNIX_PATH_MAX);
	assert_int_equal(bz_unix_path_text(raw, 5, out, 1), 0);
}

/* A TCP CONN_OPEN of a minor-4 writer (96 bytes) reads as it did: no
 * UNIX fields, no UNIX columns. */
static void test_conn_open_96_bytes(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum;
	struct bz_ev_conn_open e = { 0 };

	cap_open(&c);
	cap_proc(&c, 300, "/srv/api", "api");
	hdr(&e.h, BZ_EV_CONN_OPEN, BZ_CONN_OPEN_INET_SIZE, T(1.0), 300, 300);
	e.conn_id = 1;
	e.family = BZ_AF_INET;
	e.local_port = 8080;
	e.remote_port = 40000;
	e.role = BZ_ROLE_ACCEPTED;
	e.local_addr[0] = 127, e.local_addr[3] = 1;
	e.remote_addr[0] = 127, e.remote_addr[3] = 1;
	bz_buf_put(&c.ev, &e, BZ_CONN_OPEN_INET_SIZE);
	c.nev++;
	ev_data(&c, 1, BZ_DIR_IN, T(1.2), 0, T(1.1), 300, 300, "GET / HTTP/1.0\r\n\r\n");
	ev_data(&c, 1, BZ_DIR_OUT, T(1.3), 0, 0, 300, 300, "HTTP/1.0 204 No Content\r\n\r\n");
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);

	assert_int_equal(sum.session.read_status, 0);
	assert_text(db, "select family || ' ' || local_port || ' ' || remote_address from connections", "ipv4 8080 127.0.0.1");
	assert_int_equal(q_int(db, "select count(*) from connections where unix_path is null and local_inode is null "
				   "and peer_inode is null and peer_pid is null"), 1);
	assert_int_equal(q_int(db, "select count(*) from span_attributes where key='network.transport'"), 0);
	bz_db_close(&db);
	unlink(c.path);
}

/* ---- HTTP/2 frames, for the Go handler and peer link tests ----------------- */

struct h2b {
	char b[2048];
	size_t n;
};

static void h2_put(struct h2b *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->b));
	if (n)
		memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void h2_frame(struct h2b *b, uint8_t type, uint8_t flags, uint32_t sid, const void *p, size_t n)
{
	uint8_t h[9] = { (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
			 (uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid };
	h2_put(b, h, 9);
	h2_put(b, p, n);
}

/* HEADERS (END_HEADERS | END_STREAM) of a request: :method GET and :scheme
 * http from the static table, :path as a literal without indexing. */
static void h2_get(struct h2b *b, uint32_t sid, const char *path)
{
	uint8_t blk[256];
	size_t n = 0, pl = strlen(path);
	blk[n++] = 0x82; /* :method GET */
	blk[n++] = 0x86; /* :scheme http */
	blk[n++] = 0x04; /* :path, literal value */
	blk[n++] = (uint8_t)pl;
	memcpy(blk + n, path, pl);
	n += pl;
	h2_frame(b, 1, 0x05, sid, blk, n);
}

/* A response: HEADERS :status 200, then DATA with END_STREAM. */
static void h2_ok(struct h2b *b, uint32_t sid, const char *body)
{
	h2_frame(b, 1, 0x04, sid, "\x88", 1);
	h2_frame(b, 0, 0x01, sid, body, strlen(body));
}

/* A handler START of an HTTP/2 request: GET, client address, URL path, and
 * the stream id after the strings (none when stream is 0, as for HTTP/1). */
static void ev_go_h2_start(struct cap *c, uint64_t ts, uint32_t pid, uint64_t goid, const char *remote,
			   const char *path, uint32_t stream)
{
	struct bz_ev_go_handler e = { 0 };
	size_t rl = strlen(remote), pl = strlen(path), sl = stream ? BZ_GO_HANDLER_STREAM_LEN : 0;
	uint8_t le[4] = { (uint8_t)stream, (uint8_t)(stream >> 8), (uint8_t)(stream >> 16), (uint8_t)(stream >> 24) };
	hdr(&e.h, BZ_EV_GO_HANDLER, (uint16_t)(sizeof(e) + 3 + rl + pl + sl), ts, pid, pid);
	e.goid = goid;
	e.phase = BZ_GO_START;
	e.method_len = 3;
	e.remote_len = (uint16_t)rl;
	e.path_len = (uint16_t)pl;
	bz_buf_put(&c->ev, &e, sizeof(e));
	bz_buf_put(&c->ev, "GET", 3);
	bz_buf_put(&c->ev, remote, rl);
	bz_buf_put(&c->ev, path, pl);
	bz_buf_put(&c->ev, le, sl);
	c->nev++;
}

/* A Go HTTP/2 server (h2c, pid 500): six requests arrive in one read and
 * their handlers start in another order, as Go's scheduler may run them.
 * Each start names its stream (two ask for the same path: only the stream
 * tells them apart), but one start has no stream id (paired by its
 * percent-decoded path) and one matches nothing (the oldest left).  Each
 * span must get its own handler's run. */
static void test_go_h2_handlers_by_stream(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum;
	struct h2b in = { 0 }, out;
	static const struct { uint32_t sid; const char *path; } req[] = {
		{ 1, "/slow/1" }, { 3, "/fast" }, { 5, "/a%20b" }, { 7, "/same" }, { 9, "/same" }, { 11, "/order" },
	};
	/* goroutine, stream it names, Go's URL.Path, start and end (ms) */
	static const struct { uint64_t goid; uint32_t sid; const char *path; double start, end; } run[] = {
		{ 20, 3, "/fast", 1.1, 2.0 },	  { 21, 9, "/same", 1.2, 3.0 },	      { 22, 0, "/a b", 1.3, 4.0 },
		{ 23, 1, "/slow/1", 1.4, 5.0 }, { 24, 7, "/same", 1.5, 6.0 },	      { 25, 0, "/elsewhere", 1.6, 7.0 },
	};
	static const uint32_t answered[] = { 3, 9, 5, 1, 7, 11 }; /* in the order of run[] */

	cap_open(&c);
	cap_proc(&c, 500, "/srv/h2api", "h2api");
	ev_open(&c, 1, BZ_ROLE_ACCEPTED, T(0.5), T(0.4), 0, 8080, 50002, 500);
	h2_put(&in, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	h2_frame(&in, 4, 0, 0, "", 0); /* SETTINGS */
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		h2_get(&in, req[i].sid, req[i].path);
	ev_data_cut(&c, 1, BZ_DIR_IN, T(1.0), T(0.9), T(0.8), 500, 501, in.b, in.n, (int32_t)in.n);
	out.n = 0;
	h2_frame(&out, 4, 0, 0, "", 0);	   /* the server's SETTINGS */
	h2_frame(&out, 4, 0x01, 0, "", 0); /* and its ACK */
	ev_data_cut(&c, 1, BZ_DIR_OUT, T(1.05), 0, 0, 500, 501, out.b, out.n, (int32_t)out.n);
	for (size_t i = 0; i < sizeof(run) / sizeof(run[0]); i++)
		ev_go_h2_start(&c, T(run[i].start), 500, run[i].goid, "10.0.0.7:50002", run[i].path, run[i].sid);
	for (size_t i = 0; i < sizeof(run) / sizeof(run[0]); i++) {
		ev_go_handler(&c, T(run[i].end), 500, run[i].goid, BZ_GO_END, 200, NULL);
		out.n = 0;
		h2_ok(&out, answered[i], "ok");
		ev_data_cut(&c, 1, BZ_DIR_OUT, T(run[i].end + 0.1), 0, 0, 500, 501 + (uint32_t)i, out.b, out.n,
			    (int32_t)out.n);
	}
	ev_close(&c, 1, T(9.0), 500);
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);

	assert_int_equal(sum.session.read_status, 0);
	assert_int_equal(q_int(db, "select count(*) from spans where kind='server' and protocol_version='2' "
				   "and http_status_code=200 and incomplete=0"), 6);
	/* each span: processing from its own handler's start, its run time */
	static const struct { int index; int64_t start_after_arrival, handler; } want[] = {
		{ 0, MS(0.6), MS(3.6) }, /* /slow/1: goroutine 23 */
		{ 1, MS(0.3), MS(0.9) }, /* /fast: 20 */
		{ 2, MS(0.5), MS(2.7) }, /* /a%20b: 22, by its decoded path */
		{ 3, MS(0.7), MS(4.5) }, /* /same on stream 7: 24 */
		{ 4, MS(0.4), MS(1.8) }, /* /same on stream 9: 21 */
		{ 5, MS(0.8), MS(5.4) }, /* /order: 25, the oldest left */
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char sql[256];
		snprintf(sql, sizeof(sql), "select queue_ns from spans where kind='server' and request_index=%d",
			 want[i].index);
		assert_int_equal(q_int(db, sql), want[i].start_after_arrival);
		snprintf(sql, sizeof(sql),
			 "select cast(value as integer) from span_attributes a join spans s using (span_id) "
			 "where s.kind='server' and s.request_index=%d and a.key='beyla.go.handler_ns'",
			 want[i].index);
		assert_int_equal(q_int(db, sql), want[i].handler);
	}
	assert_int_equal(q_int(db, "select value from parse_stats where name='go_h2_handlers_by_stream'"), 4);
	assert_int_equal(q_int(db, "select value from parse_stats where name='go_h2_handlers_by_path'"), 1);
	assert_int_equal(q_int(db, "select value from parse_stats where name='go_h2_handlers_by_order'"), 1);
	assert_int_equal(q_int(db, "select value from parse_stats where name='go_handler_ends_matched'"), 6);
	bz_db_close(&db);
	unlink(c.path);
}

/* An h2c server reads the client preface in pieces: "PRI * HTTP/2.0" and
 * the rest, as Go's does, or one byte at a time (each read is a DATA record
 * of its own, the first ones not frame by frame: the recorder knows the
 * connection is HTTP/2 only once the preface is whole).  The protocol must
 * be picked from all of them, not from the first piece; and a first read
 * that only looks like the preface's beginning ("P" of "POST") must still
 * reach the HTTP/1 parser whole. */
static void preface_in_pieces(const size_t *cuts, size_t ncuts)
{
	struct cap c;
	struct bz_analysis_summary sum;
	struct h2b in = { 0 }, out = { 0 };
	size_t at = 0;

	cap_open(&c);
	cap_proc(&c, 500, "/srv/h2api", "h2api");
	ev_open(&c, 1, BZ_ROLE_ACCEPTED, T(0.5), T(0.4), 0, 8080, 50002, 500);
	for (size_t i = 0; i < ncuts; i++) {
		const char *pre = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
		ev_data_cut(&c, 1, BZ_DIR_IN, T(1.0) + i, 0, T(0.9), 500, 501, pre + at, cuts[i],
			    (int32_t)cuts[i]);
		at += cuts[i];
	}
	assert_int_equal(at, 24);
	h2_frame(&in, 4, 0, 0, "", 0); /* SETTINGS */
	h2_get(&in, 1, "/one");
	h2_get(&in, 3, "/two");
	ev_data_cut(&c, 1, BZ_DIR_IN, T(1.1), 0, T(1.05), 500, 501, in.b, in.n, (int32_t)in.n);
	h2_frame(&out, 4, 0, 0, "", 0);
	h2_ok(&out, 1, "one");
	h2_ok(&out, 3, "two");
	ev_data_cut(&c, 1, BZ_DIR_OUT, T(1.2), 0, 0, 500, 501, out.b, out.n, (int32_t)out.n);
	ev_close(&c, 1, T(2.0), 500);
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);

	assert_int_equal(sum.session.read_status, 0);
	assert_int_equal(q_int(db, "select count(*) from spans where kind='server' and protocol_version='2' "
				   "and http_status_code=200 and url_path in ('/one', '/two') and incomplete=0"), 2);
	assert_int_equal(q_int(db, "select count(*) from connections where protocol='http/2'"), 1);
	bz_db_close(&db);
	unlink(c.path);
}

static void test_preface_in_two_reads(void **state)
{
	static const size_t cuts[] = { 14, 10 }; /* Go's h2c server */
	(void)state;
	preface_in_pieces(cuts, 2);
}

static void test_preface_byte_by_byte(void **state)
{
	size_t cuts[24];
	(void)state;
	for (size_t i = 0; i < 24; i++)
		cuts[i] = 1;
	preface_in_pieces(cuts, 24);
}

static void test_preface_lookalike_is_http1(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum;
	(void)state;

	cap_open(&c);
	cap_proc(&c, 500, "/srv/api", "api");
	ev_open(&c, 1, BZ_ROLE_ACCEPTED, T(0.5), T(0.4), 0, 8080, 50002, 500);
	/* "P", then the rest of a POST: held while it could be the preface */
	ev_data(&c, 1, BZ_DIR_IN, T(1.0), 0, T(0.9), 500, 501, "P");
	ev_data(&c, 1, BZ_DIR_IN, T(1.1), 0, T(1.05), 500, 501,
		"OST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
	ev_data(&c, 1, BZ_DIR_OUT, T(1.2), 0, 0, 500, 501, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	/* and a connection that ends while its only bytes are held */
	ev_open(&c, 2, BZ_ROLE_ACCEPTED, T(1.5), T(1.4), 0, 8080, 50003, 500);
	ev_data(&c, 2, BZ_DIR_IN, T(1.6), 0, T(1.55), 500, 501, "PRI * HT");
	ev_close(&c, 2, T(1.7), 500);
	ev_close(&c, 1, T(2.0), 500);
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);

	assert_int_equal(sum.session.read_status, 0);
	assert_int_equal(q_int(db, "select count(*) from spans where kind='server' and http_method='POST' "
				   "and url_path='/orders' and http_status_code=201 and request_body_size=2 "
				   ), 1);
	assert_int_equal(q_int(db, "select count(*) from connections where conn_id=2 and bytes_in=8"), 1);
	bz_db_close(&db);
	unlink(c.path);
}

/* ---- the kernel's waits (BZ_EV_RX_ARRIVAL, BZ_EV_PEER_RX) --------------- */

static void ev_rx_arrival(struct cap *c, uint64_t conn, uint64_t ready, uint64_t host, uint32_t pid)
{
	struct bz_ev_rx_arrival e = { 0 };
	hdr(&e.h, BZ_EV_RX_ARRIVAL, sizeof(e), ready, pid, 0);
	e.conn_id = conn;
	e.host_ns = host;
	bz_buf_put(&c->ev, &e, sizeof(e));
	c->nev++;
}

static void ev_peer_rx(struct cap *c, uint64_t conn, uint64_t ts, uint64_t bytes, uint32_t pid)
{
	struct bz_ev_peer_rx e = { 0 };
	hdr(&e.h, BZ_EV_PEER_RX, sizeof(e), ts, pid, 0);
	e.conn_id = conn;
	e.bytes_out = bytes;
	bz_buf_put(&c->ev, &e, sizeof(e));
	c->nev++;
}

/* An accepted connection whose peer is on this host (CONN_OPEN flag). */
static void ev_open_local_peer(struct cap *c, uint64_t conn, uint64_t ts, uint16_t rport, uint32_t pid)
{
	struct bz_ev_conn_open e = { 0 };
	hdr(&e.h, BZ_EV_CONN_OPEN, BZ_CONN_OPEN_INET_SIZE, ts, pid, pid);
	e.conn_id = conn;
	e.established_ns = ts - MS(0.01);
	e.family = BZ_AF_INET;
	e.local_port = 8080;
	e.remote_port = rport;
	e.role = BZ_ROLE_ACCEPTED;
	e.flags = BZ_CONN_F_PEER_LOCAL;
	e.fd = 5;
	e.local_addr[0] = e.remote_addr[0] = 127;
	e.local_addr[3] = e.remote_addr[3] = 1;
	bz_buf_put(&c->ev, &e, BZ_CONN_OPEN_INET_SIZE);
	c->nev++;
}

#define KW_RESP "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" /* 40 bytes */

/* The rules of docs/analysis.md, "Server span": a request that entered
 * the host before its socket was told starts there (rx_backlog_ns, part of
 * queue_ns; no RX_ARRIVAL: a wait too short to write, 0); a response ends
 * when the peer's socket had its last byte, counted in bytes written
 * (tx_queue_ns, the "in send queue" child), which may be reported before
 * the write returned (0), after it (the span waits for it, off its thread),
 * or not at all (the recorder writes no record for a delivery inside the
 * server's write: 0, at the next request or the connection's end); queue +
 * processing + tx_queue = duration. */
static void test_kernel_waits(void **state)
{
	(void)state;
	struct cap c;
	struct bz_analysis_summary sum;
	cap_kwaits = 1;
	cap_open(&c);
	cap_kwaits = 0;
	cap_proc(&c, 100, "/srv/app", "app");
	ev_open_local_peer(&c, 1, T(0.1), 50000, 100);
	/* request 0: arrived at the host 0.9 ms before data_ready; its
	 * response delivered inside the write (PEER_RX before it returned) */
	ev_rx_arrival(&c, 1, T(1.0), T(0.1), 100);
	ev_data(&c, 1, BZ_DIR_IN, T(1.2), 0, T(1.0), 100, 101, "GET /a HTTP/1.1\r\n\r\n");
	ev_peer_rx(&c, 1, T(2.9), 40, 100);
	ev_data(&c, 1, BZ_DIR_OUT, T(3.0), 0, 0, 100, 101, KW_RESP);
	/* request 1: its response delivered 40 ms after its last write (the
	 * head and body in two writes, a Nagle hold) */
	ev_rx_arrival(&c, 1, T(5.0), T(4.5), 100);
	ev_data(&c, 1, BZ_DIR_IN, T(5.1), 0, T(5.0), 100, 101, "GET /b HTTP/1.1\r\n\r\n");
	ev_data(&c, 1, BZ_DIR_OUT, T(6.0), 0, 0, 100, 101, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
	ev_peer_rx(&c, 1, T(6.0) - 1000, 78, 100); /* the head, inside its write */
	ev_data(&c, 1, BZ_DIR_OUT, T(6.5), 0, 0, 100, 101, "ok");
	ev_peer_rx(&c, 1, T(46.5), 80, 100);
	/* request 2: no delivery reported before the client asked again (inside
	 * its write: 0), no RX_ARRIVAL (shorter than 20 us: 0) */
	ev_data(&c, 1, BZ_DIR_IN, T(50.0), 0, T(49.0), 100, 101, "GET /c HTTP/1.1\r\n\r\n");
	ev_data(&c, 1, BZ_DIR_OUT, T(51.0), 0, 0, 100, 101, KW_RESP);
	/* request 3: answered, then the connection closes with no delivery */
	ev_rx_arrival(&c, 1, T(60.0), T(60.0), 100);
	ev_data(&c, 1, BZ_DIR_IN, T(60.2), 0, T(60.0), 100, 101, "GET /d HTTP/1.1\r\n\r\n");
	ev_data(&c, 1, BZ_DIR_OUT, T(61.0), 0, 0, 100, 101, KW_RESP);
	ev_close(&c, 1, T(70.0), 100);
	/* a connection whose peer is elsewhere: no waiting, no tx part */
	ev_open(&c, 2, BZ_ROLE_ACCEPTED, T(80.0), T(79.9), 0, 8080, 50001, 100);
	ev_rx_arrival(&c, 2, T(81.0), T(80.5), 100);
	ev_data(&c, 2, BZ_DIR_IN, T(81.1), 0, T(81.0), 100, 101, "GET /e HTTP/1.1\r\n\r\n");
	ev_data(&c, 2, BZ_DIR_OUT, T(82.0), 0, 0, 100, 101, KW_RESP);
	ev_close(&c, 2, T(83.0), 100);
	cap_close(&c, 1);

	struct bz_db *db = analyse(c.path, &sum);
	assert_text(db,
		    "SELECT group_concat(printf('%s|%s|%s|%s|%s|%s|%s|%s', url_path, duration_ns, queue_ns, rx_backlog_ns,"
		    " recv_queue_ns, processing_ns, tx_queue_ns, incomplete), ' ')"
		    " FROM (SELECT * FROM span_rows WHERE kind = 'server' ORDER BY start_ns)",
		    /* queue: the host arrival to the read's return (no syscall
		     * start recorded), of which rx_backlog to data_ready */
		    "/a|2900000|1100000|900000|200000|1800000|0|0 "
		    "/b|42000000|600000|500000|100000|1400000|40000000|0 "
		    "/c|2000000|1000000|0|1000000|1000000|0|0 "
		    "/d|1000000|200000|0|200000|800000|0|0 "
		    "/e|1500000|600000|500000|100000|900000||0");
	/* the parts tile every span */
	assert_int_equal(q_int(db, "SELECT count(*) FROM span_rows WHERE kind = 'server' AND"
				   " queue_ns + processing_ns + coalesce(tx_queue_ns, 0) != duration_ns"), 0);
	/* the third child, only where the response waited */
	assert_text(db, "SELECT group_concat(printf('%s|%s|%s|%s', p.url_path, s.name, s.duration_ns,"
			" s.end_ns = p.end_ns), ' ') FROM spans s JOIN span_rows p ON p.span_id = s.parent_id"
			" WHERE s.name = 'in send queue'",
		    "/b|in send queue|40000000|1");
	assert_int_equal(q_int(db, "SELECT count(*) FROM spans WHERE kind = 'internal'"), 11);
	assert_int_equal(q_int(db, "SELECT value FROM parse_stats WHERE name = 'spans_internal'"), 11);
	assert_int_equal(q_int(db, "SELECT value FROM parse_stats WHERE name = 'kw_rx_found'"), 4);
	assert_int_equal(q_int(db, "SELECT value FROM parse_stats WHERE name = 'kw_rx_short'"), 1);
	assert_int_equal(q_int(db, "SELECT value FROM parse_stats WHERE name = 'kw_tx_found'"), 2);
	assert_int_equal(q_int(db, "SELECT value FROM parse_stats WHERE name = 'kw_tx_inline'"), 2);
	assert_int_equal(q_int(db, "SELECT value FROM parse_stats WHERE name = 'kw_tx_unknown'"), 0);
	/* route_stats sums the parts */
	assert_text(db, "SELECT printf('%s|%s|%s', requests, rx_backlog_ns, tx_queue_ns) FROM service_stats"
			" WHERE kind = 'server'",
		    "5|1900000|40000000");
	assert_text(db, "SELECT printf('%s|%s|%s', route, rx_backlog_ns, tx_queue_ns) FROM route_stats"
			" WHERE route = '/e'",
		    "/e|500000|");
	bz_db_close(&db);
	unlink(c.path);
}

static void test_server_and_client_spans(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum;
	build_shop(&c);
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);

	assert_int_equal(sum.session.read_status, 0);
	assert_int_equal(sum.spans.server, 3);
	assert_int_equal(sum.spans.client, 1);
	assert_int_equal(sum.spans.incomplete, 1);
	assert_int_equal(q_int(db, "select count(*) from spans where kind='internal'"), 6);
	/* the view's children: stored nowhere, found by their own id, by their
	 * parent's, and by trace, like stored spans */
	assert_int_equal(q_int(db, "select count(*) from span_rows"), 4);
	assert_int_equal(q_int(db, "select count(*) from span_rows where kind not in ('server', 'client')"), 0);
	assert_int_equal(q_int(db, "select count(*) from span_rows s join spans q on q.span_id = (s.span_id | 1)"
				   " join spans p on p.span_id = (s.span_id | 2)"
				   " where s.kind = 'server' and q.name = 'in queue' and p.name = 'processing'"
				   " and q.parent_id = s.span_id and p.parent_id = s.span_id"
				   " and q.trace_id = s.trace_id and p.trace_id = s.trace_id"
				   " and q.end_ns = p.start_ns and q.duration_ns + p.duration_ns = s.duration_ns"),
			 3);
	assert_int_equal(q_int(db, "select count(*) from spans where parent_id in"
				   " (select span_id from span_rows where kind = 'server') and kind = 'internal'"),
			 6);
	assert_int_equal(q_int(db, "select count(*) from spans s where kind = 'server' and 3 <>"
				   " (select count(*) from spans t where t.trace_id = s.trace_id and t.kind <> 'client')"),
			 0);
	assert_int_equal(q_int(db, "select count(*) from span_attributes where key = 'url.scheme'"), 4);
	assert_int_equal(q_int(db, "select count(*) from span_attribute_rows where key = 'url.scheme'"), 0);

	/* first request: starts when the connection was established */
	const char *s1 = "select %s from spans where kind='server' and request_index=0";
	char sql[512];
#define S1(col) (snprintf(sql, sizeof(sql), s1, col), sql)
	assert_int_equal(q_int(db, S1("start_ns")), U(0.1));
	assert_int_equal(q_int(db, S1("end_ns")), U(2.0));
	assert_int_equal(q_int(db, S1("queue_ns")), MS(0.3));        /* 0.1 -> read entered 0.4 */
	assert_int_equal(q_int(db, S1("accept_queue_ns")), MS(0.2)); /* 0.1 -> accepted 0.3 */
	assert_int_equal(q_int(db, S1("recv_queue_ns")), MS(0.1));   /* accepted 0.3 -> read 0.4 */
	assert_int_equal(q_int(db, S1("processing_ns")), MS(1.6));
	assert_text(db, S1("name"), "GET /users/{id}");
	assert_text(db, S1("http_route"), "/users/{id}");
	assert_text(db, S1("url_path"), "/users/42");
	assert_text(db, S1("url_query"), "token=REDACTED&x");
	assert_text(db, S1("status"), "error");
	assert_int_equal(q_int(db, S1("http_status_code")), 500);
	assert_text(db, S1("server_address"), "shop.example");
	assert_int_equal(q_int(db, S1("server_port")), 8080);
	assert_text(db, S1("client_address"), "10.0.0.7");
	assert_int_equal(q_int(db, S1("client_port")), 50000);
	assert_text(db, S1("user_agent"), "curl/8");
	assert_text(db, S1("protocol_version"), "1.1");
	assert_text(db, S1("service_name"), "shop");
	assert_int_equal(q_int(db, S1("response_body_size")), 5);
	assert_int_equal(q_int(db, S1("pid")), 100);
	assert_int_equal(q_int(db, S1("tid")), 101);
	assert_text(db, "select value from span_attributes a join spans s using (span_id)"
			" where s.kind='server' and s.request_index=0 and a.key='error.type'", "500");

	/* second request: arrival -> read entered */
	const char *s2 = "select %s from spans where kind='server' and request_index=1";
#define S2(col) (snprintf(sql, sizeof(sql), s2, col), sql)
	assert_int_equal(q_int(db, S2("start_ns")), U(2.5));
	assert_int_equal(q_int(db, S2("queue_ns")), MS(0.3));
	assert_int_equal(q_int(db, S2("recv_queue_ns")), MS(0.3));
	assert_int_equal(q_int(db, S2("accept_queue_ns")), 0);
	assert_int_equal(q_int(db, S2("request_body_size")), 4);
	assert_text(db, S2("status"), "ok");
	assert_text(db, S2("name"), "POST /users");

	/* third: no response */
	assert_int_equal(q_int(db, "select incomplete from spans where kind='server' and request_index=2"), 1);
	assert_text(db, "select status from spans where kind='server' and request_index=2", "unset");
	assert_int_equal(q_int(db, "select end_ns from spans where kind='server' and request_index=2"), U(5.0));

	/* every server span: queue + processing == duration, children tile it */
	assert_int_equal(q_int(db, "select count(*) from spans where kind='server'"
				   " and queue_ns + processing_ns <> duration_ns"), 0);
	assert_int_equal(q_int(db, "select count(*) from spans s"
				   " join spans q on q.parent_id = s.span_id and q.name = 'in queue'"
				   " join spans p on p.parent_id = s.span_id and p.name = 'processing'"
				   " where s.kind = 'server' and q.start_ns = s.start_ns and q.end_ns = p.start_ns"
				   " and p.end_ns = s.end_ns and q.duration_ns = s.queue_ns"
				   " and p.duration_ns = s.processing_ns and q.trace_id = s.trace_id"), 3);

	/* the client span: child of the first server span, same trace */
	const char *c1 = "select %s from spans where kind='client'";
#define C1(col) (snprintf(sql, sizeof(sql), c1, col), sql)
	assert_int_equal(q_int(db, C1("start_ns")), U(0.75));
	assert_int_equal(q_int(db, C1("end_ns")), U(1.5));
	assert_int_equal(q_int(db, C1("connect_ns")), MS(0.05));
	assert_text(db, C1("status"), "error");
	assert_text(db, C1("name"), "GET /api/items/{id}");
	assert_text(db, C1("server_address"), "backend");
	assert_int_equal(q_int(db, C1("server_port")), 9000);
	assert_int_equal(q_int(db, "select count(*) from spans c join spans s on c.parent_id = s.span_id"
				   " and c.trace_id = s.trace_id where c.kind='client' and s.kind='server'"
				   " and s.request_index = 0"), 1);
	assert_int_equal(q_int(db, "select count(distinct trace_id) from spans"), 3);

	/* the rest of the database */
	assert_int_equal(q_int(db, "pragma user_version"), BZ_SCHEMA_VERSION);
	assert_int_equal(q_int(db, "select complete from capture"), 1);
	assert_int_equal(q_int(db, "select start_ns from capture"), U(0));
	assert_text(db, "select stop_reason from capture", "duration");
	assert_text(db, "select service_name from processes where pid=100", "shop");
	assert_text(db, "select cmdline from processes where pid=100", "app --port 8080");
	assert_text(db, "select protocol from connections where conn_id=3", "tls"); /* a ClientHello: TLS, not parsed without plaintext */
	assert_text(db, "select protocol from connections where conn_id=1", "http/1");
	assert_text(db, "select http_role from connections where conn_id=2", "client");
	assert_int_equal(q_int(db, "select closed_ns from connections where conn_id=2"), U(1.6));
	assert_int_equal(q_int(db, "select lost from drops where probe='recv'"), 2);
	assert_int_equal(q_int(db, "select value from parse_stats where name='conns_non_http'"), 0);
	assert_int_equal(q_int(db, "select value from parse_stats where name='tls_conns_opaque'"), 1);
	assert_int_equal(q_int(db, "select value from parse_stats where name='parent_links'"), 1);
	assert_int_equal(q_int(db, "select requests from route_stats where route='/users/{id}'"), 1);
	assert_int_equal(q_int(db, "select errors from route_stats where route='/users/{id}'"), 1);
	assert_int_equal(q_int(db, "select p99_ns from route_stats where route='/users/{id}'"), MS(1.9));

	bz_db_close(&db);
	unlink(c.path);
}

static void test_ids_stable(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum;
	const char *ids = "select group_concat(span_id || ':' || trace_id || ':' || ifnull(parent_id, '-'), ',')"
			  " from (select * from spans order by span_id)";
	build_shop(&c);
	cap_close(&c, 1);
	struct bz_db *a = analyse(c.path, &sum), *b = analyse(c.path, &sum);
	char *ia = q_text(a, ids), *ib = q_text(b, ids);
	assert_non_null(ia);
	assert_string_equal(ia, ib);
	assert_int_equal(q_int(a, "select count(distinct span_id) from spans"), 10);
	char *da = dump(a), *dbb = dump(b);
	assert_string_equal(da, dbb);
	/* the dump is relative and label-based */
	assert_non_null(strstr(da, "#1 server \"GET /users/{id}\" t=+0.100ms dur=1.900ms queue=0.300ms"));
	assert_non_null(strstr(da, "client \"GET /api/items/{id}\" t=+0.750ms"));
	assert_non_null(strstr(da, "incomplete\n"));
	free(ia);
	free(ib);
	free(da);
	free(dbb);
	bz_db_close(&a);
	bz_db_close(&b);
	unlink(c.path);
}

static void test_truncated_capture(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum;
	build_shop(&c);
	cap_close(&c, 1);
	/* Cut the file in its second frame: the first frame's request
	 * remains, incomplete. */
	FILE *f = fopen(c.path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fclose(f);
	assert_int_equal(truncate(c.path, size - 40), 0);
	struct bz_db *db = analyse(c.path, &sum);
	assert_int_equal(sum.session.read_status, BZ_READ_TRUNCATED);
	assert_int_equal(q_int(db, "select truncated from capture"), 1);
	assert_int_equal(q_int(db, "select complete from capture"), 0);
	assert_true(q_int(db, "select count(*) from spans where kind='server'") >= 1);
	assert_int_equal(q_int(db, "select count(*) from spans where kind='server'"
				   " and queue_ns + processing_ns <> duration_ns"), 0);
	bz_db_close(&db);

	/* no END block: complete parts, flagged truncated */
	build_shop(&c);
	cap_close(&c, 0);
	db = analyse(c.path, &sum);
	assert_int_equal(sum.session.read_status, 0);
	assert_false(sum.session.saw_end);
	assert_int_equal(q_int(db, "select truncated from capture"), 1);
	assert_int_equal(sum.spans.server, 3);
	bz_db_close(&db);
	unlink(c.path);
}

/* A PROC block with TLS_LIB options: lib, source, flags and a path each
 * (lib BZ_TLS_NONE alone: looked, none found). */
static void cap_proc_tls(struct cap *c, uint32_t pid, const char *exe, int nlibs, const unsigned *libs,
			 const char *const *paths)
{
	struct bz_buf b = { 0 };
	bz_buf_put_u32(&b, pid);
	bz_buf_put_u32(&b, 1);
	bz_buf_put_u64(&b, MONO0);
	bz_buf_put_u32(&b, BZ_PF_AT_START);
	bz_buf_put_u32(&b, 0);
	bz_buf_opt_str(&b, BZ_PR_EXE, exe);
	for (int i = 0; i < nlibs; i++) {
		uint8_t v[256] = { (uint8_t)libs[3 * i], (uint8_t)libs[3 * i + 1], (uint8_t)libs[3 * i + 2], 0 };
		size_t n = strlen(paths[i]);
		memcpy(v + 4, paths[i], n);
		bz_buf_opt(&b, BZ_PR_TLS_LIB, v, (uint32_t)(4 + n));
	}
	assert_int_equal(bz_writer_block(c->w, BZ_BLK_PROC, b.data, b.len), 0);
	bz_buf_free(&b);
}

static const char client_hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x60\xa8";
static const char server_hello[] = "\x16\x03\x03\x00\x6c\x02\x00\x00\x68\x03\x03\x2f\xa0";

/* An accepted connection with a TLS handshake and no plaintext. */
static void tls_conn(struct cap *c, uint64_t conn, uint32_t pid, double t0, int close)
{
	ev_open(c, conn, BZ_ROLE_ACCEPTED, T(t0), T(t0 - 0.1), 0, 443, (uint16_t)(50000 + conn), pid);
	ev_data_cut(c, conn, BZ_DIR_IN, T(t0 + 0.1), 0, T(t0 + 0.05), pid, pid, client_hello, sizeof(client_hello) - 1, 517);
	ev_data_cut(c, conn, BZ_DIR_OUT, T(t0 + 0.2), 0, 0, pid, pid, server_hello, sizeof(server_hello) - 1, 1223);
	ev_data_cut(c, conn, BZ_DIR_IN, T(t0 + 0.3), 0, T(t0 + 0.25), pid, pid, "\x17\x03\x03\x00\x45", 5, 74);
	if (close)
		ev_close(c, conn, T(t0 + 0.5), pid);
}

/* Connections no parser recognised: classified by their first bytes;
 * the encrypted ones counted by what would record their plaintext, from
 * the TLS libraries the PROC blocks name (also for a process that exited
 * before its connection closed); TLS with Go plaintext is not among them. */
static void test_unrecognised_and_tls_libraries(void **state)
{
	static const unsigned openssl[] = { BZ_TLS_OPENSSL, BZ_TLS_SRC_MAPPED, 0 };
	static const unsigned go_off[] = { BZ_TLS_GO, BZ_TLS_SRC_GO, 0 };
	static const unsigned go_on[] = { BZ_TLS_GO, BZ_TLS_SRC_GO, BZ_TLS_F_PROBED };
	static const unsigned none[] = { BZ_TLS_NONE, 0, 0 };
	static const char *const ssl_path[] = { "/usr/lib/x86_64-linux-gnu/libssl.so.3" };
	static const char *const api_path[] = { "/srv/api" };
	static const char *const gw_path[] = { "/srv/gw" };
	static const char *const no_path[] = { "" };
	struct cap c;
	struct bz_analysis_summary sum;

	(void)state;
	cap_open(&c);
	cap_proc_tls(&c, 500, "/usr/sbin/nginx", 1, openssl, ssl_path);
	cap_proc_tls(&c, 600, "/srv/api", 1, go_off, api_path);
	cap_proc_tls(&c, 700, "/usr/bin/python3.11", 1, none, no_path);
	cap_proc_tls(&c, 900, "/srv/gw", 1, go_on, gw_path);
	/* pid 800 has no PROC block */
	tls_conn(&c, 1, 500, 1, 1);
	ev_open(&c, 2, BZ_ROLE_ACCEPTED, T(2), T(1.9), 0, 80, 50002, 500);
	ev_data(&c, 2, BZ_DIR_IN, T(2.1), 0, T(2.05), 500, 500, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
	ev_data(&c, 2, BZ_DIR_OUT, T(2.2), 0, 0, 500, 500, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n");
	ev_close(&c, 2, T(2.5), 500);
	tls_conn(&c, 3, 600, 3, 0);
	ev_exit(&c, 600, 0, T(3.6));
	ev_close(&c, 3, T(3.8), 600); /* after its process exited */
	tls_conn(&c, 4, 700, 4, 1);
	tls_conn(&c, 5, 800, 5, 1);
	tls_conn(&c, 11, 900, 5.5, 1);
	ev_open(&c, 6, BZ_ROLE_ACCEPTED, T(6), T(5.9), 0, 8080, 50006, 500);
	ev_data(&c, 6, BZ_DIR_IN, T(6.1), 0, T(6.05), 500, 500, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
	ev_close(&c, 6, T(6.5), 500);
	ev_open(&c, 7, BZ_ROLE_ACCEPTED, T(7), T(6.9), 0, 5432, 50007, 500);
	ev_data_cut(&c, 7, BZ_DIR_IN, T(7.1), 0, T(7.05), 500, 500, "\x00\x00\x00\x08\x04\xd2\x16\x2f", 8, 8);
	ev_close(&c, 7, T(7.5), 500);
	ev_open(&c, 8, BZ_ROLE_ACCEPTED, T(8), T(7.9), 0, 25, 50008, 500);
	ev_data(&c, 8, BZ_DIR_IN, T(8.1), 0, T(8.05), 500, 500, "EHLO client.example\r\n");
	ev_close(&c, 8, T(8.5), 500);
	ev_open(&c, 9, BZ_ROLE_ACCEPTED, T(9), T(8.9), 0, 80, 50009, 500);
	ev_data_cut(&c, 9, BZ_DIR_IN, T(9.1), 0, T(9.05), 500, 500, "", 0, 100); /* snaplen 0 */
	ev_close(&c, 9, T(9.5), 500);
	/* Go with plaintext: decrypted, not "no plaintext" */
	ev_open(&c, 10, BZ_ROLE_ACCEPTED, T(10), T(9.9), 0, 443, 50010, 900);
	ev_data_cut(&c, 10, BZ_DIR_IN, T(10.1), 0, T(10.05), 900, 900, client_hello, sizeof(client_hello) - 1, 517);
	ev_go_tls(&c, 10, BZ_DIR_IN, T(10.3), 900, 900, "GET /x HTTP/1.1\r\nHost: gw\r\n\r\n");
	ev_go_tls(&c, 10, BZ_DIR_OUT, T(10.4), 900, 900, "HTTP/1.1 204 No Content\r\n\r\n");
	ev_close(&c, 10, T(10.5), 900);
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);

#define STAT(name) q_int(db, "select value from parse_stats where name='" name "'")
	assert_int_equal(STAT("conns"), 11);
	assert_int_equal(STAT("conns_http"), 2);
	/* the HTTP/2 preface with no stream after it: taken by the HTTP/2
	 * parser, which found nothing to parse (unparsed, described); so is
	 * PostgreSQL's SSLRequest with no answer, by the PostgreSQL parser */
	assert_int_equal(STAT("conns_non_http"), 1);
	assert_int_equal(STAT("conns_unparsed"), 3);
	assert_int_equal(STAT("tls_conns_plaintext"), 1);
	assert_int_equal(STAT("tls_conns_opaque"), 5);
	assert_int_equal(STAT("conns_detected_tls"), 5);
	assert_int_equal(STAT("conns_detected_http2"), 1);
	assert_int_equal(STAT("conns_detected_binary"), 1);
	assert_int_equal(STAT("conns_detected_text"), 1);
	assert_int_equal(STAT("conns_detected_no_bytes"), 1);
	assert_int_equal(STAT("tls_conns_opaque_openssl"), 1);
	assert_int_equal(STAT("tls_conns_opaque_go_probes_off"), 1);
	assert_int_equal(STAT("tls_conns_opaque_go_probes_on"), 1);
	assert_int_equal(STAT("tls_conns_opaque_lib_not_found"), 1);
	assert_int_equal(STAT("tls_conns_opaque_lib_not_scanned"), 1);
	assert_int_equal(STAT("tls_conns_opaque_gnutls"), 0);
	/* the counters partition the connections that carried bytes */
	assert_int_equal(STAT("conns_http") + STAT("conns_non_http") + STAT("conns_unparsed") +
				 STAT("tls_conns_opaque"), STAT("conns"));
	assert_int_equal(STAT("conns_detected_tls") + STAT("conns_detected_http2") + STAT("conns_detected_binary") +
				 STAT("conns_detected_text") + STAT("conns_detected_no_bytes"),
			 STAT("conns_non_http") + STAT("conns_unparsed") + STAT("tls_conns_opaque"));
#undef STAT
	assert_int_equal(sum.explain.tls_opaque, 5);
	assert_text(db, "select group_concat(conn_id || ':' || protocol || ':' || coalesce(detected, '-'), ' ')"
			" from (select * from connections order by conn_id)",
		    "1:tls:tls 2:http/1:- 3:tls:tls 4:tls:tls 5:tls:tls 6:unknown:http2 7:unknown:binary "
		    "8:non-http:text 9:unknown:none 10:http/1:- 11:tls:tls");
	assert_text(db, "select tls_libraries from processes where pid=500",
		    "OpenSSL /usr/lib/x86_64-linux-gnu/libssl.so.3");
	assert_text(db, "select tls_libraries from processes where pid=600", "Go crypto/tls /srv/api (probes off)");
	assert_text(db, "select tls_libraries from processes where pid=700", "none found");
	assert_text(db, "select tls_libraries from processes where pid=800", NULL);
	assert_int_equal(q_int(db, "select count(*) from spans where kind='server'"), 2);

	/* the words: one line per process, the Go one named though it had exited */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	bz_explain_print(&sum.explain, sum.conns, 0, f);
	fclose(f);
	assert_non_null(strstr(text, "5 connections encrypted (TLS) with no plaintext recorded:\n"));
	assert_non_null(strstr(text, "\n  nginx (pid 500, 1 connection) uses OpenSSL "
				     "(/usr/lib/x86_64-linux-gnu/libssl.so.3), which the beyla that recorded "
				     "this did not probe yet: record again with this version\n"));
	assert_non_null(strstr(text, "\n  api (pid 600, 1 connection) uses Go crypto/tls, but the Go probes were off"));
	assert_non_null(strstr(text, "\n  gw (pid 900, 1 connection) uses Go crypto/tls and the Go probes were on"));
	assert_non_null(strstr(text, "\n  python3.11 (pid 700, 1 connection) had no TLS library mapped"));
	assert_non_null(strstr(text, "\n  unknown_service (pid 800, 1 connection) has no TLS library in the capture"));
	free(text);
	bz_db_close(&db);
	unlink(c.path);
}

/* Nothing but ciphertext: the summary has no row (no sort of an empty,
 * NULL, array), and the hint says why, and who. */
static void test_summary_no_requests(void **state)
{
	static const unsigned openssl[] = { BZ_TLS_OPENSSL, BZ_TLS_SRC_MAPPED, 0 };
	static const char *const ssl_path[] = { "/usr/lib/x86_64-linux-gnu/libssl.so.3" };
	struct cap c;
	struct bz_analysis_summary sum;
	char *text = NULL;
	size_t len = 0;

	(void)state;
	cap_open(&c);
	cap_proc_tls(&c, 4321, "/usr/sbin/nginx", 1, openssl, ssl_path);
	tls_conn(&c, 1, 4321, 1, 1);
	tls_conn(&c, 2, 4321, 2, 0);
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);
	FILE *f = open_memstream(&text, &len);
	assert_int_equal(bz_report_summary(bz_db_handle(db), f), 0);
	bz_explain_print(&sum.explain, sum.conns, 1, f);
	fclose(f);
	assert_string_equal(text, "no HTTP requests found\n"
				  "why: of 2 connections, 2 carried no HTTP/1.x: 2 encrypted (TLS)\n"
				  "2 connections encrypted (TLS) with no plaintext recorded: nginx (pid 4321) uses "
				  "OpenSSL (/usr/lib/x86_64-linux-gnu/libssl.so.3), which the beyla that recorded "
				  "this did not probe yet: record again with this version\n");
	free(text);
	bz_db_close(&db);
	unlink(c.path);
}

static void test_preexisting_and_unknown_conns(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum;
	cap_open(&c);
	cap_proc(&c, 200, "/usr/sbin/nginx", "");
	/* pre-existing connection joined mid-request */
	ev_open(&c, 7, BZ_ROLE_PREEXISTING, T(1), 0, 0, 80, 51000, 200);
	ev_data_cut(&c, 7, BZ_DIR_IN, T(2), T(1.5), T(1.8), 200, 200, "dy bytes", 8, 3000);
	ev_data(&c, 7, BZ_DIR_IN, T(3), T(2.9), T(2.95), 200, 200, "GET /a/b HTTP/1.0\r\n\r\n");
	ev_data(&c, 7, BZ_DIR_OUT, T(4), T(3.5), 0, 200, 200, "HTTP/1.0 200 OK\r\n\r\nbody");
	ev_close(&c, 7, T(5), 200);
	/* DATA for a connection whose open was not recorded */
	ev_data(&c, 8, BZ_DIR_IN, T(6), T(5.5), T(5.9), 200, 201, "DELETE /x/550e8400-e29b-41d4-a716-446655440000 HTTP/1.1\r\n\r\n");
	ev_data(&c, 8, BZ_DIR_OUT, T(7), T(6.5), 0, 200, 201, "HTTP/1.1 204 No Content\r\n\r\n");
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);
	assert_int_equal(sum.spans.server, 2);
	assert_text(db, "select service_name from spans where conn_id=7 and kind='server'", "nginx");
	assert_int_equal(q_int(db, "select start_ns from spans where conn_id=7 and kind='server'"), U(2.95));
	assert_int_equal(q_int(db, "select end_ns from spans where conn_id=7 and kind='server'"), U(4)); /* the last write, not the close */
	assert_int_equal(q_int(db, "select response_body_size from spans where conn_id=7 and kind='server'"), 4);
	assert_text(db, "select protocol_version from spans where conn_id=7 and kind='server'", "1.0");
	assert_int_equal(q_int(db, "select skipped_bytes from connections where conn_id=7"), 3000);
	assert_text(db, "select role from connections where conn_id=8", "unknown");
	assert_text(db, "select http_role from connections where conn_id=8", "server");
	assert_text(db, "select name from spans where conn_id=8 and kind='server'", "DELETE /x/{id}");
	assert_int_equal(q_int(db, "select value from parse_stats where name='data_unknown_conn'"), 1);
	bz_db_close(&db);
	unlink(c.path);
}

static void test_not_a_capture(void **state)
{
	struct bz_reader *r = NULL;
	struct bz_db *db = NULL;
	struct bz_analysis_summary sum;
	char err[256];
	static const char junk[] = "this is not a capture at all, just text";
	assert_int_equal(bz_reader_open_mem(&r, junk, sizeof(junk)), 0);
	assert_int_equal(bz_db_create(&db, ":memory:", err, sizeof(err)), 0);
	bz_analyze(r, db, "junk", NULL, NULL, &sum);
	assert_false(sum.session.saw_header);
	assert_int_equal(sum.session.read_status, BZ_READ_NOT_CAPTURE);
	bz_db_close(&db);
	bz_reader_free(&r);
}

/* The rows of a query as text, one line per row, "|" after each column. */
static char *query_text(sqlite3 *h, const char *sql)
{
	char *text = NULL;
	size_t len = 0;
	sqlite3_stmt *st;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int c = 0; c < sqlite3_column_count(st); c++) {
			const unsigned char *v = sqlite3_column_text(st, c);
			fprintf(out, "%s|", v ? (const char *)v : "NULL");
		}
		fputc('\n', out);
	}
	sqlite3_finalize(st);
	fclose(out);
	return text;
}

/* route_stats up to schema version 3: a window query over span_rows.  The
 * analyzer now computes the rows itself (analyze/route_stats.c); they must
 * be what this query says, to the last digit. */
static const char route_stats_oracle[] =
	"WITH ranked AS ("
	"  SELECT route_key, service_name, kind, http_route, http_method, status, duration_ns, queue_ns,"
	"         rx_backlog_ns, tx_queue_ns, on_cpu_ns, runq_ns, blocked_ns,"
	"         ROW_NUMBER() OVER w AS rn, COUNT(*) OVER (PARTITION BY route_key) AS n"
	"  FROM span_rows WHERE incomplete = 0"
	"  WINDOW w AS (PARTITION BY route_key ORDER BY duration_ns))"
	" SELECT service_name AS service, kind, http_route AS route, http_method AS method,"
	"  COUNT(*) AS requests, SUM(status = 'error') AS errors,"
	"  ROUND(1.0 * SUM(status = 'error') / COUNT(*), 4) AS error_rate,"
	"  MIN(CASE WHEN rn >= 0.50 * n THEN duration_ns END) AS p50_ns,"
	"  MIN(CASE WHEN rn >= 0.95 * n THEN duration_ns END) AS p95_ns,"
	"  MIN(CASE WHEN rn >= 0.99 * n THEN duration_ns END) AS p99_ns,"
	"  ROUND(1.0 * SUM(queue_ns) / NULLIF(SUM(duration_ns), 0), 4) AS queue_share,"
	"  SUM(rx_backlog_ns) AS rx_backlog_ns, SUM(tx_queue_ns) AS tx_queue_ns, SUM(on_cpu_ns) AS on_cpu_ns,"
	"  SUM(runq_ns) AS runq_ns, SUM(blocked_ns) AS blocked_ns"
	" FROM ranked GROUP BY route_key ORDER BY service, kind, route, method";

/* service_stats up to schema version 3, likewise. */
static const char service_stats_oracle[] =
	"WITH ranked AS ("
	"  SELECT service_name, kind, status, duration_ns, queue_ns,"
	"         rx_backlog_ns, tx_queue_ns, on_cpu_ns, runq_ns, blocked_ns,"
	"         ROW_NUMBER() OVER (PARTITION BY service_name, kind ORDER BY duration_ns) AS rn,"
	"         COUNT(*) OVER (PARTITION BY service_name, kind) AS n"
	"  FROM span_rows WHERE incomplete = 0)"
	" SELECT service_name AS service, kind, COUNT(*) AS requests, SUM(status = 'error') AS errors,"
	"  ROUND(1.0 * SUM(status = 'error') / COUNT(*), 4) AS error_rate,"
	"  MIN(CASE WHEN rn >= 0.50 * n THEN duration_ns END) AS p50_ns,"
	"  MIN(CASE WHEN rn >= 0.95 * n THEN duration_ns END) AS p95_ns,"
	"  MIN(CASE WHEN rn >= 0.99 * n THEN duration_ns END) AS p99_ns,"
	"  ROUND(1.0 * SUM(queue_ns) / NULLIF(SUM(duration_ns), 0), 4) AS queue_share,"
	"  SUM(rx_backlog_ns) AS rx_backlog_ns, SUM(tx_queue_ns) AS tx_queue_ns, SUM(on_cpu_ns) AS on_cpu_ns,"
	"  SUM(runq_ns) AS runq_ns, SUM(blocked_ns) AS blocked_ns"
	" FROM ranked GROUP BY service_name, kind ORDER BY service, kind";

static void assert_rows_match(sqlite3 *h, const char *sql, const char *oracle, int rows)
{
	char *got = query_text(h, sql);
	char *want = query_text(h, oracle);
	int lines = 0;

	for (const char *p = got; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, rows);
	assert_string_equal(got, want);
	free(got);
	free(want);
}

/* route_stats and service_stats against the version-3 queries: groups
 * routes, services the services-and-kinds. */
static void assert_route_stats_match_oracle(sqlite3 *h, int groups, int services)
{
	assert_rows_match(h, "SELECT * FROM route_stats", route_stats_oracle, groups);
	assert_rows_match(h, "SELECT * FROM service_stats", service_stats_oracle, services);
}

/* Many requests: speed and memory sanity (and a number for the note). */
static void test_many_requests(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum;
	const int conns = 200, per = 50;
	cap_open(&c);
	cap_proc(&c, 300, "/srv/app", "bulk");
	uint64_t t = T(1);
	for (int k = 0; k < conns; k++) {
		ev_open(&c, 1000 + (uint64_t)k, BZ_ROLE_ACCEPTED, t + 10, t, t - 5, 80, (uint16_t)(20000 + k), 300);
		for (int i = 0; i < per; i++) {
			char req[96];
			snprintf(req, sizeof(req), "GET /item/%d HTTP/1.1\r\nHost: h\r\n\r\n", i);
			t += 1000;
			ev_data(&c, 1000 + (uint64_t)k, BZ_DIR_IN, t + 100, t + 50, t, 300, 300, req);
			ev_data(&c, 1000 + (uint64_t)k, BZ_DIR_OUT, t + 900, t + 800, 0, 300, 300,
				"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
		}
		ev_close(&c, 1000 + (uint64_t)k, t + 950, 300);
		if (c.nev > 5000)
			cap_events(&c);
	}
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);
	assert_int_equal(sum.spans.server, conns * per);
	assert_int_equal(q_int(db, "select requests from route_stats where route='/item/{id}'"), conns * per);
	assert_int_equal(q_int(db, "select count(*) from spans where kind='server'"
				   " and queue_ns + processing_ns <> duration_ns"), 0);
	assert_route_stats_match_oracle(bz_db_handle(db), 1, 1); /* every duration the same */
	bz_db_close(&db);
	unlink(c.path);
}

/* The summary `beyla analyze` prints is route_stats, formatted; route_stats
 * is what the window query of schema version 3 computes, for several
 * services, kinds and routes, with errors and incomplete spans. */
static void test_summary_matches_route_stats(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum;
	static const char *const paths[] = { "/item/%d", "/cart", "/order/%d/lines", "/" };
	char *got = NULL, *want = NULL;
	size_t got_len = 0, want_len = 0;

	cap_open(&c);
	cap_proc(&c, 300, "/srv/alpha", "alpha");
	cap_proc(&c, 301, "/srv/beta", "beta");
	uint64_t t = T(1);
	for (int k = 0; k < 12; k++) {
		uint32_t pid = k % 3 ? 300 : 301;
		uint64_t conn = 2000 + (uint64_t)k;
		ev_open(&c, conn, BZ_ROLE_ACCEPTED, t + 10, t, t - 5, 80, (uint16_t)(30000 + k), pid);
		for (int i = 0; i < 37 + 5 * k; i++) {
			char req[96], resp[96];
			unsigned p = (unsigned)(i * 7 + k) % 4;
			uint64_t dur = 1000 * (100 + (uint64_t)(i * 7919 + k * 104729) % 5000); /* 0.1-5.1 ms */
			char path[32];
			snprintf(path, sizeof(path), paths[p], i);
			snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: h\r\n\r\n", p == 2 ? "POST" : "GET", path);
			snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Length: 2\r\n\r\nok",
				 i % 11 == 3 ? 500 : i % 13 == 5 ? 404 : 200);
			t += 6000000;
			ev_data(&c, conn, BZ_DIR_IN, t + 100, t + 50, t, pid, pid, req);
			if (k == 5 && i == 36) /* the last request of one connection: no response */
				break;
			ev_data(&c, conn, BZ_DIR_OUT, t + 100 + dur, t + dur, 0, pid, pid, resp);
		}
		if (k != 5)
			ev_close(&c, conn, t + 5900000, pid);
		cap_events(&c);
	}
	cap_close(&c, 1);
	/* the percentiles from the kept durations, and from walks of span_rows
	 * when none or only some could be kept */
	static const size_t keep[] = { 0, 100 };
	for (size_t m = 0; m < sizeof(keep) / sizeof(keep[0]); m++) {
		struct bz_db *w = analyse_keep(c.path, &sum, keep[m]);
		assert_route_stats_match_oracle(bz_db_handle(w), 8, 2);
		bz_db_close(&w);
	}
	struct bz_db *db = analyse(c.path, &sum);
	sqlite3 *h = bz_db_handle(db);
	assert_true(sum.spans.incomplete >= 1);

	FILE *out = open_memstream(&got, &got_len);
	assert_non_null(out);
	assert_int_equal(bz_report_summary(h, out), 0);
	fclose(out);

	/* the same table, formatted from the view */
	sqlite3_stmt *st;
	out = open_memstream(&want, &want_len);
	assert_non_null(out);
	fprintf(out, "%-7s  %-6s  %-17s  %-6s  %8s  %6s  %9s  %9s  %9s  %6s\n", "SERVICE", "KIND", "ROUTE",
		"METHOD", "REQUESTS", "ERRORS", "P50_MS", "P95_MS", "P99_MS", "QUEUE%");
	assert_int_equal(sqlite3_prepare_v2(h,
					    "SELECT service, kind, route, method, requests, errors, p50_ns, p95_ns,"
					    " p99_ns, queue_share FROM route_stats"
					    " ORDER BY service, kind DESC, requests DESC, route, method",
					    -1, &st, NULL),
			 SQLITE_OK);
	int groups = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		char q[16] = "-";
		if (sqlite3_column_type(st, 9) != SQLITE_NULL)
			snprintf(q, sizeof(q), "%.1f", sqlite3_column_double(st, 9) * 100);
		fprintf(out, "%-7s  %-6s  %-17s  %-6s  %8lld  %6lld  %9.3f  %9.3f  %9.3f  %6s\n",
			sqlite3_column_text(st, 0), sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
			sqlite3_column_text(st, 3), sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5),
			sqlite3_column_double(st, 6) / 1e6, sqlite3_column_double(st, 7) / 1e6,
			sqlite3_column_double(st, 8) / 1e6, q);
		groups++;
	}
	sqlite3_finalize(st);
	fclose(out);
	assert_int_equal(groups, 8); /* 2 services x 4 routes */
	assert_string_equal(got, want);
	assert_route_stats_match_oracle(h, 8, 2);
	free(got);
	free(want);
	bz_db_close(&db);
	unlink(c.path);
}

/* A capture with server and client spans, attributes and several
 * processes, written in batches (for the writer-thread tests). */
static void busy_capture(struct cap *c, int conns, int per)
{
	cap_open(c);
	cap_proc(c, 300, "/srv/app", "front");
	cap_proc(c, 301, "/srv/other", NULL);
	uint64_t t = T(1);
	for (int k = 0; k < conns; k++) {
		uint32_t pid = k % 2 ? 300 : 301;
		uint64_t conn = 5000 + (uint64_t)k, out = 9000 + (uint64_t)k;
		ev_open(c, conn, BZ_ROLE_ACCEPTED, t + 10, t, t - 5, 80, (uint16_t)(20000 + k), pid);
		ev_open(c, out, BZ_ROLE_CONNECTED, t + 20, t + 15, t + 12, 40000, 6379, pid);
		for (int i = 0; i < per; i++) {
			char req[128];
			snprintf(req, sizeof(req), "POST /item/%d?token=s3cret HTTP/1.1\r\nHost: h\r\n"
				 "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", i);
			t += 10000;
			ev_data(c, conn, BZ_DIR_IN, t + 100, t + 50, t, pid, pid, req);
			ev_data(c, out, BZ_DIR_OUT, t + 300, t + 250, 0, pid, pid, "GET /cache HTTP/1.1\r\nHost: cache\r\n\r\n");
			ev_data(c, out, BZ_DIR_IN, t + 600, t + 550, t + 500, pid, pid,
				"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
			ev_data(c, conn, BZ_DIR_OUT, t + 900, t + 800, 0, pid, pid,
				i % 5 ? "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
				      : "HTTP/1.1 503 X\r\nContent-Length: 0\r\n\r\n");
		}
		ev_close(c, conn, t + 950, pid);
		if (c->nev > 5000)
			cap_events(c);
	}
	cap_close(c, 1);
}

/* Everything in the database, as text, in a stable order. */
static char *db_text(struct bz_db *db)
{
	static const char *const queries[] = {
		"select * from spans order by span_id",
		"select span_id, key, value from span_attributes order by 1, 2, 3",
		"select * from connections order by conn_id",
		"select * from processes order by pid, first_seen_ns",
		"select * from capture",
		"select * from parse_stats order by name",
		"select * from route_stats order by 1, 2, 3, 4",
		"select * from service_stats order by 1, 2",
	};
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		char *rows = query_text(bz_db_handle(db), queries[i]);
		fputs(rows, out);
		free(rows);
	}
	fclose(out);
	return text;
}

/* The writer thread writes what the synchronous writer does, row for row. */
static void test_writer_thread_same_rows(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum1, sum2;
	struct bz_reader *r = NULL;
	struct bz_db *sync_db = NULL;
	char err[256];

	busy_capture(&c, 60, 40); /* ~10k spans: many batches */
	struct bz_db *async_db = analyse(c.path, &sum1);
	assert_int_equal(bz_reader_open_file(&r, c.path), 0);
	assert_int_equal(bz_db_create(&sync_db, ":memory:", err, sizeof(err)), 0);
	assert_int_equal(bz_analyze(r, sync_db, c.path, NULL, NULL, &sum2), 0);
	bz_reader_free(&r);
	assert_int_equal(sum1.spans.server, 60 * 40);
	assert_int_equal(sum1.spans.client, 60 * 40);
	assert_int_equal(q_int(async_db, "select count(*) from spans"), 3 * 60 * 40 + 60 * 40);
	assert_int_equal(bz_db_span_count(async_db), 3 * 60 * 40 + 60 * 40);
	assert_int_equal(q_int(async_db, "select count(*) from span_attributes where key = 'error.type'"),
			 60 * 40 + 60 * 8);
	/* server and client groups (a client's queue_share is NULL) */
	assert_route_stats_match_oracle(bz_db_handle(async_db), 4, 4);
	char *a = db_text(async_db), *b = db_text(sync_db);
	assert_true(strlen(a) > 100000);
	assert_string_equal(a, b);
	free(a);
	free(b);
	bz_db_close(&async_db);
	bz_db_close(&sync_db);
	unlink(c.path);
}

/* An SQLite error in the writer thread (here: the database may not grow)
 * ends the analysis with the error and its message; closing cleans up. */
static void test_writer_thread_error(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum;
	struct bz_reader *r = NULL;
	struct bz_db *db = NULL;
	char err[256], path[] = "/tmp/beyla-test-db-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	busy_capture(&c, 60, 40);
	assert_int_equal(bz_reader_open_file(&r, c.path), 0);
	assert_int_equal(bz_db_create(&db, path, err, sizeof(err)), 0);
	assert_int_equal(sqlite3_exec(bz_db_handle(db), "PRAGMA max_page_count = 20", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(bz_db_start_writer(db), 0);
	assert_int_not_equal(bz_analyze(r, db, c.path, NULL, NULL, &sum), 0);
	assert_non_null(strstr(sum.err, "full"));
	assert_non_null(strstr(bz_db_errmsg(db), "full"));
	bz_reader_free(&r);
	bz_db_close(&db);
	unlink(path);
	unlink(c.path);
}

/* A row larger than the writer's batches (a 1 MiB command line) gets a
 * batch of its own; rows before and after it keep their order. */
static void test_writer_thread_huge_row(void **state)
{
	struct bz_db *db = NULL;
	char err[256];
	size_t big = 1u << 20;
	char *cmdline = malloc(big + 1);

	assert_non_null(cmdline);
	memset(cmdline, 'x', big);
	cmdline[big] = '\0';
	assert_int_equal(bz_db_create(&db, ":memory:", err, sizeof(err)), 0);
	assert_int_equal(bz_db_start_writer(db), 0);
	for (int i = 0; i < 3; i++) {
		struct bz_db_process p = { .pid = 10 + i, .ppid = 1, .exe = "/bin/app", .comm = "app",
					   .cmdline = i == 1 ? cmdline : "app --small", .service_name = "app",
					   .flags = 0, .forked_from = BZ_DB_NULL, .first_seen_ns = i,
					   .exit_ns = BZ_DB_NULL, .exit_code = BZ_DB_NULL };
		assert_int_equal(bz_db_process(db, &p), 0);
		struct bz_span sp;
		bz_span_init(&sp);
		sp.span_id = (uint64_t)(i + 1) << 2;
		sp.trace = (struct bz_trace_id){ 1, sp.span_id };
		sp.kind = BZ_SPAN_CLIENT;
		sp.status = BZ_STATUS_OK;
		sp.name = "GET /";
		sp.url_path = i == 1 ? cmdline : "/";
		sp.start_ns = 1000 * i;
		sp.end_ns = 1000 * i + 10;
		assert_int_equal(bz_db_span(db, &sp), 0);
	}
	memset(cmdline, 'y', big); /* the caller's buffers are its own again */
	assert_int_equal(bz_db_finish(db), 0);
	assert_int_equal(q_int(db, "select length(cmdline) from processes where pid = 11"), (int64_t)big);
	assert_int_equal(q_int(db, "select count(*) from processes where cmdline glob '*y*'"), 0);
	assert_int_equal(q_int(db, "select length(url_path) from spans where span_id = 8"), (int64_t)big);
	assert_int_equal(q_int(db, "select count(*) from spans"), 3);
	assert_text(db, "select group_concat(pid) from (select pid from processes order by rowid)", "10,11,12");
	bz_db_close(&db);
	free(cmdline);
}

/* The client sent its request long after connecting: no accept-queue wait.
 * Two pipelined requests in one read: the second waits for the first's
 * response. */
static void test_late_request_and_pipelining(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum;
	char sql[256];
	cap_open(&c);
	cap_proc(&c, 400, "/usr/bin/node", "");
	ev_open(&c, 20, BZ_ROLE_ACCEPTED, T(1.1), T(1), T(1.05), 3000, 41000, 400);
	ev_data(&c, 20, BZ_DIR_IN, T(5.2), T(5.1), T(5), 400, 400, "GET /late HTTP/1.1\r\n\r\n");
	ev_data(&c, 20, BZ_DIR_OUT, T(6), T(5.9), 0, 400, 400, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	ev_open(&c, 21, BZ_ROLE_ACCEPTED, T(10.05), T(10), T(10.01), 3000, 41001, 400);
	ev_data(&c, 21, BZ_DIR_IN, T(10.3), T(10.2), T(10.1), 400, 400,
		"GET /p/1 HTTP/1.1\r\n\r\nGET /p/2 HTTP/1.1\r\n\r\n");
	ev_data(&c, 21, BZ_DIR_OUT, T(11), T(10.9), 0, 400, 400, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	ev_data(&c, 21, BZ_DIR_OUT, T(12), T(11.9), 0, 400, 400, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);
#define Q(conn, idx, col) (snprintf(sql, sizeof(sql), \
	"select %s from spans where kind='server' and conn_id=%d and request_index=%d", col, conn, idx), sql)
	assert_int_equal(q_int(db, Q(20, 0, "start_ns")), U(5));
	assert_int_equal(q_int(db, Q(20, 0, "accept_queue_ns")), 0);
	assert_int_equal(q_int(db, Q(20, 0, "queue_ns")), MS(0.1));
	assert_int_equal(q_int(db, Q(20, 0, "recv_queue_ns")), MS(0.1));
	assert_text(db, Q(20, 0, "service_name"), "node");
	assert_int_equal(q_int(db, Q(21, 0, "start_ns")), U(10.1));
	assert_int_equal(q_int(db, Q(21, 0, "queue_ns")), MS(0.1));
	assert_int_equal(q_int(db, Q(21, 1, "start_ns")), U(10.1));
	assert_int_equal(q_int(db, Q(21, 1, "queue_ns")), MS(0.9));     /* waited for /p/1's answer */
	assert_int_equal(q_int(db, Q(21, 1, "recv_queue_ns")), 0);
	assert_int_equal(q_int(db, Q(21, 1, "processing_ns")), MS(1));
	assert_int_equal(q_int(db, "select count(*) from spans where kind='server'"
				   " and queue_ns + processing_ns <> duration_ns"), 0);
	bz_db_close(&db);
	unlink(c.path);
}

/* An event loop thread with requests of two connections in progress makes
 * a call: which request it belongs to is unknown, so no parent. */
static void test_ambiguous_parent(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum;
	cap_open(&c);
	ev_open(&c, 30, BZ_ROLE_ACCEPTED, T(1), T(0.9), 0, 80, 1, 500);
	ev_open(&c, 31, BZ_ROLE_ACCEPTED, T(1), T(0.9), 0, 80, 2, 500);
	ev_data(&c, 30, BZ_DIR_IN, T(2), T(2), T(2), 500, 500, "GET /a HTTP/1.1\r\n\r\n");
	ev_data(&c, 31, BZ_DIR_IN, T(2.1), T(2.1), T(2.1), 500, 500, "GET /b HTTP/1.1\r\n\r\n");
	ev_open(&c, 32, BZ_ROLE_CONNECTED, T(2.2), T(2.2), T(2.15), 5000, 6379, 500);
	ev_data(&c, 32, BZ_DIR_OUT, T(2.3), T(2.25), 0, 500, 500, "GET /db HTTP/1.1\r\n\r\n");
	ev_data(&c, 32, BZ_DIR_IN, T(2.4), T(2.35), T(2.38), 500, 500, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	ev_data(&c, 30, BZ_DIR_OUT, T(3), T(3), 0, 500, 500, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	/* now only /b is in progress on the thread: the next call is its child */
	ev_data(&c, 32, BZ_DIR_OUT, T(3.3), T(3.25), 0, 500, 500, "GET /db2 HTTP/1.1\r\n\r\n");
	ev_data(&c, 32, BZ_DIR_IN, T(3.4), T(3.35), T(3.38), 500, 500, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	ev_data(&c, 31, BZ_DIR_OUT, T(4), T(4), 0, 500, 500, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);
	assert_int_equal(sum.spans.client, 2);
	assert_int_equal(sum.spans.parent_ambiguous, 1);
	assert_null(q_text(db, "select parent_id from spans where kind='client' and url_path='/db'"));
	assert_int_equal(q_int(db, "select count(*) from spans c join spans s on c.parent_id = s.span_id"
				   " where c.url_path = '/db2' and s.url_path = '/b'"), 1);
	bz_db_close(&db);
	unlink(c.path);
}

/* An nginx-like event loop (pid 500, one thread) with requests of several
 * connections in progress: each upstream call is the child of the request
 * read just before its connection's connect() (also when the connect
 * completes later, as a TCP one does, and other requests are read in
 * between), or, on a connection kept from an earlier call, of the request
 * read just before its write -- when the call forwards that request (same
 * method, the same path or a tail of it).  A call that forwards nothing
 * stays without a parent. */
static void test_proxy_parent(void **state)
{
	static const char path[] = "/run/app.sock";
	const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct cap c;
	struct bz_analysis_summary sum;
	char sql[320];

	cap_open(&c);
	cap_proc(&c, 500, "/usr/sbin/nginx", "nginx");
	for (int i = 0; i < 5; i++)
		ev_open(&c, 40 + i, BZ_ROLE_ACCEPTED, T(1 + 0.01 * i), T(0.9), 0, 80, (uint16_t)(1000 + i), 500);
	/* alone on the thread: the thread rule, a prefix rewritten away */
	ev_data(&c, 41, BZ_DIR_IN, T(1.5), T(1.5), T(1.5), 500, 500, "GET /app/items/1 HTTP/1.1\r\n\r\n");
	ev_open_unix(&c, 51, BZ_ROLE_CONNECTED, T(1.51), T(1.51), 500, 7051, 0, 600, path, sizeof(path));
	ev_data(&c, 51, BZ_DIR_OUT, T(1.52), 0, 0, 500, 500, "GET /items/1 HTTP/1.0\r\n\r\n");
	/* 41 still in progress: by the read before the connect() */
	ev_data(&c, 40, BZ_DIR_IN, T(2), T(2), T(2), 500, 500, "GET /work HTTP/1.1\r\n\r\n");
	ev_open_unix(&c, 50, BZ_ROLE_CONNECTED, T(2.01), T(2.01), 500, 7050, 0, 600, path, sizeof(path));
	ev_data(&c, 50, BZ_DIR_OUT, T(2.02), 0, 0, 500, 500, "GET /work HTTP/1.0\r\n\r\n");
	/* two TCP connects in progress, written later in the other order */
	ev_data(&c, 42, BZ_DIR_IN, T(3), T(3), T(3), 500, 500, "GET /work HTTP/1.1\r\n\r\n");
	ev_open(&c, 52, BZ_ROLE_CONNECTED, T(3.01), 0, T(3.005), 2052, 8000, 500);
	ev_data(&c, 43, BZ_DIR_IN, T(3.1), T(3.1), T(3.1), 500, 500, "GET /work HTTP/1.1\r\n\r\n");
	ev_open(&c, 53, BZ_ROLE_CONNECTED, T(3.11), 0, T(3.105), 2053, 8000, 500);
	ev_data(&c, 52, BZ_DIR_OUT, T(3.2), 0, 0, 500, 500, "GET /work HTTP/1.1\r\n\r\n");
	ev_data(&c, 53, BZ_DIR_OUT, T(3.21), 0, 0, 500, 500, "GET /work HTTP/1.1\r\n\r\n");
	/* 52 answers, 42 is answered and asks again: 52 is kept for it */
	ev_data(&c, 52, BZ_DIR_IN, T(4), T(3.9), T(3.95), 500, 500, ok);
	ev_data(&c, 42, BZ_DIR_OUT, T(4.1), T(4.05), 0, 500, 500, ok);
	ev_data(&c, 42, BZ_DIR_IN, T(6), T(6), T(6), 500, 500, "GET /work HTTP/1.1\r\n\r\n");
	ev_data(&c, 52, BZ_DIR_OUT, T(6.1), 0, 0, 500, 500, "GET /work HTTP/1.1\r\n\r\n");
	/* a call that forwards nothing: no parent */
	ev_data(&c, 44, BZ_DIR_IN, T(7), T(7), T(7), 500, 500, "GET /a HTTP/1.1\r\n\r\n");
	ev_open(&c, 54, BZ_ROLE_CONNECTED, T(7.01), 0, T(7.005), 2054, 8000, 500);
	ev_data(&c, 54, BZ_DIR_OUT, T(7.02), 0, 0, 500, 500, "GET /other HTTP/1.1\r\n\r\n");
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);
#define PARENT_OF(conn, idx) (snprintf(sql, sizeof(sql), \
	"select s.conn_id * 10 + s.request_index from spans u join spans s on s.span_id = u.parent_id " \
	"and s.trace_id = u.trace_id and s.kind = 'server' where u.kind = 'client' and u.conn_id = %d " \
	"and u.request_index = %d", conn, idx), sql)
	assert_int_equal(q_int(db, PARENT_OF(51, 0)), 410);
	assert_int_equal(q_int(db, PARENT_OF(50, 0)), 400);
	assert_int_equal(q_int(db, PARENT_OF(52, 0)), 420);
	assert_int_equal(q_int(db, PARENT_OF(53, 0)), 430);
	assert_int_equal(q_int(db, PARENT_OF(52, 1)), 421);
#undef PARENT_OF
	assert_null(q_text(db, "select parent_id from spans where kind='client' and conn_id=54"));
	assert_int_equal(sum.spans.parent_links, 5);
	assert_int_equal(sum.spans.parent_by_connect, 3);
	assert_int_equal(sum.spans.parent_by_last_read, 1);
	assert_int_equal(sum.spans.parent_ambiguous, 1);
	assert_int_equal(q_int(db, "select value from parse_stats where name='parent_by_connect'"), 3);
	bz_db_close(&db);
	unlink(c.path);
}

/* service.name through PROC, FORK and EXEC; process rows at exit. */
static void test_process_events(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum;
	cap_open(&c);
	cap_proc(&c, 600, "/usr/bin/python3", "api");
	ev_fork(&c, 600, 601, T(1));
	ev_open(&c, 40, BZ_ROLE_ACCEPTED, T(2), T(1.9), 0, 80, 3, 601);
	ev_data(&c, 40, BZ_DIR_IN, T(3), T(3), T(2.95), 601, 601, "GET / HTTP/1.1\r\n\r\n");
	ev_data(&c, 40, BZ_DIR_OUT, T(4), T(4), 0, 601, 601, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	ev_exec(&c, 700, "/usr/local/bin/gunicorn", T(5));
	ev_open(&c, 41, BZ_ROLE_ACCEPTED, T(6), T(5.9), 0, 8000, 4, 700);
	ev_data(&c, 41, BZ_DIR_IN, T(7), T(7), T(6.95), 700, 700, "GET /x HTTP/1.1\r\n\r\n");
	ev_close(&c, 41, T(7.5), 700);
	ev_exit(&c, 601, 256, T(8));
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);
	assert_text(db, "select service_name from spans where conn_id=40 and kind='server'", "api");
	assert_text(db, "select service_name from spans where conn_id=41 and kind='server'", "gunicorn");
	assert_text(db, "select value from span_attributes a join spans s using (span_id)"
			" where s.conn_id=41 and s.kind='server' and a.key='beyla.incomplete_reason'",
		    "connection closed without a response");
	assert_int_equal(q_int(db, "select exit_code from processes where pid=601"), 256);
	assert_int_equal(q_int(db, "select forked_from from processes where pid=601"), 600);
	assert_text(db, "select service_name from processes where pid=601", "api");
	assert_text(db, "select cmdline from processes where pid=700", "gunicorn app:app");
	assert_null(q_text(db, "select exit_ns from processes where pid=600"));
	assert_int_equal(q_int(db, "select count(*) from processes"), 3);
	bz_db_close(&db);
	unlink(c.path);
}

/* The stable text dump of the shop capture, line by line. */
static const char shop_golden[] =
	"#1 server \"GET /users/{id}\" t=+0.100ms dur=1.900ms queue=0.300ms (accept=0.200ms recv=0.100ms) proc=1.600ms connect=- status=error code=500 method=GET route=/users/{id} req=0 resp=5 svc=shop pid=100 tid=101 conn=1/0 trace=T1 parent=-\n"
	"#2 internal \"in queue\" t=+0.100ms dur=0.300ms queue=- (accept=- recv=-) proc=- connect=- status=ok code=- method=- route=- req=- resp=- svc=shop pid=100 tid=101 conn=1/0 trace=T1 parent=#1\n"
	"#3 internal \"processing\" t=+0.400ms dur=1.600ms queue=- (accept=- recv=-) proc=- connect=- status=ok code=- method=- route=- req=- resp=- svc=shop pid=100 tid=101 conn=1/0 trace=T1 parent=#1\n"
	"#4 client \"GET /api/items/{id}\" t=+0.750ms dur=0.750ms queue=- (accept=- recv=-) proc=- connect=0.050ms status=error code=404 method=GET route=/api/items/{id} req=0 resp=0 svc=shop pid=100 tid=101 conn=2/0 trace=T1 parent=#1\n"
	"#5 server \"POST /users\" t=+2.500ms dur=1.500ms queue=0.300ms (accept=0.000ms recv=0.300ms) proc=1.200ms connect=- status=ok code=201 method=POST route=/users req=4 resp=0 svc=shop pid=100 tid=101 conn=1/1 trace=T2 parent=-\n"
	"#6 internal \"in queue\" t=+2.500ms dur=0.300ms queue=- (accept=- recv=-) proc=- connect=- status=ok code=- method=- route=- req=- resp=- svc=shop pid=100 tid=101 conn=1/1 trace=T2 parent=#5\n"
	"#7 internal \"processing\" t=+2.800ms dur=1.200ms queue=- (accept=- recv=-) proc=- connect=- status=ok code=- method=- route=- req=- resp=- svc=shop pid=100 tid=101 conn=1/1 trace=T2 parent=#5\n"
	"#8 server \"GET /slow\" t=+4.500ms dur=0.500ms queue=0.400ms (accept=0.000ms recv=0.400ms) proc=0.100ms connect=- status=unset code=- method=GET route=/slow req=0 resp=- svc=shop pid=100 tid=101 conn=1/2 trace=T3 parent=- incomplete\n"
	"#9 internal \"in queue\" t=+4.500ms dur=0.400ms queue=- (accept=- recv=-) proc=- connect=- status=unset code=- method=- route=- req=- resp=- svc=shop pid=100 tid=101 conn=1/2 trace=T3 parent=#8 incomplete\n"
	"#10 internal \"processing\" t=+4.900ms dur=0.100ms queue=- (accept=- recv=-) proc=- connect=- status=unset code=- method=- route=- req=- resp=- svc=shop pid=100 tid=101 conn=1/2 trace=T3 parent=#8 incomplete\n"
	;

static void test_golden_dump(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum;
	build_shop(&c);
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);
	char *d = dump(db);
	if (strcmp(d, shop_golden))
		fail_msg("dump differs; got:\n%s", d);
	free(d);
	bz_db_close(&db);
	unlink(c.path);
}

/* ---- pieces ------------------------------------------------------------ */

/* The probe report as the table probes: the PROBES block's kernel probes
 * (a later block replacing them), a GO_BINARY's and a TLS_LIBRARY's
 * uprobes with their path and pid, a value too short counted and skipped
 * (the parser is the one `beyla info` uses: test_probe_report.c). */
static void cap_probe(struct bz_buf *b, uint16_t code, uint8_t status, uint8_t required, const char *name,
		      const char *detail)
{
	struct bz_buf v = { 0 };
	uint8_t st[4] = { status, required, 0, 0 };
	bz_buf_put(&v, st, 4);
	bz_buf_put(&v, name, strlen(name) + 1);
	bz_buf_put(&v, detail, strlen(detail));
	bz_buf_opt(b, code, v.data, (uint32_t)v.len);
	bz_buf_free(&v);
}

static void test_probes_table(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum;
	struct bz_buf b = { 0 };

	cap_open(&c);
	/* a first report, replaced by the second */
	cap_probe(&b, BZ_PO_PROBE, BZ_PROBE_ATTACHED, 1, "raw:stale", "from the first block");
	assert_int_equal(bz_writer_block(c.w, BZ_BLK_PROBES, b.data, b.len), 0);
	bz_buf_reset(&b);
	cap_probe(&b, BZ_PO_PROBE, BZ_PROBE_ATTACHED, 1, "raw:sock_recv_length", "socket reads");
	cap_probe(&b, BZ_PO_PROBE, BZ_PROBE_REFUSED, 0, "sched:sched_process_exec", "attach failed: Permission denied");
	cap_probe(&b, BZ_PO_PROBE, BZ_PROBE_SKIPPED, 0, "syscalls:sys_enter_read", "not requested (--syscall-start)");
	bz_buf_opt(&b, BZ_PO_PROBE, "\x01", 1); /* too short: skipped, counted */
	assert_int_equal(bz_writer_block(c.w, BZ_BLK_PROBES, b.data, b.len), 0);
	bz_buf_reset(&b);
	bz_buf_opt_str(&b, BZ_GB_PATH, "/srv/app");
	bz_buf_opt_str(&b, BZ_GB_VERSION, "go1.26.8");
	bz_buf_opt_u32(&b, BZ_GB_PID, 100);
	cap_probe(&b, BZ_GB_PROBE, BZ_PROBE_ATTACHED, 0, "net/http.serverHandler.ServeHTTP", "entry");
	cap_probe(&b, BZ_GB_PROBE, BZ_PROBE_REFUSED, 0, "crypto/tls.(*Conn).Read", "uprobe refused: EPERM");
	assert_int_equal(bz_writer_block(c.w, BZ_BLK_GO_BINARY, b.data, b.len), 0);
	bz_buf_reset(&b);
	bz_buf_opt_str(&b, BZ_TL_PATH, "/usr/lib/libssl.so.3");
	bz_buf_opt_u32(&b, BZ_TL_LIB, BZ_TLS_OPENSSL);
	bz_buf_opt_u32(&b, BZ_TL_PID, 0);
	cap_probe(&b, BZ_TL_PROBE, BZ_PROBE_ATTACHED, 0, "SSL_read", "entry + return: HTTPS reads");
	assert_int_equal(bz_writer_block(c.w, BZ_BLK_TLS_LIBRARY, b.data, b.len), 0);
	bz_buf_free(&b);
	cap_proc(&c, 100, "/srv/app", "app");
	cap_close(&c, 1);

	struct bz_db *db = analyse(c.path, &sum);
	assert_int_equal(q_int(db, "pragma user_version"), BZ_SCHEMA_VERSION);
	assert_int_equal(q_int(db, "select count(*) from probes"), 6);
	assert_int_equal(q_int(db, "select count(*) from probes where name = 'raw:stale'"), 0);
	assert_int_equal(q_int(db, "select count(*) from probes where status = 'attached'"), 3);
	assert_int_equal(q_int(db, "select count(*) from probes where status = 'refused'"), 2);
	assert_int_equal(q_int(db, "select count(*) from probes where status = 'skipped'"), 1);
	assert_int_equal(q_int(db, "select value from parse_stats where name = 'probes_bad'"), 1);
	assert_text(db, "select group_concat(id || ' ' || name || ' ' || kind || ' ' || category || ' ' || required"
			" || ' ' || status || ' ' || coalesce(path, '-') || ' ' || coalesce(pid, '-'), '; ')"
			" from (select * from probes order by id)",
		    "1 raw:sock_recv_length raw_tracepoint kernel 1 attached - -; "
		    "2 sched:sched_process_exec tracepoint kernel 0 refused - -; "
		    "3 syscalls:sys_enter_read tracepoint kernel 0 skipped - -; "
		    "4 net/http.serverHandler.ServeHTTP uprobe go 0 attached /srv/app 100; "
		    "5 crypto/tls.(*Conn).Read uprobe go 0 refused /srv/app 100; "
		    "6 SSL_read uprobe openssl 0 attached /usr/lib/libssl.so.3 0");
	assert_text(db, "select reason from probes where id = 2", "attach failed: Permission denied");
	assert_text(db, "select reason from probes where id = 5", "uprobe refused: EPERM");
	bz_db_close(&db);
	unlink(c.path);
}

static void test_schema_matches_file(void **state)
{
	FILE *f = fopen("schema/spans.sql", "rb");
	if (!f)
		skip(); /* not run from the source tree */
	char *buf = malloc(1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	buf[n] = 0;
	assert_string_equal(buf, bz_schema_sql);
	assert_non_null(strstr(bz_schema_sql, BZ_SCHEMA_AFTER_LOAD));
	free(buf);
}

static void test_u64map_churn(void **state)
{
	struct bz_u64map m = { 0 };
	static uint8_t present[4096];
	uint64_t x = 88172645463325252ull;
	memset(present, 0, sizeof(present));
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t k = x % 4096;
		if (x & 0x100000) {
			assert_int_equal(bz_u64map_put(&m, k * 0x10000, (void *)(uintptr_t)(k + 1)), 0);
			present[k] = 1;
		} else {
			void *v = bz_u64map_del(&m, k * 0x10000);
			assert_true(present[k] ? v == (void *)(uintptr_t)(k + 1) : v == NULL);
			present[k] = 0;
		}
	}
	size_t n = 0;
	for (uint64_t k = 0; k < 4096; k++) {
		void *v = bz_u64map_get(&m, k * 0x10000);
		assert_true(present[k] ? v == (void *)(uintptr_t)(k + 1) : v == NULL);
		n += present[k];
	}
	assert_int_equal(n, m.len);
	bz_u64map_free(&m);
}

/* route_stats's walk of span_rows must meet exactly the spans the analysis
 * counted: a span_rows that lost one, or gained one nobody counted, ends
 * bz_db_finish with an error saying so (not wrong percentiles). */
static void test_route_stats_walk_mismatch(void **state)
{
	static const char *const tamper[] = {
		"DELETE FROM span_rows WHERE span_id = 8",
		"INSERT INTO span_rows (span_id, trace_id, kind, name, start_ns, end_ns, duration_ns, status,"
		" route_key) SELECT 100, trace_id, kind, name, start_ns, end_ns, duration_ns, status, 12345"
		" FROM span_rows WHERE span_id = 8",
	};
	static const char *const says[] = { "lacks spans", "did not count" };

	for (int t = 0; t < 2; t++) {
		struct bz_db *db = NULL;
		char err[256];
		assert_int_equal(bz_db_create(&db, ":memory:", err, sizeof(err)), 0);
		assert_int_equal(bz_db_route_stats_keep(db, 0), 0); /* the walk */
		for (int i = 0; i < 3; i++) {
			struct bz_span sp;
			bz_span_init(&sp);
			sp.span_id = (uint64_t)(i + 1) << 2;
			sp.trace = (struct bz_trace_id){ 1, sp.span_id };
			sp.kind = BZ_SPAN_SERVER;
			sp.status = BZ_STATUS_OK;
			sp.name = "GET /";
			sp.method = "GET";
			sp.route = "/";
			sp.start_ns = 1000 * i;
			sp.end_ns = 1000 * i + 10 + i;
			assert_int_equal(bz_db_span(db, &sp), 0);
		}
		assert_int_equal(bz_db_route_stats_keep(db, 0), -EBUSY); /* only before any span */
		assert_int_equal(sqlite3_exec(bz_db_handle(db), tamper[t], NULL, NULL, NULL), SQLITE_OK);
		assert_int_equal(bz_db_finish(db), -EIO);
		assert_non_null(strstr(bz_db_errmsg(db), says[t]));
		bz_db_close(&db);
	}
}

/* Addresses as text: IPv4 is formatted by hand (inet_ntop goes through
 * sprintf, and every span needs two); it must write what inet_ntop does,
 * for every value of every octet.  IPv6 still goes through inet_ntop. */
static void test_conn_addr_text(void **state)
{
	struct bz_conn c;
	char got[64], want[64];

	memset(&c, 0, sizeof(c));
	c.family = BZ_AF_INET;
	for (unsigned v = 0; v < 256; v++) {
		for (int k = 0; k < 4; k++) {
			uint8_t a[4] = { 10, 200, 7, 99 };
			a[k] = (uint8_t)v;
			a[(k + 1) % 4] = (uint8_t)(255 - v);
			memcpy(c.remote_addr, a, 4);
			bz_conn_addr(&c, 1, got, sizeof(got));
			assert_non_null(inet_ntop(AF_INET, a, want, sizeof(want)));
			assert_string_equal(got, want);
		}
	}
	c.family = BZ_AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::ffff:1.2.3.4", c.local_addr), 1);
	bz_conn_addr(&c, 0, got, sizeof(got));
	assert_string_equal(got, "2001:db8::ffff:102:304");
	c.family = 0;
	bz_conn_addr(&c, 0, got, sizeof(got));
	assert_string_equal(got, "");
}

/* The OTLP export of span_attributes rows: strings, but for the keys whose
 * values are integers by definition (rpc.grpc.status_code, which the RPC
 * semantic conventions type int, and beyla's gRPC message counts and
 * sizes), sent as int when they read as a non-negative decimal int64. */
static void test_otlp_int_attributes(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum;
	struct bz_otlp_opts o = { 0 };
	char path[] = "/tmp/test_analyze_otlp.XXXXXX", err[256], sql[512], *json;
	int fd;
	long n;
	FILE *f;

	(void)state;
	build_shop(&c);
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);
	int64_t sid = q_int(db, "SELECT span_id FROM spans WHERE kind = 'server' ORDER BY start_ns LIMIT 1");
	snprintf(sql, sizeof(sql),
		 "INSERT INTO span_attribute_rows VALUES (%" PRId64 ", 'rpc.grpc.status_code', '13'),"
		 " (%" PRId64 ", 'beyla.grpc.response.messages', '5'),"
		 " (%" PRId64 ", 'beyla.grpc.response.message_bytes', '-7'),"
		 " (%" PRId64 ", 'beyla.grpc.request.messages', '12x'),"
		 " (%" PRId64 ", 'beyla.grpc.request.message_bytes', '99999999999999999999'),"
		 " (%" PRId64 ", 'rpc.method', '42')",
		 sid, sid, sid, sid, sid, sid);
	assert_int_equal(sqlite3_exec(bz_db_handle(db), sql, NULL, NULL, NULL), SQLITE_OK);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	o.file = path;
	o.quiet = 1;
	if (bz_otlp_export(bz_db_handle(db), NULL, &o, NULL, err, sizeof(err)))
		fail_msg("export: %s", err);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	json = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(json, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	assert_non_null(strstr(json, "{\"key\":\"rpc.grpc.status_code\",\"value\":{\"intValue\":\"13\"}}"));
	assert_non_null(strstr(json, "{\"key\":\"beyla.grpc.response.messages\",\"value\":{\"intValue\":\"5\"}}"));
	/* not a count (negative), not a decimal int64: left a string */
	assert_non_null(strstr(json, "{\"key\":\"beyla.grpc.response.message_bytes\",\"value\":{\"stringValue\":\"-7\"}}"));
	assert_non_null(strstr(json, "{\"key\":\"beyla.grpc.request.messages\",\"value\":{\"stringValue\":\"12x\"}}"));
	assert_non_null(strstr(json, "{\"key\":\"beyla.grpc.request.message_bytes\",\"value\":{\"stringValue\":\"99999999999999999999\"}}"));
	/* any other key stays a string, digits or not */
	assert_non_null(strstr(json, "{\"key\":\"rpc.method\",\"value\":{\"stringValue\":\"42\"}}"));
	free(json);
	unlink(path);
	unlink(c.path);
	bz_db_close(&db);
}

/* --dump-spans: a gRPC span (rpc.system grpc) shows its status code and
 * message counts and sizes after resp=, '-' for what is not known; other
 * spans' lines are as they were. */
static void test_dump_grpc_fields(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum;
	char sql[512], *before, *after, *line, *end;

	(void)state;
	build_shop(&c);
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);
	before = dump(db);
	int64_t sid = q_int(db, "SELECT span_id FROM spans WHERE kind = 'client' LIMIT 1");
	snprintf(sql, sizeof(sql),
		 "INSERT INTO span_attribute_rows VALUES (%" PRId64 ", 'rpc.system', 'grpc'),"
		 " (%" PRId64 ", 'rpc.grpc.status_code', '13'), (%" PRId64 ", 'beyla.grpc.request.messages', '1'),"
		 " (%" PRId64 ", 'beyla.grpc.request.message_bytes', '8')",
		 sid, sid, sid, sid);
	assert_int_equal(sqlite3_exec(bz_db_handle(db), sql, NULL, NULL, NULL), SQLITE_OK);
	after = dump(db);
	line = strstr(after, " client ");
	assert_non_null(line);
	end = strchr(line, '\n');
	assert_non_null(end);
	*end = 0;
	assert_non_null(strstr(line, " resp=0 grpc=13 msgs=1/- msg_bytes=8/- svc=shop "));
	*end = '\n';
	/* the same dump but for those characters */
	assert_int_equal(strlen(after), strlen(before) + strlen(" grpc=13 msgs=1/- msg_bytes=8/-"));
	assert_null(strstr(before, "grpc="));
	free(before);
	free(after);
	unlink(c.path);
	bz_db_close(&db);
}

/* ---- both ends of a connection recorded: server spans under client spans */

/* The server's end of a connection ev_open made for the client (local and
 * remote swapped). */
static void ev_open_peer(struct cap *c, uint64_t conn, uint64_t ts, uint16_t lport, uint16_t rport, uint32_t pid)
{
	struct bz_ev_conn_open e = { 0 };
	hdr(&e.h, BZ_EV_CONN_OPEN, sizeof(e), ts, pid, pid);
	e.conn_id = conn;
	e.established_ns = ts;
	e.family = BZ_AF_INET;
	e.local_port = lport;
	e.remote_port = rport;
	e.role = BZ_ROLE_ACCEPTED;
	e.fd = 6;
	e.local_addr[0] = 10, e.local_addr[3] = 7;
	e.remote_addr[0] = 127, e.remote_addr[3] = 1;
	bz_buf_put(&c->ev, &e, sizeof(e));
	c->nev++;
}

/* A HEADERS frame (END_HEADERS) of literal fields without indexing: the
 * NULL-ended name, value pairs of kv. */
static void h2b_headers(struct h2b *o, uint32_t sid, int end_stream, const char *const *kv)
{
	uint8_t blk[512];
	size_t n = 0;

	for (; kv[0]; kv += 2) {
		size_t nl = strlen(kv[0]), vl = strlen(kv[1]);
		assert_true(nl < 127 && vl < 127 && n + 3 + nl + vl <= sizeof(blk));
		blk[n++] = 0x00;
		blk[n++] = (uint8_t)nl;
		memcpy(blk + n, kv[0], nl);
		n += nl;
		blk[n++] = (uint8_t)vl;
		memcpy(blk + n, kv[1], vl);
		n += vl;
	}
	h2_frame(o, 0x1, (uint8_t)(0x4 | (end_stream ? 0x1 : 0)), sid, blk, n);
}

/* One gRPC message of len bytes in one DATA frame. */
static void h2b_grpc(struct h2b *o, uint32_t sid, int end_stream, uint8_t len)
{
	uint8_t m[5 + 255] = { 0, 0, 0, 0, len };
	h2_frame(o, 0x0, end_stream ? 0x1 : 0, sid, m, 5u + len);
}

static void h2b_call(struct h2b *o, uint32_t sid, const char *path)
{
	const char *const kv[] = { ":method", "POST", ":scheme", "http", ":path", path, ":authority", "svc",
				   "content-type", "application/grpc", NULL };
	h2b_headers(o, sid, 0, kv);
	h2b_grpc(o, sid, 1, 3);
}

static void h2b_reply(struct h2b *o, uint32_t sid, const char *code)
{
	const char *const head[] = { ":status", "200", "content-type", "application/grpc", NULL };
	const char *const trail[] = { "grpc-status", code, NULL };
	h2b_headers(o, sid, 0, head);
	h2b_grpc(o, sid, 0, 4);
	h2b_headers(o, sid, 1, trail);
}

static void ev_bytes(struct cap *c, uint64_t conn, int dir, uint64_t ts, uint32_t pid, const struct h2b *o)
{
	ev_data_cut(c, conn, dir, ts, 0, dir == BZ_DIR_IN ? ts - MS(0.01) : 0, pid, pid, o->b, o->n, (int32_t)o->n);
}

/* The recorder's events of two processes are in the order they reached
 * the ring buffer: a server's read of a request may come before the
 * client's write of it.  The server span must still be the child of the
 * client span of the same request, whichever opened first: in order on
 * HTTP/1, by stream on HTTP/2 (where taking them in order would give a
 * server stream the client span of another). */
static void test_peer_link_either_order(void **state)
{
	struct cap c;
	struct bz_analysis_summary sum;
	struct h2b cli1 = { .n = 0 }, cli3 = { .n = 0 }, srv = { .n = 0 };
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

	(void)state;
	cap_open(&c);
	cap_proc(&c, 300, "/srv/front", "front");
	cap_proc(&c, 400, "/srv/back", "back");
	/* HTTP/1: the server reads GET /a before the client's write of it is recorded */
	ev_open(&c, 1, BZ_ROLE_CONNECTED, T(1.0), T(1.0), T(0.9), 50100, 9000, 300);
	ev_open_peer(&c, 2, T(1.0), 9000, 50100, 400);
	ev_data(&c, 2, BZ_DIR_IN, T(1.2), 0, T(1.15), 400, 400, "GET /a HTTP/1.1\r\nHost: back\r\n\r\n");
	ev_data(&c, 1, BZ_DIR_OUT, T(1.1), 0, 0, 300, 300, "GET /a HTTP/1.1\r\nHost: back\r\n\r\n");
	ev_data(&c, 2, BZ_DIR_OUT, T(1.5), 0, 0, 400, 400, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	ev_data(&c, 1, BZ_DIR_IN, T(1.6), 0, T(1.55), 300, 300, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	ev_data(&c, 1, BZ_DIR_OUT, T(2.0), 0, 0, 300, 300, "GET /b HTTP/1.1\r\nHost: back\r\n\r\n");
	ev_data(&c, 2, BZ_DIR_IN, T(2.2), 0, T(2.1), 400, 400, "GET /b HTTP/1.1\r\nHost: back\r\n\r\n");
	ev_data(&c, 2, BZ_DIR_OUT, T(2.5), 0, 0, 400, 400, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	ev_data(&c, 1, BZ_DIR_IN, T(2.6), 0, T(2.55), 300, 300, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	/* HTTP/2 (gRPC): stream 1's server read first, then the client's
	 * writes of streams 1 and 3, then stream 3's read; answered 3 first */
	memcpy(cli1.b, preface, 24);
	cli1.n = 24;
	h2_frame(&cli1, 0x4, 0, 0, NULL, 0);
	h2b_call(&cli1, 1, "/t.S/A");
	h2b_call(&cli3, 3, "/t.S/B");
	ev_open(&c, 3, BZ_ROLE_CONNECTED, T(3.0), T(3.0), T(2.9), 50200, 9100, 300);
	ev_open_peer(&c, 4, T(3.0), 9100, 50200, 400);
	ev_bytes(&c, 4, BZ_DIR_IN, T(3.2), 400, &cli1);
	ev_bytes(&c, 3, BZ_DIR_OUT, T(3.1), 300, &cli1);
	ev_bytes(&c, 3, BZ_DIR_OUT, T(3.3), 300, &cli3);
	ev_bytes(&c, 4, BZ_DIR_IN, T(3.4), 400, &cli3);
	h2_frame(&srv, 0x4, 0, 0, NULL, 0);
	h2b_reply(&srv, 3, "5");
	h2b_reply(&srv, 1, "0");
	ev_bytes(&c, 4, BZ_DIR_OUT, T(4.0), 400, &srv);
	ev_bytes(&c, 3, BZ_DIR_IN, T(4.1), 300, &srv);
	ev_close(&c, 1, T(5.0), 300);
	ev_close(&c, 2, T(5.0), 400);
	ev_close(&c, 3, T(5.0), 300);
	ev_close(&c, 4, T(5.0), 400);
	cap_close(&c, 1);
	struct bz_db *db = analyse(c.path, &sum);

	assert_int_equal(sum.session.read_status, 0);
	assert_int_equal(q_int(db, "select count(*) from spans where kind='server' and not incomplete"), 4);
	assert_int_equal(q_int(db, "select count(*) from spans where kind='client' and not incomplete"), 4);
	/* each server span under the client span of its own request, in its trace */
	assert_int_equal(q_int(db, "select count(*) from spans s join spans c on c.span_id = s.parent_id "
				   "where s.kind = 'server' and s.pid = 400 and c.kind = 'client' and c.pid = 300 "
				   "and c.name = s.name and c.trace_id = s.trace_id and c.conn_id + 1 = s.conn_id"),
			 4);
	assert_text(db, "select group_concat(name, ',') from (select name from spans where kind = 'server' "
			"order by name)", "GET /a,GET /b,t.S/A,t.S/B");
	assert_int_equal(q_int(db, "select value from parse_stats where name='peer_links'"), 4);
	bz_db_close(&db);
	unlink(c.path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_and_client_spans),
		cmocka_unit_test(test_kernel_waits),
		cmocka_unit_test(test_go_https_handler_and_client),
		cmocka_unit_test(test_unix_peer_link),
		cmocka_unit_test(test_unix_late_peer_link),
		cmocka_unit_test(test_tls_late_peer_link),
		cmocka_unit_test(test_conn_open_96_bytes),
		cmocka_unit_test(test_unix_path_text),
		cmocka_unit_test(test_go_h2_handlers_by_stream),
		cmocka_unit_test(test_preface_in_two_reads),
		cmocka_unit_test(test_preface_byte_by_byte),
		cmocka_unit_test(test_preface_lookalike_is_http1),
		cmocka_unit_test(test_ids_stable),
		cmocka_unit_test(test_truncated_capture),
		cmocka_unit_test(test_preexisting_and_unknown_conns),
		cmocka_unit_test(test_unrecognised_and_tls_libraries),
		cmocka_unit_test(test_summary_no_requests),
		cmocka_unit_test(test_not_a_capture),
		cmocka_unit_test(test_many_requests),
		cmocka_unit_test(test_summary_matches_route_stats),
		cmocka_unit_test(test_writer_thread_same_rows),
		cmocka_unit_test(test_writer_thread_error),
		cmocka_unit_test(test_writer_thread_huge_row),
		cmocka_unit_test(test_late_request_and_pipelining),
		cmocka_unit_test(test_ambiguous_parent),
		cmocka_unit_test(test_proxy_parent),
		cmocka_unit_test(test_golden_dump),
		cmocka_unit_test(test_process_events),
		cmocka_unit_test(test_schema_matches_file),
		cmocka_unit_test(test_probes_table),
		cmocka_unit_test(test_u64map_churn),
		cmocka_unit_test(test_conn_addr_text),
		cmocka_unit_test(test_route_stats_walk_mismatch),
		cmocka_unit_test(test_otlp_int_attributes),
		cmocka_unit_test(test_dump_grpc_fields),
		cmocka_unit_test(test_peer_link_either_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
