#!/usr/bin/env python3
"""fuzz_seeds.py - writes tiny seed inputs for a libFuzzer target.

    python3 scripts/fuzz_seeds.py TARGET OUTDIR [CAPTURE...]

TARGET is the fuzz target's name (fuzz_capture_reader, fuzz_redact, ...).
Targets this script knows get inputs in their own format (see the comment at
the top of tests/fuzz/TARGET.c); any other target gets a few generic inputs.
CAPTUREs (samples/*.bz.zst; scripts/fuzz.sh passes them to targets whose
source says "fuzz-seeds: captures") are added as they are, and for
fuzz_capture_reader also decompressed behind its control byte.  Files are named seed-NAME and
written only when missing, so re-running never disturbs a grown corpus.
"""
import os
import struct
import subprocess
import sys

# --- the capture format (record/capture_format.h, bpf/beyla_events.h) ---------


def block(btype, body):
    total = len(body) + 12
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


def tlv(code, value):
    if isinstance(value, str):
        value = value.encode()
    return struct.pack("<HHI", code, 0, len(value)) + value


def ev_hdr(ts, pid, kind, size):
    return struct.pack("<QIIHHI", ts, pid, pid, kind, size, 0)


def ev_conn_open(ts, conn):
    body = struct.pack("<QQQHHHBBiI", conn, ts - 50, ts - 80, 2, 8080, 40000, 1, 0, 5, 0)
    body += bytes([127, 0, 0, 1]) + bytes(12) + bytes([127, 0, 0, 1]) + bytes(12)
    return ev_hdr(ts, 100, 4, 24 + len(body)) + body


def ev_data(ts, conn, direction, payload, ret=None):
    ret = len(payload) if ret is None else ret
    body = struct.pack("<QQQiHBB", conn, ts - 10, ts - 20, ret, len(payload), direction, 1)
    return ev_hdr(ts, 100, 7, 24 + len(body) + len(payload)) + body + payload


def ev_conn_close(ts, conn, bin_, bout):
    body = struct.pack("<QQQ", conn, bin_, bout)
    return ev_hdr(ts, 100, 6, 24 + len(body)) + body


def capture_stream():
    hdr = b"BEYLACAP" + struct.pack("<HHI", 1, 0, 0)
    hdr += tlv(1, "0.1.0") + tlv(3, "seedhost") + tlv(6, struct.pack("<I", 2))
    hdr += tlv(8, struct.pack("<Q", 1000)) + tlv(9, struct.pack("<Q", 1700000000000000000))
    hdr += tlv(10, struct.pack("<I", 512))
    probes = tlv(1, bytes([0, 1, 0, 0]) + b"accept\0attached")
    proc = struct.pack("<IIQII", 100, 1, 1000, 1, 0) + tlv(1, "/usr/bin/python3") + tlv(2, "python3\0-m\0http.server")
    req = b"GET /a?token=abc HTTP/1.1\r\nHost: h\r\nCookie: s=1\r\n\r\n"
    resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    evs = [ev_conn_open(2000, 1), ev_data(2100, 1, 0, req), ev_data(2200, 1, 1, resp),
           ev_data(2300, 1, 1, b"HTTP/1.1 200", ret=4000), ev_conn_close(2400, 1, len(req), len(resp))]
    events = struct.pack("<II", len(evs), 0) + b"".join(evs)
    stats = struct.pack("<Q", 3000) + tlv(1, struct.pack("<QQQ", 5, 0, 0) + b"accept")
    end = tlv(1, struct.pack("<Q", 3000)) + tlv(2, struct.pack("<Q", len(evs))) + tlv(4, "signal")
    return (block(1, hdr) + block(2, probes) + block(3, proc) + block(4, events)
            + block(5, stats) + block(6, end))


def seeds_capture_reader(captures):
    raw = capture_stream()
    out = {
        "one-frame": b"\x00" + raw,
        "frames-128": b"\x05" + raw,          # bits 0-1 = 1, bits 2-7 = 1: 128-byte frames
        "cut-3": b"\x0a" + raw,               # bits 0-1 = 2, cut by 3 bytes
        "bad-checksum": b"\x03" + raw,
        "header-only": b"\x00" + raw[: struct.unpack("<I", raw[4:8])[0]],
        "empty": b"\x00",
    }
    try:
        z = subprocess.run(["zstd", "-q", "-c"], input=raw, capture_output=True, check=True).stdout
        out["zstd-file"] = z
    except (OSError, subprocess.CalledProcessError):
        pass
    for path in captures:
        name = os.path.basename(path)
        with open(path, "rb") as f:
            data = f.read()
        if len(data) <= (1 << 20):
            out["sample-" + name] = data
        try:
            d = subprocess.run(["zstd", "-q", "-dc", path], capture_output=True, check=True).stdout
            if len(d) <= (1 << 20):
                out["sample-raw-" + name] = b"\x00" + d
        except (OSError, subprocess.CalledProcessError):
            pass
    return out


# --- fuzz_redact: cfg byte, then (ctl, len, payload) reads ---------------------


def rd(conn, direction, payload, kind=0, amt=0):
    out = b""
    while True:  # pieces of at most 255 bytes
        piece, payload = payload[:255], payload[255:]
        ctl = conn | (direction << 2) | (kind << 3) | (amt << 5)
        out += bytes([ctl, len(piece)]) + piece
        if not payload:
            return out


def rd_close(conn):
    return bytes([conn | (3 << 3) | (7 << 5), 0])


def seeds_redact():
    req = (b"GET /p?q=1&token=T0K&x=2 HTTP/1.1\r\nHost: h\r\nCookie: s=C00K\r\n"
           b"X-Api-Key: K3Y\r\n\r\n")
    form = (b"POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 27\r\n\r\nuser=a&password=hunter2&x=1")
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: sid=1\r\n\r\n"
               b"5\r\nhello\r\n0\r\nX-Sig-Token: t\r\n\r\n"
               b"HTTP/1.1 204 No Content\r\nSet-Cookie: a=b\r\n\r\n")
    body = b'{"user":"a","password":"p\\"w","keys":[{"api_key":"k"}],"n":1}'
    json_req = (b"POST /api HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                % len(body)) + body
    out = {"json": bytes([1]) + rd(0, 0, json_req[:70]) + rd(0, 0, json_req[70:]),
           "json-chunked": bytes([0]) + rd(0, 1, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                                 b"Transfer-Encoding: chunked\r\n\r\n"
                                                 b"e\r\n{\"token\":\"ab\\u00\r\n3\r\n41\"\r\n1\r\n}\r\n0\r\n\r\n")}
    # exact mode, split at a few places (split invariance is checked)
    for cfg in (1, 5):
        s = bytes([cfg])
        for i, cut in enumerate((5, 40, 61)):
            s += rd(i % 4, 0, req[:cut]) + rd(i % 4, 0, req[cut:])
        s += rd(0, 0, form[:90]) + rd(0, 0, form[90:])
        s += rd(1, 1, chunked[:50]) + rd(1, 1, chunked[50:]) + rd_close(1)
        out["exact-%d" % cfg] = s
    # default mode, uncaptured bytes and a full table
    for cfg in (0, 2, 6):
        s = bytes([cfg])
        s += rd(0, 0, req[:30], kind=1, amt=3) + rd(0, 0, req[40:])
        s += rd(1, 0, form[:100], kind=2, amt=0) + rd(1, 0, b"GET / HTTP/1.1\r\n\r\n")
        for c in range(4):
            s += rd(c, 0, b"GET / HTTP/1.1\r\nCook")
        for c in range(4):
            s += rd(c, 0, b"ie: secret\r\n\r\n")
        s += rd(2, 1, chunked) + rd(3, 0, b"\x00\x01binary\r\n", kind=3, amt=0)
        out["gaps-%d" % cfg] = s
    # values that come back (redact_echo): a token from the query in the
    # Location and the body of the response, cut across two writes; a
    # cookie's value and a bearer token echoed; a form value decoded
    tok = b"T0kenValue77"
    echo_req = (b"GET /go?token=" + tok + b" HTTP/1.1\r\nCookie: a=1; sid=S3ss10nId\r\n"
                b"Authorization: Bearer Be4rerTok.en\r\n\r\n")
    echo_body = b"<p>" + tok + b" S3ss10nId Be4rerTok.en p@ss/w0rd " + tok + b"</p>"
    echo_resp = (b"HTTP/1.1 302 Found\r\nLocation: /login?next=%2Fgo%3Ftoken%3D" + tok +
                 b"\r\nContent-Length: %d\r\n\r\n" % len(echo_body)) + echo_body
    echo_form = (b"POST /l HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 b"Content-Length: 22\r\n\r\npassword=p%40ss%2Fw0rd")
    for cfg in (0, 4):
        cut = len(echo_resp) - 20
        out["echo-%d" % cfg] = (bytes([cfg]) + rd(0, 0, echo_req) + rd(0, 0, echo_form) +
                                rd(0, 1, echo_resp[:cut]) + rd(0, 1, echo_resp[cut:]) +
                                rd(1, 1, echo_resp) + rd_close(0))
    return out


# --- fuzz_goelf: mode byte, then a .gopclntab, code, or a whole ELF file -------


def elf_sections(data):
    """{name: (addr, offset, bytes)} of an ELF64 little-endian file."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = hdrs[shstrndx]
    names = data[strtab[4]:strtab[4] + strtab[5]]
    out = {}
    for h in hdrs:
        name = names[h[0]:names.index(b"\0", h[0])].decode()
        out[name] = (h[3], h[4], data[h[4]:h[4] + h[5]] if h[1] != 8 else b"")
    return out


def mini_elf(sections):
    """An ELF64 x86-64 executable holding only the given (name, addr, bytes)
    sections and one PT_LOAD over them: what the inspector reads of a Go
    binary, small enough to mutate."""
    shstr = b"\0" + b"".join(n.encode() + b"\0" for n, _, _ in sections) + b".shstrtab\0"
    body, offs, off = b"", [], 0x1000
    for _, _, d in sections:
        offs.append(off + len(body))
        body += d + b"\0" * (-len(d) % 16)
    shstr_off = off + len(body)
    body += shstr + b"\0" * (-len(shstr) % 8)
    shoff = off + len(body)
    base = min(a for _, a, _ in sections) & ~0xFFF
    eh = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    eh += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, base, 64, shoff, 0, 64, 56, 1, 64,
                      len(sections) + 2, len(sections) + 1)
    ph = struct.pack("<IIQQQQQQ", 1, 5, 0, base - 0x1000, base - 0x1000, shoff, shoff, 0x1000)
    head = (eh + ph).ljust(0x1000, b"\0")
    sh = bytes(64)
    pos = 1
    for (n, a, d), o in zip(sections, offs):
        flags = 6 if n == ".text" else 2
        sh += struct.pack("<IIQQQQIIQQ", pos, 1, flags, a, o, len(d), 0, 0, 16, 0)
        pos += len(n) + 1
    sh += struct.pack("<IIQQQQIIQQ", pos, 3, 0, 0, shstr_off, len(shstr), 0, 0, 1, 0)
    return head + body + sh


def seeds_goelf():
    out = {"pclntab-empty": b"\x00", "code-ret": b"\x01\x55\x48\x89\xe5\xc3",
           "code-goprologue": b"\x01\x49\x3b\x66\x10\x76\x10\x55\x48\x89\xe5\xc3" + b"\xcc" * 16}
    try:
        with open("/bin/true", "rb") as f:
            out["file-not-go"] = b"\x02" + f.read()
    except OSError:
        pass
    gobin = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "go")
    for name in ("goserver-go1.19-stripped", "goserver-go1.26-stripped"):
        try:
            with open(os.path.join(gobin, name), "rb") as f:
                data = f.read()
            sec = elf_sections(data)
        except (OSError, struct.error, ValueError, IndexError):
            continue  # not built yet: the generic seeds still run
        pcln, text, info = sec.get(".gopclntab"), sec.get(".text"), sec.get(".go.buildinfo")
        if pcln:
            out["pclntab-head-" + name] = b"\x00" + pcln[2][:65536]
        if text:
            out["code-" + name] = b"\x01" + text[2][0x2000:0x2800]
        if pcln and text and info:
            out["file-mini-" + name] = b"\x02" + mini_elf([(".text", text[0], text[2][:0x8000]),
                                                            (".gopclntab", pcln[0], pcln[2][:0x20000]),
                                                            (".go.buildinfo", info[0], info[2])])
    return out


# --- fuzz_detect: a split byte, then both directions' first bytes -------------


def seeds_detect():
    hello = bytes.fromhex("160301020001 0001fc0303 60a8bf6eb9677852".replace(" ", ""))
    server = bytes.fromhex("160303006c 0200006803 032fa0c024".replace(" ", ""))
    lib = lambda lib, src, flags, path: bytes([4 + len(path), lib, src, flags, 0]) + path
    libs = lib(1, 1, 0, b"/usr/lib/x86_64-linux-gnu/libssl.so.3") + lib(3, 1, 0, b"/usr/lib/libgnutls.so.30")
    return {
        "tls-hellos": bytes([128]) + hello + server,
        "tls-header": bytes([255]) + b"\x16\x03\x03\x00\x6c",
        "h2-preface": bytes([255]) + b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04",
        "binary": bytes([100]) + b"\x00\x00\x00\x08\x04\xd2\x16\x2f\x4a\x00\x00\x00\x0a",
        "text-utf8": bytes([128]) + "EHLO h\u00e9llo\r\n220 ok \u20ac\r\n".encode(),
        "libs": bytes([0]) + libs + lib(7, 3, 1, b"/srv/api") + bytes([4, 0, 0, 0, 0]),
    }


# --- fuzz_tlslibs: mode byte, then maps text, a file name or an ELF file ------


def seeds_tlslibs():
    maps = (b"55d0c0a00000-55d0c0a2c000 r--p 00000000 08:01 1311 /usr/sbin/nginx\n"
            b"7f1c0d400000-7f1c0d4a0000 r--p 00000000 08:01 2002 /usr/lib/libgnutls.so.30.34.3\n"
            b"7f1c0e600000-7f1c0e620000 r--p 00000000 08:01 2004 /usr/lib/x86_64-linux-gnu/libssl.so.3\n"
            b"7ffd1c000000-7ffd1c021000 rw-p 00000000 00:00 0 [stack]\n"
            b"7f1c0e700000-7f1c0e701000 r--p 00000000 08:01 2005 /opt/lib/libnss3.so (deleted)")
    out = {"maps": b"\x00" + maps, "name-ssl": b"\x01libssl.so.3", "name-nss": b"\x01libssl3.so"}
    # small shared objects exporting a TLS API, as a statically linked copy does
    srcs = {
        "openssl": "int SSL_read(void *s, void *b, int n) { return n; }\n"
                   "int SSL_write(void *s, const void *b, int n) { return n; }\n",
        "gnutls": "long gnutls_record_recv(void *s, void *b, unsigned long n) { return 0; }\n",
    }
    tmp = "/tmp/fuzz_seeds_tlslibs.%d" % os.getpid()
    for name, src in srcs.items():
        try:
            with open(tmp + ".c", "w") as f:
                f.write(src)
            subprocess.run([os.environ.get("CC", "cc"), "-shared", "-fPIC", "-s", "-o", tmp + ".so", tmp + ".c"],
                           check=True, capture_output=True)
            with open(tmp + ".so", "rb") as f:
                out["elf-" + name] = b"\x02" + f.read()
        except (OSError, subprocess.CalledProcessError):
            pass  # no compiler: the other seeds still run
        finally:
            for ext in (".c", ".so"):
                try:
                    os.unlink(tmp + ext)
                except OSError:
                    pass
    return out


# --- fuzz_hpack: max byte, then (ctl, len, block) records -----------------------

RFC7541_C = {  # Appendix C: (initial max index in fuzz_hpack's MAXES, blocks)
    "c2": (5, ["400a637573746f6d2d6b65790d637573746f6d2d686561646572", "040c2f73616d706c652f70617468",
               "100870617373776f726406736563726574", "82"]),
    "c3": (5, ["828684410f7777772e6578616d706c652e636f6d", "828684be58086e6f2d6361636865",
               "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"]),
    "c4": (5, ["828684418cf1e3c2e5f23a6ba0ab90f4ff", "828684be5886a8eb10649cbf",
               "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"]),
    "c5": (4, ["4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d54"
               "6e1768747470733a2f2f7777772e6578616d706c652e636f6d", "4803333037c1c0bf",
               "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f"
               "6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b"
               "2076657273696f6e3d31"]),
    "c6": (4, ["488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c7"
               "8f0b97c8e9ae82ae43d3", "4883640effc1c0bf",
               "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335"
               "dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007"]),
}


def hp_block(b):
    return bytes([(len(b) >> 8) << 2, len(b) & 0xFF]) + b


def seeds_hpack():
    out = {}
    for name, (mx, blocks) in RFC7541_C.items():
        out["rfc-" + name] = bytes([mx]) + b"".join(hp_block(bytes.fromhex(b)) for b in blocks)
    c5 = [bytes.fromhex(b) for b in RFC7541_C["c5"][1]]
    # size updates: down to 0 and back, a lowered SETTINGS, one above the max
    out["size-updates"] = (bytes([5]) + hp_block(c5[0]) + hp_block(b"\x20\x3f\xe1\x1f" + c5[1])
                           + bytes([3 | (4 << 2)]) + hp_block(b"\x3f\xe1\x01" + c5[1]) + hp_block(c5[2]))
    out["lost"] = bytes([5]) + hp_block(c5[0]) + bytes([0xFF]) + hp_block(c5[1])
    out["bad-eos"] = bytes([5]) + hp_block(bytes.fromhex("00016184ffffffff")) + hp_block(b"\x82")
    return out


# --- fuzz_http2: config byte, then (ctl, len, bytes) reads ------------------------

def h2_frame(ftype, flags, sid, payload):
    n = len(payload)
    return bytes([n >> 16 & 0xFF, n >> 8 & 0xFF, n & 0xFF, ftype, flags]) + sid.to_bytes(4, "big") + payload


def h2_read(direction, data, gap=0):
    """One fuzz_http2 read of at most 255 bytes per record (split if longer)."""
    out = b""
    while data:
        chunk, data = data[:255], data[255:]
        out += bytes([direction, len(chunk)]) + chunk
    return out


def seeds_http2():
    c3 = [bytes.fromhex(b) for b in RFC7541_C["c3"][1]]
    c5 = [bytes.fromhex(b) for b in RFC7541_C["c5"][1]]
    settings = h2_frame(4, 0, 0, b"\x00\x01\x00\x00\x10\x00\x00\x03\x00\x00\x00\x64")
    ack = h2_frame(4, 1, 0, b"")
    grpc_msg = b"\x00\x00\x00\x00\x03abc"
    out = {}
    # a server (requests IN), the preface fed first: three requests, responses, DATA
    client = settings + ack + b"".join(h2_frame(1, 0x05 if i != 2 else 0x04, 2 * i + 1, b) for i, b in enumerate(c3))
    client += h2_frame(0, 0x01, 5, b"hello")
    server = settings + ack + b"".join(h2_frame(1, 0x04, 2 * i + 1, b) for i, b in enumerate(c5))
    server += h2_frame(0, 0x01, 1, b"ok") + h2_frame(0, 0x01, 3, b"ok") + h2_frame(3, 0, 5, b"\x00\x00\x00\x08")
    out["server-rfc"] = bytes([0x14]) + h2_read(0, client) + h2_read(1, server)
    # gRPC-looking stream, padded DATA, CONTINUATION, GOAWAY
    hdr = bytes.fromhex("8386") + b"\x44\x0a/pkg.S/Get" + b"\x5f\x10application/grpc"
    cli = settings + h2_frame(1, 0x00, 1, hdr[:6]) + h2_frame(9, 0x04, 1, hdr[6:])
    cli += h2_frame(0, 0x09, 1, b"\x02" + grpc_msg + b"\x00\x00")
    srv = h2_frame(1, 0x04, 1, b"\x88" + b"\x5f\x10application/grpc") + h2_frame(0, 0, 1, grpc_msg)
    srv += h2_frame(1, 0x05, 1, b"\x40\x0bgrpc-status\x0213") + h2_frame(7, 0, 0, b"\x00" * 8)
    out["grpc"] = bytes([0x14]) + h2_read(0, cli) + h2_read(1, srv)
    # joined mid-stream, unknown direction, a read with a gap
    out["mid"] = bytes([0x03]) + bytes([0x05 | (3 << 3), len(server[:200])]) + server[:200] + h2_read(0, client)
    return out


# --- fuzz_redact_h2: mode byte, then (ctl, vlen, value) fields ---------------------

def seeds_redact_h2():
    def fld(name_idx, repr_, value, echo=False):
        return bytes([name_idx | repr_ << 4 | (0x40 if echo else 0), len(value)]) + value
    end = bytes([0x30, 0])
    req = (fld(1, 0, b"GET") + fld(0, 0, b"/a?access_token=T0KSECRET&x=1") + fld(2, 0, b"shop")
           + fld(3, 0, b"Bearer BEARERSECRET") + fld(4, 2, b"session=C00KIESECRET") + fld(5, 1, b"APIKEY12345"))
    req2 = fld(1, 0, b"GET") + fld(3, 0, b"Bearer BEARERSECRET") + fld(8, 1, b"", echo=True)
    body = req + end + req2 + end + fld(6, 0, b"curl/8") + end
    cuts = bytes([0, 30, 0, 90, 0, 140])
    return {"huffman-cut": bytes([3]) + body + cuts, "raw": bytes([0]) + body,
            "raw-bytes": bytes([6]) + h2_frame(4, 0, 0, b"") + h2_frame(1, 0x05, 1, bytes.fromhex("828684418cf1e3c2e5f23a6ba0ab90f4ff"))}


def seeds_generic(captures):
    out = {
        "empty": b"",
        "zero": b"\x00",
        "http": b"\x00\x00\x12GET / HTTP/1.1\r\n\r\n\x01\x13HTTP/1.1 200 OK\r\n\r\n",
    }
    for path in captures:  # a target that asked for captures reads them as they are
        with open(path, "rb") as f:
            data = f.read()
        if len(data) <= (1 << 20):
            out["sample-" + os.path.basename(path)] = data
    return out


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    target, outdir, captures = sys.argv[1], sys.argv[2], sys.argv[3:]
    if target == "fuzz_capture_reader":
        seeds = seeds_capture_reader(captures)
    elif target == "fuzz_redact":
        seeds = seeds_redact()
    elif target == "fuzz_goelf":
        seeds = seeds_goelf()
    elif target == "fuzz_detect":
        seeds = seeds_detect()
    elif target == "fuzz_tlslibs":
        seeds = seeds_tlslibs()
    elif target == "fuzz_hpack":
        seeds = seeds_hpack()
    elif target == "fuzz_http2":
        seeds = seeds_http2()
    elif target == "fuzz_redact_h2":
        seeds = seeds_redact_h2()
    else:
        seeds = seeds_generic(captures)
    os.makedirs(outdir, exist_ok=True)
    n = 0
    for name, data in seeds.items():
        path = os.path.join(outdir, "seed-" + name)
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
            n += 1
    print(n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
