#!/usr/bin/env bats
# Backend keep-alive (upstream `keepalive = N`, FCGI_KEEP_CONN): reuse,
# the default of one connection per request, a backend that closes a
# reused connection, and a client that leaves mid-response.

load helper

setup() {
	fcg_setup
}

teardown() {
	fcg_teardown
}

# ka_conf 'UPSTREAM BODY': one worker, *.php to upstream "app".
ka_conf() {
	{
		WORKERS=1 base_conf
		cat <<CONF
upstream app {
$1
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = "$T/html"
    location '~ \.php$' {
        fastcgi_pass = app
        fastcgi_read_timeout = 3s
        include("$REPO/etc/fastcgi_params")
    }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
}

# requests N [curl options]: N requests, one client connection; the HTTP
# status of each.
requests() {
	local n="$1" i
	shift
	for i in $(seq 1 "$n"); do
		echo "url = \"$URL/x.php?mode=echo&i=$i\""
		echo 'output = "/dev/null"'
	done >"$T/urls"
	curl -sS "$@" -w '%{http_code}\n' -K "$T/urls"
}

@test "keepalive = 4: 30 requests use one backend connection, sent with FCGI_KEEP_CONN" {
	start_testd a
	ka_conf "keepalive = 4
server 127.0.0.1:$TESTD_PORT_a {}"
	run requests 30
	[ "$(echo "$output" | sort -u)" = 200 ]
	[ "$(conns a)" -eq 1 ]
	# and from separate client connections too
	run requests 10 -H 'Connection: close'
	[ "$(echo "$output" | sort -u)" = 200 ]
	[ "$(conns a)" -eq 1 ]
}

@test "without keepalive every request opens and closes its own connection (nginx's default)" {
	start_testd a
	ka_conf "server 127.0.0.1:$TESTD_PORT_a {}"
	run requests 12
	[ "$(echo "$output" | sort -u)" = 200 ]
	[ "$(conns a)" -eq 12 ]
}

@test "a reused connection the backend closes is retried on a new one: no error reaches the client" {
	start_testd a -m 2
	ka_conf "keepalive = 2
server 127.0.0.1:$TESTD_PORT_a {}
server 127.0.0.1:$(free_port) { down = true }"
	run requests 20
	[ "$(echo "$output" | sort -u)" = 200 ]
	# every third request found its connection closed: a new one each time
	[ "$(conns a)" -eq 10 ]
	grep -q 'on a kept-alive connection, retrying on a new one' "$T/error.log"
	run "$FCGATECTL" -m "$T/fcgate.shm" status --json
	assert_output --partial '"requests":20,"fails":0,"failures":0,'
}

@test "a client that leaves mid-response: the backend connection is not reused dirty" {
	start_testd a
	ka_conf "keepalive = 1
server 127.0.0.1:$TESTD_PORT_a {}"
	run requests 2
	[ "$(conns a)" -eq 1 ]
	timeout 0.5 curl -sS --limit-rate 20k -o /dev/null \
		"$URL/x.php?mode=size&n=30000000" || true
	sleep 0.2
	# the next answers are whole and right, on a new connection
	for i in 1 2 3; do
		run curl -sS "$URL/x.php?mode=echo&after=$i"
		assert_line "backend=a"
		assert_line "QUERY_STRING=mode=echo&after=$i"
	done
	[ "$(conns a)" -eq 2 ]
}

@test "keepalive to php-fpm: requests reuse connections and answers stay right" {
	start_php_pool one
	printf '<?php echo "n=", $_GET["n"] ?? "", " pid=", getmypid(), "\\n";\n' >"$T/html/n.php"
	{
		WORKERS=1 base_conf
		cat <<CONF
upstream php {
    keepalive = 2
    server 127.0.0.1:$PHP_PORT_one {}
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = "$T/html"
    location '~ \.php$' {
        fastcgi_pass = php
        include("$REPO/etc/fastcgi_params")
        fastcgi_param { SCRIPT_FILENAME = "\$document_root\$fastcgi_script_name" }
    }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
	for i in $(seq 1 20); do echo "url = \"$URL/n.php?n=$i\""; done >"$T/urls"
	run curl -sS -K "$T/urls"
	assert_success
	[ "$(echo "$output" | grep -c '^n=')" -eq 20 ]
	for i in $(seq 1 20); do assert_line --regexp "^n=$i pid=[0-9]+$"; done
	# one kept connection: one php-fpm child answered them all
	[ "$(echo "$output" | sed 's/.*pid=//' | sort -u | wc -l)" -eq 1 ]
}

@test "STDOUT after END_REQUEST on a kept connection: the answer stands, the connection is dropped" {
	start_testd a
	ka_conf "keepalive = 2
server 127.0.0.1:$TESTD_PORT_a {}"
	run curl -sS "$URL/x.php?mode=afterend"
	assert_line "backend=a"
	sleep 0.2
	for i in 1 2 3; do
		run curl -sS "$URL/x.php?mode=echo&n=$i"
		assert_line "QUERY_STRING=mode=echo&n=$i"
		refute_output --partial "late bytes"
	done
	# the dirty connection was not reused: a second one was opened
	[ "$(conns a)" -eq 2 ]
}

@test "keepalive_requests: a kept connection is closed after that many requests" {
	start_testd a
	ka_conf "keepalive = 4
keepalive_requests = 5
server 127.0.0.1:$TESTD_PORT_a {}"
	run requests 12
	[ "$(echo "$output" | sort -u)" = 200 ]
	[ "$(conns a)" -eq 3 ]	# 5 + 5 + 2
}

@test "upstream keepalive_timeout: an idle kept connection is closed after it" {
	start_testd a
	ka_conf "keepalive = 4
keepalive_timeout = 300ms
server 127.0.0.1:$TESTD_PORT_a {}"
	run requests 2
	[ "$(conns a)" -eq 1 ]
	sleep 0.7
	run requests 1
	assert_output 200
	[ "$(conns a)" -eq 2 ]
}

@test "keepalive_time: a connection open that long is not kept after its request" {
	start_testd a
	ka_conf "keepalive = 4
keepalive_time = 600ms
server 127.0.0.1:$TESTD_PORT_a {}"
	# at 0 s a new one; at 0.4 s reused and kept (younger than 600 ms);
	# at 0.8 s reused, then closed (older); at 1.2 s a new one
	for i in 1 2 3 4; do
		run requests 1
		assert_output 200
		sleep 0.4
	done
	[ "$(conns a)" -eq 2 ]
}

@test "upstream keepalive_requests, keepalive_timeout, keepalive_time: -t checks them" {
	start_testd a
	ka_conf "keepalive = 4
keepalive_requests = 100
keepalive_timeout = 30s
keepalive_time = 2h
server 127.0.0.1:$TESTD_PORT_a {}"
	run "$FCGATE" -t -c "$T/fcgate.conf"
	assert_success
	sed -i 's/keepalive_time = 2h/keepalive_time = later/' "$T/fcgate.conf"
	run "$FCGATE" -t -c "$T/fcgate.conf"
	assert_failure
	assert_output --partial "fcgate.conf:"
}

# idle_conns PORT: established connections from the gateway to PORT now
# (idle ones, once no request is in flight).
idle_conns() {
	ss -Htn state established "( dport = :$1 )" | wc -l
}

# bursts N: N bursts of 8 concurrent requests that each hold their
# backend connection for 100 ms, 0.1 s apart (well inside a keepalive_trim
# of 1 s); after each, the idle connections to backend a, one per line,
# into $T/after.
bursts() {
	local i
	: >"$T/after"
	for i in $(seq 1 "$1"); do
		run python3 "$REPO/t/lib/burst.py" "$HTTP_PORT" \
			"/x.php?mode=slow&ms=100" 8 8
		assert_output "status 200 8"
		sleep 0.1
		idle_conns "$TESTD_PORT_a" >>"$T/after"
	done
}

@test "keepalive_trim: a surplus above keepalive that bursts keep using is kept, not closed and reopened per burst" {
	# Pins the lazy trim: with keepalive = 2, 20 bursts of 8 open about 8
	# connections in all, not 8 + 19 x 6 (closing the surplus as each
	# request ends, and connecting again for the next burst).
	start_testd a
	ka_conf "keepalive = 2
keepalive_trim = 1s
server 127.0.0.1:$TESTD_PORT_a {}"
	bursts 20
	[ "$(conns a)" -ge 8 ]
	[ "$(conns a)" -le 12 ]
	# between bursts the pool held more than keepalive
	[ "$(sort -n "$T/after" | tail -1)" -gt 2 ]
}

@test "keepalive_trim: once the load stops the idle pool falls back to keepalive within two intervals" {
	# Pins the trim itself: the surplus is closed (least recently used
	# first) after it stayed idle for a whole keepalive_trim, and the
	# connections kept still serve.
	start_testd a
	ka_conf "keepalive = 2
keepalive_trim = 1s
server 127.0.0.1:$TESTD_PORT_a {}"
	bursts 3
	[ "$(idle_conns "$TESTD_PORT_a")" -gt 2 ]
	# 2 x 1 s and slack: polled for at most 4 s
	for _ in $(seq 1 40); do
		[ "$(idle_conns "$TESTD_PORT_a")" -le 2 ] && break
		sleep 0.1
	done
	[ "$(idle_conns "$TESTD_PORT_a")" -eq 2 ]
	local before
	before="$(conns a)"
	run requests 4
	[ "$(echo "$output" | sort -u)" = 200 ]
	[ "$(conns a)" -eq "$before" ]
}

@test "keepalive_trim = 0: the surplus is closed at once, as nginx's keepalive does" {
	# Pins the switch back to nginx's behaviour: at most keepalive idle
	# right after each burst, and each burst connects again.
	start_testd a
	ka_conf "keepalive = 2
keepalive_trim = 0
server 127.0.0.1:$TESTD_PORT_a {}"
	bursts 10
	[ "$(sort -n "$T/after" | tail -1)" -le 2 ]
	# 8 + 9 x 6 = 62, give or take a request that found one idle
	[ "$(conns a)" -ge 40 ]
}

@test "keepalive_trim: -t takes 0 and times, and a bad value is FILE:LINE" {
	start_testd a
	ka_conf "keepalive = 2
keepalive_trim = 250ms
server 127.0.0.1:$TESTD_PORT_a {}"
	run "$FCGATE" -t -c "$T/fcgate.conf"
	assert_success
	sed -i 's/keepalive_trim = 250ms/keepalive_trim = 0/' "$T/fcgate.conf"
	run "$FCGATE" -t -c "$T/fcgate.conf"
	assert_success
	sed -i 's/keepalive_trim = 0/keepalive_trim = lazily/' "$T/fcgate.conf"
	run "$FCGATE" -t -c "$T/fcgate.conf"
	assert_failure
	assert_output --regexp "fcgate.conf:[0-9]+: .*'lazily'.*keepalive_trim"
}

# ctl_workers: the pids of the running workers, one per line.
ctl_workers() {
	"$FCGATECTL" -m "$T/fcgate.shm" workers --json |
		python3 -c 'import json, sys
for w in json.load(sys.stdin)["workers"]:
    if w["state"] == "running":
        print(w["pid"])'
}

@test "keepalive_trim: a surplus idle connection is still given up at once when another worker needs its max_conns slot" {
	# Pins that the surplus held for keepalive_trim (30 s here) counts in
	# max_conns and goes to a request of the other worker when the budget
	# is full, as the connections within keepalive do.  Worker B is
	# stopped while A takes a burst of 4 (all of max_conns, 3 above
	# keepalive); then A is stopped while B accepts one request, and
	# resumes 0.3 s later to hear the bell.
	start_testd a
	php_site_conf "keepalive = 1
keepalive_trim = 30s
server 127.0.0.1:$TESTD_PORT_a { max_conns = 4 }"
	start_fcgate "$T/fcgate.conf"
	local a b p t
	a="$(ctl_workers | sed -n 1p)"
	b="$(ctl_workers | sed -n 2p)"
	[ -n "$a" ] && [ -n "$b" ]
	kill -STOP "$b"
	run python3 "$REPO/t/lib/burst.py" "$HTTP_PORT" \
		"/x.php?mode=slow&ms=200" 4 4
	assert_output "status 200 4"
	sleep 0.1
	[ "$(idle_conns "$TESTD_PORT_a")" -eq 4 ]
	kill -STOP "$a"
	kill -CONT "$b"
	curl -sS -m 20 -o /dev/null -w '%{http_code} %{time_total}' \
		"http://127.0.0.1:$HTTP_PORT/x.php?mode=echo" >"$T/second" &
	p=$!
	sleep 0.3
	kill -CONT "$a"
	wait "$p"
	t="$(cat "$T/second")"
	[ "${t%% *}" = 200 ]
	# 0.3 s of the stop and a few milliseconds; 5 s is far below 30 s
	python3 -c 'import sys; sys.exit(float(sys.argv[1]) >= 5)' "${t#* }"
	[ "$(idle_conns "$TESTD_PORT_a")" -le 4 ]
}
