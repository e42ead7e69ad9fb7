#!/usr/bin/env bash
# quickstart.sh - the README's first command: set up the machine, build beyla,
# record a small real workload (scripts/demo_workload.py: a Python HTTP server
# and ~50 requests to it) into demo.bz.zst, describe it and analyse it into
# demo.db.  Each command is printed before it runs.
#
# Run it as yourself, root or not.  Only the two steps that need root (the
# package setup and `beyla record`) go through scripts/as-root.sh: plainly
# as root, through sudo for a user who has it.  The build, demo.bz.zst (the
# recorder gives it to the sudo user) and demo.db stay yours.  Under
# `sudo bash scripts/quickstart.sh` everything, the build included, would be
# root's.
#
# It can be run again: --force replaces the previous demo's files (and only
# those two).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

as_root() { bash scripts/as-root.sh --show "$@"; }
run() { printf '+ %s\n' "$*" >&2; "$@"; }

as_root bash scripts/setup.sh
run make
as_root ./beyla record -d 10s --force -o demo.bz.zst -- python3 scripts/demo_workload.py
run ./beyla info demo.bz.zst
run ./beyla analyze --force demo.bz.zst
printf '\nquickstart: done; try: sqlite3 demo.db "select name, count(*) from spans where kind = '"'"'server'"'"' group by 1"\n' >&2
