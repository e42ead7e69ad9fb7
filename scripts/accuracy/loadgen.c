/* loadgen.c - HTTP/1.1 load client for the accuracy harness (scripts/accuracy/run.sh).
 *
 * One thread per client "slot", blocking sockets, so every timestamp is taken
 * right around the syscall it describes:
 *   -c N   N keep-alive slots: each opens a connection, sends up to -r requests
 *          on it (0: until the end), closes, reconnects (also when a response
 *          says "Connection: close", e.g. gunicorn's sync workers);
 *   -n N   N new-connection slots: one request per connection ("Connection: close");
 *   -d S   run S seconds (a request in flight at the deadline is finished);
 *   -N M   or stop each slot after M requests.
 * Every request is one CSV line on stdout (or -o FILE):
 *   slot,mode,conn_seq,local_port,req_index,connect_ns,send_ns,done_ns,
 *   send_mono_ns,done_mono_ns,status,resp_bytes,done_rx_ns
 * connect_ns: CLOCK_REALTIME just before connect() (same value on every request of
 * the connection); send_ns: just before the write of the request's first byte;
 * done_ns: just after the read that returned the response's last byte.  The
 * *_mono_ns columns are the same moments on CLOCK_MONOTONIC.  status is the HTTP
 * status, or -1 (connect/IO error, server closed, or no Content-Length).
 * done_rx_ns: the kernel's receive timestamp (SO_TIMESTAMPNS, CLOCK_REALTIME) of the
 * last segment of the response: when it reached the socket, free of this
 * thread's scheduling delay between arrival and read (0 if unavailable).
 * Build: cc -O2 -pthread -o loadgen loadgen.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
	int64_t connect_ns, send_ns, done_ns, send_mono, done_mono, done_rx;
};

struct slot {
	pthread_t th;
	int id, keepalive, reqs_per_conn;
	struct rec *recs;
	size_t n, cap;
};

static const char *g_host = "127.0.0.1", *g_path = "/";
static int g_port;
static int64_t g_deadline_mono;
static long g_max_reqs;

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

/* Reads one response; returns the status (or -1) and sets *bytes.  Extra bytes
 * beyond the response are not expected (no pipelining).  The head must fit in
 * the buffer; body bytes past it are counted, not kept. */
static int read_response(int fd, int *bytes, int64_t *done_real, int64_t *done_mono, int64_t *done_rx,
			 int *conn_close)
{
	char buf[65536];
	size_t have = 0;   /* bytes kept in buf (until the head is parsed) */
	long total = 0, need = -1;
	int status = -1, headed = 0;
	for (;;) {
		char *dst = headed ? buf : buf + have;
		size_t room = headed ? sizeof buf : sizeof buf - have;
		if (!room) return -1; /* head larger than the buffer */
		union { char b[CMSG_SPACE(sizeof(struct timespec)) * 2]; struct cmsghdr align; } cb;
		struct iovec iov = { .iov_base = dst, .iov_len = room };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b, .msg_controllen = sizeof cb.b };
		ssize_t k = recvmsg(fd, &mh, 0);
		int64_t tr = now(CLOCK_REALTIME), tm = now(CLOCK_MONOTONIC);
		*done_rx = 0;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); k > 0 && c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec ts;
				memcpy(&ts, CMSG_DATA(c), sizeof ts);
				*done_rx = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
			}
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
		r.connect_ns = now(CLOCK_REALTIME);
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
			r.status = -1; r.idx = 0; r.send_ns = r.done_ns = r.connect_ns;
			push(s, &r); done++;
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
			r.send_ns = now(CLOCK_REALTIME);
			if (write(fd, req, rl) != rl) { r.status = -1; r.done_ns = r.send_ns; push(s, &r); done++; break; }
			int cc = 0;
			r.status = read_response(fd, &r.bytes, &r.done_ns, &r.done_mono, &r.done_rx, &cc);
			push(s, &r); done++;
			if (r.status < 0 || cc) break; /* "Connection: close": reconnect, like any client */
		}
		close(fd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int nka = 1, nnew = 0, per = 0, opt;
	double dur = 3;
	const char *out = NULL;
	while ((opt = getopt(argc, argv, "h:p:c:n:r:d:N:u:o:")) != -1) {
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
		default:
			fprintf(stderr, "usage: %s -p PORT [-h IP] [-c KA_CONNS] [-n NEW_CONN_SLOTS] [-r REQS_PER_KA_CONN] "
				"[-d SECONDS] [-N MAX_REQS_PER_SLOT] [-u PATH] [-o CSV]\n", argv[0]);
			return 2;
		}
	}
	if (!g_port || nka + nnew <= 0) { fprintf(stderr, "loadgen: need -p and at least one slot\n"); return 2; }
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
	fprintf(f, "slot,mode,conn_seq,local_port,req_index,connect_ns,send_ns,done_ns,send_mono_ns,done_mono_ns,status,resp_bytes,done_rx_ns\n");
	long total = 0, bad = 0;
	for (int i = 0; i < n; i++)
		for (size_t j = 0; j < sl[i].n; j++) {
			struct rec *r = &sl[i].recs[j];
			fprintf(f, "%d,%s,%d,%d,%d,%lld,%lld,%lld,%lld,%lld,%d,%d,%lld\n", i, sl[i].keepalive ? "ka" : "new",
				r->conn_seq, r->port, r->idx, (long long)r->connect_ns, (long long)r->send_ns,
				(long long)r->done_ns, (long long)r->send_mono, (long long)r->done_mono, r->status, r->bytes,
				(long long)r->done_rx);
			total++;
			bad += r->status < 0;
		}
	if (out) fclose(f);
	fprintf(stderr, "loadgen: %ld requests, %ld errors\n", total, bad);
	return 0;
}
