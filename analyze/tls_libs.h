/* tls_libs.h - the TLS libraries a PROC block names (option TLS_LIB,
 * docs/capture-format.md), as the analyzer and `beyla info` read them, and
 * what each means for recording plaintext: which library a process uses
 * and whether this version of beyla can read what goes through it. */
#ifndef BEYLA_TLS_LIBS_H
#define BEYLA_TLS_LIBS_H

#include <stddef.h>
#include <stdint.h>

#define BZ_TLS_LIBS_MAX 4
#define BZ_TLS_PATH_MAX 160

struct bz_tls_lib {
	uint8_t lib;    /* enum bz_tls_lib_id (record/capture_format.h) */
	uint8_t source; /* enum bz_tls_source */
	uint8_t flags;  /* BZ_TLS_F_* */
	char path[BZ_TLS_PATH_MAX];
};

struct bz_tls_libs {
	uint8_t scanned; /* the block had TLS_LIB options: the recorder looked */
	uint8_t n;       /* libraries found (0 with scanned: none) */
	struct bz_tls_lib l[BZ_TLS_LIBS_MAX];
};

/* What explains a process's encrypted connections without plaintext; the
 * first library found decides (the recorder lists them in id order). */
enum bz_tls_verdict {
	BZ_TV_OPENSSL = 0,   /* OpenSSL (probes off, or no plaintext); the others: */
	                     /* libraries beyla does not probe yet: ... */
	BZ_TV_BORINGSSL,
	BZ_TV_GNUTLS,
	BZ_TV_NSS,
	BZ_TV_WOLFSSL,
	BZ_TV_MBEDTLS,
	BZ_TV_GO_PROBES_OFF, /* Go crypto/tls, recorded without the Go probes */
	BZ_TV_GO_PROBES_ON,  /* Go crypto/tls with the probes on, yet no plaintext */
	BZ_TV_OTHER_LIB,     /* a library id newer than this reader */
	BZ_TV_NOT_FOUND,     /* the recorder looked and found no TLS library */
	BZ_TV_NOT_SCANNED,   /* the capture does not say (no TLS_LIB option) */
	BZ_TV_MAX
};

/* Adds one TLS_LIB value (untrusted: checked, the path cut to fit). */
void bz_tls_libs_add(struct bz_tls_libs *t, const uint8_t *v, uint32_t n);
enum bz_tls_verdict bz_tls_verdict(const struct bz_tls_libs *t);
/* "openssl", "go_probes_off", ...: the parse_stats counter suffix. */
const char *bz_tls_verdict_key(enum bz_tls_verdict v);
/* "OpenSSL", "Go crypto/tls", ...; "unknown" for an unknown id. */
const char *bz_tls_lib_name(unsigned lib);
/* Whether this beyla has probes for the library's plaintext (Go crypto/tls,
 * OpenSSL, BoringSSL). */
int bz_tls_lib_probeable(unsigned lib);
/* The same as one lowercase word: "openssl", "go", ..., "unknown". */
const char *bz_tls_lib_key(unsigned lib);
/* One line for the database and `beyla info`: "OpenSSL
 * /usr/lib/x86_64-linux-gnu/libssl.so.3; GnuTLS /usr/...", "none found"
 * (looked, found none), "" when not scanned.  Always NUL-terminated; cut
 * to fit. */
void bz_tls_libs_text(const struct bz_tls_libs *t, char *out, size_t cap);
/* What would record the plaintext, as the end of a sentence whose subject
 * is the process: "uses OpenSSL (/usr/lib/.../libssl.so.3), which this
 * version of beyla does not probe yet".  plural: the subject is several
 * processes ("use ...").  Cut to fit. */
void bz_tls_advice(const struct bz_tls_libs *t, int plural, char *out, size_t cap);

#endif
