#!/usr/bin/env bash
# record_tls.sh - TLS connections whose plaintext beyla did not record
# (issue 15, item 5; issue 17): a capture of them must say how many
# connections were encrypted with no plaintext recorded, which library each
# process uses and why its plaintext is missing, instead of "no HTTP
# requests found".  Since beyla probes OpenSSL (record_openssl.sh tests the
# plaintext), the OpenSSL servers here are recorded with --no-openssl.
#
# One recording with --no-openssl (-p each server, --port for nginx's HTTPS
# port, so the curl clients calling it are adopted and described too) of:
#   - nginx (OpenSSL, shared libssl) serving HTTPS, and plain HTTP on a
#     second port: those requests must still be spans;
#   - Python's http.server wrapped by the ssl module (libssl through _ssl);
#   - Node's https module (OpenSSL linked into the node executable, which
#     exports SSL_read and SSL_write);
#   - the curl clients of nginx's HTTPS port (each makes two requests on one
#     connection, --rate 3/s: it lives long enough for the recorder to read
#     its /proc/PID/maps).
# Each is charged to OpenSSL with the probes off, and no OpenSSL library is
# probed.  Then, with the OpenSSL probes on, a GnuTLS client (gnutls-cli, a
# library beyla does not probe) calling nginx: nginx's end is a span from
# its plaintext, gnutls-cli's end is explained as GnuTLS, not probed yet.
# Then a Go server (crypto/tls) recorded with --no-go: the hint must say the
# Go probes were off.  Checked: the counts in analyze's summary line,
# parse_stats and connections, the library and path named for each
# process, `beyla info`'s library lines, TLS count and dump.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
require_recording_env
need nginx curl openssl sqlite3 ss node gnutls-cli

N_NGINX=4 # curl processes calling nginx over HTTPS (one connection each)
N_PY=3    # ... the Python server
N_NODE=2  # ... the Node server
N_PLAIN=3 # ... nginx over plain HTTP (not adopted: another port)
N_GO=3    # ... the Go server, recorded with --no-go
# encrypted connections without plaintext: both ends of nginx's (server and
# adopted client), the server end of Python's and Node's
TLS_CONNS=$((2 * N_NGINX + N_PY + N_NODE))

q() { sqlite3 -batch -noheader "$1" "$2"; }

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	-keyout "$T/key.pem" -out "$T/cert.pem" >"$T/openssl.log" 2>&1 ||
	bail "openssl makes a self-signed certificate" "$(tail -n 3 "$T/openssl.log")"

# --- the servers -------------------------------------------------------------------
tls_port=$(free_port)
http_port=$(free_port)
mkdir -p "$T/nginx"
cp "$T/cert.pem" "$T/key.pem" "$T/nginx/"
sed -e "s|@DIR@|$T/nginx|g" -e "s|@TLS_PORT@|$tls_port|g" -e "s|@HTTP_PORT@|$http_port|g" \
	"$E2E_ROOT/tests/servers/nginx_tls.conf.in" >"$T/nginx/nginx.conf"
start_bg nginx nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log"
master=$BG_PID
wait_for_port "$tls_port" || bail "nginx listens on $tls_port" "$(tail -n 3 "$T/nginx.log" "$T/nginx/error.log" 2>/dev/null)"
wait_for_port "$http_port" || bail "nginx listens on $http_port"
worker=
for ((i = 0; i < 50 && ${#worker} == 0; i++)); do
	worker=$(pgrep -P "$master" | head -n1)
	[ -n "$worker" ] || sleep 0.1
done
[ -n "$worker" ] || bail "nginx started a worker process"

py_port=$(free_port)
start_bg pyhttps "$PYTHON" "$E2E_ROOT/tests/servers/https_server.py" "$py_port" "$T/cert.pem" "$T/key.pem"
py=$BG_PID
wait_for_port "$py_port" || bail "the Python HTTPS server listens on $py_port" "$(tail -n 3 "$T/pyhttps.log")"

node_port=$(free_port)
start_bg nodehttps node -e '
const fs = require("fs"), https = require("https");
https.createServer({ key: fs.readFileSync(process.argv[1]), cert: fs.readFileSync(process.argv[2]) },
	(req, res) => res.end("ok\n")).listen(+process.argv[3], "127.0.0.1");' "$T/key.pem" "$T/cert.pem" "$node_port"
nodepid=$BG_PID
wait_for_port "$node_port" || bail "the Node HTTPS server listens on $node_port" "$(tail -n 3 "$T/nodehttps.log")"

# The library paths as the processes mapped them (/lib or /usr/lib).
ngx_ssl=$(grep -m1 -oE '/[^ ]*/libssl\.so[^ ]*' "/proc/$worker/maps")
py_ssl=$(grep -m1 -oE '/[^ ]*/libssl\.so[^ ]*' "/proc/$py/maps")
check "nginx's worker maps libssl (${ngx_ssl:-none})" test -n "$ngx_ssl"
check "the Python server maps libssl once ssl is imported (${py_ssl:-none})" test -n "$py_ssl"
py_name=$(basename "$(readlink "/proc/$py/exe")")
node_exe=$(readlink "/proc/$nodepid/exe")

# --- one recording of all of them --------------------------------------------------
cap=$T/tls.bz.zst
record_start "$cap" --no-openssl -p "$master" -p "$py" -p "$nodepid" --port "$tls_port" ||
	bail "beyla record starts" "$(tail -n 5 "$REC_LOG")"
: >"$T/codes"
for ((i = 1; i <= N_NGINX; i++)); do
	curl -sk --max-time 10 --rate 3/s -o /dev/null -o /dev/null -w '%{http_code}\n' \
		"https://127.0.0.1:$tls_port/ok" "https://127.0.0.1:$tls_port/ok" >>"$T/codes"
done
for ((i = 1; i <= N_PY; i++)); do
	curl -sk --max-time 10 -o /dev/null -w '%{http_code}\n' "https://127.0.0.1:$py_port/ok" >>"$T/codes"
done
for ((i = 1; i <= N_NODE; i++)); do
	curl -sk --max-time 10 -o /dev/null -w '%{http_code}\n' "https://127.0.0.1:$node_port/" >>"$T/codes"
done
for ((i = 1; i <= N_PLAIN; i++)); do
	curl -s --max-time 10 -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$http_port/ok" >>"$T/codes"
done
sleep 0.5 # the servers' closes
record_stop INT
check_num "beyla record exits 0" "${REC_RC:-none}" -eq 0
check_num "curl got 200 for every request" "$(grep -c '^200$' "$T/codes")" -eq $((2 * N_NGINX + N_PY + N_NODE + N_PLAIN))

# --- beyla analyze ---------------------------------------------------------------------
db=$T/tls.db
"$BEYLA" analyze -o "$db" "$cap" >"$T/analyze.txt" 2>&1
check_num "beyla analyze exits 0" $? -eq 0
check_grep "the summary line counts $TLS_CONNS connections encrypted with no plaintext" \
	"connections \([0-9]+ HTTP, [0-9]+ not HTTP, $TLS_CONNS encrypted \(TLS\) with no plaintext recorded\)" "$T/analyze.txt"
check_grep "the closing hint counts them" "^$TLS_CONNS connections encrypted \(TLS\) with no plaintext recorded:$" "$T/analyze.txt"
# esc TEXT: TEXT as an ERE matching itself
esc() { printf '%s' "$1" | sed -e 's/[][\.*^$()+?{}|]/\\&/g'; }
OFF=', but the OpenSSL probes were off in this recording \(--no-openssl, or the kernel refused them\): record again with them on$'
check_grep "the hint names nginx's worker, its $N_NGINX connections and its OpenSSL ($ngx_ssl), probes off" \
	"^  nginx \(pid $worker, $N_NGINX connections\) uses OpenSSL \($(esc "$ngx_ssl")\)$OFF" "$T/analyze.txt"
check_grep "the hint names the Python server and its OpenSSL ($py_ssl), probes off" \
	"^  $(esc "$py_name") \(pid $py, $N_PY connections\) uses OpenSSL \($(esc "$py_ssl")\)$OFF" "$T/analyze.txt"
check_grep "the hint names Node and the OpenSSL linked into $node_exe, probes off" \
	"^  node \(pid $nodepid, $N_NODE connections\) uses OpenSSL linked into its executable \($(esc "$node_exe")\)$OFF" "$T/analyze.txt"
check_grep "the hint names the $N_NGINX adopted curl clients and their OpenSSL, probes off" \
	"^  curl \(pids [0-9]+(, [0-9]+)*( and [0-9]+ more)?, $N_NGINX connections\) use OpenSSL \(/[^)]*libssl\.so[^)]*\).*$OFF" "$T/analyze.txt"
check_no_grep "no process is said to use a library beyla does not probe yet (OpenSSL is probed)" 'does not probe yet' "$T/analyze.txt"
check_no_grep "no process is left with an unknown library" 'library is unknown' "$T/analyze.txt"

pstat() { q "$db" "SELECT value FROM parse_stats WHERE name='$1'"; }
check_num "parse_stats tls_conns_opaque" "$(pstat tls_conns_opaque)" -eq "$TLS_CONNS"
check_num "parse_stats conns_detected_tls" "$(pstat conns_detected_tls)" -eq "$TLS_CONNS"
check_num "parse_stats tls_conns_opaque_openssl (every process here uses OpenSSL)" "$(pstat tls_conns_opaque_openssl)" -eq "$TLS_CONNS"
check_num "parse_stats tls_conns_opaque_lib_not_found" "$(pstat tls_conns_opaque_lib_not_found)" -eq 0
check_num "parse_stats tls_conns_plaintext (--no-openssl, no Go)" "$(pstat tls_conns_plaintext)" -eq 0
check_num "connections: protocol tls, detected tls" \
	"$(q "$db" "SELECT count(*) FROM connections WHERE protocol='tls' AND detected='tls'")" -eq "$TLS_CONNS"
check_num "processes: nginx's worker has OpenSSL at $ngx_ssl, probes off" \
	"$(q "$db" "SELECT count(*) FROM processes WHERE pid=$worker AND tls_libraries = 'OpenSSL $ngx_ssl (probes off)'")" -eq 1
check_num "processes: the Python server has OpenSSL at $py_ssl, probes off" \
	"$(q "$db" "SELECT count(*) FROM processes WHERE pid=$py AND tls_libraries = 'OpenSSL $py_ssl (probes off)'")" -eq 1
check_num "processes: Node has OpenSSL linked in, probes off" \
	"$(q "$db" "SELECT count(*) FROM processes WHERE pid=$nodepid AND tls_libraries = 'OpenSSL $node_exe (linked in) (probes off)'")" -eq 1
check_num "processes: $N_NGINX adopted curl clients (flag 0x20), each with OpenSSL, probes off" \
	"$(q "$db" "SELECT count(*) FROM processes WHERE flags & 32 AND exe LIKE '%/curl' AND tls_libraries LIKE 'OpenSSL % (probes off)%'")" -eq "$N_NGINX"
# plain HTTP in the same capture still gives spans
check_num "plain HTTP: $N_PLAIN server spans GET /ok on nginx's worker" \
	"$(q "$db" "SELECT count(*) FROM spans WHERE kind='server' AND name='GET /ok' AND pid=$worker AND status='ok' AND server_port=$http_port")" -eq "$N_PLAIN"
check_num "plain HTTP: the only spans" "$(q "$db" "SELECT count(*) FROM spans WHERE kind <> 'internal'")" -eq "$N_PLAIN"

# --- beyla info ----------------------------------------------------------------------
"$BEYLA" info "$cap" >"$T/info.txt" 2>&1
check_num "beyla info exits 0" $? -eq 0
check_grep "info: $TLS_CONNS connections encrypted with no plaintext" \
	"^$TLS_CONNS connections encrypted \(TLS\) with no plaintext recorded:$" "$T/info.txt"
check_grep "info: nginx's worker and its OpenSSL, probes off" \
	"^  nginx \(pid $worker, $N_NGINX connections\) uses OpenSSL \($(esc "$ngx_ssl")\)$OFF" "$T/info.txt"
check_grep "info: the library under nginx's worker's row" "^ +tls: OpenSSL $(esc "$ngx_ssl") \(probes off\)$" "$T/info.txt"
check_grep "info: Node's linked-in OpenSSL" "^ +tls: OpenSSL $(esc "$node_exe") \(linked in\) \(probes off\)$" "$T/info.txt"
check_no_grep "info: no TLS library probed (--no-openssl)" '^tls libraries probed' "$T/info.txt"
check_grep "info: the mmap tracepoint that follows dlopens not requested" 'sys_enter_mmap +skipped .*not requested \(--no-openssl\)' "$T/info.txt"
"$BEYLA" info --dump "$cap" >"$T/dump.txt" 2>&1
# (the worker has two PROC blocks: a descendant of -p, and a user of --port's port)
check_num "info --dump: TLS_LIB openssl mapped, not probed, for nginx's worker, in each of its PROC blocks" \
	"$(dump_count "$T/dump.txt" TLS_LIB "pid=$worker" lib=openssl source=mapped probed=no "path=$ngx_ssl")" -eq \
	"$(dump_count "$T/dump.txt" PROC "pid=$worker")"
check_num "info --dump: TLS_LIB openssl exe, not probed, for node" \
	"$(dump_count "$T/dump.txt" TLS_LIB "pid=$nodepid" lib=openssl source=exe probed=no "path=$node_exe")" -eq 1
check_num "info --dump: no TLS_LIBRARY (nothing probed)" "$(dump_count "$T/dump.txt" TLS_LIBRARY)" -eq 0
check_num "info --dump: no plaintext record (sys=ssl)" "$(dump_count "$T/dump.txt" DATA sys=ssl)" -eq 0
check_num "info --dump: PROC adopted for each curl" \
	"$(dump_count "$T/dump.txt" PROC 'flags~adopted' 'exe~/curl$')" -eq "$N_NGINX"

# --- a GnuTLS client, the OpenSSL probes on ------------------------------------------------
# nginx answers from its plaintext (OpenSSL, probed); gnutls-cli's end of the
# same connection stays encrypted: GnuTLS is a library beyla does not probe.
cap=$T/gnutls.bz.zst
record_start "$cap" -p "$master" --exe '^gnutls-cli$' || bail "beyla record (OpenSSL probes on) starts" "$(tail -n 5 "$REC_LOG")"
# the request half a second after the handshake: gnutls-cli lives long
# enough for the recorder to read its maps (a process gone first has no
# library in the capture: docs/analysis.md)
{ sleep 0.5; printf 'GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'; } |
	timeout 10 gnutls-cli --insecure --port="$tls_port" 127.0.0.1 >"$T/gnutls.out" 2>"$T/gnutls.err"
sleep 0.3
record_stop INT
check_num "gnutls: beyla record exits 0" "${REC_RC:-none}" -eq 0
check_grep "gnutls: gnutls-cli got 200 from nginx" '^HTTP/1\.1 200 OK' "$T/gnutls.out"
"$BEYLA" analyze -o "$T/gnutls.db" "$cap" >"$T/gnutls.txt" 2>&1
check_num "gnutls: beyla analyze exits 0" $? -eq 0
check_num "gnutls: nginx's end is a span, from its plaintext" \
	"$(q "$T/gnutls.db" "SELECT count(*) FROM spans WHERE kind='server' AND pid=$worker AND name='GET /ok' AND http_status_code=200
		AND span_id IN (SELECT span_id FROM span_attributes WHERE key='url.scheme' AND value='https')")" -eq 1
check_num "gnutls: parse_stats tls_conns_plaintext (nginx's end)" \
	"$(q "$T/gnutls.db" "SELECT value FROM parse_stats WHERE name='tls_conns_plaintext'")" -eq 1
check_num "gnutls: parse_stats tls_conns_opaque_gnutls (gnutls-cli's end)" \
	"$(q "$T/gnutls.db" "SELECT value FROM parse_stats WHERE name='tls_conns_opaque_gnutls'")" -eq 1
check_grep "gnutls: the hint names gnutls-cli and its GnuTLS, not probed yet" \
	"^1 connections? encrypted \(TLS\) with no plaintext recorded: gnutls-cli \(pid [0-9]+\) uses GnuTLS \(/[^)]*libgnutls\.so[^)]*\), which this version of beyla does not probe yet" \
	"$T/gnutls.txt"

# --- a Go server recorded with --no-go --------------------------------------------------
GO_BIN=$E2E_ROOT/build/go
bash "$E2E_ROOT/scripts/build_go_servers.sh" "$GO_BIN" >"$T/build.log" 2>&1 ||
	bail "the Go test servers build (scripts/build_go_servers.sh)" "$(tail -n 5 "$T/build.log")"
start_goserver gosrv "$GO_BIN/goserver-go1.26" || bail "the goserver starts" "$(tail -n 3 "$T/gosrv.log")"
cap=$T/nogo.bz.zst
record_start "$cap" --no-go -p "$GS_PID" || bail "beyla record --no-go starts" "$(tail -n 5 "$REC_LOG")"
for ((i = 1; i <= N_GO; i++)); do
	curl -sk --max-time 10 -o /dev/null "https://$GS_HTTPS/hello"
done
sleep 0.3
record_stop INT
check_num "--no-go: beyla record exits 0" "${REC_RC:-none}" -eq 0
"$BEYLA" analyze -o "$T/nogo.db" "$cap" >"$T/nogo.txt" 2>&1
check_num "--no-go: beyla analyze exits 0" $? -eq 0
check_grep "--no-go: no HTTP requests found, and why" "^why: of $N_GO connections, $N_GO carried no HTTP/1\.x: $N_GO encrypted \(TLS\)$" "$T/nogo.txt"
check_grep "--no-go: the hint says the Go probes were off" \
	"^$N_GO connections encrypted \(TLS\) with no plaintext recorded: goserver-go1\.26 \(pid $GS_PID\) uses Go crypto/tls, but the Go probes were off in this recording" "$T/nogo.txt"
check_num "--no-go: parse_stats tls_conns_opaque_go_probes_off" \
	"$(q "$T/nogo.db" "SELECT value FROM parse_stats WHERE name='tls_conns_opaque_go_probes_off'")" -eq "$N_GO"
"$BEYLA" info "$cap" >"$T/nogo.info" 2>&1
check_grep "--no-go: info says the Go probes were off" \
	"^$N_GO connections encrypted \(TLS\) with no plaintext recorded: goserver-go1\.26 \(pid $GS_PID\) uses Go crypto/tls, but the Go probes were off" "$T/nogo.info"
stop_bg "$GS_PID"

finish
