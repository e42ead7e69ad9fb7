"""unix_pairs.py - UNIX sockets that are not a listener's connections, for
tests/e2e/record_unix.sh: 5 datagrams and 5 seqpacket messages each sent
and received on a socketpair (20 reads and writes beyla counts and does not
record), then one HTTP/1.1 exchange on a stream socketpair (two unbound
ends, each the other's peer) closed by close(), and one on a pair left
open until the process exits."""
import os
import socket

a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
for i in range(5):
    a.send(b"dgram%d" % i)
    b.recv(100)
s1, s2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
for i in range(5):
    s1.send(b"seq%d" % i)
    s2.recv(100)
p1, p2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
p1.sendall(b"GET /pair HTTP/1.1\r\nHost: x\r\n\r\n")
p2.recv(100)
p2.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
p1.recv(100)
p1.close()
p2.close()
# the same on a pair left open: the exit closes it
p3, p4 = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
p3.sendall(b"GET /pair HTTP/1.1\r\nHost: x\r\n\r\n")
p4.recv(100)
p4.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
p3.recv(100)
os._exit(0)  # no interpreter shutdown: it would close() the sockets
