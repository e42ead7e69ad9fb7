/* pgwire.c - PostgreSQL message framing facts (pgwire.h). */
#include "pgwire.h"

/* Smallest (and, when fixed, only) length field of each message type, per
 * side; 0: the side never sends it. */
struct pg_type_len {
	uint8_t front_min, front_fixed, back_min, back_fixed;
};

static struct pg_type_len type_len(uint8_t t)
{
	switch (t) {
	case 'B': return (struct pg_type_len){ 12, 0, 0, 0 };   /* Bind */
	case 'C': return (struct pg_type_len){ 6, 0, 5, 0 };    /* Close / CommandComplete */
	case 'd': return (struct pg_type_len){ 4, 0, 4, 0 };    /* CopyData */
	case 'c': return (struct pg_type_len){ 4, 1, 4, 1 };    /* CopyDone */
	case 'f': return (struct pg_type_len){ 5, 0, 0, 0 };    /* CopyFail */
	case 'D': return (struct pg_type_len){ 6, 0, 6, 0 };    /* Describe / DataRow */
	case 'E': return (struct pg_type_len){ 9, 0, 5, 0 };    /* Execute / ErrorResponse */
	case 'H': return (struct pg_type_len){ 4, 1, 7, 0 };    /* Flush / CopyOutResponse */
	case 'F': return (struct pg_type_len){ 14, 0, 0, 0 };   /* FunctionCall */
	case 'P': return (struct pg_type_len){ 8, 0, 0, 0 };    /* Parse */
	case 'p': return (struct pg_type_len){ 4, 0, 0, 0 };    /* password / SASL messages */
	case 'Q': return (struct pg_type_len){ 5, 0, 0, 0 };    /* Query */
	case 'S': return (struct pg_type_len){ 4, 1, 6, 0 };    /* Sync / ParameterStatus */
	case 'X': return (struct pg_type_len){ 4, 1, 0, 0 };    /* Terminate */
	case 'R': return (struct pg_type_len){ 0, 0, 8, 0 };    /* Authentication* */
	case 'K': return (struct pg_type_len){ 0, 0, 12, 0 };   /* BackendKeyData */
	case '1': case '2': case '3': case 'n': case 'I': case 's':
		return (struct pg_type_len){ 0, 0, 4, 1 };      /* ...Complete, NoData, EmptyQuery, PortalSuspended */
	case 'G': case 'W': return (struct pg_type_len){ 0, 0, 7, 0 }; /* CopyIn/CopyBothResponse */
	case 'N': return (struct pg_type_len){ 0, 0, 5, 0 };    /* NoticeResponse */
	case 'V': return (struct pg_type_len){ 0, 0, 8, 0 };    /* FunctionCallResponse */
	case 'v': return (struct pg_type_len){ 0, 0, 12, 0 };   /* NegotiateProtocolVersion */
	case 'A': return (struct pg_type_len){ 0, 0, 10, 0 };   /* NotificationResponse */
	case 't': return (struct pg_type_len){ 0, 0, 6, 0 };    /* ParameterDescription */
	case 'T': return (struct pg_type_len){ 0, 0, 6, 0 };    /* RowDescription */
	case 'Z': return (struct pg_type_len){ 0, 0, 5, 1 };    /* ReadyForQuery */
	default: return (struct pg_type_len){ 0, 0, 0, 0 };
	}
}

unsigned bz_pg_type_ok(uint8_t t, uint32_t len, unsigned sides)
{
	struct pg_type_len l = type_len(t);
	unsigned ok = 0;

	if (len > BZ_PG_LEN_MAX)
		return 0;
	if ((sides & BZ_PG_FRONT) && l.front_min && len >= l.front_min && (!l.front_fixed || len == l.front_min))
		ok |= BZ_PG_FRONT;
	if ((sides & BZ_PG_BACK) && l.back_min && len >= l.back_min && (!l.back_fixed || len == l.back_min))
		ok |= BZ_PG_BACK;
	if (t == 'K' && len > 12 + 256)
		ok &= ~(unsigned)BZ_PG_BACK; /* (protocol 3.2 keys are up to 256 bytes) */
	return ok;
}

int bz_pg_startup(const uint8_t *p, size_t n, uint32_t *code)
{
	uint32_t len, c;

	for (size_t i = 0; i < n && i < 2; i++)
		if (p[i])
			return 0; /* a length of at most 10000 */
	if (n < 8)
		return 1;
	len = bz_pg_be32(p);
	c = bz_pg_be32(p + 4);
	if (c == BZ_PG_SSL || c == BZ_PG_GSSENC) {
		if (len != 8)
			return 0;
	} else if (c == BZ_PG_CANCEL) {
		if (len < 16 || len > 16 + 256)
			return 0;
	} else if ((c >> 16) == 3) {
		/* 3.x with at least "user\0x\0\0" */
		if (len < 8 + 8 || len > BZ_PG_STARTUP_MAX || (c & 0xffff) > 2)
			return 0;
		if (n >= 9 && (p[8] < 'a' || p[8] > 'z') && p[8] != '_')
			return 0; /* parameter names are lowercase words */
	} else {
		return 0;
	}
	*code = c;
	return 2;
}

/* What the captured content of a whole message shows is consistent with
 * its type for side s: b[0..blen) is the content (length field excluded). */
static int content_ok(uint8_t t, unsigned s, const uint8_t *b, uint32_t blen)
{
	int ends_nul = blen && b[blen - 1] == 0;

	if (s == BZ_PG_BACK) {
		switch (t) {
		case 'Z': return b[0] == 'I' || b[0] == 'T' || b[0] == 'E';
		case 'C': case 'S': return ends_nul;
		case 'E': case 'N': return ends_nul && b[0] >= 'A' && b[0] <= 'z';
		case 'R': {
			uint32_t c = bz_pg_be32(b);
			return c <= 12 && c != 1 && c != 4;
		}
		default: return 1;
		}
	}
	switch (t) {
	case 'D': case 'C': return (b[0] == 'S' || b[0] == 'P') && ends_nul;
	case 'Q': case 'f': return ends_nul;
	default: return 1;
	}
}

/* The walk both checks share: each side of `sides` on its own. */
static unsigned walk(const uint8_t *p, size_t n, uint64_t len, unsigned sides, uint32_t len_max, int complete)
{
	unsigned out = 0;

	for (unsigned s = BZ_PG_FRONT; s <= BZ_PG_BACK; s <<= 1) {
		size_t off = 0;
		unsigned whole = 0;
		uint8_t last = 0;
		int ok = 1;

		if (!(sides & s))
			continue;
		while (ok && off < n) {
			uint32_t ml;
			uint64_t end;

			if (n - off < 5) {
				/* a header cut by the capture: fine if it was cut */
				struct pg_type_len tl = type_len(p[off]);
				ok = !complete && n < len && (s == BZ_PG_FRONT ? tl.front_min : tl.back_min) != 0;
				break;
			}
			ml = bz_pg_be32(p + off + 1);
			if (ml > len_max || !bz_pg_type_ok(p[off], ml, s)) {
				ok = 0;
				break;
			}
			end = off + 1 + (uint64_t)ml;
			if (end > len) {
				ok = 0; /* runs past the read: not a start of messages */
				break;
			}
			if (end > n) {
				ok = !complete;
				break;
			}
			if (!content_ok(p[off], s, p + off + 5, ml - 4)) {
				ok = 0;
				break;
			}
			whole++;
			last = p[off];
			off = (size_t)end;
		}
		if (!ok || !whole)
			continue;
		if (complete) {
			if (off != n || n != len)
				continue;
			if (s == BZ_PG_BACK ? last != 'Z'
					    : !(last == 'S' || last == 'Q' || last == 'H' || last == 'X' || last == 'c' ||
						last == 'f' || last == 'F'))
				continue;
		}
		out |= s;
	}
	return out;
}

unsigned bz_pg_plausible(const uint8_t *p, size_t n, uint64_t len, unsigned sides, uint32_t len_max)
{
	if (!p || !n || n > len)
		return 0;
	return walk(p, n, len, sides, len_max, 0);
}

unsigned bz_pg_complete(const uint8_t *p, size_t n, unsigned sides)
{
	if (!p || !n)
		return 0;
	return walk(p, n, n, sides, BZ_PG_LEN_MAX, 1);
}
