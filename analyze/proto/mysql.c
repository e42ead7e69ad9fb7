/* mysql.c - MySQL / MariaDB connections as database calls (mysql.h).
 *
 * Each direction is cut into logical packets (a packet whose payload is
 * 0xffffff bytes continues in the next one), their first MY_KEEP payload
 * bytes kept; a logical packet is handled once whole.  Client packets of
 * the command phase are requests; server packets go through the response
 * walker (mysql_wire.h) of the oldest command not yet answered. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../u64map.h"
#include "mysql.h"
#include "mysql_wire.h"
#include "sql_text.h"

#define MY_KEEP 2048u         /* payload bytes kept of a logical packet */
#define MY_PENDING_MAX 64u    /* commands sent and not yet answered */
#define MY_STMTS_MAX 4096u    /* prepared statements remembered per connection */

enum my_phase {
	PH_GREETING = 0, /* the server's Initial Handshake comes first */
	PH_HSRESP,       /* the client's HandshakeResponse (or SSLRequest) */
	PH_AUTH,         /* authentication until the server's OK or ERR */
	PH_CMD,          /* commands and their answers */
	PH_TLS,          /* after an SSLRequest: TLS records, not read */
	PH_DEAD,         /* authentication failed: nothing more to read */
};

/* What a prepared statement is, for the executes of it. */
struct my_stmt {
	char operation[BZ_DB_OP_MAX];
	char collection[BZ_DB_NAME_MAX];
	char query[BZ_DB_QUERY_MAX];
};

/* A command sent, waiting for its answer. */
struct my_pend {
	uint64_t index;
	uint8_t cmd;
	struct bz_http_point sent;  /* the write holding its last byte */
	struct my_stmt *prep;       /* COM_STMT_PREPARE: what it prepares (owned) */
};

/* One direction's packet framing. */
struct my_dir {
	uint8_t hdr[MY_HDR];
	uint8_t hn;         /* header bytes of the current packet so far */
	uint8_t cont;       /* the logical packet goes on in the next packet */
	uint8_t inpkt;      /* a logical packet has begun */
	uint8_t seq;        /* its first packet's sequence id */
	uint8_t cut;        /* some of its payload was not captured */
	uint8_t lost;       /* framing lost: waiting for a point to take it up */
	uint8_t resynced;   /* the next message was found after a loss */
	uint8_t cmd_since_lost; /* server side: the client sent a command since the loss */
	uint8_t lost_data;  /* server side: bytes went by unread since the last command */
	uint32_t plen0;     /* the first packet's payload length */
	uint32_t rem;       /* payload bytes of the current packet still to come */
	uint64_t bytes;     /* bytes of the logical packet so far, headers included */
	uint32_t blen;
	uint8_t buf[MY_KEEP];
	struct bz_http_point first, cur;
};

struct bz_mysql {
	struct bz_proto_cfg cfg;
	int req_dir;
	uint8_t phase;
	uint8_t flushed;
	struct my_caps caps;
	uint32_t srv_flags, srv_ext;
	char system[16];
	char ns[BZ_DB_NAME_MAX];
	struct my_dir d[2];
	struct my_pend q[MY_PENDING_MAX];
	unsigned qh, qn;
	/* the answer being read (to q[qh]) */
	uint8_t resp_active;
	uint8_t rows_seen;
	uint64_t rows;
	struct my_resp r;
	struct bz_http_msg rm;
	uint64_t next_index;
	struct bz_u64map stmts; /* statement id -> struct my_stmt */
	struct bz_proto_stats st;
};

/* ---- detection ---------------------------------------------------------------- */

int bz_mysql_detect(const uint8_t *p, size_t n, int dir, int fresh)
{
	(void)dir;
	if (!p || !n)
		return BZ_PROTO_NO;
	if (my_is_greeting(p, n))
		return BZ_PROTO_YES;
	/* joined mid-way: a client's command (the bytes may be a prefix) */
	if (!fresh && my_is_command(p, n, 0))
		return BZ_PROTO_YES;
	return BZ_PROTO_NO;
}

/* ---- helpers ------------------------------------------------------------------- */

static int server_dir(const struct bz_mysql *p) { return p->req_dir == BZ_HTTP_DIR_UNKNOWN ? -1 : !p->req_dir; }

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* A NUL-terminated name at b[*i..n) into dst (printable bytes only); moves
 * *i past the NUL.  0 when no NUL was captured. */
static int take_cstr(const uint8_t *b, size_t n, size_t *i, char *dst, size_t cap)
{
	size_t k = 0;

	while (*i < n && b[*i]) {
		if (k + 1 < cap && b[*i] >= 0x20 && b[*i] < 0x7f)
			dst[k++] = (char)b[*i];
		(*i)++;
	}
	if (dst)
		dst[k] = 0;
	if (*i >= n)
		return 0;
	(*i)++;
	return 1;
}

static void msg_init(struct bz_mysql *p, struct bz_http_msg *m, int dir, int is_request, uint64_t index,
		     const struct bz_http_point *first)
{
	memset(m, 0, sizeof(*m));
	m->dir = (uint8_t)dir;
	m->is_request = (uint8_t)is_request;
	m->version = 1;
	m->proto = BZ_PROTO_MYSQL;
	m->index = index;
	m->first = *first;
	m->last = *first;
	m->content_length = -1;
	m->grpc_status = -1;
	m->db.rows = -1;
	copy_str(m->db.system, sizeof(m->db.system), p->system);
	copy_str(m->db.namespace_, sizeof(m->db.namespace_), p->ns);
}

static struct my_pend *pend_head(struct bz_mysql *p) { return p->qn ? &p->q[p->qh] : NULL; }

static void pend_pop(struct bz_mysql *p)
{
	struct my_pend *e = pend_head(p);

	if (!e)
		return;
	free(e->prep);
	e->prep = NULL;
	p->qh = (p->qh + 1) % MY_PENDING_MAX;
	p->qn--;
}

/* ---- the handshake ----------------------------------------------------------------- */

static void on_greeting(struct bz_mysql *p, const struct my_dir *d)
{
	char version[80];

	my_greeting_caps(d->buf, d->blen, &p->srv_flags, &p->srv_ext, version, sizeof(version));
	copy_str(p->system, sizeof(p->system), strstr(version, "MariaDB") ? "mariadb" : "mysql");
}

/* The client's HandshakeResponse41 (or an SSLRequest: the first 32 bytes). */
static void on_hs_response(struct bz_mysql *p, const struct my_dir *d)
{
	const uint8_t *b = d->buf;
	size_t n = d->blen, i;
	uint32_t flags;
	uint64_t alen = 0;
	size_t s;

	p->phase = PH_AUTH;
	if (n < 4)
		return;
	flags = my_le32(b);
	p->caps.flags = flags & (p->srv_flags ? p->srv_flags : ~0u);
	p->caps.known = p->caps.eof_known = 1;
	if (n >= 32 && !(flags & 1u))
		p->caps.ext = my_le32(b + 28) & p->srv_ext;
	if ((flags & MY_CLIENT_SSL) && d->plen0 == 32) {
		p->phase = PH_TLS;
		p->st.upgraded = 1;
		return;
	}
	if (!(flags & MY_CLIENT_PROTOCOL_41))
		return; /* HandshakeResponse320: too old to name a database here */
	i = 32;
	if (!take_cstr(b, n, &i, NULL, 0))
		return; /* user name */
	if (flags & MY_CLIENT_PLUGIN_AUTH_LENENC) {
		s = i < n ? my_lenenc(b + i, n - i, &alen) : 0;
		if (!s)
			return;
		i += s;
	} else if (flags & MY_CLIENT_SECURE_CONNECTION) {
		if (i >= n)
			return;
		alen = b[i++];
	} else {
		if (!take_cstr(b, n, &i, NULL, 0))
			return;
	}
	if (alen > n - i)
		return;
	i += (size_t)alen;
	if (flags & MY_CLIENT_CONNECT_WITH_DB)
		take_cstr(b, n, &i, p->ns, sizeof(p->ns));
}

/* ---- requests ------------------------------------------------------------------- */

/* The SQL text of a COM_QUERY / COM_STMT_PREPARE payload b[0..n) (the
 * command byte first; cut: the rest not captured) into m->db. */
static void sql_call(struct bz_mysql *p, const uint8_t *b, size_t n, int cut, struct bz_http_msg *m)
{
	size_t i = 1;
	uint32_t nstmts = 0;

	if (p->caps.flags & MY_CLIENT_QUERY_ATTRIBUTES) {
		uint64_t count = 0, sets = 0;
		size_t s = i < n ? my_lenenc(b + i, n - i, &count) : 0;
		size_t t = s && i + s < n ? my_lenenc(b + i + s, n - i - s, &sets) : 0;
		if (!s || !t || count) {
			copy_str(m->db.operation, sizeof(m->db.operation), my_cmd_name(b[0]));
			return; /* parameters before the text: not followed */
		}
		i += s + t;
	}
	if (i > n)
		i = n;
	bz_sql_sanitize((const char *)b + i, n - i, BZ_SQL_MYSQL, m->db.query, sizeof(m->db.query));
	bz_sql_summary(m->db.query, m->db.operation, sizeof(m->db.operation), m->db.collection,
		       sizeof(m->db.collection), &nstmts);
	if (!m->db.operation[0] || (cut && !strchr(m->db.query, ' '))) {
		/* its text not captured, or cut inside its first word */
		copy_str(m->db.operation, sizeof(m->db.operation), my_cmd_name(b[0]));
		m->db.collection[0] = 0;
	}
	if (nstmts > 1) {
		m->db.batch = 1;
		m->db.batch_size = nstmts;
	}
	if (!strcmp(m->db.operation, "USE") && nstmts == 1) {
		/* USE db: the namespace from now on */
		const char *s = m->db.query + 3;
		char name[BZ_DB_NAME_MAX];
		size_t k = 0;
		while (*s == ' ')
			s++;
		for (; *s && *s != ' ' && *s != ';' && k + 1 < sizeof(name); s++)
			if (*s != '`')
				name[k++] = *s;
		name[k] = 0;
		if (k) {
			copy_str(p->ns, sizeof(p->ns), name);
			copy_str(m->db.namespace_, sizeof(m->db.namespace_), name);
		}
	}
}

static void stmt_forget(struct bz_mysql *p, uint32_t id) { free(bz_u64map_del(&p->stmts, id)); }

static void stmt_remember(struct bz_mysql *p, uint32_t id, const struct my_stmt *s)
{
	struct my_stmt *c;

	stmt_forget(p, id);
	if (p->stmts.len >= MY_STMTS_MAX || !(c = malloc(sizeof(*c))))
		return; /* (its executes will say EXECUTE) */
	*c = *s;
	if (bz_u64map_put(&p->stmts, id, c))
		free(c);
}

static void end_response(struct bz_mysql *p, uint32_t flags);
static void answer_guessed(struct bz_mysql *p);

static void on_command(struct bz_mysql *p, int dir, struct my_dir *d)
{
	const uint8_t *b = d->buf;
	size_t n = d->blen;
	struct bz_http_msg m;
	struct my_stmt *prep = NULL;
	int sd = server_dir(p);
	unsigned cmd;

	if (d->seq != 0 || !n) {
		/* LOCAL INFILE data, COM_CHANGE_USER's authentication: part of
		 * the call already reported */
		p->st.ignored[dir] += d->bytes;
		return;
	}
	cmd = b[0];
	if (sd >= 0 && p->d[sd].lost) {
		/* the answers to what came before were in what was lost (if
		 * anything went by since: else they are still to come, pipelined) */
		if (p->d[sd].lost_data)
			answer_guessed(p);
		p->d[sd].lost_data = 0;
		p->d[sd].cmd_since_lost = 1;
	}
	if (!my_cmd_answered(cmd)) {
		if (cmd == MY_COM_STMT_CLOSE && n >= 5)
			stmt_forget(p, my_le32(b + 1));
		p->st.ignored[dir] += d->bytes;
		return;
	}
	msg_init(p, &m, dir, 1, p->next_index++, &d->first);
	m.last = d->cur;
	m.head_bytes = d->bytes;
	if (d->cut)
		m.flags |= BZ_HTTP_F_HEAD_CUT;
	if (d->resynced) {
		m.flags |= BZ_HTTP_F_RESYNC;
		d->resynced = 0;
	}
	switch (cmd) {
	case MY_COM_QUERY:
		sql_call(p, b, n, d->cut, &m);
		if (!strcmp(m.db.operation, "USE"))
			copy_str(m.db.namespace_, sizeof(m.db.namespace_), p->ns);
		break;
	case MY_COM_STMT_PREPARE:
		sql_call(p, b, n, d->cut, &m);
		prep = calloc(1, sizeof(*prep));
		if (prep) {
			copy_str(prep->operation, sizeof(prep->operation), m.db.operation);
			copy_str(prep->collection, sizeof(prep->collection), m.db.collection);
			copy_str(prep->query, sizeof(prep->query), m.db.query);
		}
		copy_str(m.db.operation, sizeof(m.db.operation), "PREPARE");
		break;
	case MY_COM_STMT_EXECUTE:
	case MY_COM_STMT_BULK_EXECUTE: {
		const struct my_stmt *s = n >= 5 ? bz_u64map_get(&p->stmts, my_le32(b + 1)) : NULL;
		if (s) {
			copy_str(m.db.operation, sizeof(m.db.operation), s->operation);
			copy_str(m.db.collection, sizeof(m.db.collection), s->collection);
			copy_str(m.db.query, sizeof(m.db.query), s->query);
		} else {
			copy_str(m.db.operation, sizeof(m.db.operation), my_cmd_name(cmd));
		}
		if (cmd == MY_COM_STMT_BULK_EXECUTE) {
			m.db.batch = 1;
			m.db.batch_size = 0;
		}
		break;
	}
	case MY_COM_INIT_DB: {
		size_t i = 1;
		char name[BZ_DB_NAME_MAX];
		size_t k = 0;
		for (; i < n && k + 1 < sizeof(name); i++)
			if (b[i] >= 0x20 && b[i] < 0x7f)
				name[k++] = (char)b[i];
		name[k] = 0;
		copy_str(p->ns, sizeof(p->ns), name);
		copy_str(m.db.namespace_, sizeof(m.db.namespace_), name);
		copy_str(m.db.operation, sizeof(m.db.operation), "INIT_DB");
		break;
	}
	case MY_COM_CHANGE_USER: {
		/* user\0, auth (1-byte length, or NUL-terminated), database\0 */
		size_t i = 1;
		char name[BZ_DB_NAME_MAX];
		copy_str(m.db.operation, sizeof(m.db.operation), "CHANGE_USER");
		if (!take_cstr(b, n, &i, NULL, 0))
			break;
		if (p->caps.flags & MY_CLIENT_SECURE_CONNECTION) {
			if (i >= n)
				break;
			i += 1 + (size_t)b[i];
		} else if (!take_cstr(b, n, &i, NULL, 0)) {
			break;
		}
		if (i < n && take_cstr(b, n, &i, name, sizeof(name))) {
			copy_str(p->ns, sizeof(p->ns), name);
			copy_str(m.db.namespace_, sizeof(m.db.namespace_), name);
		}
		break;
	}
	default: {
		const char *name = my_cmd_name(cmd);
		char unknown[16];
		if (!name) {
			snprintf(unknown, sizeof(unknown), "COM_0x%02x", cmd);
			name = unknown;
		}
		copy_str(m.db.operation, sizeof(m.db.operation), name);
		break;
	}
	}
	p->st.requests++;
	p->st.msg_bytes[dir] += m.head_bytes;
	p->cfg.cb(p->cfg.user, BZ_HTTP_HEAD, &m);
	p->cfg.cb(p->cfg.user, BZ_HTTP_END, &m);
	if (p->qn >= MY_PENDING_MAX) {
		/* too many unanswered: the oldest is given up (its span ends
		 * with the connection) */
		p->st.queue_overflows++;
		free(prep);
		return;
	}
	{
		struct my_pend *e = &p->q[(p->qh + p->qn) % MY_PENDING_MAX];
		e->index = m.index;
		e->cmd = (uint8_t)cmd;
		e->sent = d->cur;
		e->prep = prep;
		p->qn++;
	}
}

/* ---- responses ------------------------------------------------------------------ */

static void end_response(struct bz_mysql *p, uint32_t flags)
{
	struct bz_http_msg *m = &p->rm;

	if (!p->resp_active)
		return;
	m->flags |= flags;
	m->db.rows = p->rows_seen ? (int64_t)p->rows : -1;
	if (flags & BZ_HTTP_F_GUESSED_END) {
		m->db.rows = -1;
		p->st.guessed_ends++;
	}
	p->st.responses++;
	p->st.msg_bytes[m->dir] += m->head_bytes + m->body_bytes;
	p->resp_active = 0;
	p->cfg.cb(p->cfg.user, BZ_HTTP_END, m);
	pend_pop(p);
}

static void begin_response(struct bz_mysql *p, int dir, const struct bz_http_point *first)
{
	struct my_pend *e = pend_head(p);

	msg_init(p, &p->rm, dir, 0, e->index, first);
	memset(&p->r, 0, sizeof(p->r));
	p->r.cmd = e->cmd;
	p->r.state = MYR_FIRST;
	p->rows = 0;
	p->rows_seen = 0;
	p->resp_active = 1;
	if (p->d[dir].resynced) {
		p->rm.flags |= BZ_HTTP_F_RESYNC;
		p->d[dir].resynced = 0;
	}
	p->cfg.cb(p->cfg.user, BZ_HTTP_HEAD, &p->rm);
}

/* The server framing was lost and the client sent a new command: every
 * earlier command was answered in what was lost.  Their answers end at
 * the last server read or write seen (or the command's own write, when
 * later). */
static void answer_guessed(struct bz_mysql *p)
{
	int sd = server_dir(p);

	if (sd < 0)
		return;
	if (p->resp_active) {
		p->rm.last = p->d[sd].cur;
		end_response(p, BZ_HTTP_F_GUESSED_END);
	}
	while (p->qn) {
		const struct my_pend *e = pend_head(p);
		struct bz_http_point at = p->d[sd].cur.ts_ns >= e->sent.ts_ns ? p->d[sd].cur : e->sent;
		begin_response(p, sd, &at);
		end_response(p, BZ_HTTP_F_GUESSED_END);
	}
}

static void on_response_packet(struct bz_mysql *p, int dir, struct my_dir *d)
{
	const uint8_t *b = d->buf;
	size_t n = d->blen;
	enum my_pkt k;
	int done;

	if (!p->resp_active) {
		if (!p->qn) {
			/* unasked (an ERR before the server closes): no call */
			p->st.ignored[dir] += d->bytes;
			return;
		}
		begin_response(p, dir, &d->first);
		p->rm.head_bytes = d->bytes;
	} else {
		p->rm.body_bytes += d->bytes;
	}
	p->rm.last = d->cur;
	k = my_resp_class(&p->r, &p->caps, n ? b[0] : 0, n > 0, d->plen0);
	switch (k) {
	case MYP_ERR:
		if (n >= 3 && my_le16(b + 1) == 0xffff)
			break; /* progress */
		p->rm.db.error = 1;
		if (n >= 3)
			snprintf(p->rm.db.status, sizeof(p->rm.db.status), "%u", my_le16(b + 1));
		break;
	case MYP_COLCOUNT:
		p->rows_seen = 1;
		break;
	case MYP_ROW:
		p->rows++;
		break;
	case MYP_PREP_OK: {
		const struct my_pend *e = pend_head(p);
		if (n >= 5 && e && e->prep)
			stmt_remember(p, my_le32(b + 1), e->prep);
		break;
	}
	default:
		break;
	}
	done = my_resp_next(&p->r, &p->caps, k, b, n, d->plen0);
	if (done)
		end_response(p, 0);
}

/* ---- packets ---------------------------------------------------------------------- */

/* Lost framing: the rest of the joined connection's start, or bytes
 * where a header should be. */
static void lose(struct bz_mysql *p, int dir, uint64_t n)
{
	struct my_dir *d = &p->d[dir];

	p->st.skipped[dir] += n + (d->inpkt || d->hn ? d->bytes : 0);
	d->hn = d->cont = d->inpkt = 0;
	d->bytes = d->blen = 0;
	d->lost = 1;
	d->lost_data = 1;
	d->cmd_since_lost = 0;
}

static void on_packet(struct bz_mysql *p, int dir, struct my_dir *d)
{
	const uint8_t *b = d->buf;
	size_t n = d->blen;

	switch (p->phase) {
	case PH_GREETING:
		if (d->seq == 0 && n >= 2 && b[0] == 0x0a) {
			if (p->req_dir == BZ_HTTP_DIR_UNKNOWN)
				p->req_dir = !dir;
			on_greeting(p, d);
			p->phase = PH_HSRESP;
			p->st.ignored[dir] += d->bytes;
			return;
		}
		/* the greeting was not seen: framing as a connection joined
		 * mid-way */
		p->phase = PH_CMD;
		p->caps.flags = MY_CLIENT_PROTOCOL_41;
		p->caps.guessed = 1;
		if (p->req_dir == BZ_HTTP_DIR_UNKNOWN) {
			p->st.skipped[dir] += d->bytes;
			d->lost = 1;
			p->d[!dir].lost = 1;
			return;
		}
		break;
	case PH_HSRESP:
		p->st.ignored[dir] += d->bytes;
		if (dir == p->req_dir)
			on_hs_response(p, d);
		else if (n && b[0] == 0xff)
			p->phase = PH_DEAD;
		return;
	case PH_AUTH:
		p->st.ignored[dir] += d->bytes;
		if (dir != p->req_dir && n && b[0] == 0x00)
			/* (compressed packets from here on: not read) */
			p->phase = p->caps.flags & MY_CLIENT_COMPRESS ? PH_DEAD : PH_CMD;
		else if (dir != p->req_dir && n && b[0] == 0xff)
			p->phase = PH_DEAD;
		return;
	case PH_CMD:
		break;
	default:
		p->st.ignored[dir] += d->bytes;
		return;
	}
	if (dir == p->req_dir)
		on_command(p, dir, d);
	else
		on_response_packet(p, dir, d);
}

/* A packet's payload ended. */
static void fragment_end(struct bz_mysql *p, int dir, struct my_dir *d)
{
	uint32_t plen = my_le24(d->hdr);

	d->hn = 0;
	if (plen == MY_MAX_PAYLOAD) {
		d->cont = 1; /* the logical packet goes on */
		return;
	}
	d->cont = 0;
	d->inpkt = 0;
	on_packet(p, dir, d);
	d->bytes = 0;
	d->blen = 0;
}

static void header_done(struct bz_mysql *p, int dir, struct my_dir *d)
{
	uint32_t plen = my_le24(d->hdr);

	if (!d->cont) {
		d->seq = d->hdr[3];
		d->plen0 = plen;
		d->cut = 0;
		d->blen = 0;
	}
	d->rem = plen;
	if (!plen)
		fragment_end(p, dir, d);
}

/* The captured bytes b[0..n) of a read or write. */
static void take_bytes(struct bz_mysql *p, int dir, const uint8_t *b, size_t n)
{
	struct my_dir *d = &p->d[dir];
	size_t i = 0;

	while (i < n) {
		if (p->phase == PH_TLS || p->phase == PH_DEAD || d->lost) {
			/* (a read that began in step and lost it is skipped whole) */
			if (d->lost)
				p->st.skipped[dir] += n - i;
			else
				p->st.ignored[dir] += n - i;
			return;
		}
		if (d->hn < MY_HDR) {
			if (!d->hn && !d->cont) {
				d->inpkt = 1;
				d->bytes = 0;
				d->first = d->cur;
			}
			d->hdr[d->hn++] = b[i++];
			d->bytes++;
			if (d->hn == MY_HDR)
				header_done(p, dir, d);
			continue;
		}
		{
			size_t k = n - i < d->rem ? n - i : d->rem;
			/* (kept: the payload's first bytes, none after a hole) */
			size_t keep = d->blen < MY_KEEP && !d->cut ? MY_KEEP - d->blen : 0;
			if (keep > k)
				keep = k;
			memcpy(d->buf + d->blen, b + i, keep);
			d->blen += (uint32_t)keep;
			d->rem -= (uint32_t)k;
			d->bytes += k;
			i += k;
			if (!d->rem)
				fragment_end(p, dir, d);
		}
	}
}

/* n bytes moved that were not captured. */
static void gap(struct bz_mysql *p, int dir, uint64_t n)
{
	struct my_dir *d = &p->d[dir];

	while (n) {
		if (p->phase == PH_TLS || p->phase == PH_DEAD) {
			p->st.ignored[dir] += n;
			return;
		}
		if (d->lost) {
			p->st.skipped[dir] += n;
			return;
		}
		if (d->hn == MY_HDR && d->rem) {
			uint64_t k = n < d->rem ? n : d->rem;
			d->rem -= (uint32_t)k;
			d->bytes += k;
			d->cut = 1;
			n -= k;
			if (!d->rem)
				fragment_end(p, dir, d);
			continue;
		}
		/* where a header should be */
		if (dir == server_dir(p) && p->resp_active)
			p->rm.last = d->cur;
		lose(p, dir, n);
		return;
	}
}

/* At the start of a read or write of a direction whose framing was lost:
 * 1 when it begins where the framing can be taken up. */
static int resync_point(struct bz_mysql *p, int dir, const struct bz_http_read *rd)
{
	struct my_dir *d = &p->d[dir];

	if (p->req_dir == BZ_HTTP_DIR_UNKNOWN || dir == p->req_dir) {
		if (!my_is_command(rd->data, rd->caplen, rd->len))
			return 0;
		if (p->req_dir == BZ_HTTP_DIR_UNKNOWN)
			p->req_dir = dir;
		return 1;
	}
	return d->cmd_since_lost && p->qn && !p->resp_active && my_is_response_start(rd->data, rd->caplen, rd->len);
}

static void my_feed(void *pv, int dir, const struct bz_http_read *rd)
{
	struct bz_mysql *p = pv;
	struct my_dir *d;

	if (p->flushed || !rd->len || (dir != 0 && dir != 1))
		return;
	d = &p->d[dir];
	d->cur = rd->at;
	p->st.fed[dir] += rd->len;
	if (d->lost && p->phase != PH_TLS && p->phase != PH_DEAD) {
		if (!resync_point(p, dir, rd)) {
			p->st.skipped[dir] += rd->len;
			d->lost_data = 1;
			return;
		}
		d->lost = 0;
		d->resynced = 1;
		d->cmd_since_lost = 0;
		p->st.resyncs++;
	}
	take_bytes(p, dir, rd->data, rd->caplen < rd->len ? rd->caplen : rd->len);
	if (rd->len > rd->caplen)
		gap(p, dir, rd->len - rd->caplen);
}

static void my_flush(void *pv, int closed)
{
	struct bz_mysql *p = pv;
	int sd = server_dir(p);

	if (p->flushed)
		return;
	p->flushed = 1;
	for (int dir = 0; dir < 2; dir++) {
		struct my_dir *d = &p->d[dir];
		if (!d->inpkt && !d->hn)
			continue;
		/* a packet the connection ended inside */
		if (dir == sd && p->resp_active)
			p->rm.body_bytes += d->bytes;
		else
			p->st.ignored[dir] += d->bytes;
		d->bytes = 0;
		d->inpkt = d->hn = 0;
	}
	if (p->resp_active) {
		/* framing lost in the answer and the connection closed: it ended
		 * at the last server bytes; else it did not end */
		if (sd >= 0 && p->d[sd].lost && closed)
			end_response(p, BZ_HTTP_F_GUESSED_END);
		else
			end_response(p, BZ_HTTP_F_INCOMPLETE);
	}
}

static void my_free(struct bz_mysql *p)
{
	size_t pos = 0;
	uint64_t k;
	void *v;

	while (bz_u64map_next(&p->stmts, &pos, &k, &v))
		free(v);
	bz_u64map_free(&p->stmts);
	while (p->qn)
		pend_pop(p);
	free(p);
}

static int my_create(void **out, const struct bz_proto_cfg *cfg)
{
	struct bz_mysql *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->cfg = *cfg;
	p->req_dir = cfg->req_dir;
	if (!cfg->fresh) {
		/* joined mid-way: commands are waited for; PROTOCOL_41 assumed,
		 * DEPRECATE_EOF learnt from the first result set */
		p->phase = PH_CMD;
		p->caps.flags = MY_CLIENT_PROTOCOL_41 | MY_CLIENT_SECURE_CONNECTION;
		p->caps.guessed = 1;
		p->d[0].lost = p->d[1].lost = 1;
	}
	*out = p;
	return 0;
}

static void my_destroy(void **pp)
{
	if (pp && *pp)
		my_free(*pp);
	if (pp)
		*pp = NULL;
}

static int my_req_dir(const void *pv) { return ((const struct bz_mysql *)pv)->req_dir; }
static const struct bz_proto_stats *my_stats(const void *pv) { return &((const struct bz_mysql *)pv)->st; }

const struct bz_proto_ops bz_proto_mysql = {
	.name = "mysql",
	.id = BZ_PROTO_MYSQL,
	.multiplexed = 0,
	.detect = bz_mysql_detect,
	.create = my_create,
	.feed = my_feed,
	.flush = my_flush,
	.destroy = my_destroy,
	.req_dir = my_req_dir,
	.stats = my_stats,
};
