#!/usr/bin/env bash
# build_go_servers.sh OUTDIR - builds tests/servers/go/goserver with each Go
# toolchain the Go tests need, with and without symbols:
#
#   OUTDIR/goserver-go1.26  OUTDIR/goserver-go1.26-stripped
#   OUTDIR/goserver-go1.19  OUTDIR/goserver-go1.19-stripped
#
# Stripped means -ldflags='-s -w' (no .symtab, no DWARF), as many release
# binaries are built: beyla must find functions in .gopclntab and take
# struct offsets from its per-version table for those.
#
# Toolchains (override with GO126 / GO119): Go 1.26 is /usr/local/go (the
# machine image's), Go 1.19 is Debian's golang-go (scripts/setup.sh
# installs it).  A missing toolchain is an error, never a skip: tests that
# need these binaries must fail without them.
#
# A binary is rebuilt only when it is older than the sources or this script,
# or was built by another toolchain version.  The build cache lives in
# $BEYLA_CACHE/go-build (default ~/.cache/beyla-test/go-build).
set -euo pipefail

die() { printf 'build_go_servers: error: %s\n' "$*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
OUT=$1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC=$ROOT/tests/servers/go/goserver
CACHE=${BEYLA_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/beyla-test}

mkdir -p "$OUT" "$CACHE/go-build" "$CACHE/gopath"
OUT=$(cd "$OUT" && pwd)

# Reproducible and offline: only the given toolchain, no module downloads
# (the server uses the standard library only), no cgo, no VCS stamping (the
# source sits in a git work tree whose owner may differ from the builder).
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0 GOOS=linux GOARCH=amd64
export GOCACHE=$CACHE/go-build GOPATH=$CACHE/gopath GOPROXY=off

# build NAME GO WANT_VERSION_PREFIX: NAME and NAME-stripped.
build() {
	local name=$1 go=$2 want=$3 ver v bin ldflags
	[ -x "$go" ] || die "Go toolchain for $name not found at $go (run: sudo bash scripts/setup.sh)"
	ver=$("$go" env GOVERSION) || die "$go does not run"
	case "$ver" in
	"$want" | "$want".* | "$want"rc* | "$want"beta*) ;;
	*) die "$go is $ver, expected $want.x for $name" ;;
	esac
	for bin in "$OUT/$name" "$OUT/$name-stripped"; do
		if [ -x "$bin" ] && [ "$bin" -nt "$SRC/main.go" ] && [ "$bin" -nt "$SRC/go.mod" ] &&
			[ "$bin" -nt "${BASH_SOURCE[0]}" ]; then
			v=$("$go" version "$bin" 2>/dev/null) || v=
			[ "${v#*: }" = "$ver" ] && continue
		fi
		ldflags=
		[ "$bin" = "$OUT/$name-stripped" ] && ldflags='-s -w'
		(cd "$SRC" && "$go" build -buildvcs=false -ldflags="$ldflags" -o "$bin.tmp" .) ||
			die "building $bin with $go ($ver) failed"
		mv -f "$bin.tmp" "$bin"
		printf 'build_go_servers: built %s (%s)\n' "${bin#"$ROOT"/}" "$ver" >&2
	done
}

build goserver-go1.26 "${GO126:-/usr/local/go/bin/go}" go1.26
build goserver-go1.19 "${GO119:-/usr/lib/go-1.19/bin/go}" go1.19
