#!/usr/bin/env python3
"""http_server.py - the test route set on Python's http.server (stdlib only).

    http_server.py PORT [--upstream PORT]

Listens on 127.0.0.1:PORT, one thread per connection, HTTP/1.1 keep-alive.
Routes (the same on every server in tests/servers/):
    GET  /ok          200 "ok\\n"                 (HEAD /ok: the same head, no body)
    GET  /users/<n>   200 JSON {"id": n, "name": "user-n"}
    GET  /missing     404 "missing\\n"
    GET  /error       500 "error\\n"
    GET  /chunked     200, Transfer-Encoding: chunked, 6 chunks of 512 bytes
    GET  /large       200, 200000 bytes, Content-Length
    POST /upload      reads the body, 201 "received <length>\\n"
With --upstream PORT, also:
    GET  /call        calls 127.0.0.1:PORT (GET /users/5, then GET /missing, each on
                      a new connection, from the handler's thread), 200 with both statuses
"""
import http.client
import http.server
import re
import sys

CHUNK = b"c" * 512
LARGE = b"L" * 200000
UPSTREAM = None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "beyla-test-http-server"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet
        pass

    def _send(self, code, body, ctype="text/plain", head_only=False):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def _route(self, head_only):
        path = self.path.split("?", 1)[0]
        m = re.fullmatch(r"/users/(\d+)", path)
        if path == "/ok":
            self._send(200, b"ok\n", head_only=head_only)
        elif m:
            n = int(m.group(1))
            self._send(200, ('{"id": %d, "name": "user-%d"}' % (n, n)).encode(), "application/json", head_only)
        elif path == "/missing":
            self._send(404, b"missing\n", head_only=head_only)
        elif path == "/error":
            self._send(500, b"error\n", head_only=head_only)
        elif path == "/large":
            self._send(200, LARGE, "application/octet-stream", head_only)
        elif path == "/chunked" and not head_only:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(6):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/call" and UPSTREAM:
            codes = []
            for target in ("/users/5", "/missing"):
                c = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=5)
                c.request("GET", target)
                r = c.getresponse()
                r.read()
                codes.append(str(r.status))
                c.close()
            self._send(200, ("upstream said %s\n" % " ".join(codes)).encode(), head_only=head_only)
        else:
            self._send(404, b"no such route\n", head_only=head_only)

    def do_GET(self):
        self._route(False)

    def do_HEAD(self):
        self._route(True)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        left = n
        while left > 0:
            got = self.rfile.read(min(left, 65536))
            if not got:
                break
            left -= len(got)
        if self.path.split("?", 1)[0] == "/upload":
            self._send(201, ("received %d\n" % (n - left)).encode())
        else:
            self._send(404, b"no such route\n")


def main():
    global UPSTREAM
    args = sys.argv[1:]
    if "--upstream" in args:
        i = args.index("--upstream")
        UPSTREAM = int(args[i + 1])
        del args[i:i + 2]
    port = int(args[0])
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()
