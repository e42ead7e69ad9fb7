#!/usr/bin/env bash
# record_redaction.sh - credentials never reach the capture file.
#
# A small Python HTTP/1.1 server (keep-alive, reads request bodies, answers
# with a Set-Cookie) is recorded with -p PID while requests carry unique
# secret values (all containing "SECRET") in every place redaction covers:
# credential headers, query parameters, a urlencoded form body, a JSON body
# (a value, an array and an object under sensitive keys), a header
# name, a header value and a parameter cut across two or three TCP writes (a
# raw socket client with TCP_NODELAY that sleeps 50 ms between pieces), two
# pipelined requests in one write, and names added with --redact-header and
# --redact-param.  Then:
#   - the decompressed capture and the analyzer's database hold no "SECRET";
#   - methods, paths, header names and harmless values are still there, and
#     the split pieces really were separate reads;
#   - the file has mode 0600 and `beyla info` says redaction is on;
#   - recorded again with --no-redact, the same secrets are in the file and
#     `beyla info` says redaction is off.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
require_recording_env
need curl ss zstd

# Unique secrets: SECRET + random hex.  Nothing else in the capture (paths,
# argv, environment names) contains "SECRET".
sec() { printf 'SECRET%s' "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"; }
declare -A S
for k in auth cookie proxy apikey authtok csrf session client custom q_pw q_tok q_key q_acc q_sig \
	q_pin f_pw f_tok j_pw j_key j_tok setcookie s1 s2 s3a s3b s4a s4b s5 s6 s7 s8 s9 s10 s11; do
	S[$k]=$(sec)
done

cat >"$T/server.py" <<'EOF'
import http.server, os, sys

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "sid=" + os.environ["COOKIE_VALUE"] + "; Path=/; HttpOnly")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = reply

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
EOF

# The split client: each request is a list of pieces, written with 50 ms
# between them (TCP_NODELAY: one segment each), all on one connection.
# Prints one status code per response.
cat >"$T/split_client.py" <<'EOF'
import os, socket, sys, time

E = os.environ
def form(body):
    return ("POST /split/f HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: %d\r\n\r\n" % len(body))
fbody = "user=bob&password=" + E["S6"] + "&token=" + E["S7"]
requests = [
    # a header name cut in two
    ["GET /split/a HTTP/1.1\r\nHost: h\r\nAuthori", "zation: Bearer " + E["S1"] + "\r\n\r\n"],
    # cut right after the colon
    ["GET /split/b HTTP/1.1\r\nHost: h\r\nCookie:", " sid=" + E["S2"] + "\r\n\r\n"],
    # a value cut in two
    ["GET /split/c HTTP/1.1\r\nX-Api-Key: " + E["S3A"], E["S3B"] + "\r\nHost: h\r\n\r\n"],
    # three writes: name, then value, then value
    ["GET /split/d HTTP/1.1\r\nX-Auth-To", "ken: " + E["S4A"], E["S4B"] + "\r\n\r\n"],
    # a query parameter name cut in two
    ["GET /split/e?q=visible&pass", "word=" + E["S5"] + "&x=1 HTTP/1.1\r\nHost: h\r\n\r\n"],
    # a form body cut inside a parameter name
    [form(fbody) + fbody[:14], fbody[14:]],
    # the header line starts in the next write
    ["GET /split/g HTTP/1.1\r\nHost: h\r\n", "Proxy-Authorization: Basic " + E["S8"] + "\r\n\r\n"],
    # a --redact-header name
    ["GET /split/h HTTP/1.1\r\nHost: h\r\nX-Custom-Ref: ", E["S9"] + "\r\n\r\n"],
    # two pipelined requests in one write
    ["GET /pipe1?token=" + E["S10"] + " HTTP/1.1\r\nHost: h\r\n\r\n"
     "GET /pipe2 HTTP/1.1\r\nHost: h\r\nCookie: c=" + E["S11"] + "\r\n\r\n"],
]

s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
buf = b""

def response():
    global buf
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, rest = buf.split(b"\r\n\r\n", 1)
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(rest) < n:
        rest += s.recv(65536)
    buf = rest[n:]
    print(head.split(b" ")[1].decode())

for pieces in requests:
    for i, p in enumerate(pieces):
        if i:
            time.sleep(0.05)
        s.sendall(p.encode())
    for _ in range(p.count("HTTP/1.1\r\n") if len(pieces) == 1 else 1):
        response()
s.close()
EOF

port=$(free_port)
COOKIE_VALUE=${S[setcookie]} start_bg server "$PYTHON" "$T/server.py" "$port"
srv=$BG_PID
wait_for_port "$port" || bail "the python server listens on port $port" "$(tail -n 3 "$T/server.log")"

# traffic TAG: every request once; responses' status codes in $T/status-TAG.txt
traffic() {
	local tag=$1 out=$T/status-$1.txt
	: >"$out"
	curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 \
		-H "Authorization: Bearer ${S[auth]}" \
		-H "Cookie: a=${S[cookie]}; theme=dark" \
		-H "Proxy-Authorization: Basic ${S[proxy]}" \
		-H "X-Api-Key: ${S[apikey]}" \
		-H "X-Auth-Token: ${S[authtok]}" \
		-H "X-Csrf-Token: ${S[csrf]}" \
		-H "X-Session-Id: ${S[session]}" \
		-H "X-Client-Secret: ${S[client]}" \
		-H "X-Custom-Ref: ${S[custom]}" \
		-H "X-Visible: plain-value-$tag" \
		"http://127.0.0.1:$port/search?q=visible&password=${S[q_pw]}&token=${S[q_tok]}&api_key=${S[q_key]}&access_token=${S[q_acc]}&sig=${S[q_sig]}&pin=${S[q_pin]}&page=2" \
		>>"$out"
	curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 \
		--data "user=bob&password=${S[f_pw]}&access_token=${S[f_tok]}&remember=1" \
		"http://127.0.0.1:$port/login" >>"$out"
	# a JSON API call: sensitive keys' values, an array under one, an escaped quote
	curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 -H 'Content-Type: application/json' \
		--data "{\"user\":\"bob\",\"password\":\"${S[j_pw]}\\\"q\",\"api_keys\":[\"${S[j_key]}\"],\"auth\":{\"token\":\"${S[j_tok]}\"},\"lang\":\"fr\"}" \
		"http://127.0.0.1:$port/api/json" >>"$out"
	S1=${S[s1]} S2=${S[s2]} S3A=${S[s3a]} S3B=${S[s3b]} S4A=${S[s4a]} S4B=${S[s4b]} S5=${S[s5]} \
		S6=${S[s6]} S7=${S[s7]} S8=${S[s8]} S9=${S[s9]} S10=${S[s10]} S11=${S[s11]} \
		timeout 20 "$PYTHON" "$T/split_client.py" "$port" >>"$out" 2>"$T/split-$tag.err"
	sleep 0.3 # let the server finish before the recorder stops
}
N_RESPONSES=13 # 3 curl + 10 from the split client (9 requests, one of them two pipelined)

# --- with redaction (the default) -------------------------------------------------
# --snaplen 1024: the curl request with every header is about 800 bytes.
cap=$T/redacted.bz.zst
record_start "$cap" -p "$srv" --snaplen 1024 --redact-header X-Custom-Ref --redact-param pin ||
	bail "beyla record -p $srv starts"
traffic on
record_stop INT
check_num "beyla record exits 0" "${REC_RC:-none}" -eq 0
check_num "every request got 200" "$(grep -c '^200$' "$T/status-on.txt")" -eq "$N_RESPONSES"
check "the capture exists" test -s "$cap"
check_num "the capture file has mode 0600" "$(stat -c %a "$cap")" -eq 600

zstd -q -dc "$cap" >"$T/redacted.raw" 2>/dev/null
check_num "the decompressed capture holds no SECRET" "$(grep -a -c SECRET "$T/redacted.raw")" -eq 0
for k in "${!S[@]}"; do
	if grep -a -q -- "${S[$k]}" "$T/redacted.raw"; then
		_not_ok "secret '$k' is masked" "found ${S[$k]} in the capture"
	fi
done

"$BEYLA" info "$cap" >"$T/info-on.txt" 2>&1
check_grep "beyla info says the capture is complete" '^status: complete' "$T/info-on.txt"
check_grep "beyla info says redaction is on" '^redaction: +on' "$T/info-on.txt"
"$BEYLA" info --dump "$cap" >"$T/dump-on.txt" 2>/dev/null

# What is not secret stays: methods, paths, names, harmless values.
for want in 'GET /search?q=visible&password=' '&pin=' '&page=2 HTTP/1.1' 'Authorization: ' \
	'Cookie: ' 'X-Api-Key: ' 'X-Auth-Token: ' 'X-Csrf-Token: ' 'X-Custom-Ref: ' \
	'X-Visible: plain-value-on' 'POST /login HTTP/1.1' 'user=bob&password=' '&remember=1' \
	'Set-Cookie: ' 'GET /split/a HTTP/1.1' 'zation: ' 'GET /pipe1?token=' 'GET /pipe2 HTTP/1.1' \
	'GET /split/e?q=visible&pass' 'HTTP/1.1 200 OK' 'POST /api/json HTTP/1.1' '{"user":"bob","password":"' \
	'"lang":"fr"}'; do
	check "the capture still has '$want'" grep -a -q -F -- "$want" "$T/redacted.raw"
done
CR=$'\r'
check "a masked Authorization value keeps its length (Bearer and the secret)" \
	grep -a -q -E "Authorization: \*{$((7 + ${#S[auth]}))}$CR" "$T/redacted.raw"
check "Set-Cookie's value is masked to the end of its line" \
	grep -a -q -E "Set-Cookie: \*{$((22 + ${#S[setcookie]}))}$CR" "$T/redacted.raw"

# The pieces were separate reads (else the split cases proved nothing).
check_num "the server read 'zation: ...' as a read of its own" \
	"$(dump_count "$T/dump-on.txt" DATA dir=in 'payload~^zation: ')" -ge 1
check_num "the server read 'ken: ...' (third piece before it) as a read of its own" \
	"$(dump_count "$T/dump-on.txt" DATA dir=in 'payload~^ken: ')" -ge 1
check_num "the server read 'word=...' as a read of its own" \
	"$(dump_count "$T/dump-on.txt" DATA dir=in 'payload~^word=')" -ge 1

# The analyzer's database has nothing to leak either.
if "$BEYLA" analyze -q -o "$T/redacted.db" "$cap" >"$T/analyze.log" 2>&1; then
	_ok "beyla analyze writes a database"
	check_num "the database holds no SECRET" "$(grep -a -c SECRET "$T/redacted.db")" -eq 0
else
	_not_ok "beyla analyze writes a database" "$(tail -n 3 "$T/analyze.log")"
fi

# --- --no-redact: the same traffic, stored as it was ---------------------------------
cap2=$T/plain.bz.zst
record_start "$cap2" -p "$srv" --snaplen 1024 --no-redact || bail "beyla record --no-redact starts"
traffic off
record_stop INT
check_num "beyla record --no-redact exits 0" "${REC_RC:-none}" -eq 0
check_num "every request got 200 (--no-redact)" "$(grep -c '^200$' "$T/status-off.txt")" -eq "$N_RESPONSES"
zstd -q -dc "$cap2" >"$T/plain.raw" 2>/dev/null
missing=()
for k in "${!S[@]}"; do
	grep -a -q -- "${S[$k]}" "$T/plain.raw" || missing+=("$k")
done
check_num "with --no-redact every secret is in the capture (missing: ${missing[*]:-none})" "${#missing[@]}" -eq 0
"$BEYLA" info "$cap2" >"$T/info-off.txt" 2>&1
check_grep "beyla info says redaction is off" '^redaction: +off' "$T/info-off.txt"
check_num "the --no-redact capture also has mode 0600" "$(stat -c %a "$cap2")" -eq 600

finish
