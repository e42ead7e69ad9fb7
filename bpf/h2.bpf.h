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
 * (h2_hdr).  At most BZ_RANGES_MAX pieces and BZ_H2_KEEP_MAX bytes per
 * event, and H2_FRAMES_MAX frames: past that the rest is unknown (flagged
 * BZ_RANGES_F_FULL), which the analyzer treats like bytes not captured.
 * Included once, by beyla.bpf.c, before data.bpf.h. */
#ifndef BEYLA_H2_BPF_H
#define BEYLA_H2_BPF_H

/* Frames walked per read or write: enough for BZ_H2_KEEP_MAX bytes of the
 * smallest frames (a 9-byte header each), so the bytes, not the count,
 * bound a burst (a client with 100 streams in flight writes 100 HEADERS at
 * once, a server their 100 responses, 200 frames, in one writev). */
#define H2_FRAMES_MAX 512
#define H2_SEGS 8    /* iovec entries in view at once (a window that slides along them) */
#define H2_HDR 9

/* The buffer of the read or write: its iovec entries [first, first + n)
 * in seg (their bytes begin first_off bytes into it), of total; uptr is
 * the user's iovec array (0: one buffer, seg[0]).  Node writes every
 * frame header and every DATA payload as an entry of its own: a burst of
 * 100 responses is a writev of hundreds; the walk goes forward only, so
 * the window follows it, reading the next entries when it passes them. */
struct h2io {
	struct iovec seg[H2_SEGS];
	__u64 uptr;
	__u64 first_off;
	__u32 first, n, total;
	__u32 hit;       /* h2_locate's answer: entry hit, hit_at bytes into it */
	__u64 hit_at;
};

/* x & m where the verifier sees it: the compiler would prove the mask
 * redundant from an earlier bound and drop it (see bound_len). */
#define H2_MASK(x, m) ({ __u64 __v = (x); asm volatile("%[v] &= %[k]" : [v] "+r"(__v) : [k] "i"(m)); __v; })

struct h2walk {
	struct h2io io;
	__u32 ret;   /* bytes moved */
	__u32 off;   /* where the walk is in them */
	__u32 out;   /* piece bytes written */
	__u32 nr;    /* pieces */
	__u32 left;  /* a frame going on past the end: its bytes still to come */
	__u32 keep;  /* ... and how many of those to keep */
	__u32 part;  /* a frame header cut by the end: its bytes here (kept as the last piece) */
	__u8 full;
	/* a frame header being read, and the rest of one the last read or
	 * write cut (32 bytes each: the reads' masks, H2_READ) */
	__u8 hdr[32], tmp[32];
};

/* The walk's state lives in a per-CPU buffer, not on the stack: a Go TLS
 * uprobe that calls h2_capture has little of its 512 bytes left. */
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

/* Entries [first, first + H2_SEGS) of the iovec array into the window. */
static __always_inline int h2_window(struct h2io *h, __u32 first, __u64 first_off)
{
	__u64 cnt, sz;

	if (!h->uptr || first >= h->total)
		return -1;
	cnt = h->total - first;
	if (cnt > H2_SEGS)
		cnt = H2_SEGS;
	sz = cnt * sizeof(h->seg[0]);
	asm volatile("%[n] &= 255" : [n] "+r"(sz));
	if (sz > sizeof(h->seg))
		sz = sizeof(h->seg);
	if (!sz || bpf_probe_read_user(h->seg, sz, (void *)(h->uptr + (__u64)first * sizeof(h->seg[0]))))
		return -1;
	h->first = first;
	h->n = cnt;
	h->first_off = first_off;
	return 0;
}

static __always_inline int h2_io_of(struct h2io *h, const struct io_stash *io, __u32 ret)
{
	__u64 ptr = io->ptr, cnt = io->iovcnt;

	__builtin_memset(h, 0, sizeof(*h));
	if (io->kind == IO_BUF) {
		h->seg[0].iov_base = (void *)io->ptr;
		h->seg[0].iov_len = ret;
		h->n = h->total = 1;
		return 0;
	}
	if (io->kind == IO_MSG) {
		/* msg_iov and msg_iovlen only: the whole msghdr would cost the
		 * stack 56 bytes (msg_iovlen follows msg_iov, both 8 bytes) */
		__u64 iov[2];
		_Static_assert(__builtin_offsetof(struct user_msghdr, msg_iovlen) ==
				       __builtin_offsetof(struct user_msghdr, msg_iov) + 8, "msghdr layout");
		if (bpf_probe_read_user(iov, sizeof(iov),
					(void *)(io->ptr + __builtin_offsetof(struct user_msghdr, msg_iov))))
			return -1;
		ptr = iov[0];
		cnt = iov[1];
	} else if (io->kind != IO_IOV) {
		return -1;
	}
	if (!cnt || cnt > 0xffffffffull)
		return -1;
	h->uptr = ptr;
	h->total = (__u32)cnt;
	return h2_window(h, 0, 0);
}

/* Where offset off of the read or write is, in the window: entry h->hit,
 * h->hit_at bytes into it.  Comparisons only (h2_advance moves the
 * window); the reads that follow need no loop. */
static __always_inline int h2_locate(struct h2io *h, __u32 off)
{
	__u64 o;

	if (off < h->first_off)
		return -1;
	o = off - h->first_off;
	for (int i = 0; i < H2_SEGS; i++) {
		__u64 l;

		if (i >= h->n)
			return -1;
		l = h->seg[i].iov_len;
		if (o < l) {
			h->hit = i;
			h->hit_at = o;
			return 0;
		}
		o -= l;
	}
	return -1;
}

/* Moves the window on so that offset off is in it, and not in its last
 * entry when more follow (a frame cut by an entry's end goes on in the
 * next, which must be in view too).  0 when it is, 1 when the window moved
 * past entries that end before off (call again), -1 when off is past the
 * buffer or the entries cannot be read.  One user read at most: the walk
 * calls it once a step, and a step spent moving the window reads no frame. */
static __always_inline int h2_advance(struct h2io *h, __u32 off)
{
	__u64 base = h->first_off;

	if (off < base)
		return -1;
	for (int i = 0; i < H2_SEGS; i++) {
		__u64 l;

		if (i >= h->n)
			break;
		l = h->seg[i].iov_len;
		if (off - base < l) {
			if (i > 0 && i + 1 == h->n && h->first + h->n < h->total)
				/* the last in view, more after it: it comes first */
				return h2_window(h, h->first + i, base) ? -1 : 0;
			return 0;
		}
		base += l;
	}
	if (h->first + h->n >= h->total)
		return -1;
	return h2_window(h, h->first + h->n, base) ? -1 : 1;
}

/* Copies n bytes at offset off of the read or write to dst + H2_MASK(pos):
 * from at most two entries (a frame cut by an entry's end goes on in the
 * next; more than that is given up).  mask: what bounds pos and n for the
 * verifier (BZ_H2_KEEP_MAX - 1, or 15 for a small buffer). */
#define H2_READ(h, off, dst, pos, cnt, mask) ({                                                    \
	__u64 __at, __k, __s;                                                                      \
	int __rc = -1;                                                                             \
	if (h2_locate((h), (off)) == 0 &&                                                          \
	    (__s = H2_MASK((h)->hit, 7)) < H2_SEGS) { /* (one state, not one per entry) */       \
		__at = (h)->hit_at;                                                                \
		__k = (h)->seg[__s].iov_len - __at;                                                \
		if (__k > (cnt))                                                                     \
			__k = (cnt);                                                                 \
		__rc = bpf_probe_read_user((dst) + H2_MASK((pos), mask), H2_MASK(__k, mask),       \
					   (void *)((__u64)(h)->seg[__s].iov_base + __at));        \
		if (!__rc && __k < (cnt)) {                                                          \
			__u64 __t = H2_MASK(__s + 1, 7);                                           \
			__rc = -1;                                                                 \
			if (__s + 1 < H2_SEGS && __s + 1 < (h)->n &&                               \
			    (h)->seg[__t].iov_len >= (cnt) - __k)                                    \
				__rc = bpf_probe_read_user((dst) + H2_MASK((pos) + __k, mask),     \
							   H2_MASK((cnt) - __k, mask),               \
							   (h)->seg[__t].iov_base);                \
		}                                                                                  \
	}                                                                                          \
	__rc; })

static __always_inline int h2_read_data(struct h2io *h, __u32 off, __u8 *data, __u32 pos, __u32 n)
{
	return H2_READ(h, off, data, pos, n, BZ_H2_KEEP_MAX - 1);
}

/* n <= 15 bytes at offset off into dst (32 bytes, for the masks). */
static __always_inline int h2_read_small(struct h2io *h, __u32 off, __u8 *dst, __u32 n)
{
	return H2_READ(h, off, dst, 0, n, 15);
}

/* Keeps bytes [off, off + n) as a piece (joined to the last one when they
 * touch).  0, or -1 when out of room (the walk stops: the rest is unknown). */
static __always_inline int h2_keep(struct h2walk *w, struct bz_ev_data *ev, __u32 off, __u32 n)
{
	struct bz_ev_ranges *rg = (struct bz_ev_ranges *)ev->payload;
	__u8 *data = ev->payload + sizeof(struct bz_ev_ranges);
	__u32 i = w->nr, j = i - 1;
	int join;

	if (!n)
		return 0;
	if (w->out + n > BZ_H2_KEEP_MAX - 1) {
		w->full = 1;
		return -1;
	}
	join = i && j < BZ_RANGES_MAX && rg->r[j].off + rg->r[j].len == off && rg->r[j].len + n <= 0xffff;
	if (!join && i >= BZ_RANGES_MAX) {
		w->full = 1;
		return -1;
	}
	if (h2_read_data(&w->io, off, data, w->out, n))
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
	rg->r[i].off = off;
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
	switch (h2_advance(&w->io, w->off)) {
	case 0: break;
	case 1: return 0; /* the window moved on: the frame, next step */
	default: return 1;
	}
	if (w->ret - w->off < H2_HDR) {
		/* a header the end cuts: kept, finished in the next read or write */
		w->part = w->ret - w->off;
		if (h2_keep(w, ev, w->off, w->part))
			w->part = 0;
		w->off = w->ret;
		return 1;
	}
	if (h2_read_small(&w->io, w->off, w->hdr, H2_HDR))
		return 1;
	return h2_frame(w, ev, w->hdr, 0) ? 1 : 0;
}

/* Fills ev's payload with the pieces of a read or write of ret bytes on an
 * HTTP/2 socket (skip: bytes at its start to keep as they are, the
 * preface), carrying frame state in st from and to the neighbouring reads
 * or writes of that direction.  Returns the payload length (caplen). */
static __noinline __u32 h2_capture(struct sock_state *st, const struct io_stash *io, __u32 ret, __u32 dir,
				   __u32 skip)
{
	struct bz_ev_data *ev = scratch_buf();
	struct bz_ev_ranges *rg;
	struct h2walk *w = h2_walk_buf();
	__u32 d = dir & 1;

	if (!ev || !w)
		return 0;
	rg = (struct bz_ev_ranges *)ev->payload;
	__builtin_memset(w, 0, sizeof(*w));
	/* every slot, used or not, and the padding: the buffer holds what the
	 * last record of this CPU left there (another connection's bytes, or
	 * this read's own first bytes, copied before it was known to be
	 * HTTP/2), and the head goes to disk whole */
	__builtin_memset(rg, 0, sizeof(*rg));
	if (!io || h2_io_of(&w->io, io, ret))
		return 0;
	w->ret = ret;
	/* the preface, first */
	if (skip && h2_keep(w, ev, 0, skip < ret ? skip : ret) == 0)
		w->off = skip < ret ? skip : ret;
	/* a frame header the last one cut, then a frame the last one was inside */
	if (st->h2_hdr_len[d] && st->h2_hdr_len[d] < H2_HDR) {
		__u8 *hdr = w->hdr, *tmp = w->tmp;
		__u32 had = st->h2_hdr_len[d] & 15, need = H2_HDR - had;
		st->h2_hdr_len[d] = 0;
		if (need <= ret && h2_read_small(&w->io, 0, tmp, need & 15) == 0) {
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
	if (w->off < ret && !w->full)
		bpf_loop(H2_FRAMES_MAX, h2_step, NULL, 0);
	if (w->off < ret)
		w->full = 1; /* frames left unwalked */
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
	/* (the walk's buffer: h2_capture, called next if at all, starts it afresh) */
	struct h2walk *w = h2_walk_buf();
	__u64 b[8];
	__u8 *c = (__u8 *)b;
	__u32 len;

	if (!w || !io || ret < H2_HDR || h2_io_of(&w->io, io, ret))
		return 0;
	b[0] = b[1] = b[2] = 0;
	if (ret >= 24 && H2_READ(&w->io, 0, c, 0, 24, 31) == 0 && b[0] == 0x5448202a20495250ull &&
	    b[1] == 0x0a0d302e322f5054ull && b[2] == 0x0a0d0a0d4d530a0dull)
		return H2_FIRST_PREFACE;
	if (!settings_ok || H2_READ(&w->io, 0, c, 0, H2_HDR, 31))
		return 0;
	len = (__u32)c[0] << 16 | (__u32)c[1] << 8 | c[2];
	return c[3] == 4 && c[4] == 0 && !(c[5] | c[6] | c[7] | c[8]) && len % 6 == 0 && len <= 16384
		       ? H2_FIRST_SETTINGS : 0;
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
 *   - with joined (a connection open before it was first seen, and this
 *     its first read or write seen), H2_FIRST_FRAMES when they are two
 *     plausible frame headers in a row, or one whose frame fills the read
 *     or write: HTTP/2 joined mid-connection (writers send whole frames, so
 *     a read or write begins with a frame header), for the same reason.
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
