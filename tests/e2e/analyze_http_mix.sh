#!/usr/bin/env bash
# analyze_http_mix.sh - end to end, record -> analyze -> SQL, on four real
# servers: nginx, Python http.server, gunicorn (sync, 2 workers) + Flask, and
# Node Express, all serving the route set of tests/servers/.  For each one:
# start it on a free port, `beyla record -p PID` (nginx and gunicorn by their
# master's pid: the workers must be followed), run tests/servers/mix_client.py
# (GET/POST/HEAD, 200/404/500, chunked, keep-alive, new connections, three
# pipelined requests in one write, requests split over several writes, a
# 100 KB upload, a 200 KB response), stop, `beyla analyze`, and check with
# sqlite3 that every request the client made is there exactly once as a
# server span, in order, with the right method, path, query, route, status,
# request and response body sizes (the client counts the bytes on the wire
# after the head, chunk framing included, as the analyzer does); that the
# pipelined requests gunicorn never answered are incomplete spans; that every
# server span is tiled by its "in queue" and "processing" children
# (queue + processing = duration); and that nothing was dropped.
# A server that cannot be started fails its checks; nothing is skipped.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
require_recording_env
need nginx node sqlite3 ss

SERVERS=$E2E_ROOT/tests/servers
SERVER_LIST=${MIX_SERVERS:-nginx python gunicorn express}

# start_server KIND PORT: starts it; SRV_PID (what is recorded), SKIP (routes
# the server does not have), or returns 1.
start_server() {
	local kind=$1 port=$2 d=$T/$1
	SKIP=
	mkdir -p "$d"
	case $kind in
	nginx)
		sed -e "s|@DIR@|$d|g" -e "s|@PORT@|$port|g" "$SERVERS/nginx.conf.in" >"$d/nginx.conf"
		head -c 200000 /dev/zero | tr '\0' L >"$d/large.bin"
		start_bg nginx nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log"
		SKIP=chunked
		;;
	python)
		start_bg python "$PYTHON" "$SERVERS/http_server.py" "$port"
		;;
	gunicorn)
		[ -x "$BEYLA_VENV/bin/python" ] || { log "no venv at $BEYLA_VENV: run scripts/setup.sh"; return 1; }
		start_bg gunicorn "$BEYLA_VENV/bin/python" -m gunicorn -w 2 -k sync -b "127.0.0.1:$port" \
			--chdir "$SERVERS" flask_app:app
		;;
	express)
		[ -f "$BEYLA_NODE_MODULES/express/package.json" ] || { log "no express in $BEYLA_NODE_MODULES: run scripts/setup.sh"; return 1; }
		NODE_PATH=$BEYLA_NODE_MODULES start_bg express node "$SERVERS/express_app.js" "$port"
		;;
	esac
	SRV_PID=$BG_PID
	wait_for_port "$port" || { tail -n 5 "$T/$kind.log" | sed 's/^/# /'; return 1; }
	if [ "$kind" = nginx ] || [ "$kind" = gunicorn ]; then # wait for the workers
		local i n=2
		[ "$kind" = nginx ] && n=1
		for ((i = 0; i < 100; i++)); do
			[ "$(pgrep -P "$SRV_PID" | wc -l)" -ge "$n" ] && return 0
			sleep 0.05
		done
		log "$kind: fewer than $n workers"
		return 1
	fi
}

# q SQL: one value from the database of the current server.
q() { sqlite3 -batch -noheader "$DB" "$1" 2>&1; }

# expected FIELDS: the client's requests as text lines, from its JSON (answered ones).
expected() {
	"$PYTHON" - "$T/$kind.json" "$1" <<'PY'
import json, re, sys
reqs = json.load(open(sys.argv[1]))
for r in reqs:
    if sys.argv[2] == "unanswered":
        if r["status"] is None:
            print(r["method"], r["path"])
        continue
    if r["status"] is None:
        continue
    path, _, query = r["path"].partition("?")
    query = "&".join(kv.split("=")[0] + "=REDACTED" if "=" in kv else kv for kv in query.split("&")) if query else ""
    route = re.sub(r"/\d+(?=/|$)", "/{id}", path)
    err = "error" if r["status"] >= 500 else "ok"
    print({"seq": "%s %s%s" % (r["method"], path, "?" + query if query else ""),
           "route": "%s %s" % (r["method"], route),
           "status": "%d %s" % (r["status"], err),
           "sizes": "%s %s%s req=%d resp=%d" % (r["method"], path, "?" + query if query else "",
                                               r["req_body"], r["resp_body"])}[sys.argv[2]])
PY
}

# actual FIELDS: the same lines from the complete server spans, in start order.
SPAN_ORDER="ORDER BY start_ns, conn_id, request_index"
actual() {
	local sel
	case $1 in
	seq) sel="http_method || ' ' || url_path || coalesce('?' || url_query, '')" ;;
	route) sel="name" ;;
	status) sel="http_status_code || ' ' || status" ;;
	sizes) sel="http_method || ' ' || url_path || coalesce('?' || url_query, '') || ' req=' || request_body_size || ' resp=' || response_body_size" ;;
	unanswered) sel="http_method || ' ' || url_path"; q "SELECT $sel FROM spans WHERE kind = 'server' AND incomplete = 1 $SPAN_ORDER"; return ;;
	esac
	q "SELECT $sel FROM spans WHERE kind = 'server' AND incomplete = 0 $SPAN_ORDER"
}

# check_same NAME FIELDS: expected and actual lines are identical (diff shown otherwise).
check_same() {
	local name=$1 what=$2
	expected "$what" >"$T/$kind.want.$what"
	actual "$what" >"$T/$kind.got.$what"
	if cmp -s "$T/$kind.want.$what" "$T/$kind.got.$what"; then
		_ok "$name"
	else
		_not_ok "$name" "client (<) vs database (>):"
		diff "$T/$kind.want.$what" "$T/$kind.got.$what" | head -n 20 | sed 's/^/#   | /'
	fi
}

for kind in $SERVER_LIST; do
	log "=== $kind"
	port=$(free_port)
	if ! start_server "$kind" "$port"; then
		_not_ok "$kind: server starts and listens on 127.0.0.1:$port" "$(tail -n 5 "$T/$kind.log" 2>/dev/null)"
		continue
	fi
	cap=$T/$kind.bz.zst
	DB=$T/$kind.db
	if ! record_start "$cap" -q -p "$SRV_PID"; then
		_not_ok "$kind: beyla record -p $SRV_PID starts"
		stop_bg "$SRV_PID"
		continue
	fi
	timeout 30 "$PYTHON" "$SERVERS/mix_client.py" "$port" --skip "$SKIP" >"$T/$kind.json" 2>"$T/$kind.client.err"
	rc=$?
	check_num "$kind: mix_client.py exits 0" "$rc" -eq 0
	[ "$rc" -eq 0 ] || sed 's/^/#   | /' "$T/$kind.client.err" | tail -n 5
	answered=$("$PYTHON" -c 'import json,sys; print(sum(r["status"] is not None for r in json.load(open(sys.argv[1]))))' "$T/$kind.json" 2>/dev/null)
	want_statuses=$("$PYTHON" -c '
import json, sys
want = {"/ok": 200, "/missing": 404, "/error": 500, "/chunked": 200, "/large": 200, "/upload": 201}
bad = [r for r in json.load(open(sys.argv[1])) if r["status"] is not None and
       want.get(r["path"].split("?")[0], 200) != r["status"]]
print(len(bad))' "$T/$kind.json" 2>/dev/null)
	check_num "$kind: the server answered every route with its status" "${want_statuses:-error}" -eq 0
	sleep 0.3 # the server's closes
	record_stop INT
	check_num "$kind: beyla record exits 0 after SIGINT" "${REC_RC:-none}" -eq 0
	stop_bg "$SRV_PID"

	"$BEYLA" analyze -q -o "$DB" "$cap" >"$T/$kind.analyze.log" 2>&1
	check_num "$kind: beyla analyze exits 0" $? -eq 0

	check_num "$kind: no drops (capture.drops + user_drops + drops table)" \
		"$(q "SELECT coalesce(drops, 0) + coalesce(user_drops, 0) + (SELECT coalesce(sum(lost + missed), 0) FROM drops) FROM capture")" -eq 0
	check_num "$kind: one complete server span per answered request" \
		"$(q "SELECT count(*) FROM spans WHERE kind = 'server' AND incomplete = 0")" -eq "${answered:-0}"
	check_same "$kind: method, path and redacted query of each request, in order" seq
	check_same "$kind: span name '{method} {route}' (/users/N -> /users/{id})" route
	check_same "$kind: status code, and span status error for 5xx only" status
	check_same "$kind: request and response body sizes" sizes
	check_same "$kind: unanswered pipelined requests are incomplete spans" unanswered
	# (tx_queue_ns: the response's wait in the kernel after the last write,
	# to the client's socket on this host; NULL counts as 0)
	check_num "$kind: queue + processing + tx_queue = duration for every server span" \
		"$(q "SELECT count(*) FROM spans WHERE kind = 'server' AND
			(queue_ns IS NULL OR processing_ns IS NULL OR queue_ns < 0 OR processing_ns < 0 OR
			 coalesce(tx_queue_ns, 0) < 0 OR
			 queue_ns + processing_ns + coalesce(tx_queue_ns, 0) <> duration_ns OR duration_ns <> end_ns - start_ns)")" -eq 0
	check_num "$kind: the complete server spans of this loopback client have tx_queue_ns (kernel waits)" \
		"$(q "SELECT count(*) FROM spans WHERE kind = 'server' AND incomplete = 0 AND tx_queue_ns IS NULL")" -eq 0
	check_num "$kind: every server span is tiled by its 'in queue', 'processing' (and 'in send queue') children" \
		"$(q "SELECT count(*) FROM spans s WHERE kind = 'server' AND NOT (
			(SELECT count(*) FROM spans c WHERE c.parent_id = s.span_id) = 2 + (coalesce(s.tx_queue_ns, 0) > 0) AND
			EXISTS (SELECT 1 FROM spans c WHERE c.parent_id = s.span_id AND c.kind = 'internal' AND
				c.name = 'in queue' AND c.trace_id = s.trace_id AND c.start_ns = s.start_ns AND
				c.duration_ns = s.queue_ns AND c.end_ns = c.start_ns + c.duration_ns) AND
			EXISTS (SELECT 1 FROM spans c WHERE c.parent_id = s.span_id AND c.kind = 'internal' AND
				c.name = 'processing' AND c.trace_id = s.trace_id AND c.end_ns = s.end_ns - coalesce(s.tx_queue_ns, 0) AND
				c.start_ns = s.start_ns + s.queue_ns AND c.duration_ns = s.processing_ns) AND
			(coalesce(s.tx_queue_ns, 0) = 0 OR EXISTS (SELECT 1 FROM spans c WHERE c.parent_id = s.span_id AND
				c.kind = 'internal' AND c.name = 'in send queue' AND c.trace_id = s.trace_id AND
				c.end_ns = s.end_ns AND c.duration_ns = s.tx_queue_ns)))")" -eq 0
	case $kind in
	nginx | gunicorn)
		check_num "$kind: every server span was served by a worker forked from the master ($SRV_PID)" \
			"$(q "SELECT count(*) FROM spans s WHERE kind = 'server' AND pid NOT IN
				(SELECT pid FROM processes WHERE ppid = $SRV_PID OR forked_from = $SRV_PID)")" -eq 0
		;;
	*)
		check_num "$kind: every server span was served by the server process ($SRV_PID)" \
			"$(q "SELECT count(*) FROM spans WHERE kind = 'server' AND pid <> $SRV_PID")" -eq 0
		;;
	esac
done

finish
