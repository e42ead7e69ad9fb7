/* hpack_int.h - HPACK's integer representation (RFC 7541 5.1), alone so
 * that its unit test can reach the prefixes no header block representation
 * uses (the 8-bit prefix of C.1.3).  Used by hpack.c.
 */
#ifndef BEYLA_HPACK_INT_H
#define BEYLA_HPACK_INT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

/* Five continuation octets carry 35 bits: more than any 32-bit value needs.
 * The RFC lets an encoder pad an integer with 0x80 octets without end;
 * "implementation limits" (5.1) let a decoder refuse that, and refusing it
 * bounds the loop. */
#define BZ_HPACK_INT_OCTETS_MAX 5

/* Reads the integer whose first octet is p[*pos], an N-bit prefix (1 <= N
 * <= 8, the octet's other bits belonging to the representation).  Returns
 * 0 and advances *pos past it, or -EINVAL when it is cut short by n, takes
 * more continuation octets than BZ_HPACK_INT_OCTETS_MAX or exceeds
 * UINT32_MAX (*pos is then unspecified). */
static inline int bz_hpack_int_get(const uint8_t *p, size_t n, size_t *pos, unsigned prefix,
				   uint32_t *out)
{
	uint32_t mask = (1u << prefix) - 1;
	uint64_t v;

	if (*pos >= n)
		return -EINVAL;
	v = p[(*pos)++] & mask;
	if (v < mask) {
		*out = (uint32_t)v;
		return 0;
	}
	for (unsigned k = 0; k < BZ_HPACK_INT_OCTETS_MAX; k++) {
		uint8_t b;
		if (*pos >= n)
			return -EINVAL;
		b = p[(*pos)++];
		v += (uint64_t)(b & 0x7f) << (7 * k);
		if (v > UINT32_MAX)
			return -EINVAL;
		if (!(b & 0x80)) {
			*out = (uint32_t)v;
			return 0;
		}
	}
	return -EINVAL;
}

#endif
