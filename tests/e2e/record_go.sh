#!/usr/bin/env bash
# e2e-timeout: 300
# record_go.sh - Go servers through the Go uprobes (issue 6), for each build
# of tests/servers/go/goserver: Go 1.26 and Debian's Go 1.19, each with and
# without symbols (-ldflags='-s -w': functions from .gopclntab, offsets from
# the version table).
#
# For each build: a downstream goserver (Go 1.26, HTTPS) and the server under
# test, which /call and /call-async call with http.Client (on the handler's
# goroutine, and on a goroutine it starts).  curl sends a known mix over HTTP
# and HTTPS, once without recording (reference bodies) and once recorded with
# -p; then SQL on the analysis asserts: every request exactly once with its
# method, route and status; HTTPS spans parsed from plaintext (url.scheme
# https); every downstream call a client span whose parent is the handler's
# server span, in its trace; the handler's start taken as processing start;
# the same response bodies with and without probes; the server exits 0.
#
# HTTP/2 (issue 16): the server's third listener serves HTTPS as Go does by
# default (h2 by ALPN).  curl's default there speaks HTTP/2, --http1.1 the
# same server's HTTP/1.1; the same mix goes both ways, and a handler that
# sleeps a known time checks that processing is the handler's run.  Then
# curl --parallel sends requests with different paths and run times as
# concurrent streams on one connection: each handler must be paired with its
# own stream (its run time is its own path's), and /call's client span must
# be under /call's server span.
#
# h2c (Go 1.24 and later): the server's fourth listener speaks HTTP/2
# without TLS, which Go's server tells from HTTP/1.1 by reading the client
# preface in two pieces ("PRI * HTTP/2.0", then the rest).  curl
# --http2-prior-knowledge sends a mix there, one request with credentials
# that must not reach the capture in any encoding, and h2load concurrent
# streams of different handler run times on one connection: each request
# once, with its handler, paired by stream.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
require_recording_env
need curl wrk sqlite3 ss h2load zstd
VPY=$BEYLA_VENV/bin/python
[ -x "$VPY" ] && "$VPY" -c 'import hpack' 2>/dev/null || bail "the test venv has hpack" "run: sudo bash scripts/setup.sh"

GO_BIN=$E2E_ROOT/build/go
bash "$E2E_ROOT/scripts/build_go_servers.sh" "$GO_BIN" >"$T/build.log" 2>&1 ||
	bail "the Go test servers build (scripts/build_go_servers.sh)" "$(tail -n 5 "$T/build.log")"

N=4        # requests of each kind
H2N=2      # requests of each kind over the HTTP/2-capable listener, per protocol
SLEEP_MS=100
WRK_CONNS=4
# Concurrent streams on one HTTP/2 connection, PAR_ROUNDS connections one
# after the other: /sleep/{ms} of these run times, an /items and a /call.
# Go starts their handlers on goroutines of their own, in whatever order its
# scheduler picks (here about 4 connections in 10 not in stream order), so
# pairing by order alone would give some request another's handler: then at
# least one /sleep span gets a handler that ran shorter than its own sleep
# (or none), which the checks below catch.
PAR_SLEEPS=$(seq 0 10 150)
PAR_ROUNDS=2
H2CN=2               # requests of each kind over h2c
H2C_SLEEPS="0 40 80" # h2load's concurrent streams over h2c: /sleep/{ms}
H2C_LOAD=30
H2C_BEARER=h2cGoBearer$RANDOM$RANDOM

# traffic OUTDIR: the mix; each response body in OUTDIR/<n>.body, and
# "<status>" lines in OUTDIR/codes.
traffic() {
	local out=$1 i k=0
	mkdir -p "$out"
	: >"$out/codes"
	req() {
		k=$((k + 1))
		curl -sk --max-time 10 -o "$out/$k.body" -w '%{http_code}\n' "$@" >>"$out/codes"
	}
	for ((i = 1; i <= N; i++)); do
		req "http://$GS_HTTP/hello"
		req "https://$GS_HTTPS/items/$i"
		req -X POST --data-binary "payload-$i" "https://$GS_HTTPS/echo"
		req "https://$GS_HTTPS/status/503"
		req "https://$GS_HTTPS/call"
		req "http://$GS_HTTP/call-async"
	done
	# keep-alive over TLS: N requests on one connection
	args=()
	for ((i = 1; i <= N; i++)); do
		args+=(-o "$out/ka$i.body" "https://$GS_HTTPS/items/$((100 + i))")
	done
	curl -sk --max-time 10 -w '%{http_code}\n' "${args[@]}" >>"$out/codes"

	# Go's default HTTPS: HTTP/2 by ALPN (curl's default) and HTTP/1.1
	: >"$out/codes-h2"
	local v flag
	for v in 2 1.1; do
		flag=
		[ "$v" = 1.1 ] && flag=--http1.1
		h2req() {
			k=$((k + 1))
			curl -sk $flag --max-time 10 -o "$out/$k.body" -w "$v %{http_version} %{http_code}\n" "$@" >>"$out/codes-h2"
		}
		for ((i = 1; i <= H2N; i++)); do
			h2req "https://$GS_H2/items/$((200 + i))"
			h2req -X POST --data-binary "payload-h2-$i" "https://$GS_H2/echo"
			h2req "https://$GS_H2/status/503"
			h2req "https://$GS_H2/call"
			h2req "https://$GS_H2/call-async"
		done
		# a handler of known run time, on a connection already up (its
		# queue is not the TLS handshake)
		curl -sk $flag --max-time 10 -w "$v %{http_version} %{http_code}\n" \
			-o "$out/sleep-$v.0.body" "https://$GS_H2/items/300" \
			-o "$out/sleep-$v.1.body" "https://$GS_H2/sleep/$SLEEP_MS" >>"$out/codes-h2"
	done
	# one HTTP/2 connection past 64 KiB of requests: a 100 kB POST, then a
	# GET on the same connection
	curl -sk --max-time 10 -w '2 %{http_version} %{http_code}\n' --data-binary "@$T/big.bin" \
		-o "$out/big-echo.body" "https://$GS_H2/echo" --next -sk --max-time 10 \
		-w '2 %{http_version} %{http_code}\n' -o "$out/big-next.body" "https://$GS_H2/items/400" >>"$out/codes-h2"
	# and past 64 KiB in small frames: h2load's POSTs of 2000 bytes, 4 at a time
	h2load -n "$H2LOAD_N" -c 1 -m 4 -d "$T/2k.bin" "https://$GS_H2/echo" >"$out-h2load.txt" 2>&1
	# h2c, prior knowledge (Go 1.24 and later)
	: >"$out/codes-h2c"
	if [ "$GS_H2C" != none ]; then
		h2creq() {
			k=$((k + 1))
			curl -s --http2-prior-knowledge --max-time 10 -o "$out/$k.body" -w '%{http_version} %{http_code}\n' "$@" \
				>>"$out/codes-h2c"
		}
		for ((i = 1; i <= H2CN; i++)); do
			h2creq "http://$GS_H2C/items/$((500 + i))"
			h2creq -X POST --data-binary "payload-h2c-$i" "http://$GS_H2C/echo"
			h2creq "http://$GS_H2C/status/503"
			h2creq "http://$GS_H2C/call"
		done
		h2creq -H "Authorization: Bearer $H2C_BEARER" "http://$GS_H2C/items/600"
		h2creq "http://$GS_H2C/sleep/$SLEEP_MS"
		args=()
		for ms in $H2C_SLEEPS; do
			args+=("http://$GS_H2C/sleep/$ms")
		done
		h2load -n "$H2C_LOAD" -c 1 -m 10 "${args[@]}" >"$out-h2c-load.txt" 2>&1
	fi
	# concurrent streams on one connection, different paths
	for ((r = 1; r <= PAR_ROUNDS; r++)); do
		args=()
		for ms in $PAR_SLEEPS; do
			args+=(-o "$out/par$r-sleep-$ms.body" "https://$GS_H2/sleep/$ms")
		done
		args+=(-o "$out/par$r-items.body" "https://$GS_H2/items/77" -o "$out/par$r-call.body" "https://$GS_H2/call")
		curl -sk --max-time 10 --parallel --parallel-max 32 -w '2 %{http_version} %{http_code}\n' "${args[@]}" \
			>>"$out/codes-h2"
	done
}

head -c 100000 /dev/urandom >"$T/big.bin"
head -c 2000 /dev/urandom >"$T/2k.bin"
H2LOAD_N=64 # x 2000 bytes: past 64 KiB on one connection

start_goserver down "$GO_BIN/goserver-go1.26" || bail "the downstream goserver starts" "$(tail -n 3 "$T/down.log")"
down_pid=$GS_PID down_https=$GS_HTTPS

for build in ${GO_BUILDS:-go1.26 go1.26-stripped go1.19 go1.19-stripped}; do
	bin=$GO_BIN/goserver-$build
	# reference: the same build, never probed
	start_goserver "ref-$build" "$bin" -downstream "https://$down_https" ||
		{ _not_ok "$build: goserver starts" "$(tail -n 3 "$T/ref-$build.log")"; continue; }
	traffic "$T/ref-$build"
	kill -TERM "$GS_PID"
	wait "$GS_PID"
	check_num "$build: the unprobed server exits 0 on SIGTERM" $? -eq 0

	# A fresh process, recorded from before its first connection: a TLS
	# read already waiting when the probes are attached cannot be seen
	# (its entry probe never ran), see docs/go.md.
	start_goserver "srv-$build" "$bin" -downstream "https://$down_https" ||
		{ _not_ok "$build: goserver starts" "$(tail -n 3 "$T/srv-$build.log")"; continue; }
	srv=$GS_PID
	cap=$T/$build.bz.zst
	record_start "$cap" --go=full -p "$srv" -p "$down_pid" ||
		{ _not_ok "$build: beyla record starts" "$(tail -n 5 "$REC_LOG")"; stop_bg "$srv"; continue; }
	traffic "$T/rec-$build"
	# and under load: wrk over HTTPS, keep-alive
	wrk -t1 -c"$WRK_CONNS" -d2s "https://$GS_HTTPS/hello" >"$T/wrk-$build.txt" 2>&1
	wrk_reqs=$(awk '/ requests in / { print $1 }' "$T/wrk-$build.txt")
	sleep 0.3
	record_stop INT
	check_num "$build: beyla record exits 0" "${REC_RC:-none}" -eq 0

	# the program must not notice: same answers, clean exit
	check "$build: every response body is the same with and without probes" \
		diff -r "$T/ref-$build" "$T/rec-$build"
	check_num "$build: curl got the expected codes" \
		"$(grep -c '^200$' "$T/rec-$build/codes")" -eq $((5 * N + N))
	kill -TERM "$srv"
	wait "$srv"
	check_num "$build: the probed server exits 0 on SIGTERM" $? -eq 0

	"$BEYLA" info "$cap" >"$T/$build.info" 2>&1
	# the probes placed in this build (the downstream's are listed too)
	awk -v b="/goserver-$build " '/^  \// { on = index($0, b) > 0 } on' "$T/$build.info" >"$T/$build.probes"
	for fn in 'net/http.serverHandler.ServeHTTP' 'net/http.\(\*response\).finishRequest' \
		'net/http(/internal/http2)?\.\(\*(http2)?responseWriter\)\.handlerDone' 'crypto/tls.\(\*Conn\).Read' \
		'crypto/tls.\(\*Conn\).Write' 'net/http.\(\*Transport\).roundTrip'; do
		check_grep "$build: Go probe $fn attached" "^ +$fn +attached" "$T/$build.probes"
	done
	if [ "${build#go1.19}" != "$build" ]; then
		check_grep "$build: runtime.newproc1 attached (no g.parentGoid before Go 1.21)" \
			'^ +runtime.newproc1 +attached' "$T/$build.probes"
	else
		check_grep "$build: runtime.newproc1 not needed (g.parentGoid)" \
			'^ +runtime.newproc1 +skipped +not needed' "$T/$build.probes"
	fi
	if [ "${build%-stripped}" != "$build" ]; then
		check_grep "$build: stripped binary, offsets from the version table" \
			"goserver-$build \(go1\.[0-9.]+, .*stripped, offsets from the version table\)" "$T/$build.info"
	fi

	DB=$T/$build.db
	"$BEYLA" analyze -q -o "$DB" "$cap" >"$T/$build.analyze" 2>&1
	check_num "$build: beyla analyze exits 0" $? -eq 0
	q() { sqlite3 -batch -noheader "$DB" "$1" 2>&1; }
	h2port=${GS_H2##*:}
	h2cport=0 h2c_calls=0
	if [ "$GS_H2C" != none ]; then
		h2cport=${GS_H2C##*:} h2c_calls=$H2CN
	fi
	# the HTTP/1.1-only listeners; the HTTP/2-capable ones are checked below
	S="kind='server' AND pid=$srv AND server_port NOT IN ($h2port, $h2cport)"
	# downstream calls: /call and /call-async on every listener, and the
	# concurrent streams' /call
	ncalls=$((2 * N + 2 * 2 * H2N + PAR_ROUNDS + h2c_calls))
	scheme() { # scheme of span: 'http' / 'https'
		echo "(SELECT value FROM span_attributes a WHERE a.span_id=spans.span_id AND a.key='url.scheme')"
	}
	check_num "$build: GET /hello over HTTP, once each, 200" \
		"$(q "SELECT count(*) FROM spans WHERE $S AND name='GET /hello' AND http_status_code=200 AND $(scheme)='http'")" -eq "$N"
	check_num "$build: GET /items/{id} over HTTPS (plaintext parsed), 200" \
		"$(q "SELECT count(*) FROM spans WHERE $S AND name='GET /items/{id}' AND http_status_code=200 AND $(scheme)='https'")" -eq $((2 * N))
	check_num "$build: POST /echo over HTTPS with its body size" \
		"$(q "SELECT count(*) FROM spans WHERE $S AND name='POST /echo' AND request_body_size=length('payload-1') AND $(scheme)='https'")" -eq "$N"
	check_num "$build: GET /status/{id} over HTTPS: 503, status error" \
		"$(q "SELECT count(*) FROM spans WHERE $S AND http_route='/status/{id}' AND http_status_code=503 AND status='error'")" -eq "$N"
	check_num "$build: /call and /call-async served" \
		"$(q "SELECT count(*) FROM spans WHERE $S AND http_route IN ('/call','/call-async') AND http_status_code=200")" -eq $((2 * N))
	# wrk counts the responses it read; the requests in flight when it
	# stopped were served but not counted
	check_between "$build: wrk's HTTPS load: one server span per request" \
		"$(q "SELECT count(*) FROM spans WHERE $S AND name='GET /hello' AND $(scheme)='https' AND http_status_code=200")" \
		"${wrk_reqs:-1}" $((${wrk_reqs:-0} + WRK_CONNS))
	check_num "$build: no other server span of the server (each request once)" \
		"$(q "SELECT count(*) FROM spans WHERE $S AND NOT (name='GET /hello' AND $(scheme)='https')")" -eq $((7 * N))
	check_num "$build: no incomplete span but those wrk cut off" "$(q "SELECT count(*) FROM spans WHERE pid=$srv AND incomplete=1")" -le "$WRK_CONNS"
	check_num "$build: every downstream call is a client span (GET /hello over HTTPS)" \
		"$(q "SELECT count(*) FROM spans WHERE kind='client' AND pid=$srv AND name='GET /hello' AND http_status_code=200 AND $(scheme)='https'")" -eq "$ncalls"
	check_num "$build: every client span's parent is its handler's server span, same trace" \
		"$(q "SELECT count(*) FROM spans c JOIN spans p ON p.span_id=c.parent_id
		      WHERE c.kind='client' AND c.pid=$srv AND p.kind='server' AND p.pid=$srv
		        AND p.http_route IN ('/call','/call-async') AND c.trace_id=p.trace_id
		        AND c.start_ns >= p.start_ns AND c.end_ns <= p.end_ns")" -eq "$ncalls"
	check_num "$build: the downstream's server span is the child of the client span that called it (both ends recorded)" \
		"$(q "SELECT count(*) FROM spans d JOIN spans c ON c.span_id=d.parent_id
		      WHERE d.kind='server' AND d.pid=$down_pid AND c.kind='client' AND c.pid=$srv
		        AND d.trace_id=c.trace_id AND d.http_route='/hello'")" -eq "$ncalls"
	check_num "$build: each handler has exactly one child call" \
		"$(q "SELECT count(DISTINCT parent_id) FROM spans WHERE kind='client' AND pid=$srv")" -eq "$ncalls"
	check_num "$build: every server span matched a Go handler run" \
		"$(q "SELECT value FROM parse_stats WHERE name='go_handlers_matched'")" -ge $((7 * N + ${wrk_reqs:-0}))
	check_num "$build: every server span carries its Go handler's run time" \
		"$(q "SELECT count(*) FROM spans s JOIN span_attributes a ON a.span_id=s.span_id AND a.key='beyla.go.handler_ns' WHERE $S AND incomplete=0")" -eq "$(q "SELECT count(*) FROM spans WHERE $S AND incomplete=0")"
	check_num "$build: processing (handler start to last byte written) covers the handler's run" \
		"$(q "SELECT count(*) FROM spans s JOIN span_attributes a ON a.span_id=s.span_id AND a.key='beyla.go.handler_ns' WHERE $S AND s.processing_ns < CAST(a.value AS INTEGER)")" -eq 0
	check_num "$build: in queue + processing = duration, for every server span" \
		"$(q "SELECT count(*) FROM spans WHERE $S AND queue_ns + processing_ns + coalesce(tx_queue_ns, 0) <> duration_ns")" -eq 0
	check_num "$build: children tile each server span" \
		"$(q "SELECT count(*) FROM spans s WHERE $S AND (SELECT sum(duration_ns) FROM spans k WHERE k.parent_id=s.span_id AND k.kind='internal') <> s.duration_ns")" -eq 0
	check_num "$build: TLS connections parsed from plaintext" \
		"$(q "SELECT value FROM parse_stats WHERE name='tls_conns_plaintext'")" -ge $((4 * N + 3))

	# --- HTTP/2 and HTTP/1.1 from Go's default HTTPS server ---
	H="kind='server' AND pid=$srv AND server_port=$h2port"
	npar=$(($(wc -w <<<"$PAR_SLEEPS") + 2)) # streams per connection
	check_num "$build: curl spoke HTTP/2 and HTTP/1.1 as asked, every answer as expected" \
		"$(awk '$1 == $2 && ($3 == 200 || $3 == 503) { n++ } END { print n + 0 }' "$T/rec-$build/codes-h2")" \
		-eq $((2 * (5 * H2N + 2) + 2 + PAR_ROUNDS * npar))
	# the connections of the concurrent streams (below)
	pcs=$(q "SELECT group_concat(conn_id) FROM spans WHERE $H AND url_path='/items/77'")
	for v in 2 1.1; do
		P="$H AND protocol_version='$v'"
		par=0 # the concurrent streams' /items and /call are HTTP/2
		[ "$v" = 2 ] && par=$PAR_ROUNDS
		big=0 # and the GET after 100 kB
		[ "$v" = 2 ] && big=1
		check_num "$build: HTTP/$v: GET /items/{id}, once each, 200, https" \
			"$(q "SELECT count(*) FROM spans WHERE $P AND name='GET /items/{id}' AND http_status_code=200 AND $(scheme)='https' AND response_body_size>0")" \
			-eq $((H2N + 1 + par + big))
		check_num "$build: HTTP/$v: POST /echo with its request and response sizes" \
			"$(q "SELECT count(*) FROM spans WHERE $P AND name='POST /echo' AND http_status_code=200 AND request_body_size=length('payload-h2-1') AND response_body_size=length('payload-h2-1')")" -eq "$H2N"
		check_num "$build: HTTP/$v: GET /status/{id}: 503, status error" \
			"$(q "SELECT count(*) FROM spans WHERE $P AND http_route='/status/{id}' AND http_status_code=503 AND status='error'")" -eq "$H2N"
		check_num "$build: HTTP/$v: every server span has its Go handler's run time" \
			"$(q "SELECT count(*) FROM spans s JOIN span_attributes a ON a.span_id=s.span_id AND a.key='beyla.go.handler_ns' WHERE $P AND incomplete=0")" \
			-eq "$(q "SELECT count(*) FROM spans WHERE $P")"
		check_num "$build: HTTP/$v: processing (handler start to last byte) covers the handler's run" \
			"$(q "SELECT count(*) FROM spans s JOIN span_attributes a ON a.span_id=s.span_id AND a.key='beyla.go.handler_ns' WHERE $P AND s.processing_ns < CAST(a.value AS INTEGER)")" -eq 0
		# the handler that sleeps: processing is its run, in queue is not
		check_num "$build: HTTP/$v: /sleep/$SLEEP_MS: handler run and processing >= $SLEEP_MS ms, in queue < 20 ms" \
			"$(q "SELECT count(*) FROM spans s JOIN span_attributes a ON a.span_id=s.span_id AND a.key='beyla.go.handler_ns'
			      WHERE $P AND url_path='/sleep/$SLEEP_MS' AND conn_id NOT IN (${pcs:-0}) AND http_status_code=200
			        AND CAST(a.value AS INTEGER) >= $SLEEP_MS * 1000000 AND processing_ns >= CAST(a.value AS INTEGER)
			        AND processing_ns < ($SLEEP_MS + 20) * 1000000 AND queue_ns < 20000000")" -eq 1
		check_num "$build: HTTP/$v: /call and /call-async: each one client span, child of its handler's server span" \
			"$(q "SELECT count(*) FROM spans c JOIN spans p ON p.span_id=c.parent_id
			      WHERE c.kind='client' AND c.pid=$srv AND p.http_route IN ('/call','/call-async')
			        AND p.protocol_version='$v' AND p.server_port=$h2port AND c.trace_id=p.trace_id
			        AND c.start_ns >= p.start_ns AND c.end_ns <= p.end_ns")" -eq $((2 * H2N + par))
	done
	check_num "$build: no other server span on the HTTP/2-capable listener (each request once)" \
		"$(q "SELECT count(*) FROM spans WHERE $H")" -eq $((2 * (5 * H2N + 2) + 2 + H2LOAD_N + PAR_ROUNDS * npar))
	# the capture follows the frames of a connection past 64 KiB of requests
	# (a frame misread there once swallowed everything after 64 KiB)
	bc=$(q "SELECT conn_id FROM spans WHERE $H AND http_method='POST' AND request_body_size=100000")
	check_num "$build: HTTP/2: a 100 kB POST, its sizes, then a GET on the same connection, with its handler" \
		"$(q "SELECT count(*) FROM spans s JOIN span_attributes a ON a.span_id=s.span_id AND a.key='beyla.go.handler_ns'
		      WHERE $H AND conn_id=${bc:-0} AND protocol_version='2' AND http_status_code=200
		        AND ((url_path='/echo' AND response_body_size=100000) OR url_path='/items/400')")" -eq 2
	check_grep "$build: h2load: $H2LOAD_N POSTs of 2000 bytes on one connection answered" \
		"requests: $H2LOAD_N total, $H2LOAD_N started, $H2LOAD_N done, $H2LOAD_N succeeded" "$T/rec-$build-h2load.txt"
	W="$H AND url_path='/echo' AND protocol_version='2' AND http_status_code=200 AND request_body_size=2000 AND response_body_size=2000"
	check_num "$build: h2load: each of them a span with its sizes and its handler" \
		"$(q "SELECT count(*) FROM spans s JOIN span_attributes a ON a.span_id=s.span_id AND a.key='beyla.go.handler_ns' WHERE $W")" -eq "$H2LOAD_N"
	check_num "$build: h2load: all on one connection" "$(q "SELECT count(DISTINCT conn_id) FROM spans WHERE $W")" -eq 1
	# concurrent streams: one connection per round, each handler with its own stream
	check_num "$build: curl --parallel: $PAR_ROUNDS connections of $npar concurrent HTTP/2 streams each" \
		"$(q "SELECT count(*) FROM (SELECT conn_id FROM spans WHERE $H AND conn_id IN (${pcs:-0}) AND protocol_version='2'
		      GROUP BY conn_id HAVING count(*) = $npar)")" -eq "$PAR_ROUNDS"
	check_num "$build: curl --parallel: the streams overlapped (most were open with /sleep/150)" \
		"$(q "SELECT count(*) FROM spans a JOIN spans b ON a.conn_id=b.conn_id AND a.span_id<>b.span_id
		      WHERE a.conn_id IN (${pcs:-0}) AND a.kind='server' AND b.kind='server' AND a.url_path='/sleep/150'
		        AND b.start_ns < a.end_ns AND b.end_ns > a.start_ns")" -ge $((PAR_ROUNDS * npar / 2))
	# A handler paired with another stream's request: among requests whose
	# handlers run different times, one then has a handler shorter than its
	# own sleep, or none.
	check_num "$build: concurrent streams: each /sleep/{ms} has its own handler (run >= ms, < ms + 100)" \
		"$(q "SELECT count(*) FROM spans s JOIN span_attributes a ON a.span_id=s.span_id AND a.key='beyla.go.handler_ns'
		      WHERE s.kind='server' AND s.conn_id IN (${pcs:-0}) AND s.url_path LIKE '/sleep/%' AND s.http_status_code=200
		        AND CAST(a.value AS INTEGER) >= CAST(substr(s.url_path, 8) AS INTEGER) * 1000000
		        AND CAST(a.value AS INTEGER) < (CAST(substr(s.url_path, 8) AS INTEGER) + 100) * 1000000
		        AND s.processing_ns >= CAST(a.value AS INTEGER)")" -eq $((PAR_ROUNDS * (npar - 2)))
	check_num "$build: concurrent streams: /call's client span's parent is its /call server span" \
		"$(q "SELECT count(*) FROM spans c JOIN spans p ON p.span_id=c.parent_id
		      WHERE c.kind='client' AND c.pid=$srv AND p.conn_id IN (${pcs:-0}) AND p.http_route='/call'
		        AND c.trace_id=p.trace_id AND c.start_ns >= p.start_ns AND c.end_ns <= p.end_ns")" -eq "$PAR_ROUNDS"
	check_num "$build: concurrent streams: no other span is parented by them" \
		"$(q "SELECT count(*) FROM spans c JOIN spans p ON p.span_id=c.parent_id WHERE c.kind='client' AND p.conn_id IN (${pcs:-0})")" -eq "$PAR_ROUNDS"
	# --- h2c: HTTP/2 without TLS, the preface read in two pieces ---
	nh2c=0
	if [ "$GS_H2C" != none ]; then
		C="kind='server' AND pid=$srv AND server_port=$h2cport AND protocol_version='2' AND $(scheme)='http'"
		nh2c=$((4 * H2CN + 2 + H2C_LOAD))
		check_num "$build: h2c: curl spoke HTTP/2 with prior knowledge, every answer as expected" \
			"$(grep -Ec '^2 (200|503)$' "$T/rec-$build/codes-h2c")" -eq $((4 * H2CN + 2))
		check_grep "$build: h2c: h2load's $H2C_LOAD concurrent streams answered" \
			"requests: $H2C_LOAD total, $H2C_LOAD started, $H2C_LOAD done, $H2C_LOAD succeeded" "$T/rec-$build-h2c-load.txt"
		check_num "$build: h2c: the connections are HTTP/2 (not 'not HTTP')" \
			"$(q "SELECT count(*) FROM connections WHERE pid=$srv AND local_port=$h2cport AND protocol='http/2'")" -eq $((4 * H2CN + 3))
		check_num "$build: h2c: GET /items/{id}, once each, 200" \
			"$(q "SELECT count(*) FROM spans WHERE $C AND name='GET /items/{id}' AND http_status_code=200 AND response_body_size>0")" -eq $((H2CN + 1))
		check_num "$build: h2c: POST /echo with its request and response sizes" \
			"$(q "SELECT count(*) FROM spans WHERE $C AND name='POST /echo' AND request_body_size=length('payload-h2c-1') AND response_body_size=length('payload-h2c-1')")" -eq "$H2CN"
		check_num "$build: h2c: GET /status/{id}: 503, status error" \
			"$(q "SELECT count(*) FROM spans WHERE $C AND http_route='/status/{id}' AND http_status_code=503 AND status='error'")" -eq "$H2CN"
		check_num "$build: h2c: /call: one client span each, child of its handler's server span" \
			"$(q "SELECT count(*) FROM spans c JOIN spans p ON p.span_id=c.parent_id
			      WHERE c.kind='client' AND c.pid=$srv AND p.http_route='/call' AND p.server_port=$h2cport
			        AND c.trace_id=p.trace_id AND c.start_ns >= p.start_ns AND c.end_ns <= p.end_ns")" -eq "$H2CN"
		check_num "$build: h2c: every span has its Go handler's run time, processing covers it" \
			"$(q "SELECT count(*) FROM spans JOIN span_attributes a ON a.span_id=spans.span_id AND a.key='beyla.go.handler_ns'
			      WHERE $C AND spans.processing_ns >= CAST(a.value AS INTEGER)")" -eq "$nh2c"
		check_num "$build: h2c: /sleep/$SLEEP_MS alone: processing >= $SLEEP_MS ms, in queue < 20 ms" \
			"$(q "SELECT count(*) FROM spans WHERE $C AND url_path='/sleep/$SLEEP_MS' AND processing_ns >= $SLEEP_MS * 1000000
			        AND processing_ns < ($SLEEP_MS + 20) * 1000000 AND queue_ns < 20000000")" -eq 1
		check_num "$build: h2c: h2load's streams: each /sleep/{ms} has its own handler (run >= ms, < ms + 100)" \
			"$(q "SELECT count(*) FROM spans JOIN span_attributes a ON a.span_id=spans.span_id AND a.key='beyla.go.handler_ns'
			      WHERE $C AND url_path LIKE '/sleep/%' AND url_path<>'/sleep/$SLEEP_MS' AND http_status_code=200
			        AND CAST(a.value AS INTEGER) >= CAST(substr(url_path, 8) AS INTEGER) * 1000000
			        AND CAST(a.value AS INTEGER) < (CAST(substr(url_path, 8) AS INTEGER) + 100) * 1000000")" -eq "$H2C_LOAD"
		check_num "$build: h2c: h2load's streams overlapped on one connection" \
			"$(q "SELECT count(DISTINCT a.span_id) FROM spans a JOIN spans b ON a.conn_id=b.conn_id AND a.span_id<>b.span_id
			      WHERE a.server_port=$h2cport AND a.kind='server' AND b.kind='server' AND a.url_path LIKE '/sleep/%'
			        AND a.url_path<>'/sleep/$SLEEP_MS' AND b.start_ns < a.end_ns AND b.end_ns > a.start_ns")" -ge $((H2C_LOAD / 2))
		check_num "$build: h2c: no other server span on the h2c listener" \
			"$(q "SELECT count(*) FROM spans WHERE kind='server' AND pid=$srv AND server_port=$h2cport")" -eq "$nh2c"
		zstd -dc "$cap" >"$T/$build.raw" 2>/dev/null
		"$VPY" "$E2E_ROOT/tests/e2e/h2_secrets.py" "$T/$build.raw" "$H2C_BEARER" >"$T/$build.secrets"
		check "$build: h2c: the bearer token is in the capture in no encoding ($(tr '\n' ' ' <"$T/$build.secrets"))" \
			grep -qx "$H2C_BEARER raw=0 huffman=0" "$T/$build.secrets"
	fi
	check_num "$build: every HTTP/2 handler paired with its request by stream id" \
		"$(q "SELECT value FROM parse_stats WHERE name='go_h2_handlers_by_stream'")" -eq \
		"$(($(q "SELECT count(*) FROM spans WHERE $H AND protocol_version='2'") + nh2c))"
done

# --go=fast: no single-stepped probe.  The HTTPS requests served come from
# the handler's *http.Request, the responses from the crypto/tls writes; the
# crypto/tls reads are probed at their plaintext copy (an emulated CALL), so
# /call's downstream HTTPS call (http.Client) is a client span under its
# handler in both modes.  The same requests recorded with --go=full and
# analysed both ways (--go-from-structs) must give the same server spans.
for build in ${GO_FAST_BUILDS:-go1.26 go1.26-stripped go1.19 go1.19-stripped}; do
	# none: the same requests to a server never probed, the bodies of reference
	for mode in none fast full; do
		start_goserver "fast-$build-$mode" "$GO_BIN/goserver-$build" -downstream "https://$down_https" ||
			{ _not_ok "--go=$mode $build: goserver starts" ""; continue; }
		fsrv=$GS_PID
		cap=$T/fast-$build-$mode.bz.zst
		# fast is the default: recorded without --go
		margs=()
		[ $mode = full ] && margs=(--go=full)
		if [ $mode != none ]; then
			record_start "$cap" "${margs[@]}" -p "$fsrv" ||
				{ _not_ok "--go=$mode $build: beyla record starts" "$(tail -n 5 "$REC_LOG")"; stop_bg "$fsrv"; continue; }
		fi
		out=$T/fast-$build-$mode.out k=0
		mkdir -p "$out"
		: >"$T/fast-$build-$mode.codes"
		freq() {
			k=$((k + 1))
			curl -sk --max-time 10 -o "$out/$k.body" -w '%{http_code}\n' "$@" >>"$T/fast-$build-$mode.codes"
		}
		for ((i = 1; i <= N; i++)); do
			freq --http1.1 "https://$GS_HTTPS/items/$i?token=fastSecret$i&x=$i"
			freq --http1.1 -X POST --data-binary "payload-$i" "https://$GS_HTTPS/echo"
			freq "https://$GS_H2/status/503"
			freq "https://$GS_H2/items/$((50 + i))"
			freq "http://$GS_HTTP/hello"
			freq --http1.1 "https://$GS_HTTPS/call"
		done
		if [ $mode = none ]; then
			stop_bg "$fsrv"
			continue
		fi
		sleep 0.3
		record_stop INT
		check_num "--go=$mode $build: beyla record exits 0" "${REC_RC:-none}" -eq 0
		stop_bg "$fsrv"
		check "--go=$mode $build: every response body is the same as without recording" \
			diff -r "$T/fast-$build-none.out" "$out"
		check_num "--go=$mode $build: every request answered" "$(grep -Ec '^(200|503)$' "$T/fast-$build-$mode.codes")" -eq $((6 * N))
		"$BEYLA" info "$cap" >"$T/fast-$build-$mode.info" 2>&1
		check_grep "--go=$mode $build: beyla info says the mode" "^go probes: +$mode " "$T/fast-$build-$mode.info"
		DB=$T/fast-$build-$mode.db
		"$BEYLA" analyze -q -o "$DB" "$cap" >/dev/null 2>&1
		check_num "--go=$mode $build: beyla analyze exits 0" $? -eq 0
		q() { sqlite3 -batch -noheader "$DB" "$1" 2>&1; }
		F="kind='server' AND pid=$fsrv"
		check_num "--go=$mode $build: GET /items/{id} over HTTPS/1.1, 200, its query masked" \
			"$(q "SELECT count(*) FROM spans WHERE $F AND name='GET /items/{id}' AND protocol_version='1.1' AND http_status_code=200 AND url_query='token=REDACTED&x=REDACTED' AND response_body_size>0")" -eq "$N"
		check_num "--go=$mode $build: POST /echo over HTTPS/1.1 with both sizes" \
			"$(q "SELECT count(*) FROM spans WHERE $F AND name='POST /echo' AND request_body_size=length('payload-1') AND response_body_size=length('payload-1')")" -eq "$N"
		check_num "--go=$mode $build: HTTP/2 over TLS: 503 and 200, once each" \
			"$(q "SELECT count(*) FROM spans WHERE $F AND protocol_version='2' AND ((http_route='/status/{id}' AND http_status_code=503) OR (http_route='/items/{id}' AND http_status_code=200))")" -eq $((2 * N))
		check_num "--go=$mode $build: GET /hello over HTTP" \
			"$(q "SELECT count(*) FROM spans WHERE $F AND name='GET /hello' AND http_status_code=200")" -eq "$N"
		check_num "--go=$mode $build: no other server span, none incomplete" \
			"$(q "SELECT count(*) FROM spans WHERE $F")" -eq $((6 * N))
		check_num "--go=$mode $build: every server span has url.scheme" \
			"$(q "SELECT count(*) FROM span_rows WHERE $F AND url_scheme=(CASE WHEN server_port=${GS_HTTP##*:} THEN 'http' ELSE 'https' END) AND incomplete=0")" -eq $((6 * N))
		check_num "--go=$mode $build: processing starts at the handler's start (every span matched a handler)" \
			"$(q "SELECT value FROM parse_stats WHERE name='go_handlers_matched'")" -eq $((6 * N))
		check_num "--go=$mode $build: in queue + processing = duration" \
			"$(q "SELECT count(*) FROM spans WHERE $F AND queue_ns + processing_ns + coalesce(tx_queue_ns, 0) <> duration_ns")" -eq 0
		check_num "--go=$mode $build: /call's downstream HTTPS call is a client span, 200, under its handler's server span" \
			"$(q "SELECT count(*) FROM spans c JOIN spans p ON p.span_id=c.parent_id WHERE c.kind='client' AND c.pid=$fsrv AND c.name='GET /hello' AND c.http_status_code=200 AND p.http_route='/call' AND p.kind='server'")" -eq "$N"
		check_num "--go=$mode $build: no client span left incomplete" \
			"$(q "SELECT count(*) FROM span_rows WHERE kind='client' AND pid=$fsrv AND incomplete<>0")" -eq 0
		check "--go=$mode $build: the secret query value is not in the capture" \
			bash -c "! zstd -dc '$cap' | grep -qa fastSecret"
		if [ $mode = fast ]; then
			check_grep "--go=fast $build: crypto/tls reads probed at their copy, not at their returns" '^ +crypto/tls.\(\*Conn\).Read +attached +its plaintext copy \(CALL runtime.memmove' "$T/fast-$build-$mode.info"
			check_num "--go=fast $build: no probe on a RET (single-stepped) in --go=fast" "$(grep -cE '^ +[a-z/]+.* attached .*[0-9]+ returns' "$T/fast-$build-$mode.info")" -eq 0
			check_grep "--go=fast $build: the handler's end not probed" '^ +net/http.\(\*response\).finishRequest +skipped +not in --go=fast' "$T/fast-$build-$mode.info"
			# (the struct reads stand in only where no read is probed)
			check_num "--go=fast $build: the HTTPS requests are parsed from the read plaintext, none built from structs" \
				"$(q "SELECT count(*) FROM parse_stats WHERE name IN ('go_struct_requests', 'go_plain_ignored') AND value=0")" -eq 2
		else
			# the same capture both ways: plaintext, and the struct reads
			"$BEYLA" analyze -q --go-from-structs -o "$T/fast-$build-structs.db" "$cap" >/dev/null 2>&1
			check_num "--go=full $build: analyze --go-from-structs exits 0" $? -eq 0
			cols="name, http_method, url_path, url_query, http_route, http_status_code, server_address, protocol_version, url_scheme, response_body_size, CASE WHEN protocol_version='2' THEN NULL ELSE start_ns END, end_ns, start_ns + queue_ns, incomplete, CASE WHEN protocol_version='2' THEN NULL ELSE request_body_size END"
			sqlite3 -batch "$DB" "SELECT $cols FROM span_rows WHERE $F ORDER BY start_ns" >"$T/fast-$build-plain.rows" 2>&1
			sqlite3 -batch "$T/fast-$build-structs.db" "SELECT $cols FROM span_rows WHERE $F ORDER BY start_ns" >"$T/fast-$build-structs.rows" 2>&1
			check_num "--go=full $build: spans compared" "$(wc -l <"$T/fast-$build-plain.rows")" -eq $((6 * N))
			check "--go=full $build: the struct reads give the same server spans as the plaintext (times included; an HTTP/2 stream's arrival is the latest ciphertext read's, docs/go.md)" \
				diff "$T/fast-$build-plain.rows" "$T/fast-$build-structs.rows"
			check_num "--go=full $build: --go-from-structs built the HTTPS requests from structs" \
				"$(sqlite3 -batch -noheader "$T/fast-$build-structs.db" "SELECT value FROM parse_stats WHERE name='go_struct_requests'")" -eq $((5 * N))
		fi
	done
done

# A Go version beyla has no offsets for, stripped (no DWARF): a copy of the
# stripped Go 1.26 build whose build info says go9.99.9.  Every Go probe
# that needs offsets is skipped and says why; the kernel's spans still come.
"$PYTHON" - "$GO_BIN/goserver-go1.26-stripped" "$T/goserver-unknown" <<'PY'
import re, sys
data = open(sys.argv[1], "rb").read()
# every copy of the version (build info, runtime.buildVersion), same length
vers = set(re.findall(rb"go1\.26\.[0-9]+", data))
assert vers, "no version string"
for v in vers:
    data = data.replace(v, b"go9.99." + b"9" * (len(v) - 7))
open(sys.argv[2], "wb").write(data)
PY
chmod +x "$T/goserver-unknown"
if start_goserver unknown "$T/goserver-unknown"; then
	upid=$GS_PID
	cap=$T/unknown.bz.zst
	record_start "$cap" -p "$upid" || bail "beyla record starts on the unknown-version server"
	curl -s -o /dev/null "http://$GS_HTTP/hello"
	sleep 0.3
	record_stop INT
	check_num "unknown Go version: beyla record exits 0" "${REC_RC:-none}" -eq 0
	check_grep "unknown Go version: the record warns which probe is skipped and why" \
		'Go probe net/http.serverHandler.ServeHTTP skipped .*no DWARF and no table for this Go version' "$REC_LOG"
	"$BEYLA" info "$cap" >"$T/unknown.info" 2>&1
	check_grep "unknown Go version: beyla info shows the version and the skipped probes" \
		'goserver-unknown \(go9\.99\.9+, .*stripped' "$T/unknown.info"
	check_num "unknown Go version: no Go probe attached" "$(grep -cE '^ +(net/http|crypto/tls).* attached ' "$T/unknown.info")" -eq 0
	"$BEYLA" analyze -q -o "$T/unknown.db" "$cap" >/dev/null 2>&1
	check_num "unknown Go version: the kernel's span of the request is there" \
		"$(sqlite3 -batch -noheader "$T/unknown.db" "SELECT count(*) FROM spans WHERE kind='server' AND name='GET /hello' AND http_status_code=200")" -eq 1
	stop_bg "$upid"
else
	_not_ok "the unknown-version goserver starts" "$(tail -n 3 "$T/unknown.log")"
fi

# --no-go: the kernel's view only.  HTTPS stays opaque (protocol 'tls', no
# spans), plain HTTP is still parsed, and nothing is placed in the binary.
cap=$T/nogo.bz.zst
record_start "$cap" --no-go -p "$down_pid" || bail "beyla record --no-go starts" "$(tail -n 5 "$REC_LOG")"
down_http=$(sed -n 's/^listening http=\([^ ]*\) .*/\1/p' "$T/down.log")
curl -s -o /dev/null "http://$down_http/hello"
curl -sk -o /dev/null "https://$down_https/hello"
sleep 0.3
record_stop INT
check_num "--no-go: beyla record exits 0" "${REC_RC:-none}" -eq 0
"$BEYLA" info "$cap" >"$T/nogo.info" 2>&1
check_no_grep "--no-go: no Go executable probed" '^go executables' "$T/nogo.info"
DB=$T/nogo.db
"$BEYLA" analyze -q -o "$DB" "$cap" >/dev/null 2>&1
check_num "--no-go: the HTTP request is a span" \
	"$(sqlite3 -batch -noheader "$DB" "SELECT count(*) FROM spans WHERE kind='server' AND name='GET /hello'")" -eq 1
check_num "--no-go: the HTTPS connection is opaque TLS" \
	"$(sqlite3 -batch -noheader "$DB" "SELECT count(*) FROM connections WHERE protocol='tls'")" -ge 1

stop_bg "$down_pid"
finish
