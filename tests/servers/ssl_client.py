#!/usr/bin/env python3
"""ssl_client.py - HTTPS requests with Python's `requests` (urllib3 over the
ssl module: OpenSSL), all on one requests.Session (keep-alive where the
server allows it).  For tests/e2e/record_openssl.sh.

    ssl_client.py OUTDIR CACERT BASE_URL TAG

Requests, in order: GET /ok, GET /users/TAG, POST /upload (a body of 700
bytes), GET /missing (404), GET /users/TAG+1 with the headers
"Authorization: Bearer $BEYLA_TEST_BEARER" and "Cookie: theme=dark;
session=$BEYLA_TEST_SESSION" (secrets come from the environment, never
argv: a recorder keeps every target's command line).  Each response body
goes to OUTDIR/py-TAG-N.body; one line per request is printed, as
record_openssl.sh's curl -w prints them:
    METHOD URL STATUS HTTP_VERSION REQUEST_BODY_BYTES RESPONSE_BODY_BYTES NEW_CONNECTIONS
NEW_CONNECTIONS: how many TCP connections urllib3 opened for that request.
Responses are not decompressed (no Accept-Encoding is sent), so the body
size is the bytes on the wire after the head.
"""
import os
import sys

import requests
import urllib3.util.connection


def main():
    outdir, cacert, base, tag = sys.argv[1], sys.argv[2], sys.argv[3].rstrip("/"), int(sys.argv[4])
    secret = {
        "Authorization": "Bearer " + os.environ.get("BEYLA_TEST_BEARER", "none"),
        "Cookie": "theme=dark; session=" + os.environ.get("BEYLA_TEST_SESSION", "none"),
    }
    plan = [
        ("GET", "/ok", None, {}),
        ("GET", "/users/%d" % tag, None, {}),
        ("POST", "/upload", b"u" * 700, {"Content-Type": "application/octet-stream"}),
        ("GET", "/missing", None, {}),
        ("GET", "/users/%d" % (tag + 1), None, secret),
    ]
    s = requests.Session()
    s.headers["Accept-Encoding"] = "identity"
    # TCP connections opened: urllib3's num_connections counts connection
    # objects, and one closed by the server (gunicorn's sync worker) is
    # reconnected without a new object.
    opened = [0]
    create = urllib3.util.connection.create_connection

    def counting_create(*args, **kwargs):
        opened[0] += 1
        return create(*args, **kwargs)

    urllib3.util.connection.create_connection = counting_create

    for n, (method, path, body, headers) in enumerate(plan, 1):
        url = base + path
        before = opened[0]
        # verify= here: a session's verify loses to $REQUESTS_CA_BUNDLE
        r = s.request(method, url, data=body, headers=headers, timeout=10, verify=cacert)
        content = r.content
        with open(os.path.join(outdir, "py-%d-%d.body" % (tag, n)), "wb") as f:
            f.write(content)
        version = {10: "1", 11: "1.1", 20: "2"}.get(r.raw.version, str(r.raw.version))
        print(method, url, r.status_code, version, len(body or b""), len(content), opened[0] - before)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
