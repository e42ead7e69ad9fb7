#!/usr/bin/env bash
# record_db_app.sh - a web application's database calls inside its requests'
# traces (issue 19): tests/servers/db_app.py, a Flask app under gunicorn
# whose handler calls PostgreSQL (psycopg 3), MariaDB (PyMySQL) and Redis
# (redis-py), all three real servers started here with passwords, driven by
# curl.
#   A. the app launched by `beyla record -- gunicorn ...`: its database
#      connections open during the recording.  Every call exactly once as a
#      client span (2 PostgreSQL, 1 MariaDB, 4 Redis per request, the Redis
#      pipeline's two commands each their own span), each the child of the
#      HTTP server span of the request that made it, in its trace, within
#      its time; errors (42P01, WRONGTYPE) with their codes; the secrets of
#      the handler (a literal of an INSERT, a bound parameter, a Redis value,
#      the database password) neither in the capture nor in the database.
#   B. the app already running with its connections open (a pool warmed
#      before the recording): `beyla record -p` joins them mid-way, and the
#      calls are still found and parented.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/db_servers.sh
. "$E2E_ROOT/tests/db_servers.sh"
require_recording_env
need curl sqlite3 ss zstd psql mariadb
[ -x "$BEYLA_VENV/bin/gunicorn" ] || bail "gunicorn installed" "run: sudo bash scripts/setup.sh"
"$BEYLA_VENV/bin/python" -c 'import psycopg, pymysql, redis' 2>/dev/null ||
	bail "psycopg, PyMySQL and redis-py installed" "run: sudo bash scripts/setup.sh"

N=12
pg_port=$(free_port) my_port=$(free_port) rd_port=$(free_port)
db_start_postgres "$T/pg" "$pg_port"
db_start_mariadb "$T/my" "$my_port"
db_start_redis "$T/rd" "$rd_port"

PGPASSWORD=$DB_PASSWORD psql -h "$PG_SOCKDIR" -p "$pg_port" -U "$DB_USER" -d "$DB_NAME" -q \
	-c "CREATE TABLE items (id int PRIMARY KEY, name text)" \
	-c "CREATE TABLE audit (who text, token text, note text)" \
	-c "INSERT INTO items SELECT g, 'item-' || g FROM generate_series(1, 100) g" >"$T/pg-schema.log" 2>&1 ||
	bail "postgres: tables made" "$(tail -n 3 "$T/pg-schema.log")"
mariadb --no-defaults -S "$MY_SOCK" -u "$DB_USER" "-p$DB_PASSWORD" "$DB_NAME" \
	-e "CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items VALUES (1, 'one'), (2, 'two');" \
	>"$T/my-schema.log" 2>&1 || bail "mariadb: table made" "$(tail -n 3 "$T/my-schema.log")"

app_cmd() { # PORT: APP_CMD, the app's command line
	APP_CMD=(env "DB_PG=postgresql://$DB_USER:$DB_PASSWORD@127.0.0.1:$pg_port/$DB_NAME"
		DB_MY_PORT="$my_port" DB_REDIS_PORT="$rd_port" DB_USER="$DB_USER" DB_PASSWORD="$DB_PASSWORD"
		DB_NAME="$DB_NAME" "$BEYLA_VENV/bin/python" "$BEYLA_VENV/bin/gunicorn" -k sync -w 1 -b "127.0.0.1:$1"
		--chdir "$E2E_ROOT/tests/servers" --log-level warning db_app:app)
}

DB=
q() { sqlite3 "$DB" "$1"; }

# client spans of system $1 (and operation $2) whose parent is an HTTP server
# span of GET /order/{id} in the same trace, within its time
parented() {
	q "SELECT count(*) FROM spans c JOIN span_attributes s ON s.span_id = c.span_id AND s.key = 'db.system.name'
		AND s.value = '$1' JOIN span_attributes o ON o.span_id = c.span_id AND o.key = 'db.operation.name'
		AND o.value = '$2' JOIN spans h ON h.span_id = c.parent_id AND h.kind = 'server'
		AND h.http_method = 'GET' AND h.url_path LIKE '/order/%' AND h.trace_id = c.trace_id
		AND c.start_ns >= h.start_ns AND c.end_ns <= h.end_ns
		WHERE c.kind = 'client' AND c.incomplete = 0"
}
# A MariaDB connection joined mid-way is "mysql": the greeting that says
# which went by before the recording (MY_SYSTEM is set per part).
MY_SYSTEM=mariadb
calls() { # SYSTEM OPERATION [COLLECTION]: complete client spans
	q "SELECT count(*) FROM spans c JOIN span_attributes s ON s.span_id = c.span_id AND s.key = 'db.system.name'
		AND s.value = '$1' JOIN span_attributes o ON o.span_id = c.span_id AND o.key = 'db.operation.name'
		AND o.value = '$2' WHERE c.kind = 'client' AND c.incomplete = 0 ${3:+AND EXISTS (SELECT 1 FROM
		span_attributes t WHERE t.span_id = c.span_id AND t.key = 'db.collection.name' AND t.value = '$3')}"
}

# app_checks PART: what both parts assert of the database $DB
app_checks() {
	local p=$1
	check_num "$p: $N HTTP server spans of GET /order/{id}" \
		"$(q "SELECT count(*) FROM spans WHERE kind = 'server' AND url_path LIKE '/order/%' AND incomplete = 0")" -eq "$N"
	check_num "$p: PostgreSQL: each SELECT items once" "$(calls postgresql SELECT items)" -eq "$N"
	check_num "$p: PostgreSQL: each INSERT audit once" "$(calls postgresql INSERT audit)" -eq "$N"
	check_num "$p: MariaDB: each SELECT items once" "$(calls "$MY_SYSTEM" SELECT items)" -eq "$N"
	# (redis-py's incr() sends INCRBY key 1)
	for op in GET SET INCRBY EXPIRE; do
		check_num "$p: Redis: each $op once" "$(calls redis $op)" -eq "$N"
	done
	check_num "$p: every PostgreSQL SELECT is a child of its request's span, in its trace and time" \
		"$(parented postgresql SELECT)" -eq "$N"
	check_num "$p: every PostgreSQL INSERT likewise" "$(parented postgresql INSERT)" -eq "$N"
	check_num "$p: every MariaDB SELECT likewise" "$(parented "$MY_SYSTEM" SELECT)" -eq "$N"
	for op in GET SET INCRBY EXPIRE; do
		check_num "$p: every Redis $op likewise" "$(parented redis $op)" -eq "$N"
	done
	check_num "$p: each request has its 7 database calls as children" \
		"$(q "SELECT count(*) FROM spans h WHERE h.kind = 'server' AND h.url_path LIKE '/order/%' AND
			(SELECT count(*) FROM spans c JOIN span_attributes a ON a.span_id = c.span_id AND
			 a.key = 'db.operation.name' JOIN span_attributes y ON y.span_id = c.span_id AND
			 y.key = 'db.system.name' WHERE c.parent_id = h.span_id AND y.value || ':' || a.value IN
			 ('postgresql:SELECT', 'postgresql:INSERT', '$MY_SYSTEM:SELECT', 'redis:GET', 'redis:SET',
			  'redis:INCRBY', 'redis:EXPIRE')) = 7")" -eq "$N"
	check_num "$p: the pipelined INCRBY and EXPIRE are two spans, the INCRBY no later than the EXPIRE" \
		"$(q "SELECT count(*) FROM spans i JOIN span_attributes a ON a.span_id = i.span_id AND
			a.key = 'db.operation.name' AND a.value = 'INCRBY' JOIN spans e ON e.conn_id = i.conn_id AND
			e.request_index = i.request_index + 1 JOIN span_attributes b ON b.span_id = e.span_id AND
			b.key = 'db.operation.name' AND b.value = 'EXPIRE' WHERE i.start_ns <= e.start_ns AND i.end_ns <= e.end_ns")" \
		-eq "$N"
	check_num "$p: db.query.text of the PostgreSQL SELECT carries no value" \
		"$(q "SELECT count(*) FROM span_attributes t JOIN span_attributes o ON o.span_id = t.span_id AND
			o.key = 'db.operation.name' AND o.value = 'SELECT' WHERE t.key = 'db.query.text' AND
			t.value = 'SELECT name FROM items WHERE id = \$1'")" -eq "$N"
	check_num "$p: the Redis key stays in db.query.text, the value does not" \
		"$(q "SELECT count(*) FROM span_attributes WHERE key = 'db.query.text' AND value LIKE 'SET seen:% ?'")" -eq "$N"
	check_num "$p: the span name of a call is {operation} {table}" \
		"$(q "SELECT count(*) FROM spans WHERE kind = 'client' AND name = 'INSERT audit'")" -eq "$N"
}

no_secrets() { # PART CAPTURE
	local p=$1 cap=$2 s
	for s in audit-SECRET-5b2c param-SECRET-91fa value-SECRET-c3d8 "$DB_PASSWORD"; do
		check_num "$p: '$s' is not in the capture" "$(zstdcat "$cap" | grep -a -c -- "$s")" -eq 0
		check_num "$p: '$s' is not in the database" "$(sqlite3 "$DB" .dump | grep -a -c -- "$s")" -eq 0
	done
}

# ---- A: launched under the recorder -----------------------------------------
port=$(free_port)
CAP=$T/app.bz.zst
DB=$T/app.db
app_cmd "$port"
if record_start "$CAP" -q -- "${APP_CMD[@]}"; then
	wait_for_port "$port" 30 || _not_ok "A: gunicorn listens" "$(tail -n 5 "$T"/record.*.log)"
	ok=0
	for ((i = 1; i <= N; i++)); do
		curl -sf "http://127.0.0.1:$port/order/$i" >/dev/null && ok=$((ok + 1))
	done
	curl -sf "http://127.0.0.1:$port/fail" >/dev/null && ok=$((ok + 1))
	check_num "A: all $((N + 1)) requests answered" "$ok" -eq $((N + 1))
	sleep 0.3
	record_stop INT
	check_num "A: beyla record exits 0" "${REC_RC:-none}" -eq 0
	"$BEYLA" analyze -q -o "$DB" "$CAP" >"$T/app.analyze.log" 2>&1
	check_num "A: beyla analyze exits 0" $? -eq 0
	app_checks A
	# (a connection seen from its start: its startup or handshake names it)
	check_num "A: db.namespace is the database (PostgreSQL's startup, MariaDB's handshake)" \
		"$(q "SELECT count(DISTINCT s.span_id) FROM span_attributes s WHERE s.key = 'db.namespace' AND s.value = '$DB_NAME'")" \
		-ge $((3 * N))
	check_num "A: the failed PostgreSQL statement is an error span with SQLSTATE 42P01" \
		"$(q "SELECT count(*) FROM spans c JOIN span_attributes a ON a.span_id = c.span_id AND
			a.key = 'db.response.status_code' AND a.value = '42P01' JOIN span_attributes e ON
			e.span_id = c.span_id AND e.key = 'error.type' AND e.value = '42P01' WHERE c.status = 'error'")" -eq 1
	check_num "A: the Redis HGET of a list is an error span, WRONGTYPE" \
		"$(q "SELECT count(*) FROM spans c JOIN span_attributes a ON a.span_id = c.span_id AND
			a.key = 'db.response.status_code' AND a.value = 'WRONGTYPE' WHERE c.status = 'error'")" -eq 1
	check_num "A: the database connections are named by protocol" \
		"$(q "SELECT count(DISTINCT protocol) FROM connections WHERE protocol IN ('postgresql', 'mysql', 'redis')")" -eq 3
	no_secrets A "$CAP"
else
	_not_ok "A: beyla record -- gunicorn starts" "$(tail -n 5 "$REC_LOG" 2>/dev/null)"
fi

# ---- B: joined mid-way -------------------------------------------------------
port=$(free_port)
app_cmd "$port"
start_bg app "${APP_CMD[@]}"
APP=$BG_PID
wait_for_port "$port" 30 || bail "B: gunicorn listens" "$(tail -n 5 "$T/app.log")"
curl -sf "http://127.0.0.1:$port/order/1" >/dev/null # the worker's connections open now
pids=()
for p in $APP $(pgrep -P "$APP"); do pids+=(-p "$p"); done
CAP=$T/joined.bz.zst
DB=$T/joined.db
if record_start "$CAP" -q "${pids[@]}"; then
	for ((i = 1; i <= N; i++)); do
		curl -sf "http://127.0.0.1:$port/order/$i" >/dev/null
	done
	sleep 0.3
	record_stop INT
	check_num "B: beyla record exits 0" "${REC_RC:-none}" -eq 0
	"$BEYLA" analyze -q -o "$DB" "$CAP" >"$T/joined.analyze.log" 2>&1
	check_num "B: beyla analyze exits 0" $? -eq 0
	check_num "B: the database connections were open before the recording" \
		"$(q "SELECT count(*) FROM connections WHERE role = 'preexisting' AND protocol IN ('postgresql', 'mysql', 'redis')")" -eq 3
	MY_SYSTEM=mysql app_checks B
	no_secrets B "$CAP"
else
	_not_ok "B: beyla record -p gunicorn starts" "$(tail -n 5 "$REC_LOG" 2>/dev/null)"
fi
finish
