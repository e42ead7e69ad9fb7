/* gen_capture.c - writes a synthetic capture for benchmarking `beyla analyze`
 * (scripts/bench_analyze.sh).  Not a test by itself.
 *
 *   gen_capture -n REQUESTS [-c CONNS] [-k KEEPALIVE] [-w THREADS]
 *               [-C CLIENT_EVERY] [-s SEED] -o OUT.bz.zst
 *
 * One server process (pid 100, THREADS worker threads) keeps CONNS
 * connections open at a time; each connection carries about KEEPALIVE
 * requests (1 .. 2*KEEPALIVE - 1, random) before it is closed and replaced,
 * so the number of open connections stays at CONNS whatever REQUESTS is.
 * Requests go round the open connections in random order, one at a time, as
 * a recorder would see a busy keep-alive server:
 *
 *   CONN_OPEN (accepted, established before the accept)
 *   per request: DATA in (request, arrival and read entry before the return)
 *                [every CLIENT_EVERY-th request: the same thread calls a
 *                 backend over its own keep-alive connection: DATA out, DATA in]
 *                DATA out (response; bodies larger than the snap length are
 *                cut to 512 captured bytes)
 *   CONN_CLOSE
 *
 * Payloads are realistic HTTP/1.1: GET/POST/PUT/DELETE on routes with ids,
 * query strings, Host, User-Agent, Accept, JSON bodies with Content-Length,
 * some chunked responses, statuses 200/201/204/404/500.  Deterministic for a
 * given seed.  Prints "requests=N events=N server_spans=N client_spans=N"
 * on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf/beyla_events.h"
#include "record/capture_format.h"
#include "record/capture_writer.h"

#define MONO0 5000000000000ull          /* clock pair: mono ... */
#define REAL0 1700000000000000000ull    /* ... and real */
#define SNAP 512
#define SERVER_PID 100
#define BATCH 4096                      /* records per EVENTS block */

static struct bz_writer *w;
static struct bz_buf ev;
static uint32_t nev;
static uint64_t events, now = MONO0 + 1000000;
static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = (rng_state += 0x9e3779b97f4a7c15ull);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static unsigned rndn(unsigned n) { return (unsigned)(rnd() % n); }

static void die(const char *what, int rc)
{
	fprintf(stderr, "gen_capture: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
	exit(1);
}

static void flush_events(void)
{
	struct bz_buf b = { 0 };
	int rc;

	if (!nev)
		return;
	bz_buf_put_u32(&b, nev);
	bz_buf_put_u32(&b, 0);
	bz_buf_put(&b, ev.data, ev.len);
	if ((rc = bz_writer_block(w, BZ_BLK_EVENTS, b.data, b.len)))
		die("write", rc);
	bz_buf_free(&b);
	bz_buf_reset(&ev);
	nev = 0;
}

static void put_event(const void *rec, size_t n, const void *payload, size_t plen)
{
	bz_buf_put(&ev, rec, n);
	if (plen)
		bz_buf_put(&ev, payload, plen);
	if (ev.err)
		die("buffer", ev.err);
	events++;
	if (++nev == BATCH)
		flush_events();
}

static void hdr(struct bz_ev_hdr *h, uint16_t kind, size_t size, uint64_t ts, uint32_t tid)
{
	h->ts_ns = ts;
	h->pid = SERVER_PID;
	h->tid = tid;
	h->kind = kind;
	h->size = (uint16_t)size;
}

static void ev_open(uint64_t conn, uint8_t role, uint64_t est, uint64_t sys, uint16_t lport,
		    uint16_t rport, uint32_t raddr, uint32_t tid)
{
	struct bz_ev_conn_open e = { 0 };
	hdr(&e.h, BZ_EV_CONN_OPEN, sizeof(e), now, tid);
	e.conn_id = conn;
	e.established_ns = est;
	e.syscall_start_ns = sys;
	e.family = BZ_AF_INET;
	e.local_port = lport;
	e.remote_port = rport;
	e.role = role;
	e.fd = (int32_t)(10 + conn % 1000);
	e.local_addr[0] = 10;
	e.local_addr[3] = 1;
	memcpy(e.remote_addr, &raddr, 4);
	put_event(&e, sizeof(e), NULL, 0);
}

static void ev_close(uint64_t conn, uint64_t in, uint64_t out)
{
	struct bz_ev_conn_close e = { 0 };
	hdr(&e.h, BZ_EV_CONN_CLOSE, sizeof(e), now, 0);
	e.conn_id = conn;
	e.bytes_in = in;
	e.bytes_out = out;
	put_event(&e, sizeof(e), NULL, 0);
}

/* One read or write of ret bytes, of which the first min(len, SNAP) of s
 * are captured. */
static void ev_data(uint64_t conn, int dir, uint32_t tid, uint64_t start, uint64_t arrival,
		    const char *s, size_t len, int32_t ret)
{
	struct bz_ev_data e = { 0 };
	size_t cap = len < SNAP ? len : SNAP;
	hdr(&e.h, BZ_EV_DATA, sizeof(e) + cap, now, tid);
	e.conn_id = conn;
	e.start_ns = start;
	e.arrival_ns = arrival;
	e.ret = ret;
	e.caplen = (uint16_t)cap;
	e.dir = (uint8_t)dir;
	e.syscall = dir == BZ_DIR_IN ? BZ_SYS_RECVFROM : BZ_SYS_WRITEV;
	put_event(&e, sizeof(e), s, cap);
}

static const char *const agents[] = {
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
	"curl/8.5.0",
	"python-requests/2.31.0",
	"Go-http-client/1.1",
	"okhttp/4.12.0",
};

/* Request text into buf; returns its length (head + body). */
static size_t make_request(char *buf, size_t cap, const char **method_out)
{
	unsigned r = rndn(100);
	unsigned id = rndn(1000000);
	const char *ua = agents[rndn(sizeof(agents) / sizeof(agents[0]))];
	char body[256];
	int n, blen = 0;

	if (r < 55) {
		*method_out = "GET";
		n = snprintf(buf, cap,
			     "GET /api/v1/users/%u/orders?page=%u&sort=desc&token=%08x HTTP/1.1\r\n"
			     "Host: shop.example.com\r\nUser-Agent: %s\r\nAccept: application/json\r\n"
			     "Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n",
			     id, rndn(20), (unsigned)rnd(), ua);
	} else if (r < 75) {
		*method_out = "GET";
		n = snprintf(buf, cap,
			     "GET /api/v1/products/%08x%08x/image HTTP/1.1\r\nHost: shop.example.com\r\n"
			     "User-Agent: %s\r\nAccept: image/*\r\nConnection: keep-alive\r\n\r\n",
			     (unsigned)rnd(), (unsigned)rnd(), ua);
	} else if (r < 88) {
		*method_out = "POST";
		blen = snprintf(body, sizeof(body),
				"{\"item\":%u,\"quantity\":%u,\"note\":\"please deliver before noon\"}",
				id, 1 + rndn(5));
		n = snprintf(buf, cap,
			     "POST /api/v1/carts/%u/items HTTP/1.1\r\nHost: shop.example.com\r\n"
			     "User-Agent: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
			     "Connection: keep-alive\r\n\r\n%s",
			     id, ua, blen, body);
	} else if (r < 95) {
		*method_out = "PUT";
		blen = snprintf(body, sizeof(body), "{\"name\":\"user %u\",\"email\":\"u%u@example.com\"}",
				id, id);
		n = snprintf(buf, cap,
			     "PUT /api/v1/users/%u HTTP/1.1\r\nHost: shop.example.com:8080\r\n"
			     "User-Agent: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			     id, ua, blen, body);
	} else {
		*method_out = "DELETE";
		n = snprintf(buf, cap,
			     "DELETE /api/v1/sessions/%08x-%04x-%04x-%04x-%012" PRIx64 " HTTP/1.1\r\n"
			     "Host: shop.example.com\r\nUser-Agent: %s\r\n\r\n",
			     (unsigned)rnd(), rndn(65536), rndn(65536), rndn(65536),
			     (uint64_t)(rnd() & 0xffffffffffffull), ua);
	}
	return (size_t)n;
}

/* Response text (what is captured) into buf; returns the captured length and
 * sets *ret to the bytes written (larger when the body exceeds the buffer). */
static size_t make_response(char *buf, size_t cap, const char *method, int32_t *ret)
{
	unsigned r = rndn(1000);
	unsigned status = r < 900 ? 200 : r < 930 ? (method[0] == 'P' && method[1] == 'O' ? 201 : 200) :
			  r < 950 ? 204 : r < 985 ? 404 : 500;
	const char *reason = status == 200 ? "OK" : status == 201 ? "Created" : status == 204 ? "No Content" :
			     status == 404 ? "Not Found" : "Internal Server Error";
	size_t body = status == 204 ? 0 : status >= 400 ? 40 + rndn(60) : 100 + rndn(r < 100 ? 20000 : 900);
	int chunked = status == 200 && rndn(10) == 0;
	int n;

	if (chunked)
		body = 50 + rndn(300);
	n = snprintf(buf, cap,
		     "HTTP/1.1 %u %s\r\nServer: nginx/1.24.0\r\nDate: Tue, 14 Nov 2023 22:13:20 GMT\r\n"
		     "Content-Type: application/json\r\n",
		     status, reason);
	if (chunked)
		n += snprintf(buf + n, cap - (size_t)n, "Transfer-Encoding: chunked\r\n\r\n%zx\r\n", body);
	else if (status != 204)
		n += snprintf(buf + n, cap - (size_t)n, "Content-Length: %zu\r\nConnection: keep-alive\r\n\r\n",
			      body);
	else
		n += snprintf(buf + n, cap - (size_t)n, "\r\n");
	/* body bytes: a JSON-ish filler */
	size_t head = (size_t)n, total = head + body + (chunked ? 7 : 0);
	size_t fill = total < cap ? total : cap;
	for (size_t i = head; i < fill; i++)
		buf[i] = "{\"id\":1234,\"name\":\"x\"},"[(i - head) % 24];
	if (chunked && total <= cap)
		memcpy(buf + head + body, "\r\n0\r\n\r\n", 7);
	*ret = (int32_t)total;
	return fill;
}

struct slot {
	uint64_t conn;
	unsigned left;
	uint32_t tid;
	uint64_t in, out;
};

int main(int argc, char **argv)
{
	uint64_t requests = 0, server_spans = 0, client_spans = 0, next_conn = 1;
	unsigned conns = 256, keepalive = 100, threads = 8, client_every = 10;
	const char *out = NULL;
	struct bz_buf b = { 0 };
	char req[1024], resp[1024];
	int opt, fd, rc;

	rng_state = 42;
	while ((opt = getopt(argc, argv, "n:c:k:w:C:s:o:")) != -1) {
		switch (opt) {
		case 'n': requests = strtoull(optarg, NULL, 0); break;
		case 'c': conns = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'k': keepalive = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'w': threads = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'C': client_every = (unsigned)strtoul(optarg, NULL, 0); break;
		case 's': rng_state = strtoull(optarg, NULL, 0); break;
		case 'o': out = optarg; break;
		default: goto usage;
		}
	}
	if (!out || !requests || !conns || !keepalive || !threads) {
usage:
		fprintf(stderr, "usage: gen_capture -n REQUESTS [-c CONNS] [-k KEEPALIVE] [-w THREADS]"
				" [-C CLIENT_EVERY (0: none)] [-s SEED] -o OUT.bz.zst\n");
		return 2;
	}
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(out, errno);
	if ((rc = bz_writer_new(&w, fd, 1)))
		die("writer", rc);

	bz_buf_put(&b, BZ_MAGIC, 8);
	bz_buf_put_u16(&b, BZ_FORMAT_MAJOR);
	bz_buf_put_u16(&b, BZ_FORMAT_MINOR);
	bz_buf_put_u32(&b, 0);
	bz_buf_opt_str(&b, BZ_HO_BEYLA_VERSION, "0.1.0");
	bz_buf_opt_str(&b, BZ_HO_HOSTNAME, "benchhost");
	bz_buf_opt_str(&b, BZ_HO_KERNEL, "6.1.0-bench");
	bz_buf_opt_str(&b, BZ_HO_ARCH, "x86_64");
	bz_buf_opt_str(&b, BZ_HO_BOOT_ID, "5c1e7d3a-bench-boot");
	bz_buf_opt_str(&b, BZ_HO_TARGET, "synthetic (tests/tools/gen_capture.c)");
	bz_buf_opt_u32(&b, BZ_HO_NCPUS, 2);
	bz_buf_opt_u64(&b, BZ_HO_CLOCK_MONO_NS, MONO0);
	bz_buf_opt_u64(&b, BZ_HO_CLOCK_REAL_NS, REAL0);
	bz_buf_opt_u64(&b, BZ_HO_START_MONO_NS, MONO0);
	bz_buf_opt_u32(&b, BZ_HO_SNAPLEN, SNAP);
	if ((rc = bz_writer_block(w, BZ_BLK_HEADER, b.data, b.len)))
		die("write", rc);
	bz_buf_reset(&b);
	bz_buf_put_u32(&b, SERVER_PID);
	bz_buf_put_u32(&b, 1);
	bz_buf_put_u64(&b, MONO0);
	bz_buf_put_u32(&b, BZ_PF_AT_START);
	bz_buf_put_u32(&b, 0);
	bz_buf_opt_str(&b, BZ_PR_EXE, "/usr/bin/shop-server");
	bz_buf_opt(&b, BZ_PR_CMDLINE, "shop-server\0--workers\0" "8\0", 23);
	bz_buf_opt_str(&b, BZ_PR_COMM, "shop-server");
	bz_buf_opt_str(&b, BZ_PR_SERVICE_NAME, "shop");
	if ((rc = bz_writer_block(w, BZ_BLK_PROC, b.data, b.len)))
		die("write", rc);
	bz_buf_reset(&b);

	/* Each worker thread has a keep-alive connection to a backend. */
	uint64_t *backend = calloc(threads, sizeof(*backend));
	uint64_t *bk_req = calloc(threads, sizeof(*bk_req));
	struct slot *slots = calloc(conns, sizeof(*slots));
	if (!backend || !bk_req || !slots)
		die("memory", ENOMEM);
	for (unsigned t = 0; t < threads; t++) {
		backend[t] = next_conn++;
		now += 20000;
		ev_open(backend[t], BZ_ROLE_CONNECTED, now - 50000, now - 90000, (uint16_t)(40000 + t), 6379,
			0x0200000a, SERVER_PID + 1 + t);
	}

	for (uint64_t done = 0; done < requests; done++) {
		struct slot *s = &slots[rndn(conns)];
		const char *method;
		int32_t ret;
		size_t len;

		if (!s->left) {
			if (s->conn) {
				now += 3000;
				ev_close(s->conn, s->in, s->out);
			}
			s->conn = next_conn++;
			s->left = 1 + rndn(2 * keepalive - 1);
			s->tid = SERVER_PID + 1 + rndn(threads);
			s->in = s->out = 0;
			now += 5000 + rndn(20000);
			/* established before the accept: waited in the accept queue */
			ev_open(s->conn, BZ_ROLE_ACCEPTED, now - 2000 - rndn(30000), now - 1000,
				8080, (uint16_t)(1024 + s->conn % 60000),
				0x0a00000a | (uint32_t)(s->conn % 250 + 1) << 24, s->tid);
		}
		s->left--;
		/* the request: arrived, then the worker entered read and got it */
		now += 2000 + rndn(50000);
		len = make_request(req, sizeof(req), &method);
		uint64_t arrival = now - 1000 - rndn(20000);
		ev_data(s->conn, BZ_DIR_IN, s->tid, arrival + rndn(2000), arrival, req, len, (int32_t)len);
		s->in += len;
		server_spans++;
		/* a call to the backend, made by the same thread */
		if (client_every && done % client_every == 0) {
			unsigned t = s->tid - SERVER_PID - 1;
			static const char get[] = "GET /cache/session/abc123 HTTP/1.1\r\nHost: cache.internal:6379\r\n"
						  "User-Agent: shop/1.0\r\n\r\n";
			static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
						 "Content-Length: 12\r\n\r\nsession-data";
			now += 3000 + rndn(5000);
			ev_data(backend[t], BZ_DIR_OUT, s->tid, now - 1500, 0, get, sizeof(get) - 1,
				(int32_t)sizeof(get) - 1);
			now += 20000 + rndn(200000);
			ev_data(backend[t], BZ_DIR_IN, s->tid, now - 150000, now - 2000, ok, sizeof(ok) - 1,
				(int32_t)sizeof(ok) - 1);
			bk_req[t]++;
			client_spans++;
		}
		/* the response */
		now += 10000 + rndn(rndn(10) ? 200000 : 5000000);
		len = make_response(resp, sizeof(resp), method, &ret);
		ev_data(s->conn, BZ_DIR_OUT, s->tid, now - 3000, 0, resp, len, ret);
		s->out += (uint64_t)ret;
	}
	for (unsigned i = 0; i < conns; i++) {
		if (slots[i].conn) {
			now += 3000;
			ev_close(slots[i].conn, slots[i].in, slots[i].out);
		}
	}
	for (unsigned t = 0; t < threads; t++) {
		now += 1000;
		ev_close(backend[t], 0, 0);
	}
	flush_events();
	bz_buf_reset(&b);
	bz_buf_opt_u64(&b, BZ_EO_END_MONO_NS, now + 1000);
	bz_buf_opt_u64(&b, BZ_EO_EVENTS, events);
	bz_buf_opt_u64(&b, BZ_EO_DROPS, 0);
	bz_buf_opt_u64(&b, BZ_EO_USER_DROPS, 0);
	bz_buf_opt_str(&b, BZ_EO_STOP_REASON, "duration");
	if ((rc = bz_writer_block(w, BZ_BLK_END, b.data, b.len)))
		die("write", rc);
	bz_buf_free(&b);
	bz_buf_free(&ev);
	if ((rc = bz_writer_close(&w)))
		die("close", rc);
	printf("requests=%" PRIu64 " events=%" PRIu64 " server_spans=%" PRIu64 " client_spans=%" PRIu64 "\n",
	       requests, events, server_spans, client_spans);
	free(backend);
	free(bk_req);
	free(slots);
	return 0;
}
