#!/usr/bin/env bash
# fuzz_smoke.sh - the `fuzz` group of tests/run.sh: builds every libFuzzer
# target of tests/fuzz/, replays its corpus and the saved crash inputs, then
# fuzzes it briefly.  The fuzzing takes FUZZ_SMOKE_BUDGET seconds in all
# (default 30, split evenly over the targets, at least 3 s each), plus the
# build and replay.  Prints one `ok - TARGET ...` / `not ok - TARGET ...`
# line per target, which tests/run.sh counts.  See scripts/fuzz.sh.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FUZZ_BUDGET=${FUZZ_SMOKE_BUDGET:-30} exec bash "$ROOT/scripts/fuzz.sh" "$@"
