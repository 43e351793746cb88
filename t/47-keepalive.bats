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
