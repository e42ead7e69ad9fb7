/* explain.h - why connections gave no spans, in words a user can act on:
 * what the connections no parser recognised carried (detect.h), and for
 * the encrypted ones without plaintext, which process had them, which TLS
 * library it uses (tls_libs.h) and what would record the plaintext.
 *
 * `beyla analyze` fills one while it replays a capture and prints it after
 * the summary; `beyla info` fills one from the first bytes of each
 * connection.  Memory is fixed: BZ_EXPLAIN_PROCS processes are named, the
 * connections of any more are counted as "other processes".
 */
#ifndef BEYLA_EXPLAIN_H
#define BEYLA_EXPLAIN_H

#include <stdint.h>
#include <stdio.h>

#include "proto/detect.h"
#include "tls_libs.h"

#define BZ_EXPLAIN_PROCS 32
#define BZ_EXPLAIN_NAME 64

struct bz_explain_proc {
	uint32_t pid;
	uint64_t conns;            /* encrypted connections without plaintext */
	char name[BZ_EXPLAIN_NAME];
	struct bz_tls_libs tls;    /* as its PROC block said */
};

struct bz_explain {
	uint64_t detected[BZ_DETECT_MAX]; /* connections no parser recognised, by class */
	uint64_t tls_opaque;              /* encrypted, no plaintext recorded */
	uint64_t by_verdict[BZ_TV_MAX];   /* ... by what explains it */
	struct bz_explain_proc procs[BZ_EXPLAIN_PROCS];
	unsigned nprocs;
	uint64_t other_conns;             /* of processes past the table */
};

/* The slot of process pid as it is now (name, TLS libraries; tls NULL: no
 * PROC block said), made if needed: a process that exec'd is a new slot.
 * -1 when the table is full. */
int bz_explain_slot(struct bz_explain *x, uint32_t pid, const char *name, const struct bz_tls_libs *tls);
/* Counts an encrypted connection with no plaintext, of the process in slot
 * (-1: past the table), explained by verdict. */
void bz_explain_tls(struct bz_explain *x, int slot, enum bz_tls_verdict verdict);

/* Prints what explains the encrypted connections (nothing when there are
 * none), e.g.
 *   5 connections encrypted (TLS) with no plaintext recorded: nginx (pid 4321) uses
 *   OpenSSL (/usr/lib/x86_64-linux-gnu/libssl.so.3), which this version of beyla does
 *   not probe yet
 * (one line; with several processes, one indented line each).  With
 * no_requests, first a "why:" line: what the conns connections carried
 * instead of HTTP/1.x, or that there were none. */
void bz_explain_print(const struct bz_explain *x, uint64_t conns, int no_requests, FILE *out);

#endif
