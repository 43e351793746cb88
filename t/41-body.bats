#!/usr/bin/env bats
# Request bodies before a backend is asked: buffered by default (in
# memory, then a temp file), streamed with fastcgi_request_buffering off;
# client_body_timeout between two reads.

load helper

setup() {
	fcg_setup
	cat >"$T/html/up.php" <<'PHP'
<?php
$in = file_get_contents('php://input');
echo "len=", strlen($in), " cl=", $_SERVER['CONTENT_LENGTH'] ?? '-',
    " md5=", md5($in), "\n";
PHP
	start_php_pool one
}

teardown() {
	fcg_teardown
}

# conf_php [SERVER_EXTRA] [LOCATION_EXTRA]
conf_php() {
	{
		base_conf
		cat <<CONF
upstream php { server 127.0.0.1:$PHP_PORT_one {} }
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {localhost}
    root = "$T/html"
    $1
    location "= /fpm-status" {
        fastcgi_pass = php
        include("$REPO/etc/fastcgi_params")
        fastcgi_param { SCRIPT_FILENAME = "\$document_root\$fastcgi_script_name" }
    }
    location '~ \.php$' {
        fastcgi_pass = php
        include("$REPO/etc/fastcgi_params")
        fastcgi_param { SCRIPT_FILENAME = "\$document_root\$fastcgi_script_name" }
        $2
    }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
}

# fpm_active: php-fpm children busy now (the status request is one).
fpm_active() {
	curl -sS -m 5 "$URL/fpm-status" | awk -F': *' '/^active processes/ {print $2}'
}

@test "50 slow uploaders hold no php-fpm child; other requests are answered" {
	conf_php
	python3 "$REPO/t/lib/slow_upload.py" "$HTTP_PORT" /up.php 50 \
		"$T/ready" 4 >"$T/slow.out" &
	local slow=$!
	fcg_track "$slow"
	wait_file "$T/ready"
	sleep 0.5
	run fpm_active
	assert_output 1
	local i
	for i in 1 2 3 4 5 6 7 8; do
		run curl -sS -m 3 -d "n=$i" "$URL/up.php"
		assert_output "len=3 cl=3 md5=$(printf 'n=%s' "$i" | md5sum | cut -d' ' -f1)"
	done
	wait "$slow"
}

@test "fastcgi_request_buffering = off streams the body: a slow uploader holds a child" {
	conf_php "" "fastcgi_request_buffering = false"
	python3 "$REPO/t/lib/slow_upload.py" "$HTTP_PORT" /up.php 2 \
		"$T/ready" 2 >"$T/slow.out" &
	local slow=$!
	fcg_track "$slow"
	wait_file "$T/ready"
	sleep 0.5
	run fpm_active
	assert_output 3
	wait "$slow"
}

@test "a body larger than client_body_buffer_size goes through a temp file, exact" {
	mkdir -p "$T/bodies"
	chmod 777 "$T/bodies"
	conf_php "client_body_buffer_size = 1k
    client_body_temp_path = \"$T/bodies\""
	head -c 300000 /dev/urandom >"$T/blob"
	run curl -sS -m 10 --data-binary @"$T/blob" "$URL/up.php"
	assert_output "len=300000 cl=300000 md5=$(md5sum <"$T/blob" | cut -d' ' -f1)"
	# chunked too
	run curl -sS -m 10 -H 'Transfer-Encoding: chunked' \
		--data-binary @"$T/blob" "$URL/up.php"
	assert_output "len=300000 cl=300000 md5=$(md5sum <"$T/blob" | cut -d' ' -f1)"
}

@test "a temp directory that cannot be written: 500 and a log line, the worker keeps serving" {
	conf_php "client_body_buffer_size = 1k
    client_body_temp_path = \"$T/no/such/dir\""
	head -c 5000 /dev/zero >"$T/blob"
	run curl -sS -m 5 -o /dev/null -w '%{http_code}' \
		--data-binary @"$T/blob" "$URL/up.php"
	assert_output 500
	run grep -c "cannot create a temporary file for a request body in \"$T/no/such/dir\"" "$T/error.log"
	assert_output 1
	# small bodies stay in memory and still work
	run curl -sS -m 5 -d 'a=1' "$URL/up.php"
	assert_output "len=3 cl=3 md5=$(printf 'a=1' | md5sum | cut -d' ' -f1)"
	run grep -c 'exited\|killed by signal' "$T/error.log"
	assert_output 0
}

# trickle PORT GAP_S N: a 10-byte body, one byte every GAP_S seconds for
# N bytes, then the rest at once; prints the status line's code.
trickle() {
	python3 - "$@" <<'PY'
import socket, sys, time
port, gap, n = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"POST /up.php HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n")
try:
    for _ in range(n):
        time.sleep(gap)
        s.sendall(b"x")
    s.sendall(b"x" * (10 - n))
except OSError:
    pass
data = b""
while True:
    try:
        chunk = s.recv(4096)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
    if b"\r\n\r\n" in data:
        break
print(data.split(b" ")[1].decode() if data else "none")
PY
}

@test "client_body_timeout is the time between two reads, and ends in 408" {
	conf_php "client_body_timeout = 1s"
	# 2.4 s in all, never more than 0.4 s between two bytes
	run trickle "$HTTP_PORT" 0.4 6
	assert_output 200
	# a pause longer than the timeout
	run trickle "$HTTP_PORT" 2 1
	assert_output 408
	run grep -c 'timed out while sending the request body' "$T/error.log"
	assert_output 1
}

@test "buffered by default: the backend sees nothing of a body until all of it is here" {
	start_testd a
	{
		WORKERS=1 base_conf
		cat <<CONF
upstream app { server 127.0.0.1:$TESTD_PORT_a {} }
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = "$T/html"
    location '~ \.php$' { fastcgi_pass = app }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	run python3 - "$HTTP_PORT" "$T/testd-a.log" <<'PY'
import socket, sys, time
port, log = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"POST /x.php?mode=echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
          b"Content-Length: 200000\r\n\r\n" + b"a" * 100000)
time.sleep(0.7)
print("connections before the end:", open(log).read().count("conn ") - 1)
s.sendall(b"a" * 100000)
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
print([l.decode() for l in data.split(b"\n") if l.startswith(b"stdin_bytes=")][0])
PY
	assert_line "connections before the end: 0"
	assert_line "stdin_bytes=200000"
}
