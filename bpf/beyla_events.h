/* beyla_events.h - the event records that BPF programs emit and user space
 * stores in capture files.  This one header is included by the BPF programs
 * (after vmlinux.h) and by every user-space reader and writer, so the two
 * sides can never disagree on a layout.
 *
 * Rules, because these bytes end up in files read on other machines:
 *  - fixed-width little-endian fields, explicit padding, no pointers;
 *  - every record starts with struct bz_ev_hdr whose `size` is the whole
 *    record including the variable payload, so a reader can skip records it
 *    does not know;
 *  - fields are only ever appended; a reader uses `size` to tell an old
 *    record from a new one (fields beyond `size` read as zero).
 */
#ifndef BEYLA_EVENTS_H
#define BEYLA_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Upper bound of payload bytes kept per socket read/write. */
#define BZ_SNAPLEN_MAX 1024
#define BZ_SNAPLEN_DEFAULT 512
#define BZ_PATH_MAX 256
#define BZ_ARGS_MAX 256
#define BZ_COMM_LEN 16
/* OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES values read by the kernel
 * from a new target's environment (cut at these lengths). */
#define BZ_OTEL_SERVICE_MAX 128
#define BZ_OTEL_ATTRS_MAX 256
/* Target processes are a bitmap with one bit per tgid (maps.bpf.h): Linux
 * pids are below PID_MAX_LIMIT, 2^22 on 64-bit systems. */
#define BZ_PID_LIMIT (1u << 22)
#define BZ_TARGET_WORDS (BZ_PID_LIMIT / 64)

enum bz_ev_kind {
	BZ_EV_PROC_EXEC = 1, /* a target (or, in --exe mode, any) process exec'd */
	BZ_EV_PROC_FORK = 2, /* a target forked a child process, which is now a target */
	BZ_EV_PROC_EXIT = 3, /* a target process exited */
	BZ_EV_CONN_OPEN = 4, /* a target accepted, connected, or first used a TCP or UNIX stream socket */
	BZ_EV_CONN_EST = 5,  /* an outgoing connection of a target became established */
	BZ_EV_CONN_CLOSE = 6,/* a tracked TCP socket reached TCP_CLOSE; a UNIX one was closed */
	BZ_EV_DATA = 7,      /* a target read from or wrote to a tracked socket */
	BZ_EV_GO_HANDLER = 8,/* Go net/http: a handler started or returned */
	BZ_EV_GO_CLIENT = 9, /* Go net/http: a client round trip started or returned */
	BZ_EV_GO_SPAWN = 10, /* Go: a goroutine was created (runtimes without g.parentGoid) */
	BZ_EV_PROC_ADOPT = 11, /* a process became a target by using a --port port: its
	                        * identity as the kernel saw it (struct bz_ev_proc_exec) */
	/* Format 1.6: the kernel's waits around a socket (docs/accuracy.md) */
	BZ_EV_RX_ARRIVAL = 12, /* a request's bytes reached a tracked socket: when they entered the host */
	BZ_EV_PEER_RX = 13,    /* the other end, on this host, has every byte a tracked socket wrote */
	/* Format 1.6, `beyla record --sched`: target threads on and off CPU */
	BZ_EV_SCHED_SWITCH = 14, /* struct bz_ev_sched_switch */
	BZ_EV_SCHED_WAKEUP = 15, /* struct bz_ev_sched_wakeup */
	BZ_EV_KIND_MAX
};

/* Every record starts with this header. ts_ns is CLOCK_MONOTONIC
 * (bpf_ktime_get_ns); the capture's clock pair turns it into wall time. */
struct bz_ev_hdr {
	__u64 ts_ns;
	__u32 pid;  /* thread-group id (what users call a pid) */
	__u32 tid;  /* thread id */
	__u16 kind; /* enum bz_ev_kind */
	__u16 size; /* whole record, header and payload included */
	__u32 _pad;
};

/* BZ_EV_PROC_EXEC, and BZ_EV_PROC_ADOPT with the same layout: who the
 * process is, read by the kernel when it becomes (or, exec'ing, stays) a
 * target, so that a process that exits a millisecond later still has an
 * identity.  filename: for EXEC the path given to execve; for ADOPT the
 * executable's path built from the kernel's dentries, as in exe.  The
 * fields after args were appended in format 1.2 (older records read them
 * as empty). */
struct bz_ev_proc_exec {
	struct bz_ev_hdr h;
	__u32 ppid;
	__u16 filename_len; /* bytes used in filename, without NUL */
	__u16 args_len;     /* bytes used in args: argv joined by NUL */
	char comm[BZ_COMM_LEN];
	char filename[BZ_PATH_MAX];
	char args[BZ_ARGS_MAX];
	__u16 service_len;  /* bytes used in otel_service (OTEL_SERVICE_NAME) */
	__u16 attrs_len;    /* bytes used in otel_attrs (OTEL_RESOURCE_ATTRIBUTES) */
	__u16 exe_len;      /* bytes used in exe */
	__u16 _pad2;
	char otel_service[BZ_OTEL_SERVICE_MAX];
	char otel_attrs[BZ_OTEL_ATTRS_MAX];
	/* the executable as the kernel resolved it (symlinks followed: what
	 * /proc/PID/exe says), from its dentries; for EXEC only with --exe,
	 * where it is matched without a trip to /proc */
	char exe[BZ_PATH_MAX];
};

struct bz_ev_proc_fork {
	struct bz_ev_hdr h; /* pid = parent */
	__u32 child_pid;
	__u32 _pad;
};

struct bz_ev_proc_exit {
	struct bz_ev_hdr h;
	__s32 exit_code; /* a wait status, task->exit_code: (status << 8) | signal */
	__u32 _pad;
};

enum bz_conn_role {
	BZ_ROLE_UNKNOWN = 0,
	BZ_ROLE_ACCEPTED = 1,    /* the target accepted it: the target is the server */
	BZ_ROLE_CONNECTED = 2,   /* the target connected it: the target is the client */
	BZ_ROLE_PREEXISTING = 3, /* already open when recording began; direction unknown */
};

#define BZ_AF_UNIX 1
#define BZ_AF_INET 2
#define BZ_AF_INET6 10
/* sun_path's size: a UNIX socket's path, or an abstract name (first byte 0) */
#define BZ_UNIX_PATH_MAX 108
#define BZ_SOCK_STREAM 1
#define BZ_SOCK_DGRAM 2
#define BZ_SOCK_SEQPACKET 5
/* bz_ev_conn_open.path_from: whose bound address the path is */
#define BZ_UNIX_PATH_OWN 1  /* the socket's own (an accepted socket inherits the listener's) */
#define BZ_UNIX_PATH_PEER 2 /* its peer's (a client's peer: the listener's path) */

struct bz_ev_conn_open {
	struct bz_ev_hdr h; /* ts_ns: accept/connect returned, or first use */
	__u64 conn_id;      /* capture-unique id, never a kernel address */
	__u64 established_ns; /* handshake completed (0 if unknown); for an accepted
	                       * connection this is when it began waiting in the
	                       * accept queue */
	__u64 syscall_start_ns; /* accept()/connect() entered (0 if unknown) */
	__u16 family;       /* BZ_AF_INET or BZ_AF_INET6 */
	__u16 local_port;   /* host byte order */
	__u16 remote_port;  /* host byte order */
	__u8 role;          /* enum bz_conn_role */
	__u8 flags;         /* BZ_CONN_F_* (format 1.6; 0 before) */
	__s32 fd;           /* -1 if unknown */
	__u32 _pad1;
	__u8 local_addr[16];  /* IPv4 in the first 4 bytes */
	__u8 remote_addr[16];
	/* Appended in format 1.5, written for family BZ_AF_UNIX only (a TCP
	 * record keeps size 96, so these read as zero).  Both ends' identity:
	 * socket inodes (what `ss -x` shows; sockfs numbers, unique among live
	 * sockets) pair the two ends of a connection recorded in two processes
	 * the way the 4-tuple pairs TCP ones. */
	__u64 local_ino;    /* this end's socket inode (0: unknown) */
	__u64 peer_ino;     /* the other end's (0: unknown: a client's peer not
	                     * accepted yet has no inode) */
	__u32 peer_pid;     /* SO_PEERCRED's pid: for an accepted socket the client
	                     * that connected, for a client the process that called
	                     * listen() (0: unknown) */
	__u16 path_len;     /* bytes used in path */
	__u8 sock_type;     /* BZ_SOCK_STREAM / _SEQPACKET (accepted, connected) */
	__u8 path_from;     /* BZ_UNIX_PATH_* (0: neither end bound: socketpair) */
	char path[BZ_UNIX_PATH_MAX]; /* sun_path as bound; abstract: first byte 0 */
	__u32 _pad2;
};
#define BZ_CONN_OPEN_INET_SIZE 96 /* a TCP record: the fields before local_ino */
/* The other end is a socket of this host and its deliveries of this
 * socket's bytes are reported (BZ_EV_PEER_RX), counted from this record
 * on: a server span on it ends at its response's delivery. */
#define BZ_CONN_F_PEER_LOCAL 0x1

/* EST and CLOSE happen in softirq or another task's context: their header
 * pid is the target that owns the connection, and tid is 0. */
struct bz_ev_conn_est {
	struct bz_ev_hdr h;
	__u64 conn_id;
};

struct bz_ev_conn_close {
	struct bz_ev_hdr h;
	__u64 conn_id;
	__u64 bytes_in;  /* totals seen on this socket while tracked */
	__u64 bytes_out;
};

enum bz_data_dir { BZ_DIR_IN = 0, BZ_DIR_OUT = 1 };

enum bz_syscall {
	BZ_SYS_UNKNOWN = 0,
	BZ_SYS_READ, BZ_SYS_READV, BZ_SYS_RECVFROM, BZ_SYS_RECVMSG,
	BZ_SYS_WRITE, BZ_SYS_WRITEV, BZ_SYS_SENDTO, BZ_SYS_SENDMSG, BZ_SYS_SENDFILE,
	/* Not a syscall: plaintext of a Go crypto/tls.Conn Read (ts = its return)
	 * or Write (ts = its entry), on the TCP connection under it.  The socket
	 * reads and writes of that connection carry the ciphertext. */
	BZ_SYS_GO_TLS,
	/* Not a syscall either: plaintext of an OpenSSL SSL_read / SSL_read_ex
	 * (ts = its return) or SSL_write / SSL_write_ex (ts = its return), on
	 * the TCP connection the call read or wrote (bpf/ssl.bpf.h).  Like
	 * BZ_SYS_GO_TLS, the socket's own records carry the ciphertext. */
	BZ_SYS_SSL,
	BZ_SYS_MAX
};

/* Or'ed into bz_ev_data.syscall: the payload is not the first caplen bytes
 * of the read or write but pieces of it (struct bz_ev_ranges, then the
 * pieces' bytes back to back).  For HTTP/2 sockets the recorder walks the
 * frames and keeps every frame header and every frame but DATA whole (the
 * header blocks HPACK needs), and the first BZ_H2_DATA_KEEP bytes of each
 * DATA payload; the bytes between pieces moved but were not captured. */
#define BZ_SYS_F_RANGES 0x80u
#define BZ_RANGES_MAX 24
#define BZ_H2_DATA_KEEP 16   /* of a DATA payload: the gRPC message prefix and a little */
#define BZ_H2_KEEP_MAX 8192  /* payload bytes of one ranges record at most */

struct bz_ev_range {
	__u32 off;  /* offset in the read or write */
	__u16 len;
	__u16 _pad;
};

/* The head of a ranges payload: always BZ_RANGES_MAX slots (n used), so
 * the pieces' bytes begin at a fixed offset. */
struct bz_ev_ranges {
	__u8 n;
	__u8 flags;   /* BZ_RANGES_F_* */
	__u16 _pad;
	struct bz_ev_range r[BZ_RANGES_MAX];
};
#define BZ_RANGES_F_FULL 0x1 /* the walk stopped early (pieces or bytes ran out): the rest is unknown */
/* the record goes on where the previous one of the same read or write
 * stopped (at a frame): ret counts its own bytes, offsets start at 0 */
#define BZ_RANGES_F_CONT 0x2

/* One socket read or write.  ts_ns is when it returned. */
struct bz_ev_data {
	struct bz_ev_hdr h;
	__u64 conn_id;
	__u64 start_ns;   /* syscall entered (0 if unknown) */
	__u64 arrival_ns; /* reads: first data_ready on the socket since the
	                   * previous read, i.e. when these bytes began waiting
	                   * in the receive queue (0 if unknown); writes (format
	                   * 1.8): the peer's socket on this host had every byte
	                   * written so far, inside this write (0 if unknown) */
	__s32 ret;        /* bytes moved, or -errno */
	__u16 caplen;     /* payload bytes that follow */
	__u8 dir;         /* enum bz_data_dir */
	__u8 syscall;     /* enum bz_syscall */
	__u8 payload[];   /* first caplen bytes moved */
};

/* BZ_EV_RX_ARRIVAL (format 1.6): h.ts_ns is the first data_ready on a
 * tracked TCP socket since its last read (the arrival_ns of the next read's
 * DATA record); host_ns is when those bytes entered the host: the receive
 * timestamp the kernel put on the socket's newest skb (net_timestamp_check,
 * on when any socket asked for SO_TIMESTAMP: the recorder does), which on
 * loopback is the sender's transmit and on a NIC the driver's receive or
 * its NAPI poll.  The difference is the request's wait in the kernel's
 * receive path (softirq backlog, socket lock) before the socket was told.
 * Written only when host_ns is known, after the socket's previous
 * data_ready, and at least the header option KW_RX_MIN_NS before h.ts_ns
 * (a shorter wait is not written: it reads as 0).  Header pid: the
 * socket's target; tid 0. */
struct bz_ev_rx_arrival {
	struct bz_ev_hdr h;
	__u64 conn_id;
	__u64 host_ns; /* CLOCK_MONOTONIC, like every ts_ns */
};

/* BZ_EV_PEER_RX (format 1.6): the other end of a tracked TCP connection is
 * a socket of this host (loopback, or this host's own address), and at
 * h.ts_ns, its data_ready, it had every byte the tracked socket had written
 * (its rcv_nxt reached our write_seq).  bytes_out: how many bytes that is,
 * counted from when the socket was tracked, like the bytes of its DATA
 * writes: a response whose last byte is the Nth written reached the peer's
 * socket at the first PEER_RX with bytes_out >= N.  On loopback that is
 * often inside the write itself (h.ts_ns before the write returned); on a
 * saturated CPU, or behind Nagle's algorithm and a delayed ACK, it can be
 * milliseconds after.  One record per catch-up that happened outside the
 * tracked process (in another task's softirq, ksoftirqd, a timer): one
 * inside its own syscall is not written, the response was delivered by the
 * time that syscall returned (on an HTTP/2 socket it is written too).  Header pid: the tracked socket's target;
 * tid 0. */
struct bz_ev_peer_rx {
	struct bz_ev_hdr h;
	__u64 conn_id;
	__u64 bytes_out;
};

/* Go runtime events (uprobes).  goid is the goroutine id (runtime.g.goid of
 * the goroutine that ran the probed function), unique for the life of a
 * process.  Strings follow the fixed part, in the order of their lengths,
 * each cut at its BZ_GO_*_MAX. */
enum bz_go_phase { BZ_GO_START = 0, BZ_GO_END = 1 };

#define BZ_GO_METHOD_MAX 16
#define BZ_GO_STR_MAX 128

/* BZ_EV_GO_HANDLER: net/http.serverHandler.ServeHTTP entered (START:
 * strings method, remote address "ip:port" of the client, URL path) or the handler
 * finished (END, at net/http.(*response).finishRequest, or for HTTP/2 at
 * (*http2responseWriter).handlerDone: status, the code the handler wrote;
 * 0 if it wrote none, which net/http sends as 200).
 * Format minor 3 appends, after the strings, a __u32 (little-endian,
 * unaligned) on START records of HTTP/2 requests: the stream id the handler
 * serves.  A START without it (HTTP/1, older captures) has size = 40 +
 * the three lengths. */
#define BZ_GO_HANDLER_STREAM_LEN 4
/* Format minor 7: every START record carries, after the strings, this
 * extension instead of the bare stream id (a record with at least
 * sizeof(struct bz_go_req_ext) bytes after its strings has it), then the
 * request's Host and RequestURI (the target as the client sent it; its
 * secret parameters masked by the recorder): what a server span needs
 * when no plaintext of the request was recorded (--go=fast over TLS,
 * docs/go.md). */
struct bz_go_req_ext {
	__u32 stream;          /* HTTP/2 stream id, 0 HTTP/1 or unknown */
	__u8 proto_major;      /* Request.ProtoMajor: 1, 2; 0 unknown */
	__u8 flags;            /* BZ_GOX_* */
	__u16 host_len;
	__u16 uri_len;
	__u16 _pad;
	__u32 _pad2;
	__s64 content_length;  /* Request.ContentLength: -1 unknown (chunked) */
};
#define BZ_GOX_CL_KNOWN 0x1u   /* content_length was read (offset known) */
struct bz_ev_go_handler {
	struct bz_ev_hdr h;
	__u64 goid;
	__u8 phase;        /* enum bz_go_phase */
	__u8 method_len;
	__u16 status;
	__u16 remote_len;
	__u16 path_len;
	__u8 strings[];    /* method, remote, URL path */
};

/* BZ_EV_GO_CLIENT: net/http.(*Transport).roundTrip entered (START: strings
 * method, URL host, URL path) or returned (END: status of the response, 0
 * if it failed).  parent_goid: the goroutine that created this one (from
 * runtime.g.parentGoid; 0 if unknown). */
struct bz_ev_go_client {
	struct bz_ev_hdr h;
	__u64 goid;
	__u64 parent_goid;
	__u8 phase;        /* enum bz_go_phase */
	__u8 method_len;
	__u16 status;
	__u16 host_len;
	__u16 path_len;
	__u8 strings[];    /* method, host, path */
};

/* BZ_EV_GO_SPAWN: runtime.newproc1 returned: goroutine parent_goid created
 * goroutine goid.  Only from runtimes without g.parentGoid (Go < 1.21). */
struct bz_ev_go_spawn {
	struct bz_ev_hdr h;
	__u64 parent_goid;
	__u64 goid;
};

/* `beyla record --sched` (format 1.6): a target thread left or took a
 * CPU, or was woken.  Emitted only when a thread involved belongs to a
 * target process (prev or next of a switch, the wakee of a wake-up), from
 * the scheduler's own tracepoints (bpf/sched.bpf.h).
 *
 * BZ_EV_SCHED_SWITCH: the header's pid/tid are prev, the task leaving the
 * CPU (tid 0: the idle task); next_pid/next_tid the one taking it.
 * prev_state is the task's state word as the scheduler saw it (0:
 * TASK_RUNNING); preempt says the switch was a preemption.  prev stays
 * runnable (on the run queue, waiting for a CPU) when preempt is set or
 * prev_state is 0: BZ_SCHED_PREV_RUNNABLE() says so; otherwise it is
 * blocked until woken (I/O, a lock, a sleep, a reply). */
struct bz_ev_sched_switch {
	struct bz_ev_hdr h;
	__u32 next_pid;
	__u32 next_tid;
	__u32 prev_state; /* TASK_* bits of prev; 0: runnable */
	__u8 preempt;     /* 1: prev was preempted */
	__u8 targets;     /* BZ_SCHED_PREV_TARGET | BZ_SCHED_NEXT_TARGET: which side is
	                   * a target's thread (the other is any task of the machine) */
	__u16 cpu;        /* the CPU switched */
	/* Appended in format 1.8: the two tasks' CPU time so far
	 * (se.sum_exec_runtime, ns; 0 unknown), of a target's side only.  The
	 * scheduler's clock leaves out the time the hypervisor ran another
	 * guest on this vCPU (steal): the wall time of a run on CPU minus its
	 * CPU time is what was stolen from it. */
	__u64 prev_cpu_ns;
	__u64 next_cpu_ns;
};
#define BZ_SCHED_PREV_TARGET 1
#define BZ_SCHED_NEXT_TARGET 2
#define BZ_SCHED_PREV_RUNNABLE(e) ((e)->preempt || (e)->prev_state == 0)

/* BZ_EV_SCHED_WAKEUP: the header's pid/tid are the waker (the task
 * running when the wake-up began: sched_waking fires in the waker's
 * context; for a wake-up from an interrupt, a timer or a packet, that is
 * whichever task the interrupt hit, tid 0 for the idle task); wakee_* the
 * thread made runnable.  target_cpu: the CPU the wakee last ran on, where
 * it is usually queued. */
struct bz_ev_sched_wakeup {
	struct bz_ev_hdr h;
	__u32 wakee_pid;
	__u32 wakee_tid;
	__u16 target_cpu;
	__u16 waker_cpu;
	__u32 _pad;
};

/* Not an event: the struct field offsets the Go probes read, one entry per
 * probed Go binary in the go_offsets map, chosen by the uprobe's attach
 * cookie.  Filled by the recorder from record/goelf.c; -1 = unknown. */
struct bz_go_offsets {
	__s64 g_goid, g_parent_goid;
	__s64 req_method, req_url, req_remote_addr;
	__s64 url_host, url_path;
	__s64 response_status, http_response_status_code;
	__s64 tls_conn_conn, net_conn_fd, netfd_pfd, poll_fd_sysfd;
	/* HTTP/2 (net/http's bundled server): Request.ProtoMajor, and the
	 * path from the handler's *http2responseWriter to its stream id and
	 * its status */
	__s64 req_proto_major, h2rw_rws, h2rws_stream, h2rws_status, h2stream_id;
	/* what a request's span needs without its plaintext (bz_go_req_ext) */
	__s64 req_host, req_request_uri, req_content_length;
};
#define BZ_GO_BINARIES_MAX 64
/* The attach cookie of a Go uprobe: the binary's slot in go_offsets, and
 * this bit when the probe sits on the stack check's JBE (goelf.h). */
#define BZ_GO_COOKIE_SLOT 0xffffu
#define BZ_GO_COOKIE_JBE (1u << 31)

/* Probe counters live in a per-CPU array indexed by probe id; user space
 * sums them.  The table of names is in record/probes.c. */
enum bz_probe_id {
	BZ_P_EXEC = 0, BZ_P_FORK, BZ_P_EXIT,
	BZ_P_ACCEPT, BZ_P_CONNECT, BZ_P_STATE, BZ_P_DATA_READY,
	BZ_P_RECV, BZ_P_SEND, BZ_P_SYSENTER,
	BZ_P_GO_HANDLER, BZ_P_GO_TLS, BZ_P_GO_CLIENT, BZ_P_GO_SPAWN,
	BZ_P_ADOPT, /* BZ_EV_PROC_ADOPT, from whichever hook adopted the process */
	BZ_P_SSL,   /* OpenSSL plaintext; missed: a call not tied to its socket */
	BZ_P_UNIX_CLOSE, /* CONN_CLOSE of UNIX sockets, from close() */
	/* reads and writes of a target on a datagram or seqpacket UNIX socket:
	 * counted in `missed`, never recorded (not parsed, by design) */
	BZ_P_UNIX_OTHER,
	BZ_P_RX_ARRIVAL,  /* BZ_EV_RX_ARRIVAL */
	BZ_P_PEER_RX,     /* BZ_EV_PEER_RX; missed: the peer table was full */
	BZ_P_SCHED_SWITCH, BZ_P_SCHED_WAKEUP, /* --sched */
	BZ_P_MAX
};

struct bz_probe_counts {
	__u64 emitted; /* events handed to the ring buffer */
	__u64 lost;    /* events dropped: ring buffer full */
	__u64 missed;  /* bookkeeping lost: a map was full */
};

/* Plaintext from a TLS library, not bytes of a socket: Go crypto/tls or
 * OpenSSL. */
#define BZ_SYS_IS_PLAINTEXT(s) ((s) == BZ_SYS_GO_TLS || (s) == BZ_SYS_SSL)

#ifndef __VMLINUX_H__
/* User space: a kind's name, as the recorder's summary and `beyla info`
 * print it ("unknown" for one this build does not know). */
static inline const char *bz_ev_kind_name(unsigned kind)
{
	static const char *const names[BZ_EV_KIND_MAX] = {
		[0] = "unknown", [BZ_EV_PROC_EXEC] = "exec", [BZ_EV_PROC_FORK] = "fork",
		[BZ_EV_PROC_EXIT] = "exit", [BZ_EV_CONN_OPEN] = "conn_open",
		[BZ_EV_CONN_EST] = "conn_est", [BZ_EV_CONN_CLOSE] = "conn_close",
		[BZ_EV_DATA] = "data", [BZ_EV_GO_HANDLER] = "go_handler",
		[BZ_EV_GO_CLIENT] = "go_client", [BZ_EV_GO_SPAWN] = "go_spawn",
		[BZ_EV_PROC_ADOPT] = "adopt", [BZ_EV_RX_ARRIVAL] = "rx_arrival",
		[BZ_EV_PEER_RX] = "peer_rx", [BZ_EV_SCHED_SWITCH] = "sched_switch",
		[BZ_EV_SCHED_WAKEUP] = "sched_wakeup",
	};
	return kind < BZ_EV_KIND_MAX && names[kind] ? names[kind] : "unknown";
}
#endif

#ifndef __cplusplus
_Static_assert(sizeof(struct bz_ev_hdr) == 24, "bz_ev_hdr layout");
_Static_assert(sizeof(struct bz_ev_data) == 56, "bz_ev_data layout");
_Static_assert(sizeof(struct bz_ev_ranges) == 4 + 8 * BZ_RANGES_MAX, "ranges layout");
_Static_assert(sizeof(struct bz_ev_conn_open) == 232, "bz_ev_conn_open layout");
_Static_assert(__builtin_offsetof(struct bz_ev_conn_open, local_ino) == BZ_CONN_OPEN_INET_SIZE,
	       "the UNIX fields follow the TCP ones");
_Static_assert(__builtin_offsetof(struct bz_ev_conn_open, path) == 120, "conn_open path");
_Static_assert(sizeof(struct bz_ev_conn_close) == 48, "bz_ev_conn_close layout");
_Static_assert(sizeof(struct bz_ev_rx_arrival) == 40, "bz_ev_rx_arrival layout");
_Static_assert(sizeof(struct bz_ev_peer_rx) == 40, "bz_ev_peer_rx layout");
_Static_assert(sizeof(struct bz_ev_go_handler) == 40, "go handler layout");
_Static_assert(sizeof(struct bz_go_req_ext) == 24, "go request extension layout");
_Static_assert(sizeof(struct bz_ev_go_client) == 48, "go client layout");
_Static_assert(sizeof(struct bz_ev_go_spawn) == 40, "go spawn layout");
_Static_assert(sizeof(struct bz_ev_sched_switch) == 56, "sched switch layout");
_Static_assert(__builtin_offsetof(struct bz_ev_sched_switch, prev_cpu_ns) == 40, "sched switch 1.8 part");
_Static_assert(__builtin_offsetof(struct bz_ev_sched_switch, cpu) == 38, "sched switch cpu");
_Static_assert(sizeof(struct bz_ev_sched_wakeup) == 40, "sched wakeup layout");
_Static_assert(sizeof(struct bz_ev_proc_exec) == 24 + 8 + 16 + 256 + 256 + 8 + 128 + 256 + 256,
	       "exec layout");
#endif

#endif /* BEYLA_EVENTS_H */
