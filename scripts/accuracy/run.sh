#!/usr/bin/env bash
# scripts/accuracy/run.sh - does beyla's server span match what real clients felt?
# (`make accuracy`; issue 4.)  Needs root, a built ./beyla, and scripts/setup.sh's servers.
#
# For each server (handler of known cost on GET /work), two runs on loopback, each
# with `beyla record -p PID...` attached (the *-tls servers serve HTTPS through
# OpenSSL, with a throwaway self-signed certificate made here, and the client
# speaks TLS: loadgen -s; gunicorn-unix is gunicorn behind nginx over a UNIX
# socket, both recorded, and gives a second row, gunicorn-unix:backend, for the
# backend's spans as nginx saw them):
#   noload     1 keep-alive connection, sequential requests;
#   saturated  ACC_SAT_ARGS of scripts/accuracy/loadgen (default 12 keep-alive
#              connections of 3 requests each + 10 new-connection-per-request
#              clients = 16 concurrent clients).
# The CPU-bound servers (issue 20: *-cpu) run on one CPU (taskset -c
# ACC_SERVER_CPU, default 0: the server and every process it forks) and their
# clients, warm-up included, on another (taskset -c ACC_CLIENT_CPU, default 1);
# their handler busy-loops until its thread has used ACC_CPU_COST_MS of CPU
# (default 10, ACC_HANDLER does not apply) and reports the CPU it used in each
# response (X-Handler-Cpu-Ns, loadgen's handler_cpu_ns), and "saturated" is
# ACC_CPU_SAT_ARGS (default 8 keep-alive clients, -c 8 -r 0):
#   fork-cpu       http.server with socketserver.ForkingMixIn, a process per connection,
#                  with http.server's defaults, Nagle on (ACC_FORK_NAGLE=0: TCP_NODELAY),
#                  as issue 20's server: its response is two writes (head, body);
#   pool-cpu       servers/py_pool.py: a selectors loop reads every request and hands it
#                  to a ThreadPoolExecutor of 4 threads, which handle and write;
#   gunicorn4-cpu  gunicorn, 4 sync workers, the Flask app (ACC_HANDLER=cpu).
# Then `beyla analyze`, and scripts/accuracy/accuracy.py joins every client request
# to its server span (client port + connection time, then order on the connection)
# and prints one row per server and load (see docs/accuracy.md for the columns).
#
# Knobs (environment):
#   ACC_SERVERS     servers to run (default: python threading gunicorn express nginx go java
#                   nginx-tls python-tls gunicorn-unix fork-cpu pool-cpu gunicorn4-cpu)
#   ACC_LOADS       loads to run (default: noload saturated)
#   ACC_DURATION    seconds of load per saturated run (default 3)
#   ACC_NOLOAD_DURATION  seconds per no-load run (default 2)
#   ACC_COST_MS     handler cost in ms (default 5; nginx serves a static file, cost 0)
#   ACC_HANDLER     sleep (default; I/O-bound handler) or spin (CPU-bound busy loop)
#   ACC_SAT_ARGS    loadgen options of the saturated run (default "-c 6 -r 3 -n 10")
#   ACC_CPU_SAT_ARGS     the same for the *-cpu servers (default "-c 8 -r 0")
#   ACC_CPU_COST_MS      CPU time of the *-cpu servers' handler in ms (default 10)
#   ACC_SERVER_CPU, ACC_CLIENT_CPU  CPUs of the *-cpu servers and of their clients (0, 1)
#   ACC_FORK_NAGLE  1 (default): fork-cpu leaves Nagle on; 0: it sets TCP_NODELAY
#   ACC_RECORD_ARGS extra `beyla record` options (e.g. --syscall-start)
#   ACC_RESULTS     results file, one JSON object per row (default: a scratch file)
#   ACC_DOC         markdown file whose generated section is rewritten (default
#                   docs/accuracy.md when every server and load ran; "" for none)
# Exit status: 0 if every run produced a row (targets missed or not: see the table).
set -uo pipefail

ACC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$ACC_DIR/../.." && pwd)
# shellcheck source=tests/lib.sh
. "$ROOT/tests/lib.sh"
require_recording_env
need ss nginx go javac java node cc openssl taskset

ALL_SERVERS="python threading gunicorn express nginx go java nginx-tls python-tls gunicorn-unix fork-cpu pool-cpu gunicorn4-cpu"
SERVERS=${ACC_SERVERS:-$ALL_SERVERS}
LOADS=${ACC_LOADS:-noload saturated}
DURATION=${ACC_DURATION:-3}
NOLOAD_DURATION=${ACC_NOLOAD_DURATION:-2}
COST_MS=${ACC_COST_MS:-5}
HANDLER=${ACC_HANDLER:-sleep}
SAT_ARGS=${ACC_SAT_ARGS:--c 6 -r 3 -n 10}
CPU_SAT_ARGS=${ACC_CPU_SAT_ARGS:--c 8 -r 0}
CPU_COST_MS=${ACC_CPU_COST_MS:-10}
SERVER_CPU=${ACC_SERVER_CPU:-0}
CLIENT_CPU=${ACC_CLIENT_CPU:-1}
FORK_NAGLE=${ACC_FORK_NAGLE:-1}
read -r -a REC_EXTRA <<<"${ACC_RECORD_ARGS:-}"
RESULTS=${ACC_RESULTS:-$T/results.jsonl}
if [ -z "${ACC_DOC+x}" ] && [ "$SERVERS" = "$ALL_SERVERS" ] && [ "$LOADS" = "noload saturated" ]; then
	DOC=$ROOT/docs/accuracy.md
else
	DOC=${ACC_DOC:-}
fi
# Built into this run's scratch directory, not a shared cache: two harnesses at once
# (work trees, the smoke test of another checkout) would replace each other's binaries.
BIN=$T/bin
mkdir -p "$BIN"
: >"$RESULTS"

# --- build the load client and the compiled servers (outside the work tree) ---------
# OpenSSL linked in statically: beyla's OpenSSL uprobes are placed on the system's
# libssl.so file, for every process that maps it; a client that mapped it would
# trap into them on every SSL_read/SSL_write, inside its own timed interval.
cc -O2 -Wall -pthread -o "$BIN/loadgen" "$ACC_DIR/loadgen.c" \
	-Wl,-Bstatic -lssl -lcrypto -Wl,-Bdynamic -ldl 2>"$T/loadgen-cc.log" ||
	bail "loadgen builds (with a static OpenSSL: libssl-dev)" "$(tail -n 3 "$T/loadgen-cc.log")"
if [[ " $SERVERS " == *"-tls "* ]]; then
	# a throwaway self-signed certificate (P-256: the handshake's signature is cheap)
	mkdir -p "$T/tls"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj /CN=localhost -keyout "$T/tls/key.pem" -out "$T/tls/cert.pem" >"$T/tls/req.log" 2>&1 ||
		bail "openssl req makes a certificate" "$(tail -n 3 "$T/tls/req.log")"
fi
if [[ " $SERVERS " == *" go "* ]]; then
	(cd "$ACC_DIR/servers" && GO111MODULE=off go build -o "$BIN/goserver" server.go) ||
		bail "go server builds"
fi
if [[ " $SERVERS " == *" java "* ]]; then
	javac -d "$BIN/java" "$ACC_DIR/servers/Server.java" || bail "java server builds"
fi
if [[ " $SERVERS " == *"-cpu "* ]]; then
	# one CPU for the server, another for its clients (both exist, and differ)
	if ! taskset -c "$SERVER_CPU" true 2>/dev/null || ! taskset -c "$CLIENT_CPU" true 2>/dev/null ||
		[ "$SERVER_CPU" = "$CLIENT_CPU" ]; then
		bail "CPUs $SERVER_CPU (server) and $CLIENT_CPU (clients) exist and differ" "$(nproc) CPUs online"
	fi
fi
if [[ " $SERVERS " == *" gunicorn "* || " $SERVERS " == *" gunicorn-unix "* || " $SERVERS " == *" gunicorn4-cpu "* ]]; then
	[ -x "$BEYLA_VENV/bin/gunicorn" ] || bail "gunicorn installed" "run: sudo bash scripts/setup.sh"
fi
if [[ " $SERVERS " == *" express "* ]]; then
	[ -d "$BEYLA_NODE_MODULES/express" ] || bail "express installed" "run: sudo bash scripts/setup.sh"
fi

# wait_sock PATH MASTER WORKERS [SECONDS]: the UNIX socket PATH exists and MASTER
# has WORKERS children (gunicorn listens in the master, then forks its workers).
wait_sock() {
	local i secs=${4:-20}
	for ((i = 0; i < secs * 20; i++)); do
		[ -S "$1" ] && [ "$(pgrep -P "$2" | wc -l)" -ge "$3" ] && return 0
		sleep 0.05
	done
	log "no $1 with $3 workers of $2 after ${secs}s"
	return 1
}

# start_server NAME PORT: starts it, waits for the port; sets SRV_PIDS (every
# process to record and stop: for gunicorn-unix its backend and nginx), SRV_COST, SRV_TLS (loadgen's -s, or
# empty), SRV_PROXIED (1: nginx in front of a recorded backend, whose spans
# get a row of their own) and CLI (the command prefix of its load clients:
# taskset for a *-cpu server).
start_server() {
	local name=$1 port=$2 d ssl='' tls='' sock pin=()
	SRV_COST=$COST_MS
	SRV_TLS=
	SRV_PROXIED=
	SRV_PIDS=()
	CLI=()
	if [[ "$name" == *-cpu ]]; then
		SRV_COST=$CPU_COST_MS
		pin=(taskset -c "$SERVER_CPU")
		CLI=(taskset -c "$CLIENT_CPU")
	fi
	case $name in
	fork-cpu)
		start_bg "srv-$name" "${pin[@]}" env ACC_NAGLE="$FORK_NAGLE" \
			"$PYTHON" "$ACC_DIR/servers/py_http.py" fork "$port" "$CPU_COST_MS" cpu ;;
	pool-cpu) start_bg "srv-$name" "${pin[@]}" "$PYTHON" "$ACC_DIR/servers/py_pool.py" "$port" "$CPU_COST_MS" cpu 4 ;;
	gunicorn4-cpu)
		start_bg "srv-$name" "${pin[@]}" env ACC_COST_MS="$CPU_COST_MS" ACC_HANDLER=cpu \
			"$BEYLA_VENV/bin/python" "$BEYLA_VENV/bin/gunicorn" -k sync -w 4 -b "127.0.0.1:$port" \
			--backlog 128 --chdir "$ACC_DIR/servers" --log-level warning flask_app:app ;;
	python) start_bg "srv-$name" "$PYTHON" "$ACC_DIR/servers/py_http.py" single "$port" "$COST_MS" "$HANDLER" ;;
	python-tls)
		SRV_TLS=-s
		start_bg "srv-$name" "$PYTHON" "$ACC_DIR/servers/py_http.py" single "$port" "$COST_MS" "$HANDLER" \
			"$T/tls/cert.pem" "$T/tls/key.pem" ;;
	threading) start_bg "srv-$name" "$PYTHON" "$ACC_DIR/servers/py_http.py" threading "$port" "$COST_MS" "$HANDLER" ;;
	gunicorn)
		start_bg "srv-$name" env ACC_COST_MS="$COST_MS" ACC_HANDLER="$HANDLER" \
			"$BEYLA_VENV/bin/python" "$BEYLA_VENV/bin/gunicorn" -k sync -w 2 -b "127.0.0.1:$port" \
			--backlog 128 --chdir "$ACC_DIR/servers" --log-level warning flask_app:app ;;
	express) start_bg "srv-$name" env NODE_PATH="$BEYLA_NODE_MODULES" node "$ACC_DIR/servers/express_app.js" "$port" "$COST_MS" "$HANDLER" ;;
	go) start_bg "srv-$name" "$BIN/goserver" "$port" "$COST_MS" "$HANDLER" ;;
	java) start_bg "srv-$name" java -XX:+UseSerialGC -Xss512k -Dsun.net.httpserver.nodelay=true -cp "$BIN/java" Server "$port" "$COST_MS" "$HANDLER" ;;
	nginx | nginx-tls)
		SRV_COST=0
		if [ "$name" = nginx-tls ]; then
			SRV_TLS=-s ssl=ssl
			tls="ssl_certificate $T/tls/cert.pem; ssl_certificate_key $T/tls/key.pem;"
		fi
		d=$T/nginx-$port
		mkdir -p "$d/www"
		printf 'ok\n' >"$d/www/work"
		sed -e "s|@DIR@|$d|g" -e "s|@PORT@|$port|g" -e "s|@SSL@|$ssl|g" -e "s|@TLS@|$tls|g" \
			"$ACC_DIR/servers/nginx.conf" >"$d/nginx.conf"
		start_bg "srv-$name" nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" ;;
	gunicorn-unix)
		# the same gunicorn as above on a UNIX socket, nginx in front of it
		SRV_PROXIED=1
		d=$T/proxy-$port
		sock=$d/gunicorn.sock
		mkdir -p "$d"
		start_bg "srv-$name-backend" env ACC_COST_MS="$COST_MS" ACC_HANDLER="$HANDLER" \
			"$BEYLA_VENV/bin/python" "$BEYLA_VENV/bin/gunicorn" -k sync -w 2 -b "unix:$sock" \
			--backlog 128 --chdir "$ACC_DIR/servers" --log-level warning flask_app:app
		SRV_PIDS+=("$BG_PID")
		wait_sock "$sock" "$BG_PID" 2 || return 1
		sed -e "s|@DIR@|$d|g" -e "s|@PORT@|$port|g" -e "s|@SOCK@|$sock|g" \
			"$ACC_DIR/servers/nginx-proxy.conf" >"$d/nginx.conf"
		start_bg "srv-$name" nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" ;;
	*) bail "known server $name" ;;
	esac
	SRV_PIDS+=("$BG_PID")
	wait_for_port "$port" 20
}

# stop_servers: stops every process start_server started.
stop_servers() {
	local p
	for p in "${SRV_PIDS[@]}"; do stop_bg "$p"; done
}

# target_pids PID: PID and its children (gunicorn's and nginx's workers).
target_pids() {
	local p
	echo "$1"
	for p in $(pgrep -P "$1"); do target_pids "$p"; done
}

# run_one SERVER LOAD: one row in $RESULTS (two for a proxied server).
run_one() {
	local name=$1 load=$2 port cap csv db args pids=() p s nrows
	port=$(free_port)
	if ! start_server "$name" "$port"; then
		_not_ok "$name listens on $port" "$(tail -n 3 "$T/srv-$name"*.log)"
		stop_servers
		return 1
	fi
	# Warm-up outside the recording (JIT, imports, worker spawn), then settle.
	"${CLI[@]}" "$BIN/loadgen" ${SRV_TLS:+"$SRV_TLS"} -p "$port" -u /work -c 4 -d 0.5 -o /dev/null 2>/dev/null
	sleep 0.3
	for s in "${SRV_PIDS[@]}"; do
		for p in $(target_pids "$s"); do pids+=(-p "$p"); done
	done
	cap=$T/$name-$load.bz.zst csv=$T/$name-$load.csv db=$T/$name-$load.db
	if ! record_start "$cap" -q "${REC_EXTRA[@]}" "${pids[@]}"; then
		_not_ok "$name/$load: beyla record starts"
		stop_servers
		return 1
	fi
	if [ "$load" = noload ]; then
		args=(-c 1 -r 0 -d "$NOLOAD_DURATION")
	elif [[ "$name" == *-cpu ]]; then
		read -r -a args <<<"$CPU_SAT_ARGS"
		args+=(-d "$DURATION")
	else
		read -r -a args <<<"$SAT_ARGS"
		args+=(-d "$DURATION")
	fi
	"${CLI[@]}" "$BIN/loadgen" ${SRV_TLS:+"$SRV_TLS"} -p "$port" -u /work "${args[@]}" -o "$csv" 2>"$T/$name-$load.loadgen.log"
	sleep 0.3 # let the last responses and closes reach the recorder
	record_stop INT
	stop_servers
	"$BEYLA" analyze -q --force -o "$db" "$cap" 2>"$T/$name-$load.analyze.log" ||
		log "$name/$load: beyla analyze exited $? (see $T/$name-$load.analyze.log)"
	nrows=1
	[ -z "$SRV_PROXIED" ] || nrows=2
	if ! "$PYTHON" "$ACC_DIR/accuracy.py" row "$csv" "$db" "$name" "$load" "$SRV_COST" \
		"$([ -n "$SRV_TLS" ] && echo https || echo http)" ${SRV_PROXIED:+--proxied} >>"$RESULTS"; then
		_not_ok "$name/$load: joined"
		return 1
	fi
	tail -n "$nrows" "$RESULTS" | "$PYTHON" -c 'import json,sys
for l in sys.stdin:
    r = json.loads(l)
    print("# %s/%s: sent %d matched %d lost %d med err %s p95 err %s misses %s unmatched %s drops %s" % (r["server"],
          r["load"], r["ok"], r["matched"], r["lost"], r["med_err"], r["p95_err"], r["misses"], r["unmatched"], r["drops"]))
    if r.get("cpu_bound"):
        print("#   handler CPU %s ms, on-CPU %s ms (%s), rx backlog %s ms, tx queue %s ms (%s of the spans)" % (
              r["handler_cpu_ms"], r["med_on_cpu_ms"], r["on_cpu_err"], r["mean_rx_backlog_ms"],
              r["mean_tx_queue_ms"], r["tx_queue_share"]))'
}

failed=0
for s in $SERVERS; do
	for l in $LOADS; do
		run_one "$s" "$l" || failed=1
	done
done

echo
"$PYTHON" "$ACC_DIR/accuracy.py" table "$RESULTS"

if [ -n "$DOC" ]; then
	gen=$T/generated.md
	{
		echo "<!-- BEGIN GENERATED by scripts/accuracy/run.sh: do not edit by hand -->"
		echo "Generated $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n): $(nproc) vCPU" \
			"($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), Linux $(uname -r)," \
			"$("$BEYLA" --version 2>/dev/null | head -n 1)."
		echo
		echo "Command: \`sudo make accuracy\` (= \`scripts/accuracy/run.sh\`), handler \`$HANDLER\` of ${COST_MS} ms," \
			"no-load ${NOLOAD_DURATION} s (\`loadgen -c 1\`), saturated ${DURATION} s (\`loadgen $SAT_ARGS\`;" \
			"the \`*-cpu\` servers: handler \`cpu\` of ${CPU_COST_MS} ms of CPU, server on CPU $SERVER_CPU," \
			"clients on CPU $CLIENT_CPU, \`loadgen $CPU_SAT_ARGS\`, fork-cpu with Nagle $([ "$FORK_NAGLE" = 1 ] && echo on || echo off))," \
			"recorder options: \`${ACC_RECORD_ARGS:-(default)}\`."
		echo
		"$PYTHON" "$ACC_DIR/accuracy.py" table "$RESULTS" --md
		echo "<!-- END GENERATED -->"
	} >"$gen"
	if [ -f "$DOC" ] && grep -q 'BEGIN GENERATED' "$DOC"; then
		awk -v gen="$gen" '
			/<!-- BEGIN GENERATED/ { while ((getline l < gen) > 0) print l; skip = 1; next }
			/<!-- END GENERATED/ { skip = 0; next }
			!skip' "$DOC" >"$DOC.tmp" && mv "$DOC.tmp" "$DOC"
	else
		{ echo "# Accuracy: server spans against what real clients saw"; echo; cat "$gen"; } >"$DOC"
	fi
	log "table written to ${DOC#"$ROOT"/}"
fi
[ -z "${ACC_RESULTS:-}" ] || log "results: $RESULTS"
[ "$failed" -eq 0 ] || { CHECKS_FAILED=$((CHECKS_FAILED + 1)); }
exit "$failed"
