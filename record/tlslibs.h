/* tlslibs.h - which TLS library a target process uses, found when it
 * becomes a target and stored in its PROC block (option TLS_LIB,
 * docs/capture-format.md), so that an analysis of encrypted connections
 * can say what would record their plaintext.
 *
 * Looked for, cheapest first:
 *  - the executable (opened once per file: a small cache by device and
 *    inode): a Go executable (crypto/tls), or one that exports a TLS
 *    library's API in its dynamic symbol table because it links it in
 *    statically (Node exports OpenSSL's SSL_read / SSL_write);
 *  - the shared libraries in /proc/PID/maps whose file name says OpenSSL
 *    (libssl.so.*), BoringSSL (libboringssl*), GnuTLS (libgnutls.so*), NSS
 *    (libnss3, libssl3), wolfSSL (libwolfssl*) or mbedTLS (libmbedtls*).
 *
 * A library the process loads after this scan (Python maps libssl when it
 * first imports ssl, any dlopen) is not in its PROC block; the OpenSSL
 * probes follow such mappings (sslprobes.h).  A TLS library renamed, or
 * linked in statically without exporting its API, is not recognised.
 */
#ifndef BEYLA_RECORD_TLSLIBS_H
#define BEYLA_RECORD_TLSLIBS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <gelf.h>
#include "record/capture_writer.h"

#define TLSLIBS_MAX 4           /* libraries kept per process */
#define TLSLIBS_PATH_MAX 256

struct tlslib {
	unsigned lib;           /* enum bz_tls_lib_id */
	unsigned source;        /* enum bz_tls_source */
	unsigned flags;         /* BZ_TLS_F_* */
	char path[TLSLIBS_PATH_MAX];
};

struct tlslibs {
	int n;
	struct tlslib l[TLSLIBS_MAX]; /* in enum bz_tls_lib_id order */
};

/* Scans pid (executable and maps) into t.  probed: a bit (1 << id) for
 * each enum bz_tls_lib_id whose plaintext this recording's probes read
 * (Go with the Go probes on, OpenSSL and BoringSSL with the OpenSSL
 * probes): their entries are flagged BZ_TLS_F_PROBED.  0, or a negative
 * errno when /proc/PID/maps cannot be read. */
int tlslibs_scan(pid_t pid, unsigned probed, struct tlslibs *t);
/* The same, appended as TLS_LIB options to a PROC body in b: one per
 * library, or one saying none was found.  Returns 0, or a negative errno
 * when /proc/PID/maps cannot be read (nothing is appended: the capture then
 * says nothing rather than "none"). */
int tlslibs_write(pid_t pid, unsigned probed, struct bz_buf *b);
/* What a scan found, appended the same way. */
int tlslibs_put(const struct tlslibs *t, struct bz_buf *b);

/* The parts, for tests and fuzzing.  Each returns what it found. */
/* The library a file name (a path's last component) says, or BZ_TLS_NONE. */
unsigned tlslibs_lib_of_name(const char *name, size_t len);
/* Adds the libraries named in /proc/PID/maps text (whole lines; a last
 * line without its newline counts too). */
void tlslibs_from_maps(const char *text, size_t len, struct tlslibs *out);
/* The same, read from fd in chunks of whole lines (a line longer than a
 * chunk, which no maps line is, is skipped).  0 or -errno. */
int tlslibs_from_maps_fd(int fd, struct tlslibs *out);
/* What an executable's ELF says: BZ_TLS_GO for a Go executable, else the
 * library whose API its .dynsym defines, else BZ_TLS_NONE. */
unsigned tlslibs_from_elf(Elf *e);
/* Adds one library (ignored when already there or when full). */
void tlslibs_add(struct tlslibs *t, unsigned lib, unsigned source, unsigned flags, const char *path,
		 size_t len);

#endif
