#!/usr/bin/env python3
"""probe_client.py - calls the Probe service (probe.proto) with Python's grpcio.

    PYTHONPATH=STUBS probe_client.py HOST:PORT [--only STEP,...]

Every call goes over one channel, so one HTTP/2 connection.  The steps, in
order (go/main.go's client makes the same calls, with the same sizes):
    echo        Echo, a 100-byte payload                     OK
    count       Count 5 replies of 20 bytes                  OK
    sum         Sum of 4 values (1, 2, 3, 4)                 OK
    chat        Chat, 3 messages of 30 bytes, each echoed    OK
    lookup      Lookup "missing"                             NOT_FOUND (5)
    fail        Fail with code 13                            INTERNAL (13)
    concurrent  8 Echo calls at once, payloads of 40..47 bytes, each held
                50 ms by the server (delay_ms), all started before any
                is waited for: all 8 in flight together         OK
One line per call on stdout: "METHOD CODE SENT RECEIVED" (the status code,
messages sent and received), in the order the calls were started.
"""
import sys

import grpc
import probe_pb2 as pb
import probe_pb2_grpc as pbg

STEPS = ["echo", "count", "sum", "chat", "lookup", "fail", "concurrent"]


def code_of(e):
    return e.code().value[0] if isinstance(e, grpc.RpcError) else 0


def main():
    target = sys.argv[1]
    steps = STEPS
    if "--only" in sys.argv:
        steps = sys.argv[sys.argv.index("--only") + 1].split(",")
    out = []
    with grpc.insecure_channel(target) as ch:
        stub = pbg.ProbeStub(ch)
        for step in steps:
            if step == "echo":
                stub.Echo(pb.EchoRequest(payload=b"e" * 100))
                out.append("Echo 0 1 1")
            elif step == "count":
                n = sum(1 for _ in stub.Count(pb.CountRequest(count=5, size=20)))
                out.append("Count 0 1 %d" % n)
            elif step == "sum":
                r = stub.Sum(iter([pb.SumRequest(value=v) for v in (1, 2, 3, 4)]))
                assert r.total == 10, r
                out.append("Sum 0 4 1")
            elif step == "chat":
                n = sum(1 for _ in stub.Chat(iter([pb.ChatMessage(payload=b"h" * 30) for _ in range(3)])))
                out.append("Chat 0 3 %d" % n)
            elif step == "lookup":
                try:
                    stub.Lookup(pb.LookupRequest(key="missing"))
                    out.append("Lookup 0 1 1")
                except grpc.RpcError as e:
                    out.append("Lookup %d 1 0" % code_of(e))
            elif step == "fail":
                try:
                    stub.Fail(pb.FailRequest(code=13, message="boom"))
                    out.append("Fail 0 1 1")
                except grpc.RpcError as e:
                    out.append("Fail %d 1 0" % code_of(e))
            elif step == "concurrent":
                calls = [stub.Echo.future(pb.EchoRequest(payload=b"x" * n, delay_ms=50)) for n in range(40, 48)]
                for c in calls:
                    c.result()
                    out.append("Echo 0 1 1")
            else:
                sys.exit("unknown step %r" % step)
    print("\n".join(out), flush=True)


if __name__ == "__main__":
    main()
