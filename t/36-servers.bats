#!/usr/bin/env bats
# Several server blocks on one listen chosen by Host (the first as the
# default), a worker past worker_connections, Expect: 100-continue.

load helper

setup() {
	fcg_setup
	mkdir -p "$T/one" "$T/two" "$T/three"
	echo "site one" >"$T/one/index.html"
	echo "site two" >"$T/two/index.html"
	echo "site three" >"$T/three/index.html"
	chmod -R a+rX "$T"
	{
		WORKERS=1 WORKER_CONNECTIONS=16 base_conf
		cat <<CONF
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {one.test}
    root = "$T/one"
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {two.test, www.two.test}
    root = "$T/two"
    client_max_body_size = 10
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {three.test}
    root = "$T/three"
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
}

teardown() {
	fcg_teardown
}

@test "server blocks are chosen by Host (any case, any port), the first is the default" {
	run curl -sS -H 'Host: two.test' "$URL/"
	assert_output "site two"
	run curl -sS -H 'Host: WWW.Two.Test:8080' "$URL/"
	assert_output "site two"
	run curl -sS -H 'Host: three.test' "$URL/"
	assert_output "site three"
	run curl -sS -H 'Host: nobody.test' "$URL/"
	assert_output "site one"
	run curl -sS -0 -H 'Host:' "$URL/"
	assert_output "site one"
	# the chosen server's own limits apply
	run curl -sS -o /dev/null -w '%{http_code}' -H 'Host: two.test' -d 'more than ten bytes' "$URL/"
	assert_output 413
}

@test "past worker_connections the worker stops accepting, logs it, and recovers" {
	pid_before="$("$FCGATECTL" -m "$T/fcgate.shm" workers --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["workers"][0]["pid"])')"
	run python3 - "$HTTP_PORT" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(30)]
time.sleep(0.5)
# a new client waits in the queue while the worker is full ...
c = socket.create_connection(("127.0.0.1", port))
c.settimeout(0.5)
c.sendall(b"GET / HTTP/1.1\r\nHost: one.test\r\nConnection: close\r\n\r\n")
try:
    c.recv(100)
    print("answered while full")
except socket.timeout:
    print("waiting while full")
# ... and is served once others leave
for s in idle:
    s.close()
c.settimeout(5)
print(c.recv(100).split(b"\r\n")[0].decode())
PY
	assert_line "waiting while full"
	assert_line --partial "200 OK"
	grep -q '16 worker_connections are not enough' "$T/error.log"
	pid_after="$("$FCGATECTL" -m "$T/fcgate.shm" workers --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["workers"][0]["pid"])')"
	[ "$pid_before" = "$pid_after" ]
}

@test "Expect: 100-continue gets an interim 100 before the body is sent" {
	run python3 - "$HTTP_PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"PUT /x HTTP/1.1\r\nHost: one.test\r\nContent-Length: 5\r\n"
          b"Expect: 100-continue\r\nConnection: close\r\n\r\n")
print(s.recv(100).split(b"\r\n")[0].decode())
s.sendall(b"hello")
data = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    data += d
print(data.split(b"\r\n")[0].decode())
PY
	assert_line --index 0 "HTTP/1.1 100 Continue"
	assert_line --index 1 --partial "HTTP/1.1 405"
}
