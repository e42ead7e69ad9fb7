#!/usr/bin/env bash
# shellcheck disable=SC2016 # check NAME eval '...' expands later, on purpose
# record_selection.sh - beyla record records exactly the processes a user
# names, from the moment they are named, each with its identity (issue 15,
# items 1-3):
#   1. every selection option is repeatable and they combine: --port twice
#      records both ports; --exe twice both programs;
#   2. --exe catches processes that live a few milliseconds: curl run ten
#      times, 200 runs of a static C client that connects in its first
#      instructions and exits, and none of a third program it must not take;
#      the children of a `-- CMD` shell and the forked children of a -p
#      process that connect at once and exit;
#   3. every target has an identity (exe, comm, command line and
#      OTEL_SERVICE_NAME when set) in the capture, the database and OTLP,
#      also processes adopted by --port that are gone before /proc is read,
#      and --exe together with --port adopts by port a process that does not
#      match the regex, even while its exec is still being judged.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
require_recording_env
need ss curl sqlite3 cc

# A server that answers every GET with 200 and a small body, HTTP/1.1,
# closing each connection.  Not a target in any part below but the first.
cat >"$T/server.py" <<'EOF'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
# The client of item 2, linked statically: no dynamic loader runs before it connects.
cc -O2 -static -o "$T/bzq-a" "$E2E_ROOT/tests/tools/quickconn.c" ||
	bail "tests/tools/quickconn.c builds (static)"
cp "$T/bzq-a" "$T/bzq-b"
cp "$T/bzq-a" "$T/bzq-c"
cp "$(command -v curl)" "$T/bz-curl"

port_a=$(free_port)
start_bg srv-a "$PYTHON" "$T/server.py" "$port_a"
srv_a=$BG_PID
port_b=$(free_port)
start_bg srv-b "$PYTHON" "$T/server.py" "$port_b"
srv_b=$BG_PID
wait_for_port "$port_a" && wait_for_port "$port_b" || bail "the test servers listen"

# count_db DB SQL: one number from the database.
count_db() { sqlite3 "$1" "$2" 2>/dev/null; }

# --- 1 and 3: --port twice, clients adopted by port, their identity --------------------
cap=$T/ports.bz.zst
record_start "$cap" -d 30s --port "$port_a" --port "$port_b" || bail "recorder starts (--port twice)"
for i in 1 2 3; do
	curl -s -o /dev/null "http://127.0.0.1:$port_a/a/$i"
	OTEL_SERVICE_NAME=checkout-cli OTEL_RESOURCE_ATTRIBUTES=team=payments \
		curl -s -o /dev/null "http://127.0.0.1:$port_b/b/$i"
done
record_stop
check "the recorder exits 0" eval '[ "$REC_RC" = 0 ]'
"$BEYLA" info --dump "$cap" >"$T/ports.dump" 2>&1
"$BEYLA" analyze "$cap" -o "$T/ports.db" --otlp-file "$T/ports.otlp.json" >"$T/ports.txt" 2>&1
check_num "analyze exits 0" $? -eq 0
check_grep "the capture header names both ports" "^HEADER|target.*port $port_a, port $port_b" \
	"$T/ports.dump"
"$BEYLA" info "$cap" >"$T/ports.info" 2>&1
check_grep "beyla info names both ports as the target" "target: +port $port_a, port $port_b" "$T/ports.info"
check_num "3 server spans on the first port" \
	"$(count_db "$T/ports.db" "select count(*) from spans where kind='server' and server_port=$port_a")" -eq 3
check_num "3 server spans on the second port" \
	"$(count_db "$T/ports.db" "select count(*) from spans where kind='server' and server_port=$port_b")" -eq 3
check_num "6 client spans (the curls, adopted by port)" \
	"$(count_db "$T/ports.db" "select count(*) from spans where kind='client'")" -eq 6
check_num "every curl has exe, comm and command line in processes" \
	"$(count_db "$T/ports.db" "select count(*) from processes where exe like '%/curl' and comm='curl'
		and cmdline like 'curl -s -o /dev/null http://127.0.0.1:%'")" -eq 6
check_num "no span says unknown_service" \
	"$(count_db "$T/ports.db" "select count(*) from spans where service_name is null or service_name like 'unknown_service%'")" -eq 0
check_num "the curls without OTEL_SERVICE_NAME are service curl" \
	"$(count_db "$T/ports.db" "select count(*) from spans where kind='client' and service_name='curl'")" -eq 3
check_num "the curls with OTEL_SERVICE_NAME carry it (read by the kernel: they were gone)" \
	"$(count_db "$T/ports.db" "select count(*) from spans where kind='client' and service_name='checkout-cli'")" -eq 3
check_num "... and their OTEL_RESOURCE_ATTRIBUTES" \
	"$(count_db "$T/ports.db" "select count(*) from processes where resource_attributes='team=payments'")" -eq 3
check_num "each adopted curl has an ADOPT record naming its executable" \
	"$(dump_count "$T/ports.dump" ADOPT 'file~/curl$' 'args~^curl ')" -eq 6
"$PYTHON" - "$T/ports.otlp.json" >"$T/otlp-services.txt" 2>&1 <<'EOF'
import json, sys
names = {}
for line in open(sys.argv[1]):
    req = json.loads(line)
    for rs in req.get("resourceSpans", []):
        attrs = {a["key"]: a["value"].get("stringValue") for a in rs["resource"].get("attributes", [])}
        n = sum(len(ss.get("spans", [])) for ss in rs.get("scopeSpans", []))
        names[attrs.get("service.name")] = names.get(attrs.get("service.name"), 0) + n
for k, v in sorted(names.items(), key=lambda kv: str(kv[0])):
    print(k, v)
EOF
check_grep "OTLP: the curls' spans have service.name curl" '^curl [0-9]+$' "$T/otlp-services.txt"
check_grep "OTLP: ... and checkout-cli" '^checkout-cli [0-9]+$' "$T/otlp-services.txt"
check_no_grep "OTLP: no unknown_service" 'unknown_service|^None ' "$T/otlp-services.txt"

# --- 1 and 2: --exe twice, short-lived processes, and one not selected ---------------
cap=$T/exe.bz.zst
record_start "$cap" -d 60s --exe '^bz-curl$' --exe '^bzq-(a|b)$' || bail "recorder starts (--exe twice)"
for i in $(seq 10); do "$T/bz-curl" -s -o /dev/null "http://127.0.0.1:$port_a/curl/$i"; done
fails=0
for i in $(seq 200); do "$T/bzq-a" "$port_a" "/quick/$i" || fails=$((fails + 1)); done
for i in $(seq 20); do "$T/bzq-b" "$port_b" "/bee/$i" || fails=$((fails + 1)); done
for i in $(seq 20); do "$T/bzq-c" "$port_a" "/not-me/$i" || fails=$((fails + 1)); done
check_num "the 240 short-lived clients all got their answer" "$fails" -eq 0
record_stop
check "the recorder exits 0" eval '[ "$REC_RC" = 0 ]'
"$BEYLA" info --dump "$cap" >"$T/exe.dump" 2>&1
"$BEYLA" analyze "$cap" -o "$T/exe.db" >"$T/exe.txt" 2>&1
check_num "analyze exits 0" $? -eq 0
check_num "10 EXECs of bz-curl" "$(dump_count "$T/exe.dump" EXEC 'file~/bz-curl$')" -eq 10
check_num "200 EXECs of bzq-a" "$(dump_count "$T/exe.dump" EXEC 'file~/bzq-a$')" -eq 200
check_num "20 EXECs of bzq-b" "$(dump_count "$T/exe.dump" EXEC 'file~/bzq-b$')" -eq 20
check_num "no EXEC of bzq-c (not selected)" "$(dump_count "$T/exe.dump" EXEC 'file~/bzq-c$')" -eq 0
check_num "230 client connections" "$(dump_count "$T/exe.dump" CONN role=connected)" -eq 230
check_num "every bz-curl request is a client span" \
	"$(count_db "$T/exe.db" "select count(*) from spans where kind='client' and url_path like '/curl/%'")" -eq 10
check_num "every bzq-a request (a process a few ms long) is a client span" \
	"$(count_db "$T/exe.db" "select count(*) from spans where kind='client' and url_path like '/quick/%' and incomplete=0")" -eq 200
check_num "every bzq-b request is a client span" \
	"$(count_db "$T/exe.db" "select count(*) from spans where kind='client' and url_path like '/bee/%'")" -eq 20
check_num "no span of bzq-c" \
	"$(count_db "$T/exe.db" "select count(*) from spans where url_path like '/not-me/%'")" -eq 0
check_num "no process row of bzq-c" \
	"$(count_db "$T/exe.db" "select count(*) from processes where exe like '%bzq-c' or cmdline like '%bzq-c%'")" -eq 0
check_num "the server, not selected, has no span" \
	"$(count_db "$T/exe.db" "select count(*) from spans where kind='server'")" -eq 0
check_num "all 230 targets have exe, comm and command line" \
	"$(count_db "$T/exe.db" "select count(*) from processes where (exe like '%/bz-curl' and comm='bz-curl'
		and cmdline like '%bz-curl -s -o /dev/null http%') or (exe like '%/bzq-_' and comm like 'bzq-_'
		and cmdline like '%bzq-_ % /%')")" -eq 230
check_num "no process row without an executable" \
	"$(count_db "$T/exe.db" "select count(*) from processes where exe is null or exe = ''")" -eq 0

# --- 2: children of a -- CMD shell, forked children of a -p process ----------------------
cap=$T/children.bz.zst
record_start "$cap" -d 60s -- sh -c "for i in \$(seq 20); do '$T/bzq-c' $port_a /child/\$i; done" ||
	[ -n "$REC_RC" ] || bail "recorder starts (-- CMD)"
record_wait 50
check "the recorder ends with the command, status 0" eval '[ "$REC_RC" = 0 ]'
"$BEYLA" analyze "$cap" -o "$T/children.db" >"$T/children.txt" 2>&1
check_num "the launched shell's 20 children are 20 client spans" \
	"$(count_db "$T/children.db" "select count(*) from spans where kind='client' and url_path like '/child/%' and incomplete=0")" -eq 20
check_num "... from 20 processes with their own exe and command line" \
	"$(count_db "$T/children.db" "select count(distinct pid) from processes where exe like '%/bzq-c' and cmdline like '%/child/%'")" -eq 20

cat >"$T/forker.py" <<'EOF'
# Waits for GO, then forks N children one after another; each connects at
# once, sends one request, reads the answer and _exits.
import os, socket, sys, time
port, n, go = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
while not os.path.exists(go):
    time.sleep(0.01)
for i in range(n):
    pid = os.fork()
    if pid == 0:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /fork/%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % i)
        while s.recv(4096):
            pass
        os._exit(0)
    os.waitpid(pid, 0)
EOF
start_bg forker "$PYTHON" "$T/forker.py" "$port_b" 50 "$T/go"
forker=$BG_PID
cap=$T/fork.bz.zst
record_start "$cap" -d 60s -p "$forker" || bail "recorder starts (-p forker)"
touch "$T/go"
for ((i = 0; i < 300; i++)); do kill -0 "$forker" 2>/dev/null || break; sleep 0.1; done
record_stop
"$BEYLA" analyze "$cap" -o "$T/fork.db" >"$T/fork.txt" 2>&1
check_num "50 forked children, each a client span" \
	"$(count_db "$T/fork.db" "select count(*) from spans where kind='client' and url_path like '/fork/%' and incomplete=0")" -eq 50
check_num "... each child a process row with the parent's exe and command line" \
	"$(count_db "$T/fork.db" "select count(*) from processes where forked_from=$forker and exe like '%python%' and cmdline like '%forker.py%'")" -eq 50

# --- 3: --exe and --port together: a process matching only the port ----------------------
cap=$T/union.bz.zst
record_start "$cap" -d 60s --exe '^no-such-program$' --port "$port_b" || bail "recorder starts (--exe + --port)"
for i in $(seq 50); do "$T/bzq-a" "$port_b" "/union/$i"; done
record_stop
"$BEYLA" info --dump "$cap" >"$T/union.dump" 2>&1
"$BEYLA" analyze "$cap" -o "$T/union.db" >"$T/union.txt" 2>&1
check_num "50 client spans of processes using the port (adopted while their exec was judged)" \
	"$(count_db "$T/union.db" "select count(*) from spans where kind='client' and url_path like '/union/%' and incomplete=0")" -eq 50
check_num "50 server spans of the server on the port" \
	"$(count_db "$T/union.db" "select count(*) from spans where kind='server' and url_path like '/union/%'")" -eq 50
check_num "each client is a process row flagged adopted, with its executable" \
	"$(dump_count "$T/union.dump" PROC 'flags~adopted' 'exe~/bzq-a$')" -eq 50

stop_bg "$srv_a"
stop_bg "$srv_b"
finish
