#!/usr/bin/env bats
# event_engine = epoll | io_uring: the directive, that a worker really
# waits on the engine asked for, that io_uring serves static files and a
# real php-fpm, that what a worker closes on io_uring is really closed,
# and the fallback to epoll when io_uring cannot be set up.

load helper

setup() {
	fcg_setup
	echo "home page" >"$T/html/index.html"
	echo '<?php echo "php ", getenv("FCGATE_POOL"), "\n";' >"$T/html/hi.php"
	chmod 644 "$T/html/hi.php"
}

teardown() {
	fcg_teardown
}

# engine_conf ENGINE: a static server and a php-fpm site on one port, with
# event_engine ENGINE ("" for the build's default).
engine_conf() {
	start_php_pool web
	php_site_conf "keepalive = 4
server 127.0.0.1:$PHP_PORT_web {}"
	[ -z "$1" ] || sed -i "1i event_engine = $1" "$T/fcgate.conf"
}

# engine_fds KIND: how many of each worker's descriptors are KIND
# (io_uring, eventpoll), one line per worker.
engine_fds() {
	local pid
	for pid in $(pgrep -P "$FCGATE_PID"); do
		ls -l "/proc/$pid/fd" | grep -c "anon_inode:\[$1\]" || true
	done
}

@test "a bad event_engine is reported at its FILE:LINE" {
	# pins the directive's check: only epoll and io_uring
	{
		base_conf
		echo 'event_engine = kqueue'
		echo "server { listen = {127.0.0.1:$HTTP_PORT} }"
	} >"$T/c.conf"
	run "$FCGATE" -t -c "$T/c.conf"
	assert_failure
	assert_output --partial \
		"$T/c.conf:9: event_engine must be epoll or io_uring, not 'kqueue'"
}

@test "fcgate -t warns when event_engine = io_uring cannot run here" {
	# pins -t's probe: the same set-up the workers do, and its reason
	{
		base_conf
		echo 'event_engine = io_uring'
		echo "server { listen = {127.0.0.1:$HTTP_PORT} }"
	} >"$T/c.conf"
	run "$FCGATE" -t -c "$T/c.conf"
	assert_success
	refute_output --partial "not available"
	FCGATE_NO_IO_URING=1 run "$FCGATE" -t -c "$T/c.conf"
	assert_success
	assert_line "fcgate: warning: event_engine io_uring is not available here (FCGATE_NO_IO_URING is set): the workers would run on epoll"
	assert_line --partial "test is successful"
}

@test "event_engine = io_uring: each worker waits on a ring, not on epoll" {
	# pins that the directive reaches the workers' loops
	engine_conf io_uring
	start_fcgate "$T/fcgate.conf"
	run curl -sS -m 5 "http://127.0.0.1:$HTTP_PORT/index.html"
	assert_output "home page"
	run engine_fds io_uring
	assert_output "1
1"
	run engine_fds eventpoll
	assert_output "0
0"
	run grep -c "is not available" "$T/error.log"
	assert_output 0
}

@test "event_engine = epoll: each worker waits on epoll, no ring" {
	# pins that epoll stays epoll whatever the build's default
	engine_conf epoll
	start_fcgate "$T/fcgate.conf"
	run curl -sS -m 5 "http://127.0.0.1:$HTTP_PORT/index.html"
	assert_output "home page"
	run engine_fds eventpoll
	assert_output "1
1"
	run engine_fds io_uring
	assert_output "0
0"
}

@test "io_uring: static and php-fpm answers, keep-alive on both sides" {
	# pins that the engine's readiness drives the whole request: client
	# keep-alive (several URLs on one curl connection), a real php-fpm
	# behind backend keep-alive, 200 requests in a row
	engine_conf io_uring
	start_fcgate "$T/fcgate.conf"
	run curl -sS -m 10 "http://127.0.0.1:$HTTP_PORT/index.html" \
		"http://127.0.0.1:$HTTP_PORT/hi.php" \
		"http://127.0.0.1:$HTTP_PORT/index.html"
	assert_output "home page
php web
home page"
	local ok=0 i
	for i in $(seq 1 200); do
		echo "url = \"http://127.0.0.1:$HTTP_PORT/hi.php?i=$i\""
	done >"$T/urls"
	run curl -sS -m 30 -K "$T/urls"
	assert_success
	[ "$(grep -c '^php web$' <<<"$output")" = 200 ]
}

@test "io_uring: a connection the worker closes is closed, not held by its poll" {
	# pins the sweep of closed descriptors: a poll request holds its
	# file, so without removing it the worker's close() would leave the
	# socket open and the client waiting for EOF
	engine_conf io_uring
	start_fcgate "$T/fcgate.conf"
	# Connection: close, answered, then EOF (the client reads until EOF)
	run python3 - "$HTTP_PORT" <<'PY'
import socket, sys
for i in range(50):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.settimeout(5)
    s.sendall(b"GET /hi.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    assert b"php web" in data, data
    s.close()
print("eof 50")
PY
	assert_success
	assert_output "eof 50"
	# and the worker's side of those 50 is gone too: no socket of the
	# gateway's port left established
	run bash -c "ss -Htn state established '( sport = :$HTTP_PORT )' | wc -l"
	assert_output 0
}

@test "io_uring unavailable: one warning per worker, and epoll serves" {
	# pins the fallback: never a failed start (FCGATE_NO_IO_URING makes
	# io_uring look unavailable, as seccomp or an old kernel would)
	engine_conf io_uring
	FCGATE_NO_IO_URING=1 start_fcgate "$T/fcgate.conf"
	run curl -sS -m 5 "http://127.0.0.1:$HTTP_PORT/hi.php"
	assert_output "php web"
	run grep -c "event_engine io_uring is not available (FCGATE_NO_IO_URING is set): this worker runs on epoll" "$T/error.log"
	assert_output 2
	run engine_fds eventpoll
	assert_output "1
1"
}
