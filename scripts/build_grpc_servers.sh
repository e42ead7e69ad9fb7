#!/usr/bin/env bash
# build_grpc_servers.sh [--fetch] [OUTDIR] - the gRPC test servers and clients
# (tests/servers/grpc/: the Probe service of probe.proto) built from source:
#
#   OUTDIR/py/probe_pb2.py, probe_pb2_grpc.py   Python stubs for probe_server.py
#                                               and probe_client.py (PYTHONPATH)
#   OUTDIR/bin/grpcprobe                        grpc-go server and client (go/main.go)
#
# OUTDIR defaults to $BEYLA_CACHE/grpc (~/.cache/beyla-test/grpc).  Nothing
# generated is committed: the stubs are generated here from probe.proto, by
# protoc from grpcio-tools (the test venv's, scripts/setup.sh) for Python and
# with protoc-gen-go and protoc-gen-go-grpc, built from the module proxy at
# the versions tests/servers/grpc/go/go.mod pins, for Go.  The Go module is
# copied to OUTDIR/src and tidied there (its go.sum is written there too).
#
# --fetch: modules may be downloaded (GOPROXY as configured; what
# scripts/setup.sh runs).  Without it GOPROXY=off: the tests build from the
# module cache setup.sh filled, and say to run it when a module is missing.
# Everything is rebuilt only when an input changed (probe.proto, the Go
# sources, go.mod, this script, the Go or grpcio-tools version): OUTDIR/stamp.
# Caches: $BEYLA_CACHE/go-build and $BEYLA_CACHE/gopath, as build_go_servers.sh.
set -euo pipefail

die() { printf 'build_grpc_servers: error: %s\n' "$*" >&2; exit 1; }

fetch=
if [ "${1:-}" = --fetch ]; then fetch=1; shift; fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${BEYLA_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/beyla-test}
OUT=${1:-$CACHE/grpc}
SRC=$ROOT/tests/servers/grpc
GO=${GO126:-/usr/local/go/bin/go}
VPY=$CACHE/venv/bin/python

[ -x "$GO" ] || die "Go toolchain not found at $GO (run: sudo bash scripts/setup.sh)"
"$VPY" -c 'import grpc, grpc_tools.protoc' 2>/dev/null ||
	die "grpcio and grpcio-tools are not in $CACHE/venv (run: sudo bash scripts/setup.sh)"
mkdir -p "$OUT" "$CACHE/go-build" "$CACHE/gopath"
OUT=$(cd "$OUT" && pwd)

export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0 GOOS=linux GOARCH=amd64
export GOCACHE=$CACHE/go-build GOPATH=$CACHE/gopath
[ -n "$fetch" ] || export GOPROXY=off

stamp=$({
	cat "$SRC/probe.proto" "$SRC"/go/go.mod "$SRC"/go/*.go "${BASH_SOURCE[0]}"
	"$GO" env GOVERSION
	"$VPY" -c 'import grpc, grpc_tools; from importlib.metadata import version; print(version("grpcio-tools"), grpc.__version__)'
} | sha256sum | cut -d' ' -f1)
if [ "$(cat "$OUT/stamp" 2>/dev/null)" = "$stamp" ] && [ -x "$OUT/bin/grpcprobe" ] &&
	[ -f "$OUT/py/probe_pb2_grpc.py" ]; then
	exit 0
fi
rm -f "$OUT/stamp"

# Python: the messages and the service stubs
rm -rf "$OUT/py"
mkdir -p "$OUT/py"
"$VPY" -m grpc_tools.protoc -I "$SRC" --python_out="$OUT/py" --grpc_python_out="$OUT/py" "$SRC/probe.proto" ||
	die "protoc (grpcio-tools) could not generate the Python stubs"

# Go: the module copied, the generators at go.mod's versions, the stubs, the binary
nofetch() { [ -n "$fetch" ] || printf ' (modules missing from the cache? run: sudo bash scripts/setup.sh)'; }
rm -rf "$OUT/src"
mkdir -p "$OUT/src" "$OUT/bin"
cp "$SRC"/go/go.mod "$SRC"/go/*.go "$OUT/src/"
cd "$OUT/src"
"$GO" build -trimpath -o "$OUT/bin/" google.golang.org/protobuf/cmd/protoc-gen-go \
	google.golang.org/grpc/cmd/protoc-gen-go-grpc || die "building protoc-gen-go and protoc-gen-go-grpc failed$(nofetch)"
"$VPY" -m grpc_tools.protoc -I "$SRC" \
	--plugin=protoc-gen-go="$OUT/bin/protoc-gen-go" --go_out=. --go_opt=module=beyla.test/grpcprobe \
	--plugin=protoc-gen-go-grpc="$OUT/bin/protoc-gen-go-grpc" --go-grpc_out=. --go-grpc_opt=module=beyla.test/grpcprobe \
	"$SRC/probe.proto" || die "protoc could not generate the Go stubs"
"$GO" mod tidy >/dev/null 2>&1 || "$GO" mod tidy || die "go mod tidy failed$(nofetch)"
"$GO" build -trimpath -o "$OUT/bin/grpcprobe.tmp" . || die "building grpcprobe failed$(nofetch)"
mv -f "$OUT/bin/grpcprobe.tmp" "$OUT/bin/grpcprobe"
echo "$stamp" >"$OUT/stamp"
printf 'build_grpc_servers: built %s (%s) and the Python stubs\n' "$OUT/bin/grpcprobe" "$("$GO" env GOVERSION)" >&2
