#!/usr/bin/env bash
# readme_commands.sh - the two commands at the top of README.md, taken from it
# (its first two ```sh blocks, never a copy), run the way a newcomer would:
#
#   (a) as root on a machine without sudo: a login-like environment whose PATH
#       is a directory of links to everything in root's usual PATH except
#       sudo*, and, in a private mount namespace, a stub bound over
#       /usr/bin/sudo that logs any call and fails (so a call by absolute
#       path is caught too);
#   (b) as a freshly created ordinary user with passwordless sudo (login
#       shell, so the PATH a Debian user gets, without /usr/sbin), in a fresh
#       copy of the tree in the user's home, built by the command itself.
#       sudo logs every command it runs for that user to a file.
#
# First command: exits 0; the capture is complete and holds the workload
# (beyla info); the database holds every request the workload reports
# making, with the same status codes (sqlite3); in (a) sudo is never called,
# in (b) sudo ran the setup and the recorder, never the build, and every
# file in the user's tree (build, capture, database) is the user's.
#
# Second command (the test command): the README's must be `make test`; it is
# run with TESTS='e2e preflight' added, which selects the one-second
# tests/e2e/preflight.sh.  That proves the command line builds, reaches the
# runner, and that the runner's root-needing part runs as root: directly in
# (a) (no sudo call), through sudo in (b) (preflight's log says so, sudo's log
# has it, and the runner's logs stay the user's).  It does not run the whole
# suite in either situation (that is `make test` itself, and it would
# recurse into this test); the full suite as a non-root user is not tried
# here.
#
# What the copies hold, to stay within the time limit: (a) is this tree's
# files plus its build (so `make` has nothing to do; the root build is what
# `make test` itself does); (b) builds beyla from scratch as the user, but its
# Go test servers (a prerequisite of `make test`) are copied from this tree's
# build/go (they are built there first if missing): a new user would compile
# them with a cold Go cache, which takes minutes.
# Needs root (creates the user and its sudoers.d file, removed at exit).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
require_recording_env
need sqlite3 useradd userdel runuser unshare tar visudo
[ -x /usr/bin/sudo ] || bail "sudo installed" "run: bash scripts/setup.sh (it installs sudo)"
# Both runs start with scripts/setup.sh as root with root's own HOME (a
# fresh root login; sudo's env_reset), so it must find its cache there, or
# it would spend minutes filling it (pip, npm, building jaeger).
ROOT_HOME=$(getent passwd root | cut -d: -f6)
[ -x "$ROOT_HOME/.cache/beyla-test/bin/jaeger" ] && [ -x "$ROOT_HOME/.cache/beyla-test/venv/bin/python" ] ||
	bail "scripts/setup.sh's cache is in root's home ($ROOT_HOME/.cache/beyla-test)" \
		"run bash scripts/setup.sh as root without BEYLA_CACHE (the README's commands would otherwise fill it first)"

README=$E2E_ROOT/README.md
# block N: the Nth ```sh block of README.md, its lines as they are.
block() {
	awk -v want="$1" '/^```sh[[:space:]]*$/ { n++; inb = (n == want); next }
		/^```/ { inb = 0; next } inb' "$README"
}
first_cmd=$(block 1)
test_cmd=$(block 2)
log "first command: $first_cmd"
log "test command:  $test_cmd"
check "README.md has a first command (a \`\`\`sh block)" test -n "$first_cmd"
check "README.md has a test command (a second \`\`\`sh block)" test -n "$test_cmd"
# TESTS= selects the tiny part below; only `make ... test` takes it.
check "the README's test command is make test (so TESTS= can pick one test)" \
	eval '[[ $test_cmd =~ ^make([[:space:]].*)?[[:space:]]test([[:space:]]|$) ]]'
test_run="$test_cmd TESTS='e2e preflight'"

# --- the trees --------------------------------------------------------------------
# export_tree DIR: the files a checkout of this tree would have (tracked and
# new files, not what is ignored: no build, no captures), with their times.
export_tree() {
	mkdir -p "$1"
	if git -C "$E2E_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		(cd "$E2E_ROOT" && git ls-files -co --exclude-standard -z |
			while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
			tar --null -T - -cf -) | tar -xf - -C "$1"
	else
		tar -C "$E2E_ROOT" --exclude=./.git --exclude=./build --exclude=./build-san \
			--exclude=./beyla --exclude='./*.bz.zst' --exclude='./*.db' -cf - . | tar -xf - -C "$1"
	fi
}
# make test's prerequisites include the Go test servers: build them here
# (warm cache) when this tree has none, then copy them.
bash "$E2E_ROOT/scripts/build_go_servers.sh" "$E2E_ROOT/build/go" >"$T/go-servers.log" 2>&1 ||
	bail "the Go test servers build" "$(tail -n 5 "$T/go-servers.log")"

# check_capture TAG DIR OUT: what the first command left in DIR (its output in OUT).
check_capture() {
	local tag=$1 dir=$2 out=$3 n mix got
	check "$tag the capture demo.bz.zst exists" test -s "$dir/demo.bz.zst"
	local info=$T/info-${tag//[^a-z]/}.txt
	"$BEYLA" info "$dir/demo.bz.zst" >"$info" 2>&1
	check_num "$tag beyla info says the capture is complete (exit 0)" $? -eq 0
	check_grep "$tag beyla info: status complete" '^status: complete$' "$info"
	check_grep "$tag beyla info: the launched command is the target" '^target: +command python3' "$info"
	check_grep "$tag the command's own output has beyla info's" '^status: complete$' "$out"
	# the workload says what it did: "demo workload: 50 requests to ... (40 x 200, 5 x 201, ...)"
	n=$(sed -n 's/^demo workload: \([0-9]*\) requests .*/\1/p' "$out" | head -n 1)
	mix=$(sed -n 's/^demo workload: .*(\(.*\))$/\1/p' "$out" | head -n 1)
	check "$tag the workload ran and reported its requests" test -n "$n"
	check "$tag the database demo.db exists" test -s "$dir/demo.db"
	got=$(sqlite3 "$dir/demo.db" "select count(*) from spans where kind = 'server' and incomplete = 0" 2>&1)
	check_num "$tag demo.db has one complete server span per request ($n)" "$got" -eq "${n:-0}"
	got=$(sqlite3 "$dir/demo.db" "select group_concat(c || ' x ' || s, ', ') from (select http_status_code s,
		count(*) c from spans where kind = 'server' group by s order by s)" 2>&1)
	check "$tag the server spans' status codes are the workload's ($mix)" eval '[ "$got" = "$mix" ]'
	[ "$got" = "$mix" ] || log "spans: $got"
}

# --- (a) root, no sudo --------------------------------------------------------------
A=$T/root-tree
export_tree "$A"
# the build, without what make test does not need (logs, fuzzers and their corpora)
(cd "$E2E_ROOT" && tar --exclude=./build/test-logs --exclude=./build/fuzz -cf - ./build ./beyla) | tar -xf - -C "$A"
nosudo=$T/nosudo-bin
mkdir -p "$nosudo"
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
	for f in "$d"/*; do
		b=${f##*/}
		[[ $b == sudo* ]] && continue
		[ -e "$nosudo/$b" ] || [ -L "$nosudo/$b" ] || ln -s "$f" "$nosudo/$b"
	done
done
printf '#!/bin/sh\necho "sudo $*" >>%s/sudo-called.log\necho "sudo: not installed (tests/e2e/readme_commands.sh hides it)" >&2\nexit 127\n' \
	"$T" >"$T/sudo-stub"
chmod 755 "$T/sudo-stub"
# as_root_nosudo LIMIT DIR CMD: CMD in DIR, as root, in that environment,
# killed after LIMIT seconds.
as_root_nosudo() {
	local inner=(timeout -k 5 "$1" env -i HOME="$ROOT_HOME" USER=root LOGNAME=root SHELL=/bin/bash
		LANG=C.UTF-8 PATH="$nosudo" bash -c "cd '$2' && $3")
	if [ -z "$mount_ok" ]; then
		"${inner[@]}"
	else
		unshare --mount --propagation private -- \
			/bin/sh -c 'mount --bind "$0" /usr/bin/sudo && exec "$@"' "$T/sudo-stub" "${inner[@]}"
	fi
}
mount_ok=1
unshare --mount --propagation private -- /bin/sh -c 'mount --bind "$0" /usr/bin/sudo' "$T/sudo-stub" 2>"$T/unshare.err" ||
	{ mount_ok=; log "no private mount namespace here ($(head -n 1 "$T/unshare.err")): sudo is hidden from PATH only"; }
check "(a) the environment has no sudo on PATH" eval '! as_root_nosudo 10 / "command -v sudo" >/dev/null'

t0=$SECONDS
as_root_nosudo 60 "$A" "$first_cmd" >"$T/a-first.out" 2>&1 </dev/null
rc=$?
log "(a) first command: exit $rc in $((SECONDS - t0)) s"
check_num "(a) root without sudo: the README's first command exits 0" "$rc" -eq 0
[ "$rc" -eq 0 ] || tail -n 8 "$T/a-first.out" | sed 's/^/#   | /'
check_capture "(a)" "$A" "$T/a-first.out"

t0=$SECONDS
as_root_nosudo 60 "$A" "$test_run" >"$T/a-test.out" 2>&1 </dev/null
rc=$?
log "(a) $test_run: exit $rc in $((SECONDS - t0)) s"
check_num "(a) root without sudo: the README's test command (TESTS='e2e preflight') exits 0" "$rc" -eq 0
[ "$rc" -eq 0 ] || tail -n 8 "$T/a-test.out" | sed 's/^/#   | /'
check_grep "(a) ... and ran the preflight test, which passed" '^PASS +e2e/preflight ' "$T/a-test.out"
check_grep "(a) ... with no failure" '^[1-9][0-9]* passed, 0 failed$' "$T/a-test.out"
check_grep "(a) preflight ran as root directly" 'running as uid 0 .*root directly' "$A/build/test-logs/e2e-preflight.log"
check "(a) sudo was never called" test ! -e "$T/sudo-called.log"
[ ! -e "$T/sudo-called.log" ] || sed 's/^/#   | /' "$T/sudo-called.log"

# --- (b) a new user who has sudo -------------------------------------------------------
# Users left by a run that was killed before its cleanup go first.
for old in $(getent passwd | awk -F: '$1 ~ /^beylareadme[0-9]+$/ { print $1 }'); do
	pgrep -U "$old" >/dev/null 2>&1 || { userdel -r "$old" >/dev/null 2>&1; rm -f "/etc/sudoers.d/beyla-readme-test-$old"; }
done
U=beylareadme$$
SUDOERS=/etc/sudoers.d/beyla-readme-test-$U
readme_cleanup() {
	local p
	for p in $(pgrep -U "$U" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	rm -f "$SUDOERS"
	rm -rf "/run/sudo/ts/$U" "/var/lib/sudo/lectured/$U"
	id "$U" >/dev/null 2>&1 && userdel -r "$U" >/dev/null 2>&1
}
trap '_rc=$?; readme_cleanup; (exit $_rc); _e2e_cleanup' EXIT
useradd -m -s /bin/bash "$U" || bail "useradd $U"
H=$(getent passwd "$U" | cut -d: -f6)
# logfile: every command sudo runs for the user, one line each (loglinelen=0: unwrapped)
printf 'Defaults:%s logfile="%s/sudo.log", loglinelen=0\n%s ALL=(ALL:ALL) NOPASSWD: ALL\n' \
	"$U" "$T" "$U" >"$SUDOERS.tmp"
chmod 0440 "$SUDOERS.tmp"
visudo -cqf "$SUDOERS.tmp" && mv "$SUDOERS.tmp" "$SUDOERS" || bail "a valid sudoers.d file for $U"
B=$H/beyla
export_tree "$B"
chown -R "$U:" "$B"
as_user() { runuser -l "$U" -c "cd '$B' && $1"; }
check "(b) the user is not root" eval '[ "$(as_user "id -u")" != 0 ]'
check "(b) the user has passwordless sudo" as_user "sudo -n true"

t0=$SECONDS
timeout -k 5 90 runuser -l "$U" -c "cd '$B' && $first_cmd" >"$T/b-first.out" 2>&1 </dev/null
rc=$?
log "(b) first command: exit $rc in $((SECONDS - t0)) s"
check_num "(b) a user with sudo: the README's first command exits 0" "$rc" -eq 0
[ "$rc" -eq 0 ] || tail -n 8 "$T/b-first.out" | sed 's/^/#   | /'
check_capture "(b)" "$B" "$T/b-first.out"
touch "$T/sudo.log"
check_grep "(b) sudo ran the setup" 'COMMAND=.*scripts/setup\.sh' "$T/sudo.log"
check_grep "(b) sudo ran beyla record" 'COMMAND=.*beyla record' "$T/sudo.log"
check_no_grep "(b) sudo did not run the build, info or analyze" 'COMMAND=[^ ]*(make|beyla (info|analyze))( |$)' "$T/sudo.log"
find "$B" ! -user "$U" >"$T/b-not-users.txt"
check "(b) every file in the user's tree is the user's (build, capture, database)" test ! -s "$T/b-not-users.txt"
head -n 5 "$T/b-not-users.txt" | sed 's/^/#   not the user'"'"'s: /'
check "(b) the user can read the capture and write the database" \
	as_user "./beyla info demo.bz.zst >/dev/null && ./beyla analyze -q --force -o demo2.db demo.bz.zst && rm demo2.db"

mkdir -p "$B/build/go"
cp -p "$E2E_ROOT"/build/go/goserver-go1.* "$B/build/go/"
chown -R "$U:" "$B/build/go"
t0=$SECONDS
timeout -k 5 60 runuser -l "$U" -c "cd '$B' && $test_run" >"$T/b-test.out" 2>&1 </dev/null
rc=$?
log "(b) $test_run: exit $rc in $((SECONDS - t0)) s"
check_num "(b) a user with sudo: the README's test command (TESTS='e2e preflight') exits 0" "$rc" -eq 0
[ "$rc" -eq 0 ] || tail -n 8 "$T/b-test.out" | sed 's/^/#   | /'
check_grep "(b) ... and ran the preflight test, which passed" '^PASS +e2e/preflight ' "$T/b-test.out"
check_grep "(b) ... with no failure" '^[1-9][0-9]* passed, 0 failed$' "$T/b-test.out"
check_grep "(b) preflight ran as root, through sudo for the user" "running as uid 0 .*$U through sudo" \
	"$B/build/test-logs/e2e-preflight.log"
check_grep "(b) sudo's log has the e2e test" 'COMMAND=.*tests/e2e/preflight\.sh' "$T/sudo.log"
find "$B" ! -user "$U" >"$T/b-not-users.txt"
check "(b) after the tests, every file in the user's tree is still the user's" test ! -s "$T/b-not-users.txt"
head -n 5 "$T/b-not-users.txt" | sed 's/^/#   not the user'"'"'s: /'
finish
