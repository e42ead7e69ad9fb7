/* go_request.h - a Go server's request rebuilt from the handler's struct
 * reads, for a connection whose request plaintext was not recorded.
 *
 * `beyla record --go=fast` does not probe crypto/tls reads (their return
 * would be single-stepped, docs/go.md), so an HTTPS request's bytes are
 * never seen; the handler's start reads what net/http parsed of it
 * (method, RequestURI, Host, ContentLength, ProtoMajor, the HTTP/2
 * stream).  The request is written back as the bytes its protocol carries
 * -- an HTTP/1.1 head, or an HTTP/2 HEADERS frame whose fields are HPACK
 * literals that leave the decoder's table alone -- and handed to the
 * connection's parser as if read, so the span is built by the same rules
 * as from plaintext, its response parsed from the crypto/tls writes.
 * What the structs do not hold is not invented: no other header (no
 * user agent, no content type), an HTTP/2 request's body size unknown. */
#ifndef BEYLA_GO_REQUEST_H
#define BEYLA_GO_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"

/* Writes e's request into out[0..cap): *head_len bytes known, *moved the
 * bytes the request took on the wire as far as known (an HTTP/1 body's
 * ContentLength past the head, its bytes not captured).  Returns 1 for
 * HTTP/1, 2 for an HTTP/2 HEADERS frame, -1 when e cannot make one (no
 * request extension, no method, HTTP/2 without a stream id, too long). */
int bz_go_request_bytes(const struct bz_go_event *e, uint8_t *out, size_t cap, size_t *head_len,
			uint64_t *moved);

#endif
