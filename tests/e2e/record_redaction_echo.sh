#!/usr/bin/env bash
# shellcheck disable=SC2016 # check NAME eval '...' expands later, on purpose
# record_redaction_echo.sh - a secret the redactor masked in a request is
# masked wherever the server repeats it (issue 15, item 4).
#
# Two servers this project did not write the reflection of:
#   - a Python http.server app that answers a token in the query with a 302
#     whose Location quotes the whole request target (percent-encoded, the
#     way login redirects do), and a page that echoes the token twice, its
#     body written in two writes with the token cut between them; that
#     echoes a form password (sent percent-encoded) decoded in its page; a
#     session cookie's value in a JSON body; a bearer token in a response
#     header of no credential's name;
#   - nginx, whose config returns the token argument in a header
#     (add_header X-Seen $arg_token) and in its body.
# curl calls both while both are recorded.  Then the decompressed capture,
# `beyla info --dump` and the database hold none of the secrets, the
# responses still frame (status codes and body sizes in the spans), and the
# same traffic recorded with --no-redact does hold them (so the test sees
# real reflections).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
require_recording_env
need curl ss zstd sqlite3 nginx

sec() { printf 'SECRET%s' "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"; }
TOK=$(sec)
PW=$(sec)
PWRAW="p@ss/${PW}"    # sent percent-encoded, echoed decoded
SID=$(sec)
BEARER=$(sec)
NTOK=$(sec)

cat >"$T/app.py" <<'EOF'
import http.server, json, socket, sys, time, urllib.parse

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def send(self, code, body, ctype="text/html", extra=(), split=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.flush()
        if split is None:
            self.wfile.write(body)
        else:
            # two writes, the cut inside the secret: two TCP sends
            self.wfile.write(body[:split])
            self.wfile.flush()
            time.sleep(0.05)
            self.wfile.write(body[split:])

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path == "/go":
            tok = q["token"][0]
            body = ("<p>token %s, once more: %s</p>" % (tok, tok)).encode()
            cut = body.index(tok.encode()) + 9
            nxt = urllib.parse.quote(self.path, safe="")
            self.send(302, body, extra=[("Location", "/login?next=" + nxt)], split=cut)
        elif u.path == "/me":
            cookie = self.headers.get("Cookie", "")
            sid = dict(p.strip().split("=", 1) for p in cookie.split(";"))["session"]
            auth = self.headers.get("Authorization", "").split(" ", 1)[1]
            self.send(200, json.dumps({"session": sid}).encode(), "application/json",
                      extra=[("X-You-Sent", auth)])
        else:
            self.send(404, b"no\n", "text/plain")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        self.send(200, ("<p>wrong password: %s</p>" % form["password"][0]).encode())

    def log_message(self, *a):
        pass

class S(http.server.ThreadingHTTPServer):
    def server_bind(self):
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        super().server_bind()

S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF

app_port=$(free_port)
start_bg app "$PYTHON" "$T/app.py" "$app_port"
app=$BG_PID
ng_port=$(free_port)
mkdir -p "$T/nginx"
sed -e "s|@DIR@|$T/nginx|g" -e "s|@PORT@|$ng_port|g" "$E2E_ROOT/scripts/nginx-bench.conf" |
	sed -e 's|location / {|location /nx { add_header X-Seen $arg_token always; default_type text/plain; return 200 "token was $arg_token\\n"; }\n        location / {|' \
		>"$T/nginx/nginx.conf"
cp "$(command -v nginx)" "$T/bz-echo-nginx"
start_bg nginx "$T/bz-echo-nginx" -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log"
wait_for_port "$app_port" && wait_for_port "$ng_port" || bail "the servers listen" \
	"$(tail -n 3 "$T/app.log" "$T/nginx/error.log" 2>/dev/null)"

# traffic TAG: every call once; status codes in $T/status-TAG.txt
traffic() {
	local out=$T/status-$1.txt
	: >"$out"
	curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$app_port/go?token=$TOK" >>"$out"
	curl -s -o /dev/null -w '%{http_code}\n' --data-urlencode "password=$PWRAW" -d user=al \
		"http://127.0.0.1:$app_port/login" >>"$out"
	curl -s -o /dev/null -w '%{http_code}\n' -H "Cookie: theme=dark; session=$SID" \
		-H "Authorization: Bearer $BEARER" "http://127.0.0.1:$app_port/me" >>"$out"
	curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$ng_port/nx?token=$NTOK" >>"$out"
}

# What the servers really send back (so the checks below are about real reflections).
curl -s -D "$T/direct-go.txt" -o "$T/direct-go.body" "http://127.0.0.1:$app_port/go?token=$TOK"
check_grep "the app's redirect quotes the token (percent-encoded)" "^Location: .*token%3D$TOK" "$T/direct-go.txt"
check_num "the app's page echoes the token twice" "$(grep -o "$TOK" "$T/direct-go.body" | wc -l)" -eq 2
curl -s -D "$T/direct-nx.txt" -o /dev/null "http://127.0.0.1:$ng_port/nx?token=$NTOK"
check_grep "nginx echoes the token in a header" "^X-Seen: $NTOK" "$T/direct-nx.txt"

cap=$T/echo.bz.zst
worker=$(pgrep -P "$(pgrep -f -n "bz-echo-nginx -p")" | head -n1)
record_start "$cap" -d 30s -p "$app" -p "$worker" || bail "recorder starts"
traffic on
record_stop
check "the recorder exits 0" eval '[ "$REC_RC" = 0 ]'
check_num "4 responses" "$(wc -l <"$T/status-on.txt")" -eq 4
zstd -dc "$cap" >"$T/echo.raw" 2>/dev/null
"$BEYLA" info --dump "$cap" >"$T/echo.dump" 2>&1
"$BEYLA" analyze "$cap" -o "$T/echo.db" >"$T/echo.txt" 2>&1
check_num "analyze exits 0" $? -eq 0
for name in TOK PW SID BEARER NTOK; do
	v=${!name}
	check_num "the decompressed capture holds no $name" "$(grep -c -a -- "$v" "$T/echo.raw")" -eq 0
	check_num "info --dump shows no $name" "$(grep -c -- "$v" "$T/echo.dump")" -eq 0
	check_num "the database holds no $name" "$(sqlite3 "$T/echo.db" .dump | grep -c -- "$v")" -eq 0
done
check_num "the redirect's body reached the capture in two writes" \
	"$(dump_count "$T/echo.dump" DATA "pid=$app" dir=out 'payload~once more')" -ge 1
check_num "the app's spans: 302, 200 (form) and 200 (cookie), each complete" \
	"$(sqlite3 "$T/echo.db" "select count(*) from spans where kind='server' and incomplete=0 and
		((url_path='/go' and http_status_code=302) or (url_path in ('/login','/me') and http_status_code=200))")" -eq 3
check_num "the echoing page's body size is exact (masking changed no length)" \
	"$(sqlite3 "$T/echo.db" "select response_body_size from spans where url_path='/go'")" \
	-eq "$(stat -c %s "$T/direct-go.body")"
check_num "nginx's span: 200, complete" \
	"$(sqlite3 "$T/echo.db" "select count(*) from spans where kind='server' and url_path='/nx' and http_status_code=200 and incomplete=0")" -eq 1
# (the secrets are 22 bytes: SECRET and 16 hex digits)
check_num "nginx's header kept its name, its echo masked byte for byte" \
	"$(grep -a -c 'X-Seen: \*\{22\}'$'\r' "$T/echo.raw")" -eq 1
check_num "nginx's body kept its words, its echo masked byte for byte" \
	"$(grep -a -c 'token was \*\{22\}$' "$T/echo.raw")" -eq 1

# The same traffic with --no-redact: the reflections are really there.
cap=$T/plain.bz.zst
record_start "$cap" -d 30s --no-redact -p "$app" -p "$worker" || bail "recorder starts (--no-redact)"
traffic off
record_stop
zstd -dc "$cap" >"$T/plain.raw" 2>/dev/null
check_num "--no-redact: the token is in the Location and the page (3 or more times)" \
	"$(grep -a -o -- "$TOK" "$T/plain.raw" | wc -l)" -ge 3
check_num "--no-redact: nginx's reflections are there (request, header, body)" \
	"$(grep -a -o -- "$NTOK" "$T/plain.raw" | wc -l)" -ge 3

stop_bg "$app"
finish
