# bench_lib.sh - the interleaved on/off rounds of `make bench` (sourced by
# scripts/bench.sh; needs T, BEYLA, ROUNDS, DURATION, CONNS, EXTRA, die).
#
#   URL=http://... REC_TARGET=(--exe nginx) bench_rounds "LABEL"
#
# Rounds interleave four wrk runs, in an order that rotates: without
# recording ("off"), under `beyla record REC_TARGET -q` ("on"), under the
# same recorder with --empty-hooks ("hooks": every probe attached, the
# per-request programs returning at once) and with --snaplen 0 ("nopay":
# all the work but the payload bytes), so drift on the machine hits all
# alike.  The hooks run is the floor: what the kernel charges for entering
# the tracepoints and uprobes at all, which no work saved inside them can
# give back; nopay shows what the payload prefixes cost (copied from user
# memory, redacted, compressed).  Per round and as medians it prints
# requests/s of each, the ratios to off, events/s, drops and bytes per
# request on disk; then, as medians, the machine's busy CPU per request in
# each mode and the recorder's own; and, from one more run with the
# kernel's BPF run-time statistics on, the time each BPF program took per
# request.  Throughput swings with the host; CPU per request much less.
# Sets M_RATIO, M_FLOOR, M_EVPS, M_BPR, TOTAL_DROPS and LAST_INFO (the
# `beyla info` output of the last recorded round).
# shellcheck shell=bash

# run_wrk SECONDS: sets RPS and REQS.  LOADGEN=h2load: h2load instead of
# wrk, HTTP/2 with prior knowledge, CONNS connections of STREAMS (10)
# concurrent streams each.  WRK_LIBS: a directory put first on wrk's
# LD_LIBRARY_PATH (its own copy of libssl, which no probe sits on).
# LOADGEN=pgbench: `pgbench PGB_ARGS -c CONNS -T SECONDS` (a transaction is
# a request); LOADGEN=redis-benchmark: `redis-benchmark RB_ARGS -c CONNS`
# for SECONDS x RB_RATE requests (it counts requests, not time).
run_wrk() {
	if [ "${LOADGEN:-wrk}" = pgbench ]; then
		# shellcheck disable=SC2086 # PGB_ARGS: words
		pgbench $PGB_ARGS -c "$CONNS" -j 1 -T "$1" >"$T/wrk.txt" 2>&1 || die "pgbench failed: $(tail -n 5 "$T/wrk.txt")"
		RPS=$(awk '/^tps = / { printf "%d", $3 }' "$T/wrk.txt")
		REQS=$(awk '/^number of transactions actually processed:/ { print $6 }' "$T/wrk.txt")
		return 0
	fi
	if [ "${LOADGEN:-wrk}" = redis-benchmark ]; then
		# shellcheck disable=SC2086 # RB_ARGS: words
		redis-benchmark $RB_ARGS -c "$CONNS" -n $(($1 * ${RB_RATE:-30000})) --csv >"$T/wrk.txt" 2>&1 ||
			die "redis-benchmark failed: $(tail -n 5 "$T/wrk.txt")"
		RPS=$(awk -F'"' 'NR == 2 { printf "%d", $4 }' "$T/wrk.txt")
		REQS=$(($1 * ${RB_RATE:-30000}))
		return 0
	fi
	if [ "${LOADGEN:-wrk}" = h2load ]; then
		h2load -c"$CONNS" -m"${STREAMS:-10}" -D"$1" "$URL" >"$T/wrk.txt" 2>&1 || die "h2load failed: $(tail -n 5 "$T/wrk.txt")"
		RPS=$(awk '/^finished in/ { printf "%d", $4 }' "$T/wrk.txt")
		REQS=$(awk '/^requests:/ { print $8 }' "$T/wrk.txt")
		return 0
	fi
	LD_LIBRARY_PATH=${WRK_LIBS:-${LD_LIBRARY_PATH:-}} wrk -t1 -c"$CONNS" -d"$1"s "$URL" >"$T/wrk.txt" 2>&1 ||
		die "wrk failed: $(cat "$T/wrk.txt")"
	RPS=$(awk '/^Requests\/sec:/ { printf "%d", $2 }' "$T/wrk.txt")
	REQS=$(awk '/ requests in / { print $1 }' "$T/wrk.txt")
}

# loadgen_line: what run_wrk runs, for the headers.
loadgen_line() {
	if [ "${LOADGEN:-wrk}" = pgbench ]; then
		echo "pgbench $PGB_ARGS -c$CONNS -j1 -T$DURATION"
	elif [ "${LOADGEN:-wrk}" = redis-benchmark ]; then
		echo "redis-benchmark $RB_ARGS -c$CONNS -n$((DURATION * ${RB_RATE:-30000}))"
	elif [ "${LOADGEN:-wrk}" = h2load ]; then
		echo "h2load -c$CONNS -m${STREAMS:-10} -D$DURATION"
	else
		echo "wrk -t1 -c$CONNS -d${DURATION}s"
	fi
}

# record_on OUT [OPTION...]: starts the recorder and returns once it has begun (see tests/lib.sh).
record_on() {
	local out=$1 i
	shift
	rm -f "$out"
	setsid env --default-signal=INT "$BEYLA" record "${REC_TARGET[@]}" -q "${EXTRA[@]}" "$@" -o "$out" \
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

# proc_cpu PID: user + system CPU of a process, in clock ticks.
proc_cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# busy_cpu: CPU ticks the machine spent busy (user, nice, system, irq, softirq, steal).
busy_cpu() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
# us_per_req TICKS REQS: microseconds of CPU per request.
us_per_req() { awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", n ? t * 1e6 / hz / n : 0 }'; }

# run_measured SECONDS: run_wrk, and sets BUSY_US (the machine's busy CPU per
# request) and REC_US (the recorder's, when one runs).
run_measured() {
	local b0 r0=0 b1 r1=0
	b0=$(busy_cpu)
	[ -z "$REC_PID" ] || r0=$(proc_cpu "$REC_PID")
	run_wrk "$1"
	b1=$(busy_cpu)
	[ -z "$REC_PID" ] || r1=$(proc_cpu "$REC_PID")
	BUSY_US=$(us_per_req $((b1 - b0)) "$REQS")
	REC_US=$(us_per_req $((r1 - r0)) "$REQS")
}

# bpf_prog_times: one more recorded run with kernel.bpf_stats_enabled=1,
# printing each BPF program's run time per request (the statistics cost
# two clock reads per program run, so not during the rounds).
bpf_prog_times() {
	local old
	command -v bpftool >/dev/null || { echo "(bpftool missing: no per-program times)"; return 0; }
	old=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null) || { echo "(no kernel.bpf_stats_enabled)"; return 0; }
	bpftool -j prog show >"$T/progs_pre.json" # programs of others: not counted
	record_on "$T/stats.bz.zst"
	bpftool -j prog show >"$T/progs0.json"
	BPF_STATS_OLD=$old # restored by the cleanup too, should wrk fail
	sysctl -qw kernel.bpf_stats_enabled=1
	run_wrk "$DURATION"
	sysctl -qw kernel.bpf_stats_enabled="$old"
	BPF_STATS_OLD=
	bpftool -j prog show >"$T/progs1.json"
	record_off
	rm -f "$T/stats.bz.zst"
	python3 - "$T/progs_pre.json" "$T/progs0.json" "$T/progs1.json" "$REQS" <<'PY'
import json, sys
others = {p["id"] for p in json.load(open(sys.argv[1]))}
before = {p["id"]: p for p in json.load(open(sys.argv[2]))}
reqs = int(sys.argv[4])
rows, total = [], 0
for p in json.load(open(sys.argv[3])):
    b = before.get(p["id"], {})
    if p["id"] in others or not p.get("name", "").startswith("bz_") or "run_cnt" not in p:
        continue
    runs = p["run_cnt"] - b.get("run_cnt", 0)
    ns = p["run_time_ns"] - b.get("run_time_ns", 0)
    if runs <= 0 or not reqs:
        continue
    total += ns
    rows.append((ns / reqs, p["name"], runs / reqs, ns / runs))
print(f"BPF run time per request (one run with kernel.bpf_stats_enabled, {reqs} requests; each run")
print("includes ~60-80 ns of the statistics' own clock reads, as --empty-hooks programs show):")
print(f"  {'program':<20} {'runs/req':>8} {'ns/run':>8} {'ns/req':>8}")
for per_req, name, runs, per_run in sorted(rows, reverse=True):
    if per_req >= 1:
        print(f"  {name:<20} {runs:8.2f} {per_run:8.0f} {per_req:8.0f}")
print(f"  {'all':<20} {'':8} {'':8} {total / reqs:8.0f}")
PY
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

# per_request FILE PROBE REQS: the emitted count of a probe counter in a
# `beyla info` output, divided by the requests wrk made.
per_request() {
	awk -v p="$2" -v n="$3" '/^probe counters/ { in_c = 1 } in_c && $1 == p && NF == 4 { printf "%.2f", n ? $2 / n : 0; f = 1; exit } END { if (!f) print "?" }' "$1"
}

bench_rounds() {
	local label=$1 r k mode off on hooks nopay on_reqs events drops size cap ratio floor npr ev_s b_req
	local modes=(off on hooks nopay)
	echo "$label: $(loadgen_line), $ROUNDS rounds; $(uname -r), $(nproc) CPUs"
	echo "recorder: $BEYLA record ${REC_TARGET[*]} -q ${EXTRA[*]}   (hooks: the same with --empty-hooks;" \
		"nopay: with --snaplen 0)"
	run_wrk 1 # warm-up
	printf '%-6s %9s %9s %9s %9s %7s %7s %7s %10s %10s %6s %9s\n' round off_rps on_rps hooks_rps nopay_rps \
		ratio floor nopay events events/s drops bytes/req
	local ratios=() floors=() noprs=() evps=() bpr=() drops_all=()
	local busy_off=() busy_on=() busy_hooks=() busy_nopay=() rec_on=() rec_nopay=()
	for ((r = 1; r <= ROUNDS; r++)); do
		for ((k = 0; k < 4; k++)); do
			mode=${modes[$(((k + r) % 4))]}
			case $mode in
			off)
				run_measured "$DURATION"
				off=$RPS
				busy_off+=("$BUSY_US")
				;;
			hooks)
				record_on "$T/hooks.bz.zst" --empty-hooks
				run_measured "$DURATION"
				hooks=$RPS
				busy_hooks+=("$BUSY_US")
				record_off
				rm -f "$T/hooks.bz.zst"
				;;
			nopay)
				record_on "$T/nopay.bz.zst" --snaplen 0
				run_measured "$DURATION"
				nopay=$RPS
				busy_nopay+=("$BUSY_US") rec_nopay+=("$REC_US")
				record_off
				rm -f "$T/nopay.bz.zst"
				;;
			on)
				cap=$T/round$r.bz.zst
				record_on "$cap"
				run_measured "$DURATION"
				on=$RPS
				busy_on+=("$BUSY_US") rec_on+=("$REC_US")
				on_reqs=$REQS
				record_off
				"$BEYLA" info "$cap" >"$T/info.txt" 2>&1 || die "beyla info failed: $(tail -n 5 "$T/info.txt")"
				cp "$T/info.txt" "$T/last-info.txt"
				LAST_REQS=$on_reqs
				events=$(info_num "$T/info.txt" events)
				[ -n "$events" ] || events=$("$BEYLA" info --dump "$cap" | grep -cEv '^(PROC|EXEC|FORK|EXIT) ' || true)
				drops=$(info_drops "$T/info.txt")
				size=$(stat -c %s "$cap")
				# BENCH_KEEP_CAP: where the last round's capture is kept (the
				# analyzer's throughput on it)
				if [ -n "${BENCH_KEEP_CAP:-}" ]; then mv "$cap" "$BENCH_KEEP_CAP"; else rm -f "$cap"; fi
				;;
			esac
		done
		ratio=$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", b ? a / b : 0 }')
		floor=$(awk -v a="$hooks" -v b="$off" 'BEGIN { printf "%.3f", b ? a / b : 0 }')
		npr=$(awk -v a="$nopay" -v b="$off" 'BEGIN { printf "%.3f", b ? a / b : 0 }')
		ev_s=$(awk -v e="$events" -v d="$DURATION" 'BEGIN { printf "%d", e / d }')
		b_req=$(awk -v s="$size" -v n="$on_reqs" 'BEGIN { printf "%.1f", n ? s / n : 0 }')
		ratios+=("$ratio") floors+=("$floor") noprs+=("$npr") evps+=("$ev_s") bpr+=("$b_req") drops_all+=("${drops:-?}")
		printf '%-6s %9s %9s %9s %9s %7s %7s %7s %10s %10s %6s %9s\n' "$r" "$off" "$on" "$hooks" "$nopay" \
			"$ratio" "$floor" "$npr" "$events" "$ev_s" "${drops:-?}" "$b_req"
	done

	M_RATIO=$(median "${ratios[@]}")
	M_FLOOR=$(median "${floors[@]}")
	local m_nopay
	m_nopay=$(median "${noprs[@]}")
	M_EVPS=$(median "${evps[@]}")
	M_BPR=$(median "${bpr[@]}")
	TOTAL_DROPS=$(printf '%s\n' "${drops_all[@]}" | awk '$1 ~ /^[0-9]+$/ { n += $1; next } { unknown = 1 } END { print unknown ? "unknown" : n + 0 }')
	printf '%-6s %9s %9s %9s %9s %7s %7s %7s %10s %10s %6s %9s\n' median - - - - "$M_RATIO" "$M_FLOOR" \
		"$m_nopay" - "$M_EVPS" "$TOTAL_DROPS" "$M_BPR"
	echo
	echo "throughput ratio (on/off), median: $M_RATIO   (target >= 0.90)"
	echo "empty hooks (hooks/off), median:   $M_FLOOR   (the floor: entering the hooks alone)"
	echo "no payload (nopay/off), median:    $m_nopay   (--snaplen 0: all but the payload prefixes)"
	echo "drops, all rounds:                 $TOTAL_DROPS   (target 0)"
	echo "bytes per request on disk, median: $M_BPR   (target <= 64)"
	echo "events/s while recording, median:  $M_EVPS"
	echo
	echo "CPU per request (us, medians; the machine's 'busy' is the server, wrk, the recorder and the kernel):"
	printf '  %-22s %8s %8s %8s %8s\n' "" off on hooks nopay
	printf '  %-22s %8s %8s %8s %8s\n' "machine busy" "$(median "${busy_off[@]}")" "$(median "${busy_on[@]}")" \
		"$(median "${busy_hooks[@]}")" "$(median "${busy_nopay[@]}")"
	printf '  %-22s %8s %8s %8s %8s\n' "recorder process" - "$(median "${rec_on[@]}")" - "$(median "${rec_nopay[@]}")"
	# with both CPUs saturated, throughput is the inverse of the CPU a request takes
	printf '  %-22s %8s %8s %8s %8s\n' "as a ratio (off / mode)" - \
		"$(awk -v a="$(median "${busy_off[@]}")" -v b="$(median "${busy_on[@]}")" 'BEGIN { printf "%.3f", b ? a / b : 0 }')" \
		"$(awk -v a="$(median "${busy_off[@]}")" -v b="$(median "${busy_hooks[@]}")" 'BEGIN { printf "%.3f", b ? a / b : 0 }')" \
		"$(awk -v a="$(median "${busy_off[@]}")" -v b="$(median "${busy_nopay[@]}")" 'BEGIN { printf "%.3f", b ? a / b : 0 }')"
	echo
	bpf_prog_times
	LAST_INFO=$T/last-info.txt
}

# bench_analyze_capture CAPTURE LABEL: `beyla analyze` of a recorded round's
# capture, timed: events and spans per second of the analyzer.
bench_analyze_capture() {
	local cap=$1 t0 t1 ev spans
	[ -s "$cap" ] || { echo "$2: no capture kept"; return 0; }
	ev=$("$BEYLA" info "$cap" 2>/dev/null | grep -Ei -m1 '^[[:space:]]*events[[:space:]]*:' | grep -Eo '[0-9]+' | head -n1)
	t0=$(date +%s.%N)
	"$BEYLA" analyze -q --force -o "$T/analyze.db" "$cap" >"$T/analyze.log" 2>&1 || die "beyla analyze failed: $(tail -n 3 "$T/analyze.log")"
	t1=$(date +%s.%N)
	spans=$(sqlite3 "$T/analyze.db" "SELECT count(*) FROM span_rows" 2>/dev/null || echo "?")
	awk -v l="$2" -v e="${ev:-0}" -v s="$spans" -v a="$t0" -v b="$t1" 'BEGIN {
		d = b - a; er = d > 0 ? e / d : 0; sr = (d > 0 && s ~ /^[0-9]+$/) ? s / d : 0
		printf "analyzer on the last %s capture: %d events, %s spans in %.2f s: %.0f events/s, %.0f spans/s\n",
		l, e, s, d, er, sr }'
	rm -f "$T/analyze.db" "$cap"
}
