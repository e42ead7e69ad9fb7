#!/usr/bin/env bash
# record_python_http.sh - record `python3 -m http.server` (-p PID) while curl
# makes a known number of requests, some on one keep-alive connection, some
# on a new connection each; then check with `beyla info --dump` that every
# connection, every request line and the responses are in the capture.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
require_recording_env
need curl ss

N_KEEPALIVE=10 # one curl, several URLs: one connection
N_SINGLE=10    # one curl each: one connection each
N=$((N_KEEPALIVE + N_SINGLE))
BODY='hello from the beyla python e2e test'

mkdir -p "$T/www"
printf '%s\n' "$BODY" >"$T/www/hello.txt"
port=$(free_port)
start_bg server "$PYTHON" -m http.server --bind 127.0.0.1 --directory "$T/www" --protocol HTTP/1.1 "$port"
srv=$BG_PID
wait_for_port "$port" || bail "python http.server listens on port $port" "$(tail -n 3 "$T/server.log")"

cap=$T/python.bz.zst
record_start "$cap" -p "$srv" || bail "beyla record -p $srv starts"

# Traffic.  curl's -w prints "<status> <new connections>" per URL.
args=()
for ((i = 1; i <= N_KEEPALIVE; i++)); do
	args+=(-o /dev/null "http://127.0.0.1:$port/hello.txt?ka=$i")
done
curl -s --max-time 10 -w '%{http_code} %{num_connects}\n' "${args[@]}" >"$T/curl.txt"
for ((i = 1; i <= N_SINGLE; i++)); do
	curl -s --max-time 5 -w '%{http_code} %{num_connects}\n' -o /dev/null \
		"http://127.0.0.1:$port/hello.txt?single=$i" >>"$T/curl.txt"
done
ok200=$(grep -c '^200 ' "$T/curl.txt")
conns=$(awk '{ n += $2 } END { print n + 0 }' "$T/curl.txt")
check_num "curl got 200 for every request" "$ok200" -eq "$N"
check_num "keep-alive: $N_KEEPALIVE requests on one connection, $N_SINGLE alone" "$conns" -eq $((N_SINGLE + 1))
sleep 0.3 # let the server finish its closes before the recorder stops

record_stop INT
check_num "beyla record exits 0 after SIGINT" "${REC_RC:-none}" -eq 0
check "the capture file exists and is not empty" test -s "$cap"

"$BEYLA" info "$cap" >"$T/info.txt" 2>&1
check_num "beyla info exits 0 (complete)" $? -eq 0
check_grep "beyla info says status: complete" '^[[:space:]]*status: complete' "$T/info.txt"

"$BEYLA" info --dump "$cap" >"$T/dump.txt" 2>"$T/dump.err"
check_num "beyla info --dump exits 0" $? -eq 0

check_num "PROC line for the server pid with a python exe" \
	"$(dump_count "$T/dump.txt" PROC "pid=$srv" 'exe~python')" -eq 1
check_num "one accepted CONN per TCP connection curl opened" \
	"$(dump_count "$T/dump.txt" CONN role=accepted "local~:$port\$")" -eq "$conns"
check_num "DATA dir=in lines starting with 'GET /hello.txt': one per request" \
	"$(dump_count "$T/dump.txt" DATA dir=in 'payload~^GET /hello\.txt\?(ka|single)=[0-9]+ HTTP/1\.1')" -eq "$N"
check_num "the keep-alive requests share one connection id" \
	"$(dump_field "$T/dump.txt" DATA conn dir=in 'payload~^GET /hello\.txt\?ka=' | sort -u | wc -l)" -eq 1
check_num "DATA dir=out with an 'HTTP/1.x 200' status line: one per request" \
	"$(dump_count "$T/dump.txt" DATA dir=out 'payload~^HTTP/1\.[01] 200')" -eq "$N"
check_num "the file body is in the written payloads" \
	"$(dump_count "$T/dump.txt" DATA dir=out "payload~$BODY")" -ge 1
check_num "every DATA event belongs to the server process" \
	"$(dump_count "$T/dump.txt" DATA "pid!~^$srv\$")" -eq 0
check_num "a CLOSE for every accepted connection" \
	"$(dump_count "$T/dump.txt" CLOSE "pid=$srv")" -ge "$conns"

finish
