#!/usr/bin/env bats
# Streaming both ways: a request body reaches the backend while the client
# is still sending it; a large response to a reader that stalls leaves the
# worker's memory flat; php-fpm with large uploads and downloads, cookies,
# redirects and fastcgi_split_path_info.

load helper

setup() {
	fcg_setup
}

teardown() {
	fcg_teardown
}

# stream_conf 'SERVER LINE' [LOCATION EXTRA]: one worker, *.php and
# /app/*.php (split path info) to upstream "app".
stream_conf() {
	{
		WORKERS=1 base_conf
		cat <<CONF
upstream app {
    $1
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = "$T/html"
    client_max_body_size = 64m
    location '~ ^(.+\.php)(/.*)?$' {
        fastcgi_pass = app
        fastcgi_split_path_info = '^(.+\.php)(/.*)$'
        include("$REPO/etc/fastcgi_params")
        fastcgi_param { SCRIPT_FILENAME = "\$document_root\$fastcgi_script_name" }
        fastcgi_param { PATH_INFO = "\$fastcgi_path_info" }
        ${2:-}
    }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
}

worker_pid() {
	"$FCGATECTL" -m "$T/fcgate.shm" workers --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["workers"][0]["pid"])'
}

@test "fastcgi_request_buffering off: a Content-Length body is passed on while it arrives, and arrives whole" {
	start_testd a
	stream_conf "server 127.0.0.1:$TESTD_PORT_a {}" \
		"fastcgi_request_buffering = false"
	run python3 - "$HTTP_PORT" "$T/testd-a.log" <<'PY'
import socket, sys, time
port, log = int(sys.argv[1]), sys.argv[2]
body = bytes(range(256)) * 800          # 204800 bytes
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"POST /x.php?mode=echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
          b"Content-Length: %d\r\n\r\n" % len(body))
s.sendall(body[:100000])
time.sleep(0.7)
print("started before the end:", "stdin started" in open(log).read())
s.sendall(body[100000:])
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
print(data.split(b"\r\n")[0].decode())
for line in data.split(b"\n"):
    if line.startswith(b"stdin_bytes=") or line.startswith(b"CONTENT_LENGTH="):
        print(line.decode())
PY
	assert_line "started before the end: True"
	assert_line --partial "200 OK"
	assert_line "CONTENT_LENGTH=204800"
	assert_line "stdin_bytes=204800"
}

@test "a streamed body survives a retry: the next server gets all of it again" {
	start_testd a -x "$T/a.fail"
	start_testd b
	touch "$T/a.fail"
	stream_conf "server 127.0.0.1:$TESTD_PORT_a {}
    server 127.0.0.1:$TESTD_PORT_b {}"
	# a accepts and closes every connection: each PUT (idempotent, so
	# it may be repeated) that tries a first is sent again to b
	head -c 3000000 /dev/urandom >"$T/blob"
	for i in 1 2; do
		curl -sS -X PUT --data-binary @"$T/blob" -o "$T/back$i" \
			"$URL/x.php?mode=echo_body"
	done
	cmp "$T/blob" "$T/back1"
	cmp "$T/blob" "$T/back2"
	[ "$(grep -c '^conn' "$T/testd-a.log")" -ge 2 ]
	grep -q 'upstream prematurely closed\|Connection reset\|Broken pipe' "$T/error.log"
}

@test "a client that stops reading a 300 MB response: the worker's memory stays flat" {
	start_testd a
	stream_conf "server 127.0.0.1:$TESTD_PORT_a {}"
	pid="$(worker_pid)"
	before="$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")"
	# (60 MB in the sanitizer pass)
	local n=300000000
	[ -z "${FCGATE_SANITIZED:-}" ] || n=60000000
	run python3 - "$HTTP_PORT" "$pid" "$n" <<'PY'
import socket, sys, time
port, pid, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
def rss():
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmRSS"):
            return int(line.split()[1])
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.sendall(b"GET /x.php?mode=size&n=%d HTTP/1.1\r\nHost: t\r\n"
          b"Connection: close\r\n\r\n" % n)
time.sleep(1.5)                       # not reading at all
peak = rss()
got = 0
while True:
    d = s.recv(1 << 20)
    if not d:
        break
    got += len(d)
    if got % (32 << 20) < (1 << 20):
        peak = max(peak, rss())
print("peak_rss_kb", peak)
print("bytes", got)
PY
	assert_success
	peak="$(echo "$output" | awk '/^peak_rss_kb/ { print $2 }')"
	got="$(echo "$output" | awk '/^bytes/ { print $2 }')"
	[ "$got" -gt "$n" ]
	echo "# worker RSS before ${before} kB, peak while streaming $((n / 1000000)) MB: ${peak} kB" >&3
	[ $((peak - before)) -lt 16384 ]
}

@test "php-fpm: 20 MB upload and 20 MB download intact" {
	start_php_pool one
	cat >"$T/html/up.php" <<'PHP'
<?php
$in = file_get_contents('php://input');
echo strlen($in), " ", md5($in), "\n";
PHP
	cat >"$T/html/down.php" <<'PHP'
<?php
header('Content-Type: application/octet-stream');
$chunk = str_repeat("0123456789abcdef", 4096);
for ($i = 0; $i < 320; $i++) { echo $chunk; }
PHP
	stream_conf "server 127.0.0.1:$PHP_PORT_one {}"
	head -c 20000000 /dev/urandom >"$T/blob"
	run curl -sS --data-binary @"$T/blob" "$URL/up.php"
	assert_output "20000000 $(md5sum <"$T/blob" | cut -d' ' -f1)"
	curl -sS -o "$T/down" "$URL/down.php"
	[ "$(stat -c %s "$T/down")" -eq 20971520 ]
	[ "$(head -c 16 "$T/down")" = 0123456789abcdef ]
}

@test "php-fpm: Set-Cookie lines stay separate, redirects pass, split path info" {
	start_php_pool one
	mkdir -p "$T/html/app"
	cat >"$T/html/app/index.php" <<'PHP'
<?php
if (isset($_GET['go'])) { header('Location: /elsewhere'); exit; }
setcookie('a', '1');
setcookie('b', '2');
echo "script=", $_SERVER['SCRIPT_NAME'], "\n";
echo "path_info=", $_SERVER['PATH_INFO'] ?? '', "\n";
echo "script_filename=", $_SERVER['SCRIPT_FILENAME'], "\n";
PHP
	stream_conf "server 127.0.0.1:$PHP_PORT_one {}"
	run curl -sS -D "$T/h" "$URL/app/index.php/some/path"
	assert_line "script=/app/index.php"
	assert_line "path_info=/some/path"
	assert_line "script_filename=$T/html/app/index.php"
	[ "$(grep -ci '^set-cookie:' "$T/h")" -eq 2 ]
	run curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "$URL/app/index.php?go=1"
	assert_output "302 $URL/elsewhere"
}

@test "fastcgi_request_buffering off: a body partly sent is not retried on the next server (502)" {
	start_testd a
	start_testd b
	stream_conf "server 127.0.0.1:$TESTD_PORT_a {}
    server 127.0.0.1:$TESTD_PORT_b {}" "fastcgi_request_buffering = false"
	# round robin starts with a; it reads the request and closes
	run curl -sS -o /dev/null -w '%{http_code}' -X PUT --data-binary 'hello' \
		"$URL/x.php?mode=die"
	assert_output 502
	run conns b
	assert_output 0
}

@test "buffered (the default), the same failure goes on to the next server" {
	start_testd a
	start_testd b
	stream_conf "server 127.0.0.1:$TESTD_PORT_a {}
    server 127.0.0.1:$TESTD_PORT_b {}"
	run curl -sS -o /dev/null -w '%{http_code}' -X PUT --data-binary 'hello' \
		"$URL/x.php?mode=die"
	assert_output 502
	run conns b
	assert_output 1
}
