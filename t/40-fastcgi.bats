#!/usr/bin/env bats
# fcgate in front of our controllable FastCGI backend (t/backend/fcgi_testd):
# params, bodies both ways, CGI header translation, balancing, failures.

load helper

setup() {
	fcg_setup
	start_testd a
	start_testd b
	start_testd c
	printf '<h1>bad gateway page</h1>\n' >"$T/html/50x.html"
	{
		base_conf
		cat <<CONF
upstream app {
    server 127.0.0.1:$TESTD_PORT_a { weight = 3 }
    server 127.0.0.1:$TESTD_PORT_b {}
    server 127.0.0.1:$TESTD_PORT_c {}
}
upstream tolerant {
    server 127.0.0.1:$TESTD_PORT_a { max_fails = 0 }
    server 127.0.0.1:$TESTD_PORT_b { max_fails = 0 }
    server 127.0.0.1:$TESTD_PORT_c { max_fails = 0 }
}
upstream dead {
    server 127.0.0.1:$(free_port) {}
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {localhost}
    root = "$T/html"
    client_max_body_size = 4m
    error_page /50x.html { status = {502, 504} }
    location "= /50x.html" {}
    location "/dead/" {
        fastcgi_pass = dead
        include("$REPO/etc/fastcgi_params")
    }
    location "^~ /t/" {
        fastcgi_pass = tolerant
        fastcgi_read_timeout = 1s
        fastcgi_next_upstream = {error}
        include("$REPO/etc/fastcgi_params")
        fastcgi_param { SCRIPT_FILENAME = "\$document_root\$fastcgi_script_name" }
    }
    location '~ \.php$' {
        fastcgi_pass = app
        fastcgi_index = index.php
        fastcgi_read_timeout = 1s
        include("$REPO/etc/fastcgi_params")
        fastcgi_param { SCRIPT_FILENAME = "\$document_root\$fastcgi_script_name" }
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

@test "params: SCRIPT_FILENAME, QUERY_STRING, REQUEST_METHOD, HTTP_* reach the backend" {
	run curl -sS -H 'X-Test-Header: hello' -H 'Proxy: http://evil' \
		"$URL/app/x.php?mode=echo&q=1"
	assert_success
	assert_line "SCRIPT_FILENAME=$T/html/app/x.php"
	assert_line "QUERY_STRING=mode=echo&q=1"
	assert_line "REQUEST_METHOD=GET"
	assert_line "REQUEST_URI=/app/x.php?mode=echo&q=1"
	assert_line "SCRIPT_NAME=/app/x.php"
	assert_line "HTTP_X_TEST_HEADER=hello"
	assert_line "REMOTE_ADDR=127.0.0.1"
	assert_line "SERVER_PORT=$HTTP_PORT"
	assert_line "GATEWAY_INTERFACE=CGI/1.1"
	refute_line --partial "HTTP_PROXY="
}

@test "params: client and server addresses, each listen address its own" {
	# SERVER_ADDR comes from the listen address the connection came in on
	# (no getsockname() for a named address): two of them, two answers.
	local second
	second="$(free_port)"
	sed -i "s|listen = {127.0.0.1:$HTTP_PORT}|listen = {127.0.0.1:$HTTP_PORT, 127.0.0.3:$second}|" \
		"$T/fcgate.conf"
	kill -HUP "$FCGATE_PID"
	wait_port "$second" 127.0.0.3
	run curl -sS --interface 127.0.0.7 "$URL/x.php?mode=echo"
	assert_success
	assert_line "REMOTE_ADDR=127.0.0.7"
	assert_line --regexp '^REMOTE_PORT=[1-9][0-9]*$'
	assert_line "SERVER_ADDR=127.0.0.1"
	assert_line "SERVER_PORT=$HTTP_PORT"
	run curl -sS --interface 127.0.0.7 "http://127.0.0.3:$second/x.php?mode=echo"
	assert_success
	assert_line "REMOTE_ADDR=127.0.0.7"
	assert_line "SERVER_ADDR=127.0.0.3"
	assert_line "SERVER_PORT=$second"
	# and back: a worker remembers the last address it printed
	run curl -sS "$URL/x.php?mode=echo"
	assert_line "SERVER_ADDR=127.0.0.1"
	assert_line "SERVER_PORT=$HTTP_PORT"
}

@test "a 1 MiB POST body is passed intact with its CONTENT_LENGTH" {
	head -c 1048576 /dev/urandom >"$T/blob"
	curl -sS --data-binary @"$T/blob" -H 'Content-Type: application/x-test' \
		-o "$T/back" "$URL/e.php?mode=echo_body"
	cmp "$T/blob" "$T/back"
	run curl -sS --data-binary @"$T/blob" "$URL/e.php?mode=echo"
	assert_line "CONTENT_LENGTH=1048576"
	assert_line "stdin_bytes=1048576"
}

@test "a chunked request body is de-chunked and gets a CONTENT_LENGTH" {
	head -c 300000 /dev/urandom >"$T/blob"
	curl -sS -H 'Transfer-Encoding: chunked' --data-binary @"$T/blob" \
		-o "$T/back" "$URL/e.php?mode=echo_body"
	cmp "$T/blob" "$T/back"
	run curl -sS -H 'Transfer-Encoding: chunked' --data-binary @"$T/blob" \
		"$URL/e.php?mode=echo"
	assert_line "CONTENT_LENGTH=300000"
	refute_line --partial "HTTP_TRANSFER_ENCODING"
}

@test "a body over client_max_body_size gets 413 without reaching a backend" {
	head -c 5000000 /dev/zero >"$T/big"
	run curl -sS -o /dev/null -w '%{http_code}' --data-binary @"$T/big" \
		"$URL/e.php?mode=echo"
	assert_output 413
}

@test "a response without length is streamed chunked to HTTP/1.1 and whole to HTTP/1.0" {
	run curl -sS -D "$T/h" -o "$T/body" "$URL/s.php?mode=size&n=200000"
	assert_success
	run grep -ci '^transfer-encoding: chunked' "$T/h"
	assert_output 1
	[ "$(stat -c %s "$T/body")" -eq 200000 ]
	run curl -sS -0 -o "$T/body10" -D "$T/h10" "$URL/s.php?mode=size&n=200000"
	[ "$(stat -c %s "$T/body10")" -eq 200000 ]
	run grep -ci '^transfer-encoding' "$T/h10"
	assert_output 0
}

@test "Status, Location and Set-Cookie headers are translated" {
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/s.php?mode=status&code=418"
	assert_output 418
	run curl -sS -D - -o /dev/null "$URL/s.php?mode=redirect"
	assert_line --partial "HTTP/1.1 302"
	# a path is sent absolute, as nginx's absolute_redirect does
	assert_line --regexp "^Location: http://127.0.0.1:$HTTP_PORT/elsewhere\s*$"
	run curl -sS -D - -o /dev/null "$URL/s.php?mode=cookies"
	[ "$(echo "$output" | grep -ci '^set-cookie:')" -eq 2 ]
}

@test "HEAD gets the head and no body" {
	run curl -sS -I "$URL/s.php?mode=size&n=5000"
	assert_success
	assert_line --partial "HTTP/1.1 200"
}

@test "STDERR from the backend goes to the error log, the response is intact" {
	run curl -sS "$URL/s.php?mode=stderr"
	assert_success
	assert_line --partial "backend="
	run grep -c 'FastCGI sent in stderr: "test stderr message"' "$T/error.log"
	assert_output 1
}

@test "weights 3:1:1 give 300/100/100 over 500 requests across two workers" {
	for i in $(seq 1 500); do
		echo "url = \"$URL/w.php?mode=echo\""
	done >"$T/urls"
	curl -sS -K "$T/urls" | grep '^backend=' | sort | uniq -c >"$T/dist"
	run cat "$T/dist"
	assert_line --regexp '^ *300 backend=a$'
	assert_line --regexp '^ *100 backend=b$'
	assert_line --regexp '^ *100 backend=c$'
	run "$FCGATECTL" -m "$T/fcgate.shm" status
	assert_success
	assert_output --regexp "127.0.0.1:$TESTD_PORT_a .* 300 "
}

@test "a dead upstream gives 502 through error_page, logged with its address" {
	run curl -sS -w '%{http_code}' "$URL/dead/x"
	assert_output --partial "bad gateway page"
	assert_output --regexp '502$'
	run grep -c "connect() to upstream failed (111: Connection refused).*upstream: \"fastcgi://127.0.0.1:" "$T/error.log"
	assert_success
}

@test "a backend that closes without answering: every server tried, then 502, then no live upstreams" {
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/d.php?mode=die"
	assert_output 502
	run grep -c 'upstream prematurely closed connection' "$T/error.log"
	assert_output 3
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/d.php?mode=echo"
	assert_output 502
	grep -q 'no live upstreams' "$T/error.log"
}

@test "garbage, a wrong version, bad END_REQUEST statuses, a cut record, no blank line: 502 each, logged" {
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/t/g.php?mode=garbage"
	assert_output 502
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/t/g.php?mode=badversion"
	assert_output 502
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/t/g.php?mode=overloaded"
	assert_output 502
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/t/g.php?mode=hugeheader&n=100000"
	assert_output 502
	for mode in cantmpx unknownrole midrecord noblank; do
		run curl -sS -o /dev/null -w '%{http_code}' "$URL/t/g.php?mode=$mode"
		assert_output 502
	done
	grep -q 'upstream sent invalid FastCGI record: unknown version' "$T/error.log"
	grep -q 'too big header' "$T/error.log"
	grep -q 'protocol status 2 (overloaded)' "$T/error.log"
	grep -q 'protocol status 1 (cant mpx conn)' "$T/error.log"
	grep -q 'protocol status 3 (unknown role)' "$T/error.log"
	grep -q 'upstream prematurely closed connection' "$T/error.log"
	grep -q 'upstream prematurely ended the response: no header' "$T/error.log"
	# and the workers still serve
	run curl -sS "$URL/t/ok.php?mode=echo"
	assert_line --partial "backend="
}

@test "a backend slower than fastcgi_read_timeout gives 504" {
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/t/slow.php?mode=slow&ms=3000"
	assert_output 504
	grep -q 'upstream timed out' "$T/error.log"
}

@test "a client that disconnects mid-response does not hurt the worker" {
	pids_before="$("$FCGATECTL" -m "$T/fcgate.shm" workers --json)"
	for i in $(seq 1 5); do
		timeout 0.3 curl -sS --limit-rate 10k -o /dev/null \
			"$URL/t/big.php?mode=size&n=50000000" || true
	done
	run curl -sS "$URL/t/after.php?mode=echo"
	assert_line --partial "backend="
	pids_after="$("$FCGATECTL" -m "$T/fcgate.shm" workers --json)"
	[ "$(echo "$pids_before" | grep -o '"pid": *[0-9]*' | sort)" = \
	  "$(echo "$pids_after" | grep -o '"pid": *[0-9]*' | sort)" ]
}

@test "fcgatectl probe asks a backend for its limits with GET_VALUES" {
	run "$FCGATECTL" probe "127.0.0.1:$TESTD_PORT_a"
	assert_success
	assert_line --regexp "^127.0.0.1:$TESTD_PORT_a: up, answered GET_VALUES in [0-9]+ ms$"
	assert_line "  FCGI_MAX_CONNS=64"
	assert_line "  FCGI_MAX_REQS=64"
	assert_line "  FCGI_MPXS_CONNS=0"
	run "$FCGATECTL" probe "127.0.0.1:$TESTD_PORT_a" --json
	assert_success
	echo "$output" | python3 -c 'import json,sys
d = json.load(sys.stdin)
assert d["up"] and d["values"]["FCGI_MAX_CONNS"] == "64", d'
	dead="$(free_port)"
	run "$FCGATECTL" probe "127.0.0.1:$dead"
	assert_failure 1
	assert_output "fcgatectl: probe 127.0.0.1:$dead: connect: Connection refused"
	run "$FCGATECTL" probe "nonsense:address:here"
	assert_failure 1
	assert_output --partial "bad address"
}
