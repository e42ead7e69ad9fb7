/* goelf.h - what the recorder needs to know about a Go executable, read
 * from its ELF file before any uprobe is placed in it.
 *
 * For each Go binary among the targets: the Go version and main module (from
 * the build-info blob), the functions the Go probes hook (entry and every
 * return instruction, as file offsets, which is what a uprobe takes), and
 * the struct field offsets the probes read (from DWARF when the binary has
 * it, else from a per-Go-version table).
 *
 * Go functions are never probed with uretprobes: a return probe rewrites the
 * return address on a goroutine stack that the runtime may move, which
 * crashes the program.  A "return" probe is a plain uprobe on each RET
 * instruction, found by disassembling the function (Capstone).
 *
 * Nothing here runs on a capture being analysed: the analyzer never opens a
 * binary.  The facts the analyzer needs (version, module, which probes were
 * placed) travel in the capture. */
#ifndef BEYLA_RECORD_GOELF_H
#define BEYLA_RECORD_GOELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A function with more RET instructions than this gets none (n_rets 0, why
 * says so): some returns left unprobed would leave calls open forever.  So
 * does one whose code does not fully disassemble (goelf_rets.c). */
#define BZ_GO_MAX_RETS 64

/* The functions the Go probes hook. */
enum bz_go_func_id {
	BZ_GOF_NEWPROC1 = 0,  /* runtime.newproc1: goroutine creation (Go < 1.21) */
	BZ_GOF_SERVE_HTTP,    /* net/http.serverHandler.ServeHTTP: handler run */
	BZ_GOF_TLS_READ,      /* crypto/tls.(*Conn).Read: plaintext in */
	BZ_GOF_TLS_WRITE,     /* crypto/tls.(*Conn).Write: plaintext out */
	BZ_GOF_ROUND_TRIP,    /* net/http.(*Transport).roundTrip: client call */
	BZ_GOF_FINISH_REQUEST,/* net/http.(*response).finishRequest: handler done */
	BZ_GOF_H2_HANDLER_DONE,/* net/http.(*http2responseWriter).handlerDone: HTTP/2 handler done */
	BZ_GOF_MEMMOVE,       /* runtime.memmove: never probed; where TLS_READ's copy calls */
	BZ_GOF_MAX
};

/* The struct fields the probes read; offsets in bytes from the start of the
 * struct, -1 when unknown. */
enum bz_go_field_id {
	BZ_GOO_G_GOID = 0,          /* runtime.g.goid */
	BZ_GOO_G_PARENT_GOID,       /* runtime.g.parentGoid (Go >= 1.21) */
	BZ_GOO_REQ_METHOD,          /* net/http.Request.Method (string) */
	BZ_GOO_REQ_URL,             /* net/http.Request.URL (*url.URL) */
	BZ_GOO_REQ_HOST,            /* net/http.Request.Host (string) */
	BZ_GOO_REQ_REMOTE_ADDR,     /* net/http.Request.RemoteAddr (string) */
	BZ_GOO_REQ_REQUEST_URI,     /* net/http.Request.RequestURI (string) */
	BZ_GOO_URL_SCHEME,          /* net/url.URL.Scheme (string) */
	BZ_GOO_URL_HOST,            /* net/url.URL.Host (string) */
	BZ_GOO_URL_PATH,            /* net/url.URL.Path (string) */
	BZ_GOO_URL_RAW_QUERY,       /* net/url.URL.RawQuery (string) */
	BZ_GOO_RESPONSE_STATUS,     /* net/http.response.status (int): server side */
	BZ_GOO_HTTP_RESPONSE_STATUS_CODE, /* net/http.Response.StatusCode (int): client side */
	BZ_GOO_TLS_CONN_CONN,       /* crypto/tls.Conn.conn (net.Conn interface) */
	BZ_GOO_NET_CONN_FD,         /* net.conn.fd (*netFD); net.TCPConn embeds net.conn */
	BZ_GOO_NETFD_PFD,           /* net.netFD.pfd (internal/poll.FD, inline) */
	BZ_GOO_POLL_FD_SYSFD,       /* internal/poll.FD.Sysfd (int) */
	BZ_GOO_REQ_PROTO_MAJOR,     /* net/http.Request.ProtoMajor (int): 2 for HTTP/2 */
	BZ_GOO_H2RW_RWS,            /* net/http.http2responseWriter.rws (*http2responseWriterState) */
	BZ_GOO_H2RWS_STREAM,        /* net/http.http2responseWriterState.stream (*http2stream) */
	BZ_GOO_H2RWS_STATUS,        /* net/http.http2responseWriterState.status (int) */
	BZ_GOO_H2STREAM_ID,         /* net/http.http2stream.id (uint32) */
	BZ_GOO_REQ_CONTENT_LENGTH,  /* net/http.Request.ContentLength (int64) */
	BZ_GOO_REQ_TLS,             /* net/http.Request.TLS (*tls.ConnectionState): non-nil for HTTPS */
	BZ_GOO_H2RWS_WROTE_BYTES,   /* net/http.http2responseWriterState.wroteBytes (int64) */
	BZ_GOO_RESPONSE_WRITTEN,    /* net/http.response.written (int64): server side */
	BZ_GOO_MAX
};

enum bz_go_offsets_source {
	BZ_GO_OFFS_NONE = 0,  /* no offsets: Go probes that need them are skipped */
	BZ_GO_OFFS_DWARF = 1, /* read from the binary's DWARF */
	BZ_GO_OFFS_TABLE = 2, /* stripped: from the table for this Go version */
};

struct bz_go_func {
	bool found;
	const char *name;     /* when found: the name it has in this binary (static) */
	uint64_t vaddr;       /* virtual address of the entry */
	uint64_t entry;       /* file offset of the entry (for a uprobe) */
	uint64_t probe_entry; /* where an entry uprobe goes: the PUSH RBP after the
	                       * stack check, else the stack check's JBE (both
	                       * emulated, not single-stepped), else entry */
	bool probe_entry_jbe; /* probe_entry is the JBE: a call that is about to grow
	                       * its stack passes it twice (skip when CF|ZF is set) */
	uint64_t size;        /* bytes of code */
	uint32_t n_rets;
	uint64_t rets[BZ_GO_MAX_RETS]; /* file offsets of every RET instruction */
	char why[96];         /* when !found or n_rets == 0: why, for the probe report */
	/* TLS_READ only: file offset of its one CALL runtime.memmove (the
	 * inlined bytes.Reader.Read copying the plaintext out), where the
	 * receiver is in its spill slot at RBP+16; 0 when not found (copy_why) */
	uint64_t copy_call;
	char copy_why[96];
};

struct bz_go_binary {
	char go_version[32];   /* "go1.26.8", "" if the build info could not be read */
	int go_major, go_minor;/* 1, 26; 0, 0 when unknown */
	char module_path[128]; /* main module path, "" if none */
	bool stripped;         /* no .symtab: functions came from .gopclntab */
	bool has_dwarf;
	int offsets_from;      /* enum bz_go_offsets_source */
	int64_t offsets[BZ_GOO_MAX]; /* -1 unknown */
	struct bz_go_func funcs[BZ_GOF_MAX];
};

/* True when path is an ELF file built by the Go toolchain (cheap: looks for
 * the .go.buildinfo section).  False on any error. */
bool bz_goelf_is_go(const char *path);

/* Fills *out.  Returns 0 on success (even if some functions or offsets are
 * missing: each missing one says why in funcs[i].why / offsets[i] = -1),
 * -errno or -EINVAL with a one-line reason in err when the file cannot be read
 * or is not a Go ELF executable for x86-64. */
int bz_goelf_inspect(const char *path, struct bz_go_binary *out, char *err, size_t errlen);

/* Names for reports: "net/http.serverHandler.ServeHTTP", "runtime.g.goid"... */
const char *bz_go_func_name(int id);
const char *bz_go_field_name(int id);

#endif
