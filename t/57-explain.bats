#!/usr/bin/env bats
# fcgate --explain 'METHOD URL' [--from ADDR]: one request replayed through
# the real phases with no socket.  It names the server block and the
# location (FILE:LINE), each phase's decision, the FastCGI params that
# would be sent (checked against what a backend really receives) and the
# balancer's first pick; it binds nothing, writes no segment and leaves a
# running gateway's counters alone.

load helper
bats_require_minimum_version 1.5.0

setup() {
	fcg_setup
	mkdir -p "$T/html/wp-content" "$T/other"
	echo '<?php echo "hi";' >"$T/html/index.php"
	echo 'body {}' >"$T/html/wp-content/style.css"
	echo 'not here' >"$T/html/404.html"
	echo 'secret' >"$T/html/.htaccess"
	echo other >"$T/other/index.html"
	chmod -R a+rX "$T/html" "$T/other"
	start_testd a
	start_testd b
	{
		base_conf
		cat <<CONF
upstream php {
    server 127.0.0.1:$TESTD_PORT_a { weight = 3 }
    server 127.0.0.1:$TESTD_PORT_b {}
}
upstream sticky {
    balance = ip_hash
    server 127.0.0.1:$TESTD_PORT_a {}
    server 127.0.0.1:$TESTD_PORT_b {}
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {example.com, www.example.com}
    root = "$T/html"
    index = {index.php}
    error_page /404.html { status = {404} }
    rewrite '^/feed/?$' { to = "/index.php?feed=rss2"  flag = last }
    location "= /xmlrpc.php" { return = "403" }
    location "/" {
        try_files = {"\$uri", "\$uri/", "/index.php?\$args"}
    }
    location "/wp-admin/" {
        access = {"allow 127.0.0.0/8", "deny all"}
        location '~ \.php$' { fastcgi_pass = php }
    }
    location "/sticky/" { fastcgi_pass = sticky }
    location "/private/" { internal = true }
    location '~ \.php$' {
        try_files = {"\$fastcgi_script_name", "=404"}
        fastcgi_pass = php
        include("$REPO/etc/fastcgi_params")
        fastcgi_param { SCRIPT_FILENAME = "\$document_root\$fastcgi_script_name" }
    }
    location '~ /\.ht' { deny = all }
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {other.test}
    root = "$T/other"
}
CONF
	} >"$T/fcgate.conf"
}

teardown() {
	fcg_teardown
}

# line_of TEXT [N]: the number of the first (or Nth) line holding TEXT in
# the config
line_of() {
	grep -n -F -- "$1" "$T/fcgate.conf" | sed -n "${2:-1}p" | cut -d: -f1
}

explain() {
	run --separate-stderr "$FCGATE" -c "$T/fcgate.conf" --explain "$@"
}

@test "the host of an absolute URL picks the server block; a path gets the default one" {
	explain "GET http://other.test:$HTTP_PORT/"
	assert_success
	assert_line "server    $T/fcgate.conf:$(line_of 'server {' 2)  other.test"
	assert_line "host      other.test"
	# the other server has no location: its own level serves, and its
	# index file is the answer
	assert_line --regexp '^location  none matches /: the server level'
	assert_line "answer    HTTP/1.1 200 OK"
	assert_line "body      6 bytes of $T/other/index.html"
	explain "GET /"
	assert_success
	assert_line "server    $T/fcgate.conf:$(line_of 'server {' 1)  example.com www.example.com"
	assert_line "listen    127.0.0.1:$HTTP_PORT"
}

@test "the location with its FILE:LINE, nested ones with their parent, the internal redirect of an index" {
	explain "GET /wp-admin/edit.php"
	assert_success
	assert_line "location  \"~ \\.php\$\"  $T/fcgate.conf:$(line_of "location '~ \\.php\$' { fastcgi_pass = php }")"
	assert_line "          in \"/wp-admin/\"  $T/fcgate.conf:$(line_of 'location "/wp-admin/"')"
	# a directory: the index file is an internal redirect, routed again
	# (nginx's index module), here to the PHP location
	explain "GET /"
	assert_line "redirect  internally to /index.php"
	assert_line "location  \"~ \\.php\$\"  $T/fcgate.conf:$(line_of "location '~ \\.php\$' {" 2)"
}

@test "an internal location from outside, a FastCGI prefix without its slash: why the 404 and the 301" {
	# nginx: internal locations answer 404 to clients; a prefix location
	# with a handler named without its slash gets 301 to the slash
	explain "GET /private/x"
	assert_line "location  internal, asked for from outside: 404"
	assert_line "answer    HTTP/1.1 404 Not Found"
	explain "GET /sticky?a=1"
	assert_line "location  names a directory without its slash: 301"
	assert_line "answer    HTTP/1.1 301 Moved Permanently"
	# the listen's port, as port_in_redirect (on) has it
	assert_line "          Location: http://example.com:$HTTP_PORT/sticky/?a=1"
}

@test "the access verdict for --from names the rule that decided (first match, as nginx)" {
	explain "GET /wp-admin/edit.php" --from 127.0.0.9
	assert_success
	assert_line 'access    allowed by rule 1 of 2, "allow 127.0.0.0/8"'
	explain "GET /wp-admin/edit.php" --from 192.0.2.7
	assert_success
	assert_line 'access    denied: 403 by rule 2 of 2, "deny all"'
	assert_line --regexp '^answer    HTTP/1.1 403 Forbidden$'
	# the line the error log would get goes to stderr
	[[ "$stderr" == *"access forbidden by rule, client: 192.0.2.7"* ]]
	explain "GET /wp-admin/edit.php" --from ::1
	assert_line 'access    denied: 403 by rule 2 of 2, "deny all"'
	explain "GET /wp-content/style.css" --from 192.0.2.7
	assert_line 'access    allowed: no allow / deny rules'
	explain "GET /.htaccess"
	assert_line 'access    denied: 403 by rule 1 of 1, "deny all"'
}

@test "WordPress's pretty permalink: each try_files candidate, then /index.php with the arguments" {
	# nginx's try_files: $uri wants a file, $uri/ a directory; none
	# exists, so the last argument is an internal redirect whose '?'
	# gives the arguments; the PHP location serves it with the original
	# REQUEST_URI
	explain "GET http://example.com/blog/hello-world/?replytocom=7"
	assert_success
	assert_line "location  \"/\"  $T/fcgate.conf:$(line_of 'location "/" {')"
	assert_line "try_files \"\$uri\": no file $T/html/blog/hello-world/"
	assert_line "try_files \"\$uri/\": no directory $T/html/blog/hello-world/"
	assert_line 'try_files none found: "/index.php?$args"'
	assert_line "redirect  internally to /index.php  args: replytocom=7"
	assert_line "param     SCRIPT_FILENAME = $T/html/index.php"
	assert_line "param     REQUEST_URI = /blog/hello-world/?replytocom=7"
	assert_line "param     QUERY_STRING = replytocom=7"
	# a file that exists is served by the location itself
	explain "GET /wp-content/style.css"
	assert_line "try_files \"\$uri\": found $T/html/wp-content/style.css"
	refute_line --partial "redirect"
}

@test "rewrite and return: which one fired, the new URI and arguments, the answer" {
	# nginx's server rewrite phase runs before a location is chosen; a
	# replacement with '?' replaces the arguments (the request's are
	# appended); last finds the location again
	explain "GET /feed/?utm=x"
	assert_success
	assert_line "rewrite   line $(line_of "rewrite '^/feed") \"/index.php?feed=rss2\": /index.php  args: feed=rss2&utm=x  (last)"
	assert_line "location  \"~ \\.php\$\"  $T/fcgate.conf:$(line_of "location '~ \\.php\$' {" 2)"
	assert_line "param     QUERY_STRING = feed=rss2&utm=x"
	assert_line "param     REQUEST_URI = /feed/?utm=x"
	explain "POST /xmlrpc.php"
	assert_success
	assert_line "return    line $(line_of xmlrpc): 403"
	assert_line "answer    HTTP/1.1 403 Forbidden"
	refute_line --partial "fastcgi_pass"
}

@test "a static file: the answer's head and the file; a missing script: =404 through error_page" {
	explain "GET /wp-content/style.css"
	assert_success
	assert_line "answer    HTTP/1.1 200 OK"
	assert_line "          Content-Type: text/css"
	assert_line "          Content-Length: 8"
	assert_line "body      8 bytes of $T/html/wp-content/style.css"
	# nginx's guard in a PHP location: no such script, =404, and the
	# error_page shows the 404 page with the status kept
	explain "GET /nothing.php"
	assert_success
	assert_line "try_files \"\$fastcgi_script_name\": no file $T/html/nothing.php"
	assert_line 'try_files none found: "=404"'
	assert_line "redirect  internally to /404.html"
	assert_line "answer    HTTP/1.1 404 Not Found"
	assert_line "body      9 bytes of $T/html/404.html"
	refute_line --partial "fastcgi_pass"
}

@test "the FastCGI params are exactly those a backend receives for the same request" {
	explain "GET http://example.com:$HTTP_PORT/index.php?mode=echo&x=%20y" --from 127.0.0.1
	assert_success
	assert_line "content   fastcgi_pass php"
	assert_line "param     SCRIPT_FILENAME = $T/html/index.php"
	assert_line "param     QUERY_STRING = mode=echo&x=%20y"
	assert_line "param     HTTP_HOST = example.com:$HTTP_PORT"
	printf '%s\n' "$output" | sed -n 's/^param     \(.*\) = \(.*\)$/\1=\2/p' |
		grep -v '^REMOTE_PORT=' >"$T/explained"
	[ "$(wc -l <"$T/explained")" -ge 15 ]
	# the same request from a real client, with no header but Host
	start_fcgate "$T/fcgate.conf"
	curl -sS -H 'User-Agent:' -H 'Accept:' -H "Host: example.com:$HTTP_PORT" \
		"http://127.0.0.1:$HTTP_PORT/index.php?mode=echo&x=%20y" |
		grep -v -e '^backend=' -e '^stdin_bytes=' -e '^REMOTE_PORT=' \
		>"$T/received"
	run diff "$T/explained" "$T/received"
	assert_success
}

@test "the balancer's first pick without live state: smooth WRR takes the heaviest, ip_hash the client's" {
	explain "GET /index.php"
	assert_line "backend   127.0.0.1:$TESTD_PORT_a of \"php\" (round_robin, 2 servers; without live state: the counters' initial state)"
	local addr want
	for addr in 127.0.0.1 10.1.2.3 10.1.3.3 192.0.2.200 ::1; do
		want="$(python3 "$REPO/t/lib/ip_hash.py" 1,1 - "$addr" | awk '{print $2}')"
		[ "$want" = 0 ] && want="$TESTD_PORT_a" || want="$TESTD_PORT_b"
		explain "GET /sticky/x" --from "$addr"
		assert_line --regexp "^backend   127.0.0.1:$want of \"sticky\" \\(ip_hash"
	done
}

@test "nothing is bound, written or counted: a running gateway on the same port is untouched" {
	explain "GET /index.php"
	assert_success
	[ ! -e "$T/fcgate.shm" ]
	[ ! -e "$T/fcgate.pid" ]
	[ ! -e "$T/access.log" ]
	[ ! -e "$T/error.log" ]
	start_fcgate "$T/fcgate.conf"
	curl -sS -o /dev/null "http://127.0.0.1:$HTTP_PORT/index.php?mode=echo"
	for _ in $(seq 1 50); do
		[ -s "$T/access.log" ] && break
		sleep 0.05
	done
	# every counter of every server (the uptime aside)
	before="$("$FCGATECTL" -m "$T/fcgate.shm" status --json | sed 's/"uptime_s":[0-9]*//')"
	nlog="$(wc -l <"$T/access.log")"
	for _ in 1 2 3; do
		explain "GET /index.php"
		assert_success
	done
	[ "$("$FCGATECTL" -m "$T/fcgate.shm" status --json | sed 's/"uptime_s":[0-9]*//')" = "$before" ]
	[[ "$before" == *'"requests":1,'* ]]
	[ "$(wc -l <"$T/access.log")" = "$nlog" ]
	# and it still answers
	run curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/wp-content/style.css"
	assert_output 200
}

@test "exit 2 on a request that cannot be made, 1 on a bad configuration" {
	for bad in 'GET' '/index.php' 'GET /a /b' 'GET ftp://example.com/' 'GET index.php'; do
		explain "$bad"
		assert_failure 2
	done
	explain 'GET /' --from 300.1.1.1
	assert_failure 2
	[[ "$stderr" == *"--from 300.1.1.1"* ]]
	run "$FCGATE" -c "$T/fcgate.conf" --from 127.0.0.1
	assert_failure 2
	run "$FCGATE" -c "$T/fcgate.conf" -t --explain 'GET /'
	assert_failure 2
	echo 'bogus_option = 1' >>"$T/fcgate.conf"
	explain 'GET /'
	assert_failure 1
	[[ "$stderr" == *"$T/fcgate.conf:$(line_of bogus_option): no such option 'bogus_option'"* ]]
	[ -z "$output" ]
}

@test "the WordPress recipe: a permalink to the front controller, a stylesheet with expires max" {
	# etc/recipes/wordpress.conf as shipped, its root moved here
	mkdir -p "$T/wp/wp-includes/css"
	echo '<?php' >"$T/wp/index.php"
	echo 'a {}' >"$T/wp/wp-includes/css/dashicons.min.css"
	sed "s|^    root        = /var/www/wordpress\$|    root        = $T/wp|" \
		"$REPO/etc/recipes/wordpress.conf" >"$T/wordpress.conf"
	grep -q "root        = $T/wp" "$T/wordpress.conf"
	cp "$REPO/etc/fastcgi_params" "$T/"
	run --separate-stderr "$FCGATE" -c "$T/wordpress.conf" \
		--explain 'GET http://example.com/2026/12/hello-world/?replytocom=7'
	assert_success
	assert_line "server    $T/wordpress.conf:$(grep -n '^server {' "$T/wordpress.conf" | cut -d: -f1)  example.com"
	assert_line 'try_files none found: "/index.php?$args"'
	assert_line "redirect  internally to /index.php  args: replytocom=7"
	assert_line "param     SCRIPT_FILENAME = $T/wp/index.php"
	assert_line --regexp '^param     SERVER_SOFTWARE = fcgate/[0-9.]+ \(nginx-compatible\)$'
	assert_line --regexp '^backend   unix:/run/php/php8\.2-fpm\.sock of "php" \(round_robin, 1 server;'
	run --separate-stderr "$FCGATE" -c "$T/wordpress.conf" \
		--explain 'GET /wp-includes/css/dashicons.min.css?ver=6.4'
	assert_success
	assert_line --regexp '^location  "~\* \\.\(js\|css\|png\|jpg\|jpeg\|gif\|ico\)\$"  '
	assert_line "          Expires: Thu, 31 Dec 2037 23:55:55 GMT"
	assert_line "          Cache-Control: max-age=315360000"
}
