#!/usr/bin/env bash
# record_pgsql.sh - PostgreSQL calls (issue 19): a throwaway PostgreSQL 15
# cluster in $T (SCRAM passwords over TCP, a UNIX socket, TLS on), called by
#   psql       simple queries over the UNIX socket (one a two-statement batch,
#              one setting a password, one inserting a secret literal);
#   psycopg 3  the extended protocol over TCP: bound parameters (a secret
#              one), a result row, a unique violation (23505), a syntax error
#              (42601), and three INSERTs in pipeline mode;
# recorded
#   A. as clients (beyla record -- the driver script);
#   B. with the server too (-p the postmaster: its forked backends);
#   C. a psycopg connection with sslmode=require (SSLRequest answered 'S'),
#      its plaintext from the OpenSSL probes;
#   D. the same with --no-openssl: a TLS connection, nothing parsed.
# Asserted with SQL on the analyzed database: every call exactly once, with
# its db.* attributes, errors with their SQLSTATE, pipelined calls each a
# span; the UNIX calls say network.transport=unix; no secret (literal,
# bound value, password, the rows that hold them) in the capture or the
# database; the server's spans are the client spans' children, one each.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_recording_env
need sqlite3 zstdcat openssl runuser ss
PGBIN=/usr/lib/postgresql/15/bin
[ -x "$PGBIN/postgres" ] && [ -x "$PGBIN/initdb" ] || bail "PostgreSQL 15 server installed" "run scripts/setup.sh"
need psql
[ -x "$BEYLA_VENV/bin/python" ] && "$BEYLA_VENV/bin/python" -c 'import psycopg' 2>/dev/null ||
	bail "psycopg in $BEYLA_VENV" "run scripts/setup.sh"

PG=$T/pg
SOCK=$T/sock
mkdir -p "$PG" "$SOCK"
chmod 755 "$T"
chown postgres "$PG" "$SOCK"
port=$(free_port)

# ---- the cluster ------------------------------------------------------------
echo 'initpw-not-on-the-wire' >"$PG/pwfile"
chown postgres "$PG/pwfile"
runuser -u postgres -- "$PGBIN/initdb" -D "$PG/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
	--pwfile="$PG/pwfile" -E UTF8 >"$T/initdb.log" 2>&1 || bail "initdb" "$(tail -n 3 "$T/initdb.log")"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PG/data/server.key" -out "$PG/data/server.crt" \
	-subj /CN=localhost -days 2 >/dev/null 2>&1 || bail "openssl makes a throwaway certificate"
chown postgres "$PG/data/server.key" "$PG/data/server.crt"
chmod 600 "$PG/data/server.key"
start_bg postgres runuser -u postgres -- "$PGBIN/postgres" -D "$PG/data" -p "$port" -k "$SOCK" \
	-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c ssl=on
PGRUN=$BG_PID
check "postgres listens on 127.0.0.1:$port" wait_for_port "$port" 20
for ((i = 0; i < 100; i++)); do [ -S "$SOCK/.s.PGSQL.$port" ] && break; sleep 0.05; done
PM=$(head -n 1 "$PG/data/postmaster.pid" 2>/dev/null)
check "postmaster pid known" eval '[ -n "$PM" ] && kill -0 "$PM"'
psql -q -h "$SOCK" -p "$port" -U postgres -d postgres -c "CREATE USER app PASSWORD 'initial-pw'" \
	-c "CREATE DATABASE appdb OWNER app" >"$T/setup.log" 2>&1
check_num "user app and database appdb created" $? -eq 0

# ---- the clients ------------------------------------------------------------
cat >"$T/client.py" <<'EOF'
import os, sys
import psycopg
conn = dict(host="127.0.0.1", port=int(sys.argv[1]), user="app", password=os.environ["APP_PW"],
            dbname="appdb", sslmode=sys.argv[2], autocommit=True)
with psycopg.connect(**conn) as c:
    if sys.argv[2] == "require":
        c.execute("SELECT name FROM items WHERE id = %s", (1,)).fetchall()
        sys.exit(0)
    c.execute("INSERT INTO items VALUES (%s, %s, %s)", (2, "two", "SECRETBIND2"))
    rows = c.execute("SELECT name, secret FROM items WHERE id = %s", (2,)).fetchall()
    assert rows == [("two", "SECRETBIND2")], rows
    try:
        c.execute("INSERT INTO items VALUES (%s, %s, %s)", (1, "dup", "x"))
        sys.exit("no unique violation")
    except psycopg.errors.UniqueViolation:
        pass
    try:
        c.execute("selec 1")
        sys.exit("no syntax error")
    except psycopg.errors.SyntaxError:
        pass
    with c.pipeline():
        for i in (10, 11, 12):
            c.execute("INSERT INTO items VALUES (%s, %s, %s)", (i, "p", "piped"))
print("client done")
EOF
# (statements from a file, not argv: a target's command line is recorded
# as it is; "\;" makes psql send the two statements as one query)
cat >"$T/psql.sql" <<'EOF'
CREATE TABLE items (id int PRIMARY KEY, name text, secret text);
INSERT INTO items VALUES (1, 'one', 'SECRETLIT1');
ALTER USER app PASSWORD 'SECRETPW3';
SELECT id, name FROM items WHERE id = 1;
SELECT count(*) FROM items \; SELECT 2;
EOF
cat >"$T/driver.sh" <<EOF
#!/bin/sh
# psql over the UNIX socket: simple queries, one connection
psql -X -q -h "$SOCK" -p $port -U app -d appdb -v ON_ERROR_STOP=1 -f "$T/psql.sql" >/dev/null || exit 1
APP_PW=SECRETPW3 "$BEYLA_VENV/bin/python" "$T/client.py" $port disable
EOF
chmod 755 "$T/driver.sh"

q() { sqlite3 -batch -noheader "$DB" "$1" 2>&1; }
# attr SPAN_ALIAS KEY: the attribute's value of span s (for a subquery)
attr() { echo "(SELECT value FROM span_attributes a WHERE a.span_id = $1.span_id AND a.key = '$2')"; }

# the same twelve calls, kind = client or server
call_checks() {
	local ph=$1 kind=$2
	check_num "$ph: 12 complete $kind spans (5 psql, 7 psycopg)" \
		"$(q "SELECT count(*) FROM spans WHERE kind = '$kind' AND incomplete = 0")" -eq 12
	check_num "$ph: no incomplete $kind span" "$(q "SELECT count(*) FROM spans WHERE kind = '$kind' AND incomplete = 1")" -eq 0
	check "$ph: $kind spans by name: each call once" eval '[ "$(q "SELECT name || '"'='"' || count(*) FROM spans
		WHERE kind = '"'$kind'"' GROUP BY name ORDER BY name" | tr "\n" " ")" = "ALTER appdb=1 BATCH SELECT appdb=1 CREATE items=1 INSERT items=6 SELEC appdb=1 SELECT items=2 " ]'
	check_num "$ph: every $kind span says db.system.name=postgresql and db.namespace=appdb" \
		"$(q "SELECT count(*) FROM spans s WHERE kind = '$kind' AND $(attr s db.system.name) = 'postgresql'
			AND $(attr s db.namespace) = 'appdb'")" -eq 12
	check_num "$ph: the secret literal's INSERT, its text sanitised" \
		"$(q "SELECT count(*) FROM spans s WHERE kind = '$kind' AND $(attr s db.query.text) =
			'INSERT INTO items VALUES (?, ?, ?);' AND $(attr s db.operation.name) = 'INSERT'
			AND $(attr s db.collection.name) = 'items'")" -eq 1
	check_num "$ph: psycopg's INSERTs carry their placeholders (2 alone, 1 failed, 3 pipelined)" \
		"$(q "SELECT count(*) FROM spans s WHERE kind = '$kind' AND $(attr s db.query.text) =
			'INSERT INTO items VALUES (\$1, \$2, \$3)'")" -eq 5
	check_num "$ph: the unique violation: status error, db.response.status_code and error.type 23505" \
		"$(q "SELECT count(*) FROM spans s WHERE kind = '$kind' AND status = 'error' AND
			$(attr s db.response.status_code) = '23505' AND $(attr s error.type) = '23505' AND name = 'INSERT items'")" -eq 1
	check_num "$ph: the syntax error: 42601" \
		"$(q "SELECT count(*) FROM spans s WHERE kind = '$kind' AND status = 'error' AND
			$(attr s error.type) = '42601' AND $(attr s db.query.text) = 'selec ?'")" -eq 1
	check_num "$ph: only those two are errors" "$(q "SELECT count(*) FROM spans WHERE kind = '$kind' AND status = 'error'")" -eq 2
	check_num "$ph: the two-statement query: db.operation.batch.size 2, operation BATCH SELECT" \
		"$(q "SELECT count(*) FROM spans s WHERE kind = '$kind' AND $(attr s db.operation.batch.size) = '2'
			AND $(attr s db.operation.name) = 'BATCH SELECT'
			AND $(attr s db.query.text) = 'SELECT count(*) FROM items ; SELECT ?;'")" -eq 1
	check "$ph: rows returned: psql's SELECT 1, the batch 2 (a row per statement), psycopg's 1" eval \
		'[ "$(q "SELECT group_concat($(attr s db.response.returned_rows), '"' '"') FROM (SELECT * FROM spans
			WHERE kind = '"'$kind'"' AND (name = '"'SELECT items'"' OR name LIKE '"'BATCH SELECT%'"') ORDER BY start_ns) s")" = "1 2 1" ]' 
	check_num "$ph: the three pipelined INSERTs: three spans on one connection, overlapping" \
		"$(q "SELECT count(*) FROM spans a JOIN spans b ON a.conn_id = b.conn_id AND a.span_id < b.span_id
			WHERE a.kind = '$kind' AND b.kind = '$kind' AND a.name = 'INSERT items' AND b.name = 'INSERT items'
			AND a.end_ns > b.start_ns AND a.status = 'ok' AND b.status = 'ok'")" -ge 3
	check_num "$ph: psql's five calls over the UNIX socket say network.transport=unix" \
		"$(q "SELECT count(*) FROM spans s JOIN connections c USING (conn_id) WHERE s.kind = '$kind' AND
			c.family = 'unix' AND $(attr s network.transport) = 'unix'")" -eq 5
	check_num "$ph: the database connections are postgresql (one UNIX, one TCP)" \
		"$(q "SELECT count(DISTINCT c.conn_id) FROM connections c JOIN spans s USING (conn_id) WHERE s.kind = '$kind'
			AND c.protocol = 'postgresql'")" -eq 2
}

# no secret in the capture nor in the analyzed database
secret_checks() {
	local ph=$1 cap=$2
	check_num "$ph: no secret in the capture (literal, bound value, password, rows)" \
		"$(zstdcat "$cap" | grep -a -c -E 'SECRETLIT1|SECRETBIND2|SECRETPW3')" -eq 0
	check_num "$ph: nor in the database" "$(sqlite3 "$DB" .dump | grep -c -E 'SECRET')" -eq 0
}

# ---- A: the clients recorded ---------------------------------------------------
DB=$T/clients.db
if record_start "$T/clients.bz.zst" -q -- "$T/driver.sh"; then
	record_wait 40
	check_num "A: beyla record -- driver.sh exits 0" "${REC_RC:-none}" -eq 0
	check_grep "A: the psycopg client ran to its end" "client done" "$REC_LOG.out"
	"$BEYLA" analyze -q -o "$DB" "$T/clients.bz.zst" >"$T/clients.analyze.log" 2>&1
	check_num "A: beyla analyze exits 0" $? -eq 0
	call_checks A client
	secret_checks A "$T/clients.bz.zst"
	check_num "A: no server span" "$(q "SELECT count(*) FROM spans WHERE kind = 'server'")" -eq 0
else
	_not_ok "A: beyla record -- driver.sh starts" "$(tail -n 5 "$REC_LOG" 2>/dev/null)"
fi

# ---- B: the server and the clients recorded -------------------------------------
DB=$T/both.db
psql -q -h "$SOCK" -p "$port" -U postgres -d appdb -c "DROP TABLE items" -c "ALTER USER app PASSWORD 'initial-pw'" \
	>>"$T/setup.log" 2>&1
check_num "B: the table dropped for a second run" $? -eq 0
if record_start "$T/both.bz.zst" -q -p "$PM" -- "$T/driver.sh"; then
	record_wait 40
	check_num "B: beyla record -p postmaster -- driver.sh exits 0" "${REC_RC:-none}" -eq 0
	"$BEYLA" analyze -q -o "$DB" "$T/both.bz.zst" >"$T/both.analyze.log" 2>&1
	check_num "B: beyla analyze exits 0" $? -eq 0
	call_checks B client
	call_checks B server
	secret_checks B "$T/both.bz.zst"
	check_num "B: server spans are postgres backends' (children of the postmaster)" \
		"$(q "SELECT count(*) FROM spans s JOIN processes p USING (pid) WHERE s.kind = 'server' AND
			(p.ppid = $PM OR p.forked_from = $PM)")" -eq 12
	check_num "B: every server span is the child of the client span of the same call" \
		"$(q "SELECT count(*) FROM spans s JOIN spans c ON c.span_id = s.parent_id WHERE s.kind = 'server'
			AND c.kind = 'client' AND c.name = s.name AND c.trace_id = s.trace_id
			AND $(attr c db.query.text) = $(attr s db.query.text)")" -eq 12
	check_num "B: queue + processing = duration for every server span" \
		"$(q "SELECT count(*) FROM spans WHERE kind = 'server' AND (queue_ns IS NULL OR processing_ns IS NULL
			OR queue_ns < 0 OR processing_ns < 0 OR queue_ns + processing_ns + coalesce(tx_queue_ns, 0) <> duration_ns)")" -eq 0
	# (to 50 us after the client span's end: the server's write can return
	# after the client's read of its bytes did, which land in the peer's
	# queue inside the write)
	check_num "B: each server span lies within its client span" \
		"$(q "SELECT count(*) FROM spans s JOIN spans c ON c.span_id = s.parent_id WHERE s.kind = 'server'
			AND (s.start_ns < c.start_ns - 1000000 OR s.end_ns > c.end_ns + 50000)")" -eq 0
	# the postmaster accepts and forks, then closes its copy: the backend's
	# reads stay on the accepted connection (not a second, preexisting one)
	check_num "B: the server's UNIX connections are the accepted ones: none seen again as preexisting" \
		"$(q "SELECT count(*) FROM connections c JOIN processes p USING (pid) WHERE c.family = 'unix' AND
			c.role = 'preexisting' AND (p.pid = $PM OR p.ppid = $PM OR p.forked_from = $PM)")" -eq 0
	# (its accept-queue start is unknown: psql connected before the
	# postmaster's first accept() in the recording named its listener)
	check_num "B: ... and it carries psql's 5 calls" \
		"$(q "SELECT sum(requests) FROM connections WHERE family = 'unix' AND role = 'accepted'")" -eq 5
else
	_not_ok "B: beyla record -p postmaster starts" "$(tail -n 5 "$REC_LOG" 2>/dev/null)"
fi

# ---- C: TLS (sslmode=require) ---------------------------------------------------
DB=$T/tls.db
export APP_PW=SECRETPW3 # (in the environment, not in a recorded command line)
if record_start "$T/tls.bz.zst" -q -- "$BEYLA_VENV/bin/python" "$T/client.py" "$port" require; then
	record_wait 30
	check_num "C: psycopg with sslmode=require, recorded, exits 0" "${REC_RC:-none}" -eq 0
	"$BEYLA" analyze -q -o "$DB" "$T/tls.bz.zst" >"$T/tls.analyze.log" 2>&1
	check_num "C: beyla analyze exits 0" $? -eq 0
	tls_proto=$(q "SELECT protocol FROM connections WHERE remote_port = $port")
	tls_plain=$(q "SELECT value FROM parse_stats WHERE name = 'tls_conns_plaintext'")
	log "C: the TLS connection's protocol: $tls_proto (plaintext recorded for $tls_plain); spans: $(q "SELECT group_concat(name) FROM spans")"
	# psycopg's own libssl is probed: the plaintext is there and parses as
	# PostgreSQL from its StartupMessage; without it the row would say tls
	check "C: the connection is TLS: its plaintext recorded and parsed as PostgreSQL, or counted opaque" \
		eval '{ [ "$tls_proto" = postgresql ] && [ "$tls_plain" = 1 ]; } || [ "$tls_proto" = tls ]'
	check_num "C: the one call, from the plaintext, with its attributes" \
		"$(q "SELECT count(*) FROM spans s WHERE kind = 'client' AND name = 'SELECT items' AND status = 'ok'
			AND $(attr s db.namespace) = 'appdb' AND $(attr s db.response.returned_rows) = '1'")" -eq "$([ "$tls_proto" = tls ] && echo 0 || echo 1)"
	check_num "C: no other span (nothing read from the ciphertext)" "$(q "SELECT count(*) FROM spans WHERE name <> 'SELECT items'")" -eq 0
	check_num "C: the capture holds no password" "$(zstdcat "$T/tls.bz.zst" | grep -a -c SECRETPW3)" -eq 0
else
	_not_ok "C: beyla record -- psycopg (TLS) starts" "$(tail -n 5 "$REC_LOG" 2>/dev/null)"
fi

# ---- D: TLS without its plaintext (--no-openssl) -----------------------------------
DB=$T/opaque.db
if record_start "$T/opaque.bz.zst" -q --no-openssl -- "$BEYLA_VENV/bin/python" "$T/client.py" "$port" require; then
	record_wait 30
	check_num "D: psycopg (sslmode=require) recorded with --no-openssl exits 0" "${REC_RC:-none}" -eq 0
	"$BEYLA" analyze -q -o "$DB" "$T/opaque.bz.zst" >"$T/opaque.analyze.log" 2>&1
	check_num "D: beyla analyze exits 0" $? -eq 0
	# SSLRequest, 'S', then ciphertext: taken for TLS at its first record
	check "D: the connection's protocol is tls" eval '[ "$(q "SELECT protocol FROM connections WHERE remote_port = $port")" = tls ]'
	check_num "D: counted as a TLS connection without plaintext" \
		"$(q "SELECT value FROM parse_stats WHERE name = 'tls_conns_opaque'")" -eq 1
	check_num "D: no span, no byte skipped (nothing taken for PostgreSQL in the ciphertext)" \
		"$(q "SELECT (SELECT count(*) FROM spans) + (SELECT coalesce(sum(skipped_bytes), 0) FROM connections)")" -eq 0
else
	_not_ok "D: beyla record --no-openssl starts" "$(tail -n 5 "$REC_LOG" 2>/dev/null)"
fi

stop_bg "$PGRUN"
finish
