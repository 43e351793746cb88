#!/bin/bash
# Instructions per proxied request in fcgate's worker, counted by
# valgrind's callgrind (user space only; the machine's noise cannot move
# it): one worker, backend keep-alive to fcgi_testd, N and N+2000
# keep-alive requests from one curl, the difference over 2000.
#
#   t/bench/callgrind.sh [BUILD_DIR]     (default build; needs valgrind)
#
# Prints "callgrind: N instructions per proxied request".
set -eu
cd "$(dirname "$0")/../.."
build="$(cd "${1:-build}" && pwd)"
command -v valgrind >/dev/null || { echo "callgrind: valgrind is not installed" >&2; exit 1; }

# worker_ir N: the worker's instruction count for N requests.
worker_ir() {
	local T bport hport vp tp f ir best=0 i
	T="$(mktemp -d "${TMPDIR:-/tmp}/fcgate-cg.XXXXXX")"
	chmod 777 "$T" # the worker (nobody when run as root) writes its file
	bport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	hport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"$build/fcgi_testd" -l "127.0.0.1:$bport" -n a -p "$T/testd.pid" >"$T/testd.log" 2>&1 &
	tp=$!
	cat >"$T/f.conf" <<CONF
workers = 1
pid_file = "$T/fcgate.pid"
shm_path = "$T/fcgate.shm"
error_log = "$T/error.log"
access_log = off
mime_types = "$PWD/etc/mime.types"
upstream app {
    keepalive = 4
    server 127.0.0.1:$bport {}
}
server {
    listen = {127.0.0.1:$hport}
    root = "$T"
    location "/" { fastcgi_pass = app  include("$PWD/etc/fastcgi_params") }
}
CONF
	(cd "$T" && exec valgrind --tool=callgrind "$build/fcgate" -f -c "$T/f.conf") >"$T/out" 2>&1 &
	vp=$!
	for i in $(seq 1 100); do
		curl -s -o /dev/null "http://127.0.0.1:$hport/" && break
		sleep 0.2
	done
	curl -s -o /dev/null "http://127.0.0.1:$hport/x?[1-$1]"
	kill -TERM "$vp"
	wait "$vp" 2>/dev/null || true
	kill "$tp"
	wait "$tp" 2>/dev/null || true
	for f in "$T"/callgrind.out.*; do # the master's and the worker's
		ir=$(sed -n 's/^summary: *//p' "$f" | head -n 1)
		[ -n "$ir" ] && [ "$ir" -gt "$best" ] && best=$ir
	done
	rm -rf "$T"
	echo "$best"
}

a=$(worker_ir 200)
b=$(worker_ir 2200)
echo "callgrind: $(((b - a) / 2000)) instructions per proxied request"
