#!/usr/bin/env python3
"""hpack_python.py - Python's hpack package (PyPI) as the reference for
beyla's HPACK decoder; used by tests/e2e/hpack_python.sh.

    hpack_python.py gen SEED NBLOCKS OUT   random header lists encoded over one
                                           Encoder context, as records (below)
    hpack_python.py decode [-l] FILE       decodes FILE over one Decoder context and
                                           prints what tests/tools/hpack_dump prints

Records: b'B' + 32-bit little-endian length + a header block, or b'S' + 32-bit
little-endian value: the decoder's SETTINGS_HEADER_TABLE_SIZE changed (the
encoder then moves its table size within it, which it signals by size updates
at the start of its next block, sometimes two: down, then up).

The header lists mix what a real encoder meets: fields of the static table,
fields repeated from earlier lists (indexed from the dynamic table), names
from either table with new values, new names, sensitive fields (never
indexed), fields sent without indexing, values of every octet, long values
that evict half the table, blocks with and without Huffman coding.
"""
import random
import struct
import sys

from hpack import Decoder, Encoder
from hpack.hpack import INDEX_NONE

NAMES = [b":method", b":path", b":authority", b":scheme", b":status", b"accept", b"accept-encoding",
         b"accept-language", b"cache-control", b"content-type", b"content-length", b"cookie",
         b"set-cookie", b"authorization", b"user-agent", b"referer", b"date", b"etag", b"location",
         b"x-request-id", b"x-api-key", b"x-forwarded-for", b"grpc-status", b"te", b"server"]
STATIC_VALUES = [(b":method", b"GET"), (b":method", b"POST"), (b":path", b"/"), (b":scheme", b"https"),
                 (b":status", b"200"), (b":status", b"404"), (b"accept-encoding", b"gzip, deflate")]
TABLE_SIZES = [0, 1, 32, 64, 100, 256, 1024, 4096, 8192, 65536]


def rand_value(r):
    k = r.random()
    if k < 0.45:
        return bytes(r.choice(b"abcdefghijklmnopqrstuvwxyz0123456789-_./=;, ") for _ in range(r.randrange(0, 40)))
    if k < 0.65:
        return bytes(r.randrange(0x20, 0x7f) for _ in range(r.randrange(0, 120)))
    if k < 0.85:
        return bytes(r.randrange(0, 256) for _ in range(r.randrange(0, 60)))
    if k < 0.97:
        return str(r.randrange(0, 10 ** r.randrange(1, 12))).encode()
    return bytes(r.randrange(0x20, 0x7f) for _ in range(r.randrange(500, 3000)))


def rand_name(r):
    if r.random() < 0.8:
        return r.choice(NAMES)
    if r.random() < 0.8:
        return bytes(r.choice(b"abcdefghijklmnopqrstuvwxyz-") for _ in range(r.randrange(1, 30)))
    return bytes(r.randrange(0, 256) for _ in range(r.randrange(0, 20)))


def without_indexing(enc, name, value, huffman):
    """6.2.2, which Encoder.encode never chooses: built from its own parts."""
    match = enc.header_table.search(name, value)
    if match is not None:
        return enc._encode_indexed_literal(match[0], value, INDEX_NONE, huffman)
    return enc._encode_literal(name, value, INDEX_NONE, huffman)


def set_table_size(enc, size):
    """Encoder.header_table_size = size, only if it changes: assigning the
    value it already has clears the flag that makes the next block carry
    the size updates, even those of an earlier assignment (hpack 4.2: size
    X then X again, and the update to X is never sent)."""
    if size != enc.header_table_size:
        enc.header_table_size = size


def gen(seed, nblocks, out):
    r = random.Random(seed)
    enc = Encoder()
    seen = list(STATIC_VALUES)
    with open(out, "wb") as f:
        for _ in range(nblocks):
            if r.random() < 0.03:
                settings = r.choice(TABLE_SIZES)
                f.write(b"S" + struct.pack("<I", settings))
                if r.random() < 0.3 and settings > 0:
                    set_table_size(enc, r.randrange(0, settings))  # down, then up, in one block
                set_table_size(enc, r.choice([s for s in TABLE_SIZES if s <= settings] + [settings]))
            huffman = r.random() < 0.5
            block = b""
            for _ in range(r.randrange(0, 16)):
                k = r.random()
                if k < 0.35:
                    name, value = r.choice(seen)
                elif k < 0.55:
                    name, value = r.choice(seen)[0], rand_value(r)
                else:
                    name, value = rand_name(r), rand_value(r)
                if len(seen) < 400:
                    seen.append((name, value))
                else:
                    seen[r.randrange(len(seen))] = (name, value)
                k = r.random()
                if k < 0.1:
                    block += enc.encode([(name, value, True)], huffman=huffman)
                elif k < 0.2:
                    block += enc.encode([], huffman=huffman) + without_indexing(enc, name, value, huffman)
                else:
                    block += enc.encode([(name, value)], huffman=huffman)
            block = enc.encode([], huffman=huffman) + block if not block else block
            f.write(b"B" + struct.pack("<I", len(block)) + block)


def esc(b):
    return "".join(chr(c) if 0x20 <= c <= 0x7E and c != 0x5C else "\\x%02x" % c for c in b)


def decode(path, lengths):
    dec = Decoder(max_header_list_size=1 << 30)
    data = open(path, "rb").read()
    pos, failed = 0, None
    out = sys.stdout
    while pos + 5 <= len(data):
        kind, n = data[pos:pos + 1], struct.unpack_from("<I", data, pos + 1)[0]
        pos += 5
        if kind == b"S":
            dec.max_allowed_table_size = n
            continue
        block = data[pos:pos + n]
        pos += n
        if failed is None:
            try:
                for h in dec.decode(block, raw=True):
                    value = str(len(h[1])) if lengths else esc(h[1])
                    out.write("%s\t%s\t%s\n" % (esc(h[0]), value, "-" if h.indexable else "N"))
            except Exception as e:  # noqa: BLE001 - any refusal is a finding
                failed = "python: %s: %s" % (type(e).__name__, e)
        if failed is None:
            out.write("size %d\n" % dec.header_table._current_size)
        else:
            out.write("error %s\n" % failed)


def main(argv):
    if len(argv) == 5 and argv[1] == "gen":
        gen(int(argv[2]), int(argv[3]), argv[4])
        return 0
    if len(argv) in (3, 4) and argv[1] == "decode":
        decode(argv[-1], argv[2] == "-l")
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
