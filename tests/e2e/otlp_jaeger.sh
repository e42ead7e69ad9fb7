#!/usr/bin/env bash
# otlp_jaeger.sh - `beyla analyze --otlp` into a real Jaeger v2 (built from the
# Go module proxy by scripts/setup.sh into $BEYLA_CACHE/bin/jaeger), started
# with its default all-in-one configuration: memory storage, OTLP/HTTP on
# 127.0.0.1:4318, query API on 127.0.0.1:16686 (the defaults: the test fails
# if something else holds them).  For every sample capture (or, without
# samples, a fresh recording of scripts/demo_workload.py, which needs root),
# a fresh Jaeger gets the spans, and its HTTP API (/api/services,
# /api/services/X/operations, /api/traces?service=X) must agree with the
# SQLite database exactly: services, operations, span and trace counts,
# parent/child links, names, kinds, times and key attributes
# (tests/e2e/otlp_verify.py jaeger).  Jaeger takes no metrics:
# OTEL_METRICS_EXPORTER=none.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
[ -x "$BEYLA" ] || bail "beyla is built" "$BEYLA missing: run make"
JAEGER=${JAEGER:-$BEYLA_CACHE/bin/jaeger}
[ -x "$JAEGER" ] || bail "jaeger is built ($JAEGER)" "run: sudo bash scripts/setup.sh"
VPY=$BEYLA_VENV/bin/python
"$VPY" -c 'import sqlite3' 2>/dev/null || bail "the test venv $BEYLA_VENV" "run: sudo bash scripts/setup.sh"
need curl ss
for p in 4318 16686; do
	[ -z "$(ss -Hltn "sport = :$p")" ] || bail "port $p is free for Jaeger" "$(ss -Hltnp "sport = :$p")"
done

caps=()
for f in "$E2E_ROOT"/samples/*.bz.zst; do [ -f "$f" ] && caps+=("$f"); done
if [ ${#caps[@]} -eq 0 ]; then
	require_recording_env
	"$BEYLA" record -q -d 30s -o "$T/demo.bz.zst" -- "$PYTHON" "$E2E_ROOT/scripts/demo_workload.py" \
		>"$T/record.log" 2>&1 || bail "beyla record -- demo_workload.py" "$(tail -n 5 "$T/record.log")"
	caps=("$T/demo.bz.zst")
fi

for c in "${caps[@]}"; do
	name=$(basename "$c" .bz.zst)
	start_bg "jaeger-$name" "$JAEGER"
	jpid=$BG_PID
	up=
	for ((i = 0; i < 200; i++)); do
		curl -sf http://127.0.0.1:16686/api/services >/dev/null 2>&1 && [ -n "$(ss -Hltn 'sport = :4318')" ] && { up=1; break; }
		sleep 0.1
	done
	[ -n "$up" ] || bail "$name: jaeger starts" "$(tail -n 5 "$T/jaeger-$name.log")"
	db=$T/$name.db
	OTEL_METRICS_EXPORTER=none "$BEYLA" analyze -q -o "$db" "$c" --otlp http://127.0.0.1:4318 2>"$T/analyze-$name.log"
	rc=$?
	check "$name: analyze --otlp into jaeger exits 0 (4/5 for a damaged capture)" \
		eval '[ $rc -eq 0 ] || [ $rc -eq 4 ] || [ $rc -eq 5 ]'
	# the memory store is written asynchronously by the collector pipeline: wait for the count
	want=$(sqlite3 "$db" 'select count(*) from spans')
	for ((i = 0; i < 50; i++)); do
		got=$("$VPY" - "$db" <<'PY' 2>/dev/null
import json, sqlite3, sys, urllib.request, urllib.parse
svcs = [r[0] for r in sqlite3.connect(sys.argv[1]).execute("select distinct service_name from spans")]
n = 0
for s in svcs:
    d = json.load(urllib.request.urlopen("http://127.0.0.1:16686/api/traces?limit=100000&start=0&end=4102444800000000&service=" + urllib.parse.quote(s, safe="")))
    n += sum(len(t["spans"]) for t in d["data"] or [])
print(n)
PY
)
		[ "$got" = "$want" ] && break
		sleep 0.1
	done
	"$VPY" "$E2E_ROOT/tests/e2e/otlp_verify.py" jaeger "$db" http://127.0.0.1:16686 2>&1 | sed "s/^\(n*o*t* *ok - \)/\1$name: /"
	[ "${PIPESTATUS[0]}" -eq 0 ] || CHECKS_FAILED=$((CHECKS_FAILED + 1))
	# memory storage, nothing to flush: no need for stop_bg's grace period
	kill -KILL -- "-$jpid" 2>/dev/null || kill -KILL "$jpid" 2>/dev/null
	wait "$jpid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do [ -z "$(ss -Hltn 'sport = :4318')" ] && break; sleep 0.1; done
done
finish
