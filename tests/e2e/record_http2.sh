#!/usr/bin/env bash
# shellcheck disable=SC2016 # check NAME eval '...' expands later, on purpose
# record_http2.sh - HTTP/2 against peers beyla did not write (issue 16),
# checked with SQL on the analyzer's database.
#
# Recording 1 (--port of a Node h2c server and of nghttpx, -p a Node TLS
# server): curl --http2-prior-knowledge (adopted by --port: client spans)
# calling Node's http2.createServer: 200, 404, 500, a POST of 1000 bytes, a
# GET with credentials (Authorization, Cookie, ?access_token=) and one the
# server answers with a Set-Cookie; h2load with 100 streams in flight on one
# connection; curl --http2 (HTTP/1.1 "Upgrade: h2c") through nghttpx, whose
# backend is the Node server (three requests on the upgraded connection);
# curl over TLS (ALPN h2) to Node's http2.createSecureServer, read in
# plaintext through the OpenSSL probes (node exports SSL_read; issue 17):
# HTTP/2 spans with url.scheme https.  Every request exactly once, its
# status and sizes, streams interleaved on one connection apart, server
# and client spans paired, and no secret in the decompressed capture in
# any encoding: raw, or
# HPACK Huffman-coded at any bit offset (tests/e2e/h2_secrets.py, with the
# Huffman table of Python's hpack).
#
# Recording 2 begins mid-connection: a Node client (tests/servers/h2_client.js)
# keeps one session to the h2c server, makes requests before the recording
# and after it began.  The later ones are spans, one per stream, on both
# ends; their header blocks cannot be decoded (HPACK's tables went by
# before): counted as lost, never shown as values; their credentials are
# masked all the same.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
require_recording_env
need node curl h2load nghttpx openssl sqlite3 zstd ss
VPY=$BEYLA_VENV/bin/python
[ -x "$VPY" ] && "$VPY" -c 'import hpack' 2>/dev/null || bail "the test venv has hpack" "run: sudo bash scripts/setup.sh"
N_H2LOAD=${H2_N:-300} # h2load requests, 100 in flight on one connection
SERVERS=$E2E_ROOT/tests/servers

q() { sqlite3 -batch -noheader "$1" "$2"; }
sec() { printf 'S%s' "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"; }
BEARER=$(sec)
SID=$(sec)
TOK=$(sec)
SETC=$(sec)
MBEARER=$(sec)
MSID=$(sec)

# The bit search finds a Huffman-coded secret that is not byte-aligned:
# Python's hpack encodes "Bearer SECRET" (so the secret starts 7 symbols
# in), after 3 bytes of noise.
"$VPY" - "$T/huff.bin" "$BEARER" <<'PY'
import os, sys
from hpack import Encoder
open(sys.argv[1], "wb").write(os.urandom(3) + Encoder().encode([("authorization", "Bearer " + sys.argv[2])], huffman=True))
PY
found=$("$VPY" "$E2E_ROOT/tests/e2e/h2_secrets.py" "$T/huff.bin" "$BEARER")
check "h2_secrets.py finds a secret Huffman-coded by Python's hpack, not byte-aligned ($found)" \
	test "$found" = "$BEARER raw=0 huffman=1"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	-keyout "$T/key.pem" -out "$T/cert.pem" >"$T/openssl.log" 2>&1 ||
	bail "openssl makes a self-signed certificate" "$(tail -n 3 "$T/openssl.log")"

# --- the servers -----------------------------------------------------------------------
port=$(free_port)
H2_SET_COOKIE=$SETC start_bg h2c node "$SERVERS/h2_server.js" "$port"
srv=$BG_PID
tls_port=$(free_port)
start_bg h2tls node "$SERVERS/h2_server.js" "$tls_port" "$T/key.pem" "$T/cert.pem"
tls_srv=$BG_PID
ngx_port=$(free_port)
start_bg nghttpx nghttpx --conf=/dev/null "-f127.0.0.1,$ngx_port;no-tls" "-b127.0.0.1,$port;;proto=h2" \
	--workers=1 --no-ocsp --errorlog-file="$T/nghttpx.err"
wait_for_port "$port" && wait_for_port "$tls_port" && wait_for_port "$ngx_port" ||
	bail "the servers listen" "$(tail -n 3 "$T/h2c.log" "$T/h2tls.log" "$T/nghttpx.err" 2>/dev/null)"

# --- recording 1 ----------------------------------------------------------------------------
cap=$T/h2.bz.zst
record_start "$cap" --port "$port" --port "$ngx_port" -p "$tls_srv" || bail "beyla record starts" "$(tail -n 5 "$REC_LOG")"
: >"$T/codes"
h2c() { curl -s --max-time 10 --http2-prior-knowledge -o /dev/null -w '%{http_code} %{http_version}\n' "$@" >>"$T/codes"; }
# one curl each: curl 7.88 does not reuse a prior-knowledge connection (the
# second URL fails without a request), and each is a client span of its own
h2c "http://127.0.0.1:$port/ok"
h2c "http://127.0.0.1:$port/missing"
h2c "http://127.0.0.1:$port/error"
head -c 1000 /dev/zero | tr '\0' p >"$T/body"
h2c --data-binary "@$T/body" "http://127.0.0.1:$port/upload"
h2c -H "Authorization: Bearer $BEARER" -H "Cookie: theme=dark; session=$SID" \
	"http://127.0.0.1:$port/users/3?access_token=$TOK&page=2"
h2c "http://127.0.0.1:$port/login"
h2load -n "$N_H2LOAD" -c 1 -m 100 "http://127.0.0.1:$port/ok" >"$T/h2load.txt" 2>&1
# h2c by Upgrade: three requests on one connection, the first one upgraded
curl -s --max-time 10 --http2 -o /dev/null -o /dev/null -o /dev/null -w '%{http_code} %{http_version}\n' \
	-H "Authorization: Bearer $BEARER" -H "Cookie: session=$SID" \
	"http://127.0.0.1:$ngx_port/users/4?access_token=$TOK" "http://127.0.0.1:$ngx_port/login" \
	"http://127.0.0.1:$ngx_port/missing" >"$T/codes.up"
# ... and one whose upgraded request gets a Set-Cookie: nghttpx writes that
# response right after its 101, before it reads curl's preface
curl -s --max-time 10 --http2 -o /dev/null -w '%{http_code} %{http_version}\n' \
	"http://127.0.0.1:$ngx_port/login" >>"$T/codes.up"
curl -sk --max-time 10 --http2 -o /dev/null -w '%{http_code} %{http_version}\n' "https://127.0.0.1:$tls_port/ok" >>"$T/codes.tls"
curl -sk --max-time 10 --http2 -o /dev/null -w '%{http_code} %{http_version}\n' "https://127.0.0.1:$tls_port/missing" >>"$T/codes.tls"
sleep 0.5 # the servers' closes
record_stop INT
check_num "beyla record exits 0" "${REC_RC:-none}" -eq 0
check "curl got 200, 404, 500, 201, 200, 200 over HTTP/2" \
	eval '[ "$(tr "\n" " " <"$T/codes")" = "200 2 404 2 500 2 201 2 200 2 200 2 " ]'
check_grep "h2load: $N_H2LOAD requests succeeded" "^requests: $N_H2LOAD total, $N_H2LOAD started, $N_H2LOAD done, $N_H2LOAD succeeded" "$T/h2load.txt"
check "curl --http2 through nghttpx: upgraded, 200 200 404 and 200 over HTTP/2" \
	eval '[ "$(tr "\n" " " <"$T/codes.up")" = "200 2 200 2 404 2 200 2 " ]'
check "curl over TLS: 200 and 404 over HTTP/2 (ALPN)" eval '[ "$(tr "\n" " " <"$T/codes.tls")" = "200 2 404 2 " ]'
check_grep "the recorder's summary: HTTP/2 header values masked, no block masked whole" \
	'HTTP/2: [1-9][0-9]* header value\(s\) masked in [0-9]+ block\(s\), 0 block\(s\) masked whole' "$REC_LOG"

db=$T/h2.db
"$BEYLA" analyze -o "$db" "$cap" >"$T/analyze.txt" 2>&1
check_num "beyla analyze exits 0" $? -eq 0

# --- the Node h2c server and its curl clients ----------------------------------------------------
# (spans of the curl calls: not on h2load's connections nor nghttpx's)
h2l_pid=$(q "$db" "SELECT pid FROM processes WHERE exe LIKE '%/h2load' LIMIT 1")
ngx_pids=$(q "$db" "SELECT group_concat(pid) FROM processes WHERE exe LIKE '%/nghttpx'")
curl_conns="(SELECT conn_id FROM connections WHERE pid IN (SELECT pid FROM processes WHERE exe LIKE '%/curl') AND remote_port=$port)"
srv_conns="(SELECT conn_id FROM connections WHERE pid=$srv AND remote_port IN (SELECT local_port FROM connections WHERE conn_id IN $curl_conns))"
check_num "node: one server span per curl request (6), each on its own connection" \
	"$(q "$db" "SELECT count(DISTINCT conn_id) FROM spans WHERE kind='server' AND pid=$srv AND conn_id IN $srv_conns")" -eq 6
for want in "GET /ok|200|ok|0|3" "GET /missing|404|ok|0|8" "GET /error|500|error|0|6" \
	"POST /upload|201|ok|1000|14" "GET /users/{id}|200|ok|0|27" "GET /login|200|ok|0|8"; do
	IFS='|' read -r name code st rq rs <<<"$want"
	check_num "node server span '$name' exactly once: $code, status $st, bodies $rq/$rs bytes, HTTP/2, complete" \
		"$(q "$db" "SELECT count(*) FROM spans WHERE kind='server' AND pid=$srv AND conn_id IN $srv_conns AND name='$name'
			AND http_status_code=$code AND status='$st' AND request_body_size=$rq AND response_body_size=$rs
			AND protocol_version='2' AND incomplete=0")" -eq 1
	check_num "curl client span '$name' exactly once: $code, bodies $rq/$rs, parent of the server span" \
		"$(q "$db" "SELECT count(*) FROM spans c JOIN spans s ON s.parent_id=c.span_id AND s.kind='server'
			WHERE c.kind='client' AND c.service_name='curl' AND c.name='$name' AND c.http_status_code=$code
			AND c.request_body_size=$rq AND c.response_body_size=$rs AND c.protocol_version='2'
			AND c.incomplete=0 AND s.pid=$srv AND s.name='$name' AND c.trace_id=s.trace_id")" -eq 1
done
check_num "no other span on those connections" \
	"$(q "$db" "SELECT count(*) FROM spans WHERE kind IN ('server','client') AND (conn_id IN $srv_conns OR conn_id IN $curl_conns)")" -eq 12
check_num "url.scheme http from :scheme on the 12" \
	"$(q "$db" "SELECT count(*) FROM span_attributes a JOIN spans s USING (span_id) WHERE a.key='url.scheme'
		AND a.value='http' AND (s.conn_id IN $srv_conns OR s.conn_id IN $curl_conns)")" -eq 12
check_num "the credentials' query shows redacted: access_token=REDACTED&page=REDACTED" \
	"$(q "$db" "SELECT count(*) FROM spans WHERE url_path='/users/3' AND url_query='access_token=REDACTED&page=REDACTED'")" -eq 2

# --- h2load: 100 streams at a time on one connection ------------------------------------------------
check_num "h2load: its $N_H2LOAD client spans on one connection" \
	"$(q "$db" "SELECT count(*) || ':' || count(DISTINCT conn_id) FROM spans WHERE kind='client' AND pid=$h2l_pid" |
		awk -F: '$2 == 1 { print $1 }')" -eq "$N_H2LOAD"
h2l_srv_conns="(SELECT conn_id FROM connections WHERE pid=$srv AND remote_port IN
	(SELECT local_port FROM connections WHERE pid=$h2l_pid))"
for kind in client server; do
	if [ "$kind" = client ]; then where="pid=$h2l_pid"; else where="pid=$srv AND conn_id IN $h2l_srv_conns"; fi
	check_num "h2load ($kind side): $N_H2LOAD spans GET /ok 200, complete, distinct request_index 0..$((N_H2LOAD - 1)) on one conn_id" \
		"$(q "$db" "SELECT CASE WHEN count(DISTINCT conn_id)=1 AND count(DISTINCT request_index)=count(*)
			AND min(request_index)=0 AND max(request_index)=count(*)-1 THEN count(*) ELSE -1 END
			FROM spans WHERE kind='$kind' AND $where AND name='GET /ok' AND http_status_code=200
			AND incomplete=0 AND response_body_size=3 AND protocol_version='2'")" -eq "$N_H2LOAD"
	check_num "h2load ($kind side): no other span" \
		"$(q "$db" "SELECT count(*) FROM spans WHERE kind='$kind' AND $where")" -eq "$N_H2LOAD"
done
check_num "h2load: every server span is the child of one of its client spans (same stream order)" \
	"$(q "$db" "SELECT count(*) FROM spans s JOIN spans c ON s.parent_id=c.span_id WHERE s.kind='server'
		AND c.kind='client' AND c.pid=$h2l_pid AND s.request_index=c.request_index")" -eq "$N_H2LOAD"

# --- curl --http2: HTTP/1.1 Upgrade: h2c, through nghttpx ---------------------------------------------
up_conn=$(q "$db" "SELECT conn_id FROM connections WHERE remote_port=$ngx_port AND requests=3")
check_num "the upgraded connections: HTTP/1.1 then HTTP/2, 3 and 1 requests answered, at curl's end and nghttpx's" \
	"$(q "$db" "SELECT count(*) FROM connections WHERE (remote_port=$ngx_port OR local_port=$ngx_port)
		AND protocol='http/2' AND requests=responses AND requests IN (1, 3)")" -eq 4
check_num "parse_stats conns_upgraded (both ends of both)" \
	"$(q "$db" "SELECT value FROM parse_stats WHERE name='conns_upgraded'")" -eq 4
for want in "0|GET /users/{id}|200|1.1" "1|GET /login|200|2" "2|GET /missing|404|2"; do
	IFS='|' read -r ix name code ver <<<"$want"
	check_num "upgraded connection, request $ix: curl client span and nghttpx server span '$name' $code (HTTP/$ver), paired" \
		"$(q "$db" "SELECT count(*) FROM spans c JOIN spans s ON s.parent_id=c.span_id WHERE c.conn_id=$up_conn
			AND c.kind='client' AND c.request_index=$ix AND c.name='$name' AND c.http_status_code=$code
			AND c.protocol_version='$ver' AND c.incomplete=0 AND s.kind='server' AND s.pid IN ($ngx_pids)
			AND s.name='$name' AND s.http_status_code=$code AND s.incomplete=0")" -eq 1
done
check_num "the upgraded /login: curl client span and nghttpx server span 200 (HTTP/1.1 request, HTTP/2 response), paired" \
	"$(q "$db" "SELECT count(*) FROM spans c JOIN spans s ON s.parent_id=c.span_id WHERE c.conn_id IN
		(SELECT conn_id FROM connections WHERE remote_port=$ngx_port AND requests=1) AND c.kind='client'
		AND c.request_index=0 AND c.name='GET /login' AND c.http_status_code=200 AND c.protocol_version='1.1'
		AND c.incomplete=0 AND s.kind='server' AND s.name='GET /login' AND s.http_status_code=200 AND s.incomplete=0")" -eq 1
check_num "nghttpx's backend connection to node: the 4 requests as HTTP/2 client spans, paired with node's" \
	"$(q "$db" "SELECT count(*) FROM spans c JOIN spans s ON s.parent_id=c.span_id WHERE c.kind='client'
		AND c.pid IN ($ngx_pids) AND c.protocol_version='2' AND c.incomplete=0 AND s.pid=$srv
		AND s.name IN ('GET /users/{id}','GET /login','GET /missing')")" -eq 4

# --- TLS (ALPN h2): the plaintext from node's OpenSSL ------------------------------------------------------
check_num "parse_stats tls_conns_plaintext: the 2 TLS connections of the Node TLS server" \
	"$(q "$db" "SELECT value FROM parse_stats WHERE name='tls_conns_plaintext'")" -eq 2
check_num "parse_stats tls_conns_opaque: none" "$(q "$db" "SELECT value FROM parse_stats WHERE name='tls_conns_opaque'")" -eq 0
check_num "connections: the TLS server's 2, protocol http/2" \
	"$(q "$db" "SELECT count(*) FROM connections WHERE pid=$tls_srv AND protocol='http/2' AND requests=1 AND responses=1")" -eq 2
for want in "GET /ok|200|3" "GET /missing|404|8"; do
	IFS='|' read -r name code rs <<<"$want"
	check_num "TLS server span '$name' exactly once: $code, HTTP/2, https, $rs bytes, complete" \
		"$(q "$db" "SELECT count(*) FROM spans WHERE kind='server' AND pid=$tls_srv AND name='$name' AND http_status_code=$code
			AND protocol_version='2' AND response_body_size=$rs AND incomplete=0 AND span_id IN
			(SELECT span_id FROM span_attributes WHERE key='url.scheme' AND value='https')")" -eq 1
done
check_num "no other span from the TLS server" "$(q "$db" "SELECT count(*) FROM spans WHERE pid=$tls_srv AND kind <> 'internal'")" -eq 2
check_no_grep "analyze has no TLS connection to explain" 'encrypted \(TLS\) with no plaintext' "$T/analyze.txt"

# --- credentials ---------------------------------------------------------------------------------------
zstd -dc "$cap" >"$T/h2.raw" 2>/dev/null
"$VPY" "$E2E_ROOT/tests/e2e/h2_secrets.py" "$T/h2.raw" "$BEARER" "$SID" "$TOK" "$SETC" >"$T/secrets.txt"
check "the decompressed capture holds no secret, raw or Huffman-coded at any bit offset" \
	eval '[ "$(grep -c " raw=0 huffman=0$" "$T/secrets.txt")" -eq 4 ]'
"$BEYLA" info --dump "$cap" >"$T/dump.txt" 2>&1
check_num "info --dump shows no secret" "$(grep -c -E "$BEARER|$SID|$TOK|$SETC" "$T/dump.txt")" -eq 0
check_num "the database holds no secret" "$(sqlite3 "$db" .dump | grep -c -E "$BEARER|$SID|$TOK|$SETC")" -eq 0
check_num "curl's command line kept, its credentials masked" \
	"$(q "$db" "SELECT count(*) FROM processes WHERE cmdline LIKE '%Authorization: ****%' AND cmdline LIKE '%access_token=****%'")" -eq 2

# --- recording 2: begins mid-connection --------------------------------------------------------------------
H2_AUTH="Bearer $MBEARER" H2_COOKIE="session=$MSID" start_bg h2cli node "$SERVERS/h2_client.js" "$port" "$T/go"
cli=$BG_PID
for ((i = 0; i < 200; i++)); do
	grep -q '^before done$' "$T/h2cli.log" 2>/dev/null && break
	sleep 0.05
done
check_grep "the Node client made its first requests on its session" '^before done$' "$T/h2cli.log"
cap2=$T/mid.bz.zst
record_start "$cap2" --port "$port" || bail "beyla record starts (mid-connection)" "$(tail -n 5 "$REC_LOG")"
touch "$T/go"
for ((i = 0; i < 200; i++)); do
	kill -0 "$cli" 2>/dev/null || break
	sleep 0.05
done
sleep 0.3
record_stop INT
check_num "mid-connection: beyla record exits 0" "${REC_RC:-none}" -eq 0
check "mid-connection: the client's 7 later requests answered 200 200 404 500 201 200 200" \
	eval '[ "$(sed -n "/^before done$/,\$p" "$T/h2cli.log" | sed 1d | cut -d" " -f1 | tr "\n" " ")" = "200 200 404 500 201 200 200 " ]'
# 7 streams, a request and a response block each, read and written: 28 records' blocks
check_grep "mid-connection: the recorder masked every header block whole (its tables are unknown)" \
	'HTTP/2: 0 header value\(s\) masked in 28 block\(s\), 28 block\(s\) masked whole' "$REC_LOG"
db2=$T/mid.db
"$BEYLA" analyze -o "$db2" "$cap2" >"$T/mid.txt" 2>&1
check_num "mid-connection: beyla analyze exits 0" $? -eq 0
check_num "mid-connection: both ends joined the connection (preexisting, HTTP/2)" \
	"$(q "$db2" "SELECT count(*) FROM connections WHERE role='preexisting' AND protocol='http/2' AND requests=7 AND responses=7")" -eq 2
for kind in server client; do
	check_num "mid-connection: 7 $kind spans, one per later stream, distinct request_index, complete, HTTP/2" \
		"$(q "$db2" "SELECT CASE WHEN count(DISTINCT request_index)=count(*) THEN count(*) END FROM spans
			WHERE kind='$kind' AND incomplete=0 AND protocol_version='2'")" -eq 7
	check_num "mid-connection: no $kind span shows a method, path, route or status code it could not decode" \
		"$(q "$db2" "SELECT count(*) FROM spans WHERE kind='$kind' AND (http_method IS NOT NULL OR url_path IS NOT NULL
			OR http_route IS NOT NULL OR http_status_code IS NOT NULL OR status <> 'unset')")" -eq 0
	sizes=$(q "$db2" "SELECT group_concat(request_body_size || '/' || response_body_size, ' ') FROM
		(SELECT * FROM spans WHERE kind='$kind' ORDER BY request_index)")
	check "mid-connection: $kind body sizes still exact (from DATA frames): a 1000-byte request, responses 3 27 8 6 14 3 27 ($sizes)" \
		test "$sizes" = "0/3 0/27 0/8 0/6 1000/14 0/3 0/27"
done
check_num "mid-connection: parse_stats http2_headers_lost counts the 28 blocks" \
	"$(q "$db2" "SELECT value FROM parse_stats WHERE name='http2_headers_lost'")" -eq 28
check_num "mid-connection: each server span the child of its client span" \
	"$(q "$db2" "SELECT count(*) FROM spans s JOIN spans c ON s.parent_id=c.span_id WHERE s.kind='server'
		AND c.kind='client' AND s.request_index=c.request_index")" -eq 7
zstd -dc "$cap2" >"$T/mid.raw" 2>/dev/null
"$VPY" "$E2E_ROOT/tests/e2e/h2_secrets.py" "$T/mid.raw" "$MBEARER" "$MSID" >"$T/mid-secrets.txt"
check "mid-connection: no secret in the decompressed capture, raw or Huffman-coded" \
	eval '[ "$(grep -c " raw=0 huffman=0$" "$T/mid-secrets.txt")" -eq 2 ]'

finish
