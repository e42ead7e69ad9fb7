#!/usr/bin/env bash
# record_redis.sh - Redis calls as database spans: a throwaway redis-server
# (password in its config file, TCP on a free port and a UNIX socket),
# called by tests/servers/redis_client.py: redis-py over TCP (single
# commands on database 3, a pipeline of 20, MULTI/EXEC, WRONGTYPE and an
# unknown command, pub/sub with 3 messages, RESP3), redis-cli and inline
# commands over the UNIX socket.
#   A. the clients recorded: each command once as a client span, with its
#      operation, namespace, sanitised query text and error status; the
#      pipelined commands each their own span carried by one write and one
#      read; pub/sub messages counted, not spanned; UNIX spans say so; the
#      password and the values SET are in neither the capture nor the
#      database;
#   B. redis-server recorded too: a server span for each client span, its
#      child, within it, queue + processing = duration;
#   C. the default snap length and a pipeline of 100 SETs in one write
#      larger than it: no span invented for what was not captured, and no
#      value leaks from the part the masker could not follow.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_recording_env
need redis-server redis-cli sqlite3 zstdcat ss
[ -x "$BEYLA_VENV/bin/python" ] || bail "python venv at $BEYLA_VENV" "run scripts/setup.sh"
"$BEYLA_VENV/bin/python" -c 'import redis' 2>/dev/null || bail "redis-py in $BEYLA_VENV" "run scripts/setup.sh"

CLIENT=$E2E_ROOT/tests/servers/redis_client.py
PY=$BEYLA_VENV/bin/python
export REDIS_PASSWORD=SECRETPASS # (by the environment: command lines are recorded)
port=$(free_port)
SOCK=$T/redis.sock
cat >"$T/redis.conf" <<EOF
port $port
bind 127.0.0.1
unixsocket $SOCK
save ""
appendonly no
dir $T
requirepass $REDIS_PASSWORD
EOF
start_bg redis redis-server "$T/redis.conf"
REDIS=$BG_PID
check "redis-server listens on 127.0.0.1:$port" wait_for_port "$port"
for ((i = 0; i < 100; i++)); do [ -S "$SOCK" ] && break; sleep 0.05; done
check "redis-server listens on $SOCK" test -S "$SOCK"

q() { sqlite3 -batch -noheader "$DB" "$1" 2>&1; }

# spans PHASE KIND QUERY: how many KIND spans have db.query.text QUERY
spans() {
	q "SELECT count(*) FROM spans s JOIN span_attributes a USING (span_id) WHERE s.kind = '$1'
		AND a.key = 'db.query.text' AND a.value = '$2'"
}
# attr KIND QUERY KEY: KEY's value on the KIND span of QUERY
attr() {
	q "SELECT group_concat(b.value) FROM spans s JOIN span_attributes a USING (span_id)
		JOIN span_attributes b ON b.span_id = s.span_id WHERE s.kind = '$1'
		AND a.key = 'db.query.text' AND a.value = '$2' AND b.key = '$3'"
}

# secrets_checks PHASE CAPTURE: no secret in the capture or the database
secrets_checks() {
	check_num "$1: no SECRET in the capture (password, values SET, messages)" \
		"$(zstdcat "$2" | grep -a -c SECRET)" -eq 0
	check_num "$1: no SECRET in the database" "$(sqlite3 "$DB" .dump | grep -a -c SECRET)" -eq 0
}

# client_checks PHASE: every command of redis_client.py once, as it was
client_checks() {
	local ph=$1 n want
	check_num "$ph: every connection is Redis, the client's side" \
		"$(q "SELECT count(*) FROM connections WHERE pid <> $REDIS AND (protocol <> 'redis' OR http_role <> 'client')")" -eq 0
	check_num "$ph: 7 client connections (4 redis-py TCP, 2 redis-cli and 1 raw over UNIX)" \
		"$(q "SELECT count(*) FROM connections WHERE pid <> $REDIS")" -eq 7
	check_num "$ph: every command a complete client span, every reply paired (none left over)" \
		"$(q "SELECT (SELECT sum(requests) FROM connections WHERE pid <> $REDIS) - (SELECT count(*) FROM spans
			WHERE kind = 'client' AND incomplete = 0) + (SELECT sum(requests) - sum(responses) FROM connections)")" -eq 0
	check_num "$ph: every client span says db.system.name=redis" \
		"$(q "SELECT count(*) FROM spans s WHERE kind = 'client' AND NOT EXISTS (SELECT 1 FROM span_attributes a
			WHERE a.span_id = s.span_id AND a.key = 'db.system.name' AND a.value = 'redis')")" -eq 0
	for want in 'SET user:1 ?' 'GET user:1' 'HSET h:1 ? ?' 'INCRBY counter:1 ?' 'MULTI' 'SET tx:1 ?' 'INCRBY tx:2 ?' \
		'EXEC' 'RPUSH list:1 ?' 'INCRBY list:1 ?' 'NOSUCHCMD x' 'SUBSCRIBE news' 'UNSUBSCRIBE news' \
		'HSET h3:1 ? ? ? ?' 'HGETALL h3:1' 'SET cli:1 ?' 'GET cli:1' 'PING' 'EXISTS cli:1'; do
		check_num "$ph: '$want' once as a client span" "$(spans client "$want")" -eq 1
	done
	check_num "$ph: 3 PUBLISH news ? spans" "$(spans client 'PUBLISH news ?')" -eq 3
	check_num "$ph: the pipeline: INCRBY pipe:00..19, each once" \
		"$(q "SELECT count(DISTINCT a.value) || ' ' || count(*) FROM span_attributes a JOIN spans s USING (span_id)
			WHERE s.kind = 'client' AND a.key = 'db.query.text' AND a.value GLOB 'INCRBY pipe:[0-9][0-9] ?'" |
			awk '$1 == 20 { print $2 }')" -eq 20
	check_num "$ph: ... all 20 carried by one write and one read (one start, one end)" \
		"$(q "SELECT count(DISTINCT start_ns) + count(DISTINCT end_ns) FROM spans s JOIN span_attributes a USING (span_id)
			WHERE s.kind = 'client' AND a.key = 'db.query.text' AND a.value GLOB 'INCRBY pipe:* ?'")" -eq 2
	check_num "$ph: ... after the command before them ended, before MULTI began" \
		"$(q "SELECT count(*) FROM spans p JOIN span_attributes a USING (span_id) WHERE p.kind = 'client'
			AND a.key = 'db.query.text' AND a.value GLOB 'INCRBY pipe:* ?' AND
			p.start_ns > (SELECT s.end_ns FROM spans s JOIN span_attributes b USING (span_id) WHERE s.kind = 'client'
				AND b.key = 'db.query.text' AND b.value = 'INCRBY counter:1 ?') AND
			p.end_ns < (SELECT s.start_ns FROM spans s JOIN span_attributes b USING (span_id) WHERE s.kind = 'client'
				AND b.key = 'db.query.text' AND b.value = 'MULTI')")" -eq 20
	check "$ph: GET user:1: db.operation.name GET, db.namespace 3 (SELECT 3), span name 'GET 3'" eval \
		'[ "$(attr client "GET user:1" db.operation.name)/$(attr client "GET user:1" db.namespace)/$(q "SELECT s.name
			FROM spans s JOIN span_attributes a USING (span_id) WHERE s.kind = '"'client'"' AND a.value = '"'GET user:1'"'")" = "GET/3/GET 3" ]'
	check "$ph: HGETALL over RESP3 (a map reply) on database 0: 2 rows" eval \
		'[ "$(attr client "HGETALL h3:1" db.namespace)/$(attr client "HGETALL h3:1" db.response.returned_rows)" = "0/2" ]'
	check "$ph: EXEC's reply: an array of 2" eval '[ "$(attr client EXEC db.response.returned_rows)" = 2 ]'
	check "$ph: INCRBY on a list: an error, db.response.status_code=WRONGTYPE, error.type=WRONGTYPE" eval \
		'[ "$(attr client "INCRBY list:1 ?" db.response.status_code)/$(attr client "INCRBY list:1 ?" error.type)/$(q "SELECT
			s.status FROM spans s JOIN span_attributes a USING (span_id) WHERE s.kind = '"'client'"' AND a.value = '"'INCRBY list:1 ?'"'")" = "WRONGTYPE/WRONGTYPE/error" ]'
	check "$ph: an unknown command: ERR" eval '[ "$(attr client "NOSUCHCMD x" error.type)" = ERR ]'
	check "$ph: AUTH shows no argument" eval \
		'[ "$(q "SELECT count(*) FROM span_attributes WHERE key = '"'db.query.text'"' AND value LIKE '"'AUTH%'"' AND value <> '"'AUTH ?'"'")" = 0 ]'
	check_num "$ph: the subscriber's 3 messages are no span, their 132 bytes counted as out-of-band" \
		"$(q "SELECT count(*) FROM connections WHERE pid <> $REDIS AND ignored_bytes = 132 AND requests = responses")" -eq 1
	check_num "$ph: 7 spans over the UNIX socket (3 AUTH, SET, GET, inline PING and EXISTS), each network.transport=unix" \
		"$(q "SELECT count(*) FROM spans s JOIN connections c USING (conn_id) WHERE c.family = 'unix' AND s.kind = 'client'
			AND c.unix_path = '$SOCK' AND EXISTS (SELECT 1 FROM span_attributes a WHERE a.span_id = s.span_id
			AND a.key = 'network.transport' AND a.value = 'unix')")" -eq 7
	check_num "$ph: no span over TCP says unix" \
		"$(q "SELECT count(*) FROM spans s JOIN connections c USING (conn_id) JOIN span_attributes a USING (span_id)
			WHERE c.family = 'ipv4' AND a.key = 'network.transport' AND a.value = 'unix'")" -eq 0
}

# check_client_out PHASE LOG: the client saw what it asked for
check_client_out() {
	local client_out=$2
	check "$1: the client's commands all answered as expected" eval \
		'[ "$(grep -cxE "get=SECRETVALUE1|pipeline=20|exec=2|wrongtype=WRONGTYPE|messages=3|resp3_fields=2|cli_get=SECRETCLI|inline_ping=\+PONG|inline_exists=:1" "$client_out")" = 9 ]'
}

# ---- A: the clients recorded -----------------------------------------------
DB=$T/a.db
if record_start "$T/a.bz.zst" -q --snaplen 1024 -- "$PY" "$CLIENT" "$port" "$SOCK"; then
	record_wait 40
	check_num "A: beyla record -- redis_client.py exits 0" "${REC_RC:-none}" -eq 0
	check_client_out A "$REC_LOG.out"
	"$BEYLA" analyze -q -o "$DB" "$T/a.bz.zst" >"$T/a.analyze.log" 2>&1
	check_num "A: beyla analyze exits 0" $? -eq 0
	secrets_checks A "$T/a.bz.zst"
	client_checks A
	check_num "A: no server span (redis-server not recorded)" "$(q "SELECT count(*) FROM spans WHERE kind = 'server'")" -eq 0
else
	_not_ok "A: beyla record -- redis_client.py starts" "$(tail -n 5 "$REC_LOG" 2>/dev/null)"
fi

# ---- B: redis-server recorded too ---------------------------------------------
DB=$T/b.db
if record_start "$T/b.bz.zst" -q --snaplen 1024 -p "$REDIS" -- "$PY" "$CLIENT" "$port" "$SOCK"; then
	record_wait 40
	check_num "B: beyla record -p redis-server -- redis_client.py exits 0" "${REC_RC:-none}" -eq 0
	check_client_out B "$REC_LOG.out"
	"$BEYLA" analyze -q -o "$DB" "$T/b.bz.zst" >"$T/b.analyze.log" 2>&1
	check_num "B: beyla analyze exits 0" $? -eq 0
	secrets_checks B "$T/b.bz.zst"
	client_checks B
	check_num "B: redis-server's 7 connections are Redis, its side the server's" \
		"$(q "SELECT count(*) FROM connections WHERE pid = $REDIS AND protocol = 'redis' AND http_role = 'server'")" -eq 7
	check_num "B: as many complete server spans as client spans" \
		"$(q "SELECT (SELECT count(*) FROM spans WHERE kind = 'server' AND incomplete = 0 AND pid = $REDIS) -
			(SELECT count(*) FROM spans WHERE kind = 'client')")" -eq 0
	check_num "B: every server span the child of the client span on the other end, same call, one trace" \
		"$(q "SELECT count(*) FROM spans s WHERE s.kind = 'server' AND NOT EXISTS (SELECT 1 FROM spans c
			WHERE c.span_id = s.parent_id AND c.kind = 'client' AND c.trace_id = s.trace_id AND c.name = s.name)")" -eq 0
	# (to 50 us after the client span's end: the server's write can return
	# after the client's read of its bytes did, which land in the peer's
	# queue inside the write)
	check_num "B: each within its client span (from the connect() for a connection's first)" \
		"$(q "SELECT count(*) FROM spans s JOIN spans c ON c.span_id = s.parent_id JOIN connections cc
			ON cc.conn_id = c.conn_id WHERE s.kind = 'server' AND
			(s.start_ns < coalesce(cc.syscall_start_ns, c.start_ns) OR s.end_ns > c.end_ns + 50000)")" -eq 0
	check_num "B: queue + processing = duration for every server span" \
		"$(q "SELECT count(*) FROM spans WHERE kind = 'server' AND (queue_ns IS NULL OR processing_ns IS NULL OR
			queue_ns < 0 OR processing_ns < 0 OR queue_ns + processing_ns + coalesce(tx_queue_ns, 0) <> duration_ns)")" -eq 0
	check_num "B: the server's WRONGTYPE span is an error too" \
		"$(q "SELECT count(*) FROM spans s JOIN span_attributes a USING (span_id) WHERE s.kind = 'server' AND
			s.status = 'error' AND a.key = 'error.type' AND a.value = 'WRONGTYPE'")" -eq 1
	check_num "B: the server's pipeline spans: 20" \
		"$(q "SELECT count(*) FROM spans s JOIN span_attributes a USING (span_id) WHERE s.kind = 'server' AND
			a.key = 'db.query.text' AND a.value GLOB 'INCRBY pipe:* ?'")" -eq 20
else
	_not_ok "B: beyla record -p redis-server starts" "$(tail -n 5 "$REC_LOG" 2>/dev/null)"
fi

# ---- C: a pipeline larger than the default snap length, then a GET ---------------
DB=$T/c.db
# (a file: a command line is recorded, and this one names the values)
cat >"$T/big.py" <<'EOF'
import os, redis
r = redis.Redis(host="127.0.0.1", port=int(os.environ["PORT"]), password=os.environ["REDIS_PASSWORD"])
p = r.pipeline(transaction=False)
for i in range(100):
    p.set("big:%02d" % i, "SECRETBIG%02d" % i)
print("set=%d" % sum(p.execute()))
print("get=%s" % r.get("big:99").decode())
EOF
if PORT=$port record_start "$T/c.bz.zst" -q -- "$PY" "$T/big.py"; then
	record_wait 30
	check_num "C: beyla record (default snaplen) exits 0" "${REC_RC:-none}" -eq 0
	check "C: the 100 SETs and a GET answered" grep -qx "get=SECRETBIG99" "$REC_LOG.out"
	"$BEYLA" analyze -q -o "$DB" "$T/c.bz.zst" >"$T/c.analyze.log" 2>&1
	check_num "C: beyla analyze exits 0" $? -eq 0
	secrets_checks C "$T/c.bz.zst"
	n=$(q "SELECT count(*) FROM span_attributes WHERE key = 'db.query.text' AND value GLOB 'SET big:* ?'")
	check_between "C: the SETs in the captured part are spans, none past it invented" "$n" 1 99
	check_num "C: ... each a different SET" \
		"$(q "SELECT count(DISTINCT value) FROM span_attributes WHERE key = 'db.query.text' AND value GLOB 'SET big:* ?'")" -eq "$n"
	check_num "C: ... and the bytes past them are counted as skipped" \
		"$(q "SELECT count(*) FROM connections WHERE protocol = 'redis' AND skipped_bytes > 0")" -ge 1
	# the framing lost in the pipeline's write restarts at the next command
	check_num "C: the GET after the pipeline is a span again, its reply paired" \
		"$(q "SELECT count(*) FROM spans s JOIN span_attributes a ON a.span_id = s.span_id AND
			a.key = 'db.query.text' AND a.value = 'GET big:99' WHERE s.kind = 'client' AND s.incomplete = 0
			AND s.status = 'ok'")" -eq 1
fi

stop_bg "$REDIS"
finish
