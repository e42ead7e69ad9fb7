#!/usr/bin/env python3
"""demo_workload.py - a small real workload to record: a Python HTTP server on a
free loopback port (in a thread) and a client that makes ~50 requests to it,
then exits.  Used by the README's first command:

    sudo ./beyla record -d 10s -o demo.bz.zst -- python3 scripts/demo_workload.py

The mix: keep-alive requests on one connection and requests on fresh
connections; GET and POST; 200, 404 and 500 answers; a few slow ones (so
there is queueing to see); query strings and numeric ids in paths.
"""
import http.client
import http.server
import json
import sys
import threading
import time

REQUESTS = 50


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "demo/1.0"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms stalls

    def _reply(self, status, body, ctype="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/":
            self._reply(200, "hello from the beyla demo\n", "text/plain")
        elif path.startswith("/items/"):
            item = path.rsplit("/", 1)[1]
            self._reply(200, json.dumps({"id": item, "name": f"item {item}"}))
        elif path == "/slow":
            time.sleep(0.02)
            self._reply(200, json.dumps({"slow": True}))
        elif path == "/boom":
            self._reply(500, json.dumps({"error": "boom"}))
        else:
            self._reply(404, json.dumps({"error": "not found"}))

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(n)
        self._reply(201, json.dumps({"received": len(body)}))

    def log_message(self, *args):
        pass


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()

    plan = []
    for i in range(REQUESTS):
        if i % 10 == 7:
            plan.append(("POST", "/orders", json.dumps({"item": i, "qty": 1 + i % 3})))
        elif i % 10 == 5:
            plan.append(("GET", "/slow", None))
        elif i % 17 == 3:
            plan.append(("GET", "/boom", None))
        elif i % 13 == 4:
            plan.append(("GET", "/missing", None))
        elif i % 2:
            plan.append(("GET", f"/items/{1000 + i}?verbose=1", None))
        else:
            plan.append(("GET", "/", None))

    statuses = {}
    keepalive = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    for i, (method, path, body) in enumerate(plan):
        # Two thirds on one keep-alive connection, one third on a fresh one each.
        fresh = i % 3 == 2
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5) if fresh else keepalive
        headers = {"Content-Type": "application/json"} if body else {}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        statuses[resp.status] = statuses.get(resp.status, 0) + 1
        if fresh:
            conn.close()
    keepalive.close()
    srv.shutdown()
    srv.server_close()
    summary = ", ".join(f"{n} x {s}" for s, n in sorted(statuses.items()))
    print(f"demo workload: {len(plan)} requests to 127.0.0.1:{port} ({summary})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
