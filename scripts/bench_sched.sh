# bench_sched.sh - what `beyla record --sched` costs (sourced by
# scripts/bench.sh; needs what bench_lib.sh needs, and bench_lib.sh).
#
#   URL=http://... REC_TARGET=(-p PID) bench_sched_rounds "LABEL"
#
# Rounds interleave three load runs in a rotating order: without recording
# ("off"), under `beyla record REC_TARGET -q` ("on") and under the same with
# --sched ("sched").  Per round: requests/s of each, the ratios on/off,
# sched/off and sched/on, scheduler events per request and drops; then, as
# medians, the machine's busy CPU per request in each mode and the
# recorder's own.  sched_switch and sched_waking run for every context
# switch of the machine, the load generator's and the kernel's included,
# so a server that switches often (one that forks, or blocks per request)
# pays more than a busy event loop.
# shellcheck shell=bash

bench_sched_rounds() {
	local label=$1 r k mode off on sched ratio sratio son sw wk drops cap
	local modes=(off on sched)
	local ratios=() sratios=() sons=() sws=() wks=() drops_all=()
	local busy_off=() busy_on=() busy_sched=() rec_on=() rec_sched=()
	echo "$label: $(loadgen_line), $ROUNDS rounds; $(uname -r), $(nproc) CPUs"
	echo "recorder: $BEYLA record ${REC_TARGET[*]} -q ${EXTRA[*]}   (sched: the same with --sched)"
	run_wrk 1 # warm-up
	printf '%-6s %9s %9s %9s %7s %7s %9s %8s %8s %6s\n' round off_rps on_rps sched_rps on/off sch/off sch/on \
		sw/req wake/req drops
	for ((r = 1; r <= ROUNDS; r++)); do
		for ((k = 0; k < 3; k++)); do
			mode=${modes[$(((k + r) % 3))]}
			case $mode in
			off)
				run_measured "$DURATION"
				off=$RPS
				busy_off+=("$BUSY_US")
				;;
			on)
				record_on "$T/on.bz.zst"
				run_measured "$DURATION"
				on=$RPS
				busy_on+=("$BUSY_US") rec_on+=("$REC_US")
				record_off
				rm -f "$T/on.bz.zst"
				;;
			sched)
				cap=$T/sched.bz.zst
				record_on "$cap" --sched
				run_measured "$DURATION"
				sched=$RPS
				busy_sched+=("$BUSY_US") rec_sched+=("$REC_US")
				record_off
				"$BEYLA" info "$cap" >"$T/info-sched.txt" 2>&1 || die "beyla info failed: $(tail -n 5 "$T/info-sched.txt")"
				sw=$(per_request "$T/info-sched.txt" sched_switch "$REQS")
				wk=$(per_request "$T/info-sched.txt" sched_wakeup "$REQS")
				drops=$(info_drops "$T/info-sched.txt")
				rm -f "$cap"
				;;
			esac
		done
		ratio=$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", b ? a / b : 0 }')
		sratio=$(awk -v a="$sched" -v b="$off" 'BEGIN { printf "%.3f", b ? a / b : 0 }')
		son=$(awk -v a="$sched" -v b="$on" 'BEGIN { printf "%.3f", b ? a / b : 0 }')
		ratios+=("$ratio") sratios+=("$sratio") sons+=("$son") sws+=("$sw") wks+=("$wk") drops_all+=("${drops:-?}")
		printf '%-6s %9s %9s %9s %7s %7s %9s %8s %8s %6s\n' "$r" "$off" "$on" "$sched" "$ratio" "$sratio" "$son" \
			"$sw" "$wk" "${drops:-?}"
	done
	printf '%-6s %9s %9s %9s %7s %7s %9s %8s %8s %6s\n' median - - - "$(median "${ratios[@]}")" \
		"$(median "${sratios[@]}")" "$(median "${sons[@]}")" "$(median "${sws[@]}")" "$(median "${wks[@]}")" \
		"$(printf '%s\n' "${drops_all[@]}" | awk '$1 ~ /^[0-9]+$/ { n += $1; next } { u = 1 } END { print u ? "?" : n + 0 }')"
	echo "CPU per request (us, medians; the machine's 'busy' is the server, the load, the recorder and the kernel):"
	printf '  %-22s %8s %8s %8s\n' "" off on sched
	printf '  %-22s %8s %8s %8s\n' "machine busy" "$(median "${busy_off[@]}")" "$(median "${busy_on[@]}")" \
		"$(median "${busy_sched[@]}")"
	printf '  %-22s %8s %8s %8s\n' "recorder process" - "$(median "${rec_on[@]}")" "$(median "${rec_sched[@]}")"
}
