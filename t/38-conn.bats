#!/usr/bin/env bats
# The client connection's state machine under pressure: long pipelines,
# running out of descriptors, slow bodies, lingering close, keep-alive
# limits.

load helper

setup() {
	fcg_setup
	echo "home page" >"$T/html/index.html"
	mkdir -p "$T/html/dir"
	echo "in dir" >"$T/html/dir/index.html"
}

teardown() {
	fcg_teardown
}

# conf_static [EXTRA...]: one static server on HTTP_PORT.
conf_static() {
	{
		base_conf
		for extra in "$@"; do echo "$extra"; done
		cat <<CONF
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {localhost}
    root = "$T/html"
    location "/denied" { deny = all }
}
CONF
	} >"$T/fcgate.conf"
}

@test "5,000 pipelined static GETs on one connection are all answered" {
	conf_static
	# (nginx's default keepalive_requests, 1000, would end it sooner)
	sed -i 's|^    root = |    keepalive_requests = 100000\n    root = |' "$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	run python3 "$REPO/t/lib/pipeline.py" "$HTTP_PORT" 5000 \
		/index.html,/missing,/dir,/ 60
	assert_success
	assert_output "5000 200=2500,301=1250,404=1250 eof"
	# the worker that served them is still the one that started
	run grep -c 'exited\|killed by signal' "$T/error.log"
	assert_output 0
}

@test "a pipeline does not starve another client of the same worker" {
	WORKERS=1 conf_static
	sed -i 's|^    root = |    keepalive_requests = 100000\n    root = |' "$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	python3 "$REPO/t/lib/pipeline.py" "$HTTP_PORT" 20000 /index.html 60 \
		>"$T/pipe.out" &
	local pipe=$!
	fcg_track "$pipe"
	sleep 0.2
	run curl -sS -m 5 -o /dev/null -w '%{http_code}' \
		"http://127.0.0.1:$HTTP_PORT/index.html"
	assert_output 200
	wait "$pipe"
	run cat "$T/pipe.out"
	assert_output "20000 200=20000 eof"
}

# cpu_ticks PID: user + system time of a process, in clock ticks.
cpu_ticks() {
	awk '{print $14 + $15}' "/proc/$1/stat"
}

@test "out of descriptors: accepting pauses, is logged once, and open connections are still served" {
	WORKERS=1 conf_static "worker_rlimit_nofile = 64"
	start_fcgate "$T/fcgate.conf"
	local worker
	worker="$(ps -o pid= --ppid "$FCGATE_PID" | head -n 1 | tr -d ' ')"
	[ -n "$worker" ]
	run grep 'Max open files' "/proc/$worker/limits"
	assert_output --regexp 'Max open files +64 '
	python3 "$REPO/t/lib/hold_conns.py" "$HTTP_PORT" 150 "$T/ready" \
		"$T/release" 30 >"$T/hold.out" &
	local hold=$!
	fcg_track "$hold"
	wait_file "$T/ready"
	local before after
	before="$(cpu_ticks "$worker")"
	sleep 2
	after="$(cpu_ticks "$worker")"
	# a worker spinning on accept() burns ~200 ticks in 2 s
	[ $((after - before)) -lt 40 ] || {
		echo "worker used $((after - before)) ticks in 2 s" >&2
		return 1
	}
	run grep -c 'accept4() failed' "$T/error.log"
	[ "$output" -ge 1 ] && [ "$output" -le 3 ]
	touch "$T/release"
	wait "$hold"
	run cat "$T/hold.out"
	assert_output "200 403"
	# the backlog drains once descriptors are free again
	run curl -sS -m 5 -o /dev/null -w '%{http_code}' \
		"http://127.0.0.1:$HTTP_PORT/"
	assert_output 200
	run grep -c 'accepting again' "$T/error.log"
	[ "$output" -ge 1 ]
}

@test "the open files limit is raised for worker_connections" {
	WORKERS=1 WORKER_CONNECTIONS=3000 conf_static
	(ulimit -Sn 1024 && exec "$FCGATE" -f -c "$T/fcgate.conf" \
		>>"$T/fcgate.out" 2>&1) &
	FCGATE_PID=$!
	fcg_track "$FCGATE_PID"
	wait_port "$HTTP_PORT"
	local worker
	worker="$(ps -o pid= --ppid "$FCGATE_PID" | head -n 1 | tr -d ' ')"
	run grep 'Max open files' "/proc/$worker/limits"
	assert_output --regexp 'Max open files +6256 '
	python3 "$REPO/t/lib/hold_conns.py" "$HTTP_PORT" 1100 "$T/ready" \
		"$T/release" 30 >"$T/hold.out" &
	local hold=$!
	fcg_track "$hold"
	wait_file "$T/ready"
	run cat "$T/ready"
	assert_output 1100
	touch "$T/release"
	wait "$hold"
	run cat "$T/hold.out"
	assert_output "200 403"
	run grep -c 'accept4() failed' "$T/error.log"
	assert_output 0
}

# send_all_read PORT PYTHON_BYTES_EXPR: send the whole request at once
# (the kernel takes it while fcgate answers), then print the status the
# client reads, or the error it gets.
send_all_read() {
	python3 - "$@" <<'PY'
import socket, sys
port, req = int(sys.argv[1]), eval(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
try:
    s.sendall(req)
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    print(data.split(b" ")[1].decode() if data else "nothing")
except OSError as e:
    print(type(e).__name__)
PY
}

@test "lingering close: a 64 KiB header gets its 431, not a reset" {
	conf_static
	start_fcgate "$T/fcgate.conf"
	local i
	for i in 1 2 3; do
		run send_all_read "$HTTP_PORT" \
			'b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n"'
		assert_output 431
	done
}

@test "lingering close: a refused body still being sent gets its 413" {
	conf_static
	start_fcgate "$T/fcgate.conf"
	run send_all_read "$HTTP_PORT" \
		'b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n" + b"a" * 2000000'
	assert_output 413
	# a bad request followed by more bytes: the 400 arrives too
	run send_all_read "$HTTP_PORT" \
		'b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n" + b"x" * 300000'
	assert_output 400
}

@test "keepalive_timeout = 0 says Connection: close; keepalive_requests ends a connection" {
	conf_static
	sed -i 's|^    root = |    keepalive_timeout = 0\n    root = |' "$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	run curl -sS -D - -o /dev/null "http://127.0.0.1:$HTTP_PORT/"
	assert_line --partial 'Connection: close'
	fcg_teardown
	fcg_setup
	echo "home page" >"$T/html/index.html"
	conf_static
	sed -i 's|^    root = |    keepalive_requests = 3\n    root = |' "$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	# 5 pipelined requests: three answers, the third with close
	run python3 - "$HTTP_PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 5)
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
print(data.count(b"HTTP/1.1 200"), data.count(b"Connection: close"))
PY
	assert_output "3 1"
}
