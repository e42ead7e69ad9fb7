#!/usr/bin/env bash
# shellcheck disable=SC2016 # check NAME eval '...' expands later, on purpose
# record_launch_cmd.sh - `beyla record -- CMD`: the recorder launches a Python
# program that serves HTTP and calls itself 5 times, records it, and stops by
# itself when the program exits.  Then the errors a user must get: a launched
# command that does not exist, a pid that does not exist, an invalid regex,
# an existing output file without --force, an output directory that does not
# exist.  Each must fail at once, with a clear message, and leave no file.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
require_recording_env
need ss

N=5
EXIT_CODE=3 # the program's exit status, which the recorder must report
port=$(free_port)
cat >"$T/selfcall.py" <<'EOF'
# Serves HTTP on 127.0.0.1:PORT in a thread, makes N requests to itself, exits CODE.
import http.server, sys, threading, urllib.request
port, n, code = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b"launched ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
threading.Thread(target=srv.serve_forever, daemon=True).start()
for i in range(n):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/launch/{i}", timeout=5) as r:
        assert r.status == 200 and r.read() == b"launched ok\n"
srv.shutdown()
srv.server_close()
sys.exit(code)
EOF

# --- 1. a launched command, recorded until it exits -----------------------------------
cap=$T/launch.bz.zst
start=$(date +%s)
record_start "$cap" -d 30s -- "$PYTHON" "$T/selfcall.py" "$port" "$N" "$EXIT_CODE" ||
	[ -n "$REC_RC" ] || bail "beyla record -- CMD starts"
record_wait 25
secs=$(($(date +%s) - start))
check "the recorder exits by itself when the command exits" eval '[ "$REC_RC" != timeout ] && [ "$secs" -lt 20 ]'
log "recorder exit status: $REC_RC; its stderr:"
sed 's/^/#   | /' "$REC_LOG"
check "beyla record exits 0 or with the command's status $EXIT_CODE (got $REC_RC)" \
	eval '[ "$REC_RC" = 0 ] || [ "$REC_RC" = "$EXIT_CODE" ]'
check_grep "the recorder reports the command's exit status $EXIT_CODE" \
	"(exit|status|code)[^0-9]{0,20}$EXIT_CODE\\b" "$REC_LOG"

"$BEYLA" info "$cap" >"$T/info.txt" 2>&1
check_num "beyla info exits 0 (complete)" $? -eq 0
check_grep "beyla info says status: complete" '^[[:space:]]*status: complete' "$T/info.txt"
"$BEYLA" info --dump "$cap" >"$T/dump.txt" 2>"$T/dump.err"
check_num "beyla info --dump exits 0" $? -eq 0

pid=$(dump_field "$T/dump.txt" PROC pid 'flags~launched' 'cmdline~selfcall\.py' | head -n1)
check "a PROC flagged launched for the command" test -n "$pid"
pid=${pid:-none}
check_num "the command's server read $N requests" \
	"$(dump_count "$T/dump.txt" DATA "pid=$pid" dir=in 'payload~^GET /launch/[0-9] HTTP/1\.1')" -eq "$N"
check_num "the command's client wrote $N requests" \
	"$(dump_count "$T/dump.txt" DATA "pid=$pid" dir=out 'payload~^GET /launch/[0-9] HTTP/1\.1')" -eq "$N"
check_num "the server wrote $N 'HTTP/1.1 200' responses" \
	"$(dump_count "$T/dump.txt" DATA "pid=$pid" dir=out 'payload~^HTTP/1\.[01] 200')" -eq "$N"
check_num "$N accepted CONNs on port $port" \
	"$(dump_count "$T/dump.txt" CONN "pid=$pid" role=accepted "local~:$port\$")" -eq "$N"
check_num "$N connected CONNs to port $port" \
	"$(dump_count "$T/dump.txt" CONN "pid=$pid" role=connected "remote~:$port\$")" -eq "$N"
check_num "an EXIT with code $EXIT_CODE for the command" \
	"$(dump_count "$T/dump.txt" EXIT "pid=$pid" "code=$EXIT_CODE")" -eq 1

# --- 2. errors: clear, at once, non-zero, and no output file left ---------------------
# expect_error NAME PATTERN OUT ARGS...: `beyla record -o OUT ARGS...` must fail
# within 15 s with a short message matching PATTERN, and OUT must not exist
# afterwards (unless it existed before: then it must be unchanged).
expect_error() {
	local name=$1 re=$2 out=$3 rc lines before=
	shift 3
	[ -e "$out" ] && before=$(md5sum <"$out")
	timeout -k 5 15 "$BEYLA" record -o "$out" "$@" >"$T/err.out" 2>"$T/err.txt" </dev/null
	rc=$?
	lines=$(grep -c . "$T/err.txt")
	check "$name: fails (exit $rc)" eval '[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ]'
	check_grep "$name: says why" "$re" "$T/err.txt"
	check_num "$name: in a line or two" "$lines" -le 2
	if [ -n "$before" ]; then
		check "$name: leaves the existing file untouched" eval '[ "$(md5sum <"$out")" = "$before" ]'
	else
		check "$name: leaves no output file" eval '[ ! -e "$out" ]'
	fi
}

expect_error "launched command not found" 'nonexistent' "$T/e1.bz.zst" -d 5s -- /nonexistent/cmd
nopid=999999
while kill -0 "$nopid" 2>/dev/null; do nopid=$((nopid + 1)); done
expect_error "no such pid" "$nopid|[Nn]o such (process|pid)" "$T/e2.bz.zst" -d 5s -p "$nopid"
expect_error "invalid --exe regex" '[Rr]eg(ular )?ex|pattern|\(' "$T/e3.bz.zst" -d 5s --exe '('
printf 'not a capture, must survive\n' >"$T/exists.bz.zst"
expect_error "existing output without --force" 'exist|--force' "$T/exists.bz.zst" -d 5s -p "$$"
expect_error "output directory that does not exist" 'nonexistent-dir|[Nn]o such file or directory' \
	/nonexistent-dir/x.bz.zst -d 5s -p "$$"
check "the missing output directory was not created" test ! -e /nonexistent-dir

# --force does overwrite.
timeout -k 5 20 "$BEYLA" record -q -d 1s --force -o "$T/exists.bz.zst" -p "$$" >/dev/null 2>"$T/force.txt" </dev/null
check_num "--force overwrites an existing file (exit 0)" $? -eq 0
"$BEYLA" info "$T/exists.bz.zst" >/dev/null 2>&1
check_num "the overwritten file is a complete capture" $? -eq 0

finish
