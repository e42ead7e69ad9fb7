"""redis_client.py - the Redis traffic of tests/e2e/record_redis.sh.

    REDIS_PASSWORD=... python redis_client.py PORT UNIX_SOCKET

(the password by the environment: a command line is recorded)

Over TCP with redis-py: single commands on database 3, a pipeline of 20
commands (transaction=False), a MULTI/EXEC transaction, errors (WRONGTYPE,
an unknown command), pub/sub (one subscriber, three messages), RESP3
(protocol=3); over the UNIX socket: redis-cli (a child process), and inline
commands on a raw socket.  Every key is unique to one step, so the test
can count each command's spans.  Prints one "name=value" line per result.
"""
import os
import socket
import subprocess
import sys
import time

import redis

port, sock, password = int(sys.argv[1]), sys.argv[2], os.environ["REDIS_PASSWORD"]
out = {}

r = redis.Redis(host="127.0.0.1", port=port, password=password, db=3)
r.set("user:1", "SECRETVALUE1")
out["get"] = r.get("user:1").decode()
r.hset("h:1", mapping={"f1": "SECRETFIELD"})
out["incr"] = r.incr("counter:1")

# 20 commands in one write, 20 replies read together
pipe = r.pipeline(transaction=False)
for i in range(20):
    pipe.incr("pipe:%02d" % i)
out["pipeline"] = len(pipe.execute())

# MULTI, 2 commands (QUEUED), EXEC
tx = r.pipeline(transaction=True)
tx.set("tx:1", "SECRETTX")
tx.incr("tx:2")
out["exec"] = len(tx.execute())

# errors
r.rpush("list:1", "a")
try:
    r.incr("list:1")
except redis.ResponseError as e:
    out["wrongtype"] = str(e).split()[0]
try:
    r.execute_command("NOSUCHCMD", "x")
except redis.ResponseError as e:
    out["unknown"] = str(e).split()[0]

# pub/sub: the subscriber's connection gets 3 messages no command asked for
sub = redis.Redis(host="127.0.0.1", port=port, password=password).pubsub()
sub.subscribe("news")
while sub.get_message(timeout=1.0) is None:
    pass  # the confirmation
pub = redis.Redis(host="127.0.0.1", port=port, password=password)
for i in range(3):
    pub.publish("news", "SECRETMSG%d" % i)
got = 0
deadline = time.time() + 5
while got < 3 and time.time() < deadline:
    m = sub.get_message(timeout=1.0)
    if m and m["type"] == "message":
        got += 1
out["messages"] = got
sub.unsubscribe("news")
while True:
    m = sub.get_message(timeout=1.0)
    if m is None or m["type"] == "unsubscribe":
        break
sub.close()
pub.close()

# RESP3: HELLO 3, a map reply
r3 = redis.Redis(host="127.0.0.1", port=port, password=password, protocol=3)
r3.hset("h3:1", mapping={"a": "SECRETMAP", "b": "2"})
out["resp3_fields"] = len(r3.hgetall("h3:1"))
r3.close()
r.close()

# redis-cli over the UNIX socket, a child of this process
cli = ["redis-cli", "-s", sock]
env = dict(os.environ, REDISCLI_AUTH=password)
# (-x: the value from stdin, not the command line, which is recorded)
subprocess.run(cli + ["-x", "SET", "cli:1"], input=b"SECRETCLI", check=True, capture_output=True, env=env)
out["cli_get"] = subprocess.run(cli + ["GET", "cli:1"], check=True, capture_output=True, env=env).stdout.decode().strip()

# inline commands (as typed into telnet), on the UNIX socket too
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock)
s.sendall(b"AUTH " + password.encode() + b"\r\n")
s.recv(100)
s.sendall(b"PING\r\n")
out["inline_ping"] = s.recv(100).decode().strip()
s.sendall(b"EXISTS cli:1\r\n")
out["inline_exists"] = s.recv(100).decode().strip()
s.close()

for k, v in out.items():
    print("%s=%s" % (k, v))
