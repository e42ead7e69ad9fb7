#!/usr/bin/env bash
# perfetto_json.sh - `beyla analyze --perfetto OUT.json` (docs/perfetto.md):
#   * for every capture in samples/, the JSON written and checked by
#     tests/e2e/perfetto_check.py: the Trace Event Format's rules (fields and
#     types per phase, balanced and strictly nested slices per track, flows
#     bound to slices, every track named) and the database's spans (one slice
#     per span of the view spans, with its name, start and duration; a flow
#     per server span called by a client span);
#   * the checker itself fails on broken copies of a good file (a slice
#     overlapping its parent, a slice or a flow's end or a thread's name
#     missing, a cut file), so its passes mean something;
#   * the command line: an existing OUT needs --force (and is left alone
#     without it), an unwritable place, a directory, OUT = the database are
#     refused before any analysis, with no database left behind; a full disk
#     (a tiny tmpfs) gives exit 6 and a one-line error, no OUT and no temporary
#     file, the database still written; -D with --perfetto (database in memory).
# Needs root only for the tmpfs.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
[ -x "$BEYLA" ] || bail "beyla is built" "$BEYLA missing: run make"
need python3 sqlite3
CHECK=$E2E_ROOT/tests/e2e/perfetto_check.py

# checker PREFIX JSON DB: perfetto_check.py's ok/not ok lines, prefixed; its
# failure (crash included) fails this script too.
checker() {
	local prefix=$1
	shift
	python3 "$CHECK" "$@" 2>&1 | sed "s/^\(n*o*t* *ok - \)/\1$prefix/"
	[ "${PIPESTATUS[0]}" -eq 0 ] || CHECKS_FAILED=$((CHECKS_FAILED + 1))
}

# --- every sample -----------------------------------------------------------------
caps=()
for f in "$E2E_ROOT"/samples/*.bz.zst; do [ -f "$f" ] && caps+=("$f"); done
check_num "samples/ has captures" "${#caps[@]}" -gt 0
for c in "${caps[@]}"; do
	name=$(basename "$c" .bz.zst)
	"$BEYLA" analyze -f -o "$T/$name.db" "$c" --perfetto "$T/$name.json" >"$T/$name.out" 2>"$T/$name.err"
	rc=$?
	check "$name: analyze --perfetto exits 0 (4, 5: damaged capture) [$rc]" eval '[ $rc -eq 0 ] || [ $rc -eq 4 ] || [ $rc -eq 5 ]'
	check_grep "$name: one line on stderr says what was written" "^perfetto: wrote [0-9]+ slices .* to $T/$name.json" "$T/$name.err"
	checker "$name: " "$T/$name.json" "$T/$name.db"
done

# --- the checker catches what it should ------------------------------------------------------
# A sample with flows, nested client calls and concurrent requests.
good=$T/node-h2c.json gdb=$T/node-h2c.db
[ -s "$good" ] || { good=$T/$(basename "${caps[0]}" .bz.zst).json; gdb=${good%.json}.db; }
# mutate NAME PYTHON: a copy of the good file changed by PYTHON (on the list
# `ev` of its events), which the checker must reject.
mutate() {
	local what=$1 code=$2
	python3 - "$good" "$T/bad.json" "$code" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
ev = doc["traceEvents"]
exec(sys.argv[3])
json.dump(doc, open(sys.argv[2], "w"))
EOF
	python3 "$CHECK" "$T/bad.json" "$gdb" >"$T/bad.log" 2>&1
	local rc=$?
	log "$(grep "^not ok" "$T/bad.log" | head -n 3 | tr "\n" " ")"
	check "the checker rejects a file with $what" eval '[ $rc -ne 0 ] && grep -q "^not ok" "$T/bad.log"'
}
mutate "a processing slice past its server span's end" '
x = [e for e in ev if e["ph"] == "X" and e["name"] == "processing"][0]
x["dur"] = x["dur"] + 1000'
mutate "one slice missing" '
i = [i for i, e in enumerate(ev) if e["ph"] == "X"][-1]
del ev[i]'
mutate "a flow without its end" '
i = [i for i, e in enumerate(ev) if e["ph"] == "f"][0]
del ev[i]'
mutate "a flow ending outside any slice" '
f = [e for e in ev if e["ph"] == "f"][0]
f["tid"] = 1'
mutate "a thread without its name" '
i = [i for i, e in enumerate(ev) if e.get("name") == "thread_name"][-1]
del ev[i]'
mutate "a slice whose ts is a string" '
x = [e for e in ev if e["ph"] == "X"][0]
x["ts"] = str(x["ts"])'
head -c 5000 "$good" >"$T/cut.json"
python3 "$CHECK" "$T/cut.json" "$gdb" >"$T/bad.log" 2>&1
rc=$?
check "the checker rejects a cut file" eval '[ $rc -ne 0 ] && grep -q "^not ok - the file is well-formed JSON" "$T/bad.log"'

# --- the command line -------------------------------------------------------------------------
cap=$E2E_ROOT/samples/client-span.bz.zst
out=$T/cl.json
echo keep >"$out"
"$BEYLA" analyze -q -o "$T/cl.db" "$cap" --perfetto "$out" 2>"$T/e1"
rc=$?
check "an existing OUT without --force: exit 1 [$rc]" eval '[ $rc -eq 1 ]'
check_grep "... says so and names --force" "cl.json exists \(use --force to replace it\)" "$T/e1"
check "... leaves OUT alone and writes no database" eval '[ "$(cat "$out")" = keep ] && [ ! -e "$T/cl.db" ]'
"$BEYLA" analyze -q -f -o "$T/cl.db" "$cap" --perfetto "$out" 2>"$T/e2"
check "with --force OUT is replaced by the JSON" eval 'python3 "$CHECK" "$out" "$T/cl.db" >/dev/null'
check_num "... with the permissions of a new file (0666 less the umask $(umask))" \
	"$(stat -c %a "$out")" -eq "$(printf '%o' $((0666 & ~0$(umask))))"

"$BEYLA" analyze -q -o "$T/nd.db" "$cap" --perfetto "$T/no/such/dir/x.json" 2>"$T/e3"
rc=$?
check "an unwritable place: exit 1, before the analysis [$rc]" eval '[ $rc -eq 1 ] && [ ! -e "$T/nd.db" ]'
check_grep "... one line naming it and the reason" "cannot write --perfetto .*/no/such/dir/x.json: No such file or directory" "$T/e3"
log "$(cat "$T/e3")"
mkdir -p "$T/adir"
"$BEYLA" analyze -q -o "$T/nd.db" "$cap" --perfetto "$T/adir" -f 2>"$T/e4"
rc=$?
check "a directory as OUT: exit 1 and said" eval '[ $rc -eq 1 ] && grep -q "is a directory" "$T/e4"'
"$BEYLA" analyze -q -o "$T/same.db" "$cap" --perfetto "$T/same.db" 2>"$T/e5"
rc=$?
check "OUT = the database: exit 1 and said" eval '[ $rc -eq 1 ] && grep -q "also the database" "$T/e5" && [ ! -e "$T/same.db" ]'
"$BEYLA" analyze "$cap" --perfetto= 2>"$T/e6"
rc=$?
check "an empty OUT: a usage error" eval '[ $rc -eq 1 ] && grep -q "needs a file name" "$T/e6"'

"$BEYLA" analyze -D "$cap" --perfetto "$T/mem.json" >"$T/dump.txt" 2>"$T/e7"
rc=$?
check "-D (database in memory) with --perfetto: exit 0 and the dump on stdout [$rc]" eval '[ $rc -eq 0 ] && grep -q "GET /call" "$T/dump.txt"'
check "... the same JSON as from the file database" cmp "$T/mem.json" "$out"

# A full disk: a 64 KB tmpfs, a JSON of 200 KB.
mkdir -p "$T/small"
if mount -t tmpfs -o size=64k tmpfs "$T/small" 2>"$T/mount.err"; then
	"$BEYLA" analyze -q -o "$T/full.db" "$E2E_ROOT/samples/node-h2c.bz.zst" --perfetto "$T/small/x.json" 2>"$T/e8"
	rc=$?
	check "a full disk: exit 6 [$rc]" eval '[ $rc -eq 6 ]'
	check "... one line, naming the error" eval '[ $(wc -l <"$T/e8") -eq 1 ] && grep -q "No space left on device" "$T/e8"'
	log "$(cat "$T/e8")"
	check "... no OUT and no temporary file left" eval '[ -z "$(ls -A "$T/small")" ]'
	check "... the database is written" eval '[ "$(sqlite3 "$T/full.db" "select count(*) from span_rows")" -gt 0 ]'
	umount "$T/small"
else
	_not_ok "a 64 KB tmpfs for the full-disk case (needs root)" "$(cat "$T/mount.err")"
fi
finish
