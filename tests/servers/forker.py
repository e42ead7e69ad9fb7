"""forker.py N PORT - a target that forks N children (at most 16 alive at
once), each making one HTTP GET /child/I to 127.0.0.1:PORT; every odd child
then execs `sh -c 'exit 3'`, the others exit 0 (1 if the request failed).
The parent reaps them all and prints one line: "children=N execs=E ok=K"
(K: children that exited 0, or 3 after their exec).  tests/e2e/record_stress.sh
uses it to check that the recorder follows hundreds of forks, execs and
exits."""
import http.client
import os
import sys


def child(i, port):
    status = 1
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/child/%d" % i)
        r = c.getresponse()
        r.read()
        c.close()
        status = 0 if r.status == 200 else 1
    except Exception:
        status = 1
    if i % 2 == 1 and status == 0:
        os.execv("/bin/sh", ["sh", "-c", "exit 3"])
    os._exit(status)


def main():
    n, port = int(sys.argv[1]), int(sys.argv[2])
    alive, ok, execs = 0, 0, 0

    def reap():
        nonlocal alive, ok
        _, st = os.wait()
        alive -= 1
        code = os.waitstatus_to_exitcode(st)
        ok += code in (0, 3)

    for i in range(n):
        if alive >= 16:
            reap()
        if os.fork() == 0:
            child(i, port)
        alive += 1
        execs += i % 2
    while alive:
        reap()
    print("children=%d execs=%d ok=%d" % (n, execs, ok), flush=True)


main()
