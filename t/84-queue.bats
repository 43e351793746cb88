#!/usr/bin/env bats
# The shared queue (upstream `queue`, `queue_timeout`, NGINX Plus's
# semantics) against real php-fpm: a burst above max_conns waits instead
# of failing; a wait past queue_timeout, or no place left, is a 503 with
# its log line; a client that goes away leaves the queue; the counters
# are in `fcgatectl status`.

load helper

setup() {
	fcg_setup
	cat >"$T/html/sleep.php" <<'PHP'
<?php
usleep((int)($_GET['ms'] ?? 50) * 1000);
echo "ok\n";
PHP
}

teardown() {
	fcg_teardown
}

# fpm_pool NAME CHILDREN [PORT]: a php-fpm pool on PORT (default a free
# one), pm = static with CHILDREN children; sets FPM_PORT.
fpm_pool() {
	FPM_PORT="${3:-$(free_port)}"
	PHP_CHILDREN="$2" start_php_pool "$1" "127.0.0.1:$FPM_PORT"
}

# q_conf 'UPSTREAM BODY': two workers, *.php to upstream "app".
q_conf() {
	php_site_conf "$1"
	start_fcgate "$T/fcgate.conf"
}

# queue_field NAME: that member of the upstream's queue in status --json.
queue_field() {
	"$FCGATECTL" -m "$T/fcgate.shm" status --json |
		python3 -c 'import json, sys
print(json.load(sys.stdin)["upstreams"][0]["queue"][sys.argv[1]])' "$1"
}

# server_field NAME: that member of the one server in status --json.
server_field() {
	"$FCGATECTL" -m "$T/fcgate.shm" status --json |
		python3 -c 'import json, sys
d = json.load(sys.stdin)
print(d["upstreams"][0]["servers"][0][sys.argv[1]])' "$1"
}

# burst PATH COUNT CONCURRENCY: the statuses, one "status CODE N" line each.
burst() {
	python3 "$REPO/t/lib/burst.py" "$HTTP_PORT" "$@"
}

@test "a burst of 3x the children with queue = 100 is queued, not failed" {
	# Pins the queue: without it every request above max_conns is a 502
	# ("no live upstreams"); with it they wait for a slot, across both
	# workers, and all succeed.
	fpm_pool www 3
	q_conf "keepalive = 8
queue = 100
server 127.0.0.1:$FPM_PORT { max_conns = 3 }"
	run burst "/sleep.php?ms=40" 90 9
	assert_output "status 200 90"
	[ "$(queue_field queued)" -gt 0 ]
	[ "$(queue_field served)" = "$(queue_field queued)" ]
	[ "$(queue_field timeouts)" = 0 ]
	[ "$(queue_field full)" = 0 ]
	[ "$(queue_field waiting)" = 0 ]
	[ "$(server_field conns)" -le 3 ]
	! grep -q 'no live upstreams' "$T/error.log"
	run "$FCGATECTL" -m "$T/fcgate.shm" status
	assert_output --regexp "queue app: 0/100 waiting, [1-9][0-9]* queued"
	# "no live upstreams" events: at most one per queued request (the pick
	# that sent it to the queue), not one per look the queue took
	no_live="$("$FCGATECTL" -m "$T/fcgate.shm" status --json |
		python3 -c 'import json, sys
print(json.load(sys.stdin)["upstreams"][0]["no_live"])')"
	echo "no_live $no_live queued $(queue_field queued)"
	[ "$no_live" -le "$(queue_field queued)" ]
}

@test "queue_timeout passed: 503 and 'upstream queue timed out' in the error log" {
	# Pins the bound on the wait: with the one slot busy for 1.5 s, the
	# two others wait 300 ms and get 503, counted as time-outs.
	fpm_pool www 1
	q_conf "queue = 10
queue_timeout = 300ms
server 127.0.0.1:$FPM_PORT { max_conns = 1 }"
	run burst "/sleep.php?ms=1500" 3 3
	assert_output "status 200 1
status 503 2"
	[ "$(grep -c 'upstream queue timed out while connecting to upstream, client: 127.0.0.1, request: "/sleep.php?ms=1500", upstream: "app"' "$T/error.log")" = 2 ]
	[ "$(queue_field timeouts)" = 2 ]
	[ "$(queue_field waiting)" = 0 ]
	grep -q '"GET /sleep.php?ms=1500 HTTP/1.1" 503' "$T/access.log"
}

@test "queue = 1: the request that finds no place gets 503 at once, 'upstream queue is full'" {
	# Pins the bound on the depth: one request runs, one waits (and is
	# served after it), the third finds the queue full.
	fpm_pool www 1
	q_conf "queue = 1
queue_timeout = 20s
server 127.0.0.1:$FPM_PORT { max_conns = 1 }"
	run burst "/sleep.php?ms=1000" 3 3
	assert_output "status 200 2
status 503 1"
	[ "$(grep -c 'upstream queue is full while connecting to upstream.*upstream: "app"' "$T/error.log")" = 1 ]
	[ "$(queue_field full)" = 1 ]
	[ "$(queue_field queued)" = 1 ]
	[ "$(queue_field served)" = 1 ]
	[ "$(queue_field timeouts)" = 0 ]
}

@test "a queued request whose client goes away leaves the queue" {
	# Pins the clean-up: the place is freed when the client closes, not
	# at queue_timeout (60 s here), while the request ahead still runs.
	fpm_pool www 1
	q_conf "queue = 10
server 127.0.0.1:$FPM_PORT { max_conns = 1 }"
	curl -sS -o /dev/null "http://127.0.0.1:$HTTP_PORT/sleep.php?ms=4000" &
	local first=$!
	for _ in $(seq 1 100); do
		[ "$(server_field active)" = 1 ] && break
		sleep 0.05
	done
	[ "$(server_field active)" = 1 ]
	run curl -sS -m 0.5 "http://127.0.0.1:$HTTP_PORT/sleep.php?ms=1"
	[ "$status" -ne 0 ] # curl gave up: it was waiting
	for _ in $(seq 1 60); do
		[ "$(queue_field waiting)" = 0 ] && break
		sleep 0.05
	done
	[ "$(queue_field waiting)" = 0 ]
	[ "$(queue_field queued)" = 1 ]
	[ "$(queue_field timeouts)" = 0 ]
	kill -0 "$first" # the first one still runs
	wait "$first"
}

@test "workers killed with a request running and one queued: the master frees their places and their share" {
	# Pins the master's repair of the queue: without it the dead
	# worker's place would stay taken (queue_len 1) and its in-flight
	# count would keep the one slot busy, so nothing could be served.
	fpm_pool www 1
	q_conf "queue = 10
server 127.0.0.1:$FPM_PORT { max_conns = 1 }"
	local p before c1 c2
	curl -sS -m 10 -o /dev/null "http://127.0.0.1:$HTTP_PORT/sleep.php?ms=3000" &
	c1=$!
	for _ in $(seq 1 100); do
		[ "$(server_field active)" = 1 ] && break
		sleep 0.05
	done
	curl -sS -m 10 -o /dev/null "http://127.0.0.1:$HTTP_PORT/sleep.php?ms=1" &
	c2=$!
	for _ in $(seq 1 100); do
		[ "$(queue_field waiting)" = 1 ] && break
		sleep 0.05
	done
	[ "$(queue_field waiting)" = 1 ]
	[ "$(server_field active)" = 1 ]
	before="$("$FCGATECTL" -m "$T/fcgate.shm" workers --json |
		python3 -c 'import json, sys
print(" ".join(str(w["pid"]) for w in json.load(sys.stdin)["workers"]))')"
	for p in $before; do
		kill -KILL "$p"
	done
	# both clients see their connection closed
	wait "$c1" || true
	wait "$c2" || true
	for _ in $(seq 1 100); do
		[ "$(queue_field waiting)" = 0 ] &&
			[ "$(server_field active)" = 0 ] && break
		sleep 0.05
	done
	[ "$(queue_field waiting)" = 0 ]
	[ "$(server_field active)" = 0 ]
	[ "$(server_field conns)" = 0 ]
	run curl -sS -m 10 "http://127.0.0.1:$HTTP_PORT/sleep.php?ms=1"
	assert_output ok
}

@test "without queue nothing waits: above max_conns it is 502 'no live upstreams', as in nginx" {
	# Pins that the queue is opt-in: the old answer stays without it.
	fpm_pool www 1
	q_conf "server 127.0.0.1:$FPM_PORT { max_conns = 1 }"
	run burst "/sleep.php?ms=1000" 2 2
	assert_output "status 200 1
status 502 1"
	grep -q 'no live upstreams while connecting to upstream' "$T/error.log"
}

# No server up at all (its health check failed): a request waits in the
# queue rather than getting 502, and is served once the check sees the
# server answer again.
@test "no server up: the request waits in the queue and is served when its check brings the server back" {
	local port pid i code
	port="$(free_port)"
	q_conf "    queue = 10
    queue_timeout = 30s
    health_check { interval = 100ms  timeout = 1s  type = fastcgi_get_values }
    server 127.0.0.1:$port { max_fails = 0 }"
	for i in $(seq 1 100); do
		[ "$(server_field state)" = failed ] && break
		sleep 0.1
	done
	[ "$(server_field state)" = failed ]
	curl -sS -o "$T/out" -w '%{http_code}' \
	    "http://127.0.0.1:$HTTP_PORT/sleep.php?ms=1" >"$T/code" &
	pid=$!
	for i in $(seq 1 100); do
		[ "$(queue_field waiting)" = 1 ] && break
		sleep 0.1
	done
	[ "$(queue_field waiting)" = 1 ]
	fpm_pool back 2 "$port"
	for i in $(seq 1 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$pid"
	code="$(cat "$T/code")"
	[ "$code" = 200 ]
	[ "$(cat "$T/out")" = ok ]
	[ "$(queue_field waiting)" = 0 ]
	[ "$(queue_field served)" = 1 ]
}

# A queue larger than the segment can hold is a configuration error with
# its place, found by -t rather than at start-up.
@test "queue above 65536 places: fcgate -t fails with FILE:LINE" {
	cat >"$T/big.conf" <<CONF
pid_file = "$T/x.pid"
upstream app {
    queue = 70000
    server 127.0.0.1:9 { max_conns = 1 }
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    location "/" { fastcgi_pass = app }
}
CONF
	run "$FCGATE" -t -c "$T/big.conf"
	assert_failure
	assert_output --regexp "big\.conf:[0-9]+: .*queue = 70000 is more than the 65536 places"
}
