/* redact_mysql.c - the MySQL / MariaDB client/server protocol masked at
 * record time (redact_wire.h).
 *
 * Both directions are followed packet by packet (3-byte length, sequence
 * id, payload; a 0xffffff-byte payload continues in the next packet), with
 * the handshake's capabilities and, for the server's answers, the response
 * walker the analyzer uses (analyze/proto/mysql_wire.h), so both see the
 * same rows.  What is masked, in place, lengths unchanged:
 *  - the greeting's scramble (both parts of the auth plugin data);
 *  - the HandshakeResponse's auth response and connection attribute values
 *    (user name, database, plugin name and attribute names stay);
 *  - every authentication packet after it (auth switch, more data, the
 *    client's answers), but their first byte;
 *  - COM_QUERY / COM_STMT_PREPARE SQL literals (rd_sql, across payloads);
 *  - COM_STMT_EXECUTE / BULK_EXECUTE / SEND_LONG_DATA: everything after the
 *    fixed header (statement id, flags, iteration count): the parameters;
 *  - COM_CHANGE_USER: the auth response and everything after the database;
 *  - result rows, text and binary: every byte but the first;
 *  - ERR messages (the code and SQLSTATE stay);
 *  - client packets that are not commands (LOCAL INFILE data, change-user
 *    authentication), and command bytes not known: whole.
 * Column definitions, OK and EOF packets, the greeting's version and the
 * rest stay: the analyzer reads them.
 *
 * Losing the framing (bytes not captured where a header should be) masks
 * every later byte of that direction whole, with one way back for the
 * server's side: once the client has sent its next command, the first
 * server read or write that begins with a plausible response (sequence id
 * 1, OK / ERR / EOF / column count of a size that fits) is where the
 * answer to it begins (a server answers a command only after it; a client
 * reads an answer only after it sent the command), and the framing is
 * taken up there.  Bytes not captured inside a packet of known length are
 * skipped by count (what follows in the packet is masked whole when its
 * content needed a parser: SQL, the handshake).  After an SSLRequest the
 * socket carries TLS records: left as they are.
 */
#include <string.h>

#include "analyze/proto/mysql_wire.h"
#include "record/redact.h"
#include "record/redact_wire.h"

#define RM_PENDING_MAX 64u
#define RM_GREET_KEEP 128u

enum rm_phase { RP_GREETING = 0, RP_HSRESP, RP_AUTH, RP_CMD, RP_TLS, RP_DEAD };

/* How the bytes of the current logical packet are masked. */
enum rm_mode {
	RM_KEEP = 0,
	RM_ALL,     /* every byte */
	RM_FROM,    /* bytes at payload offsets >= from */
	RM_SQL,     /* offset 0 (the command) kept, then rd_sql from sql_at */
	RM_WALK,    /* field by field (greeting, handshake response, change user) */
};

enum rm_kind { RK_GREETING = 1, RK_HSRESP, RK_CHUSER };

/* A field walk's current field. */
enum rm_field {
	RF_KEEP_N = 0, /* n bytes kept */
	RF_MASK_N,     /* n bytes masked */
	RF_CSTR_KEEP,  /* to a NUL, kept */
	RF_CSTR_MASK,  /* to a NUL, masked (the NUL kept) */
	RF_LENENC,     /* a length-encoded integer, kept: its value in lv */
	RF_REST_KEEP,
	RF_REST_MASK,
};

enum { RL_SYNCED = 0, RL_LOST, RL_JOINED };

struct rm_dir {
	uint8_t hdr[MY_HDR];
	uint8_t hn, cont, seq, lost, cmd_since_lost;
	uint8_t lost_data;   /* server side: bytes went by unread since the last command */
	uint8_t mode, kind, field, step, rec, lneed, ln, npre;
	uint8_t started;     /* the logical packet's first payload byte was seen */
	uint8_t pre[MY_PRE_KEEP];
	uint8_t lbuf[9];
	uint32_t plen0, rem;
	uint64_t pos;        /* payload offset of the next byte */
	uint64_t from;       /* RM_FROM */
	uint64_t n;          /* RF_KEEP_N / RF_MASK_N: bytes left */
	uint64_t lv;         /* the last length read (or byte recorded) */
	uint32_t cflags;     /* RK_HSRESP: the client's own flags */
	enum my_pkt k;       /* server packet: its class */
	struct rd_sql sql;
};

struct rm_state {
	uint8_t client_dir, phase, resp_active;
	struct my_caps caps;
	uint32_t srv_flags, srv_ext;
	struct my_resp r;
	uint8_t q[RM_PENDING_MAX];
	unsigned qh, qn;
	uint8_t greet[RM_GREET_KEEP];
	uint32_t glen;
	struct rm_dir d[2];
};

/* ---- detection ------------------------------------------------------------------ */

static int my_detect(const uint8_t *p, size_t n, unsigned dir, int joined, unsigned *client_dir)
{
	if (my_is_greeting(p, n)) {
		*client_dir = !dir;
		return RD_WIRE_YES;
	}
	if (!joined)
		return RD_WIRE_NO;
	/* the middle of a connection: a command of its client, or the start
	 * of an answer (masked whole until the next command) */
	if (my_is_command(p, n, 0)) {
		*client_dir = dir;
		return RD_WIRE_YES;
	}
	if (my_is_response_start(p, n, n)) {
		*client_dir = !dir;
		return RD_WIRE_YES;
	}
	return RD_WIRE_NO;
}

static void my_init(void *sv, unsigned client_dir, int joined)
{
	struct rm_state *s = sv;

	s->client_dir = (uint8_t)(client_dir ? 1 : 0);
	if (joined) {
		s->phase = RP_CMD;
		s->caps.flags = MY_CLIENT_PROTOCOL_41 | MY_CLIENT_SECURE_CONNECTION;
		s->caps.guessed = 1;
		s->d[0].lost = s->d[1].lost = RL_JOINED;
	}
}

/* ---- field walks ------------------------------------------------------------------ */

static void field(struct rm_dir *d, enum rm_field f, uint64_t n)
{
	d->field = (uint8_t)f;
	d->n = n;
	d->ln = d->lneed = 0;
	d->rec = 0;
}

/* The field after the one that ended (d->step counts them). */
static void next_field(struct rm_state *s, struct rm_dir *d)
{
	uint32_t f = d->cflags;
	unsigned step = d->step++;

	switch (d->kind) {
	case RK_GREETING:
		/* protocol, version\0, connection id, scramble 1, filler +
		 * capabilities + charset + status + capabilities, auth data
		 * length, reserved 10, scramble 2, plugin name */
		switch (step) {
		case 0: field(d, RF_CSTR_KEEP, 0); break;
		case 1: field(d, RF_KEEP_N, 4); break;
		case 2: field(d, RF_MASK_N, 8); break;
		case 3: field(d, RF_KEEP_N, 8); break;
		case 4: field(d, RF_KEEP_N, 1); d->rec = 1; break;
		case 5: field(d, RF_KEEP_N, 10); break;
		case 6: field(d, RF_MASK_N, d->lv > 21 ? d->lv - 8 : 13); break;
		default: field(d, RF_REST_KEEP, 0); break;
		}
		return;
	case RK_HSRESP:
		/* (32 fixed bytes first) user\0, auth response, database\0,
		 * plugin\0, attributes: total, then key / value pairs */
		switch (step) {
		case 0: field(d, RF_CSTR_KEEP, 0); return;
		case 1:
			if (f & MY_CLIENT_PLUGIN_AUTH_LENENC)
				field(d, RF_LENENC, 0);
			else if (f & MY_CLIENT_SECURE_CONNECTION)
				field(d, RF_KEEP_N, 1), d->rec = 1;
			else
				field(d, RF_CSTR_MASK, 0), d->step = 3;
			return;
		case 2: field(d, RF_MASK_N, d->lv); return;
		case 3:
			if (f & MY_CLIENT_CONNECT_WITH_DB) {
				field(d, RF_CSTR_KEEP, 0);
				return;
			}
			/* fall through */
		case 4:
			d->step = 5;
			if (f & MY_CLIENT_PLUGIN_AUTH) {
				field(d, RF_CSTR_KEEP, 0);
				return;
			}
			/* fall through */
		case 5:
			d->step = 6;
			if (f & MY_CLIENT_CONNECT_ATTRS) {
				field(d, RF_LENENC, 0); /* their total length */
				return;
			}
			field(d, RF_REST_MASK, 0);
			return;
		default:
			/* step 6, 8...: a key's length; 7, 9...: its bytes, then the
			 * value's length and bytes */
			switch ((step - 6) % 4) {
			case 0: field(d, RF_LENENC, 0); break;
			case 1: field(d, RF_KEEP_N, d->lv); break;
			case 2: field(d, RF_LENENC, 0); break;
			default: field(d, RF_MASK_N, d->lv); break;
			}
			return;
		}
	case RK_CHUSER:
		/* command, user\0, auth (1-byte length or NUL-terminated),
		 * database\0, then the rest masked */
		switch (step) {
		case 0: field(d, RF_CSTR_KEEP, 0); return;
		case 1:
			if (s->caps.flags & MY_CLIENT_SECURE_CONNECTION)
				field(d, RF_KEEP_N, 1), d->rec = 1;
			else
				field(d, RF_CSTR_MASK, 0), d->step = 3;
			return;
		case 2: field(d, RF_MASK_N, d->lv); return;
		case 3: field(d, RF_CSTR_KEEP, 0); return;
		default: field(d, RF_REST_MASK, 0); return;
		}
	default:
		field(d, RF_REST_MASK, 0);
	}
}

/* One byte of a field walk; returns 1 if masked. */
static size_t walk_byte(struct rm_state *s, struct rm_dir *d, uint8_t *b)
{
	for (;;) {
		switch (d->field) {
		case RF_KEEP_N:
		case RF_MASK_N:
			if (!d->n) {
				next_field(s, d);
				continue;
			}
			d->n--;
			if (d->field == RF_MASK_N) {
				*b = BZ_REDACT_FILL;
				return 1;
			}
			if (d->rec)
				d->lv = *b;
			if (!d->n)
				next_field(s, d);
			return 0;
		case RF_CSTR_KEEP:
			if (!*b)
				next_field(s, d);
			return 0;
		case RF_CSTR_MASK:
			if (!*b) {
				next_field(s, d);
				return 0;
			}
			*b = BZ_REDACT_FILL;
			return 1;
		case RF_LENENC:
			if (!d->ln) {
				unsigned c = *b;
				if (c == 0xff) {
					/* not a length: nothing more can be trusted */
					field(d, RF_REST_MASK, 0);
					continue;
				}
				d->lneed = c < 0xfb ? 1 : c == 0xfb ? 1 : c == 0xfc ? 3 : c == 0xfd ? 4 : 9;
			}
			d->lbuf[d->ln++] = *b;
			if (d->ln == d->lneed) {
				uint64_t v;
				d->lv = my_lenenc(d->lbuf, d->ln, &v) ? v : 0;
				next_field(s, d);
			}
			return 0;
		case RF_REST_KEEP:
			return 0;
		default:
			*b = BZ_REDACT_FILL;
			return 1;
		}
	}
}

/* ---- packets ------------------------------------------------------------------------ */

static void walk(struct rm_dir *d, enum rm_kind kind, enum rm_field first, uint64_t n)
{
	d->mode = RM_WALK;
	d->kind = (uint8_t)kind;
	d->step = 0;
	field(d, first, n);
}

static void mode_from(struct rm_dir *d, uint64_t from)
{
	d->mode = RM_FROM;
	d->from = from;
}

/* The first payload byte t of a client packet: how it is masked. */
static void client_packet_starts(struct rm_state *s, struct rm_dir *d, unsigned t)
{
	switch (s->phase) {
	case RP_HSRESP:
		/* the first 32 bytes (flags, max packet, charset, filler) kept,
		 * then field by field with the client's own flags */
		walk(d, RK_HSRESP, RF_KEEP_N, 32);
		d->step = 0;
		d->kind = RK_HSRESP;
		d->cflags = 0;
		/* (the flags are read once their 4 bytes went by: see payload) */
		return;
	case RP_CMD:
		break;
	default:
		d->mode = RM_ALL; /* authentication data */
		return;
	}
	if (d->seq != 0) {
		d->mode = RM_ALL; /* LOCAL INFILE data, change-user authentication */
		return;
	}
	switch (t) {
	case MY_COM_QUERY:
	case MY_COM_STMT_PREPARE:
		d->mode = RM_SQL;
		rd_sql_init(&d->sql, RD_SQL_MYSQL);
		/* MySQL 8 query attributes: a parameter count (0) and a set count
		 * before the text; with parameters the whole is masked */
		d->from = s->caps.flags & MY_CLIENT_QUERY_ATTRIBUTES ? 3 : 1;
		return;
	case MY_COM_STMT_EXECUTE: mode_from(d, 10); return;
	case MY_COM_STMT_BULK_EXECUTE:
	case MY_COM_STMT_SEND_LONG_DATA: mode_from(d, 7); return;
	case MY_COM_CHANGE_USER: walk(d, RK_CHUSER, RF_KEEP_N, 1); return;
	case MY_COM_QUIT: case MY_COM_INIT_DB: case MY_COM_FIELD_LIST: case MY_COM_CREATE_DB:
	case MY_COM_DROP_DB: case MY_COM_REFRESH: case MY_COM_SHUTDOWN: case MY_COM_STATISTICS:
	case MY_COM_PROCESS_INFO: case MY_COM_PROCESS_KILL: case MY_COM_DEBUG: case MY_COM_PING:
	case MY_COM_STMT_CLOSE: case MY_COM_STMT_RESET: case MY_COM_SET_OPTION: case MY_COM_STMT_FETCH:
	case MY_COM_RESET_CONNECTION:
		d->mode = RM_KEEP;
		return;
	default:
		mode_from(d, 1);
		return;
	}
}

/* The first payload byte t of a server packet (have_t 0: not captured):
 * how it is masked, and its class. */
static void server_packet_starts(struct rm_state *s, struct rm_dir *d, unsigned t, int have_t)
{
	unsigned err_keep = s->caps.flags & MY_CLIENT_PROTOCOL_41 ? 9 : 3;

	switch (s->phase) {
	case RP_GREETING:
		walk(d, RK_GREETING, RF_KEEP_N, 1);
		s->glen = 0;
		return;
	case RP_CMD:
		break;
	case RP_HSRESP:
	case RP_AUTH:
		if (t == 0x00)
			d->mode = RM_KEEP;
		else if (t == 0xff)
			mode_from(d, err_keep);
		else
			mode_from(d, 1); /* auth switch, more data: scrambles, keys */
		return;
	default:
		d->mode = RM_ALL;
		return;
	}
	if (!s->resp_active) {
		if (!s->qn) {
			/* nothing asked: an ERR before a close, or not followed */
			if (have_t && t == 0xff)
				mode_from(d, err_keep);
			else
				d->mode = RM_ALL;
			d->k = MYP_OTHER;
			return;
		}
		memset(&s->r, 0, sizeof(s->r));
		s->r.cmd = s->q[s->qh];
		s->r.state = MYR_FIRST;
		s->resp_active = 1;
	}
	d->k = my_resp_class(&s->r, &s->caps, t, have_t, d->plen0);
	if (!have_t) {
		d->mode = RM_ALL;
		return;
	}
	switch (d->k) {
	case MYP_ROW: mode_from(d, 1); break;
	case MYP_ERR: mode_from(d, err_keep); break;
	case MYP_AUTH: mode_from(d, 1); break;
	default: d->mode = RM_KEEP; break;
	}
}

static void pend_clear(struct rm_state *s)
{
	s->qh = s->qn = 0;
	s->resp_active = 0;
}

static void client_packet_ends(struct rm_state *s, struct rm_dir *d)
{
	struct rm_dir *sd = &s->d[!s->client_dir];
	unsigned t = d->npre ? d->pre[0] : 0;

	switch (s->phase) {
	case RP_HSRESP: {
		uint32_t f = d->npre >= 4 ? my_le32(d->pre) : 0;
		s->caps.flags = f & (s->srv_flags ? s->srv_flags : ~0u);
		s->caps.known = s->caps.eof_known = 1;
		if (d->npre >= 32 && !(f & 1u))
			s->caps.ext = my_le32(d->pre + 28) & s->srv_ext;
		s->phase = (f & MY_CLIENT_SSL) && d->plen0 == 32 ? RP_TLS : RP_AUTH;
		return;
	}
	case RP_CMD:
		break;
	default:
		return;
	}
	if (d->seq != 0 || !d->npre)
		return;
	if (sd->lost) {
		/* the answers to what came before were in what was lost (if
		 * anything went by since: else they are still to come) */
		if (sd->lost_data)
			pend_clear(s);
		sd->lost_data = 0;
		sd->cmd_since_lost = 1;
	}
	if (!my_cmd_answered(t) || s->qn >= RM_PENDING_MAX)
		return;
	s->q[(s->qh + s->qn) % RM_PENDING_MAX] = (uint8_t)t;
	s->qn++;
}

static void server_packet_ends(struct rm_state *s, struct rm_dir *d)
{
	unsigned t = d->npre ? d->pre[0] : 0;

	switch (s->phase) {
	case RP_GREETING: {
		char version[80];
		my_greeting_caps(s->greet, s->glen, &s->srv_flags, &s->srv_ext, version, sizeof(version));
		s->phase = RP_HSRESP;
		return;
	}
	case RP_HSRESP:
	case RP_AUTH:
		if (d->npre && t == 0x00)
			/* compressed packets from here on: masked whole */
			s->phase = s->caps.flags & MY_CLIENT_COMPRESS ? RP_DEAD : RP_CMD;
		else if (d->npre && t == 0xff)
			s->phase = RP_DEAD;
		return;
	case RP_CMD:
		break;
	default:
		return;
	}
	if (!d->started) {
		/* an empty packet: classed as one whose bytes are unknown */
		d->started = 1;
		server_packet_starts(s, d, 0, 0);
	}
	if (!s->resp_active)
		return;
	if (my_resp_next(&s->r, &s->caps, d->k, d->pre, d->npre, d->plen0)) {
		s->resp_active = 0;
		s->qh = (s->qh + 1) % RM_PENDING_MAX;
		s->qn--;
	}
}

/* k payload bytes b[0..k) of the current packet (d->pos the first's
 * offset); returns the bytes masked. */
static size_t payload(struct rm_state *s, unsigned dir, struct rm_dir *d, uint8_t *b, size_t k)
{
	size_t masked = 0, i = 0;

	if (!k)
		return 0;
	if (!d->started) {
		d->started = 1;
		if (dir == s->client_dir)
			client_packet_starts(s, d, b[0]);
		else
			server_packet_starts(s, d, b[0], 1);
	}
	/* the first bytes as they were, for the walker and the handshake */
	for (size_t j = 0; j < k && d->npre < MY_PRE_KEEP && d->pos + j == d->npre; j++)
		d->pre[d->npre++] = b[j];
	if (s->phase == RP_GREETING && dir != s->client_dir)
		for (size_t j = 0; j < k && s->glen < RM_GREET_KEEP; j++)
			s->greet[s->glen++] = b[j];
	switch (d->mode) {
	case RM_KEEP:
		break;
	case RM_ALL:
		masked = rd_wire_fill(b, k);
		break;
	case RM_FROM:
		if (d->pos + k > d->from) {
			i = d->pos >= d->from ? 0 : (size_t)(d->from - d->pos);
			masked = rd_wire_fill(b + i, k - i);
		}
		break;
	case RM_SQL:
		for (; i < k && d->pos + i < d->from; i++) {
			/* the command byte, and query attributes' counts */
			if (d->pos + i == 1 && d->from == 3 && b[i] != 0) {
				/* parameters before the text: masked whole */
				d->mode = RM_ALL;
				return masked + rd_wire_fill(b + i, k - i);
			}
		}
		masked = rd_sql_mask(&d->sql, b + i, k - i);
		break;
	case RM_WALK:
		for (; i < k; i++) {
			if (d->kind == RK_HSRESP && d->pos + i == 4 && d->npre >= 4) {
				/* the client's own flags frame the rest */
				d->cflags = my_le32(d->pre);
			}
			masked += walk_byte(s, d, b + i);
		}
		break;
	}
	return masked;
}

/* A packet's payload ended. */
static void fragment_end(struct rm_state *s, unsigned dir, struct rm_dir *d)
{
	uint32_t plen = my_le24(d->hdr);

	d->hn = 0;
	if (plen == MY_MAX_PAYLOAD) {
		d->cont = 1;
		return;
	}
	d->cont = 0;
	if (dir == s->client_dir)
		client_packet_ends(s, d);
	else
		server_packet_ends(s, d);
}

static void header_done(struct rm_state *s, unsigned dir, struct rm_dir *d)
{
	uint32_t plen = my_le24(d->hdr);

	if (!d->cont) {
		d->seq = d->hdr[3];
		d->plen0 = plen;
		d->pos = 0;
		d->npre = 0;
		d->started = 0;
		d->mode = RM_KEEP;
		d->k = MYP_OTHER;
	}
	d->rem = plen;
	if (!plen)
		fragment_end(s, dir, d);
}

static size_t lose(struct rm_dir *d, uint8_t *p, size_t n)
{
	d->lost = RL_LOST;
	d->lost_data = 1;
	d->cmd_since_lost = 0;
	d->hn = d->cont = 0;
	return rd_wire_fill(p, n);
}

static size_t my_data(void *sv, unsigned dir, uint8_t *p, size_t caplen, uint64_t ret)
{
	struct rm_state *s = sv;
	struct rm_dir *d;
	size_t masked = 0, i = 0;
	uint64_t gap;

	dir = dir ? 1 : 0;
	d = &s->d[dir];
	if (s->phase == RP_TLS)
		return 0;
	if (s->phase == RP_DEAD)
		return rd_wire_fill(p, caplen);
	if (d->lost) {
		int back = dir == s->client_dir
				   ? d->lost == RL_JOINED && my_is_command(p, caplen, ret)
				   : d->cmd_since_lost && s->qn && my_is_response_start(p, caplen, ret);
		if (!back) {
			d->lost_data = 1;
			return rd_wire_fill(p, caplen);
		}
		d->lost = RL_SYNCED;
		d->hn = d->cont = 0;
		s->resp_active = 0;
	}
	while (i < caplen) {
		if (s->phase == RP_TLS)
			return masked;
		if (d->hn < MY_HDR) {
			d->hdr[d->hn++] = p[i++];
			if (d->hn == MY_HDR)
				header_done(s, dir, d);
			continue;
		}
		{
			size_t k = caplen - i < d->rem ? caplen - i : d->rem;
			masked += payload(s, dir, d, p + i, k);
			d->pos += k;
			d->rem -= (uint32_t)k;
			i += k;
			if (!d->rem)
				fragment_end(s, dir, d);
		}
	}
	/* bytes that moved uncaptured: skipped inside a packet of known
	 * length, else the framing is lost */
	gap = ret > caplen ? ret - caplen : 0;
	while (gap && s->phase != RP_TLS && s->phase != RP_DEAD) {
		if (d->hn == MY_HDR && d->rem) {
			uint64_t k = gap < d->rem ? gap : d->rem;
			if (d->mode == RM_SQL || d->mode == RM_WALK) {
				/* its parser's state is unknown past the hole */
				d->mode = RM_ALL;
			}
			if (!d->started) {
				/* its first byte unknown: the rest of it masked */
				d->started = 1;
				if (dir != s->client_dir)
					server_packet_starts(s, d, 0, 0);
				d->mode = RM_ALL;
			}
			d->pos += k;
			d->rem -= (uint32_t)k;
			gap -= k;
			if (!d->rem)
				fragment_end(s, dir, d);
			continue;
		}
		lose(d, p, 0);
		if (dir != s->client_dir)
			s->resp_active = 0;
		break;
	}
	return masked;
}

const struct rd_wire_ops rd_wire_mysql = {
	.name = "mysql",
	.detect = my_detect,
	.state_size = sizeof(struct rm_state),
	.init = my_init,
	.data = my_data,
};
