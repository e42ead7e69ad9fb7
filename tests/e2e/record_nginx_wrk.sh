#!/usr/bin/env bash
# record_nginx_wrk.sh - record a single-worker nginx (--exe) under wrk
# load (keep-alive, 8 connections, 2 s) and check that every request wrk
# completed is in the capture, with no drops, and that the worker (a fork of
# the master) is a target.  Then the benchmark floor (--empty-hooks): every
# probe attached, nothing recorded per request, yet connections still are.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
require_recording_env
need nginx wrk ss

CONNS=8
SLACK=$((2 * CONNS)) # requests in flight when wrk stops, and wrk's reconnects
port=$(free_port)
mkdir -p "$T/nginx"
sed -e "s|@DIR@|$T/nginx|g" -e "s|@PORT@|$port|g" "$E2E_ROOT/scripts/nginx-bench.conf" >"$T/nginx/nginx.conf"
# A copy under a name of its own, so --exe matches this nginx and not
# another one that may run on the machine.
cp "$(command -v nginx)" "$T/beyla-test-nginx"
start_bg nginx "$T/beyla-test-nginx" -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log"
master=$BG_PID
wait_for_port "$port" || bail "nginx listens on port $port" "$(tail -n 3 "$T/nginx.log" "$T/nginx/error.log" 2>/dev/null)"
worker=
for ((i = 0; i < 50 && ${#worker} == 0; i++)); do
	worker=$(pgrep -P "$master" | head -n1)
	[ -n "$worker" ] || sleep 0.1
done
[ -n "$worker" ] || bail "nginx started a worker process"

# record_under_wrk CAP SECONDS INFO [OPTION...]: records our nginx into CAP
# while wrk runs for SECONDS, stops with SIGINT, writes `beyla info` to INFO;
# sets REQS (what wrk completed).
record_under_wrk() {
	local cap=$1 secs=$2 info=$3 what="beyla record --exe beyla-test-nginx${4:+ ${*:4}}"
	shift 3
	record_start "$cap" --exe 'beyla-test-nginx$' "$@" || bail "$what starts"
	wrk -t1 -c"$CONNS" -d"$secs"s "http://127.0.0.1:$port/" >"$T/wrk.txt" 2>&1
	REQS=$(awk '/ requests in / { print $1 }' "$T/wrk.txt")
	check_num "wrk completed requests ($what)" "${REQS:-0}" -gt 1000
	record_stop INT
	check_num "$what exits 0 after SIGINT" "${REC_RC:-none}" -eq 0
	"$BEYLA" info "$cap" >"$info" 2>&1
	check_num "beyla info exits 0 (complete) on the capture of $what" $? -eq 0
}

cap=$T/nginx.bz.zst
record_under_wrk "$cap" 2 "$T/info.txt"
reqs=$REQS
check_grep "beyla info says status: complete" '^[[:space:]]*status: complete' "$T/info.txt"
drops=$(info_drops "$T/info.txt")
check_num "beyla info reports zero drops" "${drops:-no drops line}" -eq 0

# The dump has a few hundred thousand DATA lines: count them in one pass and
# keep only the other lines.
"$BEYLA" info --dump "$cap" 2>"$T/dump.err" | awk -v meta="$T/meta.txt" -v pids="$master $worker" '
	BEGIN { n = split(pids, p, " "); for (i = 1; i <= n; i++) ours[p[i]] = 1 }
	/^DATA / {
		data++
		if ($0 ~ / dir=in / && $0 ~ / "GET \/ HTTP\/1\.1/) get++
		if ($0 ~ / dir=out / && $0 ~ / "HTTP\/1\.1 200 /) ok++
		if (match($0, / pid=[0-9]+ /)) { pid = substr($0, RSTART + 5, RLENGTH - 6); if (!(pid in ours)) other++ }
		next
	}
	{ print > meta }
	END { printf "data=%d get=%d ok=%d other=%d\n", data, get, ok, other }' >"$T/counts.txt"
check_num "beyla info --dump exits 0" "${PIPESTATUS[0]}" -eq 0
read -r data get ok other < <(sed 's/[a-z]*=//g' "$T/counts.txt")
log "wrk: $reqs requests; capture: $data DATA events, $get GET lines, $ok 200 responses"

check_between "DATA dir=in 'GET / HTTP/1.1' lines = wrk's requests (+ up to $SLACK in flight)" \
	"$get" "${reqs:-0}" $((${reqs:-0} + SLACK))
check_between "DATA dir=out 'HTTP/1.1 200' lines = wrk's requests (+ up to $SLACK in flight)" \
	"$ok" "${reqs:-0}" $((${reqs:-0} + SLACK))
check_num "no DATA from processes other than our nginx" "${other:-x}" -eq 0
check_num "accepted CONNs on port $port (wrk's $CONNS connections)" \
	"$(dump_count "$T/meta.txt" CONN role=accepted "local~:$port\$")" -ge "$CONNS"
check_num "PROC for the nginx master" \
	"$(dump_count "$T/meta.txt" PROC "pid=$master" 'exe~nginx')" -ge 1
check_num "PROC for the nginx worker, flagged at_start or forked" \
	"$(dump_count "$T/meta.txt" PROC "pid=$worker" 'flags~(^|[|,])(at_start|forked)([|,]|$)')" -ge 1

# --empty-hooks: what `make bench` measures as the floor must attach what a
# real recording attaches and record no reads or writes.
cap2=$T/hooks.bz.zst
record_under_wrk "$cap2" 1 "$T/info2.txt" --empty-hooks
check_grep "the argv in the capture says --empty-hooks" '^recorded by:.* [-][-]empty-hooks' "$T/info2.txt"
for p in raw:sock_recv_length raw:sock_send_length raw:sk_data_ready; do
	check_grep "probe $p attached under --empty-hooks" "^[[:space:]]*$p[[:space:]]+attached" "$T/info2.txt"
done
"$BEYLA" info --dump "$cap2" >"$T/dump2.txt" 2>&1
check_num "no DATA events under --empty-hooks" "$(grep -c '^DATA ' "$T/dump2.txt")" -eq 0
check_num "accepted CONNs still recorded under --empty-hooks" \
	"$(dump_count "$T/dump2.txt" CONN role=accepted "local~:$port\$")" -ge "$CONNS"

finish
