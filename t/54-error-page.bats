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
http_response_code((int)($_GET['code'] ?? 404));
header('X-From: nf');
if (isset($_GET['big']))
	echo str_repeat("x", 300000), "\n";
echo "php error body\n";
PHP
	mkdir -p "$T/html/tonamed"
	cp "$T/html/nf.php" "$T/html/pass/nf.php"
	cp "$T/html/nf.php" "$T/html/tonamed/nf.php"
	# The protected download: the application decides, the gateway
	# serves the file.
	cat >"$T/html/accel.php" <<'PHP'
<?php
header('X-Accel-Redirect: ' . $_GET['to']);
header('X-Other: o');
echo "backend body\n";
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
    error_page "/index.php" { status = {404} }
    location '~ ^/pass/.*\.php$' {
        fastcgi_pass = php
        error_page "/err.php" { status = {404} }
    }
    location '~ ^/tonamed/.*\.php$' {
        fastcgi_pass = php
        fastcgi_intercept_errors = true
        error_page "@n" { status = {404} }
    }
    location '~ \.php$' {
        fastcgi_pass = php
        fastcgi_intercept_errors = true
        error_page "/err.php" { status = {404} }
    }
    location "= /d.php" { fastcgi_pass = "127.0.0.1:$DEAD_PORT" }
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
    location "/url/" { error_page "http://example.com/x?u=\$uri" { status = {404} } }
    location "/url301/" { error_page "http://example.com/y" { status = {404} code = "=301" } }
    location "/down/" { error_page "/d.php" { status = {404} } }
    location "/missing/" { error_page "/nothere.html" { status = {404} } }
    location "/protected/" { internal = true  root = "$T/files" }
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
