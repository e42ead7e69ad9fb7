"""Accuracy-harness server: python3 http.server, single-threaded (HTTPServer),
ThreadingHTTPServer, or forking (socketserver.ForkingMixIn: a child process per
connection).  usage: py_http.py single|threading|fork PORT COST_MS sleep|spin|cpu [CERT KEY]
GET /work costs COST_MS (time.sleep; spin: a busy loop on the wall clock; cpu:
a busy loop until the thread has used COST_MS of CPU time, time.thread_time,
however long it waits for a CPU), answers "ok\n" with Content-Length over
HTTP/1.1 keep-alive.  With cpu the response carries X-Handler-Cpu-Ns: the CPU
time the handler's thread used in do_GET up to the response head (the busy
loop and the loop's clock reads), which loadgen writes to its CSV.  With CERT
and KEY (PEM files) it serves HTTPS: the listening socket is wrapped with an
ssl.SSLContext, so each accept() also makes the TLS handshake, in the serving
thread, before the request is read (OpenSSL through Python's ssl module:
SSL_read_ex/SSL_write_ex).  TCP_NODELAY is set unless ACC_NAGLE=1 (the head
and the body are two writes: with Nagle the body waits in the send queue, after
its write returned, for the client's ACK of the head, which the client's
delayed-ACK timer holds up to 40 ms)."""
import handler_cost
import os, socketserver, ssl, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

mode, port, cost, kind = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) / 1000, sys.argv[4]


def work():
    handler_cost.burn(kind, cost)


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Head and body go out in two writes: with Nagle the body waits for the
    # client's delayed ACK (40 ms) after write() returned, which no server-side
    # timestamp can see.  Production servers set TCP_NODELAY; so does this one.
    # ACC_NAGLE=1 leaves Nagle on, as a stock http.server does (issue 20's
    # reproduction: a forking http.server with its defaults).
    disable_nagle_algorithm = os.environ.get("ACC_NAGLE", "0") != "1"

    def do_GET(self):
        t0 = time.thread_time_ns()
        work()
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if kind == "cpu":
            self.send_header("X-Handler-Cpu-Ns", str(time.thread_time_ns() - t0))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class ForkingHTTPServer(socketserver.ForkingMixIn, HTTPServer):
    max_children = 64  # (the default, 40, is plenty too: 8 keep-alive clients, 8 children)


cls = {"threading": ThreadingHTTPServer, "fork": ForkingHTTPServer}.get(mode, HTTPServer)
cls.request_queue_size = 128  # default 5: SYNs beyond it are dropped and retried after 1 s
cls.allow_reuse_address = True
cls.daemon_threads = True
srv = cls(("127.0.0.1", port), H)
if len(sys.argv) > 6:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[5], sys.argv[6])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
