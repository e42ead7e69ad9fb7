#!/usr/bin/env python3
"""late_ssl_server.py - https_server.py, but libssl is mapped only later: the
process imports the ssl module (which dlopens _ssl and with it libssl) only
once the file GO exists, so a recorder that selected it from its exec, or by
pid before GO was created, saw it start without any TLS library.  For
tests/e2e/record_openssl.sh.

    late_ssl_server.py PORT CERT KEY GO

Until GO exists (at most 30 s) only os, sys and time are imported: not
http.server, which imports http.client, which imports ssl.  It then prints
"libssl mapped before import: no" (or the path of a libssl /proc/self/maps
already had: then the test it serves proves nothing), imports ssl, prints
"libssl mapped after import: PATH" (or "no"), and serves https_server.py's
routes.  With LD_LIBRARY_PATH naming a directory that holds a copy of
libssl.so.3 and libcrypto.so.3, the dlopen maps the copy: a library file no
recorder probed at its start.
"""
import os
import sys
import time


def libssl_mapped():
    """The path of the libssl this process maps, or no."""
    with open("/proc/self/maps") as f:
        for line in f:
            if "libssl" in line:
                return line.split()[-1]
    return "no"


def say(what):
    sys.stdout.write(what + "\n")
    sys.stdout.flush()


def main():
    go = sys.argv[4]
    for _ in range(3000):
        if os.path.exists(go):
            break
        time.sleep(0.01)
    say("libssl mapped before import: %s" % libssl_mapped())
    import ssl  # noqa: F401  (the dlopen of _ssl, libssl and libcrypto)

    say("libssl mapped after import: %s" % libssl_mapped())
    import https_server

    sys.argv = sys.argv[:4]
    https_server.main()


if __name__ == "__main__":
    main()
