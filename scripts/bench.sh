#!/usr/bin/env bash
# bench.sh - what recording costs a saturated server (`make bench`; not a pass/fail test).
#
# A single-worker nginx answers `return 200 "hello\n"` on loopback; wrk drives
# it with keep-alive connections.  Rounds interleave a run without recording
# and a run under `beyla record --exe nginx -q` (alternating which goes
# first), so drift on the machine hits both sides alike.  Per round and as
# medians it prints: requests/s off and on, their ratio, events/s, drops
# (from `beyla info`), and bytes per request on disk (file size / requests).
# Targets (issue 2): ratio >= 0.90 with zero drops; <= 64 bytes per request.
#
# Knobs: ROUNDS (3), DURATION seconds per wrk run (5), CONNS (32), BEYLA (./beyla),
#        BENCH_ARGS (extra `beyla record` options, e.g. "--snaplen 0").
# Needs root (the recorder loads eBPF).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BEYLA=${BEYLA:-$ROOT/beyla}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-32}
read -r -a EXTRA <<<"${BENCH_ARGS:-}"

die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (sudo make bench)"
[ -x "$BEYLA" ] || die "$BEYLA not built (make)"
for c in nginx wrk ss; do command -v "$c" >/dev/null || die "$c missing (sudo bash scripts/setup.sh)"; done

T=$(mktemp -d /tmp/beyla-bench.XXXXXX)
NGINX_PID=
REC_PID=
cleanup() {
	[ -z "$REC_PID" ] || kill -KILL "$REC_PID" 2>/dev/null || true
	[ -z "$NGINX_PID" ] || kill -TERM -- "-$NGINX_PID" 2>/dev/null || true
	sleep 0.2
	[ -z "$NGINX_PID" ] || kill -KILL -- "-$NGINX_PID" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- nginx ---------------------------------------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$T/nginx"
sed -e "s|@DIR@|$T/nginx|g" -e "s|@PORT@|$PORT|g" "$ROOT/scripts/nginx-bench.conf" >"$T/nginx/nginx.conf"
setsid nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log" >"$T/nginx.log" 2>&1 </dev/null &
NGINX_PID=$!
for ((i = 0; i < 100; i++)); do
	[ -n "$(ss -Hltn "sport = :$PORT")" ] && break
	sleep 0.05
done
[ -n "$(ss -Hltn "sport = :$PORT")" ] || die "nginx did not start: $(cat "$T/nginx.log" "$T/nginx/error.log" 2>/dev/null)"
URL=http://127.0.0.1:$PORT/

# run_wrk SECONDS: sets RPS and REQS.
run_wrk() {
	wrk -t1 -c"$CONNS" -d"$1"s "$URL" >"$T/wrk.txt" 2>&1 || die "wrk failed: $(cat "$T/wrk.txt")"
	RPS=$(awk '/^Requests\/sec:/ { printf "%d", $2 }' "$T/wrk.txt")
	REQS=$(awk '/ requests in / { print $1 }' "$T/wrk.txt")
}

# record_on OUT: starts the recorder and returns once it has begun (see tests/lib.sh).
record_on() {
	local out=$1 i
	rm -f "$out"
	setsid env --default-signal=INT "$BEYLA" record --exe nginx -q "${EXTRA[@]}" -o "$out" \
		>"$T/record.log" 2>&1 </dev/null &
	REC_PID=$!
	for ((i = 0; i < 300; i++)); do
		kill -0 "$REC_PID" 2>/dev/null || die "recorder exited: $(cat "$T/record.log")"
		if [ -s "$out" ]; then # the first frame is written once probes are attached
			sleep 0.3
			return 0
		fi
		sleep 0.05
	done
	die "recorder did not begin within 15 s"
}

record_off() {
	kill -INT "$REC_PID"
	local rc=0
	wait "$REC_PID" || rc=$?
	REC_PID=
	[ "$rc" -eq 0 ] || die "recorder exited with $rc: $(tail -n 5 "$T/record.log")"
}

# info_num FILE KEY: first integer on the `beyla info` line "KEY: ...".
info_num() {
	grep -Ei -m1 "^[[:space:]]*$2[[:space:]]*:" "$1" | grep -Eo '[0-9]+' | head -n1 || true
}
# info_drops FILE: sum of the counts on the "drops:" line (kernel + user space).
info_drops() {
	grep -Ei -m1 '^[[:space:]]*drops[[:space:]]*:' "$1" | grep -Eo '[0-9]+' | awk '{ n += $1 } END { if (NR) print n }' || true
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "beyla bench: nginx 1 worker, wrk -t1 -c$CONNS -d${DURATION}s, $ROUNDS rounds; $(uname -r), $(nproc) CPUs"
echo "recorder: $BEYLA record --exe nginx -q ${EXTRA[*]}"
run_wrk 1 # warm-up

printf '%-6s %10s %10s %7s %10s %11s %7s %10s\n' round off_rps on_rps ratio events events/s drops bytes/req
ratios=() evps=() bpr=() drops_all=()
for ((r = 1; r <= ROUNDS; r++)); do
	order="off on"
	[ $((r % 2)) -eq 1 ] || order="on off"
	for mode in $order; do
		if [ "$mode" = off ]; then
			run_wrk "$DURATION"
			off=$RPS
		else
			cap=$T/round$r.bz.zst
			record_on "$cap"
			run_wrk "$DURATION"
			on=$RPS
			on_reqs=$REQS
			record_off
			"$BEYLA" info "$cap" >"$T/info.txt" 2>&1 || die "beyla info failed: $(tail -n 5 "$T/info.txt")"
			events=$(info_num "$T/info.txt" events)
			[ -n "$events" ] || events=$("$BEYLA" info --dump "$cap" | grep -cEv '^(PROC|EXEC|FORK|EXIT) ' || true)
			drops=$(info_drops "$T/info.txt")
			size=$(stat -c %s "$cap")
			rm -f "$cap"
		fi
	done
	ratio=$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", b ? a / b : 0 }')
	ev_s=$(awk -v e="$events" -v d="$DURATION" 'BEGIN { printf "%d", e / d }')
	b_req=$(awk -v s="$size" -v n="$on_reqs" 'BEGIN { printf "%.1f", n ? s / n : 0 }')
	ratios+=("$ratio") evps+=("$ev_s") bpr+=("$b_req") drops_all+=("${drops:-?}")
	printf '%-6s %10s %10s %7s %10s %11s %7s %10s\n' "$r" "$off" "$on" "$ratio" "$events" "$ev_s" "${drops:-?}" "$b_req"
done

m_ratio=$(median "${ratios[@]}")
m_evps=$(median "${evps[@]}")
m_bpr=$(median "${bpr[@]}")
total_drops=$(printf '%s\n' "${drops_all[@]}" | awk '$1 ~ /^[0-9]+$/ { n += $1; next } { unknown = 1 } END { print unknown ? "unknown" : n + 0 }')
printf '%-6s %10s %10s %7s %10s %11s %7s %10s\n' median - - "$m_ratio" - "$m_evps" "$total_drops" "$m_bpr"
echo
echo "throughput ratio (on/off), median: $m_ratio   (target >= 0.90)"
echo "drops, all rounds:                 $total_drops   (target 0)"
echo "bytes per request on disk, median: $m_bpr   (target <= 64)"
echo "events/s while recording, median:  $m_evps"
# The analyzer's throughput and memory (issue 3) follow: scripts/bench_analyze.sh.

# --- the analyzer (issue 3): synthetic captures, no root needed -------------------
echo
bash "$ROOT/scripts/bench_analyze.sh"

# --- the OTLP export (issue 5): spans/s to a file and to Jaeger, no root needed -----
echo
bash "$ROOT/scripts/bench_otlp.sh"
