#!/usr/bin/env bash
# record_sigkill.sh - a recorder killed with SIGKILL loses at most the last
# second: record `python3 -m http.server` under ~3 s of curl requests, kill -9
# the recorder, then `beyla info` must say truncated (exit 4) and the capture
# must hold every request made up to 1.5 s before the kill.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
require_recording_env
need curl ss

LOAD_SECS=3
MARGIN_NS=1500000000 # requests older than this at the kill must be on disk

mkdir -p "$T/www"
echo "sigkill test" >"$T/www/index.txt"
port=$(free_port)
start_bg server "$PYTHON" -m http.server --bind 127.0.0.1 --directory "$T/www" "$port"
srv=$BG_PID
wait_for_port "$port" || bail "python http.server listens on port $port" "$(tail -n 3 "$T/server.log")"

cap=$T/killed.bz.zst
record_start "$cap" -p "$srv" || bail "beyla record -p $srv starts"

# One request per curl; note when each one completed.
end=$(($(date +%s%N) + LOAD_SECS * 1000000000))
: >"$T/done.txt"
i=0
while [ "$(date +%s%N)" -lt "$end" ]; do
	i=$((i + 1))
	if curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$port/index.txt?n=$i"; then
		date +%s%N >>"$T/done.txt"
	fi
done
check_num "the recorder is still running before the kill" "$(kill -0 "$REC_PID" 2>/dev/null && echo 1 || echo 0)" -eq 1
size_before=$(stat -c %s "$cap" 2>/dev/null || echo 0)
{ # stderr hidden: bash's "Killed" job notice is expected here
	kill -KILL "$REC_PID"
	killed_at=$(date +%s%N)
	wait "$REC_PID"
} 2>/dev/null
REC_PID=

made=$(wc -l <"$T/done.txt")
old=$(awk -v lim=$((killed_at - MARGIN_NS)) '$1 <= lim { n++ } END { print n + 0 }' "$T/done.txt")
log "requests made: $made, of which $old completed at least 1.5 s before the kill"
check_num "curl made requests" "$made" -ge 20
check_num "frames reached the disk while recording" "$size_before" -gt 0

"$BEYLA" info "$cap" >"$T/info.txt" 2>&1
check_num "beyla info exits 4 (truncated)" $? -eq 4
check_grep "beyla info says status: truncated" '^[[:space:]]*status: truncated' "$T/info.txt"

"$BEYLA" info --dump "$cap" >"$T/dump.txt" 2>"$T/dump.err"
rc=$?
check "beyla info --dump reads the truncated file (exit $rc: 0 or 4)" eval "[ $rc -eq 0 ] || [ $rc -eq 4 ]"
gets=$(dump_count "$T/dump.txt" DATA dir=in 'payload~^GET /index\.txt\?n=[0-9]+ HTTP/1\.1')
check_num "every request older than 1.5 s is in the capture" "$gets" -ge "$old"
check_num "no request appears twice" "$gets" -le "$made"
check_num "PROC line for the server" "$(dump_count "$T/dump.txt" PROC "pid=$srv")" -ge 1

finish
