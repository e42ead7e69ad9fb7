/* mysql_wire.c - MySQL / MariaDB packet classes shared by the parser and
 * the masker (mysql_wire.h). */
#include <string.h>

#include "detect.h"
#include "mysql_wire.h"

size_t my_lenenc(const uint8_t *p, size_t n, uint64_t *v)
{
	size_t k;

	*v = 0;
	if (!n || p[0] == 0xff)
		return 0;
	if (p[0] < 0xfb) {
		*v = p[0];
		return 1;
	}
	if (p[0] == 0xfb)
		return 1; /* NULL */
	k = p[0] == 0xfc ? 2 : p[0] == 0xfd ? 3 : 8;
	if (n < 1 + k)
		return 0;
	for (size_t i = k; i > 0; i--)
		*v = *v << 8 | p[i];
	return 1 + k;
}

const char *my_cmd_name(unsigned cmd)
{
	switch (cmd) {
	case MY_COM_QUIT: return "QUIT";
	case MY_COM_INIT_DB: return "INIT_DB";
	case MY_COM_QUERY: return "QUERY";
	case MY_COM_FIELD_LIST: return "FIELD_LIST";
	case MY_COM_CREATE_DB: return "CREATE_DB";
	case MY_COM_DROP_DB: return "DROP_DB";
	case MY_COM_REFRESH: return "REFRESH";
	case MY_COM_SHUTDOWN: return "SHUTDOWN";
	case MY_COM_STATISTICS: return "STATISTICS";
	case MY_COM_PROCESS_INFO: return "PROCESS_INFO";
	case MY_COM_PROCESS_KILL: return "PROCESS_KILL";
	case MY_COM_DEBUG: return "DEBUG";
	case MY_COM_PING: return "PING";
	case MY_COM_CHANGE_USER: return "CHANGE_USER";
	case MY_COM_BINLOG_DUMP: return "BINLOG_DUMP";
	case MY_COM_REGISTER_SLAVE: return "REGISTER_SLAVE";
	case MY_COM_STMT_PREPARE: return "PREPARE";
	case MY_COM_STMT_EXECUTE: return "EXECUTE";
	case MY_COM_STMT_SEND_LONG_DATA: return "STMT_SEND_LONG_DATA";
	case MY_COM_STMT_CLOSE: return "STMT_CLOSE";
	case MY_COM_STMT_RESET: return "STMT_RESET";
	case MY_COM_SET_OPTION: return "SET_OPTION";
	case MY_COM_STMT_FETCH: return "STMT_FETCH";
	case MY_COM_BINLOG_DUMP_GTID: return "BINLOG_DUMP_GTID";
	case MY_COM_RESET_CONNECTION: return "RESET_CONNECTION";
	case MY_COM_STMT_BULK_EXECUTE: return "BULK_EXECUTE";
	default: return NULL;
	}
}

int my_cmd_answered(unsigned cmd)
{
	return cmd != MY_COM_QUIT && cmd != MY_COM_STMT_CLOSE && cmd != MY_COM_STMT_SEND_LONG_DATA;
}

static int printable(unsigned c) { return c >= 0x20 && c < 0x7f; }
static int text_byte(unsigned c) { return printable(c) || c == '\t' || c == '\n' || c == '\r' || c >= 0x80; }
static int letter(unsigned c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

int my_is_greeting(const uint8_t *p, size_t n)
{
	uint32_t plen;
	size_t v = 0, i;

	if (!p || n < MY_HDR + 4)
		return 0;
	plen = my_le24(p);
	if (p[3] != 0 || p[4] != 0x0a || plen > 1024 || p[5] < '0' || p[5] > '9')
		return 0;
	for (i = MY_HDR + 1; i < n && i < MY_HDR + 1 + 80 && p[i]; i++) {
		if (!printable(p[i]))
			return 0;
		v++;
	}
	if (i >= n || p[i] || v < 3)
		return 0; /* the version's NUL must be captured */
	/* protocol, version\0, connection id, scramble, filler, capabilities */
	return plen >= 1 + v + 1 + 4 + 8 + 1 + 2;
}

/* The SQL text of a COM_QUERY / COM_STMT_PREPARE captured in t[0..n): it
 * begins as a statement does and stays text. */
static int sql_text(const uint8_t *t, size_t n)
{
	size_t i = 0, k = n < 64 ? n : 64;

	if (!n)
		return 0;
	while (i < k && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
		i++;
	if (i < k && !letter(t[i]) && t[i] != '(' && t[i] != '/')
		return 0;
	for (; i < k; i++)
		if (!text_byte(t[i]))
			return 0;
	return 1;
}

int my_is_command(const uint8_t *p, size_t n, uint64_t len)
{
	uint32_t plen;
	uint64_t end;
	const uint8_t *b;
	size_t nb;

	if (!p || n < MY_HDR + 1 || p[3] != 0 || bz_detect_tls_record(p, n))
		return 0;
	plen = my_le24(p);
	end = MY_HDR + (uint64_t)plen;
	if (!plen || (len && end > len))
		/* (a text larger than the write could be: too rare joined to guess) */
		return 0;
	if (plen != MY_MAX_PAYLOAD && ((len && end < len) || (!len && end < n))) {
		/* another command after it in the same write: its header too */
		if (n < end + MY_HDR + 1 || p[end + 3] != 0 || !my_cmd_name(p[end + 4]))
			return 0;
	}
	b = p + MY_HDR + 1; /* after the command byte */
	nb = n - (MY_HDR + 1);
	if (nb > plen - 1)
		nb = plen - 1;
	switch (p[4]) {
	case MY_COM_QUERY:
	case MY_COM_STMT_PREPARE:
		if (nb >= 2 && b[0] == 0 && b[1] == 1) {
			b += 2; /* MySQL 8 query attributes: none */
			nb -= 2;
		}
		return plen >= 3 && sql_text(b, nb);
	case MY_COM_INIT_DB:
		if (plen < 2 || plen > 65 || nb != plen - 1)
			return 0;
		for (size_t i = 0; i < nb; i++)
			if (!printable(b[i]))
				return 0;
		return 1;
	case MY_COM_PING:
	case MY_COM_QUIT:
	case MY_COM_STATISTICS:
	case MY_COM_DEBUG:
	case MY_COM_RESET_CONNECTION:
	case MY_COM_PROCESS_INFO:
		return plen == 1;
	case MY_COM_STMT_CLOSE:
	case MY_COM_STMT_RESET:
	case MY_COM_PROCESS_KILL:
		return plen == 5;
	case MY_COM_STMT_FETCH:
		return plen == 9;
	case MY_COM_SET_OPTION:
		return plen == 3 && nb == 2 && b[0] <= 1 && b[1] == 0;
	case MY_COM_STMT_EXECUTE:
		/* statement id, flags (a cursor type), iteration count 1 */
		return plen >= 10 && nb >= 9 && b[4] <= 0x0f && b[5] == 1 && b[6] == 0 && b[7] == 0 && b[8] == 0;
	default:
		return 0;
	}
}

void my_greeting_caps(const uint8_t *b, size_t n, uint32_t *flags, uint32_t *ext, char *version, size_t vcap)
{
	size_t i = 1, k = 0;

	*flags = *ext = 0;
	while (i < n && b[i]) {
		if (k + 1 < vcap && b[i] >= 0x20 && b[i] < 0x7f)
			version[k++] = (char)b[i];
		i++;
	}
	version[k] = 0;
	/* NUL, connection id 4, scramble 8, filler 1, capabilities (low 2) */
	i += 1 + 4 + 8 + 1;
	if (i + 2 <= n)
		*flags = my_le16(b + i);
	/* charset 1, status 2, capabilities (high 2) */
	if (i + 7 <= n)
		*flags |= my_le16(b + i + 5) << 16;
	/* auth data length 1; MariaDB: 6 filler bytes, then its extended
	 * capabilities (a server that clears CLIENT_MYSQL, bit 0, has them) */
	if (i + 18 <= n && !(*flags & 1u))
		*ext = my_le32(b + i + 14);
}

/* ---- responses ------------------------------------------------------------ */

static int deprecate_eof(const struct my_caps *c) { return c->eof_known && (c->flags & MY_CLIENT_DEPRECATE_EOF); }

enum my_pkt my_resp_class(const struct my_resp *r, const struct my_caps *c, unsigned t, int have_t, uint32_t plen)
{
	int dep = deprecate_eof(c);

	switch (r->state) {
	case MYR_FIRST:
		if (!have_t)
			return MYP_OTHER;
		if (r->cmd == MY_COM_CHANGE_USER && t != 0x00 && t != 0xff)
			return MYP_AUTH;
		if (t == 0x00)
			return r->cmd == MY_COM_STMT_PREPARE ? MYP_PREP_OK : MYP_OK;
		if (t == 0xff)
			return MYP_ERR;
		if (t == 0xfe)
			return plen < 9 ? MYP_EOF : MYP_OK;
		if (t == 0xfb)
			return MYP_INFILE;
		if (r->cmd == MY_COM_STATISTICS)
			return MYP_OTHER;
		if (r->cmd == MY_COM_FIELD_LIST)
			return MYP_COLDEF;
		return MYP_COLCOUNT;
	case MYR_COLS:
	case MYR_PREP_PARAMS:
	case MYR_PREP_COLS:
		return MYP_COLDEF;
	case MYR_COLS_EOF:
		if (have_t && t == 0xff)
			return MYP_ERR;
		if (!c->eof_known)
			/* joined mid-way: an EOF is exactly 5 bytes; anything else is
			 * the first row, the EOF deprecated */
			return have_t && t == 0xfe && plen == 5 ? MYP_EOF : MYP_ROW;
		return MYP_EOF;
	case MYR_PREP_PEOF:
	case MYR_PREP_CEOF:
		return MYP_EOF;
	case MYR_ROWS:
		if (!have_t)
			return MYP_ROW;
		if (t == 0xff)
			return MYP_ERR;
		if (t == 0xfe && (dep ? plen < MY_MAX_PAYLOAD : plen < 9))
			return dep ? MYP_OK : MYP_EOF;
		return MYP_ROW;
	case MYR_AUTH:
		if (have_t && t == 0x00)
			return MYP_OK;
		if (have_t && t == 0xff)
			return MYP_ERR;
		return MYP_AUTH;
	case MYR_FIELDS:
		if (have_t && t == 0xff)
			return MYP_ERR;
		if (have_t && t == 0xfe && plen < 9)
			return MYP_EOF;
		return MYP_COLDEF;
	default:
		return MYP_OTHER;
	}
}

uint32_t my_status_flags(const uint8_t *pre, size_t n, enum my_pkt k)
{
	uint64_t v;
	size_t i = 1, s;

	if (k == MYP_EOF)
		return n >= 5 ? my_le16(pre + 3) : 0;
	/* OK: header, affected rows, last insert id, status */
	for (int f = 0; f < 2; f++) {
		s = i < n ? my_lenenc(pre + i, n - i, &v) : 0;
		if (!s)
			return 0;
		i += s;
	}
	return i + 2 <= n ? my_le16(pre + i) : 0;
}

/* After the definitions of a result set: its EOF, or its rows. */
static void after_cols(struct my_resp *r, const struct my_caps *c)
{
	r->state = deprecate_eof(c) ? MYR_ROWS : MYR_COLS_EOF;
}

int my_resp_next(struct my_resp *r, struct my_caps *c, enum my_pkt k, const uint8_t *pre, size_t n, uint32_t plen)
{
	uint64_t v;
	size_t s;
	uint32_t st;

	switch (k) {
	case MYP_OK:
		st = my_status_flags(pre, n, k);
		if (r->state != MYR_AUTH && (st & MY_SERVER_MORE_RESULTS)) {
			r->state = MYR_FIRST;
			return 0;
		}
		return 1;
	case MYP_ERR:
		if (n >= 3 && my_le16(pre + 1) == 0xffff)
			return 0; /* MariaDB's progress report: the command goes on */
		return 1;
	case MYP_EOF:
		st = my_status_flags(pre, n, k);
		switch (r->state) {
		case MYR_COLS_EOF:
			if (!c->eof_known) {
				c->eof_known = 1;
				c->flags &= ~MY_CLIENT_DEPRECATE_EOF;
			}
			if (r->cmd == MY_COM_STMT_EXECUTE && (st & MY_SERVER_CURSOR_EXISTS))
				return 1; /* rows come by COM_STMT_FETCH */
			r->state = MYR_ROWS;
			return 0;
		case MYR_PREP_PEOF:
			if (!r->prep_cols)
				return 1;
			r->left = r->prep_cols;
			r->state = MYR_PREP_COLS;
			return 0;
		case MYR_PREP_CEOF:
			return 1;
		default:
			if (st & MY_SERVER_MORE_RESULTS) {
				r->state = MYR_FIRST;
				return 0;
			}
			return 1;
		}
	case MYP_COLCOUNT:
		s = my_lenenc(pre, n, &v);
		if (!s || !v)
			return 1; /* not a column count after all: the answer ends */
		r->left = v;
		r->state = MYR_COLS;
		if (plen > s && n > s && pre[s] == 0)
			after_cols(r, c); /* MariaDB: the metadata is cached, not sent */
		return 0;
	case MYP_COLDEF:
		if (r->state == MYR_FIELDS || (r->state == MYR_FIRST && r->cmd == MY_COM_FIELD_LIST)) {
			r->state = MYR_FIELDS;
			return 0;
		}
		if (r->left)
			r->left--;
		if (r->left)
			return 0;
		if (r->state == MYR_COLS) {
			after_cols(r, c);
		} else if (r->state == MYR_PREP_PARAMS) {
			if (!deprecate_eof(c)) {
				r->state = MYR_PREP_PEOF;
			} else if (r->prep_cols) {
				r->left = r->prep_cols;
				r->state = MYR_PREP_COLS;
			} else {
				return 1;
			}
		} else if (r->state == MYR_PREP_COLS) {
			if (deprecate_eof(c))
				return 1;
			r->state = MYR_PREP_CEOF;
		}
		return 0;
	case MYP_ROW:
		if (r->state == MYR_COLS_EOF) {
			/* joined mid-way, the first row came where the EOF would be */
			c->eof_known = 1;
			c->flags |= MY_CLIENT_DEPRECATE_EOF;
			c->guessed = 1;
			r->state = MYR_ROWS;
		}
		return 0;
	case MYP_INFILE:
		return 0; /* the client sends the file, then the server's OK or ERR */
	case MYP_PREP_OK:
		if (n < 9)
			return 1;
		r->prep_cols = my_le16(pre + 5);
		r->left = my_le16(pre + 7);
		if (r->left) {
			r->state = MYR_PREP_PARAMS;
			return 0;
		}
		if (r->prep_cols) {
			r->left = r->prep_cols;
			r->prep_cols = 0;
			r->state = MYR_PREP_COLS;
			return 0;
		}
		return 1;
	case MYP_AUTH:
		r->state = MYR_AUTH;
		return 0;
	case MYP_PROGRESS:
		return 0;
	default:
		return 1;
	}
}

int my_is_response_start(const uint8_t *p, size_t n, uint64_t len)
{
	uint32_t plen;
	uint64_t end;

	if (!p || n < MY_HDR + 1 || p[3] != 1)
		return 0;
	plen = my_le24(p);
	end = MY_HDR + (uint64_t)plen;
	if (!plen || plen >= MY_MAX_PAYLOAD || end > len)
		return 0;
	switch (p[4]) {
	case 0x00: if (plen < 7) return 0; break;
	case 0xff: if (plen < 3) return 0; break;
	case 0xfe: if (plen < 5) return 0; break;
	case 0xfb: break;
	default:
		/* a column count (MariaDB may add a "metadata follows" byte) */
		if (p[4] > 0xfa || plen > 2)
			return 0;
		break;
	}
	if (end < len && n >= end + MY_HDR && p[end + 3] != 2)
		return 0;
	return 1;
}
