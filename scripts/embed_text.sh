#!/bin/sh
# embed_text.sh NAME FILE [HEADER] - FILE as a C string constant NAME, on
# stdout, after #include "HEADER" (the declaration it must agree with).
# The build's own copy of a text file the binary carries (schema/spans.sql):
# the Makefile regenerates it whenever FILE changes, so there is one source.
set -eu
name=$1
file=$2
printf '/* Generated from %s by scripts/embed_text.sh at build time: edit %s. */\n' "$file" "$file"
[ -z "${3:-}" ] || printf '#include "%s"\n' "$3"
printf 'const char %s[] =\n' "$name"
# backslashes and quotes escaped, each line a literal ending in \n; every ?
# as \? so that no "??x" in the text is read as a C trigraph (-std=c11)
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/^/\t"/' -e 's/$/\\n"/' "$file"
printf ';\n'
