#!/usr/bin/env bash
# fuzz.sh - builds and runs every libFuzzer target, tests/fuzz/fuzz_*.c (`make fuzz`).
#
#   scripts/fuzz.sh [TARGET...]      every target, or only those named (fuzz_redact ...)
#
# For each target, in turn:
#   1. corpus $FUZZ_CORPUS/TARGET (default build/fuzz/corpus/TARGET, kept between
#      runs): tiny generated seeds (scripts/fuzz_seeds.py), the files of
#      tests/fuzz/seeds/TARGET/ if that exists, and samples/*.bz.zst for a target
#      whose source says "fuzz-seeds: captures";
#   2. replay: every corpus input, and every tests/fuzz/crashes/TARGET-* (crashes
#      found before: regression inputs), each run once;
#   3. fuzz for FUZZ_TIME seconds (default 30) with -max_total_time, using
#      tests/fuzz/TARGET.dict if it exists.
# FUZZ_BUDGET=SECONDS instead splits that total evenly over the targets (at
# least 3 s each); tests/fuzz_smoke.sh uses it to keep CI short.
#
# Output: per target one line `ok - TARGET: ...` or `not ok - TARGET: ...`
# (inputs replayed, runs, coverage, corpus size, CPU seconds, crashes), then
# the total CPU time.  A crash, leak, timeout or out-of-memory input is copied
# to tests/fuzz/crashes/TARGET-KIND-HASH: fix the bug, rename the file after
# what it was (TARGET-what-it-was), and keep it; every replay runs it again.
# Exit status: 0 if every target built and none crashed, 1 otherwise.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
FUZZ_TIME=${FUZZ_TIME:-30}
FUZZ_BUDGET=${FUZZ_BUDGET:-}
FUZZ_CORPUS=${FUZZ_CORPUS:-$BUILD/fuzz/corpus}
CRASHES=tests/fuzz/crashes
PYTHON=${PYTHON:-python3}

say() { printf '# %s\n' "$*"; }

# cpu_children: user+system seconds of all waited-for children so far.  The
# builtin `times` must run in this shell (a $(...) subshell has no children
# of its own yet), so its output goes through a file.
TIMES_FILE=$(mktemp /tmp/beyla-fuzz-times.XXXXXX)
trap 'rm -f "$TIMES_FILE"' EXIT
cpu_children() {
	times >"$TIMES_FILE"
	CPU_NOW=$(awk 'NR == 2 {
		t = 0
		for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); t += a[1] * 60 + a[2] }
		printf "%.2f", t
	}' "$TIMES_FILE")
}

targets=()
if [ $# -gt 0 ]; then
	for t in "$@"; do
		t=$(basename "$t" .c)
		[ -f "tests/fuzz/$t.c" ] || { echo "not ok - $t: no tests/fuzz/$t.c"; exit 1; }
		targets+=("$t")
	done
else
	for f in tests/fuzz/fuzz_*.c; do
		[ -f "$f" ] && targets+=("$(basename "$f" .c)")
	done
fi
if [ ${#targets[@]} -eq 0 ]; then
	echo "not ok - fuzz: no target in tests/fuzz/fuzz_*.c"
	exit 1
fi
if [ -n "$FUZZ_BUDGET" ]; then
	FUZZ_TIME=$((FUZZ_BUDGET / ${#targets[@]}))
	[ "$FUZZ_TIME" -ge 3 ] || FUZZ_TIME=3
fi

say "building ${#targets[@]} fuzz targets (make fuzz-build)"
bins=()
for t in "${targets[@]}"; do bins+=("$BUILD/fuzz/$t"); done
mkdir -p "$BUILD/fuzz"
# One build at a time: fuzz.sh runs for different targets may share the library.
if ! flock "$BUILD/fuzz/.build.lock" make -s BUILD="$BUILD" "${bins[@]}" >"$BUILD/fuzz-build.log" 2>&1; then
	tail -n 30 "$BUILD/fuzz-build.log" | sed 's/^/#   | /'
	echo "not ok - fuzz targets build (make fuzz-build; log: $BUILD/fuzz-build.log)"
	exit 1
fi

captures=()
for f in samples/*.bz.zst; do
	[ -f "$f" ] && captures+=("$f")
done

failed=0
cpu_total=0
mkdir -p "$CRASHES"
for t in "${targets[@]}"; do
	bin=$BUILD/fuzz/$t
	corpus=$FUZZ_CORPUS/$t
	art=$BUILD/fuzz/artifacts/$t
	log=$BUILD/fuzz/$t.log
	rm -rf "$art"
	mkdir -p "$corpus" "$art"

	# 1. seeds
	caps=()
	if grep -q 'fuzz-seeds: captures' "tests/fuzz/$t.c"; then caps=("${captures[@]}"); fi
	"$PYTHON" scripts/fuzz_seeds.py "$t" "$corpus" "${caps[@]}" >/dev/null ||
		say "$t: could not generate seeds (continuing)"
	if [ -d "tests/fuzz/seeds/$t" ]; then
		cp -n "tests/fuzz/seeds/$t"/* "$corpus"/ 2>/dev/null
	fi
	ninputs=$(find "$corpus" -type f | wc -l)

	cpu_children
	cpu0=$CPU_NOW
	problem=
	# 2. replay the corpus, then each known crash input
	if ! "$bin" -runs=0 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$art/" "$corpus" >"$log" 2>&1; then
		problem="replaying the corpus failed"
	fi
	known=()
	for f in "$CRASHES/$t"-*; do
		[ -f "$f" ] && known+=("$f")
	done
	for f in "${known[@]}"; do
		if ! "$bin" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$art/replay-" "$f" >>"$log" 2>&1; then
			problem="${problem:+$problem; }known crash input $(basename "$f") still fails"
		fi
	done
	# 3. fuzz
	dict=()
	[ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
	if [ -z "$problem" ]; then
		if ! "$bin" "$corpus" -max_total_time="$FUZZ_TIME" -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix="$art/" "${dict[@]}" >>"$log" 2>&1; then
			problem="fuzzing found a failing input"
		fi
	fi
	cpu_children
	cpu1=$CPU_NOW
	cpu=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.1f", b - a }')
	cpu_total=$(awk -v a="$cpu_total" -v b="$cpu" 'BEGIN { printf "%.1f", a + b }')

	# artifacts: keep them in the tree
	new=()
	for f in "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*; do
		[ -f "$f" ] || continue
		dest=$CRASHES/$t-$(basename "$f")
		cp "$f" "$dest"
		new+=("$dest")
	done
	runs=$(awk '/^stat::number_of_executed_units/ { print $NF }' "$log" | tail -n1)
	cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -n1 | grep -Eo '[0-9]+')
	size=$(find "$corpus" -type f | wc -l)
	what="replayed $ninputs inputs + ${#known[@]} known crash inputs; ${runs:-0} runs (${FUZZ_TIME}s budget, CPU ${cpu}s), cov ${cov:-?}, corpus $size"
	if [ -n "$problem" ] || [ ${#new[@]} -gt 0 ]; then
		failed=1
		echo "not ok - $t: ${problem:-crash}; $what"
		for f in "${new[@]}"; do say "  failing input saved as $f"; done
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -n 5 | sed 's/^/#   | /'
		say "  log: $log"
	else
		echo "ok - $t: $what, no crash"
	fi
done
say "fuzzing CPU time: ${cpu_total}s over ${#targets[@]} targets (${FUZZ_TIME}s each)"
exit "$failed"
