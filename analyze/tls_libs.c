/* tls_libs.c - a PROC block's TLS libraries, and what they mean (tls_libs.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tls_libs.h"
#include "../record/capture_format.h"

void bz_tls_libs_add(struct bz_tls_libs *t, const uint8_t *v, uint32_t n)
{
	struct bz_tls_lib *l;
	size_t plen;

	if (n < 4)
		return;
	t->scanned = 1;
	/* BZ_TLS_NONE says "looked, found none"; ids this reader does not know
	 * are kept (named "unknown") so the process is not called library-less */
	if (v[0] == BZ_TLS_NONE || t->n >= BZ_TLS_LIBS_MAX)
		return;
	l = &t->l[t->n++];
	l->lib = v[0];
	l->source = v[1];
	l->flags = v[2];
	plen = n - 4 < sizeof(l->path) - 1 ? n - 4 : sizeof(l->path) - 1;
	for (size_t i = 0; i < plen; i++)
		l->path[i] = v[4 + i] >= 0x20 && v[4 + i] != 0x7f ? (char)v[4 + i] : '?';
	l->path[plen] = 0;
}

const char *bz_tls_lib_name(unsigned lib)
{
	static const char *const names[BZ_TLS_LIB_MAX] = {
		[BZ_TLS_NONE] = "none", [BZ_TLS_OPENSSL] = "OpenSSL", [BZ_TLS_BORINGSSL] = "BoringSSL",
		[BZ_TLS_GNUTLS] = "GnuTLS", [BZ_TLS_NSS] = "NSS", [BZ_TLS_WOLFSSL] = "wolfSSL",
		[BZ_TLS_MBEDTLS] = "mbedTLS", [BZ_TLS_GO] = "Go crypto/tls",
	};
	return lib < BZ_TLS_LIB_MAX ? names[lib] : "unknown";
}

int bz_tls_lib_probeable(unsigned lib)
{
	return lib == BZ_TLS_GO || lib == BZ_TLS_OPENSSL || lib == BZ_TLS_BORINGSSL;
}

const char *bz_tls_lib_key(unsigned lib)
{
	static const char *const keys[BZ_TLS_LIB_MAX] = {
		[BZ_TLS_NONE] = "none", [BZ_TLS_OPENSSL] = "openssl", [BZ_TLS_BORINGSSL] = "boringssl",
		[BZ_TLS_GNUTLS] = "gnutls", [BZ_TLS_NSS] = "nss", [BZ_TLS_WOLFSSL] = "wolfssl",
		[BZ_TLS_MBEDTLS] = "mbedtls", [BZ_TLS_GO] = "go",
	};
	return lib < BZ_TLS_LIB_MAX ? keys[lib] : "unknown";
}

enum bz_tls_verdict bz_tls_verdict(const struct bz_tls_libs *t)
{
	static const enum bz_tls_verdict of_lib[BZ_TLS_LIB_MAX] = {
		[BZ_TLS_OPENSSL] = BZ_TV_OPENSSL, [BZ_TLS_BORINGSSL] = BZ_TV_BORINGSSL,
		[BZ_TLS_GNUTLS] = BZ_TV_GNUTLS, [BZ_TLS_NSS] = BZ_TV_NSS, [BZ_TLS_WOLFSSL] = BZ_TV_WOLFSSL,
		[BZ_TLS_MBEDTLS] = BZ_TV_MBEDTLS,
	};

	if (!t || !t->scanned)
		return BZ_TV_NOT_SCANNED;
	for (unsigned i = 0; i < t->n; i++) {
		unsigned lib = t->l[i].lib;
		if (lib == BZ_TLS_GO)
			return t->l[i].flags & BZ_TLS_F_PROBED ? BZ_TV_GO_PROBES_ON : BZ_TV_GO_PROBES_OFF;
		if (lib > BZ_TLS_NONE && lib < BZ_TLS_GO)
			return of_lib[lib];
		if (lib >= BZ_TLS_LIB_MAX)
			return BZ_TV_OTHER_LIB;
	}
	return BZ_TV_NOT_FOUND;
}

const char *bz_tls_verdict_key(enum bz_tls_verdict v)
{
	static const char *const keys[BZ_TV_MAX] = {
		[BZ_TV_OPENSSL] = "openssl", [BZ_TV_BORINGSSL] = "boringssl", [BZ_TV_GNUTLS] = "gnutls",
		[BZ_TV_NSS] = "nss", [BZ_TV_WOLFSSL] = "wolfssl", [BZ_TV_MBEDTLS] = "mbedtls",
		[BZ_TV_GO_PROBES_OFF] = "go_probes_off", [BZ_TV_GO_PROBES_ON] = "go_probes_on",
		[BZ_TV_OTHER_LIB] = "other_lib",
		[BZ_TV_NOT_FOUND] = "lib_not_found", [BZ_TV_NOT_SCANNED] = "lib_not_scanned",
	};
	return (unsigned)v < BZ_TV_MAX ? keys[v] : "lib_not_scanned";
}

/* Appends to out[0..cap) at *len; the text stays NUL-terminated and is cut
 * when full. */
static void put(char *out, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len + 1 >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(out + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

void bz_tls_libs_text(const struct bz_tls_libs *t, char *out, size_t cap)
{
	size_t len = 0;

	if (!cap)
		return;
	out[0] = 0;
	if (!t->scanned)
		return;
	if (!t->n)
		put(out, cap, &len, "none found");
	for (unsigned i = 0; i < t->n; i++)
		put(out, cap, &len, "%s%s %s%s%s", i ? "; " : "", bz_tls_lib_name(t->l[i].lib), t->l[i].path,
		    t->l[i].source == BZ_TLS_SRC_EXE ? " (linked in)" : "",
		    !bz_tls_lib_probeable(t->l[i].lib) ? ""
		    : t->l[i].flags & BZ_TLS_F_PROBED ? " (probed)"
		    : t->l[i].lib == BZ_TLS_GO || (t->l[i].flags & BZ_TLS_F_PROBEABLE) ? " (probes off)" : "");
}

void bz_tls_advice(const struct bz_tls_libs *t, int plural, char *out, size_t cap)
{
	enum bz_tls_verdict v = bz_tls_verdict(t);
	const char *s = plural ? "" : "s", *its = plural ? "their" : "its";
	size_t len = 0;
	int k = 0;

	if (!cap)
		return;
	out[0] = 0;
	switch (v) {
	case BZ_TV_GO_PROBES_OFF:
		put(out, cap, &len, "use%s Go crypto/tls, but the Go probes were off in this recording "
			"(--no-go, or the kernel refused them): record again with them on", s);
		return;
	case BZ_TV_GO_PROBES_ON:
		put(out, cap, &len, "use%s Go crypto/tls and the Go probes were on, yet they recorded no "
			"plaintext on these connections (`beyla info` says which Go probes were placed)", s);
		return;
	case BZ_TV_NOT_FOUND:
		put(out, cap, &len, "had no TLS library mapped when %s became a target, so the library is "
			"unknown: it may have loaded one later (Python maps libssl when it first imports ssl; "
			"any dlopen), which only the OpenSSL probes follow", plural ? "they" : "it");
		return;
	case BZ_TV_NOT_SCANNED:
		put(out, cap, &len, "%s no TLS library in the capture (recorded by an older beyla, or gone "
			"before /proc could be read), so the library is unknown", plural ? "have" : "has");
		return;
	default:
		break;
	}
	/* the OpenSSL-API libraries among them decide the advice: those are
	 * what the probes read (curl maps GnuTLS too, and uses OpenSSL) */
	int openssl_api = 0, probed = 1, probeable = 1;
	put(out, cap, &len, "use%s ", s);
	for (unsigned i = 0; i < t->n; i++) {
		const struct bz_tls_lib *l = &t->l[i];
		if (l->lib == BZ_TLS_NONE || l->lib == BZ_TLS_GO)
			continue;
		if (l->lib == BZ_TLS_OPENSSL || l->lib == BZ_TLS_BORINGSSL) {
			openssl_api = 1;
			probed &= (l->flags & BZ_TLS_F_PROBED) != 0;
			probeable &= (l->flags & (BZ_TLS_F_PROBED | BZ_TLS_F_PROBEABLE)) != 0;
		}
		put(out, cap, &len, "%s%s", k++ ? " and " : "",
		    l->lib < BZ_TLS_LIB_MAX ? bz_tls_lib_name(l->lib) : "a TLS library this beyla does not know");
		if (l->source == BZ_TLS_SRC_EXE)
			put(out, cap, &len, " linked into %s executable (%s)", its, l->path);
		else
			put(out, cap, &len, " (%s)", l->path);
	}
	if (openssl_api && probed)
		put(out, cap, &len, ", and the OpenSSL probes were on, yet recorded no plaintext on these "
			"connections (open before recording began, or SSL calls not tied to a socket: `beyla "
			"info` counts them as missed on the ssl probe)");
	else if (openssl_api && probeable)
		put(out, cap, &len, ", but the OpenSSL probes were off in this recording (--no-openssl, or "
			"the kernel refused them): record again with them on");
	else if (openssl_api)
		/* a capture of a beyla before the OpenSSL probes */
		put(out, cap, &len, ", which the beyla that recorded this did not probe yet: record again with "
			"this version");
	else
		put(out, cap, &len, ", which this version of beyla does not probe yet");
}
