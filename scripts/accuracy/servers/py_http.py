"""Accuracy-harness server: python3 http.server, single-threaded (HTTPServer) or
ThreadingHTTPServer.  usage: py_http.py single|threading PORT COST_MS sleep|spin
GET /work costs COST_MS (time.sleep, or a busy loop on the clock), answers "ok\n"
with Content-Length over HTTP/1.1 keep-alive."""
import sys, time
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
srv.serve_forever()
