/* conn.h - per-connection state of the analyzer, shared by the event
 * handlers (analysis.c) and the span builder (spans.c).  A connection lives
 * from its CONN_OPEN (or first DATA) to its CONN_CLOSE (or the end of the
 * capture); its requests awaiting responses live on it, so memory follows
 * the open connections and their in-flight requests. */
#ifndef BEYLA_CONN_H
#define BEYLA_CONN_H

#include <stdint.h>

#include "conn_hold.h"
#include "proto/detect.h"
#include "proto/proto.h"
#include "span_ids.h"

#define BZ_SERVICE_MAX 128

/* The kernel's waits (BZ_EV_RX_ARRIVAL, BZ_EV_PEER_RX): the latest few of
 * each kind per connection, enough for the requests in flight on it. */
#define BZ_KW_RING 8
struct bz_kw_rx {
	uint64_t ready_ns, host_ns; /* data_ready (a read's arrival_ns) -> entered the host */
};
struct bz_kw_tx {
	uint64_t bytes, ts_ns;      /* the peer had the first `bytes` written, at ts_ns */
};

/* One request on a connection, from its head to its span. */
struct bz_pending {
	struct bz_pending *next;
	uint64_t index;            /* request number on the connection */
	struct bz_http_msg req;    /* head, then updated at its end */
	struct bz_http_msg resp;   /* the final response, valid if has_resp */
	uint8_t req_done, has_resp, server, registered;
	uint8_t go_handled;        /* a Go handler was matched to it */
	uint8_t peer_linked;       /* linked to its other end: the server span is the client span's child */
	uint64_t go_start, go_end; /* monotonic: the Go handler's run, 0 unknown */
	uint32_t interim;          /* 1xx responses seen */
	uint64_t prev_resp_end;    /* end of the previous response on the conn at emit time */
	/* The response's last byte is the tx_bytes-th the socket wrote (its
	 * data_out then); a server span waits (held, off its thread) until a
	 * PEER_RX says the peer's socket had it, at tx_done_ns (kwait). */
	uint64_t tx_bytes, tx_done_ns;
	uint8_t held;
	uint8_t tx_inline;         /* no PEER_RX: delivered by the end of its write */
	uint64_t span_id, parent_id;
	struct bz_trace_id trace;
	char service[BZ_SERVICE_MAX];
};

/* A server span written unlinked on the other end of a connection: its
 * request, from this end, may reach the capture only now (spans.c: late
 * links). */
#define BZ_UNLINKED_MAX 4
struct bz_unlinked {
	uint64_t span_id;
	struct bz_trace_id trace;
	uint64_t start_ns, end_ns; /* monotonic */
	uint32_t stream;
};

struct bz_analysis;

struct bz_conn {
	struct bz_analysis *a;
	uint64_t id;
	uint32_t pid;
	uint8_t role;              /* enum bz_conn_role */
	uint8_t opened;            /* CONN_OPEN seen */
	uint8_t closed;
	uint8_t tls;               /* TLS: parsed from Go crypto/tls plaintext only */
	uint8_t tls_plain;         /* plaintext records seen */
	uint8_t plain_restart;     /* the parser began again at the first plaintext */
	uint16_t family, local_port, remote_port;
	int32_t fd;
	uint8_t local_addr[16], remote_addr[16];
	/* UNIX stream connections (family BZ_AF_UNIX): both ends' socket
	 * inodes (0 unknown), the peer's pid (SO_PEERCRED, 0 unknown) and the
	 * path as text (unix_addr.h) */
	uint64_t local_ino, peer_ino;
	uint32_t peer_pid;
	char *unix_path;
	uint64_t open_ts, established_ns, syscall_start_ns, close_ts;  /* monotonic, 0 unknown */
	uint64_t bytes_in, bytes_out;
	uint64_t data_in, data_out;  /* bytes in the DATA records seen (socket, not plaintext) */
	uint64_t close_in, close_out;/* the kernel's totals from CONN_CLOSE */
	uint64_t last_resp_end;    /* monotonic end of the last response emitted */
	uint64_t tls_arrival;      /* TLS: when the ciphertext not yet read as plaintext arrived */
	uint64_t tls_arrival_last; /* ... what the last plaintext read got (for its CONT records) */
	uint64_t tls_delivered;    /* TLS: when the peer had the last ciphertext write (its
	                            * delivery inside it), for the plaintext write that made it */
	uint64_t tls_arrival_newest; /* TLS: the latest ciphertext read's arrival (an HTTP/2
	                              * request built from struct reads: go_request.h) */
	uint64_t requests, responses;
	/* the latest server spans of its other end written with no parent,
	 * oldest first */
	struct bz_unlinked unlinked[BZ_UNLINKED_MAX];
	uint8_t n_unlinked;
	/* what the parser reads (the plaintext, once a Go TLS record came), or
	 * the ciphertext: what detect.c judges a connection no parser knew by */
	struct bz_detect_head first_bytes;
	/* TLS: who had it, noted when the ciphertext was first seen (the
	 * process may be gone by the close): explain.h's slot and verdict */
	int16_t tls_slot;
	uint8_t tls_verdict;       /* enum bz_tls_verdict */
	uint8_t tls_noted;
	/* its protocol's parser, picked at its first captured bytes (proto.h);
	 * NULL until then, and while its first reads are held because a
	 * detector wants more bytes to decide (conn_hold.h) */
	const struct bz_proto_ops *proto;
	void *parser;
	struct bz_conn_hold *hold;
	/* HTTP/1.1 upgraded to h2c: the 101 just ended (switch to HTTP/2 after
	 * this read or write), the request it answers, and what the HTTP/1
	 * parser counted before it went */
	uint8_t h2c_switch, h2c_done;
	uint64_t h2c_index;
	struct bz_proto_stats h1_stats;
	struct bz_pending *head, *tail; /* in request order */
	/* the kernel's waits: kw_peer says the peer is a socket of this host
	 * and the recorder reported its deliveries (PEER_RX); the rings hold
	 * the latest records, kw_*_n how many were ever added */
	uint8_t kw_peer;
	struct bz_kw_rx kw_rx[BZ_KW_RING];
	struct bz_kw_tx kw_tx[BZ_KW_RING];
	uint32_t kw_rx_n, kw_tx_n;
	/* a client connection its thread connected right after reading a
	 * server request of another connection: that request's span id (0:
	 * none), spans.c's proxy parent rule */
	uint64_t opened_for;
};

/* Formats an address of the connection ("10.0.0.1", "::1"); "" if unknown. */
void bz_conn_addr(const struct bz_conn *c, int remote, char *out, size_t cap);

#endif
