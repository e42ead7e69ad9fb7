# bench_lib.sh - the interleaved on/off rounds of `make bench` (sourced by
# scripts/bench.sh; needs T, BEYLA, ROUNDS, DURATION, CONNS, EXTRA, die).
#
#   URL=http://... REC_TARGET=(--exe nginx) bench_rounds "LABEL"
#
# Rounds interleave three wrk runs, in an order that rotates: without
# recording ("off"), under `beyla record REC_TARGET -q` ("on"), and under
# the same recorder with --empty-hooks ("hooks": every probe attached, the
# per-request programs returning at once), so drift on the machine hits all
# alike.  The hooks run is the floor: what the kernel charges for entering
# the tracepoints and uprobes at all, which no work saved inside them can
# give back.  Per round and as medians it prints requests/s of the three,
# the ratios on/off and hooks/off, events/s, drops and bytes per request
# on disk; it sets M_RATIO, M_FLOOR, M_EVPS, M_BPR, TOTAL_DROPS and
# LAST_INFO (the `beyla info` output of the last recorded round).
# shellcheck shell=bash

# run_wrk SECONDS: sets RPS and REQS.
run_wrk() {
	wrk -t1 -c"$CONNS" -d"$1"s "$URL" >"$T/wrk.txt" 2>&1 || die "wrk failed: $(cat "$T/wrk.txt")"
	RPS=$(awk '/^Requests\/sec:/ { printf "%d", $2 }' "$T/wrk.txt")
	REQS=$(awk '/ requests in / { print $1 }' "$T/wrk.txt")
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
	local label=$1 r k mode off on hooks on_reqs events drops size cap ratio floor ev_s b_req
	local modes=(off on hooks)
	echo "$label: wrk -t1 -c$CONNS -d${DURATION}s, $ROUNDS rounds; $(uname -r), $(nproc) CPUs"
	echo "recorder: $BEYLA record ${REC_TARGET[*]} -q ${EXTRA[*]}   (hooks: the same with --empty-hooks)"
	run_wrk 1 # warm-up
	printf '%-6s %9s %9s %9s %7s %7s %10s %10s %6s %9s\n' round off_rps on_rps hooks_rps ratio floor \
		events events/s drops bytes/req
	local ratios=() floors=() evps=() bpr=() drops_all=()
	for ((r = 1; r <= ROUNDS; r++)); do
		for ((k = 0; k < 3; k++)); do
			mode=${modes[$(((k + r) % 3))]}
			case $mode in
			off)
				run_wrk "$DURATION"
				off=$RPS
				;;
			hooks)
				record_on "$T/hooks.bz.zst" --empty-hooks
				run_wrk "$DURATION"
				hooks=$RPS
				record_off
				rm -f "$T/hooks.bz.zst"
				;;
			on)
				cap=$T/round$r.bz.zst
				record_on "$cap"
				run_wrk "$DURATION"
				on=$RPS
				on_reqs=$REQS
				record_off
				"$BEYLA" info "$cap" >"$T/info.txt" 2>&1 || die "beyla info failed: $(tail -n 5 "$T/info.txt")"
				cp "$T/info.txt" "$T/last-info.txt"
				LAST_REQS=$on_reqs
				events=$(info_num "$T/info.txt" events)
				[ -n "$events" ] || events=$("$BEYLA" info --dump "$cap" | grep -cEv '^(PROC|EXEC|FORK|EXIT) ' || true)
				drops=$(info_drops "$T/info.txt")
				size=$(stat -c %s "$cap")
				rm -f "$cap"
				;;
			esac
		done
		ratio=$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", b ? a / b : 0 }')
		floor=$(awk -v a="$hooks" -v b="$off" 'BEGIN { printf "%.3f", b ? a / b : 0 }')
		ev_s=$(awk -v e="$events" -v d="$DURATION" 'BEGIN { printf "%d", e / d }')
		b_req=$(awk -v s="$size" -v n="$on_reqs" 'BEGIN { printf "%.1f", n ? s / n : 0 }')
		ratios+=("$ratio") floors+=("$floor") evps+=("$ev_s") bpr+=("$b_req") drops_all+=("${drops:-?}")
		printf '%-6s %9s %9s %9s %7s %7s %10s %10s %6s %9s\n' "$r" "$off" "$on" "$hooks" "$ratio" "$floor" \
			"$events" "$ev_s" "${drops:-?}" "$b_req"
	done

	M_RATIO=$(median "${ratios[@]}")
	M_FLOOR=$(median "${floors[@]}")
	M_EVPS=$(median "${evps[@]}")
	M_BPR=$(median "${bpr[@]}")
	TOTAL_DROPS=$(printf '%s\n' "${drops_all[@]}" | awk '$1 ~ /^[0-9]+$/ { n += $1; next } { unknown = 1 } END { print unknown ? "unknown" : n + 0 }')
	printf '%-6s %9s %9s %9s %7s %7s %10s %10s %6s %9s\n' median - - - "$M_RATIO" "$M_FLOOR" - "$M_EVPS" \
		"$TOTAL_DROPS" "$M_BPR"
	echo
	echo "throughput ratio (on/off), median: $M_RATIO   (target >= 0.90)"
	echo "empty hooks (hooks/off), median:   $M_FLOOR   (the floor: entering the hooks alone)"
	echo "drops, all rounds:                 $TOTAL_DROPS   (target 0)"
	echo "bytes per request on disk, median: $M_BPR   (target <= 64)"
	echo "events/s while recording, median:  $M_EVPS"
	LAST_INFO=$T/last-info.txt
}
