#!/usr/bin/env bash
# record_stress.sh - the recorder past its limits (issue 7):
#
#  1. a burst larger than the ring buffer: nginx under wrk recorded with the
#     smallest ring (--ring-size 4K).  Events are dropped, never waited for:
#     the drops are counted per probe in the summary, in the capture (STATS,
#     END) and in the database, and the connections that lost records are
#     marked (connections.lost_bytes > 0); the server keeps serving.
#  2. a target that forks hundreds of children which make a request each,
#     half of them then exec another program: every fork, exec and exit is
#     followed, every child's request is a client span of that child.
# Under `make sanitize` the recorder and analyzer here run with ASan (leaks
# included): the whole fork storm must be leak-free.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
require_recording_env
need nginx wrk ss sqlite3

q() { sqlite3 -batch -noheader "$1" "$2" 2>&1; }

# --- 1. a burst larger than the ring ---------------------------------------------
port=$(free_port)
mkdir -p "$T/nginx"
sed -e "s|@DIR@|$T/nginx|g" -e "s|@PORT@|$port|g" "$E2E_ROOT/scripts/nginx-bench.conf" >"$T/nginx/nginx.conf"
start_bg nginx nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log"
master=$BG_PID
wait_for_port "$port" || bail "nginx listens on port $port"

cap=$T/burst.bz.zst
record_start "$cap" -p "$master" --ring-size 4K || bail "beyla record --ring-size 4K starts"
wrk -t1 -c16 -d3s "http://127.0.0.1:$port/" >"$T/wrk.txt" 2>&1
reqs=$(awk '/ requests in / { print $1 }' "$T/wrk.txt")
record_stop INT
check_num "recorder exits 0 although it dropped events" "${REC_RC:-none}" -eq 0
check_num "nginx kept serving while the ring overflowed (wrk requests)" "${reqs:-0}" -gt 1000
check_no_grep "wrk saw no socket errors or timeouts" 'Socket errors' "$T/wrk.txt"
drops=$(sed -n 's/^ *drops *\([0-9]*\) lost.*/\1/p' "$REC_LOG")
check_num "the summary counts drops" "${drops:-0}" -gt 0
check_grep "the summary names the probes that lost events" '^ *drops *[0-9]+ lost in the kernel ring buffer: .*(recv|send) [0-9]+' "$REC_LOG"
check_grep "the summary says what to do" 'bigger --ring-size' "$REC_LOG"

"$BEYLA" info "$cap" >"$T/burst-info.txt" 2>&1
check_num "beyla info: the capture is complete" $? -eq 0
check_num "beyla info: the probe counters hold the losses" \
	"$(awk '/^probe counters/ { c = 1 } c && NF == 4 && $3 ~ /^[0-9]+$/ { n += $3 } END { print n + 0 }' "$T/burst-info.txt")" -eq "$drops"

db=$T/burst.db
"$BEYLA" analyze -q -o "$db" "$cap" >"$T/burst-analyze.txt" 2>&1
check_num "beyla analyze exits 0" $? -eq 0
check_num "the database's drops table has the losses" "$(q "$db" "SELECT sum(lost) FROM drops")" -eq "$drops"
check_num "the capture row has the END block's drop total" "$(q "$db" "SELECT drops FROM capture")" -eq "$drops"
check_num "connections that lost records are marked (lost_bytes > 0)" \
	"$(q "$db" "SELECT count(*) FROM connections WHERE lost_bytes > 0")" -ge 1
check_num "parse_stats counts them" \
	"$(q "$db" "SELECT value FROM parse_stats WHERE name='conns_lost_events'")" -eq \
	"$(q "$db" "SELECT count(*) FROM connections WHERE lost_bytes > 0")"
check_num "spans still tile exactly where records were lost" \
	"$(q "$db" "SELECT count(*) FROM spans WHERE kind='server' AND queue_ns + processing_ns + coalesce(tx_queue_ns, 0) <> duration_ns")" -eq 0
stop_bg "$master"

# A clean run of the same server is not marked: the mark means records were lost.
start_bg nginx2 nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log"
master=$BG_PID
wait_for_port "$port" || bail "nginx listens on port $port again"
record_start "$T/clean.bz.zst" -p "$master" || bail "beyla record starts"
curl -s -o /dev/null -o /dev/null "http://127.0.0.1:$port/" "http://127.0.0.1:$port/"
sleep 0.3
record_stop INT
"$BEYLA" analyze -q -o "$T/clean.db" "$T/clean.bz.zst" >/dev/null 2>&1
check_num "without drops no connection is marked" \
	"$(q "$T/clean.db" "SELECT count(*) FROM connections WHERE lost_bytes > 0")" -eq 0
check_num "without drops closed connections have lost_bytes 0" \
	"$(q "$T/clean.db" "SELECT count(*) FROM connections WHERE closed_ns IS NOT NULL AND lost_bytes = 0")" -ge 1
stop_bg "$master"

# --- 2. hundreds of forks, execs and exits ----------------------------------------
N=300
hport=$(free_port)
mkdir -p "$T/www/child"
for ((i = 0; i < N; i++)); do echo "child $i" >"$T/www/child/$i"; done
start_bg www "$PYTHON" -m http.server --bind 127.0.0.1 --directory "$T/www" "$hport"
www=$BG_PID
wait_for_port "$hport" || bail "http.server listens on $hport"

cap=$T/forks.bz.zst
record_start "$cap" -- "$PYTHON" "$E2E_ROOT/tests/servers/forker.py" "$N" "$hport" ||
	bail "beyla record -- forker.py starts"
record_wait 120
check_num "recorder exits 0 when the command exits" "${REC_RC:-none}" -eq 0
check_grep "the command's line: all children ran" "children=$N execs=$((N / 2)) ok=$N" "$REC_LOG.out"

"$BEYLA" info --dump "$cap" >"$T/forks-dump.txt" 2>&1
check_num "a FORK record for every child" "$(grep -c '^FORK ' "$T/forks-dump.txt")" -eq "$N"
check_num "an EXEC record for every child that exec'd (plus the command's own)" \
	"$(grep -c '^EXEC ' "$T/forks-dump.txt")" -eq $((N / 2 + 1))
check_num "an EXIT record for every child and the command" "$(grep -c '^EXIT ' "$T/forks-dump.txt")" -eq $((N + 1))
check_num "the exec'd children exit 3" "$(grep -c '^EXIT .* code=3$' "$T/forks-dump.txt")" -eq $((N / 2))
"$BEYLA" info "$cap" >"$T/forks-info.txt" 2>&1
check_grep "no drops" '^ *drops: +0' "$T/forks-info.txt"

db=$T/forks.db
"$BEYLA" analyze -q -o "$db" "$cap" >"$T/forks-analyze.txt" 2>&1
check_num "beyla analyze exits 0" $? -eq 0
check_num "a process row for the command and every child" "$(q "$db" "SELECT count(*) FROM processes")" -eq $((N + 1))
check_num "every child's request is a client span of that child, 200" \
	"$(q "$db" "SELECT count(DISTINCT pid) FROM spans WHERE kind='client' AND http_route='/child/{id}' AND http_status_code=200")" -eq "$N"
check_num "each child made exactly one" \
	"$(q "$db" "SELECT count(*) FROM spans WHERE kind='client' AND http_route='/child/{id}'")" -eq "$N"
check_num "every child's exit code is recorded (a wait status: 3 << 8 = 768)" \
	"$(q "$db" "SELECT count(*) FROM processes WHERE exit_code IN (0, 768) AND forked_from IS NOT NULL")" -eq "$N"
stop_bg "$www"

finish
