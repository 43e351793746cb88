#!/usr/bin/env bats
# Response headers: add_header, expires, charset, default_type,
# fastcgi_hide_header / fastcgi_pass_header and fastcgi_buffer_size, with
# nginx's rules.  The same configuration was run through nginx 1.22 and
# its heads compared line by line; where a test pins nginx's behaviour
# its comment says which.

load helper

# secs DATE: an HTTP date as seconds since the epoch.
secs() {
	python3 -c 'import sys, email.utils
print(int(email.utils.parsedate_to_datetime(sys.argv[1]).timestamp()))' "$1"
}

# head PATH [curl options]: the response head, CRs taken out.
head_of() {
	local path="$1"
	shift
	curl -sS -o /dev/null -D - "$@" "$URL$path" | tr -d '\r'
}

# value NAME: the value of the first NAME line of the head in $output.
value() {
	printf '%s\n' "$output" | sed -n "s/^$1: //Ip" | head -n 1
}

setup() {
	fcg_setup
	start_testd a
	for d in own own/nested own/replaced etag exp exp/max exp/epoch \
		exp/neg exp/zero exp/off exp/in cs cs/off cs/bin; do
		mkdir -p "$T/html/$d"
		for f in a.html a.png a.unknownext; do
			echo "hi" >"$T/html/$d/$f"
		done
	done
	echo "root" >"$T/html/index.html"
	for d in php php4k php64k; do
		mkdir -p "$T/html/$d"
		cat >"$T/html/$d/h.php" <<'PHP'
<?php
ini_set('default_charset', '');
if (isset($_GET['code'])) http_response_code((int)$_GET['code']);
if (isset($_GET['ct'])) header('Content-Type: ' . $_GET['ct']);
foreach (['Buffering', 'Expires', 'Limit-Rate', 'Charset', 'Other'] as $x)
	header("X-Accel-$x: 1");
header('X-Secret: s');
if (isset($_GET['srv'])) {
	header('Server: php-app');
	header('Date: Mon, 01 Jan 2001 00:00:00 GMT');
}
header('X-Srv-Hidden: h');
header('Expires: Mon, 01 Jan 2001 00:00:00 GMT');
header('Cache-Control: private');
header('Cache-Control: must-revalidate', false);
for ($i = 0; $i < (int)($_GET['kib'] ?? 0); $i++)
	header("Set-Cookie: c$i=" . str_repeat('x', 1000), false);
if (isset($_GET['body']))
	echo str_repeat('0123456789abcdef', (int)$_GET['body'] / 16);
else
	echo "php\n";
PHP
	done
	start_php_pool one
	local php="fastcgi_pass = php
        include(\"$REPO/etc/fastcgi_params\")
        fastcgi_param { SCRIPT_FILENAME = \"\$document_root\$fastcgi_script_name\" }"
	{
		base_conf
		cat <<CONF
upstream app { server 127.0.0.1:$TESTD_PORT_a { max_fails = 0 } }
upstream php { server 127.0.0.1:$PHP_PORT_one { max_fails = 0 } }
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {localhost}
    root = "$T/html"
    default_type = "application/x-srv"
    add_header "X-Srv" { value = "srv" }
    add_header "X-Srv-Always" { value = "yes"  always = true }
    fastcgi_hide_header = {"X-Srv-Hidden"}
    location "/" { }
    location "/own/" {
        add_header "X-Own" { value = "one" }
        add_header "X-Own" { value = "two" }
        add_header "X-Empty" { value = "" }
        add_header "X-Vars" {
            value = "\$status \$uri \$arg_v \$sent_http_content_type"
            always = true
        }
        location "/own/nested/" { }
        location "/own/replaced/" { add_header "X-Inner" { value = "in" } }
    }
    location "/echo/" {
        add_header "X-Echo" { value = "\$http_x_big\$http_x_big\$http_x_big\$http_x_big\$http_x_big" }
    }
    location "/ret/" {
        default_type = "text/plain"
        charset = utf-8
        add_header "X-R" { value = "r" }
        return = "200 hi"
    }
    location "/etag/" {
        add_header "ETag" { value = "" }
        add_header "Last-Modified" { value = "Mon, 01 Jan 2001 00:00:00 GMT" }
    }
    location "/exp/" {
        expires = 1h
        location "/exp/max/" { expires = max }
        location "/exp/epoch/" { expires = epoch }
        location "/exp/neg/" { expires = -1 }
        location "/exp/zero/" { expires = 0 }
        location "/exp/off/" { expires = off }
        location "/exp/in/" { }
    }
    location "/cs/" {
        charset = utf-8
        default_type = "text/plain"
        location "/cs/off/" { charset = off }
        location "/cs/bin/" { default_type = "application/x-test" }
    }
    location '~ \.t\$' {
        charset = utf-8
        expires = 1d
        add_header "X-T" { value = "\$status" }
        fastcgi_pass = app
        include("$REPO/etc/fastcgi_params")
    }
    location '~ \.t64\$' {
        fastcgi_buffer_size = 64k
        add_header "X-Pad" { value = "$(printf 'p%.0s' $(seq 1 2000))" }
        fastcgi_pass = app
        include("$REPO/etc/fastcgi_params")
    }
    location "/php/" {
        expires = 1d
        charset = utf-8
        fastcgi_hide_header = {"X-Secret", "Server"}
        fastcgi_pass_header = {"X-Accel-Buffering"}
        $php
    }
    location "/php4k/" {
        fastcgi_buffer_size = 4k
        $php
    }
    location "/php64k/" {
        fastcgi_buffer_size = 64k
        $php
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

@test "add_header: the server's list on a file, only always on an error" {
	# nginx adds a header without "always" only on 2xx/3xx it lists; an
	# "always" one goes on fcgate's own error page too.
	run head_of /index.html
	assert_line "X-Srv: srv"
	assert_line "X-Srv-Always: yes"
	run head_of /missing.html
	assert_line --partial "404 Not Found"
	refute_line "X-Srv: srv"
	assert_line "X-Srv-Always: yes"
}

@test "add_header: the statuses nginx adds to, and none else without always" {
	# nginx's list: 200 201 204 206 301 302 303 304 307 308.
	local code
	for code in 200 201 204 206 301 302 303 304 307 308; do
		run head_of "/x.t?mode=status&code=$code"
		assert_line --partial "HTTP/1.1 $code"
		assert_line "X-T: $code"
	done
	for code in 202 300 400 403 404 410 500 503; do
		run head_of "/x.t?mode=status&code=$code"
		assert_line --partial "HTTP/1.1 $code"
		refute_line --partial "X-T:"
	done
}

@test "add_header: a level's own list replaces the outer one, nested inherit" {
	# nginx inherits add_header only into a level that has none of its
	# own: /own/ drops the server's (even its always one), /own/nested/
	# takes /own/'s, /own/replaced/ has only its own.
	run head_of /own/a.html
	refute_line --partial "X-Srv"
	assert_line "X-Own: one"
	run head_of /own/nested/a.html
	refute_line --partial "X-Srv"
	assert_line "X-Own: one"
	run head_of /own/replaced/a.html
	assert_line "X-Inner: in"
	refute_line --partial "X-Own"
	refute_line --partial "X-Srv"
}

@test "add_header: one name twice is two lines, an empty value none" {
	# nginx sends every add_header as its own line, and skips an empty one.
	run head_of /own/a.html
	[ "$(printf '%s\n' "$output" | grep -c '^X-Own: ')" = 2 ]
	assert_line "X-Own: one"
	assert_line "X-Own: two"
	refute_line --partial "X-Empty"
}

@test "add_header: variables per response, \$status and \$sent_http_" {
	# nginx expands the value for each response, with the response's
	# status and the headers it already has.
	run head_of '/own/a.html?v=7'
	assert_line "X-Vars: 200 /own/a.html 7 text/html"
	run head_of /own/nope.html
	assert_line "X-Vars: 404 /own/nope.html  text/html"
	refute_line --partial "X-Own"
}

@test "add_header: a decoded CR LF in \$uri cannot start a header line" {
	# Not nginx: nginx 1.22 sends a %0d%0a of the URI as it decoded it,
	# and the client reads a header line of the requester's choosing.
	# fcgate makes them spaces.
	run head_of '/own/x%0d%0aSet-Cookie:%20evil=1.html'
	assert_line --partial "404 Not Found"
	refute_line --regexp "^Set-Cookie"
	assert_line "X-Vars: 404 /own/x  Set-Cookie: evil=1.html  text/html"
}

@test "add_header: a value the head has no room for is left out, logged" {
	# Not nginx (its head buffer grows): fcgate's head has a fixed
	# buffer, and a value a client controls must not break the answer.
	local big
	mkdir -p "$T/html/echo"
	echo "hi" >"$T/html/echo/a.html"
	big="$(printf 'b%.0s' $(seq 1 1000))"
	run head_of /echo/a.html -H "X-Big: $big"
	assert_line "X-Echo: $big$big$big$big$big"
	big="$(printf 'b%.0s' $(seq 1 7000))"
	run curl -sS -H "X-Big: $big" "$URL/echo/a.html"
	assert_output "hi"
	run grep -c 'header "X-Echo": no room left in the response head' "$T/error.log"
	assert_output 1
}

@test "add_header: on a 304 and on fcgate's directory redirect" {
	# 304 and 301 are on nginx's list: a conditional hit and the
	# redirect of a directory named without its slash get the headers.
	local etag
	run head_of /own/a.html
	etag="$(value ETag)"
	run head_of /own/a.html -H "If-None-Match: $etag"
	assert_line --partial "304 Not Modified"
	assert_line "X-Own: two"
	run head_of /own/nested
	assert_line --partial "301 Moved Permanently"
	assert_line "X-Own: one"
}

@test "add_header: Last-Modified and ETag replace the file's own" {
	# nginx treats these two as single headers: add_header sets them,
	# and an empty value removes the one the handler made.
	run head_of /etag/a.html
	refute_line --partial "ETag"
	assert_line "Last-Modified: Mon, 01 Jan 2001 00:00:00 GMT"
	[ "$(printf '%s\n' "$output" | grep -c '^Last-Modified: ')" = 1 ]
}

@test "expires: a time, max, epoch, negative, zero, off; nested inherits" {
	# nginx: now + t with max-age=t; max = 2037 and ten years; epoch and
	# a negative time = no-cache; 0 = now and max-age=0; off = nothing.
	local date exp
	run head_of /exp/a.html
	date="$(secs "$(value Date)")"
	exp="$(secs "$(value Expires)")"
	[ $((exp - date)) = 3600 ]
	assert_line "Cache-Control: max-age=3600"
	run head_of /exp/in/a.html
	assert_line "Cache-Control: max-age=3600"
	run head_of /exp/max/a.html
	assert_line "Expires: Thu, 31 Dec 2037 23:55:55 GMT"
	assert_line "Cache-Control: max-age=315360000"
	run head_of /exp/epoch/a.html
	assert_line "Expires: Thu, 01 Jan 1970 00:00:01 GMT"
	assert_line "Cache-Control: no-cache"
	run head_of /exp/neg/a.html
	date="$(secs "$(value Date)")"
	exp="$(secs "$(value Expires)")"
	[ $((date - exp)) = 1 ]
	assert_line "Cache-Control: no-cache"
	run head_of /exp/zero/a.html
	[ "$(value Expires)" = "$(value Date)" ]
	assert_line "Cache-Control: max-age=0"
	run head_of /exp/off/a.html
	refute_line --partial "Expires:"
	refute_line --partial "Cache-Control:"
}

@test "expires: only on nginx's statuses, and on a 304" {
	# nginx sets expires only on the statuses add_header uses.
	local etag
	run head_of /exp/nope.html
	assert_line --partial "404 Not Found"
	refute_line --partial "Expires:"
	run head_of "/x.t?mode=status&code=500"
	refute_line --partial "Expires:"
	run head_of "/x.t?mode=status&code=201"
	assert_line "Cache-Control: max-age=86400"
	run head_of /exp/a.html
	etag="$(value ETag)"
	run head_of /exp/a.html -H "If-None-Match: $etag"
	assert_line --partial "304 Not Modified"
	assert_line "Cache-Control: max-age=3600"
}

@test "expires: replaces the backend's Expires and Cache-Control" {
	# ngx_http_set_expires overwrites the response's Expires and its
	# Cache-Control lines; on a 404 it leaves the backend's alone.
	run head_of /php/h.php
	[ "$(printf '%s\n' "$output" | grep -ic '^Cache-Control: ')" = 1 ]
	[ "$(printf '%s\n' "$output" | grep -ic '^Expires: ')" = 1 ]
	assert_line "Cache-Control: max-age=86400"
	refute_line --partial "2001"
	run head_of '/php/h.php?code=404'
	assert_line "Expires: Mon, 01 Jan 2001 00:00:00 GMT"
	assert_line "Cache-Control: private"
	assert_line "Cache-Control: must-revalidate"
}

@test "charset: nginx's text types get it, other types and off do not" {
	# charset_types default: text/html, text/xml, text/plain,
	# text/vnd.wap.wml, application/javascript, application/rss+xml.
	run head_of /cs/a.html
	assert_line "Content-Type: text/html; charset=utf-8"
	run head_of /cs/a.png
	assert_line "Content-Type: image/png"
	run head_of /cs/off/a.html
	assert_line "Content-Type: text/html"
	# fcgate's own error page is text/html: nginx adds it there too
	run head_of /cs/nope.html
	assert_line "Content-Type: text/html; charset=utf-8"
	# any status: a 500 from the backend
	run head_of "/x.t?mode=status&code=500"
	assert_line "Content-Type: text/plain; charset=utf-8"
}

@test "charset: a backend's own charset or another type is left alone" {
	# nginx adds a charset only when the type names none, and compares
	# the whole type: a parameter makes it another one.
	run head_of /php/h.php
	assert_line --regexp '^Content-[tT]ype: text/html; charset=utf-8$'
	run head_of '/php/h.php?ct=application/javascript'
	assert_line --regexp '^Content-[tT]ype: application/javascript; charset=utf-8$'
	run head_of '/php/h.php?ct=image/png'
	assert_line --regexp '^Content-[tT]ype: image/png$'
	run head_of '/php/h.php?ct=text/html;%20charset=latin1'
	assert_line --regexp '^Content-[tT]ype: text/html; charset=latin1$'
	run head_of '/php/h.php?ct=text/html;%20q=1'
	assert_line --regexp '^Content-[tT]ype: text/html; q=1$'
}

@test "default_type: unknown extensions, inherited down nested locations" {
	# nginx inherits default_type level by level; the location's own
	# wins; it names files whose extension mime.types does not know.
	echo "x" >"$T/html/a.unknownext"
	run head_of /a.unknownext
	assert_line "Content-Type: application/x-srv"
	run head_of /own/nested/a.unknownext
	assert_line "Content-Type: application/x-srv"
	run head_of /cs/a.unknownext
	assert_line "Content-Type: text/plain; charset=utf-8"
	run head_of /cs/off/a.unknownext
	assert_line "Content-Type: text/plain"
	run head_of /cs/bin/a.unknownext
	assert_line "Content-Type: application/x-test"
}

@test "return CODE TEXT: typed as nginx types it, then filtered" {
	# nginx's return types its text by the URI's extension, else
	# default_type, and the header filters act on it as on any answer.
	run head_of /ret/a
	assert_line "Content-Type: text/plain; charset=utf-8"
	assert_line "X-R: r"
	run head_of /ret/a.html
	assert_line "Content-Type: text/html; charset=utf-8"
	run head_of /ret/a.png
	assert_line "Content-Type: image/png"
}

@test "fastcgi_hide_header / pass_header: nginx's hidden list, own lists" {
	# nginx hides Status and X-Accel-Expires, -Redirect, -Limit-Rate,
	# -Buffering, -Charset; other X-Accel-* pass; hide adds to the list,
	# pass takes out of it; a level's own list replaces the server's.
	run head_of /php/h.php
	assert_line "X-Accel-Buffering: 1"
	refute_line --partial "X-Accel-Expires"
	refute_line --partial "X-Accel-Limit-Rate"
	refute_line --partial "X-Accel-Charset"
	refute_line --partial "Status:"
	assert_line "X-Accel-Other: 1"
	refute_line --partial "X-Secret"
	assert_line "X-Srv-Hidden: h"
	# the server's list, inherited
	run head_of /php4k/h.php
	refute_line --partial "X-Accel-Buffering"
	refute_line --partial "X-Srv-Hidden"
	assert_line "X-Secret: s"
}

@test "a backend's Server and Date replace fcgate's, unless hidden" {
	# nginx sends the upstream's Server and Date instead of its own (the
	# FastCGI module does not hide them); a hidden one leaves nginx's.
	run head_of '/php4k/h.php?srv=1'
	assert_line "Server: php-app"
	assert_line "Date: Mon, 01 Jan 2001 00:00:00 GMT"
	[ "$(printf '%s\n' "$output" | grep -c '^Server: ')" = 1 ]
	[ "$(printf '%s\n' "$output" | grep -c '^Date: ')" = 1 ]
	run head_of '/php/h.php?srv=1'
	assert_line "Server: fcgate"
	assert_line "Date: Mon, 01 Jan 2001 00:00:00 GMT"
	[ "$(printf '%s\n' "$output" | grep -c '^Server: ')" = 1 ]
	[ "$(printf '%s\n' "$output" | grep -c '^Date: ')" = 1 ]
}

@test "fastcgi_buffer_size: a 30 KiB cookie block passes at 32k, 33 KiB is 502" {
	# nginx answers 502 "upstream sent too big header" when the header
	# block does not fit fastcgi_buffer_size (set to 32k in nginx here).
	run head_of '/php/h.php?kib=30'
	assert_line --partial "200 OK"
	[ "$(printf '%s\n' "$output" | grep -c '^Set-Cookie: ')" = 30 ]
	run head_of '/php/h.php?kib=33'
	assert_line --partial "502 Bad Gateway"
	run grep -c "upstream sent too big header while reading response header from upstream" "$T/error.log"
	assert_output 1
}

@test "fastcgi_buffer_size = 4k: 3 KiB passes, 4 KiB of cookies is 502" {
	# The location's own size bounds the block.
	run head_of '/php4k/h.php?kib=3'
	assert_line --partial "200 OK"
	run head_of '/php4k/h.php?kib=4'
	assert_line --partial "502 Bad Gateway"
}

@test "fastcgi_buffer_size = 64k: a big head with a body keeps the body whole" {
	# Head and the body bytes read with it can exceed the client's
	# output buffer: the body still arrives byte for byte.
	local want
	want="$(php -r 'echo md5(str_repeat("0123456789abcdef", 300000 / 16));')"
	run sh -c "curl -sS '$URL/php64k/h.php?kib=30&body=300000' | md5sum"
	assert_output "$want  -"
	run sh -c "curl -sS -H 'Connection: close' '$URL/php64k/h.php?kib=20&body=300000' | md5sum"
	assert_output "$want  -"
	# the test backend writes head and body in one go: the body bytes
	# read with a 29 KiB head do not fit the output beside it
	want="$(python3 -c 'import hashlib
print(hashlib.md5(bytes(b"abcdefghijklmnopqrstuvwxyz"[i % 26] for i in range(100000))).hexdigest())')"
	run sh -c "curl -sS '$URL/x.t64?mode=raw&cookies=1000&n=100000' | md5sum"
	assert_output "$want  -"
	# no byte of the header block was taken for body
	run grep -c "more data than specified" "$T/error.log"
	assert_output 0
}

@test "fastcgi_buffer_size = 64k: a head past the output buffer is a clean 502" {
	# fcgate's own limit (README): the head sent to the client must fit
	# its 32 KiB output buffer, whatever fastcgi_buffer_size allows.
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/php64k/h.php?kib=40"
	assert_output 502
	run grep -c "upstream sent too big header for the output buffer" "$T/error.log"
	assert_output 1
	run grep -c "more data than specified" "$T/error.log"
	assert_output 0
}

@test "fcgate -t: fastcgi_buffer_size and expires out of range, FILE:LINE" {
	{
		base_conf
		cat <<CONF
server {
    listen = {127.0.0.1:$HTTP_PORT}
    location "/a/" { fastcgi_buffer_size = 512 }
    location "/b/" { expires = "10 parsecs" }
}
CONF
	} >"$T/bad.conf"
	run "$FCGATE" -t -c "$T/bad.conf"
	assert_failure
	assert_output --regexp "bad.conf:[0-9]+: fastcgi_buffer_size must be between 1k and 1m"
	assert_output --regexp "bad.conf:[0-9]+: expires '10 parsecs'"
}
