#!/usr/bin/env bash
# tests/run.sh - runs beyla's tests and ends with one line "N passed, N failed".
#
#   tests/run.sh                 every unit test binary, then every e2e script
#   tests/run.sh unit            only build/tests/test_* (cmocka; `make unit` builds them)
#   tests/run.sh e2e             only tests/e2e/*.sh (root and a BPF-capable kernel)
#   tests/run.sh fuzz            only tests/fuzz_smoke.sh: every fuzz target, briefly
#   tests/run.sh golden          only tests/golden.sh: samples/ analysed, diffed with tests/golden/ (no root)
#   tests/run.sh [unit|e2e|fuzz|golden] WORD...   only tests whose name contains one of the WORDs
#
# What is counted: each cmocka test case, and each `ok -` / `not ok -` check
# an e2e script prints.  A binary or script that fails without reporting a
# failed case (crash, timeout, early exit) counts as one more failure.
# Logs: build/test-logs/<name>.log; the tail of a failed test's log is shown.
# Root: only the e2e scripts need it.  Run by root, everything runs directly;
# run by a user who is not root, each e2e script runs through sudo (asked
# once, up front; scripts/as-root.sh) with the variables the tests read passed
# on, while the logs and everything else stay the user's.  Without sudo the
# e2e scripts fail (they never skip).
# Per-test time limit: UNIT_TIMEOUT (default 60 s), E2E_TIMEOUT (default 120 s),
# FUZZ_TIMEOUT (default 300 s, building the fuzzers included).  An e2e script
# that needs longer says so in a line "# e2e-timeout: SECONDS" (the larger of
# the two applies).
# TEST_BUILD: where the unit test binaries are (default build; `make sanitize`
# uses build-san).  The fuzz group counts one check per fuzz target.
# Exit status: 0 if nothing failed, 1 otherwise (also when no test was found).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
TEST_BUILD=${TEST_BUILD:-build}
LOGDIR=$ROOT/$TEST_BUILD/test-logs
UNIT_TIMEOUT=${UNIT_TIMEOUT:-60}
E2E_TIMEOUT=${E2E_TIMEOUT:-120}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-300}
TAIL_LINES=${TAIL_LINES:-40}

kind=all
case "${1:-}" in
unit | e2e | fuzz | golden | all) kind=$1; shift ;;
-h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
esac
filters=("$@")

mkdir -p "$LOGDIR"
passed=0
failed=0
ran=0
failures=()

selected() { # selected NAME: no filter, or NAME contains one of the filters
	local f
	[ ${#filters[@]} -eq 0 ] && return 0
	for f in "${filters[@]}"; do
		[[ "$1" == *"$f"* ]] && return 0
	done
	return 1
}

# show_failure NAME LOG: the failed checks of a failed test (with the
# diagnostic lines under each), whatever their place in the log, then the
# end of the log: a CI report may keep only part of the output, and the
# check that failed is what it must keep.
show_failure() {
	if grep -q '^not ok' "$2"; then
		printf -- '---- failed checks in %s ----\n' "${2#"$ROOT"/}"
		awk '/^not ok/ { on = 1; n = 0; print; next } on && /^#/ && n < 6 { n++; print; next } { on = 0 }' "$2" | head -n 60
	fi
	printf -- '---- last %d lines of %s ----\n' "$TAIL_LINES" "${2#"$ROOT"/}"
	tail -n "$TAIL_LINES" "$2"
	printf -- '----\n'
}

# run_one LOG TIMEOUT CMD...: runs CMD under a time limit, output to LOG;
# sets RC (124 or 137 on timeout) and SECS.  AS_ROOT (an array, empty by
# default) goes before the time limit, so that a test run through sudo is
# also timed, and killed, as root.
AS_ROOT=()
run_one() {
	local log=$1 limit=$2 t0
	shift 2
	t0=$(date +%s.%N)
	printf '# %s\n# started %s\n' "${AS_ROOT[*]}${AS_ROOT[*]:+ }$*" "$(date -Is)" >"$log"
	# CMOCKA_MESSAGE_OUTPUT=stdout: the format parsed below, whatever the environment says.
	CMOCKA_MESSAGE_OUTPUT=stdout "${AS_ROOT[@]}" timeout -k 10 "$limit" "$@" >>"$log" 2>&1 </dev/null
	RC=$?
	SECS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
		echo "# TIMEOUT after ${limit}s" >>"$log"
	else
		echo "# exit status $RC" >>"$log"
	fi
}

# tally NAME NPASS NFAIL: adds one test file's results to the totals and reports it.
tally() {
	local name=$1 np=$2 nf=$3 log=$4 what
	if [ "$RC" -ne 0 ] && [ "$nf" -eq 0 ]; then
		nf=1 # failed without naming a failed case: crash, timeout, setup error
	fi
	passed=$((passed + np))
	failed=$((failed + nf))
	ran=$((ran + 1))
	what="$np passed, $nf failed, ${SECS}s"
	if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then what="$what, TIMEOUT"; fi
	if [ "$nf" -eq 0 ]; then
		printf 'PASS  %-40s (%s)\n' "$name" "$what"
	else
		printf 'FAIL  %-40s (%s, exit %s)\n' "$name" "$what" "$RC"
		failures+=("$name")
		show_failure "$name" "$log"
	fi
}

# e2e_as_root: not root, so the e2e scripts go through sudo.  sudo is asked
# once here (it may prompt on the terminal); each script then runs with
# `sudo -n`, which cannot hang on a prompt under the time limit.  sudo resets
# the environment, so the variables the tests and sanitizers read are passed
# on by name (HOME becomes root's, and with it the cache scripts/setup.sh
# filled when it ran through sudo).
e2e_as_root() {
	local v pass=()
	for v in $(compgen -e); do
		case $v in
		BEYLA* | E2E_* | KEEP_TMP | PYTHON | JAEGER | GO_BUILDS | MIX_SERVERS | ACC_* | ?SAN_OPTIONS)
			pass+=("$v=${!v}") ;;
		esac
	done
	AS_ROOT=(bash "$ROOT/scripts/as-root.sh" -n env "${pass[@]}")
	if ! command -v sudo >/dev/null 2>&1; then
		echo "note: the e2e tests need root and sudo is not installed: they will fail (run make test as root)"
	elif ! sudo -n true 2>/dev/null; then
		echo "note: the e2e tests need root: asking sudo (once) to run them"
		sudo -v || echo "note: sudo refused: the e2e tests will fail (run make test as root)"
	else
		echo "note: not root: each e2e test runs through sudo"
	fi
}

# --- unit tests: cmocka binaries -----------------------------------------------
if [ "$kind" = all ] || [ "$kind" = unit ]; then
	shopt -s nullglob
	for bin in "$TEST_BUILD"/tests/test_*; do
		[[ -f "$bin" && -x "$bin" ]] || continue
		name=unit/$(basename "$bin")
		selected "$name" || continue
		log=$LOGDIR/unit-$(basename "$bin").log
		run_one "$log" "$UNIT_TIMEOUT" "./$bin"
		# cmocka ends each group with "[  PASSED  ] N test(s)." and, if any
		# failed, "[  FAILED  ] N test(s), listed below:".  Sum over groups.
		np=$(awk '/^\[  PASSED  \] [0-9]+ test/ { n += $4 } END { print n + 0 }' "$log")
		nf=$(awk '/^\[  FAILED  \] [0-9]+ test\(s\), listed below/ { n += $4 } END { print n + 0 }' "$log")
		# A binary that exits 0 without cmocka's summary still counts once.
		if [ "$np" -eq 0 ] && [ "$nf" -eq 0 ] && [ "$RC" -eq 0 ]; then np=1; fi
		tally "$name" "$np" "$nf" "$log"
	done
	shopt -u nullglob
fi

# --- golden: the captures in samples/ analysed and diffed (no root) -------------------
if [ "$kind" = all ] || [ "$kind" = golden ]; then
	if selected golden/samples; then
		log=$LOGDIR/golden-samples.log
		run_one "$log" "$UNIT_TIMEOUT" bash tests/golden.sh
		np=$(grep -c '^ok - ' "$log")
		nf=$(grep -c '^not ok - ' "$log")
		tally golden/samples "$np" "$nf" "$log"
	fi
fi

# --- end-to-end tests: scripts that print ok / not ok ------------------------------
if [ "$kind" = all ] || [ "$kind" = e2e ]; then
	shopt -s nullglob
	e2e_scripts=()
	for script in tests/e2e/*.sh; do
		selected "e2e/$(basename "$script" .sh)" && e2e_scripts+=("$script")
	done
	if [ ${#e2e_scripts[@]} -gt 0 ] && [ "$(id -u)" -ne 0 ]; then
		e2e_as_root
	fi
	for script in "${e2e_scripts[@]}"; do
		name=e2e/$(basename "$script" .sh)
		log=$LOGDIR/e2e-$(basename "$script" .sh).log
		limit=$(sed -n 's/^# e2e-timeout: *\([0-9][0-9]*\) *$/\1/p' "$script" | head -n 1)
		[ -n "$limit" ] && [ "$limit" -gt "$E2E_TIMEOUT" ] || limit=$E2E_TIMEOUT
		run_one "$log" "$limit" bash "$script"
		np=$(grep -c '^ok - ' "$log")
		nf=$(grep -c '^not ok - ' "$log")
		tally "$name" "$np" "$nf" "$log"
	done
	AS_ROOT=()
	shopt -u nullglob
fi

# --- fuzz smoke: each libFuzzer target replays its corpus and runs briefly ------------
if [ "$kind" = all ] || [ "$kind" = fuzz ]; then
	if selected fuzz/smoke; then
		log=$LOGDIR/fuzz-smoke.log
		run_one "$log" "$FUZZ_TIMEOUT" bash tests/fuzz_smoke.sh
		np=$(grep -c '^ok - ' "$log")
		nf=$(grep -c '^not ok - ' "$log")
		tally fuzz/smoke "$np" "$nf" "$log"
	fi
fi

if [ "$ran" -eq 0 ]; then
	echo "no test found (kind: $kind${filters[*]:+, filter: ${filters[*]}}); build them with: make unit beyla"
	echo "0 passed, 0 failed"
	exit 1
fi
if [ ${#failures[@]} -gt 0 ]; then
	echo "failed: ${failures[*]}"
fi
echo "logs: ${LOGDIR#"$ROOT"/}/"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
