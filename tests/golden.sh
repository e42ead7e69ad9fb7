#!/usr/bin/env bash
# golden.sh - the samples' golden outputs: for every capture listed in
# samples/SAMPLES, run `beyla analyze NAME.bz.zst --dump-spans` (spans, then
# the summary table) and
# `beyla info NAME.bz.zst` (in samples/, so paths are stable) and compare
# stdout, stderr and exit status with tests/golden/NAME.spans and
# tests/golden/NAME.info.  One check per sample; the diff is printed when it
# fails.  Needs no root and no network: run in CI by `tests/run.sh golden`.
#
#   tests/golden.sh                 compare
#   tests/golden.sh --update        rewrite the golden files from the current beyla
#   tests/golden.sh [--update] NAME...   only these samples
#
# BEYLA: the binary (default ./beyla).  Captures are made by scripts/make_samples.sh.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

SAMPLES=$E2E_ROOT/samples
GOLDEN=$E2E_ROOT/tests/golden
update=
if [ "${1:-}" = --update ]; then update=1; shift; fi
[ -x "$BEYLA" ] || bail "beyla is built" "$BEYLA missing: run make"
[ -f "$SAMPLES/SAMPLES" ] || bail "samples/SAMPLES exists"

# The sample names: first word of each non-comment line of samples/SAMPLES.
mapfile -t listed < <(awk '!/^[[:space:]]*(#|$)/ { print $1 }' "$SAMPLES/SAMPLES")
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${listed[@]}")

# run_golden OUT CMD...: CMD's stdout, then its stderr (each line prefixed),
# then its exit status, as one text.
run_golden() {
	local out=$1 rc
	shift
	(cd "$SAMPLES" && "$BEYLA" "$@") >"$T/stdout" 2>"$T/stderr"
	rc=$?
	{
		printf '$ beyla %s\n' "$*"
		cat "$T/stdout"
		sed 's/^/stderr: /' "$T/stderr"
		printf 'exit: %d\n' "$rc"
	} >"$out"
}

[ -n "$update" ] && mkdir -p "$GOLDEN"
for name in "${names[@]}"; do
	cap=$name.bz.zst
	if [ ! -f "$SAMPLES/$cap" ]; then
		_not_ok "$name: samples/$cap exists"
		continue
	fi
	run_golden "$T/$name.spans" analyze "$cap" --dump-spans
	run_golden "$T/$name.info" info "$cap"
	if [ -n "$update" ]; then
		cp "$T/$name.spans" "$GOLDEN/$name.spans" && cp "$T/$name.info" "$GOLDEN/$name.info"
		check "$name: golden files written" test -s "$GOLDEN/$name.spans"
		continue
	fi
	if cmp -s "$T/$name.spans" "$GOLDEN/$name.spans" 2>/dev/null &&
		cmp -s "$T/$name.info" "$GOLDEN/$name.info" 2>/dev/null; then
		_ok "$name: analyze --dump-spans and info match tests/golden/$name.{spans,info}"
	else
		_not_ok "$name: analyze --dump-spans and info match tests/golden/$name.{spans,info}" \
			"golden (-) vs now (+); tests/golden.sh --update rewrites them:"
		for ext in spans info; do
			diff -u --label "tests/golden/$name.$ext" --label "now" "$GOLDEN/$name.$ext" "$T/$name.$ext" 2>&1 |
				head -n 40 | sed 's/^/#   | /'
		done
	fi
done

# Every capture in samples/ is listed (and so tested).
if [ $# -eq 0 ]; then
	unlisted=()
	for f in "$SAMPLES"/*.bz.zst; do
		[ -e "$f" ] || continue
		n=$(basename "$f" .bz.zst)
		printf '%s\n' "${listed[@]}" | grep -qxF -- "$n" || unlisted+=("$n")
	done
	check_num "every capture in samples/ is listed in samples/SAMPLES${unlisted[*]:+ (not: ${unlisted[*]})}" "${#unlisted[@]}" -eq 0

	# --timings adds one line on stderr (its numbers vary: checked by shape)
	# and changes nothing on stdout.
	if [ -z "$update" ] && [ -f "$GOLDEN/nginx-mix.spans" ]; then
		(cd "$SAMPLES" && "$BEYLA" analyze nginx-mix.bz.zst --dump-spans --timings) >"$T/timings.out" 2>"$T/timings.err"
		check_num "analyze --timings exits 0" $? -eq 0
		check "analyze --timings: stderr is one line saying where the time went" \
			grep -Exq 'beyla analyze: timings: load [0-9.]+ s \(analysis thread [0-9.]+ s CPU, writer thread [0-9.]+ s CPU\), indexes [0-9.]+ s, route and service stats [0-9.]+ s' "$T/timings.err"
		check_num "analyze --timings: nothing else on stderr" "$(wc -l <"$T/timings.err")" -eq 1
		check "analyze --timings: stdout as in tests/golden/nginx-mix.spans" \
			cmp -s "$T/timings.out" <(sed -e '1d' -e '$d' "$GOLDEN/nginx-mix.spans")
	fi
fi
finish
