#!/usr/bin/env bash
# sanitize.sh - the test suite again, against binaries built with ASan and
# UBSan (-fno-sanitize-recover=all) in build-san/: the unit tests, the
# golden sample diffs, and the end-to-end tests with build-san's beyla (as
# root; for a user who is not root tests/run.sh runs them through sudo,
# passing BEYLA and the *SAN_OPTIONS on).  The fuzz group is left out: the
# fuzzers carry their own sanitizers.  Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
SAN_BUILD=${SAN_BUILD:-build-san}
export TEST_BUILD=$SAN_BUILD BEYLA=$PWD/$SAN_BUILD/beyla
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
groups=(unit golden e2e)
passed=0 failed=0
for g in "${groups[@]}"; do
	out=$(bash tests/run.sh "$g" 2>&1 | tee /dev/stderr | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n1)
	if [ -z "$out" ]; then
		echo "sanitize: the $g group ended without a summary" >&2
		failed=$((failed + 1))
		continue
	fi
	passed=$((passed + ${out%% passed*}))
	f=${out#*, }
	failed=$((failed + ${f%% failed*}))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
