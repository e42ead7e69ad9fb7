#!/usr/bin/env python3
"""probe_server.py - the Probe service (probe.proto) on Python's grpcio.

    PYTHONPATH=STUBS probe_server.py PORT

Listens on 127.0.0.1:PORT without TLS (HTTP/2 in the clear: what beyla
records from the sockets), up to 8 calls at once.  STUBS is where
scripts/build_grpc_servers.sh generated probe_pb2.py and probe_pb2_grpc.py.
Prints "listening PORT" once it serves; stops on SIGTERM or SIGINT.
"""
import signal
import sys
import threading
import time
from concurrent import futures

import grpc
import probe_pb2 as pb
import probe_pb2_grpc as pbg


class Probe(pbg.ProbeServicer):
    def Echo(self, request, context):
        time.sleep(request.delay_ms / 1000)
        return pb.EchoReply(payload=request.payload)

    def Count(self, request, context):
        for _ in range(request.count):
            yield pb.CountReply(payload=b"c" * request.size)

    def Sum(self, request_iterator, context):
        return pb.SumReply(total=sum(r.value for r in request_iterator))

    def Chat(self, request_iterator, context):
        for m in request_iterator:
            yield pb.ChatMessage(payload=m.payload)

    def Lookup(self, request, context):
        if request.key != "present":
            context.abort(grpc.StatusCode.NOT_FOUND, "no key %r" % request.key)
        return pb.LookupReply(value="here")

    def Fail(self, request, context):
        code = next((c for c in grpc.StatusCode if c.value[0] == request.code), grpc.StatusCode.UNKNOWN)
        context.abort(code, request.message or "failed as asked")


def main():
    port = int(sys.argv[1])
    # no SO_REUSEPORT (grpcio's default): a second server on the port would
    # silently take half of the connections
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), options=[("grpc.so_reuseport", 0)])
    pbg.add_ProbeServicer_to_server(Probe(), server)
    server.add_insecure_port("127.0.0.1:%d" % port)
    server.start()
    print("listening %d" % port, flush=True)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    server.stop(0).wait()


if __name__ == "__main__":
    main()
