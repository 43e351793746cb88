#!/usr/bin/env bats
# fcgate in front of real PHP-FPM pools: two on TCP, one backup on a unix
# socket, the shape of the sample configuration.

load helper

setup() {
	fcg_setup
	cat >"$T/html/info.php" <<'PHP'
<?php
header('X-Pool: ' . getenv('FCGATE_POOL'));
if (isset($_GET['echo'])) {
	header('Content-Type: application/octet-stream');
	echo file_get_contents('php://input');
	exit;
}
if (isset($_GET['cookie'])) {
	setcookie('a', '1');
	setcookie('b', '2');
}
if (isset($_GET['go'])) {
	header('Location: /landing.html');
	exit;
}
header('Content-Type: text/plain');
echo "pool=", getenv('FCGATE_POOL'), "\n";
foreach (['SCRIPT_FILENAME', 'SCRIPT_NAME', 'QUERY_STRING', 'REQUEST_METHOD',
    'CONTENT_LENGTH', 'CONTENT_TYPE', 'HTTP_X_TEST', 'REQUEST_URI',
    'DOCUMENT_ROOT', 'SERVER_SOFTWARE', 'REMOTE_ADDR', 'PATH_INFO',
    'HTTP_PROXY'] as $k)
	echo $k, "=", $_SERVER[$k] ?? '', "\n";
echo "body_md5=", md5(file_get_contents('php://input')), "\n";
PHP
	mkdir -p "$T/html/dir"
	echo "static index" >"$T/html/index.html"
	start_php_pool one
	start_php_pool two
	start_php_pool spare "$T/php-spare.sock"
	{
		base_conf
		cat <<CONF
upstream backend {
    server 127.0.0.1:$PHP_PORT_one { weight = 3 }
    server 127.0.0.1:$PHP_PORT_two {}
    server "unix:$T/php-spare.sock" { backup = true }
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {localhost}
    root = "$T/html"
    index = {index.html, index.htm, index.php}
    client_max_body_size = 8m
    location '~ \.php$' {
        fastcgi_pass = backend
        fastcgi_index = index.php
        include("$REPO/etc/fastcgi_params")
        fastcgi_param { SCRIPT_FILENAME = "\$document_root\$fastcgi_script_name" }
    }
    location '~ /\.ht' { deny = all }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
}

teardown() {
	fcg_teardown
}

@test "php-fpm sees the request: script, query, method, headers" {
	run curl -sS -H 'X-Test: yes' -H 'Proxy: http://evil' "$URL/info.php?a=1&b=2"
	assert_success
	assert_line "SCRIPT_FILENAME=$T/html/info.php"
	assert_line "SCRIPT_NAME=/info.php"
	assert_line "QUERY_STRING=a=1&b=2"
	assert_line "REQUEST_METHOD=GET"
	assert_line "HTTP_X_TEST=yes"
	assert_line "HTTP_PROXY="
	assert_line "DOCUMENT_ROOT=$T/html"
	assert_line --regexp '^SERVER_SOFTWARE=fcgate/'
}

@test "a 1 MiB POST is echoed intact by php-fpm" {
	head -c 1048576 /dev/urandom >"$T/blob"
	curl -sS --data-binary @"$T/blob" -o "$T/back" "$URL/info.php?echo=1"
	cmp "$T/blob" "$T/back"
	run curl -sS --data-binary @"$T/blob" -H 'Content-Type: application/x-blob' "$URL/info.php"
	assert_line "CONTENT_LENGTH=1048576"
	assert_line "CONTENT_TYPE=application/x-blob"
	assert_line "body_md5=$(md5sum <"$T/blob" | cut -d' ' -f1)"
}

@test "php redirects and cookies pass through" {
	run curl -sS -D - -o /dev/null "$URL/info.php?go=1"
	assert_line --partial "HTTP/1.1 302"
	run curl -sS -D - -o /dev/null "$URL/info.php?cookie=1"
	[ "$(echo "$output" | grep -c '^Set-Cookie:')" -eq 2 ]
}

@test "the static index is served for /, and index.php is reached through its location" {
	run curl -sS "$URL/"
	assert_output "static index"
	rm "$T/html/index.html"
	cp "$T/html/info.php" "$T/html/dir/index.php"
	run curl -sS "$URL/dir/"
	assert_line "SCRIPT_NAME=/dir/index.php"
}

@test "round robin 3:1 over the pools, backup idle; fcgatectl counts them" {
	for i in $(seq 1 40); do echo "url = \"$URL/info.php\""; done >"$T/urls"
	curl -sS -K "$T/urls" | grep '^pool=' | sort | uniq -c >"$T/dist"
	run cat "$T/dist"
	assert_line --regexp '^ *30 pool=one$'
	assert_line --regexp '^ *10 pool=two$'
	run "$FCGATECTL" -m "$T/fcgate.shm" status
	assert_success
	assert_output --regexp "127.0.0.1:$PHP_PORT_one .* 30 "
	assert_output --regexp "127.0.0.1:$PHP_PORT_two .* 10 "
	run "$FCGATECTL" -m "$T/fcgate.shm" status --json
	assert_success
	echo "$output" | python3 -m json.tool >/dev/null
}

@test "the backup pool answers when every primary is gone" {
	kill "$(cat "$T/php-one.pid")" "$(cat "$T/php-two.pid")"
	sleep 0.5
	run curl -sS "$URL/info.php"
	assert_line "pool=spare"
}

@test "deny = all answers 403" {
	echo secret >"$T/html/.htpasswd"
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/.htpasswd"
	assert_output 403
}

@test "fcgatectl probe: php-fpm answers GET_VALUES" {
	run "$FCGATECTL" probe "127.0.0.1:$PHP_PORT_one"
	assert_success
	assert_line --regexp "^127.0.0.1:$PHP_PORT_one: up, answered GET_VALUES in [0-9]+ ms$"
	assert_line "  FCGI_MPXS_CONNS=0"
}
