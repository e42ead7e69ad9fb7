/* span_ids.c - see span_ids.h. */
#include "span_ids.h"

uint64_t bz_id_hash(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* splitmix64 finaliser */
static uint64_t fmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

uint64_t bz_id_mix(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t x = fmix(seed ^ fmix(a ^ fmix(b ^ fmix(c))));
	return x ? x : 1;
}

void bz_id_hex16(uint64_t v, char out[17])
{
	static const char hx[] = "0123456789abcdef";
	for (int i = 15; i >= 0; i--) {
		out[i] = hx[v & 15];
		v >>= 4;
	}
	out[16] = 0;
}

void bz_id_hex32(struct bz_trace_id t, char out[33])
{
	bz_id_hex16(t.hi, out);
	bz_id_hex16(t.lo, out + 16);
}
