# tests/lib.sh - helpers for the end-to-end tests in tests/e2e (source it).
# shellcheck shell=bash
#
# An e2e script:
#     . "$(dirname "$0")/../lib.sh"
#     require_recording_env            # root, BTF, ./beyla built: else 'not ok' and exit 1
#     port=$(free_port)
#     start_bg srv python3 -m http.server --bind 127.0.0.1 "$port"; srv=$BG_PID
#     wait_for_port "$port"
#     record_start "$T/x.bz.zst" -p "$srv"
#     ... traffic ...
#     record_stop                      # SIGINT, wait; REC_RC holds the exit code
#     check "info says complete" grep -q 'status: complete' "$T/info.txt"
#     finish                           # summary; exit 1 if any check failed
#
# Output is TAP-like: one 'ok - NAME' or 'not ok - NAME' line per check, which
# tests/run.sh counts.  Everything started with start_bg/record_start is
# killed (whole process group) when the script exits, however it exits.
# Scratch files live in $T, removed at exit unless a check failed or KEEP_TMP=1.

set -uo pipefail

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BEYLA=${BEYLA:-$E2E_ROOT/beyla}
BEYLA_CACHE=${BEYLA_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/beyla-test}
# shellcheck disable=SC2034 # for the scripts that source this file
BEYLA_VENV=$BEYLA_CACHE/venv                      # gunicorn, flask (scripts/setup.sh)
# shellcheck disable=SC2034
BEYLA_NODE_MODULES=$BEYLA_CACHE/node/node_modules # express (scripts/setup.sh)
# The real interpreter, not a version-manager shim (a shim is a shell script
# that execs python, which would add an exec to every launched process).
PYTHON=${PYTHON:-$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || command -v python3)}
TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "/tmp/beyla-$TEST_NAME.XXXXXX")

CHECKS_PASSED=0
CHECKS_FAILED=0
_BG_PIDS=()
REC_PID=
REC_RC=
REC_LOG=

log() { printf '# %s\n' "$*"; }

# --- checks -------------------------------------------------------------------

_ok() { CHECKS_PASSED=$((CHECKS_PASSED + 1)); printf 'ok - %s\n' "$1"; }
_not_ok() {
	CHECKS_FAILED=$((CHECKS_FAILED + 1))
	printf 'not ok - %s\n' "$1"
	[ $# -lt 2 ] || printf '#   %s\n' "${@:2}"
}

# check NAME CMD [ARGS...]: passes when CMD exits 0 (its output is hidden;
# on failure the last lines are shown).  For a shell expression:
#     check NAME eval '[ "$x" -gt 3 ]'
check() {
	# Locals are prefixed: an eval'd expression sees the caller's variables.
	local _ck_name=$1 _ck_out _ck_rc
	shift
	_ck_out=$("$@" 2>&1)
	_ck_rc=$?
	if [ "$_ck_rc" -eq 0 ]; then
		_ok "$_ck_name"
	else
		_not_ok "$_ck_name" "command failed (exit $_ck_rc): $*"
		[ -z "$_ck_out" ] || printf '%s\n' "$_ck_out" | tail -n 5 | sed 's/^/#   | /'
	fi
}

# check_num NAME GOT OP WANT: integer comparison with -eq -ne -lt -le -gt -ge,
# printing both values on failure.  A non-number GOT fails.
check_num() {
	local name=$1 got=$2 op=$3 want=$4
	if [[ "$got" =~ ^-?[0-9]+$ ]] && test "$got" "$op" "$want"; then
		_ok "$name ($got $op $want)"
	else
		_not_ok "$name" "got '$got', want $op $want"
	fi
}

# check_between NAME GOT LO HI: LO <= GOT <= HI.
check_between() {
	local name=$1 got=$2 lo=$3 hi=$4
	if [[ "$got" =~ ^-?[0-9]+$ ]] && [ "$got" -ge "$lo" ] && [ "$got" -le "$hi" ]; then
		_ok "$name ($got in [$lo, $hi])"
	else
		_not_ok "$name" "got '$got', want between $lo and $hi"
	fi
}

# check_grep NAME ERE FILE: FILE has a line matching ERE.
check_grep() {
	local name=$1 re=$2 file=$3
	if grep -Eq -- "$re" "$file" 2>/dev/null; then
		_ok "$name"
	else
		_not_ok "$name" "no line matching /$re/ in $(basename "$file"); its first lines:"
		head -n 5 "$file" 2>/dev/null | cut -c1-200 | sed 's/^/#   | /'
	fi
}

# check_no_grep NAME ERE FILE: FILE has no line matching ERE.
check_no_grep() {
	local name=$1 re=$2 file=$3
	if ! grep -Eq -- "$re" "$file" 2>/dev/null; then
		_ok "$name"
	else
		_not_ok "$name" "unexpected lines matching /$re/ in $(basename "$file"):"
		grep -E -- "$re" "$file" | head -n 3 | cut -c1-200 | sed 's/^/#   | /'
	fi
}

# finish: prints the script's tally and exits 1 if any check failed (or none ran).
finish() {
	local total=$((CHECKS_PASSED + CHECKS_FAILED))
	printf '# %s: %d checks passed, %d failed\n' "$TEST_NAME" "$CHECKS_PASSED" "$CHECKS_FAILED"
	[ "$total" -gt 0 ] || { printf 'not ok - %s ran no check\n' "$TEST_NAME"; exit 1; }
	[ "$CHECKS_FAILED" -eq 0 ] || exit 1
	exit 0
}

# bail MSG: a failure that makes the rest of the script meaningless.
bail() {
	_not_ok "$1" "${@:2}"
	finish
}

# --- preconditions ---------------------------------------------------------------

# require_recording_env: the e2e tests must FAIL, not skip, where they cannot run.
require_recording_env() {
	[ "$(id -u)" -eq 0 ] || bail "running as root" "e2e tests record with eBPF and need root (sudo make test)"
	[ -x "$BEYLA" ] || bail "beyla is built" "$BEYLA missing: run make"
	[ -r /sys/kernel/btf/vmlinux ] || bail "kernel has BTF" "/sys/kernel/btf/vmlinux missing"
	[ -d /sys/kernel/tracing/events ] || bail "tracefs mounted" "/sys/kernel/tracing/events missing: run scripts/setup.sh"
}

# need CMD...: fail (not skip) when a tool the test uses is missing.
need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || bail "$c installed" "run: sudo bash scripts/setup.sh"
	done
}

# --- ports and background processes ------------------------------------------------

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
# Never the same port twice in one script: two calls before anything binds
# may otherwise both get the port the kernel just freed (it happened: the
# plain and the HTTPS port of record_tls.sh were one).
free_port() {
	local p i
	for ((i = 0; i < 50; i++)); do
		p=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		grep -qx -- "$p" "$T/.ports_given" 2>/dev/null && continue
		echo "$p" >>"$T/.ports_given"
		echo "$p"
		return 0
	done
	return 1
}

# wait_for_port PORT [SECONDS]: until something listens on PORT.  Uses ss, so
# it opens no connection (one would show up in a recording).
wait_for_port() {
	local port=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 20; i++)); do
		[ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ] && return 0
		sleep 0.05
	done
	log "nothing listens on port $port after ${secs}s"
	return 1
}

# start_bg NAME CMD [ARGS...]: runs CMD in its own session (so its whole process
# group can be killed), output to $T/NAME.log; sets BG_PID (CMD's own pid).
start_bg() {
	local name=$1
	shift
	setsid "$@" >"$T/$name.log" 2>&1 </dev/null &
	BG_PID=$!
	_BG_PIDS+=("$BG_PID")
}

# stop_bg PID: SIGTERM to its process group, SIGKILL after 5 s.
stop_bg() {
	local pid=$1 i
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# start_goserver NAME BINARY [ARGS]: a tests/servers/go/goserver build, started
# with start_bg; waits for its "listening" line and sets GS_PID, GS_HTTP,
# GS_HTTPS, GS_H2 (host:port; GS_H2 serves HTTP/2 by ALPN), GS_H2C (HTTP/2
# without TLS, or "none" when built with a Go older than 1.24).  Returns 1
# if it did not start within 10 s.
start_goserver() {
	local name=$1 i
	shift
	start_bg "$name" "$@"
	GS_PID=$BG_PID
	for ((i = 0; i < 200; i++)); do
		grep -q '^listening ' "$T/$name.log" 2>/dev/null && break
		sleep 0.05
	done
	GS_HTTP=$(sed -n 's/^listening http=\([^ ]*\) .*/\1/p' "$T/$name.log")
	GS_HTTPS=$(sed -n 's/.* https=\([^ ]*\).*/\1/p' "$T/$name.log")
	GS_H2=$(sed -n 's/.* h2=\([^ ]*\).*/\1/p' "$T/$name.log")
	GS_H2C=$(sed -n 's/.* h2c=\([^ ]*\).*/\1/p' "$T/$name.log")
	[ -n "$GS_HTTP" ] && [ -n "$GS_HTTPS" ] && [ -n "$GS_H2" ] && [ -n "$GS_H2C" ]
}

# --- the recorder ---------------------------------------------------------------

# record_start OUT ARGS...: `beyla record -o OUT ARGS...` in the background,
# stderr in $REC_LOG.  Returns once recording has begun, i.e. the capture file
# has its first frame (the recorder flushes one as soon as the probes are
# attached and the targets known), plus a short settle time; 1 if the
# recorder exited first or nothing was written within 15 s.
# SIGINT is reset to default for it: a background job of a script would
# otherwise start with SIGINT ignored, unlike a recorder run from a terminal.
record_start() {
	local out=$1 i
	shift
	REC_LOG=$T/record.$((${#_BG_PIDS[@]})).log
	REC_RC=
	setsid env --default-signal=INT "$BEYLA" record -o "$out" "$@" >"$REC_LOG.out" 2>"$REC_LOG" </dev/null &
	REC_PID=$!
	_BG_PIDS+=("$REC_PID")
	for ((i = 0; i < 300; i++)); do
		if ! kill -0 "$REC_PID" 2>/dev/null; then
			wait "$REC_PID"
			REC_RC=$?
			REC_PID=
			log "recorder exited before recording was seen to begin, with $REC_RC:"
			tail -n 5 "$REC_LOG" | sed 's/^/#   | /'
			return 1
		fi
		if [ -s "$out" ]; then
			sleep "${BEYLA_SETTLE:-0.3}"
			return 0
		fi
		sleep 0.05
	done
	log "recorder did not begin within 15 s"
	return 1
}

# record_wait [SECONDS]: waits for the recorder to exit by itself; REC_RC is
# its exit code, or 'timeout' (then it was killed).  Returns 0 if it exited 0.
record_wait() {
	local secs=${1:-30} i
	[ -n "$REC_PID" ] || { [ "${REC_RC:-x}" = 0 ]; return; } # already exited
	for ((i = 0; i < secs * 20; i++)); do
		kill -0 "$REC_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$REC_PID" 2>/dev/null; then
		log "recorder still running after ${secs}s: killing it"
		kill -KILL -- "-$REC_PID" 2>/dev/null || kill -KILL "$REC_PID" 2>/dev/null
		wait "$REC_PID" 2>/dev/null
		REC_RC=timeout
		REC_PID=
		return 1
	fi
	wait "$REC_PID"
	REC_RC=$?
	REC_PID=
	[ "$REC_RC" -eq 0 ]
}

# record_stop [SIGNAL]: stops the recorder (SIGINT by default) and waits up to 20 s.
record_stop() {
	local sig=${1:-INT}
	[ -n "$REC_PID" ] || { [ "${REC_RC:-x}" = 0 ]; return; } # already exited
	kill "-$sig" "$REC_PID" 2>/dev/null
	record_wait 20
}

# info_num FILE KEY: the first integer on the `beyla info` line starting with
# KEY: ("events: 123"); empty if there is no such line.
info_num() {
	grep -Ei -m1 "^[[:space:]]*$2[[:space:]]*:" "$1" | grep -Eo '[0-9]+' | head -n1
}

# info_drops FILE: the sum of the counts on `beyla info`'s "drops:" line
# ("drops: 0 in the kernel (ring buffer full), 0 in user space"); empty if none.
info_drops() {
	grep -Ei -m1 '^[[:space:]]*drops[[:space:]]*:' "$1" | grep -Eo '[0-9]+' | awk '{ n += $1 } END { if (NR) print n }'
}

# --- reading `beyla info --dump` ----------------------------------------------------
# A dump line is: TYPE key=value key=value ... ["quoted text"].  The quoted
# tail is the value of the key just before it (PROC cmdline="...") or, when
# it has no key (DATA's payload), of "payload".  Conditions:
#     key=VALUE    the field equals VALUE        (dir=in, role=accepted)
#     key~ERE      the field matches ERE         (local~:8080$, payload~^GET /)
#     key!~ERE     the field does not match ERE
# The payload is matched as dumped (escaped, without its quotes).

# shellcheck disable=SC2016 # awk program, not shell
_DUMP_AWK='
function parse(line,    q, head, tail, n, i, tok, eq, last) {
	delete F
	q = index(line, "\"")
	if (q) { head = substr(line, 1, q - 1); tail = substr(line, q + 1); sub(/"[[:space:]]*$/, "", tail) }
	else { head = line; tail = "" }
	n = split(head, tok, /[[:space:]]+/)
	F["type"] = tok[1]
	last = ""
	for (i = 2; i <= n; i++) {
		if (tok[i] == "") continue
		eq = index(tok[i], "=")
		if (eq) { last = substr(tok[i], 1, eq - 1); F[last] = substr(tok[i], eq + 1) }
		else last = ""
	}
	if (q) {
		if (last != "" && F[last] == "") F[last] = tail
		else F["payload"] = tail
	}
}
function matches(    i, c, k, op, v) {
	for (i = 1; i <= nc; i++) {
		c = C[i]
		if (!match(c, /^[A-Za-z_][A-Za-z_0-9]*/)) return 0
		k = substr(c, 1, RLENGTH); c = substr(c, RLENGTH + 1)
		if (substr(c, 1, 2) == "!~") { if (F[k] ~ substr(c, 3)) return 0 }
		else if (substr(c, 1, 1) == "~") { if (!(F[k] ~ substr(c, 2))) return 0 }
		else if (substr(c, 1, 1) == "=") { if (!(k in F) || F[k] != substr(c, 2)) return 0 }
		else return 0
	}
	return 1
}
BEGIN { conds = ENVIRON["DUMP_CONDS"]; nc = conds == "" ? 0 : split(conds, C, "\n") }
$1 == type { parse($0); if (matches()) { n++; if (field != "") print F[field] } }
END { if (field == "") print n + 0 }
'

# dump_count DUMP TYPE [COND...]: how many TYPE lines of DUMP ("-": stdin) meet every COND.
dump_count() {
	local file=$1 type=$2
	shift 2
	DUMP_CONDS=$(printf '%s\n' "$@") awk -v type="$type" -v field= "$_DUMP_AWK" "$file"
}

# dump_field DUMP TYPE FIELD [COND...]: FIELD of each TYPE line that meets every COND.
dump_field() {
	local file=$1 type=$2 field=$3
	shift 3
	DUMP_CONDS=$(printf '%s\n' "$@") awk -v type="$type" -v field="$field" "$_DUMP_AWK" "$file"
}

# --- exit ---------------------------------------------------------------------

_e2e_cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	for pid in "${_BG_PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null || continue
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${_BG_PIDS[@]}"; do
		local i
		for ((i = 0; i < 60; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ] || [ "$CHECKS_FAILED" -ne 0 ] || [ -n "${KEEP_TMP:-}" ]; then
		printf '# scratch files kept in %s\n' "$T"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap _e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
