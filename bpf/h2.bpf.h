/* h2.bpf.h - reads and writes of HTTP/2 sockets, captured frame by frame.
 *
 * HPACK is stateful: a header block cut by the snap length makes every
 * later block of the connection undecodable.  So on a socket whose first
 * bytes were the HTTP/2 client preface (SOCK_H2), the payload is not the
 * first --snaplen bytes but pieces (BZ_SYS_F_RANGES): the walk reads each
 * 9-byte frame header from the user buffer and keeps the header, the whole
 * payload of every frame but DATA (HEADERS, CONTINUATION, SETTINGS... are
 * small), and the first BZ_H2_DATA_KEEP bytes of a DATA payload.  A frame
 * that goes on past the read or write is followed into the next one
 * (sock_state.h2_left / h2_keep), and so is a frame header it cut
 * (h2_hdr).  A read or write of several iovec entries is followed through
 * up to H2_SEGS of them, a frame or a piece across any number (h2_copy).
 * At most BZ_RANGES_MAX pieces, BZ_H2_KEEP_MAX bytes and
 * H2_FRAMES_MAX frames per record: a read or write that needs more goes on
 * in another record (BZ_RANGES_F_CONT, up to H2_RECORDS_MAX), and past that
 * the rest is unknown (BZ_RANGES_F_FULL), which the analyzer treats like
 * bytes not captured.
 * Included once, by beyla.bpf.c, before data.bpf.h. */
#ifndef BEYLA_H2_BPF_H
#define BEYLA_H2_BPF_H

#define H2_FRAMES_MAX 64
#define H2_RECORDS_MAX 8 /* records one read or write may take (h2_emit) */
/* iovec entries followed.  gRPC's C core (Python's grpcio, Ruby, PHP, C++)
 * writes each slice of a frame as its own entry, a header field's name and
 * value apart, and up to 260 of them per sendmsg: a unary call's response
 * alone is 15.  Node's http2 writes each frame header and each DATA payload
 * as an entry, a burst of 100 responses (h2load -m 100) in one writev of
 * about 300.  So: all of them, UIO_MAXIOV, what a writev or sendmsg takes
 * at most (one user read of 16 bytes an entry). */
#define H2_SEGS 1024
#define H2_HDR 9

/* The buffer of the read or write, as up to H2_SEGS user segments, and a
 * cursor: segment cur begins at offset base of it.  The walk reads forward
 * (each copy begins at or after where the last one began, also across the
 * records of one read), so finding where a copy begins costs one step per
 * segment over the whole walk. */
struct h2io {
	struct iovec seg[H2_SEGS];
	__u32 n;
	__u32 cur;
	__u64 base;
};

/* x & m where the verifier sees it: the compiler would prove the mask
 * redundant from an earlier bound and drop it (see bound_len). */
#define H2_MASK(x, m) ({ __u64 __v = (x); asm volatile("%[v] &= %[k]" : [v] "+r"(__v) : [k] "i"(m)); __v; })

/* Where a copy goes: the event's pieces (at a position below
 * BZ_H2_KEEP_MAX), or one of the walk's small buffers (below 16 bytes, or
 * 32 for the first bytes). */
enum h2_dst { H2_DST_DATA = 0, H2_DST_HDR, H2_DST_TMP, H2_DST_FIRST };

/* The copy being made (h2_copy_step): bytes [off, off + n) of the read or
 * write to pos of dst; seg and base walk the segments it spans. */
struct h2copy {
	__u64 base;
	__u32 off, n, pos, done, seg;
	__u8 dst, err;
};

struct h2walk {
	struct h2copy cp;
	__u32 ret;   /* bytes moved */
	__u32 off;   /* where the walk is in them */
	__u32 out;   /* piece bytes written */
	__u32 nr;    /* pieces */
	__u32 left;  /* a frame going on past the end: its bytes still to come */
	__u32 keep;  /* ... and how many of those to keep */
	__u32 part;  /* a frame header cut by the end: its bytes here (kept as the last piece) */
	__u32 base;  /* the record covers the read or write from here (h2_emit) */
	__u8 full;
	__u8 more;   /* out of room at a frame boundary: another record goes on from off */
	/* a frame header being read, and the rest of one the last read or
	 * write cut (32 bytes each: the copies' masks), and a connection's
	 * first bytes (64) */
	__u8 hdr[32], tmp[32], first[64];
	/* last: what is before it is cleared for every record; the segments
	 * stay for the next record of the same read or write */
	struct h2io io;
};

/* The walk's state lives in a per-CPU buffer, not on the stack: a Go TLS
 * uprobe that calls h2_capture has little of its 512 bytes left, and the
 * iovec array is 4 KB. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct h2walk);
} h2_walks SEC(".maps");

static __always_inline struct h2walk *h2_walk_buf(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&h2_walks, &zero);
}

/* The buffer of a Go TLS Read or Write as an io_stash, off the uprobe's
 * stack (the same reason). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct io_stash);
} h2_srcs SEC(".maps");

static __always_inline struct io_stash *h2_src_buf(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&h2_srcs, &zero);
}

/* iov: 16 bytes of room for a msghdr's two fields (the caller's: the Go
 * uprobes' stack has none to spare) */
static __always_inline int h2_io_of(struct h2io *h, const struct io_stash *io, __u32 ret, __u64 *iov)
{
	__u64 ptr = io->ptr, cnt = io->iovcnt, sz;

	h->n = 0;
	h->cur = 0;
	h->base = 0;
	if (io->kind == IO_BUF) {
		h->seg[0].iov_base = (void *)io->ptr;
		h->seg[0].iov_len = ret;
		h->n = 1;
		return 0;
	}
	if (io->kind == IO_MSG) {
		/* msg_iov and msg_iovlen only: the whole msghdr would cost the
		 * stack 56 bytes (msg_iovlen follows msg_iov, both 8 bytes) */
		_Static_assert(__builtin_offsetof(struct user_msghdr, msg_iovlen) ==
				       __builtin_offsetof(struct user_msghdr, msg_iov) + 8, "msghdr layout");
		if (bpf_probe_read_user(iov, 2 * sizeof(__u64),
					(void *)(io->ptr + __builtin_offsetof(struct user_msghdr, msg_iov))))
			return -1;
		ptr = iov[0];
		cnt = iov[1];
	} else if (io->kind != IO_IOV) {
		return -1;
	}
	if (cnt > H2_SEGS)
		cnt = H2_SEGS;
	/* (one read for the array, as long as it is) */
	sz = cnt * sizeof(h->seg[0]);
	asm volatile("%[n] &= 16383" : [n] "+r"(sz));
	if (sz > sizeof(h->seg))
		sz = sizeof(h->seg);
	if (!cnt || bpf_probe_read_user(h->seg, sz, (void *)ptr))
		return -1;
	h->n = cnt;
	return 0;
}

/* One segment of the copy in w->cp (bpf_loop's body): finds the segment
 * holding the next byte wanted, copies what it holds of the copy. */
static long h2_copy_step(__u64 i, void *unused)
{
	struct h2walk *w = h2_walk_buf();
	struct bz_ev_data *ev;
	struct h2copy *c;
	__u64 len, from, at, k, seg;
	void *src;
	long rc;

	if (!w)
		return 1;
	c = &w->cp;
	seg = c->seg;
	if (seg >= w->io.n || seg >= H2_SEGS) {
		c->err = 1; /* beyond the segments followed */
		return 1;
	}
	seg = H2_MASK(seg, H2_SEGS - 1);
	len = w->io.seg[seg].iov_len;
	from = (__u64)c->off + c->done;
	if (from >= c->base + len) {
		/* before the copy's first byte: the walk's cursor moves on too */
		c->base += len;
		c->seg++;
		if (!c->done) {
			w->io.cur = c->seg;
			w->io.base = c->base;
		}
		return 0;
	}
	at = from - c->base;
	k = len - at;
	if (k > c->n - c->done)
		k = c->n - c->done;
	src = (void *)((__u64)w->io.seg[seg].iov_base + at);
	switch (c->dst) {
	case H2_DST_DATA:
		if (!(ev = scratch_buf()))
			return 1;
		rc = bpf_probe_read_user(ev->payload + sizeof(struct bz_ev_ranges) +
						 H2_MASK(c->pos + c->done, BZ_H2_KEEP_MAX - 1),
					 H2_MASK(k, BZ_H2_KEEP_MAX - 1), src);
		break;
	case H2_DST_HDR:
		rc = bpf_probe_read_user(w->hdr + H2_MASK(c->pos + c->done, 15), H2_MASK(k, 15), src);
		break;
	case H2_DST_TMP:
		rc = bpf_probe_read_user(w->tmp + H2_MASK(c->pos + c->done, 15), H2_MASK(k, 15), src);
		break;
	default:
		rc = bpf_probe_read_user(w->first + H2_MASK(c->pos + c->done, 31), H2_MASK(k, 31), src);
		break;
	}
	if (rc) {
		c->err = 1;
		return 1;
	}
	c->done += k;
	if (c->done >= c->n)
		return 1;
	c->base += len;
	c->seg++;
	return 0;
}

/* Copies n bytes at offset off of the read or write (through as many
 * segments as they span) to pos of dst: BZ_H2_KEEP_MAX - 1 bytes at most
 * for the pieces, 15 for the small buffers, 31 for the first bytes.  0, or
 * -1 when they were not all read. */
static __always_inline int h2_copy(struct h2walk *w, __u32 off, __u8 dst, __u32 pos, __u32 n)
{
	if (!n)
		return 0;
	if (off < w->io.base) {
		/* (behind the cursor: from the start) */
		w->io.cur = 0;
		w->io.base = 0;
	}
	w->cp.off = off;
	w->cp.n = n;
	w->cp.pos = pos;
	w->cp.dst = dst;
	w->cp.done = 0;
	w->cp.err = 0;
	w->cp.seg = w->io.cur;
	w->cp.base = w->io.base;
	bpf_loop(H2_SEGS, h2_copy_step, NULL, 0);
	return !w->cp.err && w->cp.done == n ? 0 : -1;
}

/* Keeps bytes [off, off + n) as a piece (joined to the last one when they
 * touch).  0, or -1 when out of room (the walk stops: the rest is unknown). */
static __always_inline int h2_keep(struct h2walk *w, struct bz_ev_data *ev, __u32 off, __u32 n)
{
	struct bz_ev_ranges *rg = (struct bz_ev_ranges *)ev->payload;
	__u32 i = w->nr, j = i - 1;
	int join;

	if (!n)
		return 0;
	if (w->out + n > BZ_H2_KEEP_MAX - 1) {
		w->full = 1;
		return -1;
	}
	__u32 roff = off - w->base; /* offsets are the record's */

	join = i && j < BZ_RANGES_MAX && rg->r[j].off + rg->r[j].len == roff && rg->r[j].len + n <= 0xffff;
	if (!join && i >= BZ_RANGES_MAX) {
		w->full = 1;
		return -1;
	}
	if (h2_copy(w, off, H2_DST_DATA, w->out, n))
		return -1;
	w->out += n;
	if (join) {
		j = H2_MASK(j, 31);
		if (j < BZ_RANGES_MAX)
			rg->r[j].len += n;
		return 0;
	}
	i = H2_MASK(i, 31);
	if (i >= BZ_RANGES_MAX)
		return -1;
	rg->r[i].off = roff;
	rg->r[i].len = n;
	rg->r[i]._pad = 0;
	w->nr = i + 1;
	return 0;
}

/* Bytes of a frame to keep: its header and all of its payload, but only
 * the start of a DATA payload. */
static __always_inline __u32 h2_kept(const __u8 *hdr)
{
	__u32 flen = (__u32)hdr[0] << 16 | (__u32)hdr[1] << 8 | hdr[2];

	return H2_HDR + (hdr[3] == 0 && flen > BZ_H2_DATA_KEEP ? BZ_H2_DATA_KEEP : flen);
}

/* A frame that begins at w->off with header hdr: keep what is kept of it
 * within the read or write, note what goes on past its end. */
static __always_inline int h2_frame(struct h2walk *w, struct bz_ev_data *ev, const __u8 *hdr, __u32 hdr_done)
{
	__u32 flen = (__u32)hdr[0] << 16 | (__u32)hdr[1] << 8 | hdr[2];
	__u32 kept = h2_kept(hdr), avail = w->ret - w->off, take;

	/* (hdr_done bytes of the header came in an earlier read or write) */
	take = kept - hdr_done;
	if (take > avail)
		take = avail;
	if (h2_keep(w, ev, w->off, take))
		return -1;
	if (flen + H2_HDR - hdr_done > avail) {
		w->left = flen + H2_HDR - hdr_done - avail;
		w->keep = kept - hdr_done > avail ? kept - hdr_done - avail : 0;
		w->off = w->ret;
		return 1;
	}
	w->off += flen + H2_HDR - hdr_done;
	return 0;
}

static long h2_step(__u64 i, void *unused)
{
	struct bz_ev_data *ev = scratch_buf();
	struct h2walk *w = h2_walk_buf();

	if (!ev || !w || w->off >= w->ret)
		return 1;
	if (w->ret - w->off < H2_HDR) {
		/* a header the end cuts: kept, finished in the next read or write */
		w->part = w->ret - w->off;
		if (h2_keep(w, ev, w->off, w->part))
			w->part = 0;
		w->off = w->ret;
		return 1;
	}
	if (h2_copy(w, w->off, H2_DST_HDR, 0, H2_HDR))
		return 1;
	return h2_frame(w, ev, w->hdr, 0) ? 1 : 0;
}

/* The start of a read or write's first record: the preface, then what the
 * last one of this direction left open (a frame header it cut, or a frame
 * it was inside).  Out of line, so that its frame is not on the stack
 * while h2_step's is (a Go uprobe's 512 bytes). */
static __noinline void h2_resume(struct sock_state *st, __u32 ret, __u32 d, __u32 skip)
{
	struct bz_ev_data *ev = scratch_buf();
	struct h2walk *w = h2_walk_buf();

	if (!ev || !w || !st)
		return;
	/* the preface, first */
	if (skip && h2_keep(w, ev, 0, skip < ret ? skip : ret) == 0)
		w->off = skip < ret ? skip : ret;
	/* a frame header the last one cut, then a frame the last one was inside */
	if (st->h2_hdr_len[d] && st->h2_hdr_len[d] < H2_HDR) {
		__u8 *hdr = w->hdr, *tmp = w->tmp;
		__u32 had = st->h2_hdr_len[d] & 15, need = H2_HDR - had;
		st->h2_hdr_len[d] = 0;
		if (need <= ret && h2_copy(w, 0, H2_DST_TMP, 0, need & 15) == 0) {
			for (int k = 0; k < H2_HDR; k++)
				hdr[k] = k < had ? st->h2_hdr[d][k] : tmp[H2_MASK(k - had, 15)];
			h2_frame(w, ev, hdr, had);
		}
	} else if (st->h2_left[d]) {
		__u32 k = st->h2_left[d] < ret ? st->h2_left[d] : ret;
		__u32 keep = st->h2_keep[d] < k ? st->h2_keep[d] : k;
		h2_keep(w, ev, 0, keep);
		st->h2_left[d] -= k;
		st->h2_keep[d] -= keep;
		w->off = k;
		if (st->h2_left[d]) {
			/* the whole read or write was inside that frame */
			w->left = st->h2_left[d];
			w->keep = st->h2_keep[d];
			w->off = ret;
		}
	}
}

/* Fills ev's payload with the pieces of a read or write of ret bytes on an
 * HTTP/2 socket from offset start on (how: H2_HOW of the direction, skip:
 * bytes at its start to keep as they are, the preface, and last), carrying frame state in st from and to the
 * neighbouring reads or writes of that direction.  Returns the payload
 * length (caplen).  When the record runs out of room (pieces, bytes or
 * frames) at a frame boundary and last is 0, it sets w->more: the caller
 * emits this record for bytes [start, w->off) and calls again from w->off,
 * so that a read of many frames (100 streams' HEADERS) loses none.
 * Global, not static: the verifier checks it once, not once per call of
 * h2_emit's loop in every program (which ran past its million steps). */
#define H2_HOW(dir, skip, last) ((dir & 1) | ((last) ? 2 : 0) | (skip) << 8)
__noinline __u32 h2_capture(struct sock_state *st, const struct io_stash *io, __u32 ret, __u32 how, __u32 start)
{
	struct bz_ev_data *ev = scratch_buf();
	struct bz_ev_ranges *rg;
	struct h2walk *w = h2_walk_buf();
	__u32 d = how & 1, last = how & 2, skip = (how >> 8) & (BZ_SNAPLEN_MAX - 1);

	if (!ev || !w || !st)
		return 0;
	rg = (struct bz_ev_ranges *)ev->payload;
	__builtin_memset(w, 0, __builtin_offsetof(struct h2walk, io));
	/* every slot, used or not, and the padding: the buffer holds what the
	 * last record of this CPU left there (another connection's bytes, or
	 * this read's own first bytes, copied before it was known to be
	 * HTTP/2), and the head goes to disk whole */
	__builtin_memset(rg, 0, sizeof(*rg));
	rg->flags = start ? BZ_RANGES_F_CONT : 0;
	/* (a record after the first goes on in the segments read for it) */
	if (!io || (!start && h2_io_of(&w->io, io, ret, (__u64 *)w->tmp)))
		return 0;
	w->ret = ret;
	w->base = start;
	w->off = start;
	if (!start)
		h2_resume(st, ret, d, skip);
	if (w->off < ret && !w->full)
		bpf_loop(H2_FRAMES_MAX, h2_step, NULL, 0);
	if (w->off < ret) {
		if (!last && w->off > start && w->nr) {
			/* stopped at a frame: the rest in another record */
			w->more = 1;
			rg->n = w->nr;
			return sizeof(struct bz_ev_ranges) + w->out;
		}
		w->full = 1; /* frames left unwalked */
	}
	st->h2_left[d] = w->left;
	st->h2_keep[d] = w->keep > 0xffff ? 0xffff : w->keep;
	st->h2_hdr_len[d] = 0;
	if (w->part && w->part < H2_HDR && w->out >= w->part) {
		/* the cut header's bytes are the last ones kept */
		__u8 *data = ev->payload + sizeof(struct bz_ev_ranges);
		for (int k = 0; k < H2_HDR - 1; k++)
			if (k < w->part)
				st->h2_hdr[d][k] = data[(w->out - w->part + k) & (BZ_H2_KEEP_MAX - 1)];
		st->h2_hdr_len[d] = w->part;
	}
	if (w->full) {
		/* what follows is not known: start afresh at the next frame header
		 * the analyzer finds (it resynchronises at a read's start) */
		rg->flags |= BZ_RANGES_F_FULL;
		st->h2_left[d] = 0;
		st->h2_keep[d] = 0;
		st->h2_hdr_len[d] = 0;
	}
	rg->n = w->nr;
	return sizeof(struct bz_ev_ranges) + w->out;
}

/* Emits the records of a read or write of ret bytes of an HTTP/2 socket:
 * ev (the scratch buffer) has its header filled; each record covers
 * consecutive bytes of it, its ret their count, so that the records' rets
 * add up to the read's (BZ_RANGES_F_CONT on all but the first). */
static __always_inline void h2_emit(struct sock_state *st, const struct io_stash *io, __u32 ret, __u32 dir,
				    __u32 skip, __u32 probe)
{
	struct bz_ev_data *ev = scratch_buf();
	__u32 start = 0, got;

	if (!ev)
		return;
	ev->syscall |= BZ_SYS_F_RANGES;
	for (int k = 0; k < H2_RECORDS_MAX; k++) {
		struct h2walk *w;
		got = h2_capture(st, io, ret, H2_HOW(dir, skip, k == H2_RECORDS_MAX - 1), start);
		w = h2_walk_buf();
		if (!w)
			return;
		ev->ret = (__s32)((w->more ? w->off : ret) - start);
		ev->caplen = got;
		ev->h.size = sizeof(*ev) + got;
		emit(probe, ev, sizeof(*ev) + (got & (2 * BZ_H2_KEEP_MAX - 1)));
		if (!w->more)
			return;
		start = w->off;
	}
}

/* What a connection's first bytes in one direction say: H2_FIRST_PREFACE
 * when the first 24 spell the client preface, "PRI * HTTP/2.0\r\n\r\nSM\r\n
 * \r\n" (three words compared, little-endian: a static array would land in
 * .rodata, which libbpf cannot place here); with settings_ok,
 * H2_FIRST_SETTINGS when they begin with a SETTINGS frame (type 4, no
 * flags, stream 0, whole 6-byte entries): a server's first write before it
 * read anything is that only in HTTP/2 (its connection preface, which may
 * go out before the client's arrives).  Not inlined: its buffers would
 * stay in the caller's frame, which a Go uprobe cannot spare. */
#define H2_FIRST_PREFACE 1
#define H2_FIRST_SETTINGS 2
static __noinline int h2_first_bytes(const struct io_stash *io, __u32 ret, __u32 settings_ok)
{
	struct h2walk *w = h2_walk_buf();
	__u64 *b;
	__u8 *c;
	__u32 len;

	if (!w || !io || ret < H2_HDR || h2_io_of(&w->io, io, ret, (__u64 *)w->tmp))
		return 0;
	b = (__u64 *)w->first;
	c = w->first;
	b[0] = b[1] = b[2] = 0;
	if (ret >= 24 && h2_copy(w, 0, H2_DST_FIRST, 0, 24) == 0 && b[0] == 0x5448202a20495250ull &&
	    b[1] == 0x0a0d302e322f5054ull && b[2] == 0x0a0d0a0d4d530a0dull)
		return H2_FIRST_PREFACE;
	if (!settings_ok || h2_copy(w, 0, H2_DST_FIRST, 0, H2_HDR))
		return 0;
	len = (__u32)c[0] << 16 | (__u32)c[1] << 8 | c[2];
	return c[3] == 4 && c[4] == 0 && !(c[5] | c[6] | c[7] | c[8]) && len % 6 == 0 && len <= 16384
		       ? H2_FIRST_SETTINGS : 0;
}

/* The client preface in pieces: a connection's first reads or writes in a
 * direction may be shorter than its 24 bytes (Go's h2c server reads "PRI *
 * HTTP/2.0", 14 bytes, before the rest, to tell it from an HTTP/1 request
 * line; a client may write it byte by byte).  got bytes of it matched in
 * the reads or writes before; the ret bytes of this one go on from there.
 * Returns the bytes matched now (24: the preface is complete), 0 when they
 * are not the preface's.  The expected preface is laid down first and the
 * read's bytes copied over their place in it: one comparison of three
 * words then checks them, however many there are. */
static __noinline int h2_preface_more(const struct io_stash *io, __u32 ret, __u32 got)
{
	struct h2walk *w = h2_walk_buf();
	__u64 *b;
	__u32 k;

	if (!w || !io || !ret || got >= 24 || h2_io_of(&w->io, io, ret, (__u64 *)w->tmp))
		return 0;
	k = 24 - got;
	if (k > ret)
		k = ret;
	b = (__u64 *)w->first;
	b[0] = 0x5448202a20495250ull;
	b[1] = 0x0a0d302e322f5054ull;
	b[2] = 0x0a0d0a0d4d530a0dull;
	if (h2_copy(w, 0, H2_DST_FIRST, got, k))
		return 0;
	if (b[0] != 0x5448202a20495250ull || b[1] != 0x0a0d302e322f5054ull || b[2] != 0x0a0d0a0d4d530a0dull)
		return 0;
	return (int)(got + k);
}

/* Could h[0..9) be the header of a frame a peer sends?  (As the analyzer's
 * bz_h2frame_plausible: a known type, its flags, its stream and length
 * rules, at most the default SETTINGS_MAX_FRAME_SIZE.) */
static __always_inline int h2_plausible(const __u8 *h, __u32 *len)
{
	__u32 l = (__u32)h[0] << 16 | (__u32)h[1] << 8 | h[2];
	__u32 sid = ((__u32)h[5] << 24 | (__u32)h[6] << 16 | (__u32)h[7] << 8 | h[8]) & 0x7fffffff;
	__u8 type = h[3], fl = h[4];

	*len = l;
	if ((h[5] & 0x80) || l > 16384)
		return 0;
	switch (type) {
	case 0: return sid && !(fl & ~0x09);                 /* DATA */
	case 1: return sid && !(fl & ~0x2d);                 /* HEADERS */
	case 2: return sid && l == 5 && !fl;                 /* PRIORITY */
	case 3: return sid && l == 4 && !fl;                 /* RST_STREAM */
	case 4: return !sid && l % 6 == 0 && (!fl || (fl == 1 && !l)); /* SETTINGS */
	case 5: return sid && l >= 4 && !(fl & ~0x0c);       /* PUSH_PROMISE */
	case 6: return !sid && l == 8 && !(fl & ~0x01);      /* PING */
	case 7: return !sid && l >= 8 && !fl;                /* GOAWAY */
	case 8: return l == 4 && !fl;                        /* WINDOW_UPDATE */
	case 9: return sid && !(fl & ~0x04);                 /* CONTINUATION */
	default: return 0;
	}
}

/* HTTP/2 that does not begin a connection, from the first got bytes of a
 * read or write of ret bytes already copied to p (a socket not captured
 * frame by frame so far):
 *   - H2_FIRST_PREFACE when they begin with the client preface: a client's
 *     first write after its HTTP/1.1 "Upgrade: h2c" was answered with 101
 *     (and the server's read of it).  Before this, the frames of an
 *     upgraded connection were kept as its first --snaplen bytes, and the
 *     recorder could not mask the credentials in their header blocks
 *     (HPACK, Huffman-coded: the HTTP/1 redactor sees no header there);
 *   - with joined (a connection open before it was first seen, not
 *     known to be HTTP/2 yet), H2_FIRST_FRAMES when they are two
 *     plausible frame headers in a row, or one whose frame fills the read
 *     or write: HTTP/2 joined mid-connection (writers send whole frames, so
 *     a read or write begins with a frame header, but maybe not the first
 *     one seen), for the same reason.  Text (HTTP/1, whose first byte
 *     would make a length past 16384) and TLS records never pass.
 * p is the event's payload (BZ_SNAPLEN_MAX bytes at most were copied).
 * Not inlined: its own frame, not the caller's. */
#define H2_FIRST_FRAMES 3

/* One byte of the scan of h2_upgrade_head (the walk's buffer holds its
 * state: ret the bytes to scan, left the last four, keep whether "h2c"
 * came, off the head's length once its empty line came). */
static long h2_upgrade_step(__u64 i, void *unused)
{
	struct bz_ev_data *ev = scratch_buf();
	struct h2walk *w = h2_walk_buf();
	__u8 c;

	if (!ev || !w || i >= w->ret)
		return 1;
	c = ev->payload[i & (BZ_SNAPLEN_MAX - 1)];
	w->left = w->left << 8 | c;
	if (((w->left & 0xffffff) | 0x200020) == 0x683263) /* "h2c", any case: Upgrade's token */
		w->keep = 1;
	if (w->left == 0x0d0a0d0a) {
		w->off = i + 1;
		return 1;
	}
	return 0;
}

/* The length of a 101 response head ("HTTP/1.1 101 ", its empty line in
 * the got bytes copied to the scratch payload p) that says "h2c", or 0.
 * Rare (a 101 begins the read or write): a scan of up to BZ_SNAPLEN_MAX
 * bytes, one loop step each. */
static __noinline __u32 h2_upgrade_head(const __u8 *p, __u32 got)
{
	struct h2walk *w = h2_walk_buf();

	if (!w || !p || got < 16 || got > BZ_SNAPLEN_MAX || p[0] != 'H' || p[1] != 'T' || p[2] != 'T' ||
	    p[3] != 'P' || p[4] != '/' || p[5] != '1' || p[6] != '.' || p[8] != ' ' || p[9] != '1' ||
	    p[10] != '0' || p[11] != '1' || p[12] != ' ')
		return 0;
	w->ret = got;
	w->left = w->keep = w->off = 0;
	bpf_loop(BZ_SNAPLEN_MAX, h2_upgrade_step, NULL, 0);
	return w->keep && w->off ? w->off : 0;
}

static __noinline int h2_later(const __u8 *p, __u32 got, __u32 ret, __u32 joined)
{
	__u32 len, next;

	if (!p || got < H2_HDR || got > BZ_SNAPLEN_MAX)
		return 0;
	if (got >= 24 && p[0] == 'P' && p[1] == 'R' && p[2] == 'I' && p[3] == ' ' && p[4] == '*' &&
	    p[5] == ' ' && p[6] == 'H' && p[7] == 'T' && p[8] == 'T' && p[9] == 'P' && p[10] == '/' &&
	    p[11] == '2' && p[12] == '.' && p[13] == '0' && p[14] == '\r' && p[15] == '\n' &&
	    p[16] == '\r' && p[17] == '\n' && p[18] == 'S' && p[19] == 'M' && p[20] == '\r' &&
	    p[21] == '\n' && p[22] == '\r' && p[23] == '\n')
		return H2_FIRST_PREFACE;
	if (!joined || !h2_plausible(p, &len))
		return 0;
	next = H2_HDR + len;
	if (next == ret)
		return H2_FIRST_FRAMES;
	if (next + H2_HDR > got)
		return 0; /* the second header not in what was copied: not sure */
	next &= BZ_SNAPLEN_MAX - 1;
	if (next + H2_HDR > BZ_SNAPLEN_MAX)
		return 0;
	return h2_plausible(p + next, &len) ? H2_FIRST_FRAMES : 0;
}

#endif
