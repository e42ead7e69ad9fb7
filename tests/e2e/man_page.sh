#!/usr/bin/env bash
# man_page.sh - docs/beyla.1 against the code, so that it fails when either
# side changes:
#   * every option each command's --help shows (long form, and its short
#     form when it has one) is a .TP entry of that command's subsection of
#     COMMANDS (.SS "beyla record" / "beyla info" / "beyla analyze" /
#     "beyla report"), and
#     every long option documented there exists in that --help;
#   * the commands `beyla --help` lists are the page's COMMANDS subsections;
#   * every exit code of cmd/commands.h's enum bz_exit is in EXIT STATUS,
#     "beyla info and beyla analyze", and nothing else is; the exit codes
#     beyla record gives for a refused command line and for a failure
#     before recording are in EXIT STATUS, "beyla record";
#   * every variable the C code reads with getenv("...") is in ENVIRONMENT;
#   * the version in .TH is the binary's;
#   * it renders without a single warning (groff -ww, and man at 80 and 60
#     columns);
#   * `make install DESTDIR=...` puts it in $(PREFIX)/share/man/man1, where
#     `man -M` finds it and shows it.
# Needs no root and no BPF (beyla record's exit codes are taken from errors
# it reports before loading anything).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need groff man make cmp
[ -x "$BEYLA" ] || bail "beyla is built" "$BEYLA missing: run make"
PAGE=$E2E_ROOT/docs/beyla.1
[ -f "$PAGE" ] || bail "the man page exists" "$PAGE missing"

# The page's .TP tags, one line each: SECTION <tab> SUBSECTION <tab> TAG, the
# tag's macro name, font escapes and quotes removed, \- turned into -.
# ".BR \-p ", " \-\-pid =\fIPID\fR" becomes "-p ,  --pid =PID".
awk '
function title(s) { sub(/^\.S[HS][ \t]+/, "", s); gsub(/"/, "", s); return s }
/^\.SH/ { sh = title($0); ss = ""; next }
/^\.SS/ { ss = title($0); next }
/^\.TP/ {
	if ((getline tag) <= 0) next
	gsub(/\\-/, "-", tag); gsub(/\\f[BIRP]/, "", tag); gsub(/\\&/, "", tag); gsub(/"/, "", tag)
	sub(/^\.[A-Z]+[ \t]*/, "", tag)
	print sh "\t" ss "\t" tag
}' "$PAGE" >"$T/tags.tsv"
check "the page has .TP entries" test -s "$T/tags.tsv"

# tags SECTION SUBSECTION: the tags of that part of the page.
tags() { awk -F'\t' -v sh="$1" -v ss="$2" '$1 == sh && $2 == ss { print $3 }' "$T/tags.tsv"; }
longs() { grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }

# --- options: each command's --help against its section ------------------------------
for cmd in record info analyze report; do
	sect="beyla $cmd"
	"$BEYLA" "$cmd" --help >"$T/$cmd.help" 2>&1
	check_num "$sect --help exits 0" $? -eq 0
	tags COMMANDS "$sect" >"$T/$cmd.tags"
	check "docs/beyla.1 has a subsection .SS \"$sect\" under COMMANDS with options" test -s "$T/$cmd.tags"
	# argp's option lines: "  -p, --pid=PID   ...", "      --exe=REGEX   ...", "  -x   ..."
	grep -E '^  -[^- ], --[a-z]|^      --[a-z]|^  -[^- ]( |$)' "$T/$cmd.help" | sed -E 's/^ +//; s/ {2,}.*//' >"$T/$cmd.optlines"
	check "$sect --help shows options" test -s "$T/$cmd.optlines"
	while IFS= read -r line; do
		long=$(printf '%s\n' "$line" | grep -oE -- '--[a-z][a-z0-9-]*' | head -n 1)
		short=$(printf '%s\n' "$line" | grep -oE -- '^-[^- ,]' | head -n 1)
		if [ -n "$long" ]; then
			tag=$(grep -E -- "(^|[ ,])$long([ ,=[]|$)" "$T/$cmd.tags" | head -n 1)
			if [ -n "$tag" ]; then
				_ok "$sect: $long (in --help) is documented in docs/beyla.1"
			else
				_not_ok "$sect: $long (in --help) is documented in docs/beyla.1" \
					"\`$sect --help\` shows '$line' but docs/beyla.1 has no .TP entry for $long under .SS \"$sect\" (COMMANDS): add one"
				continue
			fi
		else
			tag=
		fi
		[ -n "$short" ] || continue
		if [ -z "$long" ]; then
			tag=$(grep -E -- "(^|[ ,])\\$short([ ,=]|$)" "$T/$cmd.tags" | head -n 1)
		fi
		if printf '%s\n' "$tag" | grep -qE -- "(^|[ ,])\\$short([ ,=]|$)"; then
			_ok "$sect: $short${long:+ (short for $long)} is documented in docs/beyla.1"
		else
			_not_ok "$sect: $short${long:+ (short for $long)} is documented in docs/beyla.1" \
				"\`$sect --help\` shows '$line' but the entry under .SS \"$sect\" in docs/beyla.1 is '${tag:-none}': give it $short"
		fi
	done <"$T/$cmd.optlines"
	# and back: what the page documents must exist
	longs <"$T/$cmd.optlines" >"$T/$cmd.help-longs"
	for long in $(longs <"$T/$cmd.tags"); do
		if grep -qxF -- "$long" "$T/$cmd.help-longs"; then
			_ok "$sect: $long (in docs/beyla.1) exists in --help"
		else
			_not_ok "$sect: $long (in docs/beyla.1) exists in --help" \
				"docs/beyla.1 documents $long under .SS \"$sect\", but \`$sect --help\` has no such option: remove or rename the entry"
		fi
	done
done

# --- the commands ---------------------------------------------------------------------
"$BEYLA" --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print "beyla " $1 }' | sort >"$T/cmds.help"
awk '/^\.SH/ { on = ($0 ~ /COMMANDS/); next } on && /^\.SS/ { sub(/^\.SS[ \t]+/, ""); gsub(/"/, ""); print }' "$PAGE" | sort >"$T/cmds.page"
check "beyla --help lists commands" test -s "$T/cmds.help"
check "the page's COMMANDS subsections are the commands beyla --help lists" diff "$T/cmds.help" "$T/cmds.page"

# --- exit codes -----------------------------------------------------------------------
sed -n '/^enum bz_exit/,/^};/p' "$E2E_ROOT/cmd/commands.h" |
	sed -nE 's/^[[:space:]]*(BZ_EXIT_[A-Z_]+)[[:space:]]*=[[:space:]]*([0-9]+).*/\1 \2/p' >"$T/exits"
check "cmd/commands.h has the enum bz_exit" test -s "$T/exits"
tags "EXIT STATUS" "beyla info and beyla analyze" >"$T/exit.tags"
while read -r name num; do
	if grep -qxF "$num" "$T/exit.tags"; then
		_ok "exit code $num ($name) is in EXIT STATUS"
	else
		_not_ok "exit code $num ($name) is in EXIT STATUS" \
			"cmd/commands.h has $name = $num; docs/beyla.1 has no '.TP' / '.B $num' under EXIT STATUS, .SS \"beyla info and beyla analyze\": add it"
	fi
done <"$T/exits"
while read -r num; do
	if awk -v n="$num" '$2 == n { f = 1 } END { exit !f }' "$T/exits"; then
		_ok "EXIT STATUS's $num (info, analyze) is in cmd/commands.h"
	else
		_not_ok "EXIT STATUS's $num (info, analyze) is in cmd/commands.h" \
			"docs/beyla.1 documents exit code '$num' for info and analyze, but enum bz_exit has no such value"
	fi
done <"$T/exit.tags"
tags "EXIT STATUS" "beyla record" >"$T/rexit.tags"
# record_exit WHAT ARGS...: beyla record's exit code for ARGS (which fail before loading anything)
record_exit() {
	local what=$1 rc
	shift
	(cd "$T" && timeout -k 5 20 "$BEYLA" record "$@" >/dev/null 2>&1 </dev/null)
	rc=$?
	if grep -qxF "$rc" "$T/rexit.tags"; then
		_ok "beyla record's exit code for $what ($rc) is in EXIT STATUS"
	else
		_not_ok "beyla record's exit code for $what ($rc) is in EXIT STATUS" \
			"\`beyla record $*\` exits $rc; docs/beyla.1 has no '.B $rc' under EXIT STATUS, .SS \"beyla record\""
	fi
}
record_exit "an unknown option" --no-such-option-for-the-man-test
record_exit "no target" -d 1s
record_exit "a process that does not exist" -q -o "$T/none.bz.zst" -p 2147483647
check "record's failure left no file" test ! -e "$T/none.bz.zst"

# --- environment -------------------------------------------------------------------------
tags ENVIRONMENT "" | grep -oE '[A-Z][A-Z0-9_]{2,}' | sort -u >"$T/env.page"
cat "$E2E_ROOT"/record/*.c "$E2E_ROOT"/analyze/*.c "$E2E_ROOT"/cmd/*.c |
	grep -oE 'getenv\("[A-Za-z_][A-Za-z0-9_]*"\)' | sed -E 's/getenv\("(.*)"\)/\1/' | sort -u >"$T/env.code"
check "the code reads environment variables (getenv)" test -s "$T/env.code"
while read -r v; do
	if grep -qxF "$v" "$T/env.page"; then
		_ok "environment variable $v is in ENVIRONMENT"
	else
		_not_ok "environment variable $v is in ENVIRONMENT" \
			"the code calls getenv(\"$v\") ($(grep -lF "getenv(\"$v\")" "$E2E_ROOT"/record/*.c "$E2E_ROOT"/analyze/*.c "$E2E_ROOT"/cmd/*.c | sed "s|$E2E_ROOT/||" | tr '\n' ' ')); docs/beyla.1 has no .TP entry for it under ENVIRONMENT"
	fi
done <"$T/env.code"

# --- version ---------------------------------------------------------------------------
page_version=$(sed -nE 's/^\.TH .*"beyla ([^"]+)".*/\1/p' "$PAGE")
bin_version=$("$BEYLA" --version | awk '{ print $2 }')
check "the page's .TH version ($page_version) is beyla --version's ($bin_version)" \
	eval '[ -n "$page_version" ] && [ "$page_version" = "$bin_version" ]'

# --- rendering ---------------------------------------------------------------------------
groff -man -ww -z "$PAGE" >"$T/groff.err" 2>&1
check_num "groff -man -ww renders it (exit 0)" $? -eq 0
check "groff -man -ww prints no warning" test ! -s "$T/groff.err"
sed 's/^/# groff: /' "$T/groff.err" | head -n 5
for w in 80 60; do
	MANWIDTH=$w LC_ALL=C.UTF-8 man --warnings=all -l "$PAGE" >"$T/man$w.txt" 2>"$T/man$w.err"
	check_num "man -l renders it at $w columns (exit 0)" $? -eq 0
	check "man --warnings=all prints no warning at $w columns" test ! -s "$T/man$w.err"
	sed 's/^/# man: /' "$T/man$w.err" | head -n 5
done
check_grep "the rendered page has the record command" '^ +beyla record$' "$T/man80.txt"

# --- make install DESTDIR=... -----------------------------------------------------------------
# -o beyla: install what is built, never rebuild here (as root in someone's tree).
dest=$T/dest
env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$E2E_ROOT" -o beyla install DESTDIR="$dest" \
	>"$T/install.log" 2>&1
check_num "make install DESTDIR=... exits 0" $? -eq 0
sed 's/^/# install: /' "$T/install.log" | tail -n 5
inst=$(find "$dest" -name beyla.1 -type f | head -n 1)
check "make install put beyla.1 in .../share/man/man1/ (${inst#"$dest"})" eval '[[ "$inst" == */share/man/man1/beyla.1 ]]'
check "the installed page is docs/beyla.1" cmp "$PAGE" "$inst"
mandir=${inst%/man1/beyla.1}
found=$(man -M "$mandir" -w beyla 2>&1)
check "man -M ${mandir#"$dest"} -w beyla finds the installed page" eval '[ "$found" = "$inst" ]'
MANWIDTH=80 man -M "$mandir" -P cat beyla >"$T/installed.txt" 2>&1
check_num "man -M ... beyla shows it (exit 0)" $? -eq 0
check_grep "... and it is beyla's page" '^ +beyla analyze$' "$T/installed.txt"
check "make install put the binary next to it" test -x "${mandir%/share/man}/bin/beyla"
finish
