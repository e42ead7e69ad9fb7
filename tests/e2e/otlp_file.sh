#!/usr/bin/env bash
# otlp_file.sh - `beyla analyze --otlp-file` and `--otlp URL` checked with the
# official OpenTelemetry protobuf definitions (opentelemetry-proto from PyPI,
# in the test venv; tests/e2e/otlp_verify.py):
#   * every line of the OTLP/JSON file parses strictly with
#     json_format.Parse(ExportTraceServiceRequest / ExportMetricsServiceRequest);
#   * a local Python receiver parses every binary POST body with the same
#     classes and checks it re-serializes to the same bytes (gzip, headers);
#   * both carry exactly the database's spans, resources and metrics;
#   * errors: an unreachable endpoint gives a one-line error naming it, exit 6,
#     and the database is still written; a receiver answering 503 twice and
#     then 200 gets everything after retries.
# Uses samples/*.bz.zst when there is one, else records scripts/demo_workload.py
# (that part needs root and eBPF).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
[ -x "$BEYLA" ] || bail "beyla is built" "$BEYLA missing: run make"
VPY=$BEYLA_VENV/bin/python
"$VPY" -c 'import opentelemetry.proto.collector.trace.v1.trace_service_pb2' 2>/dev/null ||
	bail "opentelemetry-proto in $BEYLA_VENV" "run: sudo bash scripts/setup.sh"
VERIFY=$E2E_ROOT/tests/e2e/otlp_verify.py
# verify PREFIX ARGS...: otlp_verify.py's ok/not ok lines, prefixed; a failure
# there also fails this script (its lines are already counted by tests/run.sh).
verify() {
	local prefix=$1
	shift
	"$VPY" "$VERIFY" "$@" 2>&1 | sed "s/^\(n*o*t* *ok - \)/\1$prefix/"
	[ "${PIPESTATUS[0]}" -eq 0 ] || CHECKS_FAILED=$((CHECKS_FAILED + 1))
}

# --- captures: every sample (samples/*.bz.zst), else a fresh recording ------------------
caps=()
for f in "$E2E_ROOT"/samples/*.bz.zst; do [ -f "$f" ] && caps+=("$f"); done
if [ ${#caps[@]} -eq 0 ]; then
	require_recording_env
	"$BEYLA" record -q -d 30s -o "$T/demo.bz.zst" -- "$PYTHON" "$E2E_ROOT/scripts/demo_workload.py" \
		>"$T/record.log" 2>&1 || bail "beyla record -- demo_workload.py" "$(tail -n 5 "$T/record.log")"
	caps=("$T/demo.bz.zst")
fi
# the one used for the HTTP cases: the largest
cap=$(ls -S "${caps[@]}" | head -n 1)
db=$T/x.db

# --- the OTLP/JSON file, for every capture ----------------------------------------------------
for c in "${caps[@]}"; do
	name=$(basename "$c" .bz.zst)
	"$BEYLA" analyze -q -f -o "$db" "$c" --otlp-file "$T/$name.otlp.jsonl" --metrics-interval 1s 2>"$T/analyze-$name.log"
	rc=$?
	check "$name: analyze --otlp-file exits 0 (4/5 for a damaged capture)" eval '[ $rc -eq 0 ] || [ $rc -eq 4 ] || [ $rc -eq 5 ]'
	verify "$name: " check "$db" --jsonl "$T/$name.otlp.jsonl"
done

# --- binary protobuf to a local receiver, gzip and headers -------------------------------
mkdir -p "$T/rx"
start_bg rx "$VPY" "$VERIFY" serve "$T/rx"
for ((i = 0; i < 100; i++)); do [ -s "$T/rx/port" ] && break; sleep 0.05; done
port=$(cat "$T/rx/port")
OTEL_EXPORTER_OTLP_COMPRESSION=gzip OTEL_EXPORTER_OTLP_HEADERS='x-beyla-test=a%20b,x-other = c' \
	"$BEYLA" analyze -q -f -o "$db" "$cap" --otlp "http://127.0.0.1:$port" --metrics-interval 1s 2>"$T/analyze2.log"
rc=$?
check "analyze --otlp URL succeeds" eval '[ $rc -eq 0 ] || [ $rc -eq 4 ] || [ $rc -eq 5 ]'
check_grep "bodies were gzipped protobuf" 'application/x-protobuf gzip' "$T/rx/headers"
check_grep "OTEL_EXPORTER_OTLP_HEADERS sent, percent-decoded" 'x-beyla-test: a b' "$T/rx/headers"
verify "protobuf: " check "$db" --pbdir "$T/rx"

# --- environment: endpoint and service name overrides -----------------------------------
rm -f "$T"/rx/*.pb "$T/rx/headers"
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$port/" OTEL_SERVICE_NAME=overridden OTEL_METRICS_EXPORTER=none \
	"$BEYLA" analyze -q -f -o "$db" "$cap" --otlp 2>"$T/analyze3.log"
check "OTEL_EXPORTER_OTLP_ENDPOINT is used by a bare --otlp" eval 'ls "$T"/rx/*-traces.pb >/dev/null 2>&1'
check "OTEL_METRICS_EXPORTER=none sends no metrics" eval '! ls "$T"/rx/*-metrics.pb >/dev/null 2>&1'
OTEL_SERVICE_NAME=overridden verify "OTEL_SERVICE_NAME=overridden: " check "$db" --pbdir "$T/rx" --traces-only
stop_bg "$(pgrep -f "otlp_verify.py serve $T/rx" | head -n 1)"

# --- 503, 503, then 200: retries ---------------------------------------------------------
mkdir -p "$T/rx503"
start_bg rx503 "$VPY" "$VERIFY" serve "$T/rx503" --fail 2 --status 503
for ((i = 0; i < 100; i++)); do [ -s "$T/rx503/port" ] && break; sleep 0.05; done
port=$(cat "$T/rx503/port")
"$BEYLA" analyze -q -f -o "$db" "$cap" --otlp "http://127.0.0.1:$port" 2>"$T/analyze4.log"
rc=$?
check "503 twice, then 200: success after retries" eval '[ $rc -ne 6 ] && [ $(wc -l <"$T/rx503/rejected") -eq 2 ]'
verify "after retries: " check "$db" --pbdir "$T/rx503"

# --- unreachable endpoint ------------------------------------------------------------------
dead=$(free_port)
rm -f "$db"
"$BEYLA" analyze -q -o "$db" "$cap" --otlp "http://127.0.0.1:$dead" 2>"$T/analyze5.log"
rc=$?
check "unreachable endpoint: exit 6" eval '[ $rc -eq 6 ]'
check "unreachable endpoint: one line naming the endpoint" eval \
	'[ $(wc -l <"$T/analyze5.log") -eq 1 ] && grep -q "http://127.0.0.1:$dead/v1/traces" "$T/analyze5.log"'
log "$(cat "$T/analyze5.log")"
check "unreachable endpoint: the database is still written" test -s "$db"

# --- a rejecting endpoint: 400 is not retried, the status is named --------------------------
mkdir -p "$T/rx400"
start_bg rx400 "$VPY" "$VERIFY" serve "$T/rx400" --fail 100 --status 400
for ((i = 0; i < 100; i++)); do [ -s "$T/rx400/port" ] && break; sleep 0.05; done
port=$(cat "$T/rx400/port")
"$BEYLA" analyze -q -f -o "$db" "$cap" --otlp "http://127.0.0.1:$port" 2>"$T/analyze6.log"
rc=$?
check "HTTP 400: exit 6, status named, not retried" eval \
	'[ $rc -eq 6 ] && grep -q "HTTP 400" "$T/analyze6.log" && [ $(wc -l <"$T/rx400/rejected") -eq 1 ]'
log "$(cat "$T/analyze6.log")"
finish
