#!/usr/bin/env bash
# record_grpc.sh - gRPC on two real stacks, recorded and analysed (issue 16,
# part 3): the Probe service of tests/servers/grpc/probe.proto served by
# Python's grpcio (C core) and by grpc-go, each called by a grpcio client and
# by a grpc-go client (scripts/build_grpc_servers.sh builds them; setup.sh
# fetches what that needs).
#
# grpcio writes each frame slice as its own iovec entry (15 for a unary
# response, a header field's name and value apart): no span incomplete and
# no byte skipped on its connections is what checks that the recorder
# follows them (bpf/h2.bpf.h, h2_copy).
#
# One recording: -p each server and --port each server's port, so the four
# client processes are adopted at their connect and get client spans.  Each
# client makes the same 14 calls over one channel (one HTTP/2 connection):
# unary Echo (100 bytes), server-streaming Count (5 replies of 20 bytes),
# client-streaming Sum (4 values), bidirectional Chat (3 messages of 30
# bytes), Lookup of a missing key (NOT_FOUND, 5), Fail (INTERNAL, 13), then 8
# Echo calls at once (payloads of 40..47 bytes, each held 50 ms by the
# server, so that all 8 are in flight together).  Checked with SQL, for both
# ends of each of the four connections:
#   - every call exactly once, named {package.Service}/{Method}, rpc.system,
#     rpc.service, rpc.method, no span incomplete, no byte of the
#     connections lost;
#   - rpc.grpc.status_code 0, 5 or 13, and the span status of the RPC
#     conventions: INTERNAL an error on both sides, NOT_FOUND only on the
#     client's, with error.type the code's name;
#   - gRPC message counts and sizes per direction, from the length prefixes
#     (a protobuf `bytes` field of n < 128 bytes is n + 2 bytes): streams of
#     5, 4, 3 and 3 messages, trailers-only failures with none;
#   - the 8 concurrent calls come apart by their sizes, all 8 in flight at
#     once on the one connection;
#   - every server span is the child of its client span (same call: name
#     and sizes), and the clients' user agents are grpc-python and grpc-go.
# Then OTLP (--otlp-file): the rpc.* attributes arrive in the exported spans,
# with the semantic conventions' types, the calls in the RPC histograms
# (rpc.server.call.duration, rpc.client.call.duration), and the whole export
# matches the database (tests/e2e/otlp_verify.py, the official OTLP classes).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
require_recording_env
need sqlite3 ss

VPY=$BEYLA_VENV/bin/python
GRPC=$BEYLA_CACHE/grpc # scripts/build_grpc_servers.sh's output
SERVERS=$E2E_ROOT/tests/servers/grpc
N_CALLS=14

q() { sqlite3 -batch -noheader "$db" "$1"; }

bash "$E2E_ROOT/scripts/build_grpc_servers.sh" "$GRPC" >"$T/build.log" 2>&1 ||
	bail "the gRPC test servers build (scripts/build_grpc_servers.sh)" "$(tail -n 5 "$T/build.log")"

# --- the servers -------------------------------------------------------------------
py_port=$(free_port)
go_port=$(free_port)
start_bg pysrv env PYTHONPATH="$GRPC/py" "$VPY" "$SERVERS/probe_server.py" "$py_port"
py_srv=$BG_PID
start_bg gosrv "$GRPC/bin/grpcprobe" server -port "$go_port"
go_srv=$BG_PID
wait_for_port "$py_port" || bail "the grpcio server listens on $py_port" "$(tail -n 3 "$T/pysrv.log")"
wait_for_port "$go_port" || bail "the grpc-go server listens on $go_port" "$(tail -n 3 "$T/gosrv.log")"

# --- one recording, four clients ------------------------------------------------------
cap=$T/grpc.bz.zst
t0=$(date +%s.%N)
record_start "$cap" -p "$py_srv" -p "$go_srv" --port "$py_port" --port "$go_port" ||
	bail "beyla record starts" "$(tail -n 5 "$REC_LOG")"
# client NAME LANG PORT: one client run; its pid in CLI_PID, its output in $T/NAME.out
client() {
	local name=$1 lang=$2 port=$3
	if [ "$lang" = py ]; then
		env PYTHONPATH="$GRPC/py" "$VPY" "$SERVERS/probe_client.py" "127.0.0.1:$port" >"$T/$name.out" 2>"$T/$name.err" &
	else
		"$GRPC/bin/grpcprobe" client -target "127.0.0.1:$port" >"$T/$name.out" 2>"$T/$name.err" &
	fi
	CLI_PID=$!
	wait "$CLI_PID"
	check_num "$name: the client exits 0" $? -eq 0
}
client py-py py "$py_port"; cli_py_py=$CLI_PID
client go-py go "$py_port"; cli_go_py=$CLI_PID
client py-go py "$go_port"; cli_py_go=$CLI_PID
client go-go go "$go_port"; cli_go_go=$CLI_PID
sleep 0.3 # the servers' side of the closes
record_stop INT
rec_secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
check_num "beyla record exits 0" "${REC_RC:-none}" -eq 0
log "recorded for ${rec_secs}s, capture of $(stat -c %s "$cap") bytes"
"$BEYLA" info "$cap" >"$T/info.txt" 2>&1
check_num "beyla info: no event dropped" "$(info_drops "$T/info.txt")" -eq 0

# What each client saw: "METHOD CODE SENT RECEIVED" per call
expected_out="Echo 0 1 1
Count 0 1 5
Sum 0 4 1
Chat 0 3 3
Lookup 5 1 0
Fail 13 1 0"
for ((i = 0; i < 8; i++)); do expected_out+=$'\n'"Echo 0 1 1"; done
for name in py-py go-py py-go go-go; do
	check "$name: the client got OK, NOT_FOUND and INTERNAL where expected" \
		diff <(printf '%s\n' "$expected_out") "$T/$name.out"
done

# --- beyla analyze -------------------------------------------------------------------------
db=$T/grpc.db
"$BEYLA" analyze -o "$db" "$cap" --otlp-file "$T/otlp.jsonl" >"$T/analyze.txt" 2>&1
check_num "beyla analyze exits 0" $? -eq 0
# one row per gRPC span with its attributes as columns
q "CREATE VIEW calls AS SELECT s.span_id, s.parent_id, s.trace_id, s.conn_id, s.kind, s.name, s.status,
	s.incomplete, s.start_ns, s.end_ns, s.http_status_code, s.user_agent,
	max(CASE a.key WHEN 'rpc.system' THEN a.value END) AS rpc_system,
	max(CASE a.key WHEN 'rpc.service' THEN a.value END) AS rpc_service,
	max(CASE a.key WHEN 'rpc.method' THEN a.value END) AS rpc_method,
	max(CASE a.key WHEN 'rpc.grpc.status_code' THEN a.value END) AS code,
	max(CASE a.key WHEN 'error.type' THEN a.value END) AS error_type,
	max(CASE a.key WHEN 'beyla.grpc.request.messages' THEN a.value END) AS req_msgs,
	max(CASE a.key WHEN 'beyla.grpc.request.message_bytes' THEN a.value END) AS req_bytes,
	max(CASE a.key WHEN 'beyla.grpc.response.messages' THEN a.value END) AS resp_msgs,
	max(CASE a.key WHEN 'beyla.grpc.response.message_bytes' THEN a.value END) AS resp_bytes
	FROM spans s LEFT JOIN span_attributes a ON a.span_id = s.span_id
	WHERE s.kind <> 'internal' GROUP BY s.span_id" || bail "the calls view is made"

check_num "$((8 * N_CALLS / 2)) server and as many client spans in all" \
	"$(q "SELECT count(*) FROM spans WHERE kind <> 'internal'")" -eq $((8 * N_CALLS))
check_num "no span incomplete" "$(q "SELECT count(*) FROM spans WHERE incomplete")" -eq 0
check_num "8 HTTP/2 connections, none with bytes skipped or lost" \
	"$(q "SELECT count(*) FROM connections WHERE protocol = 'http/2' AND skipped_bytes = 0 AND lost_bytes = 0")" -eq 8
pstat() { q "SELECT value FROM parse_stats WHERE name = '$1'"; }
check_num "parse_stats: no HTTP/2 header block lost" "$(pstat http2_headers_lost)" -eq 0
check_num "parse_stats: no frame layer resynchronised" "$(pstat resyncs)" -eq 0
check_num "parse_stats: every server span linked to its peer's client span" "$(pstat peer_links)" -eq $((4 * N_CALLS))

# Expected per side, sorted: "METHOD CODE STATUS ERROR_TYPE" and "METHOD SENT/BYTES RECEIVED/BYTES"
# (client's view: what it sent is the request).  Echo(n) is n + 2 bytes each way (and 2
# more in a request with delay_ms).
status_lines() { # status_lines KIND
	local lookup="Lookup 5 ok -"
	[ "$1" = client ] && lookup="Lookup 5 error NOT_FOUND"
	{
		echo "Chat 0 ok -"; echo "Count 0 ok -"; for ((i = 0; i < 9; i++)); do echo "Echo 0 ok -"; done
		echo "Fail 13 error INTERNAL"; echo "$lookup"; echo "Sum 0 ok -"
	} | LC_ALL=C sort
}
msg_lines() {
	{
		echo "Chat 3/96 3/96"; echo "Count 1/4 5/110"; echo "Echo 1/102 1/102"
		# (the concurrent calls' requests: the payload, and delay_ms 50 in 2 bytes)
		for ((n = 40; n < 48; n++)); do echo "Echo 1/$((n + 4)) 1/$((n + 2))"; done
		echo "Fail 1/8 0/0"; echo "Lookup 1/9 0/0"; echo "Sum 4/8 1/2"
	} | LC_ALL=C sort
}
ua_of() { [ "$1" = py ] && echo 'grpc-python/%' || echo 'grpc-go/%'; }

# check_pair NAME SERVER_PID CLIENT_PID CLIENT_LANG SERVER_LANG
check_pair() {
	local name=$1 srv=$2 cli=$3 clang=$4 slang=$5 cconn sconn conn kind got
	check_num "$name: the client made one connection (one channel)" \
		"$(q "SELECT count(*) FROM connections WHERE pid = $cli")" -eq 1
	cconn=$(q "SELECT conn_id FROM connections WHERE pid = $cli AND role = 'connected'")
	sconn=$(q "SELECT s.conn_id FROM connections s JOIN connections c ON c.conn_id = ${cconn:-0}
		WHERE s.pid = $srv AND s.role = 'accepted' AND s.remote_port = c.local_port")
	[ -n "$cconn" ] && [ -n "$sconn" ] ||
		{ _not_ok "$name: both ends of the connection are in connections" "client $cconn, server $sconn"; return; }
	for kind in server client; do
		conn=$sconn
		[ "$kind" = client ] && conn=$cconn
		check_num "$name, $kind: $N_CALLS spans on the connection" \
			"$(q "SELECT count(*) FROM calls WHERE conn_id = $conn AND kind = '$kind'")" -eq "$N_CALLS"
		check_num "$name, $kind: every one named {package.Service}/{Method}, rpc.system grpc, rpc.service, rpc.method" \
			"$(q "SELECT count(*) FROM calls WHERE conn_id = $conn AND kind = '$kind' AND rpc_system = 'grpc'
				AND rpc_service = 'beyla.test.v1.Probe' AND name = rpc_service || '/' || rpc_method
				AND http_status_code = 200 AND NOT incomplete")" -eq "$N_CALLS"
		got=$(q "SELECT rpc_method || ' ' || coalesce(code, '?') || ' ' || status || ' ' || coalesce(error_type, '-')
			FROM calls WHERE conn_id = $conn AND kind = '$kind'" | LC_ALL=C sort)
		check "$name, $kind: each call once; rpc.grpc.status_code, status and error.type per the RPC conventions" \
			diff <(status_lines "$kind") <(printf '%s\n' "$got")
		got=$(q "SELECT rpc_method || ' ' || coalesce(req_msgs, '?') || '/' || coalesce(req_bytes, '?') || ' ' ||
			coalesce(resp_msgs, '?') || '/' || coalesce(resp_bytes, '?')
			FROM calls WHERE conn_id = $conn AND kind = '$kind'" | LC_ALL=C sort)
		check "$name, $kind: gRPC messages and their bytes per direction (streams, the 8 concurrent calls apart)" \
			diff <(msg_lines) <(printf '%s\n' "$got")
		# the most concurrent calls in flight at one time (each call's start inside how many others)
		got=$(q "WITH c AS (SELECT start_ns, end_ns FROM calls WHERE conn_id = $conn AND kind = '$kind'
				AND rpc_method = 'Echo' AND CAST(req_bytes AS INTEGER) BETWEEN 44 AND 51)
			SELECT max((SELECT count(*) FROM c y WHERE y.start_ns <= x.start_ns AND y.end_ns > x.start_ns)) FROM c x")
		check_num "$name, $kind: the 8 concurrent calls were in flight together on the one connection" "${got:-0}" -eq 8
	done
	check_num "$name: every server span is the child of its call's client span, in its trace" \
		"$(q "SELECT count(*) FROM calls s JOIN calls c ON s.parent_id = c.span_id AND s.trace_id = c.trace_id
			WHERE s.conn_id = $sconn AND s.kind = 'server' AND c.conn_id = $cconn AND c.kind = 'client'
			AND c.name = s.name AND c.req_bytes = s.req_bytes AND c.resp_bytes = s.resp_bytes")" -eq "$N_CALLS"
	check_num "$name: the user agent is $(ua_of "$clang" | tr -d %)..., on both ends" \
		"$(q "SELECT count(*) FROM calls WHERE conn_id IN ($sconn, $cconn) AND user_agent LIKE '$(ua_of "$clang")'")" \
		-eq $((2 * N_CALLS))
	check_num "$name: the server spans are the $slang server's" \
		"$(q "SELECT count(*) FROM spans WHERE conn_id = $sconn AND kind = 'server' AND pid = $srv")" -eq "$N_CALLS"
}
check_pair "grpcio client -> grpcio server" "$py_srv" "$cli_py_py" py py
check_pair "grpc-go client -> grpcio server" "$py_srv" "$cli_go_py" go py
check_pair "grpcio client -> grpc-go server" "$go_srv" "$cli_py_go" py go
check_pair "grpc-go client -> grpc-go server" "$go_srv" "$cli_go_go" go go

# --- OTLP --------------------------------------------------------------------------------
# rpc.* as the semantic conventions type them (rpc.grpc.status_code an int),
# beyla's message counts as ints, and per kind and code the span status.
"$VPY" - "$T/otlp.jsonl" >"$T/otlp-check.txt" 2>&1 <<'PY'
import collections, json, sys
spans = []
for line in open(sys.argv[1]):
    o = json.loads(line)
    for rs in o.get("resourceSpans", []):
        for ss in rs["scopeSpans"]:
            spans.extend(ss["spans"])
def val(v):
    if "intValue" in v:
        return int(v["intValue"])  # OTLP/JSON: 64-bit integers as decimal strings
    return v.get("stringValue")
seen = collections.Counter()
bad = []
for s in spans:
    a = {kv["key"]: kv["value"] for kv in s.get("attributes", [])}
    if "rpc.system" not in a:
        continue
    kind = {2: "server", 3: "client"}.get(s["kind"], s["kind"])
    types = {k: next(iter(a[k])) for k in a if k.startswith(("rpc.", "beyla.grpc."))}
    want = {"rpc.system": "stringValue", "rpc.service": "stringValue", "rpc.method": "stringValue",
            "rpc.grpc.status_code": "intValue", "beyla.grpc.request.messages": "intValue",
            "beyla.grpc.request.message_bytes": "intValue", "beyla.grpc.response.messages": "intValue",
            "beyla.grpc.response.message_bytes": "intValue"}
    if types != want:
        bad.append("%s %s: %r" % (kind, s["name"], types))
        continue
    if s["name"] != val(a["rpc.service"]) + "/" + val(a["rpc.method"]) or val(a["rpc.system"]) != "grpc":
        bad.append("%s: name %r" % (kind, s["name"]))
    status = s.get("status", {}).get("code", 0)
    seen[(kind, val(a["rpc.method"]), val(a["rpc.grpc.status_code"]), status,
          val(a["beyla.grpc.response.messages"]))] += 1
# metrics: the last (cumulative) point of each series
last = {}
for line in open(sys.argv[1]):
    o = json.loads(line)
    for rm in o.get("resourceMetrics", []):
        pid = next((val(kv["value"]) for kv in rm["resource"]["attributes"] if kv["key"] == "process.pid"), None)
        for sm in rm["scopeMetrics"]:
            for m in sm["metrics"]:
                for p in m["histogram"]["dataPoints"]:
                    a = tuple(sorted((kv["key"], next(iter(kv["value"])), val(kv["value"])) for kv in p["attributes"]))
                    k = (pid, m["name"], a)
                    if k not in last or int(p["timeUnixNano"]) > int(last[k]["timeUnixNano"]):
                        last[k] = p
calls = collections.Counter()
for (pid, name, a), p in last.items():
    keys = {k: (t, v) for k, t, v in a}
    if name.startswith("rpc."):
        ok = keys.get("rpc.system") == ("stringValue", "grpc") and keys.get("rpc.service") == \
            ("stringValue", "beyla.test.v1.Probe") and keys.get("rpc.grpc.status_code", ("", 0))[0] == "intValue" \
            and "rpc.method" in keys and not any(k.startswith("http.") for k in keys)
        if not ok:
            bad.append("series %s %r" % (name, a))
    calls[name] += int(p["count"])
for b in bad[:5]:
    print("# " + b)
print("bad %d" % len(bad))
for k, n in sorted(seen.items()):
    print("%s %s %d %d %d x%d" % (k + (n,)))
for name, n in sorted(calls.items()):
    print("metric %s %d" % (name, n))
PY
check "OTLP: the export is read" test "$(grep -c '^bad ' "$T/otlp-check.txt")" -eq 1
check_grep "OTLP: every gRPC span has rpc.system, rpc.service, rpc.method, rpc.grpc.status_code (int) and the message counts (int), every RPC histogram series the RPC attributes" \
	'^bad 0$' "$T/otlp-check.txt"
check "OTLP: the calls counted in rpc.server.call.duration and rpc.client.call.duration (none in HTTP's), their queue in beyla.server.queue.duration" \
	diff <(printf 'metric beyla.server.queue.duration %d\nmetric rpc.client.call.duration %d\nmetric rpc.server.call.duration %d\n' \
		$((4 * N_CALLS)) $((4 * N_CALLS)) $((4 * N_CALLS))) <(grep '^metric ' "$T/otlp-check.txt")
# kind method code status(1 ok, 2 error) response-messages xcount, over the four pairs
{
	for kind in client server; do
		echo "$kind Chat 0 1 3 x4"; echo "$kind Count 0 1 5 x4"; echo "$kind Echo 0 1 1 x36"
		echo "$kind Fail 13 2 0 x4"
		[ "$kind" = client ] && echo "$kind Lookup 5 2 0 x4" || echo "$kind Lookup 5 1 0 x4"
		echo "$kind Sum 0 1 1 x4"
	done
} >"$T/otlp-want.txt"
check "OTLP: per kind, method and code the span status of the RPC conventions (NOT_FOUND an error only for clients), and the streams' message counts" \
	diff "$T/otlp-want.txt" <(grep -v '^bad \|^# \|^metric ' "$T/otlp-check.txt")
"$VPY" "$E2E_ROOT/tests/e2e/otlp_verify.py" check "$db" --jsonl "$T/otlp.jsonl" >"$T/verify.txt" 2>&1
check "OTLP: the export matches the database span by span and metric by metric (otlp_verify.py)" test $? -eq 0
sed -n 's/^\(not ok - .*\)/# \1/p' "$T/verify.txt"
# --- grpc-go over TLS: the crypto/tls plaintext, in both --go modes ------------------
# gRPC-go serves without net/http's handler, so its requests and responses
# exist only as crypto/tls plaintext: --go=fast (the default) must record the
# reads at their copy as --go=full does at their returns, on both ends (the
# client is the same executable).  Same spans in both modes.
for gomode in fast full; do
	tls_port=$(free_port)
	start_bg "tlssrv-$gomode" "$GRPC/bin/grpcprobe" server -port "$tls_port" -tls
	tls_srv=$BG_PID
	wait_for_port "$tls_port" || bail "the grpc-go TLS server listens on $tls_port" "$(tail -n 3 "$T/tlssrv-$gomode.log")"
	gargs=()
	[ $gomode = full ] && gargs=(--go=full)
	tcap=$T/grpc-tls-$gomode.bz.zst
	record_start "$tcap" "${gargs[@]}" -p "$tls_srv" --port "$tls_port" || bail "beyla record starts ($gomode)" "$(tail -n 5 "$REC_LOG")"
	"$GRPC/bin/grpcprobe" client -target "127.0.0.1:$tls_port" -tls >"$T/tls-$gomode.out" 2>"$T/tls-$gomode.err" &
	tcli=$!
	wait "$tcli"
	check_num "TLS, --go=$gomode: the client exits 0" $? -eq 0
	sleep 0.3
	record_stop INT
	check_num "TLS, --go=$gomode: beyla record exits 0" "${REC_RC:-none}" -eq 0
	stop_bg "$tls_srv"
	check "TLS, --go=$gomode: the client got what it gets unrecorded" diff <(printf '%s\n' "$expected_out") "$T/tls-$gomode.out"
	"$BEYLA" info "$tcap" >"$T/tls-$gomode.info" 2>&1
	check_grep "TLS, --go=$gomode: beyla info says the mode" "^go probes: +$gomode " "$T/tls-$gomode.info"
	tdb=$T/grpc-tls-$gomode.db
	"$BEYLA" analyze -q -o "$tdb" "$tcap" >"$T/tls-$gomode.analyze" 2>&1
	check_num "TLS, --go=$gomode: beyla analyze exits 0" $? -eq 0
	tq() { sqlite3 -batch -noheader "$tdb" "$1"; }
	check_num "TLS, --go=$gomode: both connections parsed from plaintext, none opaque" \
		"$(tq "SELECT count(*) FROM parse_stats WHERE (name='tls_conns_plaintext' AND value=2) OR (name='tls_conns_opaque' AND value=0)")" -eq 2
	check_num "TLS, --go=$gomode: $N_CALLS server spans and $N_CALLS client spans, none incomplete" \
		"$(tq "SELECT count(*) FROM spans WHERE kind IN ('server', 'client') AND NOT incomplete AND name LIKE 'beyla.test.v1.Probe/%'")" -eq $((2 * N_CALLS))
	check_num "TLS, --go=$gomode: every server span the child of its client span" \
		"$(tq "SELECT count(*) FROM spans s JOIN spans c ON c.span_id=s.parent_id WHERE s.kind='server' AND s.pid=$tls_srv AND c.kind='client' AND c.pid=$tcli AND c.name=s.name")" -eq "$N_CALLS"
	tq "SELECT s.kind, s.name, s.status, (SELECT value FROM span_attributes a WHERE a.span_id=s.span_id AND a.key='rpc.grpc.status_code')
		FROM spans s WHERE s.kind IN ('server', 'client') ORDER BY 1, 2, 3, 4" >"$T/tls-$gomode.rows"
done
check_num "TLS: the grpc-go spans compared" "$(wc -l <"$T/tls-fast.rows")" -eq $((2 * N_CALLS))
check "TLS: --go=fast gives the spans --go=full gives (method, status, gRPC code)" diff "$T/tls-full.rows" "$T/tls-fast.rows"
finish
