#!/usr/bin/env bash
# record_faults.sh - the recorder under faults it must survive with a clear
# message: the disk fills while recording (a 256 KiB tmpfs), it runs without
# privileges, and a multi-process server recorded by its master's pid (the
# workers forked earlier and later are followed).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
require_recording_env
need nginx wrk ss setpriv mount umount

# --- disk full ------------------------------------------------------------------
port=$(free_port)
mkdir -p "$T/nginx" "$T/small"
sed -e "s|@DIR@|$T/nginx|g" -e "s|@PORT@|$port|g" "$E2E_ROOT/scripts/nginx-bench.conf" >"$T/nginx/nginx.conf"
start_bg nginx nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log"
master=$BG_PID
wait_for_port "$port" || bail "nginx listens on port $port"
mount -t tmpfs -o size=256k beyla-test-small "$T/small" || bail "mount a 256 KiB tmpfs"
_unmount_small() { umount "$T/small" 2>/dev/null; }
trap '_unmount_small; _e2e_cleanup' EXIT # keep lib.sh's cleanup (kills nginx)

cap=$T/small/full.bz.zst
record_start "$cap" -p "$master" || bail "beyla record -p nginx-master starts"
wrk -t1 -c8 -d4s "http://127.0.0.1:$port/" >"$T/wrk.txt" 2>&1
record_wait 20
check_num "recorder exits non-zero when the disk is full" "${REC_RC:-0}" -ne 0
check_grep "recorder says the disk is full" 'No space left on device' "$REC_LOG"
check_grep "recorder says the file stays readable" 'readable' "$REC_LOG"
"$BEYLA" info "$cap" >"$T/full-info.txt" 2>&1
rc=$?
check_num "beyla info reads the file cut by a full disk (exit 0 or 4)" "$rc" -ne 1
check_no_grep "beyla info finds no corruption" 'status: corrupt' "$T/full-info.txt"
events=$(info_num "$T/full-info.txt" events)
check_num "the capture holds the events written before the disk filled" "${events:-0}" -gt 1000
"$BEYLA" info --dump "$cap" >"$T/full-dump.txt" 2>/dev/null
check_grep "the worker (forked before recording) was followed" '^PROC .*flags=at_start' "$T/full-dump.txt"
worker=$(pgrep -P "$master" | head -n1)
check_num "DATA events come from the worker pid $worker" \
	"$(dump_count "$T/full-dump.txt" DATA "pid=$worker" 'payload~^GET /')" -gt 1000
_unmount_small
trap _e2e_cleanup EXIT

# --- a worker forked during recording is followed ------------------------------
cap2=$T/reload.bz.zst
record_start "$cap2" -p "$master" || bail "beyla record -p master starts"
kill -HUP "$master" # nginx reload: the master forks a new worker
sleep 1
new_worker=$(pgrep -P "$master" | sort -n | tail -n1)
curl -s -o /dev/null "http://127.0.0.1:$port/after-reload"
record_stop INT
check_num "recorder exits 0" "${REC_RC:-none}" -eq 0
"$BEYLA" info --dump "$cap2" >"$T/reload-dump.txt" 2>/dev/null
check_num "the new worker is a FORK of the master" \
	"$(dump_count "$T/reload-dump.txt" FORK "pid=$master" "child=$new_worker")" -ge 1
check_num "the new worker's request was recorded" \
	"$(dump_count "$T/reload-dump.txt" DATA "pid=$new_worker" 'payload~^GET /after-reload')" -eq 1

# --- no privileges -------------------------------------------------------------
out=$T/unpriv.bz.zst
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$BEYLA" record -p "$master" -o "$out" \
	>"$T/unpriv.out" 2>"$T/unpriv.err"
rc=$?
check_num "without privileges beyla record fails" "$rc" -ne 0
check_grep "and says it needs root or CAP_BPF+CAP_PERFMON" 'needs root.*CAP_BPF.*CAP_PERFMON' "$T/unpriv.err"
check_num "in one line" "$(wc -l <"$T/unpriv.err")" -eq 1
check "and leaves no file behind" test ! -e "$out"

finish
