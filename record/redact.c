/* redact.c - masks credential values in captured HTTP/1 payloads, per
 * connection and direction, across reads.  redact.h says what is masked and
 * where the limits are; this file is the byte-at-a-time state machine and
 * the bounded table that holds one state per stream in mid-message.
 *
 * The machine, per stream:
 *   RM_HEAD        outside any body: start lines, header lines, blank lines.
 *                  With F_MSG a start line was seen and the blank line decides
 *                  what follows; without it (a fresh or idle stream, chunk
 *                  trailers, after lost sync) header-looking lines are still
 *                  masked and a blank line changes nothing.
 *   RM_BODY        `left` bytes of a Content-Length body (form parameters
 *                  masked when F_FORM).
 *   RM_CHUNK_*     a chunked body: size line, extension, data, CRLF.
 * Every decision is taken on the byte that settles it, with what earlier
 * bytes left in the state, never by looking ahead, so (in BZ_REDACT_F_EXACT
 * mode) a stream gives the same bytes whatever reads it was cut into.  The
 * only look-ahead is at the start of a read after uncaptured bytes, where
 * nothing better is known (rd_unsure).  Runs of bytes whose handling is
 * known in advance (rd_head_span) and header lines that end within the
 * read (rd_header_line) skip the per-byte dispatch but go through the same
 * decisions; BZ_REDACT_F_BYTEWISE turns the line shortcut off so that
 * tests can compare the two paths.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "bpf/beyla_events.h"
#include "record/redact.h"
#include "record/redact_echo.h"
#include "record/redact_h2.h"
#include "record/redact_wire.h"

#define RD_METHOD_MAX 20        /* longest request method recognised */
#define RD_HEX_MAX 16           /* hex digits of a chunk size */
#define RD_DROP_BITS 65536u     /* marks of streams that found the table full */
#define RD_SCRATCH (1u << 16)   /* an event record is at most 64 KiB (u16 size) */
#define RD_SLOTS_MIN 64u
#define RD_RUNS_MAX 64u         /* masked runs of one payload handed to redact_echo */

enum rd_mode { RM_HEAD = 0, RM_BODY, RM_CHUNK_SIZE, RM_CHUNK_EXT, RM_CHUNK_DATA, RM_CHUNK_END };
enum rd_line {
	L_START = 0, /* nothing of this line yet */
	L_CR,        /* only a CR so far: a blank line if LF follows */
	L_TOKEN,     /* the first token: a header name, a method, or "HTTP" */
	L_TOKSP,     /* whitespace after the token: "Name :" */
	L_VALUE,     /* a header value (hv says which) */
	L_SKIP,      /* nothing more of interest until LF */
	L_TARGET,    /* a request target */
	L_STATUS,    /* a status line after "HTTP/" */
};
enum rd_hv { HV_SKIP = 0, HV_REDACT, HV_CL, HV_CT, HV_TE, HV_URL };
enum rd_par { P_NONE = 0, P_NAME, P_KEEP, P_REDACT };
enum rd_tgt { T_PATH = 0, T_MATRIX, T_QUERY };

enum {
	F_MSG = 1u << 0,         /* a start line was seen and its header block is being read */
	F_REQ = 1u << 1,         /* that message (or the last one) is a request */
	F_PREV_SENS = 1u << 2,   /* the header line before was masked: so are its continuations */
	F_VAL_STARTED = 1u << 3, /* past the leading whitespace of a header value or target */
	F_TOK_LONG = 1u << 4,    /* the line's first token did not fit in tok[] */
	F_PAR_LONG = 1u << 5,    /* the parameter name did not fit in parn[] */
	F_CL_KNOWN = 1u << 6,
	F_CL_BAD = 1u << 7,      /* Content-Length repeated, malformed or overflowing */
	F_CT_SEEN = 1u << 8,
	F_CT_FORM = 1u << 9,
	F_CHUNKED = 1u << 10,
	F_HEAD_GAP = 1u << 11,   /* bytes of this header block were not captured */
	F_GUESS_FORM = 1u << 12, /* look for form parameters on every non-header line */
	F_FORM = 1u << 13,       /* the body being read is a form */
	F_SNIFF = 1u << 14,      /* in a body: might this be a start line?  tok[] holds its token */
	F_UNSURE = 1u << 15,     /* the next read starts after uncaptured bytes */
	F_CT_JSON = 1u << 16,    /* Content-Type names JSON ("json" anywhere in it) */
	F_JSON = 1u << 17,       /* the body being read is JSON: par holds a rd_json state */
	F_JSON_SENS = 1u << 18,  /* the JSON value being read belongs to a sensitive key */
};

/* Where a JSON body is (in s->par while F_JSON).  Keys are names like form
 * parameters; the value of a sensitive key is masked, strings without their
 * quotes, and for an object or array every scalar inside it (the structure
 * stays). */
enum rd_json {
	J_OUT = 0,   /* between tokens: a string here is a key (or an array item) */
	J_KEY,       /* in a string that may be a key: its bytes go to parn */
	J_KEY_ESC,   /* after a backslash in it */
	J_KEY_U,     /* in a \uXXXX escape of it: sub digits so far, cl their value */
	J_AFTER_KEY, /* the string ended: a ':' makes it a key */
	J_VALUE,     /* after the ':': whitespace, then the value */
	J_VSTR,      /* in a string value */
	J_VSTR_ESC,
	J_VBARE,     /* in a number, true, false or null */
	J_VNEST,     /* in an object or array value; sub counts the depth */
	J_VNEST_STR,
	J_VNEST_ESC,
	J_LOST,      /* bytes of the body went by uncaptured: mask what is left of it */
};

struct rd_state {
	uint64_t left; /* RM_BODY, RM_CHUNK_DATA: bytes left; RM_CHUNK_SIZE: the size so far */
	uint64_t cl;   /* Content-Length so far */
	uint32_t fl;   /* F_* */
	uint16_t status;
	uint8_t mode, line, hv, par, tgt;
	uint8_t sub;   /* HV_CL: whitespace after digits; HV_CT, HV_TE: match position;
	                * L_STATUS: 0 version, 1 code, 2 reason */
	uint8_t tok_len, par_len;
	uint8_t jsub;  /* HV_CT: how much of "json" matched */
	char tok[BZ_REDACT_NAME_MAX];  /* first token of the line (or hex digits of a chunk size) */
	char parn[BZ_REDACT_NAME_MAX]; /* name of the parameter being read */
};

struct rd_slot {
	uint64_t conn;
	uint32_t dir;
	struct rd_state *st; /* NULL: empty slot */
};

struct rd_name {
	char s[BZ_REDACT_NAME_MAX + 1]; /* normalised, NUL-terminated */
	size_t len;
};

struct rd_names {
	struct rd_name *v;
	int n, cap;
};

/* What a header's name makes of its value (rd_header_name). */
enum rd_hname { HN_OTHER = 0, HN_SENSITIVE, HN_URL, HN_CL, HN_CT, HN_TE };

/* A few hundred distinct header names make up nearly all traffic, and
 * classifying one (normalise, then match against every pattern) costs more
 * than the rest of a small message: the verdicts are kept in a
 * direct-mapped cache keyed by the name's bytes as they appeared. */
#define RD_HCACHE_BITS 8
#define RD_HCACHE_SLOTS (1u << RD_HCACHE_BITS)
#define RD_HCACHE_NAME 30 /* longer names are classified every time */
struct rd_hcache_ent {
	uint8_t len; /* 0: empty */
	uint8_t kind; /* enum rd_hname */
	char name[RD_HCACHE_NAME];
};

struct bz_redact {
	struct rd_hcache_ent hcache[RD_HCACHE_SLOTS];
	struct rd_slot *slots;
	uint32_t nslots, max;
	unsigned flags;
	struct rd_names hdr, par;
	struct bz_redact_stats st;
	size_t cur; /* bytes masked by the current call */
	uint8_t *scratch;
	/* What the current call masked, for redact_echo: runs of the payload
	 * log_base[0..log_n) and their bytes before masking (orig). */
	struct rd_echo *echo;      /* NULL with BZ_REDACT_F_NO_ECHO */
	const uint8_t *log_base;
	size_t log_n;
	uint8_t *orig;
	struct rd_echo_run runs[RD_RUNS_MAX];
	uint32_t nruns;
	uint8_t dropped[RD_DROP_BITS / 8];
	/* HTTP/2 connections: HPACK-aware masking (redact_h2.h) */
	struct rd_h2 *h2;
	/* database connections: their protocols' masking (redact_wire.h) */
	struct rd_wire *wire;
	uint8_t *url; /* BZ_REDACT_URL_MAX: a URL's copy, masked to see where */
};

/* ---- names ----------------------------------------------------------------- */

/* Names (normalised) masked by default.  Exact: the whole name, or the name
 * after an "X-" prefix.  Substrings: anywhere in the name, grouped by first
 * letter so that a name costs one pass (this runs for every header line the
 * recorder sees). */
struct rd_pat {
	const char *s;
	size_t len;
};
#define RD_PAT(x) { x, sizeof(x) - 1 }
static const struct rd_pat rd_exact[] = {
	RD_PAT("key"), RD_PAT("sig"), RD_PAT("pwd"), RD_PAT("pass"), RD_PAT("auth"), RD_PAT("otp"),
	RD_PAT("sid"), { NULL, 0 }
};
#define RD_EXACT_MAX 4 /* longest exact name */
static const struct rd_pat rd_sub_a[] = {
	RD_PAT("apikey"), RD_PAT("accesskey"), RD_PAT("authorization"), { NULL, 0 }
};
static const struct rd_pat rd_sub_b[] = { RD_PAT("bearer"), { NULL, 0 } };
static const struct rd_pat rd_sub_c[] = {
	RD_PAT("credential"), RD_PAT("cookie"), RD_PAT("csrf"), { NULL, 0 }
};
static const struct rd_pat rd_sub_j[] = { RD_PAT("jwt"), { NULL, 0 } };
static const struct rd_pat rd_sub_o[] = { RD_PAT("oauth"), { NULL, 0 } };
static const struct rd_pat rd_sub_p[] = {
	RD_PAT("password"), RD_PAT("passwd"), RD_PAT("passphrase"), RD_PAT("privatekey"), { NULL, 0 }
};
static const struct rd_pat rd_sub_s[] = {
	RD_PAT("secret"), RD_PAT("signature"), RD_PAT("session"), RD_PAT("sessid"), { NULL, 0 }
};
static const struct rd_pat rd_sub_t[] = { RD_PAT("token"), { NULL, 0 } };
static const struct rd_pat rd_sub_x[] = { RD_PAT("xsrf"), { NULL, 0 } };
static const struct rd_pat *const rd_sub[26] = {
	['a' - 'a'] = rd_sub_a, ['b' - 'a'] = rd_sub_b, ['c' - 'a'] = rd_sub_c,
	['j' - 'a'] = rd_sub_j, ['o' - 'a'] = rd_sub_o, ['p' - 'a'] = rd_sub_p,
	['s' - 'a'] = rd_sub_s, ['t' - 'a'] = rd_sub_t, ['x' - 'a'] = rd_sub_x,
};
static const char rd_form_ct[] = "application/x-www-form-urlencoded";
#define RD_FORM_CT_LEN (sizeof(rd_form_ct) - 1)

static int rd_lower(unsigned c) { return c >= 'A' && c <= 'Z' ? (int)(c + 32) : (int)c; }

static int rd_hexval(unsigned c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	c = (unsigned)rd_lower(c);
	return c >= 'a' && c <= 'f' ? (int)(c - 'a' + 10) : -1;
}

/* RFC 9110 tchar (ALPHA, DIGIT and !#$%&'*+-.^_`|~): what a header name or
 * method is made of.  A table by byte value: this is asked for nearly every
 * byte of a header name. */
static const uint8_t rd_tchar_tab[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static int rd_tchar(unsigned c) { return rd_tchar_tab[c & 0xff]; }

/* Bytes that end a run of plain path: ? ; # SP HT CR LF. */
static const uint64_t rd_path_stop = 0x8800000900002600ull;

static int rd_path_plain(unsigned c) { return c >= 64 || !((rd_path_stop >> c) & 1); }

/* A request method: 3..RD_METHOD_MAX upper-case letters, '-' or '_'. */
static int rd_is_method(const char *t, size_t n)
{
	if (n < 3 || n > RD_METHOD_MAX || t[0] < 'A' || t[0] > 'Z')
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!((t[i] >= 'A' && t[i] <= 'Z') || t[i] == '-' || t[i] == '_'))
			return 0;
	return 1;
}

/* Normalises name[0..len) into out: letters lowered, digits kept, %XX
 * decoded first when `decode`, everything else dropped.  Returns the length,
 * or BZ_REDACT_NAME_MAX + 1 if it does not fit. */
static size_t rd_norm(const char *name, size_t len, int decode, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned c = (uint8_t)name[i];
		if (decode && c == '%' && i + 2 < len && rd_hexval((uint8_t)name[i + 1]) >= 0 &&
		    rd_hexval((uint8_t)name[i + 2]) >= 0) {
			c = (unsigned)(rd_hexval((uint8_t)name[i + 1]) * 16 + rd_hexval((uint8_t)name[i + 2]));
			i += 2;
		}
		c = (unsigned)rd_lower(c);
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			continue;
		if (n == BZ_REDACT_NAME_MAX)
			return BZ_REDACT_NAME_MAX + 1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return n;
}

static int rd_default_sensitive(const char *raw, size_t rawlen, const char *norm, size_t n)
{
	int xprefix = rawlen > 2 && (raw[0] == 'x' || raw[0] == 'X') && (raw[1] == '-' || raw[1] == '_');

	if (n <= RD_EXACT_MAX + 1) {
		for (const struct rd_pat *e = rd_exact; e->s; e++)
			if ((e->len == n && !memcmp(norm, e->s, n)) ||
			    (xprefix && e->len + 1 == n && !memcmp(norm + 1, e->s, e->len)))
				return 1;
	}
	for (size_t i = 0; i + 3 <= n; i++) {
		const struct rd_pat *c = norm[i] >= 'a' && norm[i] <= 'z' ? rd_sub[norm[i] - 'a'] : NULL;
		for (; c && c->s; c++)
			if (c->len <= n - i && norm[i + 1] == c->s[1] && norm[i + 2] == c->s[2] &&
			    !memcmp(norm + i + 3, c->s + 3, c->len - 3))
				return 1;
	}
	return 0;
}

/* 1 if the name raw[0..len), normalised as norm[0..n), is to be masked: a
 * default name, one of `extra`, or too long to tell. */
static int rd_sensitive(const struct rd_names *extra, const char *raw, size_t len,
			const char *norm, size_t n)
{
	if (n > BZ_REDACT_NAME_MAX)
		return 1;
	if (rd_default_sensitive(raw, len, norm, n))
		return 1;
	for (int i = 0; i < extra->n; i++)
		if (extra->v[i].len == n && !memcmp(extra->v[i].s, norm, n))
			return 1;
	return 0;
}

/* norm[0..n) is the string literal `lit` */
#define rd_is(norm, n, lit) ((n) == sizeof(lit) - 1 && !memcmp((norm), (lit), sizeof(lit) - 1))

int bz_redact_name_ok(const char *name)
{
	char norm[BZ_REDACT_NAME_MAX + 1];
	size_t len;

	if (!name)
		return 0;
	len = strlen(name);
	if (len < 1 || len > BZ_REDACT_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned c = (uint8_t)name[i];
		if (c <= 0x20 || c >= 0x7f || strchr(":=&?#", (int)c))
			return 0;
	}
	/* something must be left to compare */
	return rd_norm(name, len, 1, norm) > 0;
}

static int rd_names_add(struct rd_names *ns, const char *name)
{
	if (!bz_redact_name_ok(name))
		return -EINVAL;
	if (ns->n == ns->cap) {
		int cap = ns->cap ? ns->cap * 2 : 8;
		void *v = realloc(ns->v, (size_t)cap * sizeof(ns->v[0]));
		if (!v)
			return -ENOMEM;
		ns->v = v;
		ns->cap = cap;
	}
	ns->v[ns->n].len = rd_norm(name, strlen(name), 1, ns->v[ns->n].s);
	ns->n++;
	return 0;
}

/* ---- the state machine ------------------------------------------------------ */

/* Notes that byte *b of the payload is about to be masked: redact_echo
 * learns the value it belongs to.  Bytes outside the payload (rd_lost
 * replays a chunk size from a copy) are not the payload's. */
static void rd_log(struct bz_redact *r, const uint8_t *b)
{
	uintptr_t off = (uintptr_t)b - (uintptr_t)r->log_base;
	struct rd_echo_run *run;

	if (off >= r->log_n)
		return;
	r->orig[off] = *b;
	run = r->nruns ? &r->runs[r->nruns - 1] : NULL;
	if (run && run->off + run->len == off) {
		run->len++;
		return;
	}
	if (r->nruns < RD_RUNS_MAX)
		r->runs[r->nruns++] = (struct rd_echo_run){ (uint32_t)off, 1 };
}

static void rd_mask(struct bz_redact *r, uint8_t *b)
{
	if (*b == '\r' || *b == '\n' || *b == BZ_REDACT_FILL)
		return;
	rd_log(r, b);
	*b = BZ_REDACT_FILL;
	r->cur++;
}

/* Between messages: exactly the state of a stream never seen (but for F_REQ,
 * which only matters together with F_MSG or a body). */
static void rd_idle(struct rd_state *s)
{
	s->mode = RM_HEAD;
	s->line = L_START;
	s->fl &= F_REQ;
	s->left = s->cl = 0;
	s->status = 0;
	s->hv = HV_SKIP;
	s->par = P_NONE;
	s->tgt = T_PATH;
	s->sub = 0;
	s->tok_len = s->par_len = 0;
}

static int rd_is_idle(const struct rd_state *s)
{
	return s->mode == RM_HEAD && s->line == L_START && !(s->fl & ~F_REQ) && s->par == P_NONE;
}

/* A request line (after "METHOD ") or status line (after "HTTP/") begins. */
static void rd_start_msg(struct rd_state *s, int req)
{
	rd_idle(s);
	s->fl = F_MSG | (req ? F_REQ : 0);
	s->line = req ? L_TARGET : L_STATUS;
}

static void rd_par_start(struct rd_state *s)
{
	s->par = P_NAME;
	s->par_len = 0;
	s->fl &= ~F_PAR_LONG;
}

/* One byte of a name=value&name=value list. */
static void rd_param(struct bz_redact *r, struct rd_state *s, uint8_t *b, unsigned c)
{
	switch (s->par) {
	case P_NAME:
		if (c == '&') {
			rd_par_start(s);
		} else if (c == '=') {
			char norm[BZ_REDACT_NAME_MAX + 1];
			size_t n = rd_norm(s->parn, s->par_len, 1, norm);
			s->par = (s->fl & F_PAR_LONG) || rd_sensitive(&r->par, s->parn, s->par_len, norm, n)
				 ? P_REDACT : P_KEEP;
		} else if (s->par_len < BZ_REDACT_NAME_MAX) {
			s->parn[s->par_len++] = (char)c;
		} else {
			s->fl |= F_PAR_LONG;
		}
		break;
	case P_KEEP:
		if (c == '&')
			rd_par_start(s);
		break;
	case P_REDACT:
		if (c == '&')
			rd_par_start(s);
		else
			rd_mask(r, b);
		break;
	default:
		break;
	}
}

/* Classifies a header name (raw bytes, as in the message). */
static enum rd_hname rd_hname_classify(const struct bz_redact *r, const char *raw, size_t len)
{
	char norm[BZ_REDACT_NAME_MAX + 1];
	size_t n = rd_norm(raw, len, 0, norm);

	if (rd_sensitive(&r->hdr, raw, len, norm, n))
		return HN_SENSITIVE;
	if (rd_is(norm, n, "referer") || rd_is(norm, n, "referrer") || rd_is(norm, n, "location") ||
	    rd_is(norm, n, "contentlocation"))
		return HN_URL;
	if (rd_is(norm, n, "contentlength"))
		return HN_CL;
	if (rd_is(norm, n, "contenttype"))
		return HN_CT;
	if (rd_is(norm, n, "transferencoding"))
		return HN_TE;
	return HN_OTHER;
}

/* rd_hname_classify through the cache. */
static enum rd_hname rd_hname_kind(struct bz_redact *r, const char *raw, size_t len)
{
	struct rd_hcache_ent *e;
	uint32_t h;

	if (len == 0 || len > RD_HCACHE_NAME)
		return rd_hname_classify(r, raw, len);
	/* length and three bytes pick the slot (a full hash of every byte cost
	 * more than the lookup saves); the memcmp below decides */
	h = ((uint32_t)len << 24) ^ ((uint32_t)(uint8_t)raw[0] << 16) ^
	    ((uint32_t)(uint8_t)raw[len / 2] << 8) ^ (uint8_t)raw[len - 1];
	h *= 2654435761u;
	e = &r->hcache[h >> (32 - RD_HCACHE_BITS)];
	if (e->len != len || memcmp(e->name, raw, len)) {
		e->kind = (uint8_t)rd_hname_classify(r, raw, len);
		e->len = (uint8_t)len;
		memcpy(e->name, raw, len);
	}
	return (enum rd_hname)e->kind;
}

/* The header name in tok[] ended with ':'. */
static void rd_header_name(struct bz_redact *r, struct rd_state *s)
{
	enum rd_hname kind = (s->fl & F_TOK_LONG) ? HN_SENSITIVE : rd_hname_kind(r, s->tok, s->tok_len);

	s->line = L_VALUE;
	s->hv = HV_SKIP;
	s->sub = 0;
	s->fl &= ~F_VAL_STARTED;
	if (kind == HN_SENSITIVE) {
		s->hv = HV_REDACT;
		s->fl |= F_PREV_SENS;
		return;
	}
	if (kind == HN_URL) {
		if (!(s->fl & F_GUESS_FORM)) { /* (which already parses this line's parameters) */
			s->hv = HV_URL; /* a redirect or referring URL: its parameters */
			s->tgt = T_PATH;
			s->par = P_NONE;
		}
		return;
	}
	if (!(s->fl & F_MSG)) /* framing matters only in a header block we know */
		return;
	if (kind == HN_CL) {
		if (s->fl & F_CL_KNOWN)
			s->fl |= F_CL_BAD; /* two lengths: trust neither */
		s->fl |= F_CL_KNOWN;
		s->cl = 0;
		s->hv = HV_CL;
	} else if (kind == HN_CT) {
		s->fl = (s->fl | F_CT_SEEN) & ~F_CT_FORM;
		s->hv = HV_CT;
		s->jsub = 0;
	} else if (kind == HN_TE) {
		s->hv = HV_TE;
	}
}

/* A lowercase word anywhere in a header value, one byte c at a time (*pos:
 * how much of it matched so far): 1 when its last byte just matched.  The
 * word's letters are all distinct, so on a mismatch c can only restart it. */
static int rd_word_seen(unsigned c, const char *word, uint8_t *pos)
{
	int l = rd_lower(c);

	if (l != word[*pos]) {
		*pos = l == word[0];
		return 0;
	}
	if (word[++*pos])
		return 0;
	*pos = 0;
	return 1;
}

/* One byte of a request target or of a URL in a header value: parameters
 * after '?', after '#' (tokens of OAuth redirects travel in fragments), and
 * ;matrix parameters of the path.  Whitespace ends a parameter (a target has
 * none; spaces before it are skipped). */
static void rd_target(struct bz_redact *r, struct rd_state *s, uint8_t *b, unsigned c)
{
	if (c == ' ' || c == '\t') {
		if (s->fl & F_VAL_STARTED) {
			s->tgt = T_PATH;
			s->par = P_NONE;
		}
		return;
	}
	s->fl |= F_VAL_STARTED;
	if (c == '?' || c == '#') {
		s->tgt = T_QUERY;
		rd_par_start(s);
		return;
	}
	switch (s->tgt) {
	case T_PATH:
		if (c == ';') {
			s->tgt = T_MATRIX;
			rd_par_start(s);
		}
		break;
	case T_MATRIX: /* /path;jsessionid=...;x=y/more */
		if (c == '/') {
			s->tgt = T_PATH;
			s->par = P_NONE;
		} else if (c == ';') {
			rd_par_start(s);
		} else {
			rd_param(r, s, b, c);
		}
		break;
	default: /* T_QUERY */
		rd_param(r, s, b, c);
		break;
	}
}

static void rd_value(struct bz_redact *r, struct rd_state *s, uint8_t *b, unsigned c)
{
	int ows = c == ' ' || c == '\t';

	if (c == '\r' || (ows && !(s->fl & F_VAL_STARTED)))
		return;
	switch (s->hv) {
	case HV_REDACT:
		rd_mask(r, b);
		break;
	case HV_CL:
		if (c >= '0' && c <= '9' && !s->sub) {
			if (s->cl > (UINT64_MAX - 9) / 10)
				s->fl |= F_CL_BAD;
			else
				s->cl = s->cl * 10 + (c - '0');
		} else if (ows) {
			s->sub = 1;
		} else {
			s->fl |= F_CL_BAD;
		}
		break;
	case HV_CT:
		/* "json" anywhere: application/json, application/problem+json... */
		if (rd_word_seen(c, "json", &s->jsub))
			s->fl |= F_CT_JSON;
		if (s->sub < RD_FORM_CT_LEN) {
			if (rd_lower(c) == rd_form_ct[s->sub]) {
				if (++s->sub == RD_FORM_CT_LEN)
					s->fl |= F_CT_FORM;
			} else {
				s->sub = 0xff;
			}
		}
		break;
	case HV_URL:
		rd_target(r, s, b, c);
		break;
	case HV_TE: /* "chunked" anywhere in the list */
		if (rd_word_seen(c, "chunked", &s->sub))
			s->fl |= F_CHUNKED;
		break;
	default:
		break;
	}
	s->fl |= F_VAL_STARTED;
}

static void rd_status(struct rd_state *s, unsigned c)
{
	if (s->sub == 0) {
		if (c == ' ')
			s->sub = 1;
	} else if (s->sub == 1) {
		if (c >= '0' && c <= '9' && s->tok_len < 3) {
			s->status = (uint16_t)(s->status * 10 + (c - '0'));
			s->tok_len++;
		} else if (!(c == ' ' && !s->tok_len)) {
			s->sub = 2;
		}
	}
}

/* The blank line that ends a header block: what follows? */
static void rd_blank(struct rd_state *s)
{
	uint32_t req = s->fl & F_REQ, json;
	int form;

	if (!(s->fl & F_MSG)) /* idle, or chunk trailers: nothing follows by rule */
		return;
	if (s->fl & F_HEAD_GAP) {
		/* Length or type may have gone by unseen: no body we can count. */
		rd_idle(s);
		s->fl |= F_GUESS_FORM;
		return;
	}
	if (!req && (s->status / 100 == 1 || s->status == 204 || s->status == 304)) {
		rd_idle(s);
		return;
	}
	form = req && ((s->fl & F_CT_FORM) || !(s->fl & F_CT_SEEN));
	json = (s->fl & F_CT_JSON) ? F_JSON : 0; /* requests and responses (tokens) */
	if (json)
		form = 0;
	if (s->fl & F_CHUNKED) {
		s->mode = RM_CHUNK_SIZE;
		s->left = 0;
		s->tok_len = 0;
		s->fl = req | json | (form ? F_FORM : 0);
		if (form)
			rd_par_start(s);
		s->par = json ? J_OUT : s->par;
		return;
	}
	if ((s->fl & (F_CL_KNOWN | F_CL_BAD)) == F_CL_KNOWN && s->cl > 0) {
		s->mode = RM_BODY;
		s->left = s->cl;
		s->tok_len = 0;
		s->fl = req | json | F_SNIFF | (form ? F_FORM : 0); /* a HEAD response has no body */
		if (form)
			rd_par_start(s);
		s->par = json ? J_OUT : s->par;
		return;
	}
	form = req && (s->fl & F_CL_BAD);
	rd_idle(s); /* no body, or a response until close */
	if (form)
		s->fl |= F_GUESS_FORM;
}

static void rd_head_eol(struct rd_state *s)
{
	int blank = s->line == L_START || s->line == L_CR;
	int masked = s->line == L_VALUE && s->hv == HV_REDACT;

	if (s->line == L_VALUE && s->hv == HV_CL && !(s->fl & F_VAL_STARTED))
		s->fl |= F_CL_BAD;
	s->line = L_START;
	s->tok_len = 0;
	s->par = P_NONE;
	if (!masked)
		s->fl &= ~F_PREV_SENS;
	if (blank)
		rd_blank(s);
}

static void rd_head(struct bz_redact *r, struct rd_state *s, uint8_t *b)
{
	unsigned c = *b;

	if ((s->fl & F_GUESS_FORM) && s->par != P_NONE && c != '\r' && c != '\n')
		rd_param(r, s, b, c);
	if (c == '\n') {
		rd_head_eol(s);
		return;
	}
	switch (s->line) {
	case L_START:
		if (c == '\r') {
			s->line = L_CR;
			return;
		}
		if (s->fl & F_GUESS_FORM) {
			rd_par_start(s);
			rd_param(r, s, b, c);
		}
		if (c == ' ' || c == '\t') { /* obs-fold: continues the header above */
			if (s->fl & F_PREV_SENS) {
				s->line = L_VALUE;
				s->hv = HV_REDACT;
				s->fl &= ~F_VAL_STARTED;
			} else {
				s->line = L_SKIP;
			}
			return;
		}
		s->fl &= ~(F_PREV_SENS | F_TOK_LONG);
		s->tok_len = 0;
		s->line = L_TOKEN;
		/* fall through */
	case L_TOKEN:
		if (rd_tchar(c)) {
			if (s->tok_len < BZ_REDACT_NAME_MAX)
				s->tok[s->tok_len++] = (char)c;
			else
				s->fl |= F_TOK_LONG;
		} else if (c == ':') {
			rd_header_name(r, s);
		} else if (c == ' ' && !(s->fl & F_TOK_LONG) && rd_is_method(s->tok, s->tok_len)) {
			rd_start_msg(s, 1);
		} else if (c == '/' && s->tok_len == 4 && !memcmp(s->tok, "HTTP", 4)) {
			rd_start_msg(s, 0);
		} else {
			s->line = c == ' ' || c == '\t' ? L_TOKSP : L_SKIP;
		}
		return;
	case L_CR:
		s->line = L_SKIP;
		return;
	case L_TOKSP:
		if (c == ':')
			rd_header_name(r, s);
		else if (c != ' ' && c != '\t')
			s->line = L_SKIP;
		return;
	case L_VALUE:
		rd_value(r, s, b, c);
		return;
	case L_TARGET:
		if (c == '\r') {
			s->line = L_SKIP;
			s->par = P_NONE;
		} else {
			rd_target(r, s, b, c);
		}
		return;
	case L_STATUS:
		rd_status(s, c);
		return;
	default: /* L_SKIP */
		return;
	}
}

/* In a body: does a start line begin here?  1 if so (the stream is now in
 * that message's start line). */
static int rd_sniff(struct rd_state *s, unsigned c)
{
	if (rd_tchar(c) && s->tok_len < RD_METHOD_MAX) {
		s->tok[s->tok_len++] = (char)c;
		return 0;
	}
	if (c == ' ' && rd_is_method(s->tok, s->tok_len)) {
		rd_start_msg(s, 1);
		return 1;
	}
	if (c == '/' && s->tok_len == 4 && !memcmp(s->tok, "HTTP", 4)) {
		rd_start_msg(s, 0);
		return 1;
	}
	s->fl &= ~F_SNIFF;
	return 0;
}

static int rd_json_ws(unsigned c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static void rd_json_name(struct rd_state *s, unsigned c)
{
	if (s->par_len < BZ_REDACT_NAME_MAX)
		s->parn[s->par_len++] = (char)c;
	else
		s->fl |= F_PAR_LONG;
}

/* One byte of a JSON body (enum rd_json says where it is). */
static void rd_json(struct bz_redact *r, struct rd_state *s, uint8_t *b, unsigned c)
{
	int sens = !!(s->fl & F_JSON_SENS);

	switch (s->par) {
	case J_OUT:
		if (c == '"') {
			s->par = J_KEY;
			s->par_len = 0;
			s->fl &= ~F_PAR_LONG;
		}
		break;
	case J_KEY:
		if (c == '\\') {
			s->par = J_KEY_ESC;
			break;
		}
		if (c == '"') {
			s->par = J_AFTER_KEY;
			break;
		}
		/* a byte of the name */
		/* fall through */
	case J_KEY_ESC:
		if (s->par == J_KEY_ESC && c == 'u') {
			/* "pass\u0077ord" is "password" */
			s->par = J_KEY_U;
			s->sub = 0;
			s->cl = 0;
			break;
		}
		s->par = J_KEY;
		rd_json_name(s, c);
		break;
	case J_KEY_U:
		s->cl = s->cl * 16 + (c >= '0' && c <= '9' ? c - '0' : (rd_lower(c) - 'a' + 10) & 15);
		if (++s->sub == 4) {
			s->par = J_KEY;
			/* beyond ASCII: a byte no sensitive name has */
			rd_json_name(s, s->cl < 0x80 ? (unsigned)s->cl : 0x80);
		}
		break;
	case J_AFTER_KEY:
		if (c == ':') {
			char norm[BZ_REDACT_NAME_MAX + 1];
			size_t n = rd_norm(s->parn, s->par_len, 1, norm);
			if ((s->fl & F_PAR_LONG) || rd_sensitive(&r->par, s->parn, s->par_len, norm, n))
				s->fl |= F_JSON_SENS;
			else
				s->fl &= ~F_JSON_SENS;
			s->par = J_VALUE;
		} else if (!rd_json_ws(c)) {
			s->par = J_OUT; /* an array item, not a key */
			if (c == '"')
				rd_json(r, s, b, c);
		}
		break;
	case J_VALUE:
		if (rd_json_ws(c))
			break;
		if (c == '"') {
			s->par = J_VSTR;
		} else if (c == '{' || c == '[') {
			/* a sensitive key's object or array: mask all of it; else its own keys decide */
			s->par = sens ? J_VNEST : J_OUT;
			s->sub = 1;
		} else {
			s->par = J_VBARE;
			rd_json(r, s, b, c);
		}
		break;
	case J_VBARE:
		if (c == ',' || c == '}' || c == ']' || rd_json_ws(c))
			s->par = J_OUT;
		else if (sens)
			rd_mask(r, b);
		break;
	case J_VSTR:
		if (c == '"') {
			s->par = J_OUT;
			break;
		}
		if (c == '\\')
			s->par = J_VSTR_ESC;
		if (sens)
			rd_mask(r, b);
		break;
	case J_VSTR_ESC:
		s->par = J_VSTR;
		if (sens)
			rd_mask(r, b);
		break;
	case J_VNEST:
		if (c == '"') {
			s->par = J_VNEST_STR;
		} else if (c == '{' || c == '[') {
			if (s->sub < 255) /* deeper than that: masked to the body's end */
				s->sub++;
		} else if (c == '}' || c == ']') {
			if (s->sub < 255 && --s->sub == 0)
				s->par = J_OUT;
		} else if (c != ',' && c != ':' && !rd_json_ws(c)) {
			rd_mask(r, b);
		}
		break;
	case J_VNEST_STR:
		if (c == '"')
			s->par = J_VNEST;
		else
			rd_mask(r, b);
		if (c == '\\')
			s->par = J_VNEST_ESC;
		break;
	case J_VNEST_ESC:
		s->par = J_VNEST_STR;
		rd_mask(r, b);
		break;
	default: /* J_LOST */
		rd_mask(r, b);
		break;
	}
}

static void rd_body(struct bz_redact *r, struct rd_state *s, uint8_t *b)
{
	unsigned c = *b;

	if ((s->fl & F_SNIFF) && rd_sniff(s, c))
		return;
	if (s->fl & F_JSON)
		rd_json(r, s, b, c);
	else if ((s->fl & F_FORM) && s->par != P_NONE)
		rd_param(r, s, b, c);
	if (--s->left == 0) {
		if (s->mode == RM_BODY) {
			rd_idle(s);
		} else {
			s->mode = RM_CHUNK_END;
			s->fl &= ~F_SNIFF;
		}
	}
}

/* The chunk framing makes no sense: go back to looking for lines, and feed
 * them what was taken for a chunk size ("DEL" of "DELETE ..."). */
static void rd_lost(struct bz_redact *r, struct rd_state *s, uint8_t *b)
{
	char pend[RD_HEX_MAX];
	size_t n = s->mode == RM_CHUNK_SIZE ? s->tok_len : 0;
	uint32_t req = s->fl & F_REQ;

	memcpy(pend, s->tok, n);
	rd_idle(s);
	if (req)
		s->fl |= F_GUESS_FORM;
	for (size_t i = 0; i < n; i++) {
		uint8_t x = (uint8_t)pend[i];
		rd_head(r, s, &x);
	}
	rd_head(r, s, b);
}

static void rd_chunk_size_done(struct rd_state *s)
{
	s->tok_len = 0;
	if (s->left == 0) /* the last chunk: trailers are header lines, then idle */
		rd_idle(s);
	else
		s->mode = RM_CHUNK_DATA;
}

static void rd_chunk(struct bz_redact *r, struct rd_state *s, uint8_t *b)
{
	unsigned c = *b;
	int v = rd_hexval(c);

	switch (s->mode) {
	case RM_CHUNK_SIZE:
		if (v >= 0 && s->tok_len < RD_HEX_MAX) {
			s->left = s->left * 16 + (unsigned)v;
			s->tok[s->tok_len++] = (char)c;
			return;
		}
		if (s->tok_len && v < 0) {
			if (c == '\n') {
				rd_chunk_size_done(s);
				return;
			}
			if (c == '\r' || c == ';' || c == ' ' || c == '\t') {
				s->mode = RM_CHUNK_EXT;
				return;
			}
		}
		rd_lost(r, s, b);
		return;
	case RM_CHUNK_EXT:
		if (c == '\n')
			rd_chunk_size_done(s);
		return;
	default: /* RM_CHUNK_END: the CRLF after chunk data */
		if (c == '\r')
			return;
		if (c == '\n') {
			s->mode = RM_CHUNK_SIZE;
			s->left = 0;
			s->tok_len = 0;
			return;
		}
		rd_lost(r, s, b);
		return;
	}
}

/* Does p[0..n) begin with a request line ("METHOD ") or a status line ("HTTP/")? */
static int rd_starts_msg(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n && i <= RD_METHOD_MAX && rd_tchar(p[i]))
		i++;
	if (i < n && p[i] == ' ' && rd_is_method((const char *)p, i))
		return 1;
	return i == 4 && n > 4 && p[4] == '/' && !memcmp(p, "HTTP", 4);
}

/* Text as header values are: no control bytes but HT and CR. */
static int rd_texty(unsigned c) { return c == '\t' || c == '\r' || (c >= 0x20 && c != 0x7f); }

/* The read starts after bytes never captured, somewhere in header lines:
 * unless a new message starts here, the first line is the unseen rest of
 * some line, perhaps a secret's: masked if it is text. */
static void rd_unsure(struct rd_state *s, const uint8_t *p, size_t n)
{
	size_t i;

	s->fl &= ~F_UNSURE;
	s->line = L_START;
	s->tok_len = 0;
	s->par = P_NONE;
	if (rd_starts_msg(p, n))
		return;
	for (i = 0; i < n && p[i] != '\n'; i++)
		if (!rd_texty(p[i]))
			break;
	if (i < n && p[i] != '\n') {
		s->line = L_SKIP; /* binary: not a header line */
		return;
	}
	s->line = L_VALUE;
	s->hv = HV_REDACT;
	s->fl |= F_VAL_STARTED | F_PREV_SENS;
}

/* Header-side bytes in bulk where the state machine would do nothing but
 * skip, mask or collect: values of no interest, masked values, ignored
 * lines, plain path bytes, header names; and the values and status lines
 * it reads byte by byte, up to their line's end, without a trip through
 * rd_head for each byte.  Returns the bytes consumed (0: let
 * rd_head take the next byte).  Not used while form parameters are being
 * guessed, which must see every byte. */
static size_t rd_head_span(struct bz_redact *r, struct rd_state *s, uint8_t *p, size_t n)
{
	size_t i = 0;

	if ((s->fl & F_GUESS_FORM) && s->par != P_NONE)
		return 0;
	switch (s->line) {
	case L_SKIP:
		break;
	case L_VALUE:
		if (s->hv == HV_REDACT && (s->fl & F_VAL_STARTED)) {
			for (; i < n && p[i] != '\n'; i++)
				if (p[i] != '\r' && p[i] != BZ_REDACT_FILL) {
					rd_log(r, p + i);
					p[i] = BZ_REDACT_FILL;
					r->cur++;
				}
			return i;
		}
		if (s->hv != HV_SKIP) {
			/* a value rd_value reads byte by byte: the rest of its line */
			for (; i < n && p[i] != '\n'; i++)
				rd_value(r, s, p + i, p[i]);
			return i;
		}
		break;
	case L_STATUS:
		for (; i < n && p[i] != '\n'; i++)
			rd_status(s, p[i]);
		return i;
	case L_TARGET:
		if (s->tgt != T_PATH || !(s->fl & F_VAL_STARTED))
			return 0;
		while (i < n && rd_path_plain(p[i]))
			i++;
		return i;
	case L_TOKEN:
		while (i < n && s->tok_len < BZ_REDACT_NAME_MAX && rd_tchar(p[i]))
			s->tok[s->tok_len++] = (char)p[i++];
		return i;
	default:
		return 0;
	}
	/* L_SKIP, or a value of no interest: up to the end of the line */
	const uint8_t *e = memchr(p, '\n', n);
	return e ? (size_t)(e - p) : n;
}

/* A whole header line ("Name: value" up to its LF) at the start of p, in
 * one step: what rd_head and rd_head_span would do with it byte by byte,
 * through the same functions (rd_header_name, rd_value, rd_head_eol), but
 * without a dispatch on the state for every byte and every field.  Header
 * lines are most of what the redactor reads, and those dispatches were
 * most of its time.  Returns the bytes consumed, the LF included, or 0 with
 * nothing changed when the line does not end in p, is not a header line,
 * or form parameters are being guessed (rd_param must see every byte). */
static size_t rd_header_line(struct bz_redact *r, struct rd_state *s, uint8_t *p, size_t n)
{
	const uint8_t *nl;
	size_t t = 0, end;

	if (s->fl & F_GUESS_FORM)
		return 0;
	while (t < n && t < BZ_REDACT_NAME_MAX && rd_tchar(p[t]))
		t++;
	if (t == 0 || t == n || p[t] != ':')
		return 0; /* a start line, a name too long to keep, or not whole here */
	nl = memchr(p + t, '\n', n - t);
	if (!nl)
		return 0;
	end = (size_t)(nl - p);
	/* rd_head at L_START and L_TOKEN, then the ':' */
	s->fl &= ~(F_PREV_SENS | F_TOK_LONG);
	memcpy(s->tok, p, t);
	s->tok_len = (uint8_t)t;
	rd_header_name(r, s);
	/* the value: rd_head_span skips a value of no interest unseen */
	if (s->hv != HV_SKIP)
		for (size_t i = t + 1; i < end; i++)
			rd_value(r, s, p + i, p[i]);
	rd_head_eol(s);
	return end + 1;
}

static void rd_run(struct bz_redact *r, struct rd_state *s, uint8_t *p, size_t n)
{
	size_t i = 0, k;

	if (s->fl & F_UNSURE) {
		rd_unsure(s, p, n);
	} else if (!(r->flags & BZ_REDACT_F_EXACT) && (s->mode == RM_BODY || s->mode == RM_CHUNK_DATA) &&
		   rd_starts_msg(p, n)) {
		rd_idle(s); /* a read that starts a new message ends a body we lost track of */
	}
	while (i < n) {
		switch (s->mode) {
		case RM_HEAD:
			if (s->line == L_START && !(r->flags & BZ_REDACT_F_BYTEWISE)) {
				k = rd_header_line(r, s, p + i, n - i);
				if (k) {
					i += k;
					continue;
				}
			}
			k = rd_head_span(r, s, p + i, n - i);
			if (k) {
				i += k;
				continue;
			}
			rd_head(r, s, p + i);
			break;
		case RM_BODY:
		case RM_CHUNK_DATA:
			if (!(s->fl & (F_SNIFF | F_FORM | F_JSON)) && s->left > 1) {
				/* opaque body: skip all but its last byte in one step */
				k = n - i < s->left - 1 ? n - i : (size_t)(s->left - 1);
				s->left -= k;
				i += k;
				continue;
			}
			rd_body(r, s, p + i);
			break;
		default:
			rd_chunk(r, s, p + i);
			break;
		}
		i++;
	}
}

/* `skipped` bytes of the stream went by uncaptured. */
static void rd_gap(struct bz_redact *r, struct rd_state *s, uint64_t skipped)
{
	if (s->mode == RM_BODY || s->mode == RM_CHUNK_DATA) {
		if (skipped < s->left) {
			s->left -= skipped;
			s->fl &= ~F_SNIFF;
			if (s->fl & F_FORM) /* somewhere in a parameter: mask to the next '&' */
				s->par = P_REDACT;
			if (s->fl & F_JSON) /* lost the nesting: mask the rest of the body */
				s->par = J_LOST;
			return;
		}
		if (skipped == s->left) {
			if (s->mode == RM_BODY)
				rd_idle(s);
			else
				s->mode = RM_CHUNK_END;
			return;
		}
	}
	r->st.gaps++;
	if (s->mode != RM_HEAD)
		rd_idle(s);
	else if (s->fl & F_MSG)
		s->fl |= F_HEAD_GAP;
	s->fl |= F_UNSURE | F_GUESS_FORM;
}

/* ---- the table of streams ------------------------------------------------------ */

static uint64_t rd_hash(uint64_t conn, unsigned dir)
{
	uint64_t x = conn ^ ((uint64_t)dir * 0x9e3779b97f4a7c15ull);
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint32_t rd_find(const struct bz_redact *r, uint64_t conn, unsigned dir)
{
	uint32_t mask = r->nslots - 1;

	for (uint32_t i = (uint32_t)rd_hash(conn, dir) & mask;; i = (i + 1) & mask) {
		if (!r->slots[i].st || (r->slots[i].conn == conn && r->slots[i].dir == dir))
			return i;
	}
}

static int rd_grow(struct bz_redact *r)
{
	uint32_t n = r->nslots * 2;
	struct rd_slot *old = r->slots, *ns = calloc(n, sizeof(*ns));
	uint32_t oldn = r->nslots;

	if (!ns)
		return -ENOMEM;
	r->slots = ns;
	r->nslots = n;
	for (uint32_t i = 0; i < oldn; i++)
		if (old[i].st)
			r->slots[rd_find(r, old[i].conn, old[i].dir)] = old[i];
	free(old);
	return 0;
}

static int rd_insert(struct bz_redact *r, uint64_t conn, unsigned dir, const struct rd_state *s)
{
	struct rd_state *st;
	uint32_t i;

	if (r->st.streams >= r->max)
		return -ENOSPC;
	if ((r->st.streams + 1) * 2 > r->nslots && rd_grow(r))
		return -ENOMEM;
	st = malloc(sizeof(*st));
	if (!st)
		return -ENOMEM;
	*st = *s;
	i = rd_find(r, conn, dir);
	r->slots[i].conn = conn;
	r->slots[i].dir = dir;
	r->slots[i].st = st;
	if (++r->st.streams > r->st.streams_hw)
		r->st.streams_hw = r->st.streams;
	return 0;
}

/* Frees slot i and closes the hole (linear probing, backward shift). */
static void rd_remove_at(struct bz_redact *r, uint32_t i)
{
	uint32_t mask = r->nslots - 1, j = i;

	free(r->slots[i].st);
	r->slots[i].st = NULL;
	r->st.streams--;
	for (;;) {
		j = (j + 1) & mask;
		if (!r->slots[j].st)
			return;
		uint32_t home = (uint32_t)rd_hash(r->slots[j].conn, r->slots[j].dir) & mask;
		/* may slot j's entry move back to i?  Only if home is not in (i, j]. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		r->slots[i] = r->slots[j];
		r->slots[j].st = NULL;
		i = j;
	}
}

static uint32_t rd_drop_bit(uint64_t conn, unsigned dir)
{
	return (uint32_t)(rd_hash(conn, dir) >> 40) & (RD_DROP_BITS - 1);
}

/* ---- API ---------------------------------------------------------------------- */

int bz_redact_new(struct bz_redact **out, uint32_t max_streams, unsigned flags)
{
	struct bz_redact *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->max = max_streams ? max_streams : BZ_REDACT_STREAMS_DEFAULT;
	r->flags = flags;
	r->nslots = RD_SLOTS_MIN;
	r->slots = calloc(r->nslots, sizeof(*r->slots));
	r->scratch = malloc(RD_SCRATCH);
	if (!(flags & BZ_REDACT_F_NO_ECHO)) {
		r->orig = malloc(RD_SCRATCH);
		if (rd_echo_new(&r->echo, (flags & BZ_REDACT_F_HOLD) != 0))
			r->echo = NULL;
	}
	r->url = malloc(BZ_REDACT_URL_MAX);
	if (rd_h2_new(&r->h2, (flags & BZ_REDACT_F_HOLD) != 0))
		r->h2 = NULL;
	if (!(flags & BZ_REDACT_F_HTTP_ONLY) && rd_wire_new(&r->wire))
		r->wire = NULL;
	if (!r->slots || !r->scratch || !r->url || !r->h2 || (!(flags & BZ_REDACT_F_HTTP_ONLY) && !r->wire) ||
	    (!(flags & BZ_REDACT_F_NO_ECHO) && (!r->orig || !r->echo))) {
		free(r->slots);
		free(r->scratch);
		free(r->orig);
		free(r->url);
		rd_echo_free(&r->echo);
		rd_h2_free(&r->h2);
		rd_wire_free(&r->wire);
		free(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

void bz_redact_free(struct bz_redact **rp)
{
	struct bz_redact *r = rp ? *rp : NULL;

	if (!r)
		return;
	for (uint32_t i = 0; i < r->nslots; i++)
		free(r->slots[i].st);
	free(r->slots);
	free(r->hdr.v);
	free(r->par.v);
	free(r->scratch);
	free(r->orig);
	free(r->url);
	rd_echo_free(&r->echo);
	rd_h2_free(&r->h2);
	rd_wire_free(&r->wire);
	free(r);
	*rp = NULL;
}

int bz_redact_add_header(struct bz_redact *r, const char *name)
{
	memset(r->hcache, 0, sizeof(r->hcache)); /* verdicts may change */
	return rd_names_add(&r->hdr, name);
}
int bz_redact_add_param(struct bz_redact *r, const char *name) { return rd_names_add(&r->par, name); }

int bz_redact_setup(struct bz_redact **out, const char *const *headers, int nheaders,
		    const char *const *params, int nparams)
{
	struct bz_redact *r = NULL;
	/* the recorder keeps each payload writable until it settles */
	int rc = bz_redact_new(&r, 0, BZ_REDACT_F_HOLD);

	for (int i = 0; !rc && i < nheaders; i++)
		rc = bz_redact_add_header(r, headers[i]);
	for (int i = 0; !rc && i < nparams; i++)
		rc = bz_redact_add_param(r, params[i]);
	if (rc) {
		bz_redact_free(&r);
		return rc;
	}
	*out = r;
	return 0;
}

size_t bz_redact_data(struct bz_redact *r, uint64_t conn_id, unsigned dir, uint8_t *p,
		      size_t caplen, int64_t ret)
{
	struct rd_state tmp, *s;
	uint32_t i = 0, bit;

	if (!r || ret <= 0)
		return 0;
	/* a database connection: its protocol's masking, not HTTP's */
	if (rd_wire_data(r->wire, conn_id, (dir & ~BZ_REDACT_PLAINTEXT) ? 1u : 0u, (dir & BZ_REDACT_PLAINTEXT) != 0,
			 p, caplen, ret, &r->cur)) {
		r->st.bytes += r->cur;
		r->st.events += r->cur > 0;
		return r->cur;
	}
	dir = (dir & BZ_REDACT_PLAINTEXT) | ((dir & ~BZ_REDACT_PLAINTEXT) ? 1u : 0u);
	r->cur = 0;
	i = rd_find(r, conn_id, dir);
	s = r->slots[i].st;
	r->nruns = 0;
	if (!s) {
		if (!caplen) {
			/* nothing seen of this stream: nothing to follow, but for a
			 * value the end of its last payload may have begun */
			if (r->echo && rd_echo_active(r->echo, conn_id))
				rd_echo_scan(r->echo, conn_id, dir, p, 0, 1);
			return 0;
		}
		/* tok[] and parn[] are read only up to their lengths */
		memset(&tmp, 0, offsetof(struct rd_state, tok));
		s = &tmp;
		bit = rd_drop_bit(conn_id, dir);
		if (r->dropped[bit / 8] & (1u << (bit % 8))) {
			/* this stream (or one sharing its mark) lost its state once */
			tmp.fl = F_UNSURE | F_GUESS_FORM;
			r->st.fallbacks++;
		}
	}
	if (caplen) {
		r->log_base = r->echo ? p : NULL;
		r->log_n = r->echo && caplen <= RD_SCRATCH ? caplen : 0;
		rd_run(r, s, p, caplen);
		r->log_n = 0;
	}
	if ((uint64_t)ret > caplen)
		rd_gap(r, s, (uint64_t)ret - caplen);
	if (r->echo) {
		int gap = (uint64_t)ret > caplen;
		if (r->nruns)
			rd_echo_learn(r->echo, conn_id, dir, r->orig, r->runs, r->nruns, caplen, gap);
		if (rd_echo_active(r->echo, conn_id))
			r->cur += rd_echo_scan(r->echo, conn_id, dir, p, caplen, gap);
	}
	if (s == &tmp) {
		if (!rd_is_idle(s) && rd_insert(r, conn_id, dir, s)) {
			bit = rd_drop_bit(conn_id, dir);
			r->dropped[bit / 8] |= (uint8_t)(1u << (bit % 8));
			r->st.dropped++;
		}
	} else if (rd_is_idle(s)) {
		rd_remove_at(r, i); /* idle is what a missing entry means */
	}
	r->st.bytes += r->cur;
	if (r->cur)
		r->st.events++;
	return r->cur;
}

void bz_redact_settle(struct bz_redact *r)
{
	if (!r)
		return;
	rd_echo_settle(r->echo);
	rd_h2_settle(r->h2);
}

int bz_redact_header_class(struct bz_redact *r, const char *name, size_t len)
{
	switch (rd_hname_kind(r, name, len)) {
	case HN_SENSITIVE: return BZ_REDACT_HDR_SECRET;
	case HN_URL: return BZ_REDACT_HDR_URL;
	default: return BZ_REDACT_HDR_OTHER;
	}
}

int bz_redact_url_secrets(struct bz_redact *r, const uint8_t *url, size_t n, uint8_t *which)
{
	struct rd_state s;
	const uint8_t *log_base = r->log_base;
	size_t cur = r->cur, log_n = r->log_n;
	int any = 0;

	if (n > BZ_REDACT_URL_MAX)
		return 0;
	/* the HTTP/1 rules for a request target, on a copy: what they mask
	 * is where the secrets are (nothing logged for echo: the caller
	 * learns the values itself) */
	memcpy(r->url, url, n);
	memset(&s, 0, offsetof(struct rd_state, tok));
	s.tgt = T_PATH;
	r->log_n = 0;
	for (size_t i = 0; i < n; i++)
		rd_target(r, &s, r->url + i, url[i]);
	for (size_t i = 0; i < n; i++)
		if (r->url[i] != url[i]) {
			which[i] = 1;
			any = 1;
		}
	r->cur = cur;
	r->log_base = log_base;
	r->log_n = log_n;
	return any;
}

void bz_redact_forget(struct bz_redact *r, uint64_t conn_id)
{
	if (!r)
		return;
	rd_echo_forget(r->echo, conn_id);
	rd_h2_forget(r->h2, conn_id);
	rd_wire_forget(r->wire, conn_id);
	for (unsigned dir = 0; dir < 4; dir++) {
		uint32_t i = rd_find(r, conn_id, dir);
		if (r->slots[i].st)
			rd_remove_at(r, i);
	}
}

/* An EXEC or ADOPT record's text fields past their lengths: zeroed (the
 * kernel's scratch buffer held other records there). */
static void rd_zero_tails(struct bz_ev_proc_exec *e, size_t size)
{
#define RD_ZERO_TAIL(field, len)                                                          \
	do {                                                                               \
		size_t o_ = offsetof(struct bz_ev_proc_exec, field), l_ = (len);           \
		if (size >= o_ + sizeof(e->field) && l_ < sizeof(e->field))               \
			memset(e->field + l_, 0, sizeof(e->field) - l_);                   \
	} while (0)
	RD_ZERO_TAIL(filename, e->filename_len);
	if (size >= offsetof(struct bz_ev_proc_exec, otel_service)) {
		RD_ZERO_TAIL(otel_service, e->service_len);
		RD_ZERO_TAIL(otel_attrs, e->attrs_len);
		RD_ZERO_TAIL(exe, e->exe_len);
	}
#undef RD_ZERO_TAIL
}

/* A Go handler's START record (format 1.7): the secret parameters of its
 * RequestURI are masked as in a request line (bz_redact_url_secrets), the
 * Host left alone.  Older layouts carry no URI. */
static void rd_go_handler(struct bz_redact *r, uint8_t *ev, size_t size)
{
	struct bz_ev_go_handler g;
	struct bz_go_req_ext x;
	uint8_t which[BZ_GO_STR_MAX];
	size_t pos;

	memcpy(&g, ev, sizeof(g));
	pos = sizeof(g) + (size_t)g.method_len + g.remote_len + g.path_len;
	if (g.phase != BZ_GO_START || size < pos + sizeof(x))
		return;
	memcpy(&x, ev + pos, sizeof(x));
	pos += sizeof(x) + x.host_len;
	if (x.uri_len > BZ_GO_STR_MAX || size < pos + x.uri_len)
		return;
	memset(which, 0, sizeof(which));
	if (!bz_redact_url_secrets(r, ev + pos, x.uri_len, which))
		return;
	for (size_t i = 0; i < x.uri_len; i++)
		if (which[i]) {
			ev[pos + i] = BZ_REDACT_FILL;
			r->st.bytes++;
		}
}

void bz_redact_event_in_place(struct bz_redact *r, void *ev, size_t size)
{
	struct bz_ev_hdr h;
	struct bz_ev_data d;
	struct bz_ev_conn_close c;
	size_t cap;

	if (!r || !ev || size < sizeof(h))
		return;
	memcpy(&h, ev, sizeof(h));
	if (h.kind == BZ_EV_GO_HANDLER && size >= sizeof(struct bz_ev_go_handler)) {
		rd_go_handler(r, ev, size);
		return;
	}
	if (h.kind == BZ_EV_CONN_OPEN && size >= BZ_CONN_OPEN_INET_SIZE) {
		/* (a TCP record stops before the UNIX fields) */
		struct bz_ev_conn_open o;
		memcpy(&o, ev, BZ_CONN_OPEN_INET_SIZE);
		if (o.role == BZ_ROLE_PREEXISTING) {
			rd_h2_joined(r->h2, o.conn_id);
			rd_wire_joined(r->wire, o.conn_id);
		}
		return;
	}
	if (h.kind == BZ_EV_CONN_CLOSE && size >= sizeof(c)) {
		memcpy(&c, ev, sizeof(c));
		bz_redact_forget(r, c.conn_id);
		return;
	}
	if ((h.kind == BZ_EV_PROC_EXEC || h.kind == BZ_EV_PROC_ADOPT) &&
	    size >= offsetof(struct bz_ev_proc_exec, args)) {
		/* who the process is: its argv may carry credentials */
		struct bz_ev_proc_exec *e = ev;
		size_t n = size - offsetof(struct bz_ev_proc_exec, args);
		if (n > BZ_ARGS_MAX)
			n = BZ_ARGS_MAX;
		/* past args_len the kernel's buffer holds what an earlier record
		 * left there (another process's argv): never stored */
		if (e->args_len < n) {
			memset(e->args + e->args_len, 0, n - e->args_len);
			n = e->args_len;
		}
		r->st.bytes += bz_redact_argv(r, e->args, n);
		rd_zero_tails(e, size);
		return;
	}
	if (h.kind != BZ_EV_DATA || size < sizeof(d))
		return;
	memcpy(&d, ev, sizeof(d));
	cap = size - sizeof(d);
	if (d.caplen < cap)
		cap = d.caplen;
	if (d.syscall & BZ_SYS_F_RANGES) {
		/* HTTP/2 frames, not HTTP/1 text: HPACK's own redaction */
		size_t k = rd_h2_data(r->h2, r, d.conn_id, d.dir ? 1u : 0u, d.ret, d.h.ts_ns,
				      (uint8_t *)ev + sizeof(d), cap);
		r->st.bytes += k;
		if (k)
			r->st.events++;
		return;
	}
	if (d.ret > 0 && d.ret < 24 && !BZ_SYS_IS_PLAINTEXT(d.syscall))
		/* perhaps an HTTP/2 client preface's first piece */
		rd_h2_plain(r->h2, d.conn_id, d.dir ? 1u : 0u, d.ret, (uint8_t *)ev + sizeof(d), cap);
	bz_redact_data(r, d.conn_id, (d.dir ? 1u : 0u) | (BZ_SYS_IS_PLAINTEXT(d.syscall) ? BZ_REDACT_PLAINTEXT : 0u),
		       (uint8_t *)ev + sizeof(d), cap, d.ret);
}

void *bz_redact_event(struct bz_redact *r, void *ev, size_t size)
{
	struct bz_ev_hdr h;

	if (!r || !ev || size < sizeof(h) || size > RD_SCRATCH)
		return ev;
	memcpy(&h, ev, sizeof(h));
	if (h.kind != BZ_EV_DATA && h.kind != BZ_EV_PROC_EXEC && h.kind != BZ_EV_PROC_ADOPT &&
	    h.kind != BZ_EV_GO_HANDLER) {
		bz_redact_event_in_place(r, ev, size); /* writes nothing but the redactor */
		return ev;
	}
	if (h.kind == BZ_EV_DATA && size < sizeof(struct bz_ev_data))
		return ev;
	/* the copy of the last DATA record is overwritten: nothing may stay held in it */
	rd_echo_settle(r->echo);
	rd_h2_settle(r->h2);
	memcpy(r->scratch, ev, size);
	bz_redact_event_in_place(r, r->scratch, size);
	return r->scratch;
}

void bz_redact_get_stats(const struct bz_redact *r, struct bz_redact_stats *out)
{
	struct rd_echo_stats es;
	struct rd_h2_stats hs;
	struct rd_wire_stats ws;

	if (!r) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = r->st;
	rd_echo_get_stats(r->echo, &es);
	out->echo_values = es.values;
	out->echo_unkept = es.unkept;
	out->echo_bytes = es.bytes;
	out->echo_hits = es.hits;
	out->echo_settled = es.settled;
	rd_h2_get_stats(r->h2, &hs);
	rd_wire_get_stats(r->wire, &ws);
	out->db_conns_pgsql = ws.conns[0];
	out->db_conns_mysql = ws.conns[1];
	out->db_conns_redis = ws.conns[2];
	out->db_bytes = ws.bytes;
	out->db_unkept = ws.unkept;
	out->h2_blocks = hs.blocks;
	out->h2_fields = hs.fields_masked;
	out->h2_blocks_whole = hs.blocks_whole;
	out->h2_data_bytes = hs.data_masked;
	out->h2_values_unkept = hs.values_unkept;
}
