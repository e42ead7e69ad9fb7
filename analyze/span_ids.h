/* span_ids.h - deterministic trace and span ids.  Ids are hashes of the
 * capture's identity (a seed made from its boot id, clock pair and start)
 * and of what the span is (connection id, request number, role), so
 * analysing the same capture twice gives the same ids, and different
 * captures give different ones. */
#ifndef BEYLA_SPAN_IDS_H
#define BEYLA_SPAN_IDS_H

#include <stddef.h>
#include <stdint.h>

struct bz_trace_id { uint64_t hi, lo; };

/* FNV-1a over bytes, continuing from h (start with BZ_ID_SEED0). */
#define BZ_ID_SEED0 0xcbf29ce484222325ull
uint64_t bz_id_hash(uint64_t h, const void *p, size_t n);
/* Mixes words into a never-zero 64-bit id. */
uint64_t bz_id_mix(uint64_t seed, uint64_t a, uint64_t b, uint64_t c);
/* 16 lowercase hex digits + NUL. */
void bz_id_hex16(uint64_t v, char out[17]);
/* 32 lowercase hex digits + NUL. */
void bz_id_hex32(struct bz_trace_id t, char out[33]);

#endif
