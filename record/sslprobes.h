/* sslprobes.h - OpenSSL uprobes, per TLS library file among the targets.
 *
 * Each new target process is shown to ssl_probes_consider(), and again
 * whenever it maps a file executable (a dlopen: Python maps libssl at its
 * first `import ssl`; the kernel notes it in the maps_changed map, which
 * ssl_probes_poll() reads).  Every OpenSSL-API library it uses (libssl.so.*
 * mapped, or an executable that exports SSL_read: Node links OpenSSL in)
 * that was not seen before, by device and inode, gets the probes of a
 * table (bpf/ssl.bpf.h), each optional: a function the file does not have
 * is skipped by name.  The probes are placed on the file for every process
 * (pid -1), so a second process using the same library needs nothing more.
 * The result is a TLS_LIBRARY block for the capture. */
#ifndef BEYLA_RECORD_SSLPROBES_H
#define BEYLA_RECORD_SSLPROBES_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include "record/capture_writer.h"

struct beyla_bpf;
struct ssl_probes;

/* Receives each TLS_LIBRARY body (the recorder writes it as a block). */
typedef void (*ssl_block_fn)(void *user, struct bz_buf *body);

/* enabled=false (--no-openssl): nothing is ever attached. */
int ssl_probes_new(struct ssl_probes **out, struct beyla_bpf *skel, bool enabled);
/* Before load: the OpenSSL programs are not loaded. */
void ssl_probes_leave_out(struct beyla_bpf *skel);
/* Looks at pid's executable and maps.  Each library file seen for the
 * first time is probed and described to out; returns how many, <0 on an
 * internal error.  warn: where to say what was probed and what was
 * refused (NULL: quiet). */
int ssl_probes_consider(struct ssl_probes *sp, pid_t pid, ssl_block_fn out, void *user, FILE *warn);
/* The same, from a scan of pid made already (tlslibs_scan). */
struct tlslibs;
int ssl_probes_take(struct ssl_probes *sp, pid_t pid, const struct tlslibs *t, ssl_block_fn out, void *user,
		    FILE *warn);
/* At start: the system's own libssl (libssl.so.3 / .so.1.1 in the dynamic
 * linker's usual directories) is probed before any target runs, so a
 * process that starts later (`-- CMD`, --exe, a child) is recorded from
 * its first call: its libraries are mapped, and its first HTTPS request
 * made, before the recorder could look at its maps (a curl lives 2 ms).
 * Returns the files probed (their PID option is 0). */
int ssl_probes_system(struct ssl_probes *sp, ssl_block_fn out, void *user, FILE *warn);
/* The targets that mapped a file executable since the last call are
 * considered again.  Returns the libraries newly probed. */
int ssl_probes_poll(struct ssl_probes *sp, ssl_block_fn out, void *user, FILE *warn);
bool ssl_probes_enabled(const struct ssl_probes *sp);
/* Library files probed so far, and uprobe links attached. */
int ssl_probes_libraries(const struct ssl_probes *sp);
int ssl_probes_links(const struct ssl_probes *sp);
/* Detaches everything and frees; accepts NULL. */
void ssl_probes_free(struct ssl_probes *sp);

#endif
