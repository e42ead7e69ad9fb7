#!/usr/bin/env python3
"""mix_client.py - send a known mix of HTTP/1.1 requests to a test server and
print, as JSON, exactly what was sent and what came back.

    mix_client.py PORT [--skip chunked] [--host 127.0.0.1] [--only PHASE,...]

Raw sockets only (no HTTP library), so that every byte on the wire is known:
sizes are counted as the analyzer counts them (a body is every byte after the
head, chunk framing included).  The mix, in order (phases):
  keepalive  one connection, several requests: GET/HEAD/POST, 200/404/500, chunked
  new        three requests, each on a new connection the client closes
  pipelined  one connection, three requests in one write(), then the three responses
  split      TCP_NODELAY, a GET in three writes and a POST in four, with small sleeps
  large      a 100 KB upload and a 200 KB response
A server that answers "Connection: close" (gunicorn's sync workers) makes the
client reconnect for its next request; pipelined requests that got no answer
before such a close are reported with "status": null.

Output: a JSON list, one object per request, in the order sent:
  {"seq", "phase", "conn" (client's connection number), "method", "path",
   "status" (null: no response), "req_body", "resp_body", "chunked"}
"""
import argparse
import json
import socket
import sys
import time

HOST = "127.0.0.1"


class Conn:
    n = 0

    def __init__(self, port, nodelay=False):
        Conn.n += 1
        self.id = Conn.n
        self.s = socket.create_connection((HOST, port), timeout=10)
        if nodelay:
            self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.closed_by_server = False

    def _fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError
        self.buf += d

    def read_response(self, method):
        """-> (status, wire body size, chunked, server closes after it)"""
        while True:
            while b"\r\n\r\n" not in self.buf:
                self._fill()
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            version, status = lines[0].split(" ", 2)[:2]
            status = int(status)
            if 100 <= status < 200:
                continue  # interim
            break
        hdr = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            hdr[k.strip().lower()] = v.strip()
        close = hdr.get("connection", "").lower() == "close" or (
            version == "HTTP/1.0" and hdr.get("connection", "").lower() != "keep-alive")
        chunked = "chunked" in hdr.get("transfer-encoding", "").lower()
        size = 0
        if method == "HEAD" or status in (204, 304):
            pass
        elif chunked:
            while True:
                while b"\r\n" not in self.buf:
                    self._fill()
                line, rest = self.buf.split(b"\r\n", 1)
                n = int(line.split(b";")[0], 16)
                size += len(line) + 2
                self.buf = rest
                if n == 0:  # trailers, then an empty line
                    while True:
                        while b"\r\n" not in self.buf:
                            self._fill()
                        t, self.buf = self.buf.split(b"\r\n", 1)
                        size += len(t) + 2
                        if not t:
                            break
                    break
                while len(self.buf) < n + 2:
                    self._fill()
                size += n + 2
                self.buf = self.buf[n + 2:]
        elif "content-length" in hdr:
            n = int(hdr["content-length"])
            while len(self.buf) < n:
                self._fill()
            size = n
            self.buf = self.buf[n:]
        else:  # to the close
            try:
                while True:
                    self._fill()
            except EOFError:
                pass
            size = len(self.buf)
            self.buf = b""
            close = True
        if close:
            self.closed_by_server = True
        return status, size, chunked, close

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def request_bytes(method, path, body=b"", port=0):
    h = "%s %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: beyla-mix-client/1\r\nAccept: */*\r\n" % (
        method, path, HOST, port)
    if method == "POST":
        h += "Content-Type: application/octet-stream\r\nContent-Length: %d\r\n" % len(body)
    return (h + "\r\n").encode() + body


class Mix:
    def __init__(self, port, skip):
        self.port = port
        self.skip = skip
        self.out = []
        self.conn = None

    def record(self, phase, conn, method, path, body, resp):
        status, size, chunked = resp if resp else (None, None, None)
        self.out.append({"seq": len(self.out) + 1, "phase": phase, "conn": conn.id, "method": method,
                         "path": path, "status": status, "req_body": len(body),
                         "resp_body": size, "chunked": chunked})

    def keepalive(self, phase, method, path, body=b"", writes=None, delay=0.0, nodelay=False):
        """One request on the current keep-alive connection (a new one if the
        server closed the last).  writes: split the request at these offsets."""
        if self.conn is None or self.conn.closed_by_server:
            if self.conn:
                self.conn.close()
            self.conn = Conn(self.port, nodelay)
        data = request_bytes(method, path, body, self.port)
        cuts = [0] + (writes or []) + [len(data)]
        for i in range(len(cuts) - 1):
            self.conn.s.sendall(data[cuts[i]:cuts[i + 1]])
            if delay and i < len(cuts) - 2:
                time.sleep(delay)
        status, size, chunked, _ = self.conn.read_response(method)
        self.record(phase, self.conn, method, path, body, (status, size, chunked))

    def end_conn(self):
        if self.conn:
            self.conn.close()
            self.conn = None
        time.sleep(0.02)

    def run(self, phases):
        if "keepalive" in phases:
            for method, path, body in [("GET", "/ok", b""), ("GET", "/users/1", b""),
                                       ("GET", "/users/42", b""), ("GET", "/missing", b""),
                                       ("GET", "/error", b""), ("HEAD", "/ok", b""),
                                       ("GET", "/chunked", b""), ("POST", "/upload", b"0123456789abcdef\n"),
                                       ("GET", "/ok?user=alice&token=t0p", b"")]:
                if path == "/chunked" and "chunked" in self.skip:
                    continue
                self.keepalive("keepalive", method, path, body)
            self.end_conn()
        if "new" in phases:
            for method, path, body in [("GET", "/users/100", b""), ("GET", "/ok", b""),
                                       ("POST", "/upload", b"x" * 300)]:
                self.keepalive("new", method, path, body)
                self.end_conn()
        if "pipelined" in phases:
            c = Conn(self.port)
            reqs = [("GET", "/ok"), ("GET", "/users/7"), ("GET", "/missing")]
            c.s.sendall(b"".join(request_bytes(m, p, b"", self.port) for m, p in reqs))
            for m, p in reqs:
                resp = None
                if not c.closed_by_server:
                    try:
                        resp = c.read_response(m)[:3]
                    except (EOFError, ConnectionError, socket.timeout):
                        c.closed_by_server = True
                self.record("pipelined", c, m, p, b"", resp)
            c.close()
            time.sleep(0.02)
        if "split" in phases:
            self.keepalive("split", "GET", "/users/9", writes=[5, 16], delay=0.03, nodelay=True)
            body = b"s" * 1000
            req = request_bytes("POST", "/upload", body, self.port)
            head = len(req) - len(body)
            self.keepalive("split", "POST", "/upload", body, writes=[20, head, head + 400], delay=0.03,
                           nodelay=True)
            self.end_conn()
        if "large" in phases:
            self.keepalive("large", "POST", "/upload", bytes(range(256)) * 400)  # 102400 bytes
            self.keepalive("large", "GET", "/large")
            self.end_conn()
        return self.out


def main():
    global HOST
    ap = argparse.ArgumentParser(description="send a known HTTP mix, print what happened as JSON")
    ap.add_argument("port", type=int)
    ap.add_argument("--host", default=HOST)
    ap.add_argument("--skip", default="", help="comma list of routes to leave out (chunked)")
    ap.add_argument("--only", default="keepalive,new,pipelined,split,large", help="comma list of phases")
    a = ap.parse_args()
    HOST = a.host
    out = Mix(a.port, set(filter(None, a.skip.split(",")))).run(a.only.split(","))
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
