#!/usr/bin/env bash
# record_unix.sh - HTTP over UNIX stream sockets (issue 18): gunicorn + Flask
# on two UNIX sockets (a sync worker pool and a gthread worker), called
#   A. directly with `curl --unix-socket`, recorded with --unix PATH only
#      (the servers that accept and every client that connects are adopted);
#   B. through nginx (proxy_pass http://unix:PATH:), nginx and both
#      gunicorns recorded by pid.
# Asserted with SQL on the analyzed database: every request once on each
# side, the backend's server span the child of the caller's client span
# (paired by the two socket inodes) and, through nginx, all three spans in
# one trace; queue + processing tile every server span; the connections
# carry their path, both inodes and the peer's pid; spans say
# network.transport=unix and server.address=the path.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

require_recording_env
need nginx curl sqlite3 ss
[ -x "$BEYLA_VENV/bin/python" ] || bail "gunicorn venv at $BEYLA_VENV" "run scripts/setup.sh"

SERVERS=$E2E_ROOT/tests/servers
N=${UNIX_REQUESTS:-20}
d=$T/srv
mkdir -p "$d"
SYNC=$d/sync.sock
GTHR=$d/gthread.sock

# wait_sock PATH MASTER WORKERS: the socket exists and MASTER has WORKERS children.
wait_sock() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ -S "$1" ] && [ "$(pgrep -P "$2" | wc -l)" -ge "$3" ] && return 0
		sleep 0.05
	done
	return 1
}

start_bg gsync "$BEYLA_VENV/bin/python" -m gunicorn -w 2 -k sync -b "unix:$SYNC" --chdir "$SERVERS" flask_app:app
GSYNC=$BG_PID
start_bg gthread "$BEYLA_VENV/bin/python" -m gunicorn -w 1 -k gthread --threads 4 -b "unix:$GTHR" \
	--chdir "$SERVERS" flask_app:app
GTHREAD=$BG_PID
check "gunicorn sync (2 workers) listens on $SYNC" wait_sock "$SYNC" "$GSYNC" 2
check "gunicorn gthread (1 worker) listens on $GTHR" wait_sock "$GTHR" "$GTHREAD" 1

q() { sqlite3 -batch -noheader "$DB" "$1" 2>&1; }

# the checks every analyzed capture gets; $1 names the phase
common_checks() {
	local ph=$1
	check_num "$ph: no drops (capture.drops + user_drops + drops lost/missed)" \
		"$(q "SELECT coalesce(drops, 0) + coalesce(user_drops, 0) + (SELECT coalesce(sum(lost + missed), 0)
			FROM drops WHERE probe <> 'unix_nonstream') FROM capture")" -eq 0
	check_num "$ph: queue + processing = duration for every server span" \
		"$(q "SELECT count(*) FROM spans WHERE kind = 'server' AND
			(queue_ns IS NULL OR processing_ns IS NULL OR queue_ns < 0 OR processing_ns < 0 OR
			 queue_ns + processing_ns + coalesce(tx_queue_ns, 0) <> duration_ns OR accept_queue_ns + recv_queue_ns > queue_ns)")" -eq 0
	check_num "$ph: every UNIX connection has its path and its own inode" \
		"$(q "SELECT count(*) FROM connections WHERE family = 'unix' AND
			(unix_path NOT IN ('$SYNC', '$GTHR') OR local_inode IS NULL OR local_port IS NOT NULL)")" -eq 0
	check_num "$ph: every accepted UNIX connection knows its peer's inode and pid" \
		"$(q "SELECT count(*) FROM connections WHERE family = 'unix' AND role = 'accepted' AND
			(peer_inode IS NULL OR peer_pid IS NULL)")" -eq 0
	check_num "$ph: an accepted connection's peer pid is the process of the client end" \
		"$(q "SELECT count(*) FROM connections s JOIN connections c ON c.local_inode = s.peer_inode
			WHERE s.family = 'unix' AND s.role = 'accepted' AND c.family = 'unix' AND s.peer_pid <> c.pid")" -eq 0
	check_num "$ph: UNIX spans say network.transport=unix" \
		"$(q "SELECT count(*) FROM spans s JOIN connections c USING (conn_id) WHERE c.family = 'unix' AND
			s.kind <> 'internal' AND NOT EXISTS (SELECT 1 FROM span_attributes a WHERE a.span_id = s.span_id
				AND a.key = 'network.transport' AND a.value = 'unix')")" -eq 0
	check_num "$ph: UNIX spans' server.address is the socket path" \
		"$(q "SELECT count(*) FROM spans s JOIN connections c USING (conn_id) WHERE c.family = 'unix' AND
			s.kind <> 'internal' AND s.server_address IS NOT c.unix_path")" -eq 0
}

# backend_checks PHASE PATH MASTER: gunicorn MASTER's requests on PATH.
backend_checks() {
	local ph=$1 path=$2 master=$3 want
	want=$(for ((i = 1; i <= N; i++)); do echo "GET /users/$i"; done | sort)
	check "$ph: $path: each request once as a complete server span of a worker of $master" eval \
		'[ "$(q "SELECT http_method || '"' '"' || url_path FROM spans s JOIN connections c USING (conn_id)
			WHERE s.kind = '"'server'"' AND s.incomplete = 0 AND s.url_path LIKE '"'/users/%'"' AND c.unix_path = '"'$path'"' AND s.pid IN
			(SELECT pid FROM processes WHERE ppid = $master OR forked_from = $master) ORDER BY 1" | sort)" = "$want" ]'
	check_num "$ph: $path: every server span is the child of the client span on the other end" \
		"$(q "SELECT count(*) FROM spans s JOIN connections c USING (conn_id) WHERE s.kind = 'server' AND
			c.unix_path = '$path' AND NOT EXISTS (SELECT 1 FROM spans p JOIN connections pc USING (conn_id)
				WHERE p.span_id = s.parent_id AND p.kind = 'client' AND p.trace_id = s.trace_id AND
				pc.local_inode = c.peer_inode AND p.url_path = s.url_path)")" -eq 0
}

# ---- A: curl --unix-socket, selected by --unix ----------------------------------
DB=$T/direct.db
if record_start "$T/direct.bz.zst" -q --unix "$SYNC" --unix "$GTHR"; then
	ok=0
	for ((i = 1; i <= N; i++)); do
		curl -sf --unix-socket "$SYNC" "http://localhost/users/$i" >/dev/null && ok=$((ok + 1))
		curl -sf --unix-socket "$GTHR" "http://localhost/users/$i" >/dev/null && ok=$((ok + 1))
	done
	check_num "A: curl --unix-socket: all $((2 * N)) requests answered" "$ok" -eq $((2 * N))
	curl -sf --unix-socket "$SYNC" -H "Authorization: Bearer unix-s3cr3t-token" "http://localhost/ok" >/dev/null
	check_num "A: a request with an Authorization header answered" $? -eq 0
	sleep 0.3
	record_stop INT
	check_num "A: beyla record --unix exits 0" "${REC_RC:-none}" -eq 0
	"$BEYLA" analyze -q -o "$DB" "$T/direct.bz.zst" >"$T/direct.analyze.log" 2>&1
	check_num "A: beyla analyze exits 0" $? -eq 0
	"$BEYLA" info "$T/direct.bz.zst" >"$T/direct.info" 2>&1
	check_grep "A: beyla info lists the sync socket's connections: $((N + 1)) accepted, $((N + 1)) connected" \
		"^ +$((N + 1)) +$((N + 1)) +0  $SYNC\$" "$T/direct.info"
	check_grep "A: beyla info lists the gthread socket's" "^ +$N +$N +0  $GTHR\$" "$T/direct.info"
	check_num "A: the curl processes were adopted as clients ($((2 * N + 1)) connected UNIX connections)" \
		"$(q "SELECT count(*) FROM connections c JOIN processes p USING (pid) WHERE c.family = 'unix' AND
			c.role = 'connected' AND p.comm = 'curl'")" -eq $((2 * N + 1))
	check_num "A: every curl request once as a client span" \
		"$(q "SELECT count(*) FROM spans WHERE kind = 'client' AND incomplete = 0 AND server_address IN ('$SYNC', '$GTHR')")" \
		-eq $((2 * N + 1))
	"$BEYLA" info --dump "$T/direct.bz.zst" >"$T/direct.dump" 2>&1
	check_num "A: redaction: the Authorization request is in the capture" \
		"$(dump_count "$T/direct.dump" DATA 'payload~^GET /ok HTTP/1.1')" -eq 2
	check_no_grep "A: redaction: its token is not" "unix-s3cr3t-token" "$T/direct.dump"
	common_checks A
	backend_checks A "$SYNC" "$GSYNC"
	backend_checks A "$GTHR" "$GTHREAD"
	check_num "A: no process other than curl and the gunicorn workers was adopted" \
		"$(q "SELECT count(*) FROM processes WHERE comm <> 'curl' AND ppid NOT IN ($GSYNC, $GTHREAD)")" -eq 0
	check_num "A: the Authorization request once on each side" \
		"$(q "SELECT count(*) FROM spans WHERE url_path = '/ok' AND kind IN ('server', 'client')")" -eq 2
else
	_not_ok "A: beyla record --unix starts" "$(tail -n 5 "$REC_LOG" 2>/dev/null)"
fi

# ---- C: HTTP/2 (h2c, prior knowledge) on a UNIX socket: Node's server ----------
H2=$d/h2.sock
start_bg h2 node "$SERVERS/h2_server.js" "$H2"
H2PID=$BG_PID
check "node h2_server.js listens on $H2" wait_sock "$H2" "$H2PID" 0
DB=$T/h2.db
if record_start "$T/h2.bz.zst" -q --unix "$H2"; then
	ok=0
	for ((i = 1; i <= 10; i++)); do
		curl -sf --http2-prior-knowledge --unix-socket "$H2" "http://localhost/users/$i" >/dev/null && ok=$((ok + 1))
	done
	check_num "C: curl --http2-prior-knowledge --unix-socket: 10 requests answered" "$ok" -eq 10
	sleep 0.3
	record_stop INT
	check_num "C: beyla record exits 0" "${REC_RC:-none}" -eq 0
	"$BEYLA" analyze -q -o "$DB" "$T/h2.bz.zst" >"$T/h2.analyze.log" 2>&1
	check_num "C: beyla analyze exits 0" $? -eq 0
	check_num "C: 10 complete HTTP/2 server spans of node" \
		"$(q "SELECT count(*) FROM spans WHERE kind = 'server' AND incomplete = 0 AND protocol_version = '2'
			AND pid = $H2PID AND server_address = '$H2'")" -eq 10
	check_num "C: each the child of curl's HTTP/2 client span on the other end" \
		"$(q "SELECT count(*) FROM spans s JOIN spans c ON c.span_id = s.parent_id WHERE s.kind = 'server' AND
			c.kind = 'client' AND c.protocol_version = '2' AND c.url_path = s.url_path AND c.trace_id = s.trace_id")" -eq 10
	check_num "C: the connections' protocol is HTTP/2" \
		"$(q "SELECT count(*) FROM connections WHERE family = 'unix' AND protocol = 'http/2'")" -eq 20
else
	_not_ok "C: beyla record --unix (h2c) starts" "$(tail -n 5 "$REC_LOG" 2>/dev/null)"
fi
stop_bg "$H2PID"

# ---- D: datagram and seqpacket sockets counted, a stream socketpair recorded ---
DB=$T/pairs.db
if record_start "$T/pairs.bz.zst" -q -- "$PYTHON" "$SERVERS/unix_pairs.py"; then
	record_wait 30
	check_num "D: beyla record -- python3 unix_pairs.py exits 0" "${REC_RC:-none}" -eq 0
	"$BEYLA" info "$T/pairs.bz.zst" >"$T/pairs.info" 2>&1
	check_grep "D: 20 datagram and seqpacket reads/writes counted as unix_nonstream, none recorded" \
		"^ +unix_nonstream +0 +0 +20\$" "$T/pairs.info"
	check_grep "D: beyla info shows the socketpairs as unbound" "^ +0 +0 +4  \(unbound: socketpair\)\$" "$T/pairs.info"
	"$BEYLA" analyze -q -o "$DB" "$T/pairs.bz.zst" >"$T/pairs.analyze.log" 2>&1
	check_num "D: beyla analyze exits 0" $? -eq 0
	check_num "D: the stream socketpairs are four closed UNIX connections (by close(), by the exit), no path, paired" \
		"$(q "SELECT count(*) FROM connections a JOIN connections b ON a.peer_inode = b.local_inode AND
			b.peer_inode = a.local_inode WHERE a.family = 'unix' AND a.unix_path IS NULL AND a.closed_ns IS NOT NULL")" -eq 4
	check_num "D: the pair left open closed at the process's exit, not before its last read" \
		"$(q "SELECT count(*) FROM connections c JOIN processes p USING (pid) WHERE c.conn_id IN (3, 4)
			AND c.closed_ns >= (SELECT max(start_ns) FROM spans) AND c.closed_ns <= p.exit_ns")" -eq 2
	check_num "D: and their requests are parsed on both ends" \
		"$(q "SELECT count(*) FROM connections WHERE family = 'unix' AND protocol = 'http/1' AND requests = 1")" -eq 4
else
	_not_ok "D: beyla record -- python3 unix_pairs.py starts" "$(tail -n 5 "$REC_LOG" 2>/dev/null)"
fi

# ---- E: a server started while recording: its listen() makes every queue time known ---
ES=$d/started.sock
DB=$T/started.db
if record_start "$T/started.bz.zst" -q -d 6s -- "$BEYLA_VENV/bin/python" -m gunicorn -w 1 -k gthread --threads 2 \
	-b "unix:$ES" --chdir "$SERVERS" flask_app:app; then
	for ((i = 0; i < 200; i++)); do [ -S "$ES" ] && break; sleep 0.05; done
	sleep 1 # the worker
	ok=0
	for ((i = 1; i <= 5; i++)); do
		curl -sf --unix-socket "$ES" "http://localhost/users/$i" >/dev/null && ok=$((ok + 1))
	done
	check_num "E: gunicorn launched by beyla record -- answered 5 requests" "$ok" -eq 5
	record_wait 20
	"$BEYLA" analyze -q -o "$DB" "$T/started.bz.zst" >"$T/started.analyze.log" 2>&1
	check_num "E: beyla analyze exits 0" $? -eq 0
	check_num "E: 5 server spans" "$(q "SELECT count(*) FROM spans WHERE kind = 'server' AND incomplete = 0")" -eq 5
	check_num "E: every accepted connection has its accept-queue start (the listener seen at listen())" \
		"$(q "SELECT count(*) FROM connections WHERE family = 'unix' AND role = 'accepted' AND established_ns IS NOT NULL
			AND established_ns <= opened_ns")" -eq 5
else
	_not_ok "E: beyla record -- gunicorn starts" "$(tail -n 5 "$REC_LOG" 2>/dev/null)"
fi

# ---- B: nginx in front, everything recorded by pid -----------------------------
port=$(free_port)
cat >"$d/nginx.conf" <<EOF
user root;
worker_processes 1;
daemon off;
master_process on;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $d/client_body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    server {
        listen 127.0.0.1:$port;
        location /sync/ { proxy_pass http://unix:$SYNC:/; }
        location /gthread/ { proxy_pass http://unix:$GTHR:/; proxy_http_version 1.1;
                             proxy_set_header Connection ""; }
    }
    upstream unused { server unix:$GTHR; }
}
EOF
start_bg nginx nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log"
NGINX=$BG_PID
check "nginx listens on 127.0.0.1:$port" wait_for_port "$port"
DB=$T/proxy.db
if record_start "$T/proxy.bz.zst" -q -p "$NGINX" -p "$GSYNC" -p "$GTHREAD"; then
	ok=0
	for ((i = 1; i <= N; i++)); do
		curl -sf "http://127.0.0.1:$port/sync/users/$i" >/dev/null && ok=$((ok + 1))
		curl -sf "http://127.0.0.1:$port/gthread/users/$i" >/dev/null && ok=$((ok + 1))
	done
	check_num "B: through nginx: all $((2 * N)) requests answered" "$ok" -eq $((2 * N))
	sleep 0.3
	record_stop INT
	check_num "B: beyla record exits 0" "${REC_RC:-none}" -eq 0
	"$BEYLA" analyze -q -o "$DB" "$T/proxy.bz.zst" >"$T/proxy.analyze.log" 2>&1
	check_num "B: beyla analyze exits 0" $? -eq 0
	common_checks B
	backend_checks B "$SYNC" "$GSYNC"
	backend_checks B "$GTHR" "$GTHREAD"
	check_num "B: nginx made each upstream call once (client spans on the sockets)" \
		"$(q "SELECT count(*) FROM spans s JOIN connections c USING (conn_id) WHERE s.kind = 'client' AND
			s.incomplete = 0 AND c.family = 'unix' AND s.pid IN (SELECT pid FROM processes WHERE ppid = $NGINX)")" \
		-eq $((2 * N))
	check_num "B: every nginx server span has one upstream child, and it has the backend's span: one trace" \
		"$(q "SELECT count(*) FROM spans n WHERE n.kind = 'server' AND n.pid IN
			(SELECT pid FROM processes WHERE ppid = $NGINX) AND NOT EXISTS (
			SELECT 1 FROM spans u JOIN spans b ON b.parent_id = u.span_id AND b.kind = 'server'
			WHERE u.parent_id = n.span_id AND u.kind = 'client' AND u.trace_id = n.trace_id AND
				b.trace_id = n.trace_id AND b.pid NOT IN (SELECT pid FROM processes WHERE ppid = $NGINX))")" -eq 0
	check_num "B: $((2 * N)) nginx server spans" \
		"$(q "SELECT count(*) FROM spans WHERE kind = 'server' AND pid IN (SELECT pid FROM processes WHERE ppid = $NGINX)")" \
		-eq $((2 * N))
	# (a backend span may begin before its client span: it starts in the
	# accept queue, during nginx's connect(), and a client span at its
	# first write; connect() is the client's connect_ns, outside its span)
	# (to 50 us after the client span's end: the server's write can return
	# after the client's read of its bytes did, which land in the peer's
	# queue inside the write)
	check_num "B: each backend span lies within nginx's upstream call, from its connect() to the client span's end" \
		"$(q "SELECT count(*) FROM spans b JOIN spans u ON u.span_id = b.parent_id JOIN connections uc
			ON uc.conn_id = u.conn_id WHERE b.kind = 'server' AND u.kind = 'client' AND
			(b.start_ns < coalesce(uc.syscall_start_ns, u.start_ns) OR b.end_ns > u.end_ns + 50000)")" -eq 0
	check_num "B: the accept-queue time of a UNIX connection is known (the listener's data_ready) for most" \
		"$(q "SELECT count(*) FROM connections WHERE family = 'unix' AND role = 'accepted' AND established_ns IS NOT NULL")" \
		-ge $((2 * N - 4))
else
	_not_ok "B: beyla record -p nginx -p gunicorn starts" "$(tail -n 5 "$REC_LOG" 2>/dev/null)"
fi

finish
