#!/usr/bin/env bash
# record_openssl_dlopen.sh - a TLS library a target loads after recording
# began gets the OpenSSL probes before it is used (issue 17).
#
# With -p the system's libssl is not probed at start (only a selection
# that adopts processes not yet met needs it); the library is still another
# file, so a wrong probe of the system's copy cannot pass the test: a copy of
# libssl.so.3 (and libcrypto.so.3) in a directory of its own, which a Python
# HTTPS server loads through LD_LIBRARY_PATH when it imports ssl, once the
# recording of it (`beyla record -p`) has begun.  The recorder
# must notice the new executable mapping (sys_enter_mmap), read the
# process's maps again, and probe the copy: `beyla info` lists it as found
# in the target, and the requests curl makes once the server listens are
# spans over https.  Then the same with --no-openssl: the copy is not
# probed, the connection is encrypted without plaintext, and the hint says
# the library came after the process became a target.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
require_recording_env
need curl openssl sqlite3

N=4 # requests, on one keep-alive connection per curl run
LIBDIR=/usr/lib/x86_64-linux-gnu
[ -r "$LIBDIR/libssl.so.3" ] && [ -r "$LIBDIR/libcrypto.so.3" ] || bail "libssl.so.3 in $LIBDIR" "apt-get install libssl3"
mkdir -p "$T/lib"
cp "$LIBDIR/libssl.so.3" "$LIBDIR/libcrypto.so.3" "$T/lib/"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	-keyout "$T/key.pem" -out "$T/cert.pem" >"$T/openssl.log" 2>&1 || bail "a test certificate" "$(tail -n 3 "$T/openssl.log")"

cat >"$T/late_ssl.py" <<'PY'
import os, sys, time
while not os.path.exists(sys.argv[2]):   # a target already, libssl not loaded yet
    time.sleep(0.02)
import http.server, ssl          # maps the copy of libssl now
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = ("late " + self.path + "\n").encode()
        self.send_response(404 if self.path == "/missing" else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[3], sys.argv[4])
srv = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("ssl from", ssl.OPENSSL_VERSION, flush=True)
srv.serve_forever()
PY

# run NAME [RECORD_ARGS...]: the server, recorded from its start, then N
# requests and a 404 on one connection (bodies "late /late/I\n": 13 bytes)
run() {
	local name=$1 port i args=()
	shift
	port=$(free_port)
	LD_LIBRARY_PATH=$T/lib start_bg "$name" "$PYTHON" "$T/late_ssl.py" "$port" "$T/$name.go" "$T/cert.pem" "$T/key.pem"
	SRV=$BG_PID
	record_start "$T/$name.bz.zst" -p "$SRV" "$@" || bail "$name: beyla record starts" "$(tail -n 5 "$REC_LOG")"
	# only now may it import ssl: the recorder has read its maps already
	: >"$T/$name.go"
	wait_for_port "$port" || bail "$name: the server listens" "$(tail -n 5 "$T/$name.log")"
	if [ "$name" = on ]; then
		# the recorder says when the copy is probed (on a loaded machine
		# that can come after the server listens: its first request would
		# be lost, a limit docs/analysis.md states)
		for ((i = 0; i < 100; i++)); do
			grep -q "OpenSSL probes placed in $T/lib/libssl.so.3, used by pid $SRV" "$REC_LOG" && break
			sleep 0.05
		done
		check_grep "$name: the recorder said it probed the copy" "OpenSSL probes placed in $T/lib/libssl.so.3" "$REC_LOG"
	fi
	for ((i = 1; i <= N; i++)); do
		args+=(-o "$T/$name.body$i" "https://127.0.0.1:$port/late/$i")
	done
	args+=(-o "$T/$name.missing" "https://127.0.0.1:$port/missing")
	curl -sk --http1.1 --max-time 10 -w '%{http_code}\n' "${args[@]}" >"$T/$name.codes"
	sleep 0.3
	record_stop INT
	check_num "$name: beyla record exits 0" "${REC_RC:-none}" -eq 0
	check_grep "$name: the server loaded the copy of libssl after it started" '^ssl from OpenSSL 3' "$T/$name.log"
	check "$name: /proc says the server maps the copy" grep -q "$T/lib/libssl.so.3" "/proc/$SRV/maps"
	check_num "$name: curl got its answers" "$(grep -c '^200$' "$T/$name.codes")" -eq "$N"
	"$BEYLA" info "$T/$name.bz.zst" >"$T/$name.info" 2>&1
	"$BEYLA" analyze -q -o "$T/$name.db" "$T/$name.bz.zst" >"$T/$name.analyze" 2>&1
	check_num "$name: beyla analyze exits 0" $? -eq 0
	"$BEYLA" info --dump "$T/$name.bz.zst" >"$T/$name.dump" 2>&1
	check_grep "$name: its PROC block, written at start, names no TLS library" "^TLS_LIB pid=$SRV lib=none" "$T/$name.dump"
}
q() { sqlite3 -batch -noheader "$1" "$2" 2>&1; }

run on
check_grep "on: info lists the copy, found in the target, probed" \
	"^  $T/lib/libssl.so.3 \(OpenSSL, found in a target\)" "$T/on.info"
# (-p alone adopts no process it has not met: the system's libssl is left
# alone, so a curl or a load generator on it pays no uprobe traps)
check_no_grep "on: with -p alone, the system's libssl is not probed" "the system's, probed at start" "$T/on.info"
check_grep "on: SSL_read attached in it" '^    SSL_read +attached +entry \+ return' "$T/on.info"
S="kind='server' AND pid=$SRV AND (SELECT value FROM span_attributes a WHERE a.span_id=spans.span_id AND a.key='url.scheme')='https'"
check_num "on: every request a server span over https, with its path and status" \
	"$(q "$T/on.db" "SELECT count(*) FROM spans WHERE $S AND url_path LIKE '/late/%' AND http_status_code=200 AND response_body_size=length('late /late/1') + 1")" -eq "$N"
check_num "on: the 404 too" "$(q "$T/on.db" "SELECT count(*) FROM spans WHERE $S AND url_path='/missing' AND http_status_code=404")" -eq 1
check_num "on: the connection parsed from plaintext" \
	"$(q "$T/on.db" "SELECT value FROM parse_stats WHERE name='tls_conns_plaintext'")" -eq 1

run off --no-openssl
check_no_grep "off: no library probed" "found in a target" "$T/off.info"
check_num "off: no spans" "$(q "$T/off.db" "SELECT count(*) FROM spans WHERE kind='server'")" -eq 0
check_num "off: one connection encrypted without plaintext" \
	"$(q "$T/off.db" "SELECT value FROM parse_stats WHERE name='tls_conns_opaque'")" -eq 1
# (with the probes off its later loads are not followed either: the PROC
# block of its start is all the capture knows)
check_grep "off: info's hint says the library was loaded after it became a target" \
	"had no TLS library mapped when it became a target.*which only the OpenSSL probes follow" "$T/off.info"
finish
