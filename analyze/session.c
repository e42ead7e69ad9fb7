/* session.c - replays a capture through a table of handlers (session.h).
 * Decodes HEADER, PROC, STATS and END bodies (TLV options, unknown codes
 * skipped), the probe report (probe_report.h) and EVENTS records (copied out aligned, too-short records
 * counted and skipped), and dispatches them in file order. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "session.h"

#define PROGRESS_EVERY 64 /* blocks between progress calls */

/* Copies a TLV string value into dst, NUL-terminated; embedded NULs become
 * sep (0: stop at the first NUL). */
static void tlv_str(char *dst, size_t cap, const uint8_t *v, uint32_t n, char sep)
{
	size_t k = n < cap - 1 ? n : cap - 1, o = 0;

	for (size_t i = 0; i < k; i++) {
		char c = (char)v[i];
		if (!c) {
			if (!sep)
				break;
			c = sep;
		}
		dst[o++] = c;
	}
	/* argv lists end with a NUL: no trailing separator */
	while (o && sep && dst[o - 1] == sep)
		o--;
	dst[o] = 0;
}

static int tlv_u64(const uint8_t *v, uint32_t n, uint64_t *out)
{
	if (n == 8)
		*out = bz_le64(v);
	else if (n == 4)
		*out = bz_le32(v);
	else
		return 0;
	return 1;
}

static void decode_header(const struct bz_block *b, struct bz_capture_meta *m)
{
	struct bz_tlv_iter it;
	const uint8_t *v;
	uint32_t n;
	uint16_t code;
	uint64_t x;
	int have_mono = 0, have_real = 0;

	memset(m, 0, sizeof(*m));
	if (b->len < 16)
		return;
	m->major = bz_le16(b->body + 8);
	m->minor = bz_le16(b->body + 10);
	m->flags = bz_le32(b->body + 12);
	bz_tlv_init(&it, b->body + 16, b->len - 16);
	while (bz_tlv_next(&it, &code, &v, &n) == 1) {
		switch (code) {
		case BZ_HO_BEYLA_VERSION: tlv_str(m->beyla_version, sizeof(m->beyla_version), v, n, 0); break;
		case BZ_HO_HOSTNAME: tlv_str(m->hostname, sizeof(m->hostname), v, n, 0); break;
		case BZ_HO_KERNEL: tlv_str(m->kernel, sizeof(m->kernel), v, n, 0); break;
		case BZ_HO_ARCH: tlv_str(m->arch, sizeof(m->arch), v, n, 0); break;
		case BZ_HO_BOOT_ID: tlv_str(m->boot_id, sizeof(m->boot_id), v, n, 0); break;
		case BZ_HO_TARGET: tlv_str(m->target, sizeof(m->target), v, n, 0); break;
		case BZ_HO_NCPUS: if (tlv_u64(v, n, &x)) m->ncpus = (uint32_t)x; break;
		case BZ_HO_SNAPLEN: if (tlv_u64(v, n, &x)) m->snaplen = (uint32_t)x; break;
		case BZ_HO_RING_BYTES: if (tlv_u64(v, n, &x)) m->ring_bytes = (uint32_t)x; break;
		case BZ_HO_KW_RX_MIN_NS: if (tlv_u64(v, n, &x)) m->kw_rx_min_ns = x; break;
		case BZ_HO_GO_MODE: if (tlv_u64(v, n, &x)) m->go_mode = (uint32_t)x; break;
		case BZ_HO_CLOCK_MONO_NS: have_mono = tlv_u64(v, n, &m->clock_mono_ns); break;
		case BZ_HO_CLOCK_REAL_NS: have_real = tlv_u64(v, n, &m->clock_real_ns); break;
		case BZ_HO_START_MONO_NS: tlv_u64(v, n, &m->start_mono_ns); break;
		default: break;
		}
	}
	m->has_clock = have_mono && have_real;
}

static int decode_proc(const struct bz_block *b, struct bz_proc_meta *m)
{
	struct bz_tlv_iter it;
	const uint8_t *v;
	uint32_t n;
	uint16_t code;

	memset(m, 0, sizeof(*m));
	if (b->len < BZ_PROC_FIXED)
		return -1;
	m->pid = bz_le32(b->body);
	m->ppid = bz_le32(b->body + 4);
	m->seen_ns = bz_le64(b->body + 8);
	m->flags = bz_le32(b->body + 16);
	bz_tlv_init(&it, b->body + BZ_PROC_FIXED, b->len - BZ_PROC_FIXED);
	while (bz_tlv_next(&it, &code, &v, &n) == 1) {
		switch (code) {
		case BZ_PR_EXE: tlv_str(m->exe, sizeof(m->exe), v, n, 0); break;
		case BZ_PR_CMDLINE: tlv_str(m->cmdline, sizeof(m->cmdline), v, n, ' '); break;
		case BZ_PR_COMM: tlv_str(m->comm, sizeof(m->comm), v, n, 0); break;
		case BZ_PR_SERVICE_NAME: tlv_str(m->service_name, sizeof(m->service_name), v, n, 0); break;
		case BZ_PR_RESOURCE_ATTRS: tlv_str(m->resource_attrs, sizeof(m->resource_attrs), v, n, 0); break;
		case BZ_PR_TLS_LIB: bz_tls_libs_add(&m->tls, v, n); break;
		default: break;
		}
	}
	return 0;
}

static int run_stats(const struct bz_block *b, const struct bz_session_ops *ops, void *u)
{
	struct bz_tlv_iter it;
	struct bz_probe_stat s;
	const uint8_t *v;
	uint32_t n;
	uint16_t code;
	int rc;

	if (b->len < BZ_STATS_FIXED || !ops->stats)
		return 0;
	uint64_t ts = bz_le64(b->body);
	bz_tlv_init(&it, b->body + BZ_STATS_FIXED, b->len - BZ_STATS_FIXED);
	while (bz_tlv_next(&it, &code, &v, &n) == 1) {
		if (code != BZ_SO_PROBE || n < 24)
			continue;
		memset(&s, 0, sizeof(s));
		s.ts_ns = ts;
		s.emitted = bz_le64(v);
		s.lost = bz_le64(v + 8);
		s.missed = bz_le64(v + 16);
		tlv_str(s.name, sizeof(s.name), v + 24, n - 24, 0);
		if ((rc = ops->stats(u, &s)))
			return rc;
	}
	return 0;
}

static void decode_end(const struct bz_block *b, struct bz_end_meta *m)
{
	struct bz_tlv_iter it;
	const uint8_t *v;
	uint32_t n;
	uint16_t code;

	memset(m, 0, sizeof(*m));
	bz_tlv_init(&it, b->body, b->len);
	while (bz_tlv_next(&it, &code, &v, &n) == 1) {
		switch (code) {
		case BZ_EO_END_MONO_NS: m->has_end_mono = tlv_u64(v, n, &m->end_mono_ns); break;
		case BZ_EO_EVENTS: m->has_events = tlv_u64(v, n, &m->events); break;
		case BZ_EO_DROPS: m->has_drops = tlv_u64(v, n, &m->drops); break;
		case BZ_EO_USER_DROPS: m->has_user_drops = tlv_u64(v, n, &m->user_drops); break;
		case BZ_EO_RAW_BYTES: tlv_u64(v, n, &m->raw_bytes); break;
		case BZ_EO_STOP_REASON: tlv_str(m->stop_reason, sizeof(m->stop_reason), v, n, 0); break;
		default: break;
		}
	}
}

/* The probes of a PROBES, GO_BINARY or TLS_LIBRARY block, one call each. */
static int run_probes(const struct bz_block *b, const struct bz_session_ops *ops, void *u,
		      struct bz_session_result *res)
{
	struct bz_probe_iter it;
	struct bz_probe_value v;
	struct bz_probe_row row;
	uint16_t code;
	int rc, first = 1;

	bz_probe_iter_init(&it, b);
	while ((rc = bz_probe_iter_next(&it, &code, &v)) > 0) {
		if (rc == BZ_PI_BAD)
			res->bad_probes++;
		if (rc != BZ_PI_PROBE || !ops->probe)
			continue;
		bz_probe_row_fill(&row, &it, &v);
		row.first = first;
		first = 0;
		if ((rc = ops->probe(u, &row)))
			return rc;
	}
	if (rc < 0)
		res->bad_probes++;
	return 0;
}

/* Minimum record sizes: the fields a handler relies on. */
static size_t min_size(unsigned kind)
{
	switch (kind) {
	case BZ_EV_PROC_EXEC: return offsetof(struct bz_ev_proc_exec, comm);
	case BZ_EV_PROC_FORK: return offsetof(struct bz_ev_proc_fork, child_pid) + 4;
	case BZ_EV_PROC_EXIT: return offsetof(struct bz_ev_proc_exit, exit_code) + 4;
	case BZ_EV_CONN_OPEN: return offsetof(struct bz_ev_conn_open, conn_id) + 8;
	case BZ_EV_CONN_EST: return sizeof(struct bz_ev_conn_est);
	case BZ_EV_CONN_CLOSE: return offsetof(struct bz_ev_conn_close, conn_id) + 8;
	case BZ_EV_DATA: return sizeof(struct bz_ev_data);
	case BZ_EV_GO_HANDLER: return sizeof(struct bz_ev_go_handler);
	case BZ_EV_GO_CLIENT: return sizeof(struct bz_ev_go_client);
	case BZ_EV_GO_SPAWN: return sizeof(struct bz_ev_go_spawn);
	case BZ_EV_RX_ARRIVAL: return sizeof(struct bz_ev_rx_arrival);
	case BZ_EV_PEER_RX: return sizeof(struct bz_ev_peer_rx);
	case BZ_EV_SCHED_SWITCH: return offsetof(struct bz_ev_sched_switch, prev_cpu_ns); /* before 1.8 */
	case BZ_EV_SCHED_WAKEUP: return sizeof(struct bz_ev_sched_wakeup);
	default: return sizeof(struct bz_ev_hdr);
	}
}

/* Takes the next string of a Go record: len bytes at *pos, cut at max and
 * at the record's end; NUL-terminated into dst (max + 1 bytes). */
static void go_string(char *dst, size_t max, const uint8_t *raw, size_t size, size_t *pos, size_t len)
{
	size_t avail = *pos < size ? size - *pos : 0;
	size_t take = len < avail ? len : avail;
	const uint8_t *src = raw + *pos;

	*pos += take;
	if (take > max)
		take = max;
	memcpy(dst, src, take);
	dst[take] = 0;
}

static int run_go(const uint8_t *raw, size_t size, unsigned kind, const struct bz_session_ops *ops,
		  void *u)
{
	struct bz_go_event g;
	size_t pos;

	memset(&g, 0, sizeof(g));
	g.ts_ns = bz_le64(raw);
	g.pid = bz_le32(raw + 8);
	g.tid = bz_le32(raw + 12);
	g.kind = (uint16_t)kind;
	if (kind == BZ_EV_GO_HANDLER) {
		struct bz_ev_go_handler e;
		bz_ev_copy(&e, sizeof(e), (const struct bz_ev_hdr *)raw);
		g.goid = e.goid;
		g.phase = e.phase;
		g.status = e.status;
		pos = sizeof(e);
		go_string(g.method, BZ_GO_METHOD_MAX, raw, size, &pos, e.method_len);
		go_string(g.remote, BZ_GO_STR_MAX, raw, size, &pos, e.remote_len);
		go_string(g.path, BZ_GO_STR_MAX, raw, size, &pos, e.path_len);
		if (g.phase == BZ_GO_START && size >= pos + sizeof(struct bz_go_req_ext)) {
			/* minor >= 7: the request extension, Host, RequestURI */
			struct bz_go_req_ext x;
			memcpy(&x, raw + pos, sizeof(x));
			pos += sizeof(x);
			g.stream = x.stream;
			g.has_req = 1;
			g.proto_major = x.proto_major;
			g.content_length = (x.flags & BZ_GOX_CL_KNOWN) ? x.content_length : -1;
			go_string(g.host, BZ_GO_STR_MAX, raw, size, &pos, x.host_len);
			go_string(g.uri, BZ_GO_STR_MAX, raw, size, &pos, x.uri_len);
		} else if (g.phase == BZ_GO_START && size >= pos + BZ_GO_HANDLER_STREAM_LEN) {
			/* minor 3 to 6: an HTTP/2 START's stream id after the strings */
			g.stream = bz_le32(raw + pos);
		}
	} else if (kind == BZ_EV_GO_CLIENT) {
		struct bz_ev_go_client e;
		bz_ev_copy(&e, sizeof(e), (const struct bz_ev_hdr *)raw);
		g.goid = e.goid;
		g.parent_goid = e.parent_goid;
		g.phase = e.phase;
		g.status = e.status;
		pos = sizeof(e);
		go_string(g.method, BZ_GO_METHOD_MAX, raw, size, &pos, e.method_len);
		go_string(g.host, BZ_GO_STR_MAX, raw, size, &pos, e.host_len);
		go_string(g.path, BZ_GO_STR_MAX, raw, size, &pos, e.path_len);
	} else {
		struct bz_ev_go_spawn e;
		bz_ev_copy(&e, sizeof(e), (const struct bz_ev_hdr *)raw);
		g.goid = e.goid;
		g.parent_goid = e.parent_goid;
	}
	return ops->go(u, &g);
}

static int run_event(const struct bz_ev_hdr *rec, const struct bz_session_ops *ops, void *u,
		     struct bz_session_result *res)
{
	const uint8_t *raw = (const uint8_t *)rec;
	unsigned kind = bz_le16(raw + 16);
	size_t size = bz_le16(raw + 18);
	union {
		struct bz_ev_proc_exec exec;
		struct bz_ev_proc_fork fork;
		struct bz_ev_proc_exit exit;
		struct bz_ev_conn_open open;
		struct bz_ev_conn_est est;
		struct bz_ev_conn_close close;
		struct bz_ev_data data;
		struct bz_ev_rx_arrival rx;
		struct bz_ev_peer_rx peer;
		struct bz_ev_sched_switch sw;
		struct bz_ev_sched_wakeup wk;
	} e;

	if (kind == 0 || kind >= BZ_EV_KIND_MAX) {
		res->unknown_events++;
		return 0;
	}
	if (size < min_size(kind)) {
		res->bad_records++;
		return 0;
	}
	res->events++;
	switch (kind) {
	case BZ_EV_PROC_EXEC:
		if (!ops->exec)
			return 0;
		bz_ev_copy(&e.exec, sizeof(e.exec), rec);
		if (e.exec.filename_len > BZ_PATH_MAX)
			e.exec.filename_len = BZ_PATH_MAX;
		if (e.exec.args_len > BZ_ARGS_MAX)
			e.exec.args_len = BZ_ARGS_MAX;
		return ops->exec(u, &e.exec);
	case BZ_EV_PROC_FORK:
		if (!ops->fork)
			return 0;
		bz_ev_copy(&e.fork, sizeof(e.fork), rec);
		return ops->fork(u, &e.fork);
	case BZ_EV_PROC_EXIT:
		if (!ops->exit)
			return 0;
		bz_ev_copy(&e.exit, sizeof(e.exit), rec);
		return ops->exit(u, &e.exit);
	case BZ_EV_CONN_OPEN:
		if (!ops->conn_open)
			return 0;
		bz_ev_copy(&e.open, sizeof(e.open), rec);
		return ops->conn_open(u, &e.open);
	case BZ_EV_CONN_EST:
		if (!ops->conn_est)
			return 0;
		bz_ev_copy(&e.est, sizeof(e.est), rec);
		return ops->conn_est(u, &e.est);
	case BZ_EV_CONN_CLOSE:
		if (!ops->conn_close)
			return 0;
		bz_ev_copy(&e.close, sizeof(e.close), rec);
		return ops->conn_close(u, &e.close);
	case BZ_EV_DATA:
		if (!ops->data)
			return 0;
		bz_ev_copy(&e.data, sizeof(e.data), rec);
		/* The payload follows the fixed part; never trust caplen beyond
		 * the record. */
		if (e.data.caplen > size - sizeof(struct bz_ev_data))
			e.data.caplen = (uint16_t)(size - sizeof(struct bz_ev_data));
		return ops->data(u, &e.data, raw + sizeof(struct bz_ev_data));
	case BZ_EV_GO_HANDLER:
	case BZ_EV_GO_CLIENT:
	case BZ_EV_GO_SPAWN:
		return ops->go ? run_go(raw, size, kind, ops, u) : 0;
	case BZ_EV_RX_ARRIVAL:
		if (!ops->rx_arrival)
			return 0;
		bz_ev_copy(&e.rx, sizeof(e.rx), rec);
		return ops->rx_arrival(u, &e.rx);
	case BZ_EV_PEER_RX:
		if (!ops->peer_rx)
			return 0;
		bz_ev_copy(&e.peer, sizeof(e.peer), rec);
		return ops->peer_rx(u, &e.peer);
	case BZ_EV_SCHED_SWITCH:
		if (!ops->sched_switch)
			return 0;
		bz_ev_copy(&e.sw, sizeof(e.sw), rec);
		return ops->sched_switch(u, &e.sw);
	case BZ_EV_SCHED_WAKEUP:
		if (!ops->sched_wakeup)
			return 0;
		bz_ev_copy(&e.wk, sizeof(e.wk), rec);
		return ops->sched_wakeup(u, &e.wk);
	}
	return 0;
}

int bz_session_run(struct bz_reader *r, const struct bz_session_ops *ops, void *u,
		   struct bz_session_result *res)
{
	struct bz_block b;
	struct bz_ev_iter it;
	const struct bz_ev_hdr *rec;
	int rc = 0, n, en;
	union {
		struct bz_capture_meta cap;
		struct bz_proc_meta proc;
		struct bz_end_meta end;
	} m;

	memset(res, 0, sizeof(*res));
	while ((n = bz_reader_next(r, &b)) == 1) {
		res->blocks++;
		if (ops->progress && res->blocks % PROGRESS_EVERY == 0)
			ops->progress(u, bz_reader_compressed_offset(r));
		switch (b.type) {
		case BZ_BLK_HEADER:
			if (res->saw_header)
				break; /* only the first one counts */
			res->saw_header = 1;
			decode_header(&b, &m.cap);
			if (ops->header)
				rc = ops->header(u, &m.cap);
			break;
		case BZ_BLK_PROC:
			if (ops->proc && decode_proc(&b, &m.proc) == 0)
				rc = ops->proc(u, &m.proc);
			break;
		case BZ_BLK_EVENTS:
			if (bz_ev_iter_init(&it, &b)) {
				res->bad_records++;
				break;
			}
			while (!rc && (en = bz_ev_iter_next(&it, &rec)) == 1)
				rc = run_event(rec, ops, u, res);
			if (!rc && en < 0)
				res->bad_records++;
			break;
		case BZ_BLK_STATS:
			rc = run_stats(&b, ops, u);
			break;
		case BZ_BLK_END:
			res->saw_end = 1;
			decode_end(&b, &m.end);
			if (ops->end)
				rc = ops->end(u, &m.end);
			break;
		case BZ_BLK_PROBES:
		case BZ_BLK_GO_BINARY:
		case BZ_BLK_TLS_LIBRARY:
			rc = run_probes(&b, ops, u, res);
			break;
		default:
			res->unknown_blocks++;
			break;
		}
		if (rc)
			break;
	}
	if (!rc && n < 0) {
		res->read_status = n;
		snprintf(res->errmsg, sizeof(res->errmsg), "%s", bz_reader_errmsg(r));
	}
	if (ops->progress)
		ops->progress(u, bz_reader_compressed_offset(r));
	return rc;
}
