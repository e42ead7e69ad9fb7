#!/usr/bin/env bash
# hpack_python.sh - beyla's HPACK decoder (analyze/proto/hpack.c) against
# software this project did not write: Python's hpack package (PyPI,
# installed in the test venv by scripts/setup.sh).
#
# For a few seeds, Python's hpack Encoder encodes thousands of random header
# lists over one context (tests/e2e/hpack_python.py gen: with and without
# Huffman, SETTINGS changes with size updates down and up, sensitive fields
# never indexed, fields without indexing, values of every octet, long values
# that evict), and tests/tools/hpack_dump (built here against
# build/libbeyla.a) must print exactly what Python's hpack Decoder decodes:
# every name, value, never-indexed flag, and the dynamic table's size after
# every block.  Then the masking the recorder does: hpack_dump masks every
# literal value of every block (bz_hpack_mask_string), and Python's Decoder
# must decode the masked blocks to the same names, the same value lengths
# and the same table sizes as the originals (an independent decoder accepts
# the masks' Huffman codes and padding, and the peers' tables stay in step),
# beyla's decoder must decode them as Python does, and must flag every
# non-empty literal value as masked.
# Needs no root and no BPF.  The library is $TEST_BUILD's (build by default;
# build-san, sanitizers and all, under `make sanitize`).  HPACK_BLOCKS (default 3000) blocks per seed,
# HPACK_SEEDS (default "1 2 3").
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need cc cmp nm
BUILD_DIR=${TEST_BUILD:-build} # build-san under `make sanitize`
LIB=$E2E_ROOT/$BUILD_DIR/libbeyla.a
VPY=$BEYLA_VENV/bin/python
BLOCKS=${HPACK_BLOCKS:-3000}
SEEDS=${HPACK_SEEDS:-1 2 3}
[ -f "$LIB" ] || bail "$BUILD_DIR/libbeyla.a is built" "missing: run make"
"$VPY" -c 'import hpack' 2>/dev/null || bail "Python's hpack is in the test venv" "run: sudo bash scripts/setup.sh"
log "python hpack $("$VPY" -c 'import hpack; print(hpack.__version__)')"

DUMP=$T/hpack_dump
san=() # a sanitized library links only with the sanitizers' runtimes, which then check the driver too
if nm "$LIB" 2>/dev/null | grep ' U __asan_' >/dev/null; then # (not -q: nm would die of SIGPIPE, and pipefail)
	san=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
fi
cc -O2 -std=c11 -D_GNU_SOURCE "${san[@]}" -I"$E2E_ROOT" -o "$DUMP" "$E2E_ROOT/tests/tools/hpack_dump.c" "$LIB" -lpthread \
	>"$T/cc.log" 2>&1
check "tests/tools/hpack_dump.c builds against $BUILD_DIR/libbeyla.a" test -x "$DUMP"
[ -x "$DUMP" ] || { sed 's/^/#   | /' "$T/cc.log" | head -n 10; finish; }
PYHELP=$E2E_ROOT/tests/e2e/hpack_python.py

for seed in $SEEDS; do
	s=$T/s$seed
	"$VPY" "$PYHELP" gen "$seed" "$BLOCKS" "$s.bin"
	check_num "seed $seed: Python encoded the blocks (exit)" $? -eq 0
	"$VPY" "$PYHELP" decode "$s.bin" >"$s.py.txt"
	"$DUMP" -m "$s.masked.bin" "$s.bin" >"$s.c.txt"
	check_num "seed $seed: hpack_dump decoded and masked every literal (exit)" $? -eq 0
	"$DUMP" -v "$s.bin" >"$s.cv.txt"

	# the mix is what it should be, or the comparison proves little
	check_num "seed $seed: $BLOCKS blocks decoded by Python, none refused" \
		"$(grep -c '^size ' "$s.py.txt")" -eq "$BLOCKS"
	for r in I A W N; do
		check_num "seed $seed: fields of representation $r (I indexed, A added, W without, N never)" \
			"$(awk -F'\t' -v r="$r" 'NF == 5 && $4 == r { n++ } END { print n + 0 }' "$s.cv.txt")" -gt 100
	done
	check_num "seed $seed: distinct table sizes (evictions, size updates)" \
		"$(grep '^size ' "$s.py.txt" | sort -u | wc -l)" -gt 50
	check_num "seed $seed: blocks after which the table was empty (size updates to 0)" \
		"$(grep -c '^size 0$' "$s.py.txt")" -gt 0

	if cmp -s "$s.py.txt" "$s.c.txt"; then
		_ok "seed $seed: beyla decodes every block as Python's hpack does ($(wc -l <"$s.c.txt") lines)"
	else
		_not_ok "seed $seed: beyla decodes every block as Python's hpack does" "first difference (< python, > beyla):"
		diff "$s.py.txt" "$s.c.txt" | head -n 6 | cut -c1-200 | sed 's/^/#   | /'
	fi

	# masked: Python sees the same lengths and table sizes, beyla what Python sees
	"$VPY" "$PYHELP" decode -l "$s.bin" >"$s.py.len.txt"
	"$VPY" "$PYHELP" decode -l "$s.masked.bin" >"$s.pym.len.txt"
	"$VPY" "$PYHELP" decode "$s.masked.bin" >"$s.pym.txt"
	"$DUMP" -v "$s.masked.bin" >"$s.cmv.txt"
	"$DUMP" "$s.masked.bin" >"$s.cm.txt"
	check "seed $seed: the masked blocks decode in Python to the same names, value lengths and table sizes" \
		cmp "$s.py.len.txt" "$s.pym.len.txt"
	check "seed $seed: beyla decodes the masked blocks as Python does" cmp "$s.pym.txt" "$s.cm.txt"
	check "seed $seed: the masks changed the values" eval '! cmp -s "$s.py.txt" "$s.pym.txt"'
	unflagged=$(awk -F'\t' 'NF == 5 && $4 != "I" && $2 != "" && $5 != 1 { n++ } END { print n + 0 }' "$s.cmv.txt")
	check_num "seed $seed: every non-empty literal value of the masked blocks is flagged masked" "$unflagged" -eq 0
	check_num "seed $seed: ... and there were many" \
		"$(awk -F'\t' 'NF == 5 && $5 == 1 { n++ } END { print n + 0 }' "$s.cmv.txt")" -gt 1000
done
finish
