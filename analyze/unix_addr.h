/* unix_addr.h - the text of a UNIX socket's address as a capture stores it
 * (bz_ev_conn_open.path), for `beyla info`, the database and spans. */
#ifndef BEYLA_UNIX_ADDR_H
#define BEYLA_UNIX_ADDR_H

#include <stddef.h>
#include <stdint.h>

/* Writes path (len bytes of sun_path, from a capture: any bytes) as text:
 * a pathname up to its first NUL; an abstract name (first byte 0) as "@"
 * and its bytes; a byte that is not printable ASCII as \xHH.  Always
 * NUL-terminates out (cap >= 1); "" for len 0.  Returns strlen(out). */
size_t bz_unix_path_text(const char *path, size_t len, char *out, size_t cap);

#endif
