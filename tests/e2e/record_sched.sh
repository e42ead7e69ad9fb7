#!/usr/bin/env bash
# record_sched.sh - `beyla record --sched` on real servers whose handlers
# burn a known CPU time (tests/servers/sched_server.py measures it with
# time.thread_time and logs it), the server pinned to CPU 0 and its clients
# to CPU 1:
#   forks   a process per connection, 4 clients at once: on_cpu + runq +
#           blocked = processing for every span, on_cpu close to what the
#           handler measured, most of processing on the run queue (4 busy
#           processes share one CPU), and the summary says so
#   sleep   handlers that sleep: processing is blocked time
#   pool    one reader thread hands requests to a ThreadPoolExecutor: the
#           hand-off is found, the worker's on-CPU time is the handler's,
#           and queue + processing still tile the span
# and a recording without --sched: no split, and beyla info says so.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
require_recording_env
need sqlite3 ss taskset
[ "$(nproc)" -ge 2 ] || bail "at least 2 CPUs" "the server and its clients are pinned to CPUs 0 and 1"

BURN_MS=5
CLIENTS=4
REQS=12 # per client
N=$((CLIENTS * REQS))
SERVER=$E2E_ROOT/tests/servers/sched_server.py

# The load: CLIENTS keep-alive connections at once, REQS requests each,
# from CPU 1.  Prints the responses received.
cat >"$T/client.py" <<'EOF'
import socket, sys, threading
port, nclients, nreq = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
got = []
def run():
    s = socket.create_connection(("127.0.0.1", port))
    for _ in range(nreq):
        s.sendall(b"GET /burn HTTP/1.1\r\nHost: t\r\n\r\n")
        buf = b""
        while not buf.endswith(b"ok\n"):
            d = s.recv(4096)
            if not d:
                return
            buf += d
        got.append(1)
    s.close()
ts = [threading.Thread(target=run) for _ in range(nclients)]
for t in ts: t.start()
for t in ts: t.join()
print(len(got))
EOF

# scenario NAME MODE AMOUNT_MS [RECORD OPTION...]: runs the server in MODE
# pinned to CPU 0, records it into $T/NAME.bz.zst, drives the load from
# CPU 1, analyzes into $T/NAME.db.  Sets OK (responses).
scenario() {
	local name=$1 mode=$2 amount=$3 port srv
	shift 3
	port=$(free_port)
	: >"$T/cost-$name.log"
	start_bg "server-$name" taskset -c 0 "$PYTHON" "$SERVER" "$mode" "$port" "$amount" "$T/cost-$name.log"
	srv=$BG_PID
	wait_for_port "$port" || bail "$name: server listens" "$(tail -n 3 "$T/server-$name.log")"
	record_start "$T/$name.bz.zst" -q -p "$srv" "$@" || bail "beyla record $* -p $srv starts"
	OK=$(taskset -c 1 "$PYTHON" "$T/client.py" "$port" "$CLIENTS" "$REQS")
	sleep 0.2
	record_stop INT
	check_num "$name: beyla record exits 0" "${REC_RC:-none}" -eq 0
	stop_bg "$srv"
	"$BEYLA" analyze -q -f -o "$T/$name.db" "$T/$name.bz.zst" 2>"$T/analyze-$name.log"
	check_num "$name: beyla analyze exits 0" $? -eq 0
}

q() { sqlite3 "$T/$1.db" "$2"; }
# median of the numbers on stdin (integer)
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print int(v[int((NR + 1) / 2)]); else print "none" }'; }
stat() { q "$1" "SELECT value FROM parse_stats WHERE name = '$2'"; }

# --- a process per connection: the run queue ---------------------------------
scenario forks forks "$BURN_MS" --sched
check_num "forks: every request answered" "$OK" -eq "$N"
check_num "forks: a server span per request" "$(q forks "SELECT count(*) FROM span_rows WHERE kind = 'server'")" -eq "$N"
check_num "forks: every server span has the split" \
	"$(q forks "SELECT count(*) FROM span_rows WHERE kind = 'server' AND on_cpu_ns IS NOT NULL")" -eq "$N"
check_num "forks: on_cpu + runq + blocked = processing, exactly, for every span" \
	"$(q forks "SELECT count(*) FROM span_rows WHERE kind = 'server' AND on_cpu_ns + runq_ns + blocked_ns <> processing_ns")" -eq 0
check_num "forks: no part is negative" \
	"$(q forks "SELECT count(*) FROM span_rows WHERE on_cpu_ns < 0 OR runq_ns < 0 OR blocked_ns < 0")" -eq 0
check_num "forks: parse_stats counts the spans split" "$(stat forks sched_spans_split)" -eq "$N"
check_num "forks: no span without scheduler events" "$(stat forks sched_spans_no_events)" -eq 0
cost=$(awk '{ print $1 }' "$T/cost-forks.log" | median)
oncpu=$(q forks "SELECT on_cpu_ns FROM span_rows WHERE kind = 'server'" | median)
log "forks: handler CPU median ${cost} ns, beyla on_cpu median ${oncpu} ns"
# within 15 %: the handler's burn, plus the little the server does around it
check_between "forks: median on_cpu within 15 % of the handler's measured CPU time" \
	"$oncpu" "$((cost * 85 / 100))" "$((cost * 115 / 100))"
runq_pct=$(q forks "SELECT CAST(100 * sum(runq_ns) / sum(processing_ns) AS INTEGER) FROM span_rows WHERE kind = 'server'")
# 4 busy processes on one CPU: each waits for the 3 others most of the time
check_num "forks: most of processing waits for a CPU (run queue %)" "$runq_pct" -ge 50
"$BEYLA" analyze -f -o "$T/forks2.db" "$T/forks.bz.zst" >"$T/summary.txt" 2>&1
check_grep "forks: the summary has the --sched table" '^processing \(--sched\)' "$T/summary.txt"
check_grep "forks: the summary says the route waits for a CPU" 'GET /burn: [0-9]+ % of processing was spent waiting for a CPU' "$T/summary.txt"
"$BEYLA" info "$T/forks.bz.zst" >"$T/info-forks.txt" 2>&1
check_grep "forks: beyla info says the capture has scheduler events" '^scheduler: +recorded \(--sched\)' "$T/info-forks.txt"
check_grep "forks: beyla info counts sched_switch events" '^  sched_switch +[1-9]' "$T/info-forks.txt"
check_num "forks: no scheduler event lost" \
	"$(awk '$1 ~ /^sched_(switch|wakeup)$/ && NF == 4 { n += $3 } END { print n + 0 }' "$T/info-forks.txt")" -eq 0
"$BEYLA" analyze -q -f -o "$T/forks3.db" "$T/forks.bz.zst" --otlp-file "$T/forks.otlp.jsonl" 2>"$T/otlp.log"
check_grep "forks: OTLP spans carry beyla.on_cpu_ns" '"key":"beyla.on_cpu_ns"' "$T/forks.otlp.jsonl"
check_grep "forks: OTLP spans carry beyla.runq_ns" '"key":"beyla.runq_ns"' "$T/forks.otlp.jsonl"
"$BEYLA" analyze -q -f -o "$T/forks4.db" "$T/forks.bz.zst" --perfetto="$T/forks.json" 2>"$T/perfetto.log"
check_num "forks: Perfetto slices carry on_cpu_ns and runq_ns" \
	"$(grep -o '"on_cpu_ns":[0-9]*,"runq_ns":[0-9]*' "$T/forks.json" | wc -l)" -ge "$N"
"$BEYLA" report --force -o "$T/forks.html" "$T/forks.db" >"$T/report.log" 2>&1
check_num "forks: beyla report exits 0" $? -eq 0
share=$(q forks "SELECT printf('%.6f', 1.0 * sum(runq_ns) / sum(processing_ns)) FROM span_rows WHERE kind = 'server' AND incomplete = 0")
check_grep "forks: the report's routes show the run-queue share of processing ($share)" \
	"<td class=\"runq\" data-v=\"$share\">" "$T/forks.html"

# --- handlers that sleep: blocked --------------------------------------------
SLEEP_MS=20
scenario sleep sleep "$SLEEP_MS" --sched
check_num "sleep: every request answered" "$OK" -eq "$N"
check_num "sleep: on_cpu + runq + blocked = processing, exactly" \
	"$(q sleep "SELECT count(*) FROM span_rows WHERE kind = 'server' AND (on_cpu_ns IS NULL OR on_cpu_ns + runq_ns + blocked_ns <> processing_ns)")" -eq 0
blocked=$(q sleep "SELECT blocked_ns FROM span_rows WHERE kind = 'server'" | median)
# (the sleep's clock starts a few µs before the thread is switched out)
check_between "sleep: median blocked is the handler's sleep (ns)" "$blocked" $((SLEEP_MS * 975000)) $((SLEEP_MS * 1300000))
check_num "sleep: blocked is most of processing (%)" \
	"$(q sleep "SELECT CAST(100 * sum(blocked_ns) / sum(processing_ns) AS INTEGER) FROM span_rows WHERE kind = 'server'")" -ge 80

# --- a thread pool: the hand-off ----------------------------------------------
scenario pool pool "$BURN_MS" --sched
check_num "pool: every request answered" "$OK" -eq "$N"
check_num "pool: every span split" "$(q pool "SELECT count(*) FROM span_rows WHERE kind = 'server' AND on_cpu_ns IS NOT NULL")" -eq "$N"
check_num "pool: hand-offs found for (nearly) every request" "$(stat pool sched_handoffs)" -ge $((N * 9 / 10))
check_num "pool: queue + processing = duration for every span" \
	"$(q pool "SELECT count(*) FROM span_rows WHERE kind = 'server' AND queue_ns + processing_ns <> end_ns - start_ns")" -eq 0
check_num "pool: on_cpu + runq + blocked = processing" \
	"$(q pool "SELECT count(*) FROM span_rows WHERE kind = 'server' AND on_cpu_ns + runq_ns + blocked_ns <> processing_ns")" -eq 0
workers=$(awk '{ print $2 }' "$T/cost-pool.log" | sort -u | wc -l)
readers=$(q pool "SELECT count(DISTINCT tid) FROM span_rows WHERE kind = 'server'")
check_num "pool: one reader thread read every request" "$readers" -eq 1
check_num "pool: the workers that answered are other threads" \
	"$(awk '{ print $2 }' "$T/cost-pool.log" | grep -cvx "$(q pool "SELECT DISTINCT tid FROM span_rows LIMIT 1")")" -eq "$N"
log "pool: $workers worker threads"
cost=$(awk '{ print $1 }' "$T/cost-pool.log" | median)
oncpu=$(q pool "SELECT on_cpu_ns FROM span_rows WHERE kind = 'server'" | median)
log "pool: handler CPU median ${cost} ns, beyla on_cpu median ${oncpu} ns (the worker's)"
check_between "pool: median on_cpu (the worker's) within 15 % of the handler's CPU time" \
	"$oncpu" "$((cost * 85 / 100))" "$((cost * 115 / 100))"

# --- without --sched ------------------------------------------------------------
CLIENTS=1 REQS=5
scenario nosched forks "$BURN_MS"
check_num "no --sched: every request answered" "$OK" -eq 5
check_num "no --sched: no span has the split" \
	"$(q nosched "SELECT count(*) FROM span_rows WHERE on_cpu_ns IS NOT NULL OR runq_ns IS NOT NULL OR blocked_ns IS NOT NULL")" -eq 0
"$BEYLA" info "$T/nosched.bz.zst" >"$T/info-nosched.txt" 2>&1
check_grep "no --sched: beyla info says so" '^scheduler: +not recorded \(no --sched\)' "$T/info-nosched.txt"
check_grep "no --sched: the probes are reported skipped" 'raw:sched_switch +skipped .*not requested \(--sched\)' "$T/info-nosched.txt"

finish
