#!/bin/bash
# Where fcgate's worker spends a proxied request.
#
#   t/bench/profile.sh callgrind [BUILD_DIR]
#       callgrind.sh's N+2000 run of fcgate, its self cost (user-space
#       instructions) summed by phase, then the top functions, per request.
#   t/bench/profile.sh perf [BUILD_DIR] [SECONDS]
#       perf record -e cpu-clock -g (a software clock: it needs no
#       hardware counters) on the two workers of an fcgate in front of
#       three fcgi_benchd with backend keep-alive, under SECONDS (20) of
#       wrk -c50 -t2: the share of samples in the kernel and in user
#       space, and the top symbols.  This one is a load run: give it the
#       machine.  PROFILE_PATH (default /) is the path wrk asks for:
#       /?size=65536 for 64 KiB answers.
set -eu
cd "$(dirname "$0")/../.."
repo="$PWD"
what="${1:-callgrind}"
build="$(cd "${2:-build}" && pwd)"
T="$(mktemp -d "${TMPDIR:-/tmp}/fcgate-prof.XXXXXX")"
trap 'rm -rf "$T"' EXIT

# The phase of a callgrind "file:function" (libc's and the kernel's
# helpers are their own phases: callgrind charges a callee's self cost
# to the callee).
phases() {
	awk -v per="$1" '
	function phase(f) {
		if (f ~ /http_request\.c|request_read\.c|worker\/headers\.c|uri\.c/) return "HTTP request parse"
		if (f ~ /fcgi_params\.c|vars[a-z_]*\.c|fcgi_put_nv|fcgi_nv_size/) return "params encoding, variables"
		if (f ~ /fcgi_record\.c|fcgi_client\.c/) return "FastCGI records, client"
		if (f ~ /cgi_response\.c|fcgi_headers\.c|response\.c|proxy_accel\.c|http_date\.c|http_status\.c/) return "response head"
		if (f ~ /upstream[a-z_]*\.c|shm[a-z_]*\.h|pool\.c|proxy[a-z_]*\.c|capacity\.c|queue\.c/) return "balancer, backend connections"
		if (f ~ /route\.c|worker\/request\.c|rewrite|try_files|access|realip|spares\.c/) return "routing, request phases"
		if (f ~ /loop\.c|conn[a-z_]*\.[ch]|worker\.c/) return "event loop, connections"
		if (f ~ /log\.c|clock\.c/) return "log, clock"
		if (f ~ /mem(cpy|move|set|chr|cmp)|str[a-z]*|mem[a-z]*\.c|__strn?case/) return "libc string, memcpy, memset"
		if (f ~ /malloc|free|calloc|realloc/) return "libc malloc, free"
		if (f ~ /printf|genops|vfxprintf|_IO_/) return "libc printf"
		if (f ~ /(recv|send|read|write|epoll|accept|close|syscall|clock_gettime)/) return "system calls, user side"
		return "other (start-up, libc)"
	}
	/^ *[0-9,]+ .*[^ ]:[^ ]/ {
		n = $1; gsub(",", "", n)
		f = $0; sub(/^ *[0-9,]+ \([ 0-9.]+%\) +/, "", f)
		sum[phase(f)] += n; total += n
	}
	END {
		for (p in sum) printf "%8.0f  %5.1f %%  %s\n", sum[p] / per, 100 * sum[p] / total, p
	}' | sort -rn
}

profile_callgrind() {
	local ir per
	t/bench/callgrind.sh --gateways fcgate --keep "$T" "$build" | tail -n 1
	ir=$(sed -n 's/^summary: *//p' "$T/callgrind.out.fcgate")
	per=$((ir / 2200))
	echo "profile: self cost by phase over 2200 requests (start-up included),"
	echo "instructions per request and share:"
	callgrind_annotate --inclusive=no --threshold=100 --auto=no "$T/callgrind.out.fcgate" 2>/dev/null |
	    sed -n '/file:function/,$p' | phases 2200
	echo "profile: top functions (self), instructions per request:"
	callgrind_annotate --inclusive=no --auto=no "$T/callgrind.out.fcgate" 2>/dev/null |
	    sed -n '/file:function/,$p' | awk '/^ *[0-9,]+ / {n = $1; gsub(",", "", n); f = $0
		sub(/^ *[0-9,]+ \([ 0-9.]+%\) +/, "", f); sub(/ \[.*/, "", f)
		printf "%8.0f  %s\n", n / 2200, f}' | head -n 20
	echo "profile: $per instructions per request in all (start-up included)"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

profile_perf() {
	local secs="$1" hp bp p pids="" w
	hp=$(free_port)
	for i in 1 2 3; do
		bp=$(free_port)
		"$build/fcgi_benchd" -l "127.0.0.1:$bp" -w 1 &
		pids="$pids $!"
		echo "    server 127.0.0.1:$bp {}" >>"$T/servers"
	done
	mkdir "$T/www"
	cat >"$T/f.conf" <<CONF
workers = 2
pid_file = "$T/fcgate.pid"
shm_path = "$T/fcgate.shm"
error_log = "$T/error.log"
access_log = off
mime_types = "$repo/etc/mime.types"
upstream app {
    keepalive = 16
    keepalive_requests = 1000000
$(cat "$T/servers")
}
server {
    listen = {127.0.0.1:$hp}
    root = "$T/www"
    keepalive_requests = 1000000
    location "/" {
        fastcgi_pass = app
        include("$repo/etc/fastcgi_params")
        fastcgi_param { SCRIPT_FILENAME = "\$document_root\$fastcgi_script_name" }
    }
}
CONF
	"$build/fcgate" -f -c "$T/f.conf" >"$T/out" 2>&1 &
	p=$!
	for i in $(seq 1 50); do
		curl -s -o /dev/null "http://127.0.0.1:$hp/" && break
		sleep 0.1
	done
	w=$(tr ' ' ',' <"/proc/$p/task/$p/children" | sed 's/,$//')
	wrk -c50 -t2 -d2s "http://127.0.0.1:$hp/" >/dev/null
	perf record -q -e cpu-clock -g -p "$w" -o "$T/perf.data" -- sleep "$secs" >/dev/null 2>&1 &
	wrk -c50 -t2 -d"${secs}s" "http://127.0.0.1:$hp${PROFILE_PATH:-/}" | sed -n 's/^Requests\/sec: */profile: wrk requests\/s /p'
	wait %perf 2>/dev/null || wait $! || true
	kill -TERM "$p" $pids
	wait "$p" $pids 2>/dev/null || true
	echo "profile: the workers' cpu-clock samples, kernel and user:"
	perf report -i "$T/perf.data" --stdio --no-children --sort dso 2>/dev/null |
	    awk '/^ +[0-9.]+%/ {print "   ", $1, $2}' | head -n 8
	echo "profile: top symbols (self):"
	perf report -i "$T/perf.data" --stdio --no-children --sort dso,sym -g none 2>/dev/null |
	    awk '/^ +[0-9.]+%/ {$2 = ""; print "   ", $0}' | head -n 25
}

case "$what" in
callgrind) profile_callgrind ;;
perf) profile_perf "${3:-20}" ;;
*) echo "usage: $0 callgrind|perf [BUILD_DIR] [SECONDS]" >&2; exit 2 ;;
esac
