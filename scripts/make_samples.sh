#!/usr/bin/env bash
# make_samples.sh - (re)record the small real captures in samples/ and rewrite
# their golden outputs (tests/golden.sh --update).  Needs root, like any
# recording, and the test servers of scripts/setup.sh.  samples/SAMPLES says
# how each capture is made; keep it in step with this file.
#
#   sudo bash scripts/make_samples.sh            every sample
#   sudo bash scripts/make_samples.sh NAME...    only these (e.g. python-http-mix)
#
# Recording is live, so a new capture differs from the old one (times, pids,
# ports): review the golden diffs before committing them.
# shellcheck disable=SC2317 # the sample_* functions are called by name
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../tests/lib.sh"
require_recording_env
need nginx node curl ss openssl h2load psql mariadb redis-server

SAMPLES=$E2E_ROOT/samples
SERVERS=$E2E_ROOT/tests/servers
cd "$SAMPLES" || exit 1

# rec NAME ARGS...: starts `beyla record -q -o NAME.bz.zst ARGS...` in samples/.
rec() {
	local name=$1
	shift
	rm -f "$name.bz.zst"
	record_start "$name.bz.zst" -q "$@" || bail "$name: beyla record $* starts" "$(tail -n 3 "$REC_LOG")"
}
# stop NAME: SIGINT to the recorder, then the capture must be complete.
stop() {
	sleep 0.3 # the servers' closes
	record_stop INT
	check_num "$1: beyla record exits 0" "${REC_RC:-none}" -eq 0
}
# mix PORT ARGS...: tests/servers/mix_client.py, its JSON kept in $T.
mix() {
	"$PYTHON" "$SERVERS/mix_client.py" "$@" >"$T/mix.$1.json" || bail "mix_client.py $* runs"
}
py_server() { # py_server PORT [--upstream PORT]: BG_PID
	start_bg "py.$1" "$PYTHON" "$SERVERS/http_server.py" "$@"
	wait_for_port "$1" || bail "http_server.py listens on $1"
}

sample_python_http_mix() {
	local port; port=$(free_port)
	py_server "$port"; local srv=$BG_PID
	rec python-http-mix -p "$srv"
	mix "$port"
	stop python-http-mix
	stop_bg "$srv"
}

sample_nginx_mix() {
	local port d=$T/nginx; port=$(free_port)
	mkdir -p "$d"
	sed -e "s|@DIR@|$d|g" -e "s|@PORT@|$port|g" "$SERVERS/nginx.conf.in" >"$d/nginx.conf"
	head -c 200000 /dev/zero | tr '\0' L >"$d/large.bin"
	start_bg nginx nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log"
	local srv=$BG_PID
	wait_for_port "$port" || bail "nginx listens on $port"
	sleep 0.3 # the worker
	rec nginx-mix -p "$srv"
	mix "$port" --skip chunked
	stop nginx-mix
	stop_bg "$srv"
}

sample_gunicorn_flask_mix() {
	local port; port=$(free_port)
	start_bg gunicorn "$BEYLA_VENV/bin/python" -m gunicorn -w 2 -k sync -b "127.0.0.1:$port" \
		--chdir "$SERVERS" flask_app:app
	local srv=$BG_PID
	wait_for_port "$port" || bail "gunicorn listens on $port"
	sleep 1 # both workers
	rec gunicorn-flask-mix -p "$srv"
	mix "$port"
	stop gunicorn-flask-mix
	stop_bg "$srv"
}

sample_express_mix() {
	local port; port=$(free_port)
	NODE_PATH=$BEYLA_NODE_MODULES start_bg express node "$SERVERS/express_app.js" "$port"
	local srv=$BG_PID
	wait_for_port "$port" || bail "express listens on $port"
	rec express-mix -p "$srv"
	mix "$port"
	stop express-mix
	stop_bg "$srv"
}

sample_pipelined_split() {
	local port; port=$(free_port)
	py_server "$port"; local srv=$BG_PID
	rec pipelined-split -p "$srv"
	mix "$port" --only pipelined,split
	stop pipelined-split
	stop_bg "$srv"
}

sample_client_span() {
	local up front; up=$(free_port); front=$(free_port)
	py_server "$up"; local upsrv=$BG_PID
	py_server "$front" --upstream "$up"; local srv=$BG_PID
	rec client-span -p "$srv"
	curl -s -o /dev/null -o /dev/null "http://127.0.0.1:$front/call" "http://127.0.0.1:$front/call" || bail "curl /call"
	curl -s -o /dev/null "http://127.0.0.1:$front/call" || bail "curl /call"
	stop client-span
	stop_bg "$srv"
	stop_bg "$upsrv"
}

sample_go_https_call() {
	local bin=$E2E_ROOT/build/go
	bash "$E2E_ROOT/scripts/build_go_servers.sh" "$bin" >/dev/null || bail "build_go_servers.sh"
	start_goserver go-down "$bin/goserver-go1.26" || bail "the downstream goserver starts"
	local down=$GS_PID down_https=$GS_HTTPS
	start_goserver go-front "$bin/goserver-go1.19" -downstream "https://$down_https" || bail "goserver starts"
	local srv=$GS_PID
	rec go-https-call -p "$srv" -p "$down"
	curl -s -o /dev/null "http://$GS_HTTP/hello" || bail "curl /hello"
	curl -sk -o /dev/null -o /dev/null "https://$GS_HTTPS/items/7" "https://$GS_HTTPS/call" || bail "curl https"
	curl -s -o /dev/null "http://$GS_HTTP/call-async" || bail "curl /call-async"
	stop go-https-call
	stop_bg "$srv"
	stop_bg "$down"
}

# nginx over HTTPS (OpenSSL, which beyla does not probe yet) and plain HTTP;
# --port adopts the curl clients of the HTTPS port (two requests each, 1/3 s
# apart, so each lives long enough for the recorder to read its maps).
sample_nginx_https() {
	local tls http d=$T/nginx-https; tls=$(free_port); http=$(free_port)
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -keyout "$d/key.pem" \
		-out "$d/cert.pem" >/dev/null 2>&1 || bail "nginx-https: openssl makes a certificate"
	sed -e "s|@DIR@|$d|g" -e "s|@TLS_PORT@|$tls|g" -e "s|@HTTP_PORT@|$http|g" "$SERVERS/nginx_tls.conf.in" >"$d/nginx.conf"
	start_bg nginx-https nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log"
	local srv=$BG_PID
	wait_for_port "$tls" && wait_for_port "$http" || bail "nginx listens on $tls and $http"
	sleep 0.3 # the worker
	rec nginx-https -p "$srv" --port "$tls"
	for i in 1 2; do
		curl -sk --rate 3/s -o /dev/null -o /dev/null "https://127.0.0.1:$tls/ok" "https://127.0.0.1:$tls/ok" ||
			bail "curl https"
	done
	curl -s -o /dev/null "http://127.0.0.1:$http/ok" || bail "curl http"
	stop nginx-https
	stop_bg "$srv"
}

# Node's own HTTP/2 server (h2c); --port adopts its curl and h2load clients
# (client spans).  One curl per request: curl 7.88 does not reuse a
# prior-knowledge connection.
sample_node_h2c() {
	local port; port=$(free_port)
	start_bg node-h2c node "$SERVERS/h2_server.js" "$port"
	local srv=$BG_PID
	wait_for_port "$port" || bail "h2_server.js listens on $port"
	rec node-h2c --port "$port"
	local u
	for u in /ok /users/7 /missing; do
		curl -s --http2-prior-knowledge -o /dev/null "http://127.0.0.1:$port$u" || bail "curl $u"
	done
	head -c 300 /dev/zero | tr '\0' p >"$T/body"
	curl -s --http2-prior-knowledge -o /dev/null --data-binary "@$T/body" "http://127.0.0.1:$port/upload" ||
		bail "curl POST /upload"
	h2load -n 50 -c 1 -m 50 "http://127.0.0.1:$port/ok" >"$T/h2load.txt" || bail "h2load"
	stop node-h2c
	stop_bg "$srv"
}

# A recording that begins mid-connection: tests/servers/h2_client.js keeps
# one session to the Node h2c server, makes 3 requests before the
# recording and 7 after it began (its HPACK tables went by unseen).
sample_h2c_mid_connection() {
	local port i; port=$(free_port)
	start_bg h2c-mid node "$SERVERS/h2_server.js" "$port"
	local srv=$BG_PID
	wait_for_port "$port" || bail "h2_server.js listens on $port"
	rm -f "$T/go"
	start_bg h2c-mid-client node "$SERVERS/h2_client.js" "$port" "$T/go"
	local cli=$BG_PID
	for ((i = 0; i < 200; i++)); do
		grep -q '^before done$' "$T/h2c-mid-client.log" 2>/dev/null && break
		sleep 0.05
	done
	rec h2c-mid-connection --port "$port"
	touch "$T/go"
	for ((i = 0; i < 200; i++)); do
		kill -0 "$cli" 2>/dev/null || break
		sleep 0.05
	done
	stop h2c-mid-connection
	stop_bg "$srv"
}

# gRPC on Python's grpcio (the C core), HTTP/2 in the clear: one client
# connection, adopted by --port, making unary, server-, client- and
# bidirectional-streaming calls, a NOT_FOUND and an INTERNAL.
sample_grpc_python_unary_stream() {
	local port grpc=$BEYLA_CACHE/grpc; port=$(free_port)
	bash "$E2E_ROOT/scripts/build_grpc_servers.sh" "$grpc" >/dev/null || bail "build_grpc_servers.sh"
	start_bg grpc-py env PYTHONPATH="$grpc/py" "$BEYLA_VENV/bin/python" "$SERVERS/grpc/probe_server.py" "$port"
	local srv=$BG_PID
	wait_for_port "$port" || bail "probe_server.py listens on $port"
	rec grpc-python-unary-stream -p "$srv" --port "$port"
	env PYTHONPATH="$grpc/py" "$BEYLA_VENV/bin/python" "$SERVERS/grpc/probe_client.py" "127.0.0.1:$port" \
		--only echo,count,sum,chat,lookup,fail >"$T/grpc-client.out" || bail "probe_client.py"
	stop grpc-python-unary-stream
	stop_bg "$srv"
}

sample_sigkill_truncated() {
	local port; port=$(free_port)
	py_server "$port"; local srv=$BG_PID
	rec sigkill-truncated -p "$srv"
	mix "$port" --only keepalive,new
	sleep 1.5 # frames are closed every second: these requests are on disk
	mix "$port" --only pipelined
	kill -KILL "$REC_PID"
	wait "$REC_PID" 2>/dev/null
	REC_PID=
	check "sigkill-truncated: the capture is not empty" test -s sigkill-truncated.bz.zst
	stop_bg "$srv"
}

# A complete capture whose traffic spans several one-second frames (python
# http.server; the mix's phases 1.2 s apart), copied with 16 bytes inverted in
# the middle of its last zstd frame: the frames before the damage must still
# be analysed.
sample_corrupt_flipped_bytes() {
	local port; port=$(free_port)
	py_server "$port"; local srv=$BG_PID
	rec corrupt-source -p "$srv"
	mix "$port" --only keepalive
	sleep 1.2
	mix "$port" --only new
	sleep 1.2
	mix "$port" --only pipelined,split
	stop corrupt-source
	stop_bg "$srv"
	"$PYTHON" - corrupt-source.bz.zst corrupt-flipped-bytes.bz.zst <<'PY' || bail "corrupt-flipped-bytes: made"
# Invert 16 bytes in the middle of the last zstd frame; the frames before it
# (header, then at least one of events) stay intact.
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
frames, off = [], 0
while off < len(data):
    assert struct.unpack_from("<I", data, off)[0] == 0xFD2FB528, "not a zstd frame at %d" % off
    fhd = data[off + 4]
    single, fcs, did, cksum = (fhd >> 5) & 1, fhd >> 6, fhd & 3, (fhd >> 2) & 1
    pos = off + 5 + (0 if single else 1) + [0, 1, 2, 4][did] + [single, 2, 4, 8][fcs]
    while True:
        bh = data[pos] | data[pos + 1] << 8 | data[pos + 2] << 16
        pos += 3 + (1 if (bh >> 1) & 3 == 1 else bh >> 3)
        if bh & 1:
            break
    pos += 4 * cksum
    frames.append((off, pos))
    off = pos
assert len(frames) >= 3, "want a header frame, event frames and a last frame, got %d frames" % len(frames)
start, end = frames[-1]
mid = (start + end) // 2
for i in range(mid, mid + 16):
    data[i] ^= 0xFF
open(sys.argv[2], "wb").write(bytes(data))
print("# %d frames; bytes %d-%d of the last one (%d-%d) inverted" % (len(frames), mid, mid + 15, start, end))
PY
	rm -f corrupt-source.bz.zst
	check "corrupt-flipped-bytes: written" test -s corrupt-flipped-bytes.bz.zst
}

# tests/servers/db_app.py under gunicorn, its PostgreSQL, MariaDB and Redis
# (throwaway, tests/db_servers.sh) opened by its first request: 3 orders and
# a failing request, each with its database calls as client spans.
sample_db_app_calls() {
	# shellcheck source=tests/db_servers.sh
	. "$E2E_ROOT/tests/db_servers.sh"
	local pg my rd port
	pg=$(free_port) my=$(free_port) rd=$(free_port) port=$(free_port)
	db_start_postgres "$T/pg" "$pg"
	db_start_mariadb "$T/my" "$my"
	db_start_redis "$T/rd" "$rd"
	PGPASSWORD=$DB_PASSWORD psql -h "$PG_SOCKDIR" -p "$pg" -U "$DB_USER" -d "$DB_NAME" -q \
		-c "CREATE TABLE items (id int PRIMARY KEY, name text)" -c "CREATE TABLE audit (who text, token text, note text)" \
		-c "INSERT INTO items VALUES (1, 'one'), (2, 'two')" >/dev/null || bail "db-app-calls: postgres tables"
	mariadb --no-defaults -S "$MY_SOCK" -u "$DB_USER" "-p$DB_PASSWORD" "$DB_NAME" \
		-e "CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items VALUES (1, 'one');" ||
		bail "db-app-calls: mariadb table"
	start_bg db_app env "DB_PG=postgresql://$DB_USER:$DB_PASSWORD@127.0.0.1:$pg/$DB_NAME" DB_MY_PORT="$my" \
		DB_REDIS_PORT="$rd" DB_USER="$DB_USER" DB_PASSWORD="$DB_PASSWORD" DB_NAME="$DB_NAME" \
		"$BEYLA_VENV/bin/python" "$BEYLA_VENV/bin/gunicorn" -k sync -w 1 -b "127.0.0.1:$port" \
		--chdir "$SERVERS" --log-level warning db_app:app
	local app=$BG_PID
	wait_for_port "$port" 30 || bail "db-app-calls: gunicorn listens"
	local pids=() p
	for p in $app $(pgrep -P "$app"); do pids+=(-p "$p"); done
	rec db-app-calls "${pids[@]}"
	for p in 1 2 3; do curl -sf -o /dev/null "http://127.0.0.1:$port/order/$p" || bail "db-app-calls: GET /order/$p"; done
	curl -sf -o /dev/null "http://127.0.0.1:$port/fail" || bail "db-app-calls: GET /fail"
	stop db-app-calls
	stop_bg "$app"
	stop_bg "$PG_PID"
	stop_bg "$MY_PID"
	stop_bg "$RD_PID"
}

# Python's stock http.server (head and body in two writes, Nagle on) and
# curl, 4 requests on one connection: the kernel's waits (issue 20), the
# body held ~40 ms for curl's delayed ACK after the last write.
sample_http_server_nagle() {
	local port d=$T/nagle; port=$(free_port)
	mkdir -p "$d"
	head -c 300 /dev/zero | tr '\0' k >"$d/k.txt"
	start_bg nagle "$PYTHON" -m http.server --bind 127.0.0.1 --directory "$d" --protocol HTTP/1.1 "$port"
	local srv=$BG_PID
	wait_for_port "$port" || bail "http-server-nagle: http.server listens"
	rec http-server-nagle -p "$srv"
	curl -s -o /dev/null -o /dev/null -o /dev/null -o /dev/null "http://127.0.0.1:$port/k.txt?i=1" \
		"http://127.0.0.1:$port/k.txt?i=2" "http://127.0.0.1:$port/k.txt?i=3" "http://127.0.0.1:$port/k.txt?i=4" ||
		bail "http-server-nagle: curl"
	stop http-server-nagle
	stop_bg "$srv"
}

ALL="python-http-mix nginx-mix gunicorn-flask-mix express-mix pipelined-split client-span sigkill-truncated corrupt-flipped-bytes go-https-call nginx-https grpc-python-unary-stream node-h2c h2c-mid-connection db-app-calls http-server-nagle"
names=("$@")
[ $# -gt 0 ] || read -ra names <<<"$ALL"
for name in "${names[@]}"; do
	fn=sample_${name//-/_}
	declare -F "$fn" >/dev/null || bail "no sample named $name (known: $ALL)"
	log "recording $name"
	"$fn"
done
chmod 644 ./*.bz.zst
stat -c '# %8s bytes  %n' ./*.bz.zst
bash "$E2E_ROOT/tests/golden.sh" --update "$@" || bail "tests/golden.sh --update"
finish
