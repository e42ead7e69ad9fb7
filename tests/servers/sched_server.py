#!/usr/bin/env python3
"""sched_server.py - HTTP/1.1 servers whose handlers burn a known CPU time,
for tests/e2e/record_sched.sh (beyla record --sched).

    sched_server.py threads PORT BURN_MS COSTLOG
        a thread per connection (socketserver.ThreadingMixIn): the thread
        that reads a request answers it
    sched_server.py pool PORT BURN_MS COSTLOG
        one reader thread (a selector loop) reads each request and hands it
        to a concurrent.futures.ThreadPoolExecutor worker, which burns and
        writes the response: the hand-off beyla must follow
    sched_server.py forks PORT BURN_MS COSTLOG
        a process per connection (socketserver.ForkingMixIn): busy handlers
        on one CPU wait for it on the run queue (threads of one Python
        process would wait for its GIL instead: blocked)
    sched_server.py sleep PORT SLEEP_MS COSTLOG
        a thread per connection that sleeps SLEEP_MS (blocked, no CPU)

Every handler appends one line to COSTLOG: the CPU time it burned
(time.thread_time, ns) and the handling thread's id, so the test can compare
beyla's on-CPU time with what the handler measured itself.
"""
import os
import selectors
import socket
import socketserver
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

mode, port, amount, costlog = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) / 1000.0, sys.argv[4]
log_lock = threading.Lock()
log = open(costlog, "a")

BODY = b"ok\n"
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: text/plain\r\n\r\n" % len(BODY)) + BODY


def burn(seconds):
    """Spins until this thread has used `seconds` of CPU; returns what it used."""
    t0 = time.thread_time()
    x = 0
    while time.thread_time() - t0 < seconds:
        x += 1
    return time.thread_time() - t0


def note(cpu_s):
    with log_lock:
        log.write("%d %d\n" % (int(cpu_s * 1e9), threading.get_native_id()))
        log.flush()


def work():
    if mode == "sleep":
        t0 = time.thread_time()
        time.sleep(amount)
        note(time.thread_time() - t0)
    else:
        note(burn(amount))


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        while True:
            line = self.rfile.readline()
            if not line:
                return
            while True:  # headers (no bodies: GET only)
                h = self.rfile.readline()
                if not h or h in (b"\r\n", b"\n"):
                    break
            work()
            self.wfile.write(RESPONSE)
            self.wfile.flush()


class ThreadedServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class ForkingServer(socketserver.ForkingMixIn, socketserver.TCPServer):
    allow_reuse_address = True


def serve_pool():
    """One reader thread; workers answer.  A request is whole once its
    blank line came (GET only, one request in flight per connection)."""
    pool = ThreadPoolExecutor(max_workers=4)
    sel = selectors.DefaultSelector()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)
    ls.setblocking(False)
    sel.register(ls, selectors.EVENT_READ, None)
    bufs = {}

    def answer(conn):
        work()
        try:
            conn.sendall(RESPONSE)
        except OSError:
            pass

    while True:
        for key, _ in sel.select():
            if key.data is None:
                c, _ = ls.accept()
                c.setblocking(True)
                bufs[c] = b""
                sel.register(c, selectors.EVENT_READ, "conn")
                continue
            c = key.fileobj
            try:
                d = c.recv(65536)
            except OSError:
                d = b""
            if not d:
                sel.unregister(c)
                bufs.pop(c, None)
                c.close()
                continue
            bufs[c] += d
            while b"\r\n\r\n" in bufs[c]:
                _, bufs[c] = bufs[c].split(b"\r\n\r\n", 1)
                pool.submit(answer, c)


if mode == "pool":
    serve_pool()
elif mode == "forks":
    ForkingServer(("127.0.0.1", port), Handler).serve_forever()
else:
    ThreadedServer(("127.0.0.1", port), Handler).serve_forever()
