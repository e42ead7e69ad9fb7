#!/usr/bin/env bash
# shellcheck disable=SC2016 # check NAME eval '...' expands later, on purpose
# record_openssl.sh - HTTPS in plaintext through the OpenSSL uprobes (issue
# 17: SSL_read, SSL_read_ex, SSL_write, SSL_write_ex and SSL_free, placed
# once per library file), on real servers and clients beyla did not write,
# checked with SQL on the analysis.  The plaintext belongs to the socket's
# own connection, so an HTTPS connection is parsed like plain HTTP, with
# url.scheme 'https', over HTTP/1.1 and HTTP/2 (ALPN h2).
#
# Servers, each with its own OpenSSL:
#   - nginx, `listen ... ssl http2` (libssl.so.3, linked): curl --http1.1
#     and curl --http2 (ALPN h2);
#   - Python's http.server wrapped by the ssl module, HTTP/1.1 keep-alive
#     (libssl.so.3 dlopened with _ssl; the same file as nginx's and curl's:
#     probed once);
#   - Node's https.createServer and http2.createSecureServer (OpenSSL linked
#     into the node executable, which exports SSL_read: probed in the
#     executable);
#   - gunicorn + Flask, --certfile/--keyfile (sync worker: a connection per
#     request).
# Clients, both targets (--exe, from their exec): curl (a copy named
# osslcurl, so that --exe selects no other curl on the machine) and Python's
# requests (tests/servers/ssl_client.py, one Session).  Each sends GETs of a
# few paths on one connection (keep-alive), a POST with a body larger than
# the snaplen, a 404, and credentials (Authorization: Bearer <random>,
# Cookie: session=<random>).
#
# Recording A: all of the above, the same traffic sent once before without a
# recorder (the reference).  Checked: every request the clients made (as
# they reported it: curl -w, requests) is exactly one server span and one
# client span with its method, path, route, status, request and response
# body sizes, protocol version ('2' for ALPN h2) and url.scheme https, the
# client span the parent of the server span and not begun after it ended
# (docs/analysis.md, "Traces across processes"); the connections are
# http/1 or http/2, none is left as 'tls'; parse_stats tls_conns_plaintext
# counts both ends of every connection; the responses are byte for byte
# those of the reference;
# no credential is in the decompressed capture (`zstd -dc`), raw or HPACK
# Huffman-coded at any bit offset (tests/e2e/h2_secrets.py), nor in the
# dump or the database; `beyla info` lists the libraries probed.
#
# Recording B: a libssl no process mapped when it began.  A Python server
# (tests/servers/late_ssl_server.py) selected by --exe from its exec, that
# imports ssl only once the test says so, after recording began: the dlopen
# of _ssl then maps a copy of libssl.so.3 (LD_LIBRARY_PATH; the system's
# file is probed at start, a copy is another file), and the curl and
# requests clients, also from their exec: the new mapping must make the
# recorder look again and probe the copy, so these HTTPS requests are spans
# too.  (record_openssl_dlopen.sh tests the same by -p, and --no-openssl.)
#
# Recording C: `beyla record -- python ssl_client.py ...` (a launched command;
# its server, nginx, not recorded): the client spans, from the plaintext.
#
# OpenSSL 1.1: Debian 12 (bookworm) ships no libssl1.1 package (`apt-cache
# policy libssl1.1` has no candidate), only OpenSSL 3 (libssl3), so only
# OpenSSL 3 is tested here; where a libssl1.1 can be installed from the
# distribution, it should be tested too.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
require_recording_env
need nginx curl openssl sqlite3 zstd ss node nm
VPY=$BEYLA_VENV/bin/python
[ -x "$VPY" ] && "$VPY" -c 'import requests, gunicorn, flask, hpack' 2>/dev/null ||
	bail "the test venv has requests, gunicorn, flask and hpack" "run: sudo bash scripts/setup.sh"
SERVERS=$E2E_ROOT/tests/servers

q() { sqlite3 -batch -noheader "$1" "$2"; }
sec() { printf 'S%s' "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"; }
BEARER=$(sec)
SID=$(sec)
export BEYLA_TEST_BEARER=$BEARER BEYLA_TEST_SESSION=$SID # for ssl_client.py (not argv)
# curl reads the credential headers from a file: not in its command line
printf 'Authorization: Bearer %s\nCookie: theme=dark; session=%s\n' "$BEARER" "$SID" >"$T/secret.hdr"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	-addext 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
	-keyout "$T/key.pem" -out "$T/cert.pem" >"$T/openssl.log" 2>&1 ||
	bail "openssl makes a self-signed certificate" "$(tail -n 3 "$T/openssl.log")"
mkdir -p "$T/bin"
cp "$(command -v curl)" "$T/bin/osslcurl" || bail "curl copied to $T/bin/osslcurl"
CURL=$T/bin/osslcurl
head -c 3000 /dev/zero | tr '\0' p >"$T/post.bin" # > snaplen: its size from the framing

# --- the servers ---------------------------------------------------------------------
ng_port=$(free_port)
mkdir -p "$T/nginx"
cp "$T/cert.pem" "$T/key.pem" "$T/nginx/"
head -c 20000 /dev/zero | tr '\0' L >"$T/nginx/large.bin"
sed -e "s|@DIR@|$T/nginx|g" -e "s|@PORT@|$ng_port|g" "$SERVERS/nginx_openssl.conf.in" >"$T/nginx/nginx.conf"
start_bg nginx nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log"
ng=$BG_PID
py_port=$(free_port)
start_bg pyhttps "$VPY" "$SERVERS/https_server.py" "$py_port" "$T/cert.pem" "$T/key.pem"
py=$BG_PID
nh_port=$(free_port)
start_bg nodehttps node "$SERVERS/node_https.js" "$nh_port" "$T/key.pem" "$T/cert.pem"
nh=$BG_PID
n2_port=$(free_port)
start_bg nodeh2 node "$SERVERS/h2_server.js" "$n2_port" "$T/key.pem" "$T/cert.pem"
n2=$BG_PID
gu_port=$(free_port)
start_bg gunicorn "$VPY" -m gunicorn -w 1 -k sync -b "127.0.0.1:$gu_port" \
	--certfile "$T/cert.pem" --keyfile "$T/key.pem" --chdir "$SERVERS" flask_app:app
gu=$BG_PID
for p in "$ng_port:nginx" "$py_port:pyhttps" "$nh_port:nodehttps" "$n2_port:nodeh2" "$gu_port:gunicorn"; do
	wait_for_port "${p%%:*}" 20 || bail "${p#*:} listens on ${p%%:*}" "$(tail -n 3 "$T/${p#*:}.log" "$T/nginx/error.log" 2>/dev/null)"
done
for master in "$ng" "$gu"; do # their workers
	for ((i = 0; i < 100; i++)); do
		[ -n "$(pgrep -P "$master")" ] && break
		sleep 0.05
	done
	[ -n "$(pgrep -P "$master")" ] || bail "pid $master started a worker"
done
ng_worker=$(pgrep -P "$ng" | head -n1)
node_exe=$(readlink "/proc/$nh/exe")
check "node exports SSL_read from its executable ($node_exe): probed there" \
	eval 'nm -D --defined-only "$node_exe" 2>/dev/null | grep -cw SSL_read'

# --- the traffic ------------------------------------------------------------------------
# Every request's line, as its client saw it:
#     METHOD URL STATUS HTTP_VERSION REQUEST_BODY_BYTES RESPONSE_BODY_BYTES NEW_CONNECTIONS
# in OUT/curl.log and OUT/py.log, each response body in OUT/*.body.
W='%{method} %{url_effective} %{response_code} %{http_version} %{size_upload} %{size_download} %{num_connects}\n'
# cget OUT VER PORT TAG PATH...: one curl (keep-alive), a GET of each PATH.
cget() {
	local out=$1 ver=$2 port=$3 tag=$4 args=() p n=0
	shift 4
	for p in "$@"; do
		n=$((n + 1))
		args+=(-o "$out/c-$tag-$n.body" "https://127.0.0.1:$port$p")
	done
	"$CURL" -s --max-time 10 --cacert "$T/cert.pem" "--http$ver" -w "$W" "${args[@]}" >>"$out/curl.log"
}
# cpost OUT VER PORT TAG: one curl, a POST of post.bin with the credentials,
# then a GET with them on the same connection.
cpost() {
	local out=$1 ver=$2 port=$3 tag=$4
	"$CURL" -s --max-time 10 --cacert "$T/cert.pem" "--http$ver" -w "$W" -H "@$T/secret.hdr" \
		-o "$out/c-$tag-p.body" --data-binary "@$T/post.bin" "https://127.0.0.1:$port/upload" \
		--next -s --max-time 10 --cacert "$T/cert.pem" "--http$ver" -w "$W" -H "@$T/secret.hdr" \
		-o "$out/c-$tag-q.body" "https://127.0.0.1:$port/users/$((tag + 50))" >>"$out/curl.log"
}
# pyc OUT PORT TAG: ssl_client.py's five requests on one Session.
pyc() {
	"$VPY" "$SERVERS/ssl_client.py" "$1" "$T/cert.pem" "https://127.0.0.1:$2" "$3" >>"$1/py.log" 2>>"$1/py.err"
}
N_CURL=32 # requests of curl in traffic(), N_H2 of them over HTTP/2
N_H2=11
N_PY=20 # ... of ssl_client.py
traffic() {
	local out=$1
	mkdir -p "$out"
	: >"$out/curl.log"
	: >"$out/py.log"
	cget "$out" 1.1 "$ng_port" 10 /ok /users/10 /missing /large
	cpost "$out" 1.1 "$ng_port" 11
	cget "$out" 2 "$ng_port" 20 /ok /users/20 /missing /large
	cpost "$out" 2 "$ng_port" 21
	cget "$out" 1.1 "$py_port" 30 /ok /users/30 /missing
	cpost "$out" 1.1 "$py_port" 31
	cget "$out" 1.1 "$nh_port" 40 /ok /users/40 /missing
	cpost "$out" 1.1 "$nh_port" 41
	cget "$out" 2 "$n2_port" 50 /ok /users/50 /missing
	cpost "$out" 2 "$n2_port" 51
	cget "$out" 1.1 "$gu_port" 60 /ok /users/60 /missing
	cpost "$out" 1.1 "$gu_port" 61
	pyc "$out" "$ng_port" 70
	pyc "$out" "$py_port" 72
	pyc "$out" "$nh_port" 74
	pyc "$out" "$gu_port" 76
}

# --- checks on one analysis ------------------------------------------------------------------
# check_requests WHAT DB LOG ENDS: every request of LOG (lines as above) is
# exactly one span on each end ENDS names ("server client", or "client"),
# with what its client saw, and nothing else is on those connections.
check_requests() {
	local what=$1 db=$2 log=$3 ends=$4 port method url path route code ver up down n total kind conns
	while read -r n method url code ver up down; do
		port=${url#https://127.0.0.1:}
		path=/${port#*/}
		port=${port%%/*}
		route=$(sed -E 's|^/users/[0-9]+$|/users/{id}|' <<<"$path")
		for kind in $ends; do
			if [ "$kind" = server ]; then conns="SELECT conn_id FROM connections WHERE local_port=$port"; else
				conns="SELECT conn_id FROM connections WHERE remote_port=$port"; fi
			check_num "$what: $kind span $method $path on :$port: $code, HTTP/$ver, bodies $up/$down, https (x$n)" \
				"$(q "$db" "SELECT count(*) FROM spans WHERE kind='$kind' AND conn_id IN ($conns)
					AND name='$method $route' AND http_route='$route' AND http_method='$method' AND url_path='$path' AND http_status_code=$code
					AND protocol_version='$ver' AND request_body_size=$up AND response_body_size=$down
					AND incomplete=0 AND span_id IN ($HTTPS)")" -eq "$n"
		done
	done < <(awk '{ print $1, $2, $3, $4, $5, $6 }' "$log" | sort | uniq -c)
	for port in $(awk '{ sub(/^https:\/\/127\.0\.0\.1:/, "", $2); sub(/\/.*/, "", $2); print $2 }' "$log" | sort -u); do
		total=$(awk -v p="https://127.0.0.1:$port/" 'index($2, p) == 1' "$log" | wc -l)
		for kind in $ends; do
			if [ "$kind" = server ]; then conns="SELECT conn_id FROM connections WHERE local_port=$port"; else
				conns="SELECT conn_id FROM connections WHERE remote_port=$port"; fi
			check_num "$what: no other span on :$port's connections ($kind end)" \
				"$(q "$db" "SELECT count(*) FROM spans WHERE kind IN ('server','client') AND conn_id IN ($conns)")" -eq "$total"
		done
	done
}
# the spans whose url.scheme is https
HTTPS="SELECT span_id FROM span_attributes WHERE key='url.scheme' AND value='https'"
# lib_probes INFO ERE: "NAME STATUS" of each probe `beyla info` lists under
# the TLS library whose line matches ERE ("  PATH (LIB, ...)").
# (the regex reaches awk through the environment: -v would take its
# backslashes as escapes, which gawk, unlike mawk, drops from "\(")
lib_probes() {
	RE=$2 awk '/^tls libraries probed:/ { on = 1; next } on && /^$/ { on = 0 }
		on && /^  [^ ]/ { mine = ($0 ~ ("^  " ENVIRON["RE"])) } on && mine && /^    [^ ]/ { print $1, $2 }' "$1"
}
esc() { printf '%s' "$1" | sed -e 's/[][\.*^$()+?{}|]/\\&/g'; }

# --- reference, then recording A ---------------------------------------------------------
traffic "$T/ref"
check_num "reference: every request answered" \
	"$(cat "$T/ref/curl.log" "$T/ref/py.log" | awk '$3 ~ /^(200|201|404)$/' | wc -l)" -eq \
	$(($(grep -c . "$T/ref/curl.log") + $(grep -c . "$T/ref/py.log")))
check_num "reference: curl and requests made their $N_CURL + $N_PY requests" \
	"$(cat "$T/ref/curl.log" "$T/ref/py.log" | wc -l)" -eq $((N_CURL + N_PY))

cap=$T/a.bz.zst
record_start "$cap" -p "$ng" -p "$py" -p "$nh" -p "$n2" -p "$gu" --exe '^osslcurl$' --exe 'ssl_client\.py$' ||
	bail "beyla record starts" "$(tail -n 5 "$REC_LOG")"
traffic "$T/rec"
sleep 0.5 # the servers' closes
record_stop INT
check_num "A: beyla record exits 0" "${REC_RC:-none}" -eq 0
check "A: every response (status, version, sizes, connections, body) is the same as without recording" \
	diff -r "$T/ref" "$T/rec"
check "A: HTTP/2 negotiated by ALPN with nginx and node's http2, HTTP/1.1 elsewhere" \
	eval '[ "$(awk "\$4 == 2" "$T/rec/curl.log" | wc -l)" -eq $N_H2 ] && [ "$(awk "\$4 == 1.1" "$T/rec/curl.log" "$T/rec/py.log" | wc -l)" -eq $((N_CURL + N_PY - N_H2)) ]'
cat "$T/rec/curl.log" "$T/rec/py.log" >"$T/rec.log"
nconns=$(awk '{ n += $7 } END { print n + 0 }' "$T/rec.log")
nh2=$(awk '$4 == 2 { n += $7 } END { print n + 0 }' "$T/rec.log")
log "recording A: $nconns connections, $nh2 of them HTTP/2"

db=$T/a.db
"$BEYLA" analyze -o "$db" "$cap" >"$T/a.analyze" 2>&1
check_num "A: beyla analyze exits 0" $? -eq 0
check_requests A "$db" "$T/rec.log" "server client"
ports="$ng_port, $py_port, $nh_port, $n2_port, $gu_port"
# Both ends recorded: each server span is the child of the client span that
# sent its request (docs/analysis.md, "Traces across processes").  The
# client's request, sent before the server read it, cannot begin after the
# server's span of it ended; the two ends of a connection are paired by
# address and port, the requests by their index on it.
check_num "A: every client span is the parent of the server span of its request" \
	"$(q "$db" "SELECT count(*) FROM spans c JOIN spans s ON s.parent_id=c.span_id AND s.kind='server'
		WHERE c.kind='client' AND s.url_path=c.url_path AND s.http_method=c.http_method
		AND c.trace_id=s.trace_id AND s.server_port IN ($ports)")" -eq $((N_CURL + N_PY))
check_num "A: no client span begins after the server span of its request ended" \
	"$(q "$db" "SELECT count(*) FROM spans c JOIN connections cc ON cc.conn_id=c.conn_id
		JOIN connections sc ON sc.local_port=cc.remote_port AND sc.remote_port=cc.local_port
		JOIN spans s ON s.conn_id=sc.conn_id AND s.kind='server' AND s.request_index=c.request_index
		WHERE c.kind='client' AND cc.remote_port IN ($ports) AND c.start_ns > s.end_ns")" -eq 0
check_num "A: url.scheme https (span_attributes) on all $((2 * (N_CURL + N_PY))) spans" \
	"$(q "$db" "SELECT count(*) FROM span_attributes a JOIN spans s USING (span_id) WHERE a.key='url.scheme'
		AND a.value='https' AND s.kind IN ('server','client')")" -eq $((2 * (N_CURL + N_PY)))
check_num "A: the connections at both ends: $((2 * nh2)) http/2" \
	"$(q "$db" "SELECT count(*) FROM connections WHERE protocol='http/2' AND (local_port IN ($ports) OR remote_port IN ($ports))")" \
	-eq $((2 * nh2))
check_num "A: ... and $((2 * (nconns - nh2))) http/1" \
	"$(q "$db" "SELECT count(*) FROM connections WHERE protocol='http/1' AND (local_port IN ($ports) OR remote_port IN ($ports))")" \
	-eq $((2 * (nconns - nh2)))
check_num "A: no connection left encrypted without plaintext (protocol tls)" \
	"$(q "$db" "SELECT count(*) FROM connections WHERE protocol='tls'")" -eq 0
pstat() { q "$1" "SELECT coalesce((SELECT value FROM parse_stats WHERE name='$2'), 'none')"; }
check_num "A: parse_stats tls_conns_plaintext: both ends of the $nconns connections" "$(pstat "$db" tls_conns_plaintext)" -eq $((2 * nconns))
check_num "A: parse_stats tls_conns_opaque" "$(pstat "$db" tls_conns_opaque)" -eq 0
check_no_grep "A: analyze has nothing to explain about TLS" 'encrypted \(TLS\) with no plaintext' "$T/a.analyze"
check_num "A: each server process has spans: nginx's worker, python, node https, node h2, gunicorn's worker" \
	"$(q "$db" "SELECT count(DISTINCT pid) FROM spans WHERE kind='server' AND (pid=$ng_worker OR pid IN ($py, $nh, $n2)
		OR pid IN (SELECT pid FROM processes WHERE ppid=$gu))")" -eq 5

"$BEYLA" info "$cap" >"$T/a.info" 2>&1
check_num "A: beyla info exits 0" $? -eq 0
"$BEYLA" info --dump "$cap" >"$T/a.dump" 2>&1
sys_ssl=$(grep -m1 -oE '/[^ ]*/libssl\.so[^ ]*' "/proc/$ng_worker/maps")
for lib in "libssl.so.3|/(usr/)?lib/x86_64-linux-gnu/libssl\.so\.3" "node|$(esc "$node_exe")"; do
	check "A: info lists ${lib%%|*} probed, SSL_read, SSL_read_ex, SSL_write, SSL_write_ex, SSL_free attached" \
		eval '[ "$(lib_probes "$T/a.info" "${lib#*|}" | grep -cE "^(SSL_read|SSL_read_ex|SSL_write|SSL_write_ex|SSL_free) attached$")" -eq 5 ]'
done
check_num "A: one library file probed for libssl.so.3, whatever path each process mapped it by" \
	"$(grep -cE '^  /[^ ]*libssl\.so\.3 \(OpenSSL' "$T/a.info")" -eq 1
check_num "A: info --dump: TLS_LIB probed=yes for each server (nginx's worker and master, python, node x2, gunicorn x2)" \
	"$(dump_count "$T/a.dump" TLS_LIB lib=openssl probed=yes 'pid~^('"$ng|$ng_worker|$py|$nh|$n2|$gu|$(pgrep -P "$gu" | head -n1)"')$')" -ge 7
check_no_grep "A: info has no TLS connection without plaintext" 'encrypted \(TLS\) with no plaintext' "$T/a.info"

zstd -dc "$cap" >"$T/a.raw" 2>/dev/null
"$VPY" "$E2E_ROOT/tests/e2e/h2_secrets.py" "$T/a.raw" "$BEARER" "$SID" >"$T/a.secrets"
check "A: no credential in the decompressed capture, raw or Huffman-coded at any bit offset ($(tr '\n' ' ' <"$T/a.secrets"))" \
	eval '[ "$(grep -c " raw=0 huffman=0$" "$T/a.secrets")" -eq 2 ]'
check_num "A: info --dump shows no credential" "$(grep -c -E "$BEARER|$SID" "$T/a.dump")" -eq 0
check_num "A: the database holds no credential" "$(sqlite3 "$db" .dump | grep -c -E "$BEARER|$SID")" -eq 0
check_grep "A: the recorder masked the credentials in the plaintext, HTTP/1 and HTTP/2 (HPACK decoded)" \
	'^  redacted [1-9][0-9]* bytes in [0-9]+ events; HTTP/2: [1-9][0-9]* header value\(s\) masked in [0-9]+ block\(s\), 0 block\(s\) masked whole' "$REC_LOG"

# --- recording B: libssl mapped after recording began ------------------------------------------
# The server's libssl is a copy, found through LD_LIBRARY_PATH: a library
# file that no process maps when recording begins, and that the recorder
# can only find by looking again at the maps of a target that mapped it.
late_port=$(free_port)
mkdir -p "$T/ossl"
cp "$(readlink -f "$sys_ssl")" "$T/ossl/libssl.so.3" &&
	cp "$(readlink -f "$(dirname "$sys_ssl")/libcrypto.so.3")" "$T/ossl/libcrypto.so.3" ||
	bail "B: libssl.so.3 and libcrypto.so.3 copied to $T/ossl"
capb=$T/b.bz.zst
record_start "$capb" --exe 'late_ssl_server\.py$' --exe '^osslcurl$' --exe 'ssl_client\.py$' ||
	bail "B: beyla record starts" "$(tail -n 5 "$REC_LOG")"
LD_LIBRARY_PATH=$T/ossl start_bg late "$VPY" "$SERVERS/late_ssl_server.py" "$late_port" "$T/cert.pem" "$T/key.pem" "$T/late.go"
late=$BG_PID
sleep 0.5
touch "$T/late.go" # now it imports ssl
wait_for_port "$late_port" 20 || bail "B: the late server listens on $late_port" "$(tail -n 3 "$T/late.log")"
# The recorder sees the new mapping and probes the library: give it time
# on a loaded machine before the first request.
sleep 1
mkdir -p "$T/b"
: >"$T/b/curl.log"
: >"$T/b/py.log"
cget "$T/b" 1.1 "$late_port" 80 /ok /users/80 /missing
cpost "$T/b" 1.1 "$late_port" 81
pyc "$T/b" "$late_port" 82
sleep 0.5
record_stop INT
check_num "B: beyla record exits 0" "${REC_RC:-none}" -eq 0
check_grep "B: the server had no libssl before it imported ssl" '^libssl mapped before import: no$' "$T/late.log"
check_grep "B: ... and after, it mapped the copy" "^libssl mapped after import: $(esc "$T/ossl/libssl.so.3")$" "$T/late.log"
cat "$T/b/curl.log" "$T/b/py.log" >"$T/b.log"
check_num "B: the 10 requests answered" "$(awk '$3 ~ /^(200|201|404)$/' "$T/b.log" | wc -l)" -eq 10
bconns=$(awk '{ n += $7 } END { print n + 0 }' "$T/b.log")
dbb=$T/b.db
"$BEYLA" analyze -o "$dbb" "$capb" >"$T/b.analyze" 2>&1
check_num "B: beyla analyze exits 0" $? -eq 0
check_requests B "$dbb" "$T/b.log" "server client"
check_num "B: the server spans are the late server's" \
	"$(q "$dbb" "SELECT count(*) FROM spans WHERE kind='server' AND pid=$late")" -eq 10
check_num "B: parse_stats tls_conns_plaintext: both ends of the $bconns connections" "$(pstat "$dbb" tls_conns_plaintext)" -eq $((2 * bconns))
check_num "B: parse_stats tls_conns_opaque" "$(pstat "$dbb" tls_conns_opaque)" -eq 0
"$BEYLA" info "$capb" >"$T/b.info" 2>&1
check "B: info lists the copy of libssl, found in a target, its five probes attached" \
	eval '[ "$(lib_probes "$T/b.info" "$(esc "$T/ossl/libssl.so.3") \(OpenSSL, found in a target\)" |
		grep -cE "^(SSL_read|SSL_read_ex|SSL_write|SSL_write_ex|SSL_free) attached$")" -eq 5 ]'
"$BEYLA" info --dump "$capb" >"$T/b.dump" 2>&1
check_num "B: info --dump: the late server had no TLS library when it became a target" \
	"$(dump_count "$T/b.dump" TLS_LIB "pid=$late" lib=none)" -eq 1
check_num "B: info --dump: TLS_LIBRARY the copy, OpenSSL, found in the late server" \
	"$(dump_count "$T/b.dump" TLS_LIBRARY "path=$T/ossl/libssl.so.3" lib=OpenSSL "pid=$late")" -eq 1
zstd -dc "$capb" >"$T/b.raw" 2>/dev/null
"$VPY" "$E2E_ROOT/tests/e2e/h2_secrets.py" "$T/b.raw" "$BEARER" "$SID" >"$T/b.secrets"
check "B: no credential in the decompressed capture ($(tr '\n' ' ' <"$T/b.secrets"))" \
	eval '[ "$(grep -c " raw=0 huffman=0$" "$T/b.secrets")" -eq 2 ]'
stop_bg "$late"

# --- recording C: a launched command --------------------------------------------------------------
capc=$T/c.bz.zst
mkdir -p "$T/c"
timeout -k 5 60 "$BEYLA" record -q -o "$capc" -- "$VPY" "$SERVERS/ssl_client.py" "$T/c" "$T/cert.pem" \
	"https://127.0.0.1:$ng_port" 90 >"$T/c.log" 2>"$T/c.err"
check_num "C: beyla record -- CMD exits 0" $? -eq 0
check_num "C: the 5 requests answered" "$(awk '$3 ~ /^(200|201|404)$/' "$T/c.log" | wc -l)" -eq 5
dbc=$T/c.db
"$BEYLA" analyze -o "$dbc" "$capc" >"$T/c.analyze" 2>&1
check_num "C: beyla analyze exits 0" $? -eq 0
check_requests C "$dbc" "$T/c.log" client
check_num "C: parse_stats tls_conns_plaintext: the client's connection" "$(pstat "$dbc" tls_conns_plaintext)" \
	-eq "$(awk '{ n += $7 } END { print n + 0 }' "$T/c.log")"

finish
