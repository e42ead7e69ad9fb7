/* grpc_walk.h - gRPC's length-prefixed messages followed through the DATA
 * bytes of one direction of a stream.
 *
 * Every gRPC message on HTTP/2 is a 5-byte prefix (a compressed flag and a
 * 4-byte big-endian length) and that many bytes of message.  Two users
 * walk it the same way: the analyzer (http2.c) counts messages and their
 * sizes; the recorder (record/redact_h2.c) keeps the prefixes and masks
 * the messages' bytes, so the analyzer finds the prefixes where the walk
 * says they are.  A prefix byte not captured loses the walk for good (the
 * next prefix could be anywhere): from then on nothing is counted and
 * every byte is message. */
#ifndef BEYLA_GRPC_WALK_H
#define BEYLA_GRPC_WALK_H

#include <stdint.h>

#define BZ_GRPC_PREFIX 5

struct bz_grpc_walk {
	uint64_t bytes;       /* message lengths, summed from the prefixes */
	uint32_t messages;    /* prefixes read whole */
	uint32_t left;        /* bytes of the current message still to come */
	uint8_t pre[BZ_GRPC_PREFIX], pre_len;
	uint8_t lost;
};

/* n bytes of DATA content (b NULL: moved but not captured).  With mask
 * (the same bytes, writable) every byte that is not a prefix's is set to
 * fill there; returns how many bytes that changed. */
static inline uint32_t bz_grpc_walk_feed(struct bz_grpc_walk *w, const uint8_t *b, uint32_t n, uint8_t *mask,
					 uint8_t fill)
{
	uint32_t changed = 0;

	if (w->lost || !b) {
		if (!w->lost && w->left >= n) {
			w->left -= n;
			return 0;
		}
		w->lost = 1;
		for (uint32_t i = 0; mask && i < n; i++)
			if (mask[i] != fill) {
				mask[i] = fill;
				changed++;
			}
		return changed;
	}
	for (uint32_t i = 0; i < n;) {
		if (w->left) {
			uint32_t k = n - i < w->left ? n - i : w->left;
			for (uint32_t j = i; mask && j < i + k; j++)
				if (mask[j] != fill) {
					mask[j] = fill;
					changed++;
				}
			w->left -= k;
			i += k;
			continue;
		}
		w->pre[w->pre_len++] = b[i++];
		if (w->pre_len == BZ_GRPC_PREFIX) {
			w->left = (uint32_t)w->pre[1] << 24 | (uint32_t)w->pre[2] << 16 | (uint32_t)w->pre[3] << 8 |
				  w->pre[4];
			w->pre_len = 0;
			w->messages++;
			w->bytes += w->left;
		}
	}
	return changed;
}

#endif
