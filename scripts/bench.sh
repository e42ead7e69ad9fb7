#!/usr/bin/env bash
# bench.sh - what recording costs a saturated server (`make bench`; not a pass/fail test).
#
# A single-worker nginx answers `return 200 "hello\n"` on loopback; wrk drives
# it with keep-alive connections.  Rounds interleave a run without recording,
# one under `beyla record --exe nginx -q`, and one under the same recorder
# with --empty-hooks (every hook attached, doing nothing: the floor), in a
# rotating order, so drift on the machine hits all alike.  Per round and as
# medians it prints requests/s of each, the ratios on/off and hooks/off,
# events/s, drops (from `beyla info`), and bytes per request on disk (file
# size / requests).
# Targets (issue 2): ratio >= 0.90 with zero drops; <= 64 bytes per request.
#
# Knobs: ROUNDS (3), DURATION seconds per wrk run (5), CONNS (32), BEYLA (./beyla),
#        BENCH_ARGS (extra `beyla record` options, e.g. "--snaplen 0"),
#        BENCH_GO_MODES (the --go modes of the Go rows, "fast full"),
#        BENCH_ONLY (some of "nginx kwaits https h2 unix syscall exec redact go db sched analyze otlp"; default all),
#        H2_STREAMS (streams of the HTTP/2 analyzer captures, 200000).
# Needs root (the recorder loads eBPF).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BEYLA=${BEYLA:-$ROOT/beyla}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-32}
read -r -a EXTRA <<<"${BENCH_ARGS:-}"

die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
want() { [[ " ${BENCH_ONLY:-nginx kwaits https h2 unix syscall exec redact go db sched analyze otlp} " == *" $1 "* ]]; }
[ "$(id -u)" -eq 0 ] || die "needs root (sudo make bench)"
[ -x "$BEYLA" ] || die "$BEYLA not built (make)"
for c in nginx wrk ss; do command -v "$c" >/dev/null || die "$c missing (sudo bash scripts/setup.sh)"; done

# Another recorder's programs would charge every mode (it happened: a stray
# one from an interrupted experiment); say so, since nothing else would.
if command -v bpftool >/dev/null; then
	others=$(bpftool prog show 2>/dev/null | grep -c ' name bz_' || true)
	[ "${others:-0}" -eq 0 ] ||
		echo "bench: warning: $others beyla BPF programs are already loaded (another recorder?): every run pays for them" >&2
fi

T=$(mktemp -d /tmp/beyla-bench.XXXXXX)
NGINX_PID=
PROXY_PID=
REC_PID=
GO_PID=
BPF_STATS_OLD=
DB_BG=() # the database servers of the db section (process groups)
cleanup() {
	for p in "${DB_BG[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
	[ -z "$BPF_STATS_OLD" ] || sysctl -qw kernel.bpf_stats_enabled="$BPF_STATS_OLD" || true
	[ -z "$GO_PID" ] || kill -KILL "$GO_PID" 2>/dev/null || true
	[ -z "${SCHED_PID:-}" ] || kill -KILL -- "-$SCHED_PID" 2>/dev/null || true
	[ -z "${SCHED_IDLE:-}" ] || kill -KILL "$SCHED_IDLE" 2>/dev/null || true
	[ -z "$REC_PID" ] || kill -KILL "$REC_PID" 2>/dev/null || true
	[ -z "$NGINX_PID" ] || kill -TERM -- "-$NGINX_PID" 2>/dev/null || true
	[ -z "$PROXY_PID" ] || kill -TERM -- "-$PROXY_PID" 2>/dev/null || true
	sleep 0.2
	[ -z "$NGINX_PID" ] || kill -KILL -- "-$NGINX_PID" 2>/dev/null || true
	[ -z "$PROXY_PID" ] || kill -KILL -- "-$PROXY_PID" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- nginx ---------------------------------------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$T/nginx"
H2PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TLSPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# the same server on a second port speaking HTTP/2 without TLS (h2c, prior
# knowledge), and on a third HTTPS (OpenSSL; a throwaway certificate)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -keyout "$T/nginx/key.pem" \
	-out "$T/nginx/cert.pem" >"$T/openssl.log" 2>&1 || die "openssl req failed: $(tail -n 3 "$T/openssl.log")"
sed -e "s|@DIR@|$T/nginx|g" \
	-e "s|listen 127.0.0.1:@PORT@;|listen 127.0.0.1:$PORT; listen 127.0.0.1:$H2PORT http2; listen 127.0.0.1:$TLSPORT ssl; ssl_certificate $T/nginx/cert.pem; ssl_certificate_key $T/nginx/key.pem;|" \
	"$ROOT/scripts/nginx-bench.conf" >"$T/nginx/nginx.conf"
setsid nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log" >"$T/nginx.log" 2>&1 </dev/null &
NGINX_PID=$!
for ((i = 0; i < 100; i++)); do
	[ -n "$(ss -Hltn "sport = :$PORT")" ] && break
	sleep 0.05
done
[ -n "$(ss -Hltn "sport = :$PORT")" ] || die "nginx did not start: $(cat "$T/nginx.log" "$T/nginx/error.log" 2>/dev/null)"
URL=http://127.0.0.1:$PORT/

# shellcheck source=scripts/bench_lib.sh
. "$ROOT/scripts/bench_lib.sh"

URL=http://127.0.0.1:$PORT/
REC_TARGET=(--exe nginx)
want nginx && bench_rounds "beyla bench: nginx 1 worker"

# --- the kernel's waits (issue 20): what RX_ARRIVAL and PEER_RX cost --------------
# The same nginx, interleaved: no recorder, the default recorder (an
# RX_ARRIVAL per request, and wrk's sockets, the loopback peers, looked up at
# each of their data_ready), and --no-kernel-waits.
if want kwaits; then
	echo
	echo "beyla bench: the kernel's waits, nginx 1 worker: $(loadgen_line), $ROUNDS rounds"
	printf '%-6s %9s %9s %9s %7s %7s %8s %8s %8s\n' round off_rps on_rps nokw_rps on nokw us_off us_on us_nokw
	kw_on=() kw_no=() kb_off=() kb_on=() kb_no=()
	run_wrk 1
	for ((r = 1; r <= ROUNDS; r++)); do
		for ((k = 0; k < 3; k++)); do # rotating order, as in bench_rounds
			case $(((k + r) % 3)) in
			0) run_measured "$DURATION"; a=$RPS ba=$BUSY_US ;;
			1) record_on "$T/kw.bz.zst"; run_measured "$DURATION"; b=$RPS bb=$BUSY_US; record_off ;;
			2) record_on "$T/kw.bz.zst" --no-kernel-waits; run_measured "$DURATION"; c=$RPS bc=$BUSY_US; record_off ;;
			esac
		done
		rm -f "$T/kw.bz.zst"
		ro=$(awk -v a="$b" -v o="$a" 'BEGIN { printf "%.3f", o ? a / o : 0 }')
		rn=$(awk -v a="$c" -v o="$a" 'BEGIN { printf "%.3f", o ? a / o : 0 }')
		kw_on+=("$ro") kw_no+=("$rn") kb_off+=("$ba") kb_on+=("$bb") kb_no+=("$bc")
		printf '%-6s %9s %9s %9s %7s %7s %8s %8s %8s\n' "$r" "$a" "$b" "$c" "$ro" "$rn" "$ba" "$bb" "$bc"
	done
	printf '%-6s %9s %9s %9s %7s %7s %8s %8s %8s\n' median - - - "$(median "${kw_on[@]}")" "$(median "${kw_no[@]}")" \
		"$(median "${kb_off[@]}")" "$(median "${kb_on[@]}")" "$(median "${kb_no[@]}")"
	echo "throughput ratio with the kernel's waits (on/off): $(median "${kw_on[@]}"); without (--no-kernel-waits/off): $(median "${kw_no[@]}")"
	echo "(us_*: the machine's busy CPU per request, microseconds)"
fi

# --- HTTPS (issue 17): the same nginx over TLS, its plaintext from OpenSSL's
# SSL_read / SSL_write uprobes (keep-alive: the handshakes are wrk's warm-up) ---
if want https; then
	echo
	URL=https://127.0.0.1:$TLSPORT/
	# wrk gets a copy of libssl and libcrypto of its own: the probes sit on
	# the system's file for every process, and the load generator's own
	# calls would be half of what is measured (a client elsewhere pays
	# nothing); what a process that is not a target pays is the next part
	mkdir -p "$T/wrklib"
	cp "$(ldconfig -p | awk '/libssl\.so\.3 .*x86-64/ { print $NF; exit }')" \
		"$(ldconfig -p | awk '/libcrypto\.so\.3 .*x86-64/ { print $NF; exit }')" "$T/wrklib/" ||
		die "no libssl.so.3 / libcrypto.so.3 to copy"
	WRK_LIBS=$T/wrklib bench_rounds "beyla bench: nginx 1 worker over HTTPS (OpenSSL: SSL_read/SSL_write uprobes, entry and return; wrk on a libssl of its own)"

	# One OpenSSL call (tests/tools/ssl_call_cost.c: best of 5 batches of
	# SSL_read + SSL_write returning at once), in four interleaved modes: no
	# recorder; a recorder of something else (the probes sit on the system's
	# libssl for every process: what a process that is not a target pays);
	# the process a target; a target under --empty-hooks (the traps alone).
	echo
	"${CC:-cc}" -O2 -std=c11 -o "$T/ssl_call_cost" "$ROOT/tests/tools/ssl_call_cost.c" -lssl -lcrypto ||
		die "cannot build tests/tools/ssl_call_cost.c (libssl-dev)"
	NSSL=${NSSL:-20000}
	echo "beyla bench: one OpenSSL call (SSL_read or SSL_write returning at once), ns, best of 5 x $NSSL; $ROUNDS rounds"
	printf '%-6s %9s %11s %9s %9s\n' round none non_target target traps
	for ((r = 1; r <= ROUNDS; r++)); do
		a=$("$T/ssl_call_cost" "$NSSL")
		sleep 60 &
		other=$!
		"$BEYLA" record -q -o "$T/other.bz.zst" --force -p "$other" &
		rec=$!
		for ((i = 0; i < 100; i++)); do [ -s "$T/other.bz.zst" ] && break; sleep 0.05; done
		sleep 1 # (the probes on the system's libssl are placed after the header is out)
		b=$("$T/ssl_call_cost" "$NSSL")
		kill -INT "$rec"
		wait "$rec" || true
		kill "$other" 2>/dev/null
		wait "$other" 2>/dev/null || true
		c=$("$BEYLA" record -q -o "$T/ssl.bz.zst" --force -- "$T/ssl_call_cost" "$NSSL")
		d=$("$BEYLA" record -q -o "$T/ssl.bz.zst" --force --empty-hooks -- "$T/ssl_call_cost" "$NSSL")
		printf '%-6s %9s %11s %9s %9s\n' "$r" "$a" "$b" "$c" "$d"
	done
	rm -f "$T/other.bz.zst" "$T/ssl.bz.zst"
fi

# --- HTTP/2 (issue 16): a saturated h2c server, and the analyzer on 200k streams ----
if want h2; then
	command -v h2load >/dev/null || die "h2load missing (sudo bash scripts/setup.sh: nghttp2-client)"
	[ -x /usr/bin/time ] || die "/usr/bin/time missing (apt-get install time)"
	echo
	URL=http://127.0.0.1:$H2PORT/
	LOADGEN=h2load STREAMS=10 bench_rounds "beyla bench: nginx 1 worker over h2c (HTTP/2 frame by frame: header blocks whole, 16 bytes of DATA)"
	# The analyzer on real captures of H2_STREAMS requests, HTTP/2 (h2load,
	# 100 streams on each of 4 connections) and HTTP/1.1 (h2load --h1, the
	# same requests one at a time per connection), recorded the same way.
	N2=${H2_STREAMS:-200000}
	echo "beyla bench: beyla analyze on recorded captures of $N2 requests to nginx (h2load -c4; HTTP/2 -m100, HTTP/1.1 --h1)"
	printf '%-8s %9s %9s %9s %8s %8s %11s %11s %9s\n' proto requests events MB wall_s cpu_s events/s spans/s bytes/req
	for proto in h2 h1; do
		if [ $proto = h2 ]; then
			URL=http://127.0.0.1:$H2PORT/
			args=(-c4 -m100)
		else
			URL=http://127.0.0.1:$PORT/
			args=(-c4 --h1)
		fi
		REC_TARGET=(--exe nginx)
		record_on "$T/an-$proto.bz.zst" --ring-size 64M
		h2load "${args[@]}" -n"$N2" "$URL" >"$T/h2load-$proto.txt" 2>&1 || die "h2load failed: $(tail -n 3 "$T/h2load-$proto.txt")"
		record_off
		"$BEYLA" info "$T/an-$proto.bz.zst" >"$T/an-$proto.info" 2>&1 || true
		ev=$(info_num "$T/an-$proto.info" events)
		rm -f "$T/an-$proto.db"
		/usr/bin/time -f '%e %U %S' -o "$T/an-$proto.time" "$BEYLA" analyze -q -o "$T/an-$proto.db" \
			"$T/an-$proto.bz.zst" >/dev/null 2>"$T/an-$proto.err" || die "beyla analyze failed: $(tail -n 3 "$T/an-$proto.err")"
		read -r wall us sy <"$T/an-$proto.time"
		spans=$(sqlite3 "$T/an-$proto.db" "SELECT count(*) FROM span_rows WHERE kind IN (0, 'server')" 2>/dev/null || echo 0)
		size=$(stat -c %s "$T/an-$proto.bz.zst")
		awk -v p=$proto -v n="$N2" -v e="${ev:-0}" -v sz="$size" -v w="$wall" -v u="$us" -v s="$sy" -v sp="$spans" 'BEGIN {
			c = u + s; eps = w > 0 ? e / w : 0; sps = w > 0 ? sp / w : 0; bpr = n ? sz / n : 0
			printf "%-8s %9d %9d %9.1f %8.2f %8.2f %11d %11d %9.1f\n", p, n, e, sz / 1e6, w, c, eps, sps, bpr }'
		rm -f "$T/an-$proto.bz.zst" "$T/an-$proto.db"
	done
	echo "(spans/s: server spans by wall-clock time; bytes/req: the capture's size per request, nginx's side)"
	URL=http://127.0.0.1:$PORT/
fi

# --- a proxy to a backend over a UNIX socket, next to the same over TCP (issue 18) ---
if want unix; then
	# A second single-worker nginx proxies to the first, which also listens on
	# a UNIX socket: once to it over the socket, once over TCP loopback, both
	# with keep-alive upstream connections.  Both ends are recorded, by pid
	# (--exe nginx would adopt any other nginx on the machine too).
	echo
	mkdir -p "$T/proxy"
	UPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	TPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	sed -e "s|@DIR@|$T/nginx|g" -e "s|listen 127.0.0.1:@PORT@;|listen 127.0.0.1:$PORT; listen unix:$T/backend.sock;|" \
		"$ROOT/scripts/nginx-bench.conf" >"$T/nginx/nginx.conf"
	kill -HUP "$NGINX_PID" # reload: the backend now listens on the socket too
	for ((i = 0; i < 100; i++)); do [ -S "$T/backend.sock" ] && break; sleep 0.05; done
	[ -S "$T/backend.sock" ] || die "nginx did not listen on $T/backend.sock: $(tail -n 3 "$T/nginx/error.log")"
	# (user root: the socket is in the mode-700 scratch directory, which a
	# worker running as nobody cannot reach; it answered 502 to every request)
	cat >"$T/proxy/nginx.conf" <<EOF
user root;
worker_processes 1;
daemon off;
master_process on;
pid $T/proxy/nginx.pid;
error_log $T/proxy/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $T/proxy/client_body;
    proxy_temp_path $T/proxy/proxy;
    fastcgi_temp_path $T/proxy/fastcgi;
    uwsgi_temp_path $T/proxy/uwsgi;
    scgi_temp_path $T/proxy/scgi;
    upstream over_unix { server unix:$T/backend.sock; keepalive 64; }
    upstream over_tcp { server 127.0.0.1:$PORT; keepalive 64; }
    server {
        listen 127.0.0.1:$UPORT;
        location / { proxy_pass http://over_unix; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
    server {
        listen 127.0.0.1:$TPORT;
        location / { proxy_pass http://over_tcp; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
}
EOF
	setsid nginx -p "$T/proxy" -c "$T/proxy/nginx.conf" -e "$T/proxy/error.log" >"$T/proxy.log" 2>&1 </dev/null &
	PROXY_PID=$!
	for ((i = 0; i < 100; i++)); do
		[ -n "$(ss -Hltn "sport = :$TPORT")" ] && break
		sleep 0.05
	done
	[ -n "$(ss -Hltn "sport = :$TPORT")" ] || die "the proxy nginx did not start: $(cat "$T/proxy.log" "$T/proxy/error.log" 2>/dev/null)"
	for port in "$UPORT" "$TPORT"; do
		[ "$(curl -s "http://127.0.0.1:$port/")" = hello ] ||
			die "the proxy on $port does not answer hello: $(tail -n 3 "$T/proxy/error.log")"
	done
	REC_TARGET=(-p "$NGINX_PID" -p "$PROXY_PID")
	URL=http://127.0.0.1:$UPORT/
	bench_rounds "beyla bench: nginx proxy -> nginx backend over a UNIX socket (both recorded)"
	echo
	URL=http://127.0.0.1:$TPORT/
	bench_rounds "beyla bench: nginx proxy -> nginx backend over TCP loopback (both recorded)"
	URL=http://127.0.0.1:$PORT/
fi

# --- what any system call pays while a recorder runs --------------------------------
if want syscall; then
	# Any syscall tracepoint (beyla's accept and connect hooks) makes the
	# kernel send every system call of every process through its tracing
	# path, targets or not; the socket hooks cost only the calls they fire in.
	echo
	"${CC:-cc}" -O2 -std=c11 -o "$T/syscall_cost" "$ROOT/tests/tools/syscall_cost.c" ||
		die "cannot build tests/tools/syscall_cost.c"
	REC_TARGET=(--exe 'beyla-bench-matches-nothing')
	echo "beyla bench: one getppid() of a process that is no target, ns (best of 5 x 1M calls), $((ROUNDS < 5 ? 5 : ROUNDS)) rounds"
	printf '%-6s %8s %8s %8s\n' round off on hooks
	s_off=() s_on=() s_hooks=()
	sys_rounds=$((ROUNDS < 5 ? 5 : ROUNDS)) # a second each; the host's speed drifts
	for ((r = 1; r <= sys_rounds; r++)); do
		for ((k = 0; k < 3; k++)); do # rotating order, as in bench_rounds
			case $(((k + r) % 3)) in
			0) a=$("$T/syscall_cost") ;;
			1)
				record_on "$T/sys.bz.zst"
				b=$("$T/syscall_cost")
				record_off
				;;
			2)
				record_on "$T/sys.bz.zst" --empty-hooks
				c=$("$T/syscall_cost")
				record_off
				;;
			esac
		done
		rm -f "$T/sys.bz.zst"
		s_off+=("$a") s_on+=("$b") s_hooks+=("$c")
		printf '%-6s %8s %8s %8s\n' "$r" "$a" "$b" "$c"
	done
	printf '%-6s %8s %8s %8s\n' median "$(median "${s_off[@]}")" "$(median "${s_on[@]}")" "$(median "${s_hooks[@]}")"
	echo "every system call on the machine, median: +$(awk -v a="$(median "${s_on[@]}")" -v b="$(median "${s_off[@]}")" \
		'BEGIN { printf "%.0f", a - b }') ns while recording (the accept/connect syscall tracepoints)"
fi

# --- what an exec costs while a recorder runs (issue 15) ----------------------------
if want exec; then
	# Three modes, interleaved: no recorder; a recorder of something else
	# (the exec tracepoint fires for every exec and returns: no target); and
	# --exe matching nothing, where every exec'ing process is a tentative
	# target until the recorder judges its EXEC record (the kernel reads its
	# argv and environment; the recorder runs the regexes).  Per exec: the
	# caller's time (fork + exec + exit + wait of /bin/true) and the
	# recorder's own CPU.
	echo
	"${CC:-cc}" -O2 -std=c11 -o "$T/exec_cost" "$ROOT/tests/tools/exec_cost.c" ||
		die "cannot build tests/tools/exec_cost.c"
	NEXEC=300
	# the recorder's CPU in ns (/proc/PID/schedstat): clock ticks are too coarse here
	sched_ns() { awk '{ print $1 }' "/proc/$1/schedstat" 2>/dev/null || echo 0; }
	sleep 3600 &
	IDLE_PID=$!
	echo "beyla bench: one exec of /bin/true (best of 5 x $NEXEC), us; recorder CPU per exec, us; $ROUNDS rounds"
	printf '%-6s %8s %8s %8s %10s %10s
' round off other exe rec_other rec_exe
	e_off=() e_oth=() e_exe=() c_oth=() c_exe=()
	for ((r = 1; r <= ROUNDS; r++)); do
		for ((k = 0; k < 3; k++)); do
			case $(((k + r) % 3)) in
			0) a=$("$T/exec_cost" "$NEXEC") ;;
			1)
				REC_TARGET=(-p "$IDLE_PID")
				record_on "$T/exec.bz.zst"
				t0=$(sched_ns "$REC_PID")
				b=$("$T/exec_cost" "$NEXEC")
				cb=$(awk -v a="$t0" -v b="$(sched_ns "$REC_PID")" -v n=$((NEXEC * 5)) 'BEGIN { printf "%.1f", (b - a) / 1e3 / n }')
				record_off
				;;
			2)
				REC_TARGET=(--exe 'beyla-bench-matches-nothing')
				record_on "$T/exec.bz.zst"
				t0=$(sched_ns "$REC_PID")
				c=$("$T/exec_cost" "$NEXEC")
				cc_=$(awk -v a="$t0" -v b="$(sched_ns "$REC_PID")" -v n=$((NEXEC * 5)) 'BEGIN { printf "%.1f", (b - a) / 1e3 / n }')
				record_off
				;;
			esac
		done
		rm -f "$T/exec.bz.zst"
		e_off+=("$a") e_oth+=("$b") e_exe+=("$c") c_oth+=("$cb") c_exe+=("$cc_")
		printf '%-6s %8s %8s %8s %10s %10s
' "$r" "$a" "$b" "$c" "$cb" "$cc_"
	done
	printf '%-6s %8s %8s %8s %10s %10s
' median "$(median "${e_off[@]}")" "$(median "${e_oth[@]}")" \
		"$(median "${e_exe[@]}")" "$(median "${c_oth[@]}")" "$(median "${c_exe[@]}")"
	echo "an exec while --exe judges every one, median: $(awk -v a="$(median "${e_exe[@]}")" -v b="$(median "${e_off[@]}")" \
		'BEGIN { printf "%+.1f", a - b }') us for the caller (noise: see the rounds), $(median "${c_exe[@]}") us of the recorder's CPU"
	# The caller's share exactly: the exec hook's own run time, from the
	# kernel's BPF statistics (one more batch per mode; they cost two clock
	# reads per run, so not during the rounds).
	if command -v bpftool >/dev/null && old=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null); then
		for mode in other exe; do
			if [ $mode = other ]; then REC_TARGET=(-p "$IDLE_PID"); else REC_TARGET=(--exe 'beyla-bench-matches-nothing'); fi
			record_on "$T/exec.bz.zst"
			bpftool -j prog show >"$T/eprog0.json"
			BPF_STATS_OLD=$old
			sysctl -qw kernel.bpf_stats_enabled=1
			"$T/exec_cost" "$NEXEC" >/dev/null
			sysctl -qw kernel.bpf_stats_enabled="$old"
			BPF_STATS_OLD=
			bpftool -j prog show >"$T/eprog1.json"
			record_off
			python3 - "$T/eprog0.json" "$T/eprog1.json" "$mode" <<'PY'
import json, sys
before = {p["id"]: p for p in json.load(open(sys.argv[1]))}
for p in json.load(open(sys.argv[2])):
    if p.get("name") != "bz_exec" or "run_cnt" not in p or p["id"] not in before:
        continue
    runs = p["run_cnt"] - before[p["id"]].get("run_cnt", 0)
    ns = p["run_time_ns"] - before[p["id"]].get("run_time_ns", 0)
    if runs > 0:
        print(f"the exec hook ({sys.argv[3]}): {ns / runs / 1000:.1f} us per exec over {runs} execs (the kernel's BPF statistics)")
PY
		done
	fi
	kill "$IDLE_PID" 2>/dev/null || true
fi

# --- redaction per DATA record, with and without masking values that come back -----
if want redact; then
	echo
	"${CC:-cc}" -O2 -std=c11 -D_GNU_SOURCE -I"$ROOT" -I"$ROOT/build" -o "$T/redact_cost" \
		"$ROOT/tests/tools/redact_cost.c" "$ROOT/build/libbeyla.a" -lzstd -lz -lbpf ||
		die "cannot build tests/tools/redact_cost.c"
	echo "beyla bench: redaction per DATA record, ns (echo: values masked where they come back, record/redact_echo.c)"
	"$T/redact_cost" "$ROOT"/samples/*-mix.bz.zst "$ROOT/samples/client-span.bz.zst"
fi

# --- a Go server through the Go uprobes (issue 6) ---------------------------------
if want go; then
	# goserver (tests/servers/go, Go 1.26) on one OS thread for Go code
	# (GOMAXPROCS=1, like nginx's single worker), /hello over HTTP and HTTPS.
	echo
	bash "$ROOT/scripts/build_go_servers.sh" "$ROOT/build/go" >"$T/go-build.log" 2>&1 ||
		die "cannot build the Go test server: $(tail -n 5 "$T/go-build.log")"
	setsid env GOMAXPROCS=1 "$ROOT/build/go/goserver-go1.26" >"$T/goserver.log" 2>&1 </dev/null &
	GO_PID=$!
	for ((i = 0; i < 100; i++)); do
		grep -qs '^listening ' "$T/goserver.log" && break
		sleep 0.05
	done
	GO_HTTP=$(sed -n 's/^listening http=\([^ ]*\) .*/\1/p' "$T/goserver.log")
	GO_HTTPS=$(sed -n 's/.* https=\([^ ]*\).*/\1/p' "$T/goserver.log")
	[ -n "$GO_HTTPS" ] || die "the Go server did not start: $(cat "$T/goserver.log")"
	REC_TARGET=(-p "$GO_PID")
	# --go=fast is the default (no single-stepped probe); --go=full adds the
	# handler's end, the crypto/tls reads' returns and the round trips'
	# returns (docs/go.md)
	EXTRA_SAVED=("${EXTRA[@]}")
	for gomode in ${BENCH_GO_MODES:-fast full}; do
		EXTRA=("${EXTRA_SAVED[@]}" "--go=$gomode")
		for scheme in http https; do
			if [ $scheme = http ]; then URL=http://$GO_HTTP/hello; else URL=https://$GO_HTTPS/hello; fi
			bench_rounds "beyla bench: Go net/http server over ${scheme^^} (GOMAXPROCS=1), --go=$gomode"
			echo "Go probe events per request (last round): handler $(per_request "$LAST_INFO" go_handler "$LAST_REQS")," \
				"crypto/tls $(per_request "$LAST_INFO" go_tls "$LAST_REQS");" \
				"socket reads $(per_request "$LAST_INFO" recv "$LAST_REQS"), writes $(per_request "$LAST_INFO" send "$LAST_REQS")"
			echo
		done
	done
	EXTRA=("${EXTRA_SAVED[@]}")
fi

# --- databases (issue 19): a saturated PostgreSQL and Redis, the server recorded ---
if want db; then
	# tests/db_servers.sh starts them (throwaway, with passwords); what it
	# needs of tests/lib.sh, here
	start_bg() { local n=$1; shift; setsid "$@" >"$T/$n.log" 2>&1 </dev/null & BG_PID=$!; disown "$BG_PID"; DB_BG+=("$BG_PID"); }
	wait_for_port() { local i; for ((i = 0; i < ${2:-10} * 20; i++)); do [ -n "$(ss -Hltn "sport = :$1")" ] && return 0; sleep 0.05; done; return 1; }
	bail() { die "$*"; }
	# shellcheck source=tests/db_servers.sh
	. "$ROOT/tests/db_servers.sh"
	stop_db() { local p; for p in "${DB_BG[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done; sleep 0.5; }
	for c in pgbench redis-benchmark; do command -v "$c" >/dev/null || die "$c missing (sudo bash scripts/setup.sh)"; done
	PGPORT_B=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	RDPORT_B=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	db_start_postgres "$T/pg" "$PGPORT_B"
	export PGPASSWORD=$DB_PASSWORD
	pgbench -i -q -s 1 -h 127.0.0.1 -p "$PGPORT_B" -U "$DB_USER" "$DB_NAME" >"$T/pgbench-init.log" 2>&1 ||
		die "pgbench -i failed: $(tail -n 3 "$T/pgbench-init.log")"
	echo
	# the postmaster and its backends (forked per connection: adopted as its children)
	REC_TARGET=(-p "$PG_PID")
	BENCH_KEEP_CAP=$T/pg-last.bz.zst
	for mode in simple extended; do
		# select-only (-S): one SELECT by primary key per transaction; the
		# simple query protocol, then the extended one (-M prepared: Bind/Execute)
		LOADGEN=pgbench PGB_ARGS="-n -S -M $([ $mode = simple ] && echo simple || echo prepared) -h 127.0.0.1 -p $PGPORT_B -U $DB_USER $DB_NAME" \
			CONNS=8 bench_rounds "beyla bench: PostgreSQL $(postgres --version 2>/dev/null | awk '{ print $3 }') under pgbench select-only, $mode protocol (the server recorded)"
		echo
		bench_analyze_capture "$BENCH_KEEP_CAP" "PostgreSQL ($mode)"
		echo
	done
	db_start_redis "$T/rd" "$RDPORT_B"
	REC_TARGET=(-p "$RD_PID")
	for t in get set; do
		LOADGEN=redis-benchmark RB_ARGS="-h 127.0.0.1 -p $RDPORT_B -a $DB_PASSWORD -t $t" CONNS=32 \
			bench_rounds "beyla bench: redis-server $(redis-server --version | awk '{ print $3 }') under redis-benchmark -t $t (the server recorded)"
		echo
		bench_analyze_capture "$BENCH_KEEP_CAP" "Redis ($t)"
		echo
	done
	unset BENCH_KEEP_CAP PGPASSWORD
	stop_db
fi

# --- --sched (issue 20): the scheduler hooks on a saturated nginx, and on a
# forking, CPU-bound Python server (a process per connection, 1 ms of CPU per
# request: tests/servers/sched_server.py) ---
if want sched; then
	# shellcheck source=scripts/bench_sched.sh
	. "$ROOT/scripts/bench_sched.sh"
	echo
	URL=http://127.0.0.1:$PORT/
	REC_TARGET=(--exe nginx)
	bench_sched_rounds "beyla bench: --sched, nginx 1 worker"
	echo
	EXTRA_SAVED=("${EXTRA[@]}")
	EXTRA=("${EXTRA[@]}" --sched)
	echo "(with --sched)"
	bpf_prog_times
	EXTRA=("${EXTRA_SAVED[@]}")
	echo
	SPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	setsid python3 "$ROOT/tests/servers/sched_server.py" forks "$SPORT" "${SCHED_BURN_MS:-1}" /dev/null \
		>"$T/sched_server.log" 2>&1 </dev/null &
	SCHED_PID=$!
	for ((i = 0; i < 100; i++)); do
		[ -n "$(ss -Hltn "sport = :$SPORT")" ] && break
		sleep 0.05
	done
	URL=http://127.0.0.1:$SPORT/
	REC_TARGET=(-p "$SCHED_PID")
	CONNS=${SCHED_CONNS:-8} bench_sched_rounds "beyla bench: --sched, forking Python server, ${SCHED_BURN_MS:-1} ms CPU per request"
	kill -TERM -- "-$SCHED_PID" 2>/dev/null || true
	SCHED_PID=

	# What every other process pays: one pass of a pipe ping-pong between
	# two processes that are not targets (tests/tools/switch_cost.c: a
	# wake-up and two switches), without a recorder, beside a recorder
	# without --sched and beside one with it (recording an idle process).
	echo
	"${CC:-cc}" -O2 -std=c11 -o "$T/switch_cost" "$ROOT/tests/tools/switch_cost.c" ||
		die "cannot build tests/tools/switch_cost.c"
	echo "beyla bench: one pipe ping-pong pass between two processes that are not targets, ns (best of 5 x 20000 round trips); $ROUNDS rounds"
	printf '%-6s %9s %9s %9s\n' round none recorder sched
	sleep 600 &
	SCHED_IDLE=$! # (killed by the cleanup too: it holds the caller's flock, if any)
	for ((r = 1; r <= ROUNDS; r++)); do
		a=$("$T/switch_cost")
		REC_TARGET=(-p "$SCHED_IDLE")
		record_on "$T/idle.bz.zst"
		b=$("$T/switch_cost")
		record_off
		record_on "$T/idle.bz.zst" --sched
		c=$("$T/switch_cost")
		record_off
		printf '%-6s %9s %9s %9s\n' "$r" "$a" "$b" "$c"
	done
	kill "$SCHED_IDLE" 2>/dev/null || true
	SCHED_IDLE=
	rm -f "$T/idle.bz.zst"
fi

# The analyzer's throughput and memory (issue 3) follow: scripts/bench_analyze.sh.

# --- the analyzer (issue 3): synthetic captures, no root needed -------------------
if want analyze; then
	echo
	bash "$ROOT/scripts/bench_analyze.sh"
fi

# --- the OTLP export (issue 5): spans/s to a file and to Jaeger, no root needed -----
if want otlp; then
	echo
	bash "$ROOT/scripts/bench_otlp.sh"
fi
