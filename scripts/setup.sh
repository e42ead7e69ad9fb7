#!/usr/bin/env bash
# setup.sh - install everything that building and testing beyla needs on Debian 12.
#
# Idempotent and quiet: a re-run on a ready machine only checks and returns.
#   1. Debian packages (apt-get update runs once, and only when something is missing).
#   2. tracefs at /sys/kernel/tracing (the recorder's tracepoints live there).
#   3. Servers for the end-to-end tests that are not Debian packages, in a cache
#      directory outside the work tree ($BEYLA_CACHE, default ~/.cache/beyla-test):
#      a Python venv with gunicorn + flask (and grpcio), Express in a node_modules,
#      Jaeger and the gRPC test servers built from the Go module proxy.
# Run as root: `bash scripts/as-root.sh bash scripts/setup.sh` (what
# scripts/quickstart.sh does) runs it directly as root, through sudo otherwise.
# Under sudo HOME is root's, so the cache is root's too, as it is for the
# end-to-end tests that `make test` runs through sudo.  tests/lib.sh finds the same cache.
set -euo pipefail

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# --- 1. Debian packages -------------------------------------------------------
# Build:   build-essential clang llvm (BPF objects), libbpf-dev bpftool (loader,
#          skeletons, vmlinux.h), libelf-dev zlib1g-dev (libbpf's deps),
#          libzstd-dev (capture frames), libsqlite3-dev (analyze), libcurl4-openssl-dev
#          (exports), libcmocka-dev (unit tests), pkg-config, libclang-rt-14-dev
#          (clang's libFuzzer and sanitizer runtimes: make fuzz, the fuzz tests),
#          libcapstone-dev (x86 disassembler: the RET instructions where Go
#          return probes go), libdw-dev (DWARF struct offsets of Go binaries).
# Tools:   zstd sqlite3 (inspect captures and databases by hand).
# Tests:   nginx wrk curl python3 python3-venv (real servers and load),
#          nghttp2-client (h2load: HTTP/2 load, many streams on one connection),
#          nghttp2-proxy (nghttpx: an h2c server that takes HTTP/1.1 Upgrade),
#          procps iproute2 (pgrep, ss), golang-go (Debian's Go 1.19 in
#          /usr/lib/go-1.19: scripts/build_go_servers.sh builds the Go test
#          servers with it as well as with /usr/local/go, so the Go probes are
#          tested on an old and a new Go), nghttp2-client (h2load: many
#          small HTTP/2 requests on one connection in record_go.sh),
#          gnutls-bin (gnutls-cli: a TLS client on a library beyla does not
#          probe, for record_tls.sh).
# Databases: postgresql (server, psql, pgbench; a throwaway cluster made by
#          initdb in the tests), mariadb-server mariadb-client
#          (mariadb-install-db, mariadb, mariadb-slap), redis-server redis-tools
#          (redis-cli, redis-benchmark): real servers and clients for the
#          database protocols (issue 19).  No system instance is started
#          (policy-rc.d below); the tests start their own as they need.
# Report:  chromium (headless: tests/e2e/report_html.sh opens the page `beyla
#          report` writes from disk, reads the DOM it renders, its net log and
#          screenshots in light and dark mode).
# Docs:    groff-base man-db (render docs/beyla.1: tests/e2e/man_page.sh checks it
#          renders without warnings and that `man` finds the installed page).
# TLS:     libssl-dev and openssl (OpenSSL clients in the accuracy harness
#          and make bench; throwaway certificates for the HTTPS tests).
# Root:    sudo (scripts/as-root.sh: a user who is not root runs the README's
#          commands, and `make test` its end-to-end part, through it;
#          tests/e2e/readme_commands.sh runs them as such a user).
PKGS=(build-essential clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
      libzstd-dev zstd libsqlite3-dev sqlite3 libcmocka-dev libcurl4-openssl-dev
      pkg-config libclang-rt-14-dev libcapstone-dev libdw-dev
      nginx wrk curl python3 python3-venv procps iproute2 golang-go nghttp2-client nghttp2-proxy
      gnutls-bin groff-base man-db sudo libssl-dev openssl
      postgresql mariadb-server mariadb-client redis-server redis-tools chromium)
# Node.js is on the machine image (not always from Debian); bring Debian's only if absent.
command -v npm >/dev/null 2>&1 || PKGS+=(nodejs npm)

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || die "not root; missing packages: ${missing[*]} (run: sudo bash scripts/setup.sh)"
	log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Installing nginx must not start a system nginx (it would listen on :80 and
	# be one more 'nginx' for --exe nginx).  Keep services from starting during
	# the install unless the machine already has a policy.
	own_policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		own_policy=1
	fi
	rc=0
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
		>/tmp/beyla-setup-apt.log 2>&1 || rc=$?
	[ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
	if [ "$rc" -ne 0 ]; then
		tail -n 30 /tmp/beyla-setup-apt.log >&2
		die "apt-get failed (full log: /tmp/beyla-setup-apt.log)"
	fi
fi

# --- 2. Kernel interfaces -----------------------------------------------------
if [ ! -d /sys/kernel/tracing/events ]; then
	if [ "$(id -u)" -eq 0 ]; then
		mount -t tracefs nodev /sys/kernel/tracing || die "cannot mount tracefs at /sys/kernel/tracing"
		log "mounted tracefs at /sys/kernel/tracing"
	else
		log "warning: tracefs not mounted at /sys/kernel/tracing and not root to mount it"
	fi
fi
[ -r /sys/kernel/btf/vmlinux ] || log "warning: no BTF at /sys/kernel/btf/vmlinux: beyla cannot be built or run here"

# --- 3. Test servers from PyPI and npm ----------------------------------------
# Later issues add more here (Go servers through the Go module proxy, ...): one
# block per runtime, each idempotent, quiet, and installing into $CACHE only.
CACHE=${BEYLA_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/beyla-test}
mkdir -p "$CACHE"

retry() { # retry CMD...: a registry hiccup should not fail a whole CI run
	local n
	for n in 1 2 3; do
		"$@" && return 0
		log "attempt $n failed: $*"
		sleep $((n * 5))
	done
	return 1
}

PKGS2=()

# Python: gunicorn + flask in a venv of Debian's python3.
VENV=$CACHE/venv
# opentelemetry-proto + protobuf: the official OTLP classes that the OTLP tests decode with.
# hpack: the reference HPACK coder tests/e2e/hpack_python.sh checks beyla's decoder against.
# grpcio, grpcio-tools: a real gRPC stack (the C core) and protoc, for the gRPC test servers
# and clients (tests/servers/grpc, scripts/build_grpc_servers.sh).
# requests: a real HTTPS client over Python's ssl module (OpenSSL), for tests/e2e/record_openssl.sh.
# psycopg[binary] (PostgreSQL, simple, extended and pipeline modes), PyMySQL, redis (redis-py):
# the database clients of the database tests.
PY_PKGS=(gunicorn flask opentelemetry-proto protobuf hpack grpcio grpcio-tools requests "psycopg[binary]" PyMySQL redis)
if [ ! -x "$VENV/bin/python" ]; then
	/usr/bin/python3 -m venv "$VENV" || die "cannot create venv $VENV"
fi
if ! "$VENV/bin/python" -c 'import gunicorn, flask, opentelemetry.proto.collector.trace.v1.trace_service_pb2, hpack, grpc, grpc_tools.protoc, requests, psycopg, pymysql, redis' >/dev/null 2>&1; then
	log "pip install ${PY_PKGS[*]} into $VENV"
	retry "$VENV/bin/pip" install -q --disable-pip-version-check "${PY_PKGS[@]}" \
		|| die "pip install ${PY_PKGS[*]} failed"
fi

# Node: express in $CACHE/node/node_modules.
NODE_DIR=$CACHE/node
NODE_PKGS=(express)
if [ ! -f "$NODE_DIR/node_modules/express/package.json" ]; then
	mkdir -p "$NODE_DIR"
	[ -f "$NODE_DIR/package.json" ] || printf '{"name":"beyla-test-servers","private":true}\n' >"$NODE_DIR/package.json"
	log "npm install ${NODE_PKGS[*]} into $NODE_DIR"
	retry npm install --prefix "$NODE_DIR" --silent --no-audit --no-fund "${NODE_PKGS[@]}" \
		|| die "npm install ${NODE_PKGS[*]} failed"
fi

# Jaeger v2 (tests/e2e/otlp_jaeger.sh, scripts/bench_otlp.sh): built from the Go
# module proxy into $CACHE/bin/jaeger.  Its go.mod has replace directives, so
# `go install pkg@version` refuses it; it is built as a tool of a small module
# instead.  The first build downloads and compiles a few hundred modules:
# about 7 minutes on a 2-core machine; later runs only check the stamp.
JAEGER_VERSION=v1.76.0
JAEGER_DIR=$CACHE/jaeger-build
# /usr/local/go first: golang-go (above) puts Debian's Go 1.19 in /usr/bin,
# too old for jaeger, and sudo's PATH may not reach /usr/local/go/bin.
GO=
[ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go
[ -n "$GO" ] || GO=$(command -v go || true)
if [ "$(cat "$CACHE/bin/jaeger.version" 2>/dev/null)" != "$JAEGER_VERSION" ] || [ ! -x "$CACHE/bin/jaeger" ]; then
	[ -n "$GO" ] || die "go not found: needed to build jaeger for the OTLP tests"
	log "building jaeger $JAEGER_VERSION into $CACHE/bin (several minutes the first time)"
	mkdir -p "$JAEGER_DIR" "$CACHE/bin"
	(
		cd "$JAEGER_DIR" || exit 1
		[ -f go.mod ] || "$GO" mod init beyla-test/jaeger >/dev/null 2>&1 || exit 1
		retry "$GO" get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION" &&
			"$GO" build -o "$CACHE/bin/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger
	) >/tmp/beyla-setup-jaeger.log 2>&1 || { tail -n 20 /tmp/beyla-setup-jaeger.log >&2; die "building jaeger failed"; }
	echo "$JAEGER_VERSION" >"$CACHE/bin/jaeger.version"
fi

# gRPC test servers and clients (tests/e2e/record_grpc.sh, the grpc-* samples):
# Python stubs from grpcio-tools' protoc, and a grpc-go binary whose modules
# (grpc, protobuf, the protoc-gen-go and protoc-gen-go-grpc generators, at
# tests/servers/grpc/go/go.mod's versions) come from the Go module proxy into
# $CACHE/gopath, all built into $CACHE/grpc.  About 1.5 minutes the first
# time; later runs only check its stamp.  The tests rebuild from the module
# cache, offline, when a source changes.
if ! BEYLA_CACHE=$CACHE GO126=$GO bash "$(dirname "${BASH_SOURCE[0]}")/build_grpc_servers.sh" --fetch "$CACHE/grpc" \
	>/tmp/beyla-setup-grpc.log 2>&1; then
	tail -n 20 /tmp/beyla-setup-grpc.log >&2
	die "building the gRPC test servers failed (full log: /tmp/beyla-setup-grpc.log)"
fi

# Go and a JDK (the accuracy harness builds its Go and Java servers with them):
# the machine image has /usr/local/go; otherwise Debian's.
command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || PKGS2+=(golang-go)
command -v javac >/dev/null 2>&1 || PKGS2+=(default-jdk-headless)
if [ ${#PKGS2[@]} -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || die "not root; missing: ${PKGS2[*]}"
	log "installing: ${PKGS2[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PKGS2[@]}" \
		>/tmp/beyla-setup-apt.log 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${PKGS2[@]}" >/tmp/beyla-setup-apt.log 2>&1; } \
		|| die "apt-get failed (full log: /tmp/beyla-setup-apt.log)"
fi

log "ready (cache: $CACHE)"
