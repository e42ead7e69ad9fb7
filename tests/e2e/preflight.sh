#!/usr/bin/env bash
# preflight.sh - is this machine ready for the end-to-end tests?  The checks
# every other e2e script relies on, in one second: root (directly or through
# sudo: `make test` by a user who is not root runs the e2e tests through
# sudo, and this says which it was), BTF and tracefs, beyla built, the tools
# and the test servers scripts/setup.sh provides, and one minimal recording
# (`beyla record -- true`) that attaches the probes and writes a complete
# capture.  When this fails, most other e2e tests fail for the same reason;
# its log says which.  tests/e2e/readme_commands.sh also runs the README's
# test command restricted to this test, to try the elevation path cheaply.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

log "running as uid $(id -u) ($(id -un)), invoked by ${SUDO_USER:+$SUDO_USER through sudo}${SUDO_USER:-root directly}"
require_recording_env
check_num "running as root" "$(id -u)" -eq 0

# What the e2e scripts call (scripts/setup.sh installs them).
for c in nginx wrk curl ss pgrep sqlite3 zstd setsid timeout; do
	check "$c is on root's PATH" command -v "$c"
done
check "the test venv has gunicorn and flask ($BEYLA_VENV)" "$BEYLA_VENV/bin/python" -c 'import gunicorn, flask'
check "express is installed ($BEYLA_NODE_MODULES)" test -f "$BEYLA_NODE_MODULES/express/package.json"
check "jaeger is built ($BEYLA_CACHE/bin/jaeger)" test -x "$BEYLA_CACHE/bin/jaeger"

# The smallest real recording: load and attach, launch a command, finish the file.
timeout -k 5 30 "$BEYLA" record -q -d 10s -o "$T/true.bz.zst" -- true >"$T/record.out" 2>"$T/record.err" </dev/null
check_num "beyla record -- true exits 0" $? -eq 0
"$BEYLA" info "$T/true.bz.zst" >"$T/info.txt" 2>&1
check_num "beyla info exits 0 (complete capture)" $? -eq 0
check_grep "the capture says the launched command exited" '^stop reason: +command exited' "$T/info.txt"
[ -s "$T/record.err" ] && sed 's/^/# record: /' "$T/record.err" | head -n 5
finish
