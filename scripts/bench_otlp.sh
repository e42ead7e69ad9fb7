#!/usr/bin/env bash
# bench_otlp.sh - spans/s of `beyla analyze`'s OTLP export (issue 5; run by
# `make bench` at the end of scripts/bench.sh, or alone; needs no root).
#
# A synthetic capture (tests/tools/gen_capture.c, as scripts/bench_analyze.sh)
# is analysed with --otlp-file (OTLP/JSON to a file) and with --otlp to a
# local Jaeger v2 (memory storage, $BEYLA_CACHE/bin/jaeger from
# scripts/setup.sh; skipped if it is not built or its ports are taken).  The
# export's own time is what `beyla analyze` reports on its "otlp: exported"
# line (wall clock and CPU), so the analysis itself is not counted.
# Target (issue 5): >= 100,000 spans/s to the file.
#
# Knobs: REQUESTS (100000; ~3.1 span rows each), JAEGER_REQUESTS (30000),
#        BEYLA (./beyla), KEEP=1 keeps the files in $T.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BEYLA=${BEYLA:-$ROOT/beyla}
BUILD=${BUILD:-$ROOT/build}
REQUESTS=${REQUESTS:-100000}
JAEGER_REQUESTS=${JAEGER_REQUESTS:-30000}
CACHE=${BEYLA_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/beyla-test}
JAEGER=${JAEGER:-$CACHE/bin/jaeger}
CC=${CC:-cc}

die() { printf 'bench_otlp: %s\n' "$*" >&2; exit 1; }
[ -x "$BEYLA" ] || die "$BEYLA not built (make)"
[ -f "$BUILD/libbeyla.a" ] || die "$BUILD/libbeyla.a not built (make)"

T=$(mktemp -d /tmp/beyla-bench-otlp.XXXXXX)
JPID=
cleanup() {
	[ -z "$JPID" ] || { kill -TERM "$JPID" 2>/dev/null; wait "$JPID" 2>/dev/null || true; }
	[ "${KEEP:-0}" = 1 ] && echo "kept: $T" || rm -rf "$T"
}
trap cleanup EXIT

GEN=$T/gen_capture
"$CC" -O2 -std=c11 -D_GNU_SOURCE -I"$ROOT" -I"$BUILD" -o "$GEN" "$ROOT/tests/tools/gen_capture.c" \
	"$BUILD/libbeyla.a" -lzstd -lz || die "cannot build the capture generator"

# run NAME ARGS...: beyla analyze with ARGS; prints one result line from its "otlp: exported" line
run() {
	local name=$1 line spans wall cpu bytes
	shift
	"$BEYLA" analyze -f -o "$T/x.db" "$@" >/dev/null 2>"$T/$name.log" || die "$name: $(tail -n 3 "$T/$name.log")"
	line=$(grep '^otlp: exported' "$T/$name.log") || die "$name: no export line"
	spans=$(sed -n 's/^otlp: exported \([0-9]*\) spans.*/\1/p' <<<"$line")
	wall=$(sed -n 's/.*(\([0-9.]*\) s, .*/\1/p' <<<"$line")
	cpu=$(sed -n 's/.*, \([0-9.]*\) s CPU).*/\1/p' <<<"$line")
	bytes=${BYTES:-0}
	awk -v n="$name" -v s="$spans" -v w="$wall" -v c="$cpu" -v b="$bytes" 'BEGIN {
		printf "%-8s %9d %8.2f %8.2f %11d %11d %9s\n", n, s, w, c, s / w, s / c, b ? sprintf("%.0f", b / s) : "-" }'
}

echo "beyla OTLP export bench: synthetic keep-alive capture; $(uname -r), $(nproc) CPUs," \
	"load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %9s %8s %8s %11s %11s %9s\n' sink spans wall_s cpu_s spans/s spans/s_cpu B/span
"$GEN" -n "$REQUESTS" -c 256 -k 100 -o "$T/c.bz.zst" >/dev/null || die "generator failed"
"$BEYLA" analyze -q -f -o "$T/x.db" "$T/c.bz.zst" --otlp-file "$T/x.jsonl" || die "warm-up failed"
BYTES=$(stat -c %s "$T/x.jsonl") run file "$T/c.bz.zst" --otlp-file "$T/x.jsonl"
rm -f "$T/x.jsonl"

if [ ! -x "$JAEGER" ]; then
	echo "jaeger: not built ($JAEGER; scripts/setup.sh builds it): skipped"
elif [ -n "$(ss -Hltn 'sport = :4318' 2>/dev/null)$(ss -Hltn 'sport = :16686' 2>/dev/null)" ]; then
	echo "jaeger: ports 4318/16686 taken: skipped"
else
	"$GEN" -n "$JAEGER_REQUESTS" -c 256 -k 100 -o "$T/j.bz.zst" >/dev/null || die "generator failed"
	"$JAEGER" >"$T/jaeger.log" 2>&1 &
	JPID=$!
	for ((i = 0; i < 200; i++)); do
		curl -sf http://127.0.0.1:16686/api/services >/dev/null 2>&1 && [ -n "$(ss -Hltn 'sport = :4318')" ] && break
		sleep 0.1
	done
	OTEL_METRICS_EXPORTER=none run jaeger "$T/j.bz.zst" --otlp http://127.0.0.1:4318
	OTEL_METRICS_EXPORTER=none OTEL_EXPORTER_OTLP_COMPRESSION=gzip run jaeger-gz "$T/j.bz.zst" --otlp http://127.0.0.1:4318
fi
echo
echo "spans/s: span rows exported per second of the export (wall clock; spans/s_cpu per CPU second"
echo "of beyla, which for jaeger excludes the collector's own work); B/span: JSON bytes per span."
echo "target (issue 5): >= 100000 spans/s to the file"
