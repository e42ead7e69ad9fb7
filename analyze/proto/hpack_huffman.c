/* hpack_huffman.c - HPACK's Huffman code (RFC 7541 5.2, Appendix B):
 * decoding a whole octet per step, and the masks that
 * bz_hpack_mask_string writes in place of a Huffman-coded value.
 *
 * The decoder is a state machine over the code tree's 256 inner nodes
 * (state 0 is the root: no bit of the current code read yet).  fsm[s][o]
 * says where octet o leads from state s and which symbols it completes on
 * the way: at most two, because a code has at least 5 bits (one code may
 * end after 1 bit of the octet, a second after 5 more, and a third would
 * need 11).  Decoding is then one table load per input octet and no
 * branch per bit.  The table (256 x 256 x 4 octets) is built once, at the
 * first use, from the code lengths: a table of 257 facts is easier to
 * check against the RFC than 257 codes, and the build checks that they
 * make a complete prefix code.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include "hpack.h"

#define NSYM 257
#define EOS 256
#define MAXLEN 30

/* Appendix B's code lengths, by symbol.  The code is canonical: the codes
 * of one length are consecutive in symbol order, the first one following
 * the last code of the next shorter length (shifted), so the lengths
 * determine the codes. */
static const uint8_t code_len[NSYM] = {
	/*   0 */ 13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
	/*  16 */ 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
	/*  32 */ 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
	/*  48 */ 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
	/*  64 */ 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
	/*  80 */ 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
	/*  96 */ 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
	/* 112 */ 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
	/* 128 */ 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
	/* 144 */ 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
	/* 160 */ 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
	/* 176 */ 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
	/* 192 */ 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
	/* 208 */ 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
	/* 224 */ 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
	/* 240 */ 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
	/* EOS */ 30,
};

/* fsm entry: next state in bits 0-7, the completed symbols in bits 8-15
 * and 16-23, their count in bits 24-25; F_EOS: the octet reaches EOS. */
#define F_EOS (1u << 26)
#define NEXT(e) ((e) & 0xffu)
#define NSYMS(e) (((e) >> 24) & 3u)

static uint32_t code[NSYM];
static uint32_t fsm[256][256];
static uint8_t accepting[256]; /* the bits read since the last symbol are valid padding */
static int huff_ok;            /* the table above was built */
static pthread_once_t huff_once = PTHREAD_ONCE_INIT;

/* The symbols masks are made of, by code length (see mask_plan): '*' for
 * the bulk, '0' to shorten, a 30-bit symbol (22: not CR or LF, the other two
 * of that length) to lengthen, and one of the others for the remainder. */
#define SYM_BULK '*'  /* 8 bits */
#define SYM_SHORT '0' /* 5 bits */
#define SYM_LONG 22   /* 30 bits */
static const uint8_t sym_of_len[MAXLEN + 1] = {
	[5] = SYM_SHORT, [8] = SYM_BULK, [15] = '<', [19] = '\\', [20] = 0x80,
	[21] = 0x99, [22] = 0x81, [23] = 0x87, [24] = 0x8e, [25] = 0xc7, [26] = 0xc0,
	[27] = 0xcb, [28] = 0xf9, [30] = SYM_LONG,
};

/* Codes from lengths (canonical order), the tree, the state machine.
 * Leaves huff_ok 0 if the lengths do not make a complete prefix code of
 * 256 inner nodes, or the mask symbols do not have their lengths. */
static void huff_init(void)
{
	/* child[node][bit]: > 0 an inner node, < 0 the leaf of symbol -1-v,
	 * 0 not set (the root is nobody's child) */
	static int16_t child[256][2];
	uint32_t c = 0;
	int nodes = 1;

	for (unsigned len = 1; len <= MAXLEN; len++) {
		for (unsigned s = 0; s < NSYM; s++) {
			if (code_len[s] != len)
				continue;
			if (c >= (1u << len))
				return; /* more codes than fit */
			code[s] = c++;
		}
		if (len < MAXLEN)
			c <<= 1;
	}
	if (c != (1u << MAXLEN))
		return; /* incomplete: some bit strings would decode to nothing */
	for (unsigned s = 0; s < NSYM; s++) {
		int node = 0;
		for (unsigned k = code_len[s]; k-- > 1;) {
			int16_t *next = &child[node][(code[s] >> k) & 1];
			if (*next < 0)
				return;
			if (*next == 0) {
				if (nodes == 256)
					return;
				*next = (int16_t)nodes++;
			}
			node = *next;
		}
		if (child[node][code[s] & 1])
			return;
		child[node][code[s] & 1] = (int16_t)(-1 - (int)s);
	}
	if (nodes != 256)
		return;
	for (unsigned st = 0; st < 256; st++) {
		for (unsigned o = 0; o < 256; o++) {
			uint32_t e = 0, n = 0;
			int node = (int)st;
			for (int k = 7; k >= 0; k--) {
				int v = child[node][(o >> k) & 1];
				if (v > 0) {
					node = v;
					continue;
				}
				if (v == 0 || -1 - v == EOS || n == 2) {
					e |= F_EOS;
					break;
				}
				e |= (uint32_t)(-1 - v) << (8 + 8 * n++);
				node = 0;
			}
			fsm[st][o] = e | (uint32_t)node | n << 24;
		}
	}
	/* padding: up to 7 bits, all ones, i.e. a prefix of EOS (5.2) */
	for (int k = 0, node = 0; k < 8; k++, node = child[node][1])
		accepting[node] = 1;
	for (unsigned len = 0; len <= MAXLEN; len++)
		if (sym_of_len[len] && code_len[sym_of_len[len]] != len)
			return;
	huff_ok = 1;
}

static int huff_ready(void)
{
	pthread_once(&huff_once, huff_init);
	return huff_ok;
}

long bz_hpack_huffman_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap)
{
	size_t i = 0, o = 0;
	unsigned st = 0;

	if (!huff_ready())
		return -EINVAL;
	if (cap > LONG_MAX)
		cap = LONG_MAX;
	/* While two octets are free, both symbol slots are stored and the
	 * count says how many were real: no branch on the count. */
	while (i < n && cap - o >= 2) {
		uint32_t e = fsm[st][src[i++]];
		if (e & F_EOS)
			return -EINVAL;
		dst[o] = (uint8_t)(e >> 8);
		dst[o + 1] = (uint8_t)(e >> 16);
		o += NSYMS(e);
		st = NEXT(e);
	}
	while (i < n) {
		uint32_t e = fsm[st][src[i++]];
		if ((e & F_EOS) || NSYMS(e) > cap - o)
			return -EINVAL;
		if (NSYMS(e) > 0)
			dst[o] = (uint8_t)(e >> 8);
		if (NSYMS(e) > 1)
			dst[o + 1] = (uint8_t)(e >> 16);
		o += NSYMS(e);
		st = NEXT(e);
	}
	return accepting[st] ? (long)o : -EINVAL;
}

/* A mask of n symbols in enc_len octets: `bulk` '*', then `extra` (if
 * not 0), then `nadj` times `adj`.
 *
 * Why one always exists when it can: the n symbols must take T bits with
 * B - 7 <= T <= B, B = 8 * enc_len (the 1-bits of padding, at most 7, then
 * fill the last octet).  n '*' take 8n bits.
 *  - 8n = B: done (8n and B are multiples of 8, so 8n in [B-7, B] is 8n = B).
 *  - 8n > B: x = 8n - B bits must go; a '0' (5 bits) for a '*' takes 3,
 *    so k = ceil(x / 3) of them make T = 8n - 3k, in [B - 2, B].  k <= n
 *    iff x <= 3n iff 5n <= B, which any n symbols in enc_len octets meet
 *    (5 bits is the shortest code).
 *  - 8n < B: y = B - 8n bits must come.  q = floor(y / 22) 30-bit symbols
 *    (the longest code, +22 each) leave r = y - 22q in 0..21, which one
 *    more symbol covers to within 7: none for r <= 7; a 15-bit one (+7)
 *    for r in 8..10; an (r + 8)-bit one for r in 11..20 (codes of 19 to 28
 *    bits all exist); a 28-bit one (+20) for r = 21.  That takes q + 1 <= n
 *    symbols when r > 7: any n symbols in enc_len octets take at most 30n
 *    bits, so B - 7 <= 30n, i.e. y <= 22n + 7, so q <= n, and q = n only
 *    if r = y - 22n <= 7.
 * So a mask exists exactly when 5n <= B <= 30n + 7, the bounds of any
 * string of n symbols; it depends on (enc_len, n) alone, so
 * bz_hpack_is_masked can recompute it symbol by symbol. */
struct mask_plan {
	uint32_t bulk, nadj;
	uint8_t extra, adj;
};

/* The plan for n symbols that take between b - 7 and b bits (b = 8 *
 * enc_len for a whole string; less for the masked part of one, what the
 * symbols kept leave). */
static int mask_plan_bits(uint64_t b, uint32_t n, struct mask_plan *p)
{
	uint64_t have = 8ull * n;

	if (5ull * n > b || 30ull * n + 7 < b)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	if (have > b) {
		p->nadj = (uint32_t)((have - b + 2) / 3);
		p->adj = SYM_SHORT;
	} else if (have < b) {
		uint64_t y = b - have, r = y % 22;
		p->nadj = (uint32_t)(y / 22);
		p->adj = SYM_LONG;
		if (r > 7)
			p->extra = sym_of_len[8 + (r <= 10 ? 7 : r > 20 ? 20 : r)];
	}
	p->bulk = n - p->nadj - (p->extra != 0);
	return 0;
}

static int mask_plan(uint32_t enc_len, uint32_t n, struct mask_plan *p)
{
	return mask_plan_bits(8ull * enc_len, n, p);
}

static unsigned mask_sym(const struct mask_plan *p, uint32_t i)
{
	if (i < p->bulk)
		return SYM_BULK;
	if (p->extra && i == p->bulk)
		return p->extra;
	return p->adj;
}

int bz_hpack_mask_string(uint8_t *octets, uint32_t enc_len, uint32_t decoded_len, int huffman)
{
	struct mask_plan p;
	uint64_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	if (!huffman || !huff_ready() || mask_plan(enc_len, decoded_len, &p)) {
		if (enc_len)
			memset(octets, SYM_BULK, enc_len);
		return !huffman && decoded_len == enc_len ? 0 : -EINVAL;
	}
	for (uint32_t i = 0; i < decoded_len; i++) {
		unsigned s = mask_sym(&p, i);
		acc = acc << code_len[s] | code[s];
		bits += code_len[s];
		while (bits >= 8) {
			bits -= 8;
			octets[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits) /* padding: the high bits of EOS, all ones */
		octets[o++] = (uint8_t)(acc << (8 - bits) | 0xffu >> bits);
	return 0;
}

int bz_hpack_is_masked(const uint8_t *value, uint32_t len, uint32_t enc_len, int huffman)
{
	struct mask_plan p;

	/* nothing to hide in an empty value: not "masked" */
	if (!len)
		return 0;
	if (!huffman) {
		if (len != enc_len)
			return 0;
		for (uint32_t i = 0; i < len; i++)
			if (value[i] != SYM_BULK)
				return 0;
		return 1;
	}
	if (mask_plan(enc_len, len, &p))
		return 0;
	for (uint32_t i = 0; i < len; i++)
		if (value[i] != mask_sym(&p, i))
			return 0;
	return 1;
}

int bz_hpack_mask_bytes(uint8_t *octets, uint32_t enc_len, const uint8_t *decoded, uint32_t decoded_len,
			const uint8_t *which, int huffman)
{
	struct mask_plan p;
	uint64_t acc = 0, kept = 0;
	uint32_t m = 0, k = 0;
	unsigned bits = 0;
	size_t o = 0;

	if (!huffman) {
		if (decoded_len != enc_len)
			return -EINVAL;
		for (uint32_t i = 0; i < enc_len; i++)
			if (which[i])
				octets[i] = SYM_BULK;
		return 0;
	}
	if (!huff_ready())
		return -EINVAL;
	/* the symbols kept keep their codes; the masked ones share what is left */
	for (uint32_t i = 0; i < decoded_len; i++) {
		if (which[i])
			m++;
		else
			kept += code_len[decoded[i]];
	}
	if (!m)
		return 0;
	if (kept > 8ull * enc_len || mask_plan_bits(8ull * enc_len - kept, m, &p))
		return -EINVAL;
	for (uint32_t i = 0; i < decoded_len; i++) {
		unsigned s = which[i] ? mask_sym(&p, k++) : decoded[i];
		acc = acc << code_len[s] | code[s];
		bits += code_len[s];
		while (bits >= 8) {
			bits -= 8;
			if (o >= enc_len)
				return -EINVAL;
			octets[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits) {
		if (o >= enc_len)
			return -EINVAL;
		octets[o++] = (uint8_t)(acc << (8 - bits) | 0xffu >> bits);
	}
	return o == enc_len ? 0 : -EINVAL;
}
