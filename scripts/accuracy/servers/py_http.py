"""Accuracy-harness server: python3 http.server, single-threaded (HTTPServer) or
ThreadingHTTPServer.  usage: py_http.py single|threading PORT COST_MS sleep|spin [CERT KEY]
GET /work costs COST_MS (time.sleep, or a busy loop on the clock), answers "ok\n"
with Content-Length over HTTP/1.1 keep-alive.  With CERT and KEY (PEM files) it
serves HTTPS: the listening socket is wrapped with an ssl.SSLContext, so each
accept() also makes the TLS handshake, in the serving thread, before the
request is read (OpenSSL through Python's ssl module: SSL_read_ex/SSL_write_ex)."""
import ssl, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

mode, port, cost, kind = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) / 1000, sys.argv[4]


def work():
    if kind == "spin":
        end = time.perf_counter() + cost
        while time.perf_counter() < end:
            pass
    else:
        time.sleep(cost)


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Head and body go out in two writes: with Nagle the body waits for the
    # client's delayed ACK (40 ms) after write() returned, which no server-side
    # timestamp can see.  Production servers set TCP_NODELAY; so does this one.
    disable_nagle_algorithm = True

    def do_GET(self):
        work()
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


cls = ThreadingHTTPServer if mode == "threading" else HTTPServer
cls.request_queue_size = 128  # default 5: SYNs beyond it are dropped and retried after 1 s
cls.allow_reuse_address = True
cls.daemon_threads = True
srv = cls(("127.0.0.1", port), H)
if len(sys.argv) > 6:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[5], sys.argv[6])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
