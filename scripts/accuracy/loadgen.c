/* loadgen.c - HTTP/1.1 load client for the accuracy harness (scripts/accuracy/run.sh).
 *
 * One thread per client "slot", blocking sockets, so every timestamp is taken
 * right around the syscall it describes:
 *   -c N   N keep-alive slots: each opens a connection, sends up to -r requests
 *          on it (0: until the end), closes, reconnects (also when a response
 *          says "Connection: close", e.g. gunicorn's sync workers);
 *   -n N   N new-connection slots: one request per connection ("Connection: close");
 *   -d S   run S seconds (a request in flight at the deadline is finished);
 *   -N M   or stop each slot after M requests;
 *   -s     HTTPS: the same requests through OpenSSL (TLS, certificate not
 *          verified, ALPN "http/1.1", a full handshake on every connection:
 *          no session resumption).
 * Every request is one CSV line on stdout (or -o FILE):
 *   slot,mode,conn_seq,local_port,req_index,connect_ns,send_ns,done_ns,
 *   send_mono_ns,done_mono_ns,status,resp_bytes,done_rx_ns,tls_ns,handler_cpu_ns
 * connect_ns: CLOCK_REALTIME just before connect() (same value on every request of
 * the connection); send_ns: just before the write of the request's first byte;
 * done_ns: just after the read that returned the response's last byte.  The
 * *_mono_ns columns are the same moments on CLOCK_MONOTONIC.  status is the HTTP
 * status, or -1 (connect/IO error, server closed, or no Content-Length).
 * done_rx_ns: the kernel's receive timestamp (SO_TIMESTAMPNS, CLOCK_REALTIME) of the
 * last segment of the response: when it reached the socket, free of this
 * thread's scheduling delay between arrival and read (0 if unavailable).
 * tls_ns: how long the TLS handshake (SSL_connect) of the connection took, 0
 * without -s.
 * handler_cpu_ns: the value of the response's X-Handler-Cpu-Ns header (the CPU
 * time the server's handler says it used: the harness's CPU-bound servers set
 * it), 0 without one.
 *
 * With -s the clocks are taken at the same places, around the TLS calls that
 * stand for the syscalls: connect_ns just before the TCP connect() (the TLS
 * handshake follows it and is inside the first request's client time, as the
 * TCP handshake is: beyla's server span of a connection's first request starts
 * at the TCP handshake, so the TLS handshake lies inside the span, in its
 * queue, before the read that returns the request); send_ns just before the
 * SSL_write of the request (its encryption is client time, as the plain
 * write's copy is); done_ns just after the SSL_read that returned the
 * response's last byte (its decryption included); done_rx_ns the kernel
 * receive timestamp of the last segment OpenSSL read from the socket before
 * that SSL_read returned, i.e. of the last record of the response: the
 * socket is read through a BIO of this file's own that calls recvmsg() with
 * SO_TIMESTAMPNS, where OpenSSL's socket BIO would call read().  OpenSSL
 * reads a record's exact bytes (no read-ahead), so the last read of the
 * response is the one that brought its last segment.
 * Build: cc -O2 -pthread -o loadgen loadgen.c -lssl -lcrypto (run.sh links
 * OpenSSL statically: beyla's OpenSSL uprobes sit on the system's libssl.so
 * for every process that maps it, and a client that mapped it would trap into
 * them, a few µs inside its timed interval, on every SSL_read and SSL_write).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct rec {
	int conn_seq, port, idx, status, bytes;
	int64_t connect_ns, send_ns, done_ns, send_mono, done_mono, done_rx, tls_ns, handler_cpu;
};

/* One connection: the socket, and with -s its TLS session.  rx is the kernel
 * receive time of the last segment the last socket read returned. */
struct conn {
	int fd;
	SSL *ssl;
	int64_t rx;
};

struct slot {
	pthread_t th;
	int id, keepalive, reqs_per_conn, tls_errors;
	struct rec *recs;
	size_t n, cap;
};

static const char *g_host = "127.0.0.1", *g_path = "/";
static int g_port;
static int64_t g_deadline_mono;
static long g_max_reqs;
static SSL_CTX *g_tls; /* -s */
static BIO_METHOD *g_bio_method;

static int64_t now(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void push(struct slot *s, const struct rec *r)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->recs = realloc(s->recs, s->cap * sizeof *s->recs);
		if (!s->recs) { perror("realloc"); exit(1); }
	}
	s->recs[s->n++] = *r;
}

/* recvmsg() with the kernel receive timestamp of the last segment it
 * returned (c->rx, unchanged if none came with it). */
static ssize_t sock_read(struct conn *c, void *dst, size_t room)
{
	union { char b[CMSG_SPACE(sizeof(struct timespec)) * 2]; struct cmsghdr align; } cb;
	struct iovec iov = { .iov_base = dst, .iov_len = room };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b, .msg_controllen = sizeof cb.b };
	ssize_t k;
	do k = recvmsg(c->fd, &mh, 0); while (k < 0 && errno == EINTR);
	for (struct cmsghdr *m = CMSG_FIRSTHDR(&mh); k > 0 && m; m = CMSG_NXTHDR(&mh, m))
		if (m->cmsg_level == SOL_SOCKET && m->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(m), sizeof ts);
			c->rx = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
		}
	return k;
}

/* The BIO under OpenSSL (-s): the blocking socket, read with sock_read. */
static int bio_read(BIO *b, char *out, int len)
{
	BIO_clear_retry_flags(b);
	return (int)sock_read(BIO_get_data(b), out, (size_t)len);
}

static int bio_write(BIO *b, const char *in, int len)
{
	struct conn *c = BIO_get_data(b);
	ssize_t k;
	BIO_clear_retry_flags(b);
	do k = send(c->fd, in, (size_t)len, MSG_NOSIGNAL); while (k < 0 && errno == EINTR);
	return (int)k;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b; (void)num; (void)ptr;
	return cmd == BIO_CTRL_FLUSH; /* writes are not buffered */
}

/* One read of response bytes: recvmsg, or SSL_read (which may read the
 * socket several times: c->rx is then its last read's). */
static ssize_t conn_read(struct conn *c, void *dst, size_t room)
{
	if (!c->ssl)
		return sock_read(c, dst, room);
	int k = SSL_read(c->ssl, dst, room > INT32_MAX ? INT32_MAX : (int)room);
	return k > 0 ? k : SSL_get_error(c->ssl, k) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

static int conn_write(struct conn *c, const void *src, int len)
{
	if (!c->ssl) {
		ssize_t k;
		do k = write(c->fd, src, (size_t)len); while (k < 0 && errno == EINTR);
		return (int)k;
	}
	return SSL_write(c->ssl, src, len);
}

/* Reads one response; returns the status (or -1) and sets *bytes.  Extra bytes
 * beyond the response are not expected (no pipelining).  The head must fit in
 * the buffer; body bytes past it are counted, not kept. */
static int read_response(struct conn *c, int *bytes, int64_t *done_real, int64_t *done_mono, int64_t *done_rx,
			 int *conn_close, int64_t *handler_cpu)
{
	char buf[65536];
	size_t have = 0;   /* bytes kept in buf (until the head is parsed) */
	long total = 0, need = -1;
	int status = -1, headed = 0;
	for (;;) {
		char *dst = headed ? buf : buf + have;
		size_t room = headed ? sizeof buf : sizeof buf - have;
		if (!room) return -1; /* head larger than the buffer */
		c->rx = 0;
		ssize_t k = conn_read(c, dst, room);
		int64_t tr = now(CLOCK_REALTIME), tm = now(CLOCK_MONOTONIC);
		*done_rx = k > 0 ? c->rx : 0;
		if (k <= 0) {
			*bytes = (int)total;
			if (k == 0 && headed && need < 0) { /* no length: ends with the close */
				*done_real = tr; *done_mono = tm;
				return status;
			}
			return -1;
		}
		total += k;
		*done_real = tr; *done_mono = tm;
		if (!headed) {
			have += (size_t)k;
			char *e = memmem(buf, have, "\r\n\r\n", 4);
			if (!e) continue;
			headed = 1;
			long head = (long)(e - buf) + 4, clen = -1;
			if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) return -1;
			for (char *p = buf; p < e; ) {
				char *nl = memchr(p, '\n', (size_t)(e + 2 - p));
				if (!nl) break;
				if (!strncasecmp(p, "content-length:", 15)) clen = strtol(p + 15, NULL, 10);
				if (!strncasecmp(p, "x-handler-cpu-ns:", 17)) *handler_cpu = strtoll(p + 17, NULL, 10);
				if (!strncasecmp(p, "connection:", 11) && memmem(p, (size_t)(nl - p), "close", 5))
					*conn_close = 1;
				p = nl + 1;
			}
			if (clen >= 0) need = head + clen;
		}
		if (need >= 0 && total >= need) {
			*bytes = (int)total;
			return status;
		}
	}
}

static void *run(void *arg)
{
	struct slot *s = arg;
	int conn_seq = 0;
	long done = 0;
	char req[512];
	int rl = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: beyla-loadgen\r\n%s\r\n",
			  g_path, g_host, g_port, s->keepalive ? "" : "Connection: close\r\n");
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(g_port) };
	inet_pton(AF_INET, g_host, &sa.sin_addr);
	while (now(CLOCK_MONOTONIC) < g_deadline_mono && (!g_max_reqs || done < g_max_reqs)) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		/* kernel receive time of the last segment each read returns: when the
		 * response's last byte reached this socket, whatever this thread's
		 * scheduling (2 vCPUs, 16 client threads: reads can run ms late) */
		setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
		struct rec r = { .conn_seq = conn_seq++ };
		struct conn c = { .fd = fd };
		r.connect_ns = now(CLOCK_REALTIME);
		int up = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
		if (up && g_tls) {
			/* the TLS handshake: inside request 0's client time (from connect_ns) */
			BIO *bio = BIO_new(g_bio_method);
			c.ssl = bio ? SSL_new(g_tls) : NULL;
			if (c.ssl) {
				BIO_set_data(bio, &c);
				BIO_set_init(bio, 1);
				SSL_set_bio(c.ssl, bio, bio); /* c.ssl owns bio now */
				int64_t t0 = now(CLOCK_MONOTONIC);
				up = SSL_connect(c.ssl) == 1;
				r.tls_ns = now(CLOCK_MONOTONIC) - t0;
			} else {
				BIO_free(bio);
				up = 0;
			}
			if (!up && s->tls_errors++ < 3)
				ERR_print_errors_fp(stderr);
		}
		if (!up) {
			r.status = -1; r.idx = 0; r.send_ns = r.done_ns = r.connect_ns;
			push(s, &r); done++;
			SSL_free(c.ssl);
			close(fd);
			usleep(1000);
			continue;
		}
		struct sockaddr_in la; socklen_t ll = sizeof la;
		getsockname(fd, (struct sockaddr *)&la, &ll);
		r.port = ntohs(la.sin_port);
		int per = s->keepalive ? s->reqs_per_conn : 1;
		for (int i = 0; (!per || i < per) && now(CLOCK_MONOTONIC) < g_deadline_mono &&
				(!g_max_reqs || done < g_max_reqs); i++) {
			r.idx = i;
			r.send_mono = now(CLOCK_MONOTONIC);
			r.send_ns = now(CLOCK_REALTIME); /* before write(), or SSL_write() with -s */
			if (conn_write(&c, req, rl) != rl) { r.status = -1; r.done_ns = r.send_ns; push(s, &r); done++; break; }
			int cc = 0;
			r.handler_cpu = 0;
			r.status = read_response(&c, &r.bytes, &r.done_ns, &r.done_mono, &r.done_rx, &cc, &r.handler_cpu);
			push(s, &r); done++;
			if (r.status < 0 || cc) break; /* "Connection: close": reconnect, like any client */
		}
		if (c.ssl) {
			/* close_notify, not waiting for the server's (as curl does) */
			if (r.status > 0)
				SSL_shutdown(c.ssl);
			SSL_free(c.ssl);
		}
		close(fd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int nka = 1, nnew = 0, per = 0, opt, tls = 0;
	double dur = 3;
	const char *out = NULL;
	while ((opt = getopt(argc, argv, "h:p:c:n:r:d:N:u:o:s")) != -1) {
		switch (opt) {
		case 'h': g_host = optarg; break;
		case 'p': g_port = atoi(optarg); break;
		case 'c': nka = atoi(optarg); break;
		case 'n': nnew = atoi(optarg); break;
		case 'r': per = atoi(optarg); break;
		case 'd': dur = atof(optarg); break;
		case 'N': g_max_reqs = atol(optarg); break;
		case 'u': g_path = optarg; break;
		case 'o': out = optarg; break;
		case 's': tls = 1; break;
		default:
			fprintf(stderr, "usage: %s -p PORT [-h IP] [-c KA_CONNS] [-n NEW_CONN_SLOTS] [-r REQS_PER_KA_CONN] "
				"[-d SECONDS] [-N MAX_REQS_PER_SLOT] [-u PATH] [-o CSV] [-s]\n", argv[0]);
			return 2;
		}
	}
	if (!g_port || nka + nnew <= 0) { fprintf(stderr, "loadgen: need -p and at least one slot\n"); return 2; }
	if (tls) {
		static const unsigned char alpn[] = "\x08http/1.1";
		g_tls = SSL_CTX_new(TLS_client_method());
		g_bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "loadgen socket");
		if (!g_tls || !g_bio_method || !BIO_meth_set_read(g_bio_method, bio_read) ||
		    !BIO_meth_set_write(g_bio_method, bio_write) || !BIO_meth_set_ctrl(g_bio_method, bio_ctrl) ||
		    SSL_CTX_set_alpn_protos(g_tls, alpn, sizeof alpn - 1)) {
			ERR_print_errors_fp(stderr);
			return 1;
		}
		/* a throwaway self-signed certificate: not verified */
		SSL_CTX_set_verify(g_tls, SSL_VERIFY_NONE, NULL);
		/* no session cache: every new connection makes a full handshake */
		SSL_CTX_set_session_cache_mode(g_tls, SSL_SESS_CACHE_OFF);
	}
	g_deadline_mono = now(CLOCK_MONOTONIC) + (int64_t)(dur * 1e9);
	int n = nka + nnew;
	struct slot *sl = calloc(n, sizeof *sl);
	for (int i = 0; i < n; i++) {
		sl[i].id = i;
		sl[i].keepalive = i < nka;
		sl[i].reqs_per_conn = per;
		if (pthread_create(&sl[i].th, NULL, run, &sl[i])) { perror("pthread_create"); return 1; }
	}
	for (int i = 0; i < n; i++) pthread_join(sl[i].th, NULL);
	FILE *f = out ? fopen(out, "w") : stdout;
	if (!f) { perror(out); return 1; }
	fprintf(f, "slot,mode,conn_seq,local_port,req_index,connect_ns,send_ns,done_ns,send_mono_ns,done_mono_ns,status,resp_bytes,done_rx_ns,tls_ns,handler_cpu_ns\n");
	long total = 0, bad = 0;
	for (int i = 0; i < n; i++)
		for (size_t j = 0; j < sl[i].n; j++) {
			struct rec *r = &sl[i].recs[j];
			fprintf(f, "%d,%s,%d,%d,%d,%lld,%lld,%lld,%lld,%lld,%d,%d,%lld,%lld,%lld\n", i,
				sl[i].keepalive ? "ka" : "new",
				r->conn_seq, r->port, r->idx, (long long)r->connect_ns, (long long)r->send_ns,
				(long long)r->done_ns, (long long)r->send_mono, (long long)r->done_mono, r->status, r->bytes,
				(long long)r->done_rx, (long long)r->tls_ns, (long long)r->handler_cpu);
			total++;
			bad += r->status < 0;
		}
	if (out) fclose(f);
	fprintf(stderr, "loadgen: %ld requests, %ld errors\n", total, bad);
	return 0;
}
