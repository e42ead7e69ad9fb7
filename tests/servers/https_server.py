#!/usr/bin/env python3
"""https_server.py - http_server.py's routes over TLS (Python's ssl module).

    https_server.py PORT CERT KEY

Listens on 127.0.0.1:PORT with the certificate CERT and its key KEY (PEM).
`ssl` is imported at start, so libssl is mapped before a recorder looks at
the process: a Python program that imports ssl only later maps it only then,
after `beyla record` read its /proc/PID/maps (docs/analysis.md, TLS).
"""
import http.server
import ssl
import sys

from http_server import Handler


def main():
    port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
