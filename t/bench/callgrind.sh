#!/bin/bash
# Instructions and system calls per proxied request in the worker of
# fcgate and of nginx, in front of the same backend (fcgi_testd) with
# backend keep-alive: one worker each, access log off, N and N+2000
# keep-alive requests from one curl, the difference over 2000, so that
# start-up and shutdown cancel out.
#
# Instructions are counted by valgrind's callgrind: user space only (it
# sees no instruction the kernel runs for a system call), and the
# machine's noise cannot move them.  System calls are counted by
# `strace -c -f -p WORKER` on a gateway running without valgrind, over
# the same fixed request counts.
#
#   t/bench/callgrind.sh [--gateways fcgate,nginx] [--keep DIR] [BUILD_DIR]
#
# BUILD_DIR (default build) holds fcgate and fcgi_testd.  --keep DIR
# copies fcgate's callgrind file of the N+2000 run to DIR (for
# callgrind_annotate, see t/bench/profile.sh) and each gateway's strace
# table of that run.  Prints one line per
# gateway and fcgate's ratio to nginx.
set -eu
cd "$(dirname "$0")/../.."
repo="$PWD"
gateways=fcgate,nginx
keep=
while [ $# -gt 0 ]; do
	case "$1" in
	--gateways) gateways="$2"; shift 2 ;;
	--keep) keep="$2"; shift 2 ;;
	*) break ;;
	esac
done
build="$(cd "${1:-build}" && pwd)"
nginx="${NGINX:-/usr/sbin/nginx}"
N=200
command -v valgrind >/dev/null || { echo "callgrind: valgrind is not installed" >&2; exit 1; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The answer: 13 bytes with a Content-Length, in one FastCGI write, as the
# benchmark's small case.
URL_QUERY='mode=raw&cl=13&n=13'

# conf_fcgate DIR BPORT HPORT / conf_nginx DIR BPORT HPORT MASTER: the
# configuration file's path on stdout.
conf_fcgate() {
	cat >"$1/f.conf" <<CONF
workers = 1
pid_file = "$1/fcgate.pid"
shm_path = "$1/fcgate.shm"
error_log = "$1/error.log"
access_log = off
mime_types = "$repo/etc/mime.types"
upstream app {
    keepalive = 4
    server 127.0.0.1:$2 {}
}
server {
    listen = {127.0.0.1:$3}
    root = "$1"
    location "/" {
        fastcgi_pass = app
        include("$repo/etc/fastcgi_params")
        fastcgi_param { SCRIPT_FILENAME = "\$document_root\$fastcgi_script_name" }
    }
}
CONF
	echo "$1/f.conf"
}

conf_nginx() {
	mkdir -p "$1/tmp"
	cat >"$1/n.conf" <<CONF
master_process $4;
daemon off;
worker_processes 1;
pid $1/nginx.pid;
error_log $1/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $1/tmp/body;
    fastcgi_temp_path $1/tmp/fastcgi;
    proxy_temp_path $1/tmp/proxy;
    uwsgi_temp_path $1/tmp/uwsgi;
    scgi_temp_path $1/tmp/scgi;
    upstream app {
        server 127.0.0.1:$2;
        keepalive 4;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$3;
        root $1;
        location / {
            fastcgi_pass app;
            fastcgi_keep_conn on;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
        }
    }
}
CONF
	echo "$1/n.conf"
}

# start GATEWAY DIR HPORT WRAPPER...: starts the gateway (under WRAPPER,
# if any) in the background, sets gp to its pid, waits for an answer.
start() {
	local g="$1" d="$2" hp="$3" bp i
	shift 3
	bp=$(free_port)
	"$build/fcgi_testd" -l "127.0.0.1:$bp" -n a -p "$d/testd.pid" >"$d/testd.log" 2>&1 &
	tp=$!
	if [ "$g" = fcgate ]; then
		(cd "$d" && exec "$@" "$build/fcgate" -f -c "$(conf_fcgate "$d" "$bp" "$hp")") >"$d/out" 2>&1 &
	else
		# Under valgrind, no master: the one process is the worker.
		(cd "$d" && exec "$@" "$nginx" -p "$d" -c "$(conf_nginx "$d" "$bp" "$hp" "$([ $# -gt 0 ] && echo off || echo on)")") >"$d/out" 2>&1 &
	fi
	gp=$!
	for i in $(seq 1 150); do
		curl -s -o /dev/null "http://127.0.0.1:$hp/" && return 0
		sleep 0.2
	done
	echo "callgrind: $g did not answer" >&2
	stop
	return 1
}

stop() {
	kill -TERM "$gp" 2>/dev/null || true
	wait "$gp" 2>/dev/null || true
	kill "$tp" 2>/dev/null || true
	wait "$tp" 2>/dev/null || true
}

requests() {
	curl -s -o /dev/null "http://127.0.0.1:$1/x?$URL_QUERY&i=[1-$2]"
}

# ir GATEWAY COUNT: the worker's instructions for COUNT requests.
ir() {
	local T hp f n best=0
	T="$(mktemp -d "${TMPDIR:-/tmp}/fcgate-cg.XXXXXX")"
	chmod 777 "$T" # the worker (nobody when run as root) writes its file
	hp=$(free_port)
	start "$1" "$T" "$hp" valgrind --tool=callgrind --trace-children=yes
	requests "$hp" "$2"
	stop
	for f in "$T"/callgrind.out.*; do # the master's and the worker's
		n=$(sed -n 's/^summary: *//p' "$f" | head -n 1)
		if [ -n "$n" ] && [ "$n" -gt "$best" ]; then
			best=$n
			[ -n "$keep" ] && [ "$1" = fcgate ] && [ "$2" -gt "$N" ] && cp "$f" "$keep/callgrind.out.fcgate"
		fi
	done
	rm -rf "$T"
	echo "$best"
}

# calls PID: requests COUNT while strace counts PID's system calls.
calls() {
	local pid="$1" hp="$2" count="$3" out="$4" sp i
	strace -c -f -p "$pid" -o "$out" 2>/dev/null &
	sp=$!
	for i in $(seq 1 100); do # attached when the worker has a tracer
		[ "$(awk '/^TracerPid/ {print $2}' "/proc/$pid/status")" != 0 ] && break
		sleep 0.05
	done
	requests "$hp" "$count"
	kill -INT "$sp"
	wait "$sp" 2>/dev/null || true
	awk '$NF == "total" {print $4}' "$out"
}

# syscalls GATEWAY: system calls per request (N+2000 less N, over 2000).
syscalls() {
	local T hp w a b
	T="$(mktemp -d "${TMPDIR:-/tmp}/fcgate-sc.XXXXXX")"
	hp=$(free_port)
	start "$1" "$T" "$hp"
	requests "$hp" "$N" # the backend connection is open and kept
	w=$(cut -d' ' -f1 "/proc/$gp/task/$gp/children")
	a=$(calls "$w" "$hp" "$N" "$T/a")
	b=$(calls "$w" "$hp" $((N + 2000)) "$T/b")
	stop
	[ -z "$keep" ] || cp "$T/b" "$keep/strace.$1"
	rm -rf "$T"
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b - a) / 2000 }'
}

echo "callgrind: user-space instructions per proxied keep-alive request"
echo "(the kernel's work for system calls is not counted), one worker,"
echo "backend keep-alive to fcgi_testd, $N and $((N + 2000)) requests"
for g in ${gateways//,/ }; do
	if [ "$g" = nginx ] && [ ! -x "$nginx" ]; then
		echo "callgrind: $nginx is not installed" >&2
		continue
	fi
	a=$(ir "$g" "$N")
	b=$(ir "$g" $((N + 2000)))
	per=$(((b - a) / 2000))
	sc=-
	command -v strace >/dev/null && sc=$(syscalls "$g")
	printf 'callgrind: %-6s %7d instructions per proxied request, %s system calls\n' "$g" "$per" "$sc"
	eval "ir_$g=$per"
done
if [ -n "${ir_fcgate:-}" ] && [ -n "${ir_nginx:-}" ]; then
	awk -v f="$ir_fcgate" -v n="$ir_nginx" 'BEGIN { printf "callgrind: fcgate/nginx instructions %.2f\n", f / n }'
fi
