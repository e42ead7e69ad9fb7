/* hpack.c - the HPACK decoder (RFC 7541) of hpack.h: representations (6),
 * the static and dynamic tables (2.3, 4), size updates (6.3), string
 * literals (5.2).  Huffman coding and the masking of values in place live
 * in hpack_huffman.c.
 *
 * Memory: the dynamic table's entries are a ring of descriptors over one
 * arena of octets, appended in order and compacted when the end is
 * reached, both grown only as far as the entries need (at most twice the
 * table's maximum size); decoded Huffman strings go to two scratch
 * buffers (a name, a value) kept between blocks.  So a block allocates
 * nothing once the buffers have grown to the connection's needs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hpack.h"
#include "hpack_int.h"

#define ENTRY_OVERHEAD 32u /* 4.1 */
#define STATIC_COUNT 61u

struct sentry {
	const char *name, *value;
};

/* Appendix A. */
static const struct sentry static_table[STATIC_COUNT] = {
	{ ":authority", "" }, { ":method", "GET" }, { ":method", "POST" },
	{ ":path", "/" }, { ":path", "/index.html" }, { ":scheme", "http" },
	{ ":scheme", "https" }, { ":status", "200" }, { ":status", "204" },
	{ ":status", "206" }, { ":status", "304" }, { ":status", "400" },
	{ ":status", "404" }, { ":status", "500" }, { "accept-charset", "" },
	{ "accept-encoding", "gzip, deflate" }, { "accept-language", "" },
	{ "accept-ranges", "" }, { "accept", "" }, { "access-control-allow-origin", "" },
	{ "age", "" }, { "allow", "" }, { "authorization", "" }, { "cache-control", "" },
	{ "content-disposition", "" }, { "content-encoding", "" }, { "content-language", "" },
	{ "content-length", "" }, { "content-location", "" }, { "content-range", "" },
	{ "content-type", "" }, { "cookie", "" }, { "date", "" }, { "etag", "" },
	{ "expect", "" }, { "expires", "" }, { "from", "" }, { "host", "" },
	{ "if-match", "" }, { "if-modified-since", "" }, { "if-none-match", "" },
	{ "if-range", "" }, { "if-unmodified-since", "" }, { "last-modified", "" },
	{ "link", "" }, { "location", "" }, { "max-forwards", "" },
	{ "proxy-authenticate", "" }, { "proxy-authorization", "" }, { "range", "" },
	{ "referer", "" }, { "refresh", "" }, { "retry-after", "" }, { "server", "" },
	{ "set-cookie", "" }, { "strict-transport-security", "" },
	{ "transfer-encoding", "" }, { "user-agent", "" }, { "vary", "" }, { "via", "" },
	{ "www-authenticate", "" },
};

/* One dynamic entry: name then value at arena[off]. */
struct dentry {
	uint32_t off, name_len, value_len;
	uint8_t masked; /* its value was a masked literal: indexed later, still masked */
};

struct bz_hpack {
	uint32_t bound; /* the decoder's SETTINGS_HEADER_TABLE_SIZE */
	uint32_t limit; /* the table's maximum size, from the last size update (4.2) */
	uint32_t size;  /* 4.1 */
	int usable;
	struct dentry *ents; /* ring: ents[first] oldest, count of them */
	uint32_t ecap, first, count;
	uint8_t *arena;      /* entries' octets from ents[first].off to head */
	size_t acap, head;
	uint8_t *scratch[2]; /* decoded Huffman strings: [0] name, [1] value */
	size_t scap[2];
};

/* A string as the block holds it, and what it decodes to. */
struct str {
	const uint8_t *p;
	uint32_t len, off, enc_len;
	uint8_t huffman;
};

int bz_hpack_new(struct bz_hpack **out, uint32_t max)
{
	struct bz_hpack *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->bound = h->limit = max;
	h->usable = 1;
	*out = h;
	return 0;
}

void bz_hpack_free(struct bz_hpack **hp)
{
	struct bz_hpack *h = hp ? *hp : NULL;

	if (!h)
		return;
	free(h->ents);
	free(h->arena);
	free(h->scratch[0]);
	free(h->scratch[1]);
	free(h);
	*hp = NULL;
}

void bz_hpack_lose(struct bz_hpack *h) { h->usable = 0; }
int bz_hpack_usable(const struct bz_hpack *h) { return h->usable; }
uint32_t bz_hpack_table_size(const struct bz_hpack *h) { return h->size; }

static void evict_oldest(struct bz_hpack *h)
{
	const struct dentry *e = &h->ents[h->first];

	h->size -= e->name_len + e->value_len + ENTRY_OVERHEAD;
	h->first = (h->first + 1) % h->ecap;
	h->count--;
}

static void evict_to(struct bz_hpack *h, uint64_t room)
{
	while (h->count && h->size + room > h->limit)
		evict_oldest(h);
}

/* A lowered maximum applies at once, not at the encoder's size update:
 * the encoder must send one at the start of its next block anyway (4.2),
 * evicting at least as much, and a table never larger than the bound is
 * what the recorder's memory budget counts on. */
void bz_hpack_set_max(struct bz_hpack *h, uint32_t max)
{
	h->bound = max;
	if (h->limit > max) {
		h->limit = max;
		evict_to(h, 0);
	}
}

/* Scratch buffer i holds at least n octets.  0 or -ENOMEM. */
static int scratch_reserve(struct bz_hpack *h, int i, size_t n)
{
	size_t cap = h->scap[i] ? h->scap[i] : 64;
	uint8_t *p;

	if (n <= h->scap[i])
		return 0;
	while (cap < n)
		cap *= 2;
	p = realloc(h->scratch[i], cap);
	if (!p)
		return -ENOMEM;
	h->scratch[i] = p;
	h->scap[i] = cap;
	return 0;
}

/* Dynamic index k (1: the newest). */
static const struct dentry *dyn_get(const struct bz_hpack *h, uint32_t k)
{
	return &h->ents[(h->first + h->count - k) % h->ecap];
}

/* Index idx of either table (2.3.3) into f's name (and value).  0 or
 * -EINVAL for 0 or an index beyond both tables. */
static int lookup(const struct bz_hpack *h, uint32_t idx, struct bz_hpack_field *f, int with_value)
{
	if (idx == 0 || idx - 1 >= STATIC_COUNT + h->count)
		return -EINVAL;
	if (idx <= STATIC_COUNT) {
		const struct sentry *s = &static_table[idx - 1];
		f->name = (const uint8_t *)s->name;
		f->name_len = (uint32_t)strlen(s->name);
		if (with_value) {
			f->value = (const uint8_t *)s->value;
			f->value_len = (uint32_t)strlen(s->value);
		}
		return 0;
	}
	const struct dentry *e = dyn_get(h, idx - STATIC_COUNT);
	f->name = h->arena + e->off;
	f->name_len = e->name_len;
	if (with_value) {
		f->value = h->arena + e->off + e->name_len;
		f->value_len = e->value_len;
		f->masked = e->masked;
	}
	return 0;
}

/* The ring holds one more descriptor.  0 or -ENOMEM. */
static int ring_reserve(struct bz_hpack *h)
{
	uint32_t cap = h->ecap ? 2 * h->ecap : 16;
	struct dentry *n;

	if (h->count < h->ecap)
		return 0;
	n = malloc((size_t)cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (uint32_t k = 0; k < h->count; k++)
		n[k] = h->ents[(h->first + k) % h->ecap];
	free(h->ents);
	h->ents = n;
	h->ecap = cap;
	h->first = 0;
	return 0;
}

/* The arena has d free octets at head.  The live octets (from the oldest
 * entry on) move to its start; it grows to twice what the live octets and
 * d need when that would leave it more than half full, so a compaction,
 * which moves at most half the arena, comes only after at least as many
 * octets were appended: O(1) per octet.  Live + d never exceeds the limit
 * (evict_to ran first), so the arena stays within twice the limit.
 * 0 or -ENOMEM. */
static int arena_reserve(struct bz_hpack *h, size_t d)
{
	size_t from = h->count ? h->ents[h->first].off : h->head;
	size_t live = h->head - from;
	uint8_t *dst = h->arena;

	if (h->arena && h->head + d <= h->acap)
		return 0;
	if (!h->arena || live + d > h->acap / 2) {
		size_t cap = 2 * (live + d) > 256 ? 2 * (live + d) : 256;
		dst = malloc(cap);
		if (!dst)
			return -ENOMEM;
		if (live)
			memcpy(dst, h->arena + from, live);
		free(h->arena);
		h->arena = dst;
		h->acap = cap;
	} else if (live) {
		memmove(dst, h->arena + from, live);
	}
	for (uint32_t k = 0; k < h->count; k++)
		h->ents[(h->first + k) % h->ecap].off -= (uint32_t)from;
	h->head = live;
	return 0;
}

/* 6.2.1: the field becomes the newest entry, evicting the oldest first
 * (4.4); an entry larger than the maximum empties the table and is not
 * added.  f's name may be in the arena (an indexed name, maybe of an entry
 * this very eviction removes): it is copied out before the arena moves.
 * On return f points at the new entry's octets.  0 or -ENOMEM. */
static int insert(struct bz_hpack *h, struct bz_hpack_field *f, int name_in_arena)
{
	uint64_t s = (uint64_t)f->name_len + f->value_len + ENTRY_OVERHEAD;
	size_t d = (size_t)f->name_len + f->value_len;
	struct dentry *e;
	int rc;

	if (s > h->limit) {
		evict_to(h, UINT32_MAX + 1ull);
		return 0;
	}
	evict_to(h, s);
	if ((rc = ring_reserve(h)))
		return rc;
	if (h->head + d > h->acap && name_in_arena) {
		if ((rc = scratch_reserve(h, 0, f->name_len)))
			return rc;
		memcpy(h->scratch[0], f->name, f->name_len);
		f->name = h->scratch[0];
	}
	if ((rc = arena_reserve(h, d)))
		return rc;
	e = &h->ents[(h->first + h->count) % h->ecap];
	e->off = (uint32_t)h->head;
	e->name_len = f->name_len;
	e->value_len = f->value_len;
	e->masked = f->masked;
	if (f->name_len)
		memcpy(h->arena + h->head, f->name, f->name_len);
	if (f->value_len)
		memcpy(h->arena + h->head + f->name_len, f->value, f->value_len);
	f->name = h->arena + e->off;
	f->value = h->arena + e->off + e->name_len;
	h->head += d;
	h->count++;
	h->size += (uint32_t)s;
	return 0;
}

/* 5.2: a string literal at b[*pos], decoded (if Huffman) into scratch i. */
static int get_string(struct bz_hpack *h, const uint8_t *b, size_t n, size_t *pos, int i, struct str *s)
{
	uint32_t len;
	int rc;

	if (*pos >= n)
		return -EINVAL;
	s->huffman = (b[*pos] & 0x80) != 0;
	if ((rc = bz_hpack_int_get(b, n, pos, 7, &len)))
		return rc;
	if (len > BZ_HPACK_STRING_MAX || len > n - *pos)
		return -EINVAL;
	s->off = (uint32_t)*pos;
	s->enc_len = len;
	s->p = b + *pos;
	s->len = len;
	*pos += len;
	if (!s->huffman)
		return 0;
	/* at most 8/5 octets per octet (the shortest code has 5 bits) */
	size_t cap = (size_t)len * 8 / 5;
	if (cap > BZ_HPACK_STRING_MAX)
		cap = BZ_HPACK_STRING_MAX;
	if ((rc = scratch_reserve(h, i, cap)))
		return rc;
	long got = bz_hpack_huffman_decode(b + s->off, len, h->scratch[i], cap);
	if (got < 0)
		return (int)got;
	s->p = got ? h->scratch[i] : (const uint8_t *)""; /* never NULL, even when empty */
	s->len = (uint32_t)got;
	return 0;
}

/* One representation at block[*pos] that is not a size update. */
static int field(struct bz_hpack *h, const uint8_t *block, size_t n, size_t *pos,
		 struct bz_hpack_field *f)
{
	uint8_t b = block[*pos];
	uint32_t idx;
	struct str v;
	int rc, name_in_arena = 0;

	memset(f, 0, sizeof(*f));
	if (b & 0x80) { /* 6.1 */
		f->repr = BZ_HPACK_INDEXED;
		if ((rc = bz_hpack_int_get(block, n, pos, 7, &idx)))
			return rc;
		return lookup(h, idx, f, 1);
	}
	f->repr = (b & 0x40) ? BZ_HPACK_INCREMENTAL : (b & 0x10) ? BZ_HPACK_NEVER : BZ_HPACK_WITHOUT;
	if ((rc = bz_hpack_int_get(block, n, pos, (b & 0x40) ? 6 : 4, &idx)))
		return rc;
	if (idx) {
		if ((rc = lookup(h, idx, f, 0)))
			return rc;
		name_in_arena = idx > STATIC_COUNT;
	} else {
		struct str nm;
		if ((rc = get_string(h, block, n, pos, 0, &nm)))
			return rc;
		f->name = nm.p;
		f->name_len = nm.len;
		f->name_off = nm.off;
		f->name_enc_len = nm.enc_len;
		f->name_huffman = nm.huffman;
	}
	if ((rc = get_string(h, block, n, pos, 1, &v)))
		return rc;
	f->value = v.p;
	f->value_len = v.len;
	f->value_off = v.off;
	f->value_enc_len = v.enc_len;
	f->value_huffman = v.huffman;
	f->masked = (uint8_t)bz_hpack_is_masked(v.p, v.len, v.enc_len, v.huffman);
	if (f->repr == BZ_HPACK_INCREMENTAL)
		return insert(h, f, name_in_arena);
	return 0;
}

static int decode(struct bz_hpack *h, const uint8_t *block, size_t n, bz_hpack_field_cb cb, void *user)
{
	size_t pos = 0;
	int fields = 0, rc;

	if (n > UINT32_MAX) /* the fields' offsets are 32-bit */
		return -EINVAL;
	while (pos < n) {
		struct bz_hpack_field f;
		if ((block[pos] & 0xe0) == 0x20) { /* 6.3, only before the first field (4.2) */
			uint32_t max;
			if (fields)
				return -EINVAL;
			if ((rc = bz_hpack_int_get(block, n, &pos, 5, &max)))
				return rc;
			if (max > h->bound)
				return -EINVAL;
			h->limit = max;
			evict_to(h, 0);
			continue;
		}
		if ((rc = field(h, block, n, &pos, &f)))
			return rc;
		fields++;
		if (cb && cb(user, &f))
			return -ECANCELED;
	}
	return 0;
}

int bz_hpack_decode(struct bz_hpack *h, const uint8_t *block, size_t n, bz_hpack_field_cb cb, void *user)
{
	int rc;

	if (!h->usable)
		return -EPIPE;
	rc = decode(h, block, n, cb, user);
	if (rc)
		h->usable = 0;
	return rc;
}
