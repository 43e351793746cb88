#!/usr/bin/env bats
# Variables as nginx has them, in the directives that take one: the
# prefixed ones ($http_, $cookie_, $arg_), $is_args, $request_filename,
# $realpath_root, regex captures (numbered and named) in fastcgi_param
# and index (each request with its own, until it ends), and the trap of
# libconfuse's "${NAME}" in double quotes.

load helper

setup() {
	fcg_setup
	start_testd a
	mkdir -p "$T/releases/r1/m/x" "$T/html/idx"
	ln -s "$T/releases/r1" "$T/current"
	echo "named" >"$T/releases/r1/m/x/x-cap.html"
	echo "via header" >"$T/html/idx/curl.html"
	mkdir -p "$T/sites/one.test" "$T/sites/two.test"
	echo "site one" >"$T/sites/one.test/index.html"
	echo "site two" >"$T/sites/two.test/index.html"
	mkdir -p "$T/x"
	echo "secret" >"$T/x/secret.txt"
	{
		base_conf
		cat <<CONF
upstream app {
    server 127.0.0.1:$TESTD_PORT_a {}
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = "$T/html"
    location "/v/" {
        root = "$T/current"
        fastcgi_pass = app
        fastcgi_param {
            V_UA = "\$http_user_agent"
            V_XF = "[\$http_x_forwarded_for]"
            V_COOKIE = "[\$cookie_sid]"
            V_ARG = "[\$arg_page]"
            V_ISARGS = "[\$is_args]"
            V_FILE = "\$request_filename"
            V_REAL = "\$realpath_root"
            V_REQ = "\$request"
        }
    }
    location '~ ^/c/(?<word>[a-z]+)/(\\d+)\$' {
        fastcgi_pass = app
        fastcgi_param { V_CAP = "\$word-\$2-[\$3]" }
    }
    location '~ ^/m/(?<w>[a-z]+)/' {
        root = "$T/current"
        index = {"\$w-cap.html"}
    }
    location "/idx/" { index = {'\${http_x_page}.html'} }
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {one.test, two.test}
    root = "$T/sites/\$host"
    location "/x/" { root = "$T/sites/\$http_x_site" }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
}

teardown() {
	fcg_teardown
}

@test "\$http_, \$cookie_, \$arg_ and \$is_args: the request's values, empty when absent" {
	# nginx: $http_NAME is the header ('-' as '_', any case), $cookie_NAME
	# and $arg_NAME one value; an absent one is empty
	run curl -sS -A "agent/1" -H "Cookie: a=1; sid=xyz; b=2" \
		"$URL/v/p?x=1&page=7&y=2&mode=echo"
	assert_line "V_UA=agent/1"
	assert_line "V_XF=[]"
	assert_line "V_COOKIE=[xyz]"
	assert_line "V_ARG=[7]"
	assert_line "V_ISARGS=[?]"
	assert_line "V_REQ=GET /v/p?x=1&page=7&y=2&mode=echo HTTP/1.1"
	run curl -sS "$URL/v/p"
	refute_output --partial "V_ISARGS=[?]"
}

@test "\$request_filename is root + URI; \$realpath_root resolves the root's symlinks" {
	# nginx: $realpath_root is what a deploy that switches a 'current'
	# symlink points SCRIPT_FILENAME at
	run curl -sS "$URL/v/a.php?mode=echo"
	assert_line "V_FILE=$T/current/v/a.php"
	assert_line "V_REAL=$(realpath "$T/releases/r1")"
}

@test "a regex location's captures: named and numbered; a missing one is empty" {
	# nginx: $word and $2 from the location's regex, $3 (no such
	# group) empty
	run curl -sS "$URL/c/abc/42?mode=echo"
	assert_line "V_CAP=abc-42-[]"
}

@test "index takes every variable: a named capture, a request header" {
	run curl -sS "$URL/m/x/"
	assert_output "named"
	run curl -sS -H "X-Page: curl" "$URL/idx/"
	assert_output "via header"
}

@test "\"\${host}\" in double quotes is an error with its line: libconfuse would take it from the environment" {
	cat >"$T/bad.conf" <<'CONF'
pid_file = "/tmp/never.pid"
server {
    listen = {127.0.0.1:1}
    location "/" {
        index = {"${host}.html", "${HOME}.html", '${uri}.html'}
    }
}
CONF
	run "$FCGATE" -t -c "$T/bad.conf"
	assert_failure
	assert_output --partial 'bad.conf:5: "${host}" in double quotes is replaced by the environment variable host'
	refute_output --partial '${HOME}'
	refute_output --partial '${uri}'
}

@test "an unknown variable is an error with its line" {
	cat >"$T/bad.conf" <<'CONF'
pid_file = "/tmp/never.pid"
server {
    listen = {127.0.0.1:1}
    add_header "X-A" { value = "$nosuchvar" }
}
CONF
	run "$FCGATE" -t -c "$T/bad.conf"
	assert_failure
	assert_output --partial "unknown variable '\$nosuchvar'"
	assert_output --partial "bad.conf:4"
}

@test "root with variables: one server block per Host's directory, fenced by its literal part" {
	# nginx: root /srv/$host; the file is looked for under the expanded
	# root.  A variable cannot lead out of the root's fixed directory:
	# fcgate refuses what resolves outside it (403).
	run curl -sS -H "Host: one.test" "$URL/"
	assert_output "site one"
	run curl -sS -H "Host: two.test" "$URL/index.html"
	assert_output "site two"
	# $T/sites/../x/secret.txt exists, outside $T/sites
	run curl -sS -o /dev/null -w '%{http_code}' -H "Host: one.test" \
		-H "X-Site: .." "$URL/x/secret.txt"
	assert_output 403
	run curl -sS -H "Host: one.test" -H "X-Site: .." "$URL/x/secret.txt"
	refute_output --partial "secret"
}

@test "a capture read when the answer's head is made is the request's own" {
	# pins: the copy a request's captures point into is the request's
	# (taken on its first match, given back when it ends), not one per
	# worker: in a single worker, a slow request's $1, read by
	# add_header after its backend answered, is still its own after a
	# faster request matched another URI meanwhile; and on a kept-alive
	# connection the next request sees its own capture, not a longer
	# one left in a reused copy.
	local c0 slow
	WORKERS=1 base_conf >"$T/one.head"
	{
		sed "s|fcgate\.pid|one.pid|; s|fcgate\.shm|one.shm|" "$T/one.head"
		cat <<CONF
upstream app {
    server 127.0.0.1:$TESTD_PORT_a {}
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    location '~ ^/s/([a-z]+)\$' {
        fastcgi_pass = app
        include("$REPO/etc/fastcgi_params")
        add_header "X-Cap" { value = "[\$1]" }
    }
}
CONF
	} >"$T/one.conf"
	start_fcgate "$T/one.conf"
	c0="$(conns a)"
	curl -sS -o /dev/null -D "$T/slow.head" --max-time 10 \
		"http://127.0.0.1:$HTTP_PORT/s/slow?mode=slow&ms=1500" &
	slow=$!
	# the slow request is at the backend: its captures are kept
	for _ in $(seq 1 100); do
		[ "$(conns a)" -gt "$c0" ] && break
		sleep 0.05
	done
	[ "$(conns a)" -gt "$c0" ]
	run sh -c "curl -sS -o /dev/null -D - --max-time 5 \
	    'http://127.0.0.1:$HTTP_PORT/s/fast?mode=echo' | tr -d '\r'"
	assert_line "X-Cap: [fast]"
	wait "$slow"
	run tr -d '\r' <"$T/slow.head"
	assert_line "X-Cap: [slow]"
	# one connection, two requests (curl reuses it)
	run sh -c "curl -sS -o /dev/null -o /dev/null -D - --max-time 5 \
	    'http://127.0.0.1:$HTTP_PORT/s/abcdefghijkl?mode=echo' \
	    'http://127.0.0.1:$HTTP_PORT/s/xy?mode=echo' | tr -d '\r'"
	assert_line --index 0 --partial "HTTP/1.1 200"
	run sh -c "echo \"\$0\" | grep '^X-Cap'" "$output"
	assert_output "X-Cap: [abcdefghijkl]
X-Cap: [xy]"
}
