#!/usr/bin/env bash
# accuracy_cpu.sh - issue 20: the accuracy harness's CPU-bound servers
# (scripts/accuracy/run.sh: fork-cpu, pool-cpu, gunicorn4-cpu; server on CPU 0,
# its clients on CPU 1, a handler that burns 10 ms of CPU and says how much it
# used) on a reduced load: 0.5 s with 1 client, 1.5 s with 8 keep-alive clients.
# Fails if a request got no response or a non-2xx one, a client request has no
# server span or is not joined to one, a row lacks the handler's CPU time, or a
# row's median |client time - span total| / client time exceeds issue 20's
# target, 5 %: the check that fails when the span misses a wait of the kernel
# (fork-cpu is http.server with its defaults, Nagle on: its response body
# waits ~40 ms for the client's delayed ACK after the server's last write
# returned: the span's tx_queue_ns, to the delivery to the client's socket,
# covers it; without it the median error was 42-70 %).  It records with
# --sched (on_cpu_ns, runq_ns, blocked_ns) and also checks that each span's
# parts sum to its processing within 1 % and that the median on-CPU time is
# within 15 % of the handler's CPU time.
# About 40 s on the 2-vCPU test VM:
# e2e-timeout: 150
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
require_recording_env
need taskset cc

res=$T/results.jsonl
# (always: a check on `beyla record --help` piped into grep -q lost the
# option under the sanitizers, whose slower beyla took SIGPIPE, pipefail)
rec_args=--sched
ACC_RESULTS=$res ACC_DOC='' ACC_SERVERS='fork-cpu pool-cpu gunicorn4-cpu' ACC_RECORD_ARGS=$rec_args \
	ACC_DURATION=${ACC_DURATION:-1.5} ACC_NOLOAD_DURATION=${ACC_NOLOAD_DURATION:-0.5} \
	bash "$E2E_ROOT/scripts/accuracy/run.sh" >"$T/harness.log" 2>&1
rc=$?
check_num "the harness produced a row for every run (exit status)" "$rc" -eq 0
grep -E '^(not ok|#)' "$T/harness.log" | head -n 20

# tenths of a percent of a fraction ("nan" stays)
permille() { awk -v e="$1" 'BEGIN { if (e == "nan") print "nan"; else printf "%d", (e < 0 ? -e : e) * 1000 + 0.5 }'; }

rows=0
while IFS=$'\t' read -r server load ok lost matched med_err p95_err client_errors non_2xx cpu_ms oncpu_err sched_n sched_bad; do
	rows=$((rows + 1))
	check_num "$server/$load: client requests answered" "$ok" -gt 0
	check_num "$server/$load: no client error" "$client_errors" -eq 0
	check_num "$server/$load: every response 2xx (GET /work did its work)" "$non_2xx" -eq 0
	check_num "$server/$load: as many server spans as client requests (lost)" "$lost" -eq 0
	check_num "$server/$load: every client request joined to its span" "$matched" -eq "$ok"
	check "$server/$load: the handler reported its CPU time (${cpu_ms} ms)" test "$cpu_ms" != nan
	log "$server/$load: p95 error $(permille "$p95_err")x0.1% (target 10%, not checked on a short run)"
	check_num "$server/$load: median |client - span| / client <= 5% (x0.1%)" "$(permille "$med_err")" -le 50
	check_num "$server/$load: spans with on_cpu, runq and blocked (--sched)" "$sched_n" -eq "$matched"
	check_num "$server/$load: on_cpu + runq + blocked = processing within 1% (spans off)" "$sched_bad" -eq 0
	check_num "$server/$load: median on-CPU within 15% of the handler's CPU (x0.1%)" "$(permille "$oncpu_err")" -le 150
done < <("$PYTHON" "$E2E_ROOT/scripts/accuracy/accuracy.py" cpu-tsv "$res")
check_num "rows in the results (3 servers x 2 loads)" "$rows" -eq 6
"$PYTHON" "$E2E_ROOT/scripts/accuracy/accuracy.py" table "$res" | sed 's/^/# /'
finish
