#!/usr/bin/env bats
# HTTP request handling as nginx does it: the absolute-form target, the
# Host header's rules, fragments, refused methods and codings, encoded
# slashes, redirects, index, server names.  Requests are written raw.

load helper

setup() {
	fcg_setup
	start_testd app
	mkdir -p "$T/html/a" "$T/html/dir" "$T/html/sp ace" "$T/html/rel/sub"
	echo "file a/b" >"$T/html/a/b"
	echo "root index" >"$T/html/index.html"
	echo "re" >"$T/html/re.html"
	mkdir -p "$T/html/idx" "$T/html/loop" "$T/html/vidx"
	echo "vidx of a" >"$T/html/vidx/a.example-idx.html"
	echo "top of nothing" >"$T/html/nothing.example.html"
	chmod -R a+rX "$T/html"
	{
		base_conf
		cat <<CONF
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {a.example}
    root = "$T/html"
    location "/app/" {
        fastcgi_pass = 127.0.0.1:$TESTD_PORT_app
        include("$REPO/etc/fastcgi_params")
        fastcgi_param { X_SRV = "a"  X_HOST = "\$host"  X_URI = "\$uri"  X_ARGS = "\$args" }
    }
    location "/idx/" { index = {missing.html, "/re.html"} }
    location "/loop/" { index = {"/loop/"} }
    location "/vidx/" { index = {'\${host}-idx.html', "/\$host.html"} }
    location "/wiki/" {
        fastcgi_pass = 127.0.0.1:$TESTD_PORT_app
        include("$REPO/etc/fastcgi_params")
        fastcgi_param { X_URI = "\$uri" }
    }
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {b.example}
    root = "$T/html"
    location "/app/" {
        fastcgi_pass = 127.0.0.1:$TESTD_PORT_app
        include("$REPO/etc/fastcgi_params")
        fastcgi_param { X_SRV = "b"  X_HOST = "\$host" }
    }
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {c.example, alias.example}
    root = "$T/html"
    port_in_redirect = false
    server_name_in_redirect = true
    merge_slashes = false
    underscores_in_headers = true
    location "/rel/" { absolute_redirect = false }
    location "/app/" {
        fastcgi_pass = 127.0.0.1:$TESTD_PORT_app
        fastcgi_param { X_URI = "\$uri" }
    }
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {'~^[a-z]+\.wild\.example$'}
    location "/app/" {
        fastcgi_pass = 127.0.0.1:$TESTD_PORT_app
        fastcgi_param { X_SRV = "regex" }
    }
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {"www.wild.*"}
    location "/app/" {
        fastcgi_pass = 127.0.0.1:$TESTD_PORT_app
        fastcgi_param { X_SRV = "trailing" }
    }
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {"*.wild.example", "exact.wild.example"}
    location "/app/" {
        fastcgi_pass = 127.0.0.1:$TESTD_PORT_app
        fastcgi_param { X_SRV = "leading" }
    }
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {""}
    root = "$T/html"
    location "/app/" {
        fastcgi_pass = 127.0.0.1:$TESTD_PORT_app
        include("$REPO/etc/fastcgi_params")
        fastcgi_param { X_SRV = "empty" }
    }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
}

teardown() {
	fcg_teardown
}

# raw REQUEST: send it as written, the answer in $output.
raw() {
	run python3 "$REPO/t/lib/raw_request.py" "$HTTP_PORT" "$1"
	assert_success
}

@test "absolute-form target: the URI's host routes, and is the only host the app sees" {
	raw 'GET http://B.Example:8080/app/x?mode=echo HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n'
	assert_line --index 0 --partial "200"
	assert_line "X_SRV=b"
	assert_line "X_HOST=b.example"
	assert_line "SERVER_NAME=b.example"
	assert_line "HTTP_HOST=b.example:8080"
	assert_line "REQUEST_URI=/app/x?mode=echo"
	refute_line --partial "a.example"
	# an HTTP/1.0 absolute-form request without Host gets HTTP_HOST too
	raw 'GET http://a.example/app/x?mode=echo HTTP/1.0\r\n\r\n'
	assert_line "X_SRV=a"
	assert_line "HTTP_HOST=a.example"
	assert_line "REQUEST_URI=/app/x?mode=echo"
}

@test "an encoded slash is decoded as nginx: static file a/b, \$uri for FastCGI" {
	raw 'GET /a%2Fb HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n'
	assert_line --index 0 --partial "200"
	assert_line "file a/b"
	raw 'GET /wiki/A%2FB?mode=echo HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n'
	assert_line --index 0 --partial "200"
	assert_line "X_URI=/wiki/A/B"
	assert_line "DOCUMENT_URI=/wiki/A/B"
	assert_line "REQUEST_URI=/wiki/A%2FB?mode=echo"
}

@test "Host is lower-cased for \$host and server_name; bad ones are 400; no Host goes to server_name \"\"" {
	raw 'GET /app/x?mode=echo HTTP/1.1\r\nHost: B.EXAMPLE.:8080\r\nConnection: close\r\n\r\n'
	assert_line "X_SRV=b"
	assert_line "X_HOST=b.example"
	for h in '' '.' 'b.example:0' 'b.example:65536' ':80'; do
		raw "GET /app/x?mode=echo HTTP/1.1\r\nHost: $h\r\nConnection: close\r\n\r\n"
		assert_line --index 0 "HTTP/1.1 400 Bad Request"
	done
	raw 'GET /app/x?mode=echo HTTP/1.0\r\n\r\n'
	assert_line "X_SRV=empty"
	# an unknown name still goes to the default (first) server
	raw 'GET /app/x?mode=echo HTTP/1.1\r\nHost: nobody.example\r\nConnection: close\r\n\r\n'
	assert_line "X_SRV=a"
	# the backend saw none of the refused ones
	[ "$(grep -c '^conn ' "$T/testd-app.log")" -eq 4 ]
}

@test "a #fragment is stripped before routing: \$uri, dot segments, \$args" {
	raw 'GET /app/x?mode=echo&a=1#b=2 HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n'
	assert_line "X_URI=/app/x"
	assert_line "X_ARGS=mode=echo&a=1"
	assert_line "QUERY_STRING=mode=echo&a=1"
	raw 'GET /app/x#/../../etc/passwd HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n'
	assert_line --index 0 --partial "200"
	assert_line "X_URI=/app/x"
	assert_line "X_ARGS="
	raw 'GET /a%2Fb#?x HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n'
	assert_line "file a/b"
}

@test "TRACE and CONNECT are refused (405, CONNECT host:port 400), never passed to FastCGI" {
	raw 'TRACE /app/x?mode=echo HTTP/1.1\r\nHost: a.example\r\n\r\n'
	assert_line --index 0 "HTTP/1.1 405 Method Not Allowed"
	assert_line "Connection: close"
	raw 'TRACE /app/x?mode=echo HTTP/1.0\r\n\r\n'
	assert_line --index 0 "HTTP/1.1 405 Method Not Allowed"
	raw 'CONNECT /app/x?mode=echo HTTP/1.1\r\nHost: a.example\r\n\r\n'
	assert_line --index 0 "HTTP/1.1 405 Method Not Allowed"
	raw 'CONNECT a.example:443 HTTP/1.1\r\nHost: a.example\r\n\r\n'
	assert_line --index 0 "HTTP/1.1 400 Bad Request"
	[ "$(grep -c '^conn ' "$T/testd-app.log")" -eq 1 ]
}

@test "Transfer-Encoding other than a lone chunked is 501, as nginx" {
	for te in 'chunked, identity' 'identity' 'gzip, chunked' 'chunked, gzip' 'chunked, chunked'; do
		raw "POST /app/x HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: $te\r\n\r\n0\r\n\r\n"
		assert_line --index 0 "HTTP/1.1 501 Not Implemented"
		assert_line "Connection: close"
	done
	raw 'POST /app/x?mode=echo HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n'
	assert_line "stdin_bytes=3"
}

@test "Expect: 100-continue gets 100 Continue also with Content-Length: 0 or no body, as nginx" {
	raw 'POST /app/x?mode=echo HTTP/1.1\r\nHost: a.example\r\nExpect: 100-continue\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
	assert_line --index 0 "HTTP/1.1 100 Continue"
	assert_line --index 1 --partial "HTTP/1.1 200"
	raw 'GET /index.html HTTP/1.1\r\nHost: a.example\r\nExpect: 100-Continue\r\nConnection: close\r\n\r\n'
	assert_line --index 0 "HTTP/1.1 100 Continue"
	assert_line "root index"
	# as nginx, no 100 where no handler would read the body: an error,
	# a redirect
	raw 'GET /nonexist HTTP/1.1\r\nHost: a.example\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n'
	assert_line --index 0 "HTTP/1.1 404 Not Found"
	raw 'GET /dir HTTP/1.1\r\nHost: a.example\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n'
	assert_line --index 0 "HTTP/1.1 301 Moved Permanently"
	# through an index (an internal redirect): once, where the file is served
	raw 'GET /idx/ HTTP/1.1\r\nHost: a.example\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n'
	assert_line --index 0 "HTTP/1.1 100 Continue"
	assert_line --index 1 --partial "HTTP/1.1 200"
	# a body over client_max_body_size (1m) gets its 413 without the 100
	raw 'POST /app/x HTTP/1.1\r\nHost: a.example\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n'
	assert_line --index 0 --partial "HTTP/1.1 413"
	refute_line --partial "100 Continue"
	# HTTP/1.0 clients cannot expect it
	raw 'POST /app/x?mode=echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n'
	assert_line --index 0 --partial "HTTP/1.1 200"
}

@test "directory redirects are absolute (host, port), escaped, keep the query; FastCGI prefix locations too" {
	raw 'GET /dir HTTP/1.1\r\nHost: A.example:8080\r\nConnection: close\r\n\r\n'
	assert_line --index 0 "HTTP/1.1 301 Moved Permanently"
	assert_line "Location: http://a.example:$HTTP_PORT/dir/"
	raw 'GET /sp%20ace?x=1&y=%20 HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n'
	assert_line "Location: http://a.example:$HTTP_PORT/sp%20ace/?x=1&y=%20"
	raw 'GET /dir HTTP/1.0\r\n\r\n'
	assert_line "Location: http://127.0.0.1:$HTTP_PORT/dir/"
	# location "/app/" with fastcgi_pass, asked as "/app": 301, any method
	raw 'GET /ap%70?q=1 HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n'
	assert_line --index 0 "HTTP/1.1 301 Moved Permanently"
	assert_line "Location: http://a.example:$HTTP_PORT/app/?q=1"
	raw 'POST /app HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc'
	assert_line "Location: http://a.example:$HTTP_PORT/app/"
	[ "$(grep -c '^conn ' "$T/testd-app.log")" -eq 1 ]
	# port_in_redirect, server_name_in_redirect, absolute_redirect
	raw 'GET /dir HTTP/1.1\r\nHost: alias.example\r\nConnection: close\r\n\r\n'
	assert_line "Location: http://c.example/dir/"
	raw 'GET /rel/sub HTTP/1.1\r\nHost: alias.example\r\nConnection: close\r\n\r\n'
	assert_line "Location: /rel/sub/"
}

@test "an index with an absolute path is an internal redirect; an index loop is 500, logged" {
	raw 'GET /idx/ HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n'
	assert_line --index 0 --partial "200"
	assert_line "re"
	raw 'GET /loop/ HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n'
	assert_line --index 0 "HTTP/1.1 500 Internal Server Error"
	grep -q 'rewrite or internal redirection cycle while internally redirecting to "/loop/"' "$T/error.log"
}

@test "wildcard and regex server_name, nginx's precedence" {
	for pair in www.wild.example=leading x.y.wild.example=leading \
	    www.wild.org=trailing abc.wild.example=leading \
	    exact.wild.example=leading nothing.example=a; do
		raw "GET /app/x?mode=echo HTTP/1.1\r\nHost: ${pair%%=*}\r\nConnection: close\r\n\r\n"
		assert_line "X_SRV=${pair#*=}"
	done
	# only a regex fits: the regex server
	run sed -i 's/"\*\.wild\.example", //' "$T/fcgate.conf"
	kill -HUP "$FCGATE_PID"
	for _ in $(seq 1 50); do
		raw 'GET /app/x?mode=echo HTTP/1.1\r\nHost: abc.wild.example\r\nConnection: close\r\n\r\n'
		grep -qx "X_SRV=regex" <<<"$output" && break
		sleep 0.1
	done
	assert_line "X_SRV=regex"
}

@test "-t refuses a '*' that is not a whole first or last label, and a bad regex name" {
	for name in 'www.*.example.com' '*example.com' 'www.example*' '*.a.*' '*'; do
		sed "s/server_name = {c.example, alias.example}/server_name = {\"$name\"}/" \
			"$T/fcgate.conf" >"$T/bad.conf"
		run "$FCGATE" -t -c "$T/bad.conf"
		assert_failure 1
		assert_output --partial "invalid server name or wildcard '$name'"
	done
	sed "s/server_name = {c.example, alias.example}/server_name = {'~^(x'}/" \
		"$T/fcgate.conf" >"$T/bad.conf"
	run "$FCGATE" -t -c "$T/bad.conf"
	assert_failure 1
	assert_output --partial "server_name: invalid regex"
}

@test "merge_slashes (on by default) and underscores_in_headers (off: such headers are not passed)" {
	raw 'GET /app//x///y?mode=echo HTTP/1.1\r\nHost: a.example\r\nX_Under_Score: 1\r\nX-Dash: 2\r\nConnection: close\r\n\r\n'
	assert_line "X_URI=/app/x/y"
	assert_line "HTTP_X_DASH=2"
	refute_line --partial "UNDER_SCORE"
	raw 'GET /app//x///y?mode=echo HTTP/1.1\r\nHost: c.example\r\nX_Under_Score: 1\r\nConnection: close\r\n\r\n'
	assert_line "X_URI=/app//x///y"
	assert_line "HTTP_X_UNDER_SCORE=1"
}

@test "access log: refused heads get their line; quotes and control bytes are escaped as nginx" {
	raw 'GET /index.html HTTP/1.1\r\nHost: a.example\r\nUser-Agent: a"b\\c\xe9f\tg\r\nReferer: r"\r\nConnection: close\r\n\r\n'
	# control bytes (refused in a head, so logged with its 400)
	raw 'GET /\x01\x7f HTTP/1.1\r\nHost: a\r\nUser-Agent: \x1b[31m\r\n\r\n'
	raw 'GET /x"y HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n'
	raw 'GET / HTTP/1.1\r\n\r\n'
	raw 'GET / HTTP/2.0\r\nHost: a\r\n\r\n'
	raw 'get / HTTP/1.1\r\nHost: a\r\n\r\n'
	raw 'POST /app/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n'
	raw 'GARBAGE\r\n\r\n'
	raw "GET /$(head -c 9000 /dev/zero | tr '\0' a) HTTP/1.1\r\nHost: a\r\n\r\n"
	raw "GET / HTTP/1.1\r\nHost: a\r\nX: $(head -c 9000 /dev/zero | tr '\0' a)\r\n\r\n"
	for _ in $(seq 1 50); do
		[ "$(wc -l <"$T/access.log")" -ge 10 ] && break
		sleep 0.1
	done
	run cat "$T/access.log"
	assert_line --regexp '"GET /index.html HTTP/1.1" 200 [0-9]+ "r\\x22" "a\\x22b\\x5Cc\\xE9f\\x09g"'
	assert_line --partial '"GET /\x01\x7F HTTP/1.1" 400 '
	assert_line --partial '"GET /x\x22y HTTP/1.1" 404 '
	assert_line --partial '"GET / HTTP/1.1" 400 '
	assert_line --partial '"GET / HTTP/2.0" 505 '
	assert_line --partial '"get / HTTP/1.1" 400 '
	assert_line --partial '"POST /app/x HTTP/1.1" 501 '
	assert_line --partial '"GARBAGE" 400 '
	assert_line --regexp '"GET /a+" 414 '
	assert_line --partial '"GET / HTTP/1.1" 431 '
	[ "${#lines[@]}" -eq 10 ]
}

@test "variables in index" {
	raw 'GET /vidx/ HTTP/1.1\r\nHost: A.Example\r\nConnection: close\r\n\r\n'
	assert_line "vidx of a"
	# the absolute entry, expanded, is an internal redirect
	raw 'GET /vidx/ HTTP/1.1\r\nHost: nothing.example\r\nConnection: close\r\n\r\n'
	assert_line "top of nothing"
	sed 's|"/loop/"} }|"$nosuch.html"} }|' "$T/fcgate.conf" >"$T/bad.conf"
	run "$FCGATE" -t -c "$T/bad.conf"
	assert_failure 1
	assert_output --partial "index '\$nosuch.html': unknown variable"
}
