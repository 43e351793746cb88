#!/usr/bin/env bats
# error_page, fastcgi_intercept_errors and X-Accel-Redirect as nginx has
# them, against a real php-fpm.  Each expectation below was first seen
# with Debian's nginx 1.22 running the same layout (the config in its
# comments), then pinned here.

load helper

setup() {
	fcg_setup
	mkdir -p "$T/html/pass" "$T/files/protected" "$T/html/protected"
	# The error page script says what it was asked.
	cat >"$T/html/err.php" <<'PHP'
<?php
header('X-Method: ' . $_SERVER['REQUEST_METHOD']);
echo "err method=", $_SERVER['REQUEST_METHOD'],
    " qs=", $_SERVER['QUERY_STRING'],
    " cl=", $_SERVER['CONTENT_LENGTH'] ?? '',
    " body=", file_get_contents('php://input'),
    " uri=", $_SERVER['REQUEST_URI'],
    " docuri=", $_SERVER['DOCUMENT_URI'], "\n";
PHP
	# An application error: the status asked for, its own body.
	cat >"$T/html/nf.php" <<'PHP'
<?php
$code = (int)($_GET['code'] ?? 404);
http_response_code($code);
header('X-From: nf');
if ($code == 401)
	header('WWW-Authenticate: Basic realm="x"');
if (isset($_GET['big']))
	echo str_repeat("x", 300000), "\n";
echo "php error body\n";
PHP
	mkdir -p "$T/html/tonamed" "$T/html/selfloop"
	cp "$T/html/nf.php" "$T/html/pass/nf.php"
	cp "$T/html/nf.php" "$T/html/tonamed/nf.php"
	cp "$T/html/nf.php" "$T/html/selfloop/nf.php"
	# The protected download: the application decides, the gateway
	# serves the file.
	cat >"$T/html/accel.php" <<'PHP'
<?php
header('X-Accel-Redirect: ' . $_GET['to']);
header('X-Other: o');
header('Content-Disposition: attachment; filename=x.txt');
header('Cache-Control: private');
setcookie('s', '1');
echo "backend body\n";
PHP
	cat >"$T/html/loop.php" <<'PHP'
<?php
header('X-Accel-Redirect: /loop.php');
PHP
	cat >"$T/html/index.php" <<'PHP'
<?php
echo "front controller uri=", $_SERVER['REQUEST_URI'], "\n";
PHP
	echo "secret" >"$T/files/protected/secret.txt"
	echo "outside" >"$T/html/outside.txt"
	start_php_pool one
	DEAD_PORT="$(free_port)"
	{
		base_conf
		cat <<CONF
upstream php {
    server 127.0.0.1:$PHP_PORT_one {}
    keepalive = 4
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = "$T/html"
    include("$REPO/etc/fastcgi_params")
    fastcgi_param { SCRIPT_FILENAME = "\$document_root\$fastcgi_script_name" }
    client_max_body_size = 1k
    error_page "/index.php" { status = {404} }
    error_page "/err.php" { status = {413} }
    location '~ ^/pass/.*\.php$' {
        fastcgi_pass = php
        error_page "/err.php" { status = {404} }
    }
    location '~ ^/selfloop/.*\.php$' {
        fastcgi_pass = php
        fastcgi_intercept_errors = true
        error_page "/nf.php" { status = {404} }
    }
    location '~ ^/tonamed/.*\.php$' {
        fastcgi_pass = php
        fastcgi_intercept_errors = true
        error_page "@n" { status = {404} }
    }
    location '~ \.php$' {
        fastcgi_pass = php
        fastcgi_intercept_errors = true
        error_page "/err.php" { status = {404, 401} }
    }
    location "= /d.php" { fastcgi_pass = "127.0.0.1:$DEAD_PORT" }
    location "= /pass/dead.php" {
        fastcgi_pass = "127.0.0.1:$DEAD_PORT"
        error_page "/err.php" { status = {502} }
    }
    location "/i/" { error_page "/err.php" { status = {404} } }
    location "/ieq/" { error_page "/err.php" { status = {404} code = "=" } }
    location "/i200/" { error_page "/err.php?a=1" { status = {404} code = "=200" } }
    location "/iq/" { error_page "/err.php?from=\$uri" { status = {404} } }
    location "/named/" { error_page "@n" { status = {404} } }
    location "@n" {
        fastcgi_pass = php
        include("$REPO/etc/fastcgi_params")
        fastcgi_param { SCRIPT_FILENAME = "\$document_root/err.php" }
    }
    location "/nonamed/" { error_page "@nothere" { status = {404} } }
    location "/url/" { error_page "http://example.com/x?u=\$uri" { status = {404} } }
    location "/url301/" { error_page "http://example.com/y" { status = {404} code = "=301" } }
    location "/down/" { error_page "/d.php" { status = {404} } }
    location "/missing/" { error_page "/nothere.html" { status = {404} } }
    location "/protected/" { internal = true  root = "$T/files" }
    location "/dl/" { internal = true  alias = "$T/files/protected/" }
    location "/cached/" { internal = true  alias = "$T/files/protected/"  expires = 1h }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
}

teardown() {
	fcg_teardown
}

# status and body of a request: "CODE BODY"
fetch() {
	curl -sS -o "$T/body" -w '%{http_code}' "$@" && echo " $(cat "$T/body")"
}

@test "error_page URI: the error's status, the page's body; its args replace the request's (none without '?')" {
	# nginx: error_page 404 /err.php; GET /i/x?q=1 -> 404, QUERY_STRING
	# empty, REQUEST_URI the client's, DOCUMENT_URI the page's.
	run fetch "$URL/i/x?q=1"
	assert_output "404 err method=GET qs= cl= body= uri=/i/x?q=1 docuri=/err.php"
	# error_page 404 =200 /err.php?a=1 -> 200 and QUERY_STRING a=1
	run fetch "$URL/i200/x?q=1"
	assert_output "200 err method=GET qs=a=1 cl= body= uri=/i200/x?q=1 docuri=/err.php"
}

@test "error_page =: the page's handler's status goes out" {
	# nginx: error_page 404 = /err.php -> 200 from the script
	run fetch "$URL/ieq/x?q=1"
	assert_output "200 err method=GET qs= cl= body= uri=/ieq/x?q=1 docuri=/err.php"
}

@test "error_page target with variables: expanded, its '?' sets the args" {
	# nginx: error_page 404 /err.php?from=\$uri -> QUERY_STRING from=/iq/x
	run fetch "$URL/iq/x?q=1"
	assert_output "404 err method=GET qs=from=/iq/x cl= body= uri=/iq/x?q=1 docuri=/err.php"
}

@test "error_page URI: POST becomes GET; the body read stays the request's" {
	# nginx 1.22: the page sees REQUEST_METHOD GET, and (the body being
	# read already) CONTENT_LENGTH and the body are still passed.
	run fetch -d 'hello=1' "$URL/nf.php?q=1"
	assert_output "404 err method=GET qs= cl=7 body=hello=1 uri=/nf.php?q=1 docuri=/err.php"
	# a HEAD stays HEAD: no body, the page's headers
	run curl -sS -I "$URL/i/x"
	assert_line --partial "HTTP/1.1 404"
	assert_line --partial "X-Method: HEAD"
}

@test "error_page @name: the named location with the URI, the args and the method kept" {
	# nginx: error_page 404 @n; the script is the location's, the URI the
	# request's, POST stays POST.
	run fetch "$URL/named/x?q=1"
	assert_output "404 err method=GET qs=q=1 cl= body= uri=/named/x?q=1 docuri=/named/x"
	run fetch -d 'hello=1' "$URL/tonamed/nf.php"
	assert_output "404 err method=POST qs= cl=7 body=hello=1 uri=/tonamed/nf.php docuri=/tonamed/nf.php"
}

@test "413 answered by a PHP error page: the page runs without the body, the connection closes" {
	# nginx: error_page 413 /err.php -> 413, the page sees GET and
	# CONTENT_LENGTH but no body, "Connection: close"; never a hang
	head -c 5000 /dev/zero | tr '\0' a >"$T/big"
	run timeout 10 curl -sS -i --data-binary "@$T/big" "$URL/upload"
	assert_success
	assert_line --partial "HTTP/1.1 413"
	assert_line "Connection: close"$'\r'
	assert_line "err method=GET qs= cl=5000 body= uri=/upload docuri=/err.php"
}

@test "error_page to a named location that does not exist: 500, logged" {
	# nginx: 'could not find named location "@nothere"', 500
	run fetch "$URL/nonamed/x"
	assert_output --partial "500 <html>"
	run grep -c 'could not find named location "@nothere"' "$T/error.log"
	assert_output 1
}

@test "error_page URL: 302 to it (variables expanded), or the =30x asked for" {
	# nginx: error_page 404 http://example.com/x?u=\$uri -> 302 Location
	run curl -sS -i "$URL/url/x?q=1"
	assert_line --partial "HTTP/1.1 302"
	assert_line "Location: http://example.com/x?u=/url/x"$'\r'
	# error_page 404 =301 http://example.com/y -> 301
	run curl -sS -i "$URL/url301/x"
	assert_line --partial "HTTP/1.1 301"
	assert_line "Location: http://example.com/y"$'\r'
}

@test "an error while answering the error page: fcgate's own page, with that error" {
	# nginx (recursive_error_pages off): the page's backend is down ->
	# 502 and nginx's own 502 page; a missing page -> its own 404 page.
	run fetch "$URL/down/x"
	assert_output --partial "502 <html>"
	assert_output --partial "502 Bad Gateway"
	run fetch "$URL/missing/x"
	assert_output --partial "404 <html>"
	assert_output --partial "404 Not Found"
}

@test "the front controller as 404 page (Laravel's error_page 404 /index.php): 404, not the script's 200" {
	# nginx: a missing file with the server's error_page 404 /index.php
	# answers 404 with the front controller's body.
	run fetch "$URL/favicon.ico"
	assert_output "404 front controller uri=/favicon.ico"
}

@test "a PHP 404 without fastcgi_intercept_errors passes as the application sent it" {
	# nginx: the location's error_page applies only to its own errors
	run curl -sS -i "$URL/pass/nf.php"
	assert_line --partial "HTTP/1.1 404"
	assert_line "X-From: nf"$'\r'
	assert_line "php error body"
}

@test "a FastCGI location's error_page answers fcgate's own errors: 502 from a dead backend" {
	# nginx: error_page 502 /err.php in a location whose backend refuses
	run fetch "$URL/pass/dead.php?q=1"
	assert_output "502 err method=GET qs= cl= body= uri=/pass/dead.php?q=1 docuri=/err.php"
}

@test "fastcgi_intercept_errors: a PHP 404 is replaced by the error page; a status without one passes" {
	# nginx: fastcgi_intercept_errors on + error_page 404 /err.php
	run curl -sS -i "$URL/nf.php?q=2"
	assert_line --partial "HTTP/1.1 404"
	refute_line --partial "X-From"
	refute_line "php error body"
	assert_line "err method=GET qs= cl= body= uri=/nf.php?q=2 docuri=/err.php"
	# an intercepted 401 keeps the application's challenge
	run curl -sS -i "$URL/nf.php?code=401"
	assert_line --partial "HTTP/1.1 401"
	assert_line 'WWW-Authenticate: Basic realm="x"'$'\r'
	refute_line --partial "X-From"
	# no error_page for 410: the application's answer
	run curl -sS -i "$URL/nf.php?code=410"
	assert_line --partial "HTTP/1.1 410"
	assert_line "php error body"
}

@test "fastcgi_intercept_errors on an error page that fails the same way: fcgate's own page" {
	# nginx: the page (nf.php) answers 404 too, intercepted again: with
	# recursive_error_pages off, nginx's own 404 page, not a loop
	run fetch "$URL/selfloop/nf.php"
	assert_output --partial "404 <html>"
	refute_output --partial "php error body"
	run grep -c 'cycle' "$T/error.log"
	assert_output 0
}

@test "fastcgi_intercept_errors with upstream keepalive: an unread body never reaches the next request" {
	# The intercepted answer's 300 kB body is not read: that connection
	# must not be reused.  Every answer after it is whole and right.
	for i in 1 2 3 4 5; do
		run fetch "$URL/nf.php?big=1"
		assert_output "404 err method=GET qs= cl= body= uri=/nf.php?big=1 docuri=/err.php"
		run fetch "$URL/pass/nf.php?code=200"
		assert_output "200 php error body"
	done
}

@test "X-Accel-Redirect: an internal location serves the file; the header and the backend body are dropped" {
	# nginx: the application's X-Accel-Redirect: /protected/secret.txt
	# is served from the internal location, never the backend's body.
	run curl -sS -i "$URL/accel.php?to=/protected/secret.txt"
	assert_line --partial "HTTP/1.1 200"
	assert_line "secret"
	refute_line --partial "X-Accel"
	refute_line --partial "backend body"
	# nginx keeps the download's Content-Disposition, cookies and cache
	# headers, and only those
	assert_line "Content-Disposition: attachment; filename=x.txt"$'\r'
	assert_line "Set-Cookie: s=1"$'\r'
	assert_line "Cache-Control: private"$'\r'
	refute_line --partial "X-Other"
	# its '?' gives the args; a POST is sent on as GET
	run fetch -d 'a=1' "$URL/accel.php?to=/err.php%3Fk%3Dv"
	assert_output "200 err method=GET qs=k=v cl=3 body=a=1 uri=/accel.php?to=/err.php%3Fk%3Dv docuri=/err.php"
}

@test "X-Accel-Redirect into an internal alias location (the protected download); from outside it is 404" {
	# nginx: location /dl/ { internal; alias .../files/protected/; } serves
	# /dl/secret.txt for the application, and answers the client who asks
	# for it directly with 404 (here through the server's error_page)
	run fetch "$URL/accel.php?to=/dl/secret.txt"
	assert_output "200 secret"
	run fetch "$URL/dl/secret.txt"
	assert_output "404 front controller uri=/dl/secret.txt"
	run fetch "$URL/protected/secret.txt"
	assert_output "404 front controller uri=/protected/secret.txt"
}

@test "X-Accel-Redirect to @name: the named location, the URI kept" {
	run fetch "$URL/accel.php?to=@n"
	assert_output "200 err method=GET qs=to=@n cl= body= uri=/accel.php?to=@n docuri=/accel.php"
}

@test "X-Accel-Redirect out of the tree: 404 (through the error_page), logged, never the file" {
	# nginx: 'unsafe URI "/protected/../outside.txt" was detected', 404,
	# and the location's error_page answers it; encoded dots the same.
	run fetch "$URL/accel.php?to=/protected/../outside.txt"
	assert_output "404 err method=GET qs= cl= body= uri=/accel.php?to=/protected/../outside.txt docuri=/err.php"
	run fetch "$URL/accel.php?to=/protected/%252e%252e/outside.txt"
	assert_output --regexp '^404 err '
	refute_output --partial "outside"$'\n'
	run fetch "$URL/accel.php?to=protected/secret.txt"
	assert_output --regexp '^404 err '
	run grep -c 'unsafe URI "/protected/../outside.txt" was detected' "$T/error.log"
	assert_output 1
	run grep -c 'unsafe URI "/protected/%2e%2e/outside.txt" was detected' "$T/error.log"
	assert_output 1
}

@test "X-Accel-Redirect loops end after 10 redirects: 500, fcgate's own page, logged" {
	# nginx: the script redirects to itself; the 11th URI
	# change is "rewrite or internal redirection cycle", 500, and no
	# error_page for it
	run fetch "$URL/loop.php"
	assert_output --partial "500 <html>"
	run grep -c 'rewrite or internal redirection cycle' "$T/error.log"
	assert_output 1
}

@test "X-Accel-Redirect into a location with expires: its Expires and Cache-Control replace the application's" {
	# nginx keeps the application's Cache-Control and Expires across
	# X-Accel-Redirect, then the target location's expires sets both
	# (ngx_http_set_expires replaces them): one line of each.
	run curl -sS -D - -o /dev/null "$URL/accel.php?to=/cached/secret.txt"
	assert_line --partial "HTTP/1.1 200"
	assert_line "Cache-Control: max-age=3600"$'\r'
	run bash -c "curl -sS -D - -o /dev/null '$URL/accel.php?to=/cached/secret.txt' | grep -ci -e '^cache-control' -e '^expires'"
	assert_output 2
}
