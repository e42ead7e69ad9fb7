#!/usr/bin/env bash
# bench_analyze.sh - throughput and memory of `beyla analyze` (issue 3; run by
# `make bench` at the end of scripts/bench.sh, or alone; needs no root).
#
# Generates synthetic captures with tests/tools/gen_capture.c (built here
# against build/libbeyla.a: one keep-alive server, CONNS connections open at
# a time, every 10th request calling a backend), then times
# `beyla analyze` (summary table included: what a user waits for) on each
# under /usr/bin/time -v and prints, per size:
# events/s and spans/s (server spans, and all span rows: server + client +
# the two internal children of each server span) by wall-clock time and by
# CPU time (user + system; the wall clock suffers when the machine is
# shared), and the peak RSS.  The sizes differ 5x with the same number of
# open connections, so equal peak RSS shows that memory follows the open
# connections, not the file.
# Then, per size, where the time went (`beyla analyze --timings`: loading,
# with the CPU of the analysis and writer threads, then the indexes).
# Last, the SQLite floor of the largest size: its spans copied into a fresh
# database built as beyla builds one, nothing parsed (the fastest any
# analysis of that capture could be here).
# Targets (issue 3): >= 1,000,000 events/s and >= 200,000 spans/s.
#
# Knobs: SIZES ("200000 1000000" requests), CONNS (256), KEEPALIVE (100),
#        BEYLA (./beyla), KEEP=1 keeps the captures and databases in $T.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BEYLA=${BEYLA:-$ROOT/beyla}
BUILD=${BUILD:-$ROOT/build}
SIZES=${SIZES:-200000 1000000}
CONNS=${CONNS:-256}
KEEPALIVE=${KEEPALIVE:-100}
CC=${CC:-cc}

die() { printf 'bench_analyze: %s\n' "$*" >&2; exit 1; }
[ -x "$BEYLA" ] || die "$BEYLA not built (make)"
[ -f "$BUILD/libbeyla.a" ] || die "$BUILD/libbeyla.a not built (make)"
[ -x /usr/bin/time ] || die "/usr/bin/time missing (apt-get install time)"

T=$(mktemp -d /tmp/beyla-bench-analyze.XXXXXX)
cleanup() { [ "${KEEP:-0}" = 1 ] && echo "kept: $T" || rm -rf "$T"; }
trap cleanup EXIT

GEN=$T/gen_capture
"$CC" -O2 -std=c11 -D_GNU_SOURCE -I"$ROOT" -I"$BUILD" -o "$GEN" "$ROOT/tests/tools/gen_capture.c" \
	"$BUILD/libbeyla.a" -lzstd -lz || die "cannot build the capture generator"

echo "beyla analyze bench: synthetic keep-alive captures, $CONNS connections open, ~$KEEPALIVE requests each;" \
	"$(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-9s %9s %7s %7s %7s %11s %11s %11s %11s %11s %8s\n' requests events MB wall_s cpu_s \
	events/s ev/s_cpu srv_spans/s spans/s rows/s_cpu rss_MB
last=${SIZES##* } timings=()
for n in $SIZES; do
	cap=$T/bench$n.bz.zst db=$T/bench$n.db
	gen_out=$("$GEN" -n "$n" -c "$CONNS" -k "$KEEPALIVE" -o "$cap") || die "generator failed"
	events=$(sed -n 's/.*events=\([0-9]*\).*/\1/p' <<<"$gen_out")
	srv=$(sed -n 's/.*server_spans=\([0-9]*\).*/\1/p' <<<"$gen_out")
	cli=$(sed -n 's/.*client_spans=\([0-9]*\).*/\1/p' <<<"$gen_out")
	rm -f "$db"
	/usr/bin/time -v -o "$T/time.txt" "$BEYLA" analyze -f --timings -o "$db" "$cap" >"$T/analyze.log" 2>&1 ||
		die "beyla analyze failed: $(tail -n 5 "$T/analyze.log")"
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$T/time.txt")
	cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { print u + s }' "$T/time.txt")
	rss=$(awk -F': ' '/Maximum resident/ { printf "%.0f", $2 / 1024 }' "$T/time.txt")
	# what the database holds, to be sure every request became spans
	if command -v sqlite3 >/dev/null; then
		rows=$(sqlite3 "$db" "select count(*) from spans")
		got=$(sqlite3 "$db" "select count(*) from spans where kind='server'")
		[ "$got" = "$srv" ] || die "$got server spans in the database, $srv requests generated"
	else
		rows=$((3 * srv + cli))
	fi
	mb=$(awk -v s="$(stat -c %s "$cap")" 'BEGIN { printf "%.0f", s / 1e6 }')
	awk -v n="$n" -v e="$events" -v mb="$mb" -v w="$wall" -v c="$cpu" -v s="$srv" -v r="$rows" -v m="$rss" 'BEGIN {
		printf "%-9d %9d %7d %7.2f %7.2f %11d %11d %11d %11d %11d %8d\n", n, e, mb, w, c,
		       e / w, e / c, s / w, r / w, r / c, m }'
	timings+=("$n: $(sed -n 's/^beyla analyze: timings: //p' "$T/analyze.log")")
	if [ "$n" = "$last" ] && command -v sqlite3 >/dev/null; then
		floor_db=$db floor_events=$events
		[ "${KEEP:-0}" = 1 ] || rm -f "$cap"
	else
		[ "${KEEP:-0}" = 1 ] || rm -f "$cap" "$db"
	fi
done
echo
echo "events/s, spans/s: wall clock (ev/s_cpu, rows/s_cpu: per CPU second);"
echo "spans/s counts every span row (server + client + 2 internal per server span)."
echo "targets (issue 3): >= 1000000 events/s, >= 200000 spans/s; peak RSS about equal across sizes"
echo
echo "where the time went (beyla analyze --timings):"
printf '  %s\n' "${timings[@]}"
[ -n "${floor_db:-}" ] || exit 0

# The SQLite floor: what storing the largest size's spans costs with no
# capture to read and nothing to parse.  Its rows are copied into a fresh
# database made as `beyla analyze` makes one (same pragmas, the schema's
# statements before "-- @after-load"), then the after-load statements
# (indexes, views) run.  Copying reads the source too, so that read is
# timed alone and taken off.  No analysis of that capture can be faster
# than this floor on this machine, whatever its parser does.
floor=$T/floor.db
before=$(sed '/^-- @after-load/,$d' "$ROOT/schema/spans.sql")
after=$(sed '1,/^-- @after-load/d' "$ROOT/schema/spans.sql")
rm -f "$floor"
times=$(sqlite3 "$floor" <<SQL | awk '/^Run Time: real/ { printf "%s ", $4 }'
PRAGMA page_size=65536; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-65536; PRAGMA threads=2;
$before
ATTACH '$floor_db' AS src;
.timer on
SELECT count(*) FROM (SELECT max(trace_id), max(user_agent), max(route_key) FROM src.span_rows);
BEGIN;
INSERT INTO span_rows SELECT * FROM src.span_rows ORDER BY span_id;
INSERT INTO span_attribute_rows SELECT * FROM src.span_attribute_rows;
COMMIT;
BEGIN;
$after
COMMIT;
SQL
) || die "SQLite floor: sqlite3 failed"
[ "${KEEP:-0}" = 1 ] || rm -f "$floor_db" "$floor"
# one time per statement: the read, BEGIN, the two copies, COMMIT, then
# BEGIN, each after-load statement, COMMIT
awk -v e="$floor_events" -v t="$times" 'BEGIN {
	n = split(t, a, " "); read = a[1]; load = a[2] + a[3] + a[4] + a[5]
	idx = 0; for (i = 6; i <= n; i++) idx += a[i]
	floor = load - read + idx
	printf "\nSQLite floor (the spans of %d events copied into a fresh database, nothing parsed):\n", e
	printf "  inserts %.2f s (%.2f s copying less %.2f s reading the source) + after-load indexes %.2f s\n", load - read, load, read, idx
	printf "  = %.2f s: no analysis of this capture can exceed %d events/s on this machine\n", floor, e / floor }'
