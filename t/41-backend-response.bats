#!/usr/bin/env bats
# What a backend's answer may not do to the client connection: a body
# longer or shorter than its Content-Length, a backend that dies mid-way,
# records of another request, 1xx statuses, many headers.  Each case is
# checked on a kept-alive client connection, where a framing mistake
# turns into a wrong next answer.

load helper

setup() {
	fcg_setup
	start_testd a
	mkdir -p "$T/html/php"
	cat >"$T/html/php/long.php" <<'PHP'
<?php header("Content-Length: 5"); echo "HELLO"; echo $_GET["x"];
PHP
	cat >"$T/html/php/short.php" <<'PHP'
<?php header("Content-Length: 100"); echo "HELLO";
PHP
	cat >"$T/html/php/cookies.php" <<'PHP'
<?php for ($i = 0; $i < 100; $i++) setcookie("c$i", "$i"); echo "ok\n";
PHP
	cat >"$T/html/php/n.php" <<'PHP'
<?php echo "n=", $_GET["n"] ?? "", "\n";
PHP
	start_php_pool one
	{
		base_conf
		cat <<CONF
upstream app {
    server 127.0.0.1:$TESTD_PORT_a { max_fails = 0 }
}
upstream php {
    server 127.0.0.1:$PHP_PORT_one { max_fails = 0 }
}
upstream off {
    server 127.0.0.1:$(free_port) { down = true }
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {localhost}
    root = "$T/html"
    location "/off/" {
        fastcgi_pass = off
        include("$REPO/etc/fastcgi_params")
    }
    location "/php/" {
        fastcgi_pass = php
        include("$REPO/etc/fastcgi_params")
        fastcgi_param { SCRIPT_FILENAME = "\$document_root\$fastcgi_script_name" }
    }
    location '~ \.t$' {
        fastcgi_pass = app
        fastcgi_read_timeout = 2s
        include("$REPO/etc/fastcgi_params")
    }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
}

teardown() {
	fcg_teardown
}

# exchange PATH...: send a GET for each PATH on one connection, all at
# once (pipelined), then print everything received until the server closes
# or 3 s pass, with CR removed; the last line says "EOF" or "TIMEOUT".
exchange() {
	python3 - "$HTTP_PORT" "$@" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
req = b"".join(b"GET " + p.encode() + b" HTTP/1.1\r\nHost: localhost\r\n\r\n"
               for p in sys.argv[2:])
s.sendall(req)
s.settimeout(0.2)
data, end, deadline = b"", "TIMEOUT", time.time() + 3
while time.time() < deadline:
    try:
        b = s.recv(65536)
    except socket.timeout:
        continue
    except ConnectionResetError:
        end = "RESET"
        break
    if not b:
        end = "EOF"
        break
    data += b
sys.stdout.write(data.decode("latin1").replace("\r", "") + "\n" + end + "\n")
PY
}

@test "a body longer than its Content-Length is cut there; the next answer on the connection is its own" {
	run exchange "/x.t?mode=raw&cl=5&n=12" "/y.t?mode=echo&second=1"
	assert_line "abcdeHTTP/1.1 200 OK"
	assert_line "QUERY_STRING=mode=echo&second=1"
	refute_output --partial "fghijkl"
	grep -q 'upstream sent more data than specified in "Content-Length" header' "$T/error.log"
	[ "$(grep -c 'more data than specified' "$T/error.log")" -eq 1 ]
}

@test "php: Content-Length 5 then more output: the client gets 5 bytes, the connection stays right" {
	run exchange "/php/long.php?x=WORLD" "/php/n.php?n=2"
	assert_line "Content-Length: 5"
	assert_line "HELLOHTTP/1.1 200 OK"
	assert_line "n=2"
	refute_output --partial "WORLD"
	[ "${lines[-1]}" = TIMEOUT ]	# still open, waiting for more
}

@test "two different Content-Length headers: 502; two identical ones: one, and the answer" {
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/x.t?mode=raw&cl=5&cl2=6&n=5"
	assert_output 502
	grep -q 'upstream sent invalid header: two different Content-Length headers' "$T/error.log"
	run curl -sS -i "$URL/x.t?mode=raw&cl=5&cl2=5&n=5"
	assert_line --partial "HTTP/1.1 200"
	[ "$(echo "$output" | grep -ci '^content-length:')" -eq 1 ]
	assert_line "abcde"
}

@test "HEAD, 204 and 304 with a Content-Length: no body is waited for or passed on" {
	run exchange "/x.t?mode=raw&code=204&cl=5&n=5" \
		"/x.t?mode=raw&code=304&cl=5&n=5" "/z.t?mode=echo&third=1"
	assert_line "HTTP/1.1 204 Raw"
	assert_line "HTTP/1.1 304 Raw"
	assert_line "QUERY_STRING=mode=echo&third=1"
	refute_output --partial "abcde"
	# 204 gets no Content-Length at all; 304 keeps the one it describes
	[ "$(echo "$output" | grep -c '^Content-Length: 5')" -eq 1 ]
	run curl -sS -I --max-time 3 "$URL/x.t?mode=raw&cl=5&n=5"
	assert_success
	assert_line --partial "Content-Length: 5"
}

@test "a body shorter than its Content-Length: the client connection is closed after it, logged" {
	run exchange "/x.t?mode=raw&cl=10&n=3" "/y.t?mode=echo&second=1"
	assert_line "abc"
	[ "${lines[-1]}" = EOF ]
	refute_output --partial "second=1"
	grep -q 'upstream prematurely closed FastCGI stdout' "$T/error.log"
	run exchange "/php/short.php" "/php/n.php?n=2"
	assert_line "HELLO"
	[ "${lines[-1]}" = EOF ]
	refute_output --partial "n=2"
}

@test "a backend that closes or resets mid-body: sent bytes stand, no last chunk, connection closed" {
	for end in close reset; do
		: >"$T/error.log"
		run exchange "/x.t?mode=raw&n=3&pause=300&end=$end" "/y.t?mode=echo"
		assert_line "Transfer-Encoding: chunked"
		assert_line "abc"
		refute_line "0"
		refute_output --partial "mode=echo"
		[ "${lines[-1]}" = EOF ]
		grep -q 'upstream' "$T/error.log"
	done
	# and with a Content-Length: the client sees the cut, never waits
	run exchange "/x.t?mode=raw&cl=10&n=3&pause=300&end=close"
	assert_line "abc"
	[ "${lines[-1]}" = EOF ]
}

@test "a backend that fails after its head was queued but before a byte left: 502, not an empty reply" {
	run exchange "/x.t?mode=raw&n=3&end=badversion" "/y.t?mode=echo&second=1"
	[ "${lines[0]}" = "HTTP/1.1 502 Bad Gateway" ]
	refute_output --partial "abc"
	# and the connection goes on with the next request
	assert_line "QUERY_STRING=mode=echo&second=1"
	grep -q 'upstream sent invalid FastCGI record: unknown version' "$T/error.log"
}

@test "records of another request id: 502, logged (before or after the head)" {
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/x.t?mode=raw&rid=2&n=3"
	assert_output 502
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/x.t?mode=raw&n=3&end=otherid"
	assert_output 502
	[ "$(grep -c 'upstream sent invalid FastCGI record: unexpected request id' "$T/error.log")" -eq 2 ]
}

@test "a 1xx Status from the application is not sent as the final answer: 502" {
	for code in 100 103; do
		run curl -sS -o /dev/null -w '%{http_code}' --max-time 3 \
			"$URL/x.t?mode=raw&code=$code&n=3"
		assert_output 502
	done
	grep -q 'upstream sent invalid status "103"' "$T/error.log"
}

@test "100 Set-Cookie headers from php-fpm pass, each on its own line" {
	run curl -sS -i "$URL/php/cookies.php"
	assert_line --partial "HTTP/1.1 200"
	[ "$(echo "$output" | grep -c '^Set-Cookie: c')" -eq 100 ]
	assert_line --partial "Set-Cookie: c99=99"
	assert_line "ok"
	run curl -sS -i "$URL/x.t?mode=raw&cookies=300"
	[ "$(echo "$output" | grep -c '^Set-Cookie: c')" -eq 300 ]
}

@test "no usable server: the access log's upstream field names the upstream" {
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/off/x"
	assert_output 502
	grep -q 'no live upstreams' "$T/error.log"
	sleep 0.2
	run tail -1 "$T/access.log"
	assert_output --regexp '"GET /off/x HTTP/1.1" 502 .* off - '
}
