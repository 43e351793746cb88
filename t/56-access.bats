#!/usr/bin/env bats
# allow / deny (the `access` list and `deny = all`) as nginx's access
# module applies them: rules in order, the first that matches the client
# decides, no match lets the client in; CIDR for IPv4 and IPv6, `all`,
# `unix:`; a level without rules takes the enclosing level's, one with its
# own replaces them whole.  Clients come from 127.0.0.0/8 source addresses,
# ::1 and a unix socket.  When Debian's nginx is installed, the same table
# is asked of nginx with the same rules, and both must agree.

load helper

setup() {
	fcg_setup
	local d
	for d in inherit first nomatch v6 v6deny unix nounix cidr outer \
		outer/inner outer/own denyall both; do
		mkdir -p "$T/html/$d"
		echo "$d" >"$T/html/$d/x"
	done
	echo plain >"$T/html/plain.txt"
	chmod -R a+rX "$T/html"
	V6_PORT="$(free_port)"
	{
		base_conf
		cat <<CONF
server {
    listen = {127.0.0.1:$HTTP_PORT, "[::1]:$V6_PORT", "unix:$T/fcgate.sock"}
    root = "$T/html"
    access = {"deny 127.0.0.3", "allow 127.0.0.0/24", "allow ::1",
              "allow unix:", "deny all"}
    location "/inherit/" {}
    location "/first/" { access = {"allow 127.0.0.2", "deny 127.0.0.0/8"} }
    location "/nomatch/" { access = {"deny 127.0.0.2"} }
    location "/v6/" { access = {"deny 2001:db8::/32", "allow ::/120", "deny all"} }
    location "/v6deny/" { access = {"deny ::1", "allow all"} }
    location "/unix/" { access = {"allow unix:", "deny all"} }
    location "/nounix/" { access = {"deny unix:"} }
    location "/cidr/" { access = {"allow 127.0.0.2/31", "deny all"} }
    location "/outer/" {
        access = {"deny 127.0.0.4"}
        location "/outer/inner/" {}
        location "/outer/own/" { access = {"deny 127.0.0.2"} }
    }
    location "/denyall/" { deny = all }
    location "/both/" { access = {"allow 127.0.0.2"}  deny = all }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	wait_port "$V6_PORT" ::1
	wait_file "$T/fcgate.sock"
}

teardown() {
	fcg_teardown
}

# code CLIENT PATH [PORT SOCK]: the status for GET PATH from CLIENT, an
# IPv4 source address, "::1" or "unix".
code() {
	local port="${3:-$HTTP_PORT}" v6="${4:-$V6_PORT}" sock="${5:-$T/fcgate.sock}"
	case "$1" in
	unix) curl -sS -o /dev/null -w '%{http_code}' --unix-socket "$sock" \
		"http://localhost$2" ;;
	::1) curl -sS -o /dev/null -w '%{http_code}' -g "http://[::1]:$v6$2" ;;
	*) curl -sS -o /dev/null -w '%{http_code}' --interface "$1" \
		"http://127.0.0.1:$port$2" ;;
	esac
}

# table [PORT V6PORT SOCK]: "CLIENT PATH STATUS" for every case below.
table() {
	local client path
	while read -r client path; do
		echo "$client $path $(code "$client" "$path" "$@")"
	done <<'CASES'
127.0.0.1 /inherit/x
127.0.0.3 /inherit/x
127.0.0.5 /inherit/x
127.0.1.1 /inherit/x
::1 /inherit/x
unix /inherit/x
127.0.1.1 /plain.txt
127.0.0.3 /plain.txt
127.0.0.2 /first/x
127.0.0.1 /first/x
127.0.0.2 /nomatch/x
127.0.0.1 /nomatch/x
127.0.1.1 /nomatch/x
::1 /v6/x
127.0.0.1 /v6/x
::1 /v6deny/x
127.0.0.1 /v6deny/x
unix /unix/x
127.0.0.1 /unix/x
::1 /unix/x
unix /nounix/x
127.0.0.1 /nounix/x
127.0.0.1 /cidr/x
127.0.0.2 /cidr/x
127.0.0.3 /cidr/x
127.0.0.4 /cidr/x
127.0.0.4 /outer/x
127.0.0.3 /outer/x
127.0.0.4 /outer/inner/x
127.0.0.3 /outer/inner/x
127.0.0.4 /outer/own/x
127.0.0.2 /outer/own/x
127.0.0.1 /denyall/x
unix /denyall/x
127.0.0.2 /both/x
127.0.0.1 /both/x
CASES
}

@test "first match wins; no match lets the client in" {
	# nginx's access handler stops at the first rule that matches: a
	# later broader deny does not undo an earlier allow, and a list
	# that matches nobody is no restriction at all
	[ "$(code 127.0.0.2 /first/x)" = 200 ]
	[ "$(code 127.0.0.1 /first/x)" = 403 ]
	[ "$(code 127.0.0.2 /nomatch/x)" = 403 ]
	[ "$(code 127.0.0.1 /nomatch/x)" = 200 ]
	[ "$(code 127.0.1.1 /nomatch/x)" = 200 ]
}

@test "CIDR for IPv4 and IPv6, all, and rules of the other family never match" {
	# 127.0.0.2/31 covers .2 and .3 only
	[ "$(code 127.0.0.1 /cidr/x)" = 403 ]
	[ "$(code 127.0.0.2 /cidr/x)" = 200 ]
	[ "$(code 127.0.0.3 /cidr/x)" = 200 ]
	[ "$(code 127.0.0.4 /cidr/x)" = 403 ]
	# ::/120 holds ::1, 2001:db8::/32 does not; an IPv4 client skips
	# both IPv6 rules and meets "deny all"
	[ "$(code ::1 /v6/x)" = 200 ]
	[ "$(code 127.0.0.1 /v6/x)" = 403 ]
	[ "$(code ::1 /v6deny/x)" = 403 ]
	[ "$(code 127.0.0.1 /v6deny/x)" = 200 ]
	# deny = all refuses every family
	[ "$(code 127.0.0.1 /denyall/x)" = 403 ]
	[ "$(code unix /denyall/x)" = 403 ]
}

@test "unix: matches clients of a unix socket only" {
	[ "$(code unix /unix/x)" = 200 ]
	[ "$(code 127.0.0.1 /unix/x)" = 403 ]
	[ "$(code ::1 /unix/x)" = 403 ]
	[ "$(code unix /nounix/x)" = 403 ]
	[ "$(code 127.0.0.1 /nounix/x)" = 200 ]
}

@test "inheritance: no rules take the enclosing level's, own rules replace them, nested too" {
	# the server's list applies to a location without rules, and to a
	# URI no location matches
	[ "$(code 127.0.0.1 /inherit/x)" = 200 ]
	[ "$(code 127.0.0.3 /inherit/x)" = 403 ]
	[ "$(code 127.0.0.5 /inherit/x)" = 200 ]
	[ "$(code 127.0.1.1 /inherit/x)" = 403 ]
	[ "$(code ::1 /inherit/x)" = 200 ]
	[ "$(code unix /inherit/x)" = 200 ]
	[ "$(code 127.0.1.1 /plain.txt)" = 403 ]
	# a location's own list replaces the server's whole: the server's
	# "deny 127.0.0.3" and "deny all" are gone in /cidr/ and /outer/
	[ "$(code 127.0.0.3 /cidr/x)" = 200 ]
	[ "$(code 127.0.0.4 /outer/x)" = 403 ]
	[ "$(code 127.0.0.3 /outer/x)" = 200 ]
	# a nested location without rules takes its parent's, not the
	# server's; one with its own replaces the parent's
	[ "$(code 127.0.0.4 /outer/inner/x)" = 403 ]
	[ "$(code 127.0.0.3 /outer/inner/x)" = 200 ]
	[ "$(code 127.0.0.4 /outer/own/x)" = 200 ]
	[ "$(code 127.0.0.2 /outer/own/x)" = 403 ]
	# deny = all comes after the location's access list
	[ "$(code 127.0.0.2 /both/x)" = 200 ]
	[ "$(code 127.0.0.1 /both/x)" = 403 ]
}

@test "a refusal is a 403 page and an error log line naming the rule, the client and the request" {
	run curl -sS -i --interface 127.0.0.3 "http://127.0.0.1:$HTTP_PORT/inherit/x?a=1"
	assert_line --regexp '^HTTP/1.1 403 '
	assert_output --partial "403 Forbidden"
	for _ in $(seq 1 50); do
		grep -q 'access forbidden by rule' "$T/error.log" && break
		sleep 0.05
	done
	# nginx's words: client, server, the request line, the Host header
	run grep 'access forbidden by rule' "$T/error.log"
	assert_output --regexp 'access forbidden by rule, client: 127\.0\.0\.3, server: , request: "GET /inherit/x\?a=1 HTTP/1\.1", host: "127\.0\.0\.1:[0-9]+"$'
	# the access log has the 403 too
	run grep '"GET /inherit/x?a=1 HTTP/1.1" 403 ' "$T/access.log"
	assert_success
}

@test "an IPv4 client on an IPv6 socket is checked against the IPv4 rules" {
	# fcgate binds [::] with IPV6_V6ONLY (nginx's default ipv6only=on), so
	# such a client arrives only on a socket set up otherwise; the unit
	# program builds one (::ffff:127.0.0.5) and checks the rules as
	# nginx's access module does
	run "$BUILD/access_rules_test"
	assert_success
	assert_output --regexp 'all [0-9]+ access checks passed$'
	refute_output --partial FAIL
}

# bad CONF-LINES: write them into a server of c.conf and run fcgate -t.
bad() {
	{
		base_conf
		echo "server {"
		echo "    listen = {127.0.0.1:$HTTP_PORT}"
		printf '%s\n' "$@"
		echo "}"
	} >"$T/c.conf"
	run "$FCGATE" -t -c "$T/c.conf"
}

# line_of TEXT: the line number of the first line holding TEXT in c.conf
line_of() {
	grep -n -F -- "$1" "$T/c.conf" | head -1 | cut -d: -f1
}

@test "a malformed rule is FILE:LINE from fcgate -t, each one reported" {
	# nginx refuses these at load time ("invalid parameter"); fcgate names
	# the file and line of each bad entry and goes on checking
	bad '    location "/a/" {' \
		'        access = {"allow 127.0.0.1/33",' \
		'                  "allow 300.1.2.3",' \
		'                  "permit all",' \
		'                  "deny 127.0.0.1/",' \
		'                  "allow ::1/129",' \
		'                  "deny",' \
		'                  "allow 127.0.0.1/24x"}' \
		'    }' \
		'    location "/b/" { deny = some }'
	assert_failure 1
	assert_line --partial "c.conf:$(line_of 127.0.0.1/33): access 'allow 127.0.0.1/33': not"
	assert_line --partial "c.conf:$(line_of 300.1.2.3): access 'allow 300.1.2.3'"
	assert_line --partial "c.conf:$(line_of 'permit all'): access 'permit all'"
	assert_line --partial "c.conf:$(line_of 'deny 127.0.0.1/"'): access 'deny 127.0.0.1/'"
	assert_line --partial "c.conf:$(line_of ::1/129): access 'allow ::1/129'"
	assert_line --partial "c.conf:$(line_of '"deny"'): access 'deny'"
	assert_line --partial "c.conf:$(line_of /24x): access 'allow 127.0.0.1/24x'"
	assert_line --partial "c.conf:$(line_of 'deny = some'): deny: only 'all'"
	assert_line --partial "test failed"
	# the good forms pass
	bad '    access = {"allow 192.0.2.0/24", "allow 2001:db8::/32", "allow ::1",' \
		'              "allow unix:", "deny 10.0.0.1", "deny all"}' \
		'    location "/" { deny = all }'
	assert_success
}

# nginx_conf PORT V6PORT SOCK: the same server in nginx's syntax.
nginx_conf() {
	cat <<NGX
events { worker_connections 64; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$1;
        listen [::1]:$2;
        listen unix:$3;
        root $T/html;
        deny 127.0.0.3; allow 127.0.0.0/24; allow ::1; allow unix:; deny all;
        location /inherit/ {}
        location /first/ { allow 127.0.0.2; deny 127.0.0.0/8; }
        location /nomatch/ { deny 127.0.0.2; }
        location /v6/ { deny 2001:db8::/32; allow ::/120; deny all; }
        location /v6deny/ { deny ::1; allow all; }
        location /unix/ { allow unix:; deny all; }
        location /nounix/ { deny unix:; }
        location /cidr/ { allow 127.0.0.2/31; deny all; }
        location /outer/ {
            deny 127.0.0.4;
            location /outer/inner/ {}
            location /outer/own/ { deny 127.0.0.2; }
        }
        location /denyall/ { deny all; }
        location /both/ { allow 127.0.0.2; deny all; }
    }
}
NGX
}

@test "the whole table agrees with nginx given the same rules" {
	[ -x /usr/sbin/nginx ] || skip "nginx is not installed"
	local np n6 pid
	np="$(free_port)"
	n6="$(free_port)"
	mkdir -p "$T/ngx/logs"
	nginx_conf "$np" "$n6" "$T/ngx/nginx.sock" >"$T/ngx/nginx.conf"
	/usr/sbin/nginx -p "$T/ngx" -c "$T/ngx/nginx.conf" \
		-g "daemon off; pid $T/ngx/nginx.pid; error_log $T/ngx/err.log;" \
		>"$T/ngx/out" 2>&1 &
	pid=$!
	fcg_track "$pid"
	wait_port "$np"
	wait_port "$n6" ::1
	wait_file "$T/ngx/nginx.sock"
	table >"$T/fcgate.table"
	table "$np" "$n6" "$T/ngx/nginx.sock" >"$T/nginx.table"
	run diff "$T/nginx.table" "$T/fcgate.table"
	assert_success
	# the refusal's error log line says the same, word for word
	curl -sS -o /dev/null -H 'Host: t.test' --interface 127.0.0.3 "http://127.0.0.1:$np/inherit/x?a=1"
	curl -sS -o /dev/null -H 'Host: t.test' --interface 127.0.0.3 "http://127.0.0.1:$HTTP_PORT/inherit/x?a=1"
	for _ in $(seq 1 50); do
		grep -q 'x?a=1 HTTP' "$T/ngx/err.log" && grep -q 'x?a=1 HTTP' "$T/error.log" && break
		sleep 0.05
	done
	[ "$(grep -o 'access forbidden.*x?a=1.*' "$T/ngx/err.log")" = \
		"$(grep -o 'access forbidden.*x?a=1.*' "$T/error.log")" ]
	# and the table is not all one answer
	grep -q ' 200$' "$T/fcgate.table"
	grep -q ' 403$' "$T/fcgate.table"
}
