"""Accuracy-harness server: one thread reads, another handles.  usage:
py_pool.py PORT COST_MS sleep|spin|cpu [WORKERS]
The main thread runs a selectors loop (epoll): it accepts, reads every
request (HTTP/1.1, GET, no body) and hands the parsed request to a
concurrent.futures.ThreadPoolExecutor of WORKERS threads (default 4); the pool
thread runs the handler (COST_MS: time.sleep; spin: busy loop on the wall
clock; cpu: busy loop until the thread has used COST_MS of CPU time,
time.thread_time) and writes the response itself, one write, with
Content-Length, over keep-alive.  So the thread that read a request is never
the one that wrote its response: the hand-off (the pool's queue, the wake-up of
a pool thread, the GIL) lies between the read and the handler.  With cpu the
response carries X-Handler-Cpu-Ns: the CPU time the pool thread used from
taking the request to the response's head."""
import handler_cost
import selectors, socket, sys, time
from concurrent.futures import ThreadPoolExecutor

port, cost, kind = int(sys.argv[1]), float(sys.argv[2]) / 1000, sys.argv[3]
workers = int(sys.argv[4]) if len(sys.argv) > 4 else 4


def work():
    handler_cost.burn(kind, cost)


def handle(conn, line, close):
    """In a pool thread: the handler and the response's write."""
    t0 = time.thread_time_ns()
    parts = line.split()
    ok = len(parts) == 3 and parts[0] == b"GET" and parts[1] == b"/work"
    if ok:
        work()
    body = b"ok\n" if ok else b"not found\n"
    head = "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n" % (
        "200 OK" if ok else "404 Not Found", len(body))
    if kind == "cpu":
        head += "X-Handler-Cpu-Ns: %d\r\n" % (time.thread_time_ns() - t0)
    if close:
        head += "Connection: close\r\n"
    try:
        conn.sendall(head.encode() + b"\r\n" + body)
    except OSError:
        pass
    if close:
        conn.shutdown(socket.SHUT_WR)  # the main thread closes it at the client's EOF


def main():
    sel = selectors.DefaultSelector()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="handler")
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)  # a backlog below the concurrency drops SYNs (1 s retries)
    ls.setblocking(False)
    sel.register(ls, selectors.EVENT_READ)
    bufs = {}  # connection -> bytes of a request not complete yet
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if s is ls:
                try:
                    c, _ = ls.accept()
                except BlockingIOError:
                    continue
                # Blocking: the pool thread writes with sendall; the main thread
                # reads only when epoll said the socket is readable.
                c.setblocking(True)
                c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                bufs[c] = b""
                sel.register(c, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                bufs.pop(s, None)
                s.close()
                continue
            buf = bufs[s] + data
            # Every complete request head (clients wait for each response, so
            # normally one) goes to the pool, in order.
            while b"\r\n\r\n" in buf:
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.split(b"\r\n")
                close = any(l.lower().startswith(b"connection:") and b"close" in l.lower() for l in lines[1:])
                pool.submit(handle, s, lines[0], close)
            bufs[s] = buf


main()
