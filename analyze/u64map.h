/* u64map.h - open-addressing hash map from a 64-bit key to a non-NULL
 * pointer, used for the analyzer's per-connection, per-process and
 * per-thread state.  Memory grows with the live entries only: deletions
 * shift entries back (no tombstones). */
#ifndef BEYLA_U64MAP_H
#define BEYLA_U64MAP_H

#include <stddef.h>
#include <stdint.h>

struct bz_u64map {
	uint64_t *keys;
	void **vals; /* NULL = empty slot */
	size_t cap;  /* power of two, or 0 */
	size_t len;
};

/* A zeroed struct is an empty map. */
void *bz_u64map_get(const struct bz_u64map *m, uint64_t key);
/* Inserts or replaces; val must not be NULL. 0 or -ENOMEM. */
int bz_u64map_put(struct bz_u64map *m, uint64_t key, void *val);
/* Removes key; returns its value or NULL. */
void *bz_u64map_del(struct bz_u64map *m, uint64_t key);
/* Iteration: start with *pos = 0; returns 1 with *key and *val set, 0 at the end.
 * The map must not change while iterating (collect first, then delete). */
int bz_u64map_next(const struct bz_u64map *m, size_t *pos, uint64_t *key, void **val);
/* Frees the table (not the values). */
void bz_u64map_free(struct bz_u64map *m);

#endif
