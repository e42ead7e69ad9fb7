/* maps.bpf.h - maps, load-time configuration and small helpers shared by
 * every BPF program of beyla.  Included once, by beyla.bpf.c. */
#ifndef BEYLA_MAPS_BPF_H
#define BEYLA_MAPS_BPF_H

/* Configured by the recorder before load (const volatile: rodata). */
const volatile __u32 cfg_snaplen = BZ_SNAPLEN_DEFAULT;
const volatile __u32 cfg_self_pid = 0;     /* the recorder: never a target */
/* --port N (repeatable): a process that uses one of these TCP ports (bit
 * N % 64 of word N / 64) becomes a target.  cfg_any_port says whether any
 * bit is set, so that the hooks without --port skip the lookup. */
const volatile __u8 cfg_any_port = 0;
const volatile __u64 cfg_port_bits[65536 / 64] = {};
/* --port is the only selection: every target uses a selected port, so
 * handshakes on other ports need not be noted (they cost a map update for
 * every connection of the machine). */
const volatile __u8 cfg_port_only = 0;
/* --exe: every exec is reported, and the exec'ing process is a target from
 * that moment (a tentative one) until user space, which reads the exec
 * before any other event of the process, keeps it or lets it go. */
const volatile __u8 cfg_all_execs = 0;
/* --exe and --port together: a tentative target that uses a --port port is
 * a target by that rule, whatever user space decides of its exec. */
const volatile __u8 cfg_exe_and_port = 0;
const volatile __u64 cfg_ring_bytes = 16 << 20; /* the events ring's size */
const volatile __u8 cfg_syscall_start = 0; /* --syscall-start: enter hooks note start times */
/* The kernel has bpf_loop (5.17+): the environment and path walks of a new
 * target's identity use it; without it they are left out (the verifier
 * never sees the calls: this is known at load time). */
const volatile __u8 cfg_have_loop = 0;
/* --empty-hooks (benchmarks): the per-request programs (socket reads and
 * writes, data_ready, Go uprobes) return at once, so a benchmark can tell
 * what the kernel's hooks cost from what beyla's work in them costs.  The
 * verifier drops the rest of each program when this is set. */
const volatile __u8 cfg_empty_hooks = 0;
/* the OpenSSL probes may be attached (not --no-openssl): the socket hooks
 * note which socket an SSL call reads or writes (ssl.bpf.h) */
const volatile __u8 cfg_ssl = 0;
/* --unix PATH (repeatable): a process that accepts on, or connects to, a
 * UNIX stream socket bound to one of these paths becomes a target (as
 * --port does for TCP ports).  cfg_unix_lens[i] = 0 ends the list. */
#define BZ_MAX_UNIX_PATHS 8
const volatile __u8 cfg_any_unix = 0;
const volatile __u8 cfg_unix_lens[BZ_MAX_UNIX_PATHS] = {};
const volatile char cfg_unix_paths[BZ_MAX_UNIX_PATHS][BZ_UNIX_PATH_MAX] = {};
#define EMPTY_HOOK_RETURN() do { if (cfg_empty_hooks) return 0; } while (0)

/* Target processes: bit (tgid % 64) of word tgid / 64.  Set by the
 * recorder at start (through the mmapped .bss), by fork tracking and
 * (--port) by adoption on first use of the port; cleared at exit.  Every
 * socket read and write of every process on the machine asks is_target(),
 * and a bitmap answers with one load where a hash map took a helper call
 * and a hash.  Writers on both sides use atomic ORs and ANDs. */
__u64 target_bits[BZ_TARGET_WORDS];
/* --exe: targets that exec'd and are not judged yet (a subset of the
 * targets).  Cleared by whoever decides first, with an atomic AND whose old
 * value says who that was: user space (keep or let go, by the regexes) or
 * a hook that saw the process use a --port port (adopted: a target). */
__u64 tentative_bits[BZ_TARGET_WORDS];
/* Targets that entered an OpenSSL probe (ssl.bpf.h): only their socket
 * reads and writes look for an SSL call in progress and note the thread's
 * last read, so a target that never calls OpenSSL pays no map lookups on
 * its socket hooks.  Cleared at exit. */
__u64 ssl_user_bits[BZ_TARGET_WORDS];

/* What a target thread is doing in a read/write syscall, so the socket
 * tracepoint that fires inside it knows the user buffer and start time. */
enum io_ptr_kind { IO_BUF = 0, IO_IOV = 1, IO_MSG = 2, IO_NONE = 3 };
struct io_stash {
	__u64 start_ns;
	__u64 ptr;    /* buf, iovec array or user_msghdr, per kind */
	__u32 iovcnt;
	__u8 kind;    /* enum io_ptr_kind */
	__u8 sys;     /* enum bz_syscall */
	__u8 dir;     /* enum bz_data_dir */
	__u8 live;    /* cleared once a socket tracepoint used it */
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32); /* tid */
	__type(value, struct io_stash);
} io_stash SEC(".maps");

/* accept()/connect() in progress, by tid. */
struct call_stash {
	__u64 start_ns;
	__s32 fd;
	__u32 _pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct call_stash);
} call_stash SEC(".maps");

/* TCP sockets that a target used, by kernel address.  The address never
 * leaves the kernel: events carry conn_id. */
struct sock_state {
	__u64 conn_id;
	__u64 first_ready_ns; /* first data_ready since the last read */
	__u64 last_ready_ns;  /* latest data_ready */
	__u64 bytes_in;
	__u64 bytes_out;
	/* kwaits: the other end, a socket of this host, had every byte written
	 * so far at delivered_ns, inside the target's own syscall (its
	 * data_ready ran in the writer's context); for TCP, write_seq was then
	 * delivered_seq.  The next write's DATA record carries it, then it is
	 * cleared. */
	__u64 delivered_ns;
	__u32 delivered_seq;
	__u32 pid;  /* the target that used it: close and handshake events */
	            /* fire in whatever context the kernel is in */
	__u32 flags;/* SOCK_* */
	/* HTTP/2 (SOCK_H2), per direction: the frame the last read or write
	 * ended inside (payload bytes still to come, how many of them to
	 * keep), or the start of a frame header it cut (h2_hdr_len bytes) */
	__u32 h2_left[2];
	__u16 h2_keep[2];
	__u8 h2_hdr_len[2];
	__u8 h2_hdr[2][9];
	/* the client preface seen in pieces so far, per direction: its bytes
	 * matched by the first reads or writes (1-23), 0 when not under way */
	__u8 h2_pre[2];
	/* SOCK_LOCAL_PEER, and that other end is tracked too (kw_track): this
	 * socket's data_ready is its delivery.  A byte of its own, not a flag:
	 * the other end's kw_track sets it from another CPU, and a plain store
	 * cannot lose a concurrent update of flags (this BPF target has no
	 * 32-bit atomic OR). */
	__u8 peer_tracked;
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct sock_state);
} socks SEC(".maps");
/* A TLS library (Go crypto/tls, OpenSSL) reports this socket's plaintext:
 * its socket reads and writes keep their times and sizes but not their
 * (ciphertext) bytes. */
#define SOCK_TLS_PLAIN 1
/* The connection began with the HTTP/2 client preface: its reads and
 * writes are captured frame by frame (h2.bpf.h). */
#define SOCK_H2 2
/* A Go crypto/tls.Conn's plaintext was read (IN) or written (OUT) once:
 * what comes next is not the connection's first bytes. */
#define SOCK_TLS_IN_SEEN 4
#define SOCK_TLS_OUT_SEEN 8
/* Already open when it was first seen (BZ_ROLE_PREEXISTING): its first
 * bytes seen are not its first bytes (h2_later). */
#define SOCK_JOINED 16
/* HTTP/1.1 upgraded to h2c (a 101 with "Upgrade: h2c" read or written):
 * frame by frame since, the client's preface not seen yet. */
#define SOCK_H2C 32
/* An AF_UNIX stream socket: no TCP state to read; closed by close(). */
#define SOCK_UNIX 64
/* Its other end is a socket of this host (kwait.bpf.h): its peer's
 * data_ready looks for it in peers. */
#define SOCK_LOCAL_PEER 128
#define BZ_TCP_CLOSE 7
#define BZ_IPPROTO_TCP 6
/* Set once a UNIX socket is in socks: a target's exit then looks for its
 * UNIX sockets there (proc.bpf.h); without any it need not. */
__u8 have_unix_socks;

/* An SSL object of a process (ssl.bpf.h). */
struct ssl_key {
	__u64 ssl;
	__u32 tgid;
	__u32 _pad;
};

/* OpenSSL calls in progress, by thread (ssl.bpf.h): the SSL object, the
 * caller's buffer and byte count, where an _ex call's result count goes,
 * the socket the library read or wrote inside the call (0: none so far),
 * and for a write whether its plaintext was recorded already (at its first
 * socket write) or is not to be (a retry). */
struct ssl_call {
	__u64 ssl;
	__u64 buf;
	__u64 num;
	__u64 lenp;
	__u64 sk;
	__u8 dir;
	__u8 emitted;
	__u8 skip;
	__u8 _pad[5];
};

/* An SSL object's write to come again: after an SSL_write that returned
 * less than it was given (a partial write, or WANT_WRITE: OpenSSL wants the
 * same arguments again), whose plaintext was recorded whole already, the
 * call that goes on with these bytes is not recorded a second time. */
struct ssl_rewrite {
	__u64 buf;
	__u64 num;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ssl_key);
	__type(value, struct ssl_rewrite);
} ssl_rewrites SEC(".maps");
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct ssl_call);
} ssl_calls SEC(".maps");

/* The socket of each SSL object a target used (key: the object's address
 * and the process), learned from the calls that read or wrote it;
 * forgotten at SSL_free, whose address malloc hands out again. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ssl_key);
	__type(value, __u64);
} ssl_socks SEC(".maps");

/* The TCP socket each target thread read last: where the ciphertext of an
 * SSL_read that does no I/O of its own came from (Node feeds OpenSSL
 * through a memory BIO, after reading the socket itself). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} ssl_last_read SEC(".maps");

/* When each recent TCP connection completed its handshake, and which side
 * opened it.  Written in softirq context where the owner is unknown. */
struct estab_info {
	__u64 ts_ns;
	__u8 passive;
	__u8 _pad[7];
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct estab_info);
} estab SEC(".maps");

/* UNIX listening sockets that targets accept on (key: the kernel
 * address, value: the tgid), noted at accept() entry.  A connect() queues
 * the new server-side socket on its listener and wakes it with
 * sk_data_ready: bz_data_ready notes that moment in estab for the queued
 * socket, the accept queue's start (there is no handshake). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u32);
} unix_listen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} conn_seq SEC(".maps");

/* --exe: when each process last exec'd (tgid -> ns).  User space lets a
 * tentative target go by clearing its bit, then looks here: an exec newer
 * than the one it judged means a new program is running, whose own exec
 * event is still on its way, so the bit is put back. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} exec_ts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BZ_P_MAX);
	__type(key, __u32);
	__type(value, struct bz_probe_counts);
} counts SEC(".maps");

/* Room to build one event; iovec copies land at an offset < SNAPLEN_MAX with
 * a length masked below 2*SNAPLEN_MAX; HTTP/2 pieces at an offset below
 * BZ_H2_KEEP_MAX after the ranges head, with a length masked below it. */
#define SCRATCH_A (sizeof(struct bz_ev_proc_exec) + 3 * BZ_SNAPLEN_MAX)
#define SCRATCH_B (sizeof(struct bz_ev_data) + sizeof(struct bz_ev_ranges) + 2 * BZ_H2_KEEP_MAX)
#define SCRATCH_SIZE (SCRATCH_A > SCRATCH_B ? SCRATCH_A : SCRATCH_B)
struct scratch { __u8 b[SCRATCH_SIZE]; };
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized by the recorder (--ring-size) */
} events SEC(".maps");

static __always_inline struct bz_probe_counts *probe_counts(__u32 probe)
{
	return bpf_map_lookup_elem(&counts, &probe);
}

static __always_inline void count_missed(__u32 probe)
{
	struct bz_probe_counts *c = probe_counts(probe);
	if (c)
		c->missed++;
}

/* Hands an event to the ring without waking the reader, unless a quarter
 * of the ring is already waiting: per-event wake-ups cost more than half the
 * throughput of a busy server (KERNEL.md), a full ring costs events. */
static __always_inline void emit_flags(__u32 probe, void *ev, __u64 size, __u64 flags)
{
	struct bz_probe_counts *c = probe_counts(probe);

	if (!flags)
		flags = BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > cfg_ring_bytes / 4)
		flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&events, ev, size, flags) == 0) {
		if (c)
			c->emitted++;
	} else if (c) {
		c->lost++;
	}
}

static __always_inline void emit(__u32 probe, void *ev, __u64 size)
{
	emit_flags(probe, ev, size, 0);
}

static __always_inline void fill_hdr(struct bz_ev_hdr *h, __u16 kind, __u16 size, __u64 pid_tgid)
{
	h->ts_ns = bpf_ktime_get_ns();
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->kind = kind;
	h->size = size;
	h->_pad = 0;
}

/* Bitmaps with one bit per tgid (target_bits, tentative_bits): the word of
 * tgid, or NULL beyond it.  The mask is what the verifier needs to see the
 * index bounded (the compiler would test a copy of the register it then
 * uses). */
static __always_inline __u64 *pid_word(__u64 *bits, __u32 tgid)
{
	__u64 w = tgid / 64;

	if (tgid >= BZ_PID_LIMIT)
		return NULL;
	asm volatile("%[w] &= %[m]" : [w] "+r"(w) : [m] "i"(BZ_TARGET_WORDS - 1));
	return &bits[w];
}

static __always_inline int pid_bit(__u64 *bits, __u32 tgid)
{
	__u64 *w = pid_word(bits, tgid);

	return w && ((*w >> (tgid % 64)) & 1);
}

/* Sets tgid's bit atomically: 1 when it was clear (this call set it), 0 when
 * it was set already, -1 for a tgid beyond the bitmap (not a Linux pid). */
static __always_inline int pid_bit_set(__u64 *bits, __u32 tgid)
{
	__u64 *w = pid_word(bits, tgid), bit = 1ull << (tgid % 64);

	if (!w)
		return -1;
	return !(__sync_fetch_and_or(w, bit) & bit);
}

/* Clears tgid's bit atomically: 1 when it was set (this call cleared it). */
static __always_inline int pid_bit_clear(__u64 *bits, __u32 tgid)
{
	__u64 *w = pid_word(bits, tgid), bit = 1ull << (tgid % 64);

	if (!w)
		return 0;
	return (__sync_fetch_and_and(w, ~bit) & bit) != 0;
}

static __always_inline int is_target(__u32 tgid) { return pid_bit(target_bits, tgid); }

/* 0, or -1 for a tgid beyond the bitmap (not a Linux pid). */
static __always_inline int target_add(__u32 tgid) { return pid_bit_set(target_bits, tgid) < 0 ? -1 : 0; }

/* 1 when tgid was not a target and is one now (the caller is the one
 * hook that made it so, even if two threads race), else 0. */
static __always_inline int target_add_new(__u32 tgid) { return pid_bit_set(target_bits, tgid) == 1; }

static __always_inline void target_del(__u32 tgid)
{
	pid_bit_clear(target_bits, tgid);
	pid_bit_clear(ssl_user_bits, tgid);
}

static __always_inline int is_tentative(__u32 tgid) { return pid_bit(tentative_bits, tgid); }

static __always_inline void tentative_set(__u32 tgid) { pid_bit_set(tentative_bits, tgid); }

/* 1 when this call cleared the mark (the caller decided), 0 if it was clear. */
static __always_inline int tentative_take(__u32 tgid) { return pid_bit_clear(tentative_bits, tgid); }

static __always_inline int port_selected(__u16 port)
{
	return (cfg_port_bits[port / 64] >> (port % 64)) & 1;
}


static __always_inline void *scratch_buf(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&scratch, &zero);
}

#endif
