#!/usr/bin/env bats
# rewrite and return (phase 1), with nginx's semantics: flags, the query
# string, captures, server level before location level, the URI-change
# limit, every form of return, and their configuration errors.  Each
# expectation was checked against nginx 1.22 with the same directives
# (written in nginx syntax); where fcgate differs on purpose, the test
# says so.

load helper

setup() {
	fcg_setup
	mkdir -p "$T/html/sub" "$T/html/stay" "$T/html/new" "$T/html/protected"
	echo "doc" >"$T/html/protected/doc.txt"
	echo "file" >"$T/html/file.txt"
	echo "f" >"$T/html/f.txt"
	echo "percent" >"$T/html/f%41.txt"
	echo "found" >"$T/html/found.html"
	echo "stayed" >"$T/html/stay/here.txt"
	echo "secret" >"$T/secret.txt"
	start_testd app
	write_conf
	start_fcgate "$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
	URL2="http://127.0.0.1:$PORT2"
}

teardown() {
	fcg_teardown
}

write_conf() {
	{
		base_conf
		PORT2="$(free_port)"
		cat <<CONF
default_type = "text/plain"
upstream app {
    server 127.0.0.1:$TESTD_PORT_app {}
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {rw.example}
    root = "$T/html"
    location "/wiki/" {
        rewrite '^/wiki/(.*)\$' { to = "/index.php?mode=echo&title=\$1" flag = last }
    }
    location '~ \.php\$' {
        include("$REPO/etc/fastcgi_params")
        fastcgi_pass = app
    }
    error_page "/missing-page" { status = {404} }
    rewrite '^/missing-page\$' { to = "/found.html" }
    rewrite '^/y\$' { to = "/z" }
    rewrite '^/s/(.*)\$' { to = "/srv/\$1" }
    rewrite '^/order\$' { to = "/order-srv" }
    rewrite '^/srvget/(.*)\$' { to = "/protected/\$1" }
    location "/protected/" { internal = true }
    location "/get/" { rewrite '^/get/(.*)\$' { to = "/protected/\$1" flag = last } }
    rewrite '^/srvbreak\$' { to = "/loc1" flag = break }
    location "/loc1" { rewrite '^' { to = "/echo?from=loc1" } }
    location "/srv/" { rewrite '^/srv/(.*)\$' { to = "/echo?l=\$1" } }
    location "= /order-srv" { return = "200 location saw \$uri" }
    location "= /order" { return = "200 the location saw the URI first" }
    location "= /echo" { return = "200 uri=\$uri args=\$args" }
    location "/x" { rewrite '^' { to = "/y" flag = last } }
    location "= /y" { return = "200 y \$uri" }
    location "= /z" { return = "200 z \$uri" }

    location "/chain" {
        rewrite '^/chain\$' { to = "/chain2" }
        rewrite '^/chain2\$' { to = "/echo?step=2" }
    }
    location "/old/" { rewrite '^/old/(.*)\$' { to = "/new/\$1" flag = last } }
    location "/new/" { return = "200 new \$uri" }
    location "/stay/" {
        rewrite '^/stay/(.*)\$' { to = "/stay/here.txt" flag = break }
        rewrite '^' { to = "/echo" flag = last }
        return = "403"
    }
    location "= /r302" { rewrite '^' { to = "/t?a=1" flag = redirect } }
    location "= /r301" { rewrite '^' { to = "/t" flag = permanent } }
    location "= /rurl" { rewrite '^' { to = "http://example.com/t" flag = last } }
    location "= /rurl301" { rewrite '^' { to = "https://example.com/t" flag = permanent } }
    location "= /rdrop" { rewrite '^' { to = "/t?" flag = redirect } }
    location "= /rdecode" { rewrite '^' { to = "/a%41%20b%2F" flag = redirect } }
    location '~ ^/cap(.*)\$' { rewrite '^/cap(.*)\$' { to = "/t?v=\$1" flag = redirect } }
    location '~ ^/icap(.*)\$' { rewrite '^/icap(.*)\$' { to = "/echo?v=\$1" flag = last } }
    location '~ ^/named/' { rewrite '^/named/(?<w>[a-z]+)\$' { to = "/echo?w=\$w&one=\$1&two=\$2" } }
    location "= /qnew" { rewrite '^' { to = "/echo?a=b" } }
    location "= /qdrop" { rewrite '^' { to = "/echo?" } }
    location "= /qdrop2" { rewrite '^' { to = "/echo?a=b?" } }
    location "= /qkeep" { rewrite '^' { to = "/echo" } }
    location "= /loop" { rewrite '^' { to = "/loop" flag = last } }
    location "= /empty" { rewrite '^/empty(.*)\$' { to = "\$1" flag = last } }
    location "= /pct" { rewrite '^' { to = "/f%41.txt" flag = break } }
    location "= /dots" { rewrite '^' { to = "/sub/../f.txt" flag = break } }
    location "= /up" { rewrite '^' { to = "/../secret.txt" flag = break } }

    location "= /ret200" { return = "200" }
    location "= /retvars" { return = "200 hello \$arg_name from \$uri" }
    location "= /page.html" { return = "200 <p>typed</p>" }
    location "= /ret204" { return = "204 ignored" }
    location "= /ret404" { error_page "/found.html" { status = {404} } return = "404" }
    location "= /ret404t" { error_page "/found.html" { status = {404} } return = "404 no such thing" }
    location "= /ret301" { return = "301 /elsewhere?x=1" }
    location "= /ret301rel" { return = "301 elsewhere" }
    location "= /ret307" { return = "307 https://\$host/tls\$request_uri" }
    location "= /retrel" { absolute_redirect = false  return = "302 /rel" }
    location "= /retname" { server_name_in_redirect = true  port_in_redirect = false  return = "302 /named" }
    location "= /returl" { return = "http://example.com/\$uri" }
    location "= /ret444" { return = "444" }
}
server {
    listen = {127.0.0.1:$PORT2}
    root = "$T/html"
    rewrite '^' { to = "/never" }
    return = "403 the server said no"
    location "= /exact" { return = "200 exact" }
}
CONF
	} >"$T/fcgate.conf"
}

# get PATH [URL]: "CODE BODY" of a GET
get() {
	curl -sS --path-as-is -o "$T/body" -w '%{http_code}' "${2:-$URL}$1" >"$T/code"
	echo "$(cat "$T/code") $(cat "$T/body")"
}

# location_of PATH: "CODE LOCATION" of a GET (not followed)
location_of() {
	curl -sS --path-as-is -o /dev/null -D "$T/h" -w '%{http_code}' "$URL$1" >"$T/code"
	echo "$(cat "$T/code") $(tr -d '\r' <"$T/h" | sed -n 's/^[Ll]ocation: //p')"
}

# --- flags -------------------------------------------------------------

@test "no flag: the next rewrite sees the new URI, then the location is found again" {
	# nginx: a rewrite without a flag changes $uri and goes on; the
	# rewrite phase over, the changed URI is matched to a location again
	run get /chain
	assert_output "200 uri=/echo args=step=2"
}

@test "last: the new URI finds its location, whose directives then run" {
	# nginx: last stops the level and searches the locations again
	run get /old/page
	assert_output "200 new /new/page"
}

@test "break: stays in the location, skips the level's later rewrites and return" {
	# nginx: break stops rewrite processing; the location serves the new
	# URI (the file), the return 403 of the level does not run
	run get /stay/anything
	assert_output "200 stayed"
}

@test "redirect and permanent answer 302 and 301, made absolute with the port" {
	# nginx: the Location of a rewrite redirect starting with '/' gets
	# scheme, host and port (absolute_redirect, port_in_redirect)
	run location_of /r302
	assert_output "302 $URL/t?a=1"
	run location_of /r301
	assert_output "301 $URL/t"
}

@test "a replacement starting with http:// or https:// redirects whatever the flag" {
	# nginx: such a replacement is a 302 even with last; permanent 301
	run location_of /rurl
	assert_output "302 http://example.com/t"
	run location_of /rurl301
	assert_output "301 https://example.com/t"
}

# --- the query string -------------------------------------------------

@test "internal rewrite with '?': new arguments, the request's appended after '&'" {
	# nginx: args after the '?' replace $args; the request's follow
	run get '/qnew?o=1'
	assert_output "200 uri=/echo args=a=b&o=1"
	run get /qnew
	assert_output "200 uri=/echo args=a=b"
}

@test "a replacement ending with '?' drops the request's arguments" {
	# nginx: the final '?' is not written and the old args are dropped
	run get '/qdrop?o=1'
	assert_output "200 uri=/echo args="
	run get '/qdrop2?o=1'
	assert_output "200 uri=/echo args=a=b"
}

@test "a replacement without '?' keeps the request's arguments" {
	run get '/qkeep?o=1&p=2'
	assert_output "200 uri=/echo args=o=1&p=2"
}

@test "a redirect gets the request's arguments after '?' or '&', or none with a final '?'" {
	# nginx: Location /t?a=1&b=2, http://example.com/t?b=2, /t
	run location_of '/r302?b=2'
	assert_output "302 $URL/t?a=1&b=2"
	run location_of '/rurl?b=2'
	assert_output "302 http://example.com/t?b=2"
	run location_of '/rdrop?b=2'
	assert_output "302 $URL/t"
}

# --- captures -----------------------------------------------------------

@test "captures: \$1 and named ones from the rewrite's own match, a missing one empty" {
	# nginx: w=abc, one=abc (the named group is group 1), two= (none)
	run get /named/abc
	assert_output "200 uri=/echo args=w=abc&one=abc&two="
}

@test "a capture put into arguments or a redirect is escaped when the path was" {
	# nginx escapes captures (its args escaping) when the request's
	# path held '%' or '+'; a plain path's capture goes as it is
	run location_of '/cap%20x?y'
	assert_output "302 $URL/t?v=%20x&y"
	run location_of '/cap+y'
	assert_output "302 $URL/t?v=%2By"
	run location_of /capab
	assert_output "302 $URL/t?v=ab"
	run get '/icap%20x%26?o=1'
	assert_output "200 uri=/echo args=v=%20x%26&o=1"
}

@test "a redirect's printable %XX escapes are decoded, others kept" {
	# nginx: /a%41%20b%2F redirects to /aA%20b/
	run location_of /rdecode
	assert_output "302 $URL/aA%20b/"
}

@test "the backend sees the rewritten URI and arguments, the request's REQUEST_URI" {
	# nginx: after rewrite ... last to a PHP location, QUERY_STRING is
	# the new arguments with the request's appended, SCRIPT_NAME and
	# DOCUMENT_URI the new URI, REQUEST_URI what the client sent
	run curl -sS "$URL/wiki/Main_Page?x=1"
	assert_line "QUERY_STRING=mode=echo&title=Main_Page&x=1"
	assert_line "SCRIPT_NAME=/index.php"
	assert_line "DOCUMENT_URI=/index.php"
	assert_line "REQUEST_URI=/wiki/Main_Page?x=1"
}

# --- levels -------------------------------------------------------------

@test "server rewrites run before the location is chosen, then the location's" {
	# nginx's server rewrite phase: /s/abc becomes /srv/abc, which picks
	# location /srv/, whose rewrite makes it /echo?l=abc (query kept)
	run get '/s/abc?q=1'
	assert_output "200 uri=/echo args=l=abc&q=1"
	# the location is chosen by the rewritten URI, not the request's
	run get /order
	assert_output "200 location saw /order-srv"
}

@test "break at server level stops the server's rewrites, not the location's" {
	# nginx: the location rewrite phase runs after a server-level break
	run get /srvbreak
	assert_output "200 uri=/echo args=from=loc1"
}

@test "server rewrites run again after an internal redirect, not after last" {
	# nginx: error_page's internal redirect starts again at the server
	# rewrite phase (/missing-page -> /found.html) ...
	run get /nothing-here
	assert_output "404 found"
	# ... but last goes back to the location search only: /x -> /y is
	# not rewritten to /z by the server's rewrite
	run get /x
	assert_output "200 y /y"
	run get /y
	assert_output "200 z /z"
}

@test "a server-level return answers before any location, after the server's rewrites" {
	# nginx: the server's return runs in its rewrite phase, so even an
	# exact location is never reached
	run get /exact "$URL2"
	assert_output "403 the server said no"
}

@test "ten URI changes at most: the eleventh is a 500 with nginx's log line" {
	run get /loop
	assert_output --regexp '^500 '
	for _ in $(seq 1 50); do
		grep -q 'rewrite or internal redirection cycle while processing "/loop"' "$T/error.log" && break
		sleep 0.1
	done
	run grep -c 'rewrite or internal redirection cycle while processing "/loop"' "$T/error.log"
	assert_output 1
}

@test "an empty rewritten URI is a 500, logged as nginx logs it" {
	run get /empty
	assert_output --regexp '^500 '
	for _ in $(seq 1 50); do
		grep -q 'the rewritten URI has a zero length' "$T/error.log" && break
		sleep 0.1
	done
	grep -q 'the rewritten URI has a zero length, client: 127.0.0.1, request: "/empty"' "$T/error.log"
}

@test "a rewritten request may enter an internal location" {
	# nginx counts a request changed by rewrite as internal: /protected/
	# answers 404 from outside, but serves what a rewrite (location or
	# server level) brought there
	run get /protected/doc.txt
	assert_output --regexp '^404 '
	run get /get/doc.txt
	assert_output "200 doc"
	run get /srvget/doc.txt
	assert_output "200 doc"
}

# --- the rewritten URI as a file --------------------------------------

@test "the rewritten URI is not decoded: %41 names the file f%41.txt" {
	# nginx serves the file literally named f%41.txt, not fA.txt
	run get /pct
	assert_output "200 percent"
}

@test "'..' in a rewritten URI: resolved inside root, refused outside it" {
	# nginx opens root + "/sub/../f.txt" as it is: f.txt
	run get /dots
	assert_output "200 f"
	# nginx would open root + "/../secret.txt" and serve the file above
	# root; fcgate refuses any file outside root
	run get /up
	refute_output --partial secret
	assert_output --regexp '^(403|404) '
}

# --- return ---------------------------------------------------------------

@test "return CODE: empty body, Content-Type from default_type" {
	# nginx: return 200 sends 200, Content-Length 0, default_type
	run curl -sS -D "$T/h" -o "$T/body" "$URL/ret200"
	assert_success
	grep -q '^HTTP/1.1 200' "$T/h"
	grep -qi '^content-type: text/plain' "$T/h"
	grep -qi '^content-length: 0' "$T/h"
}

@test "return CODE TEXT: variables expanded, typed by the URI's extension" {
	run get '/retvars?name=ann'
	assert_output "200 hello ann from /retvars"
	run curl -sS -o /dev/null -w '%{content_type}' "$URL/page.html"
	assert_output "text/html"
	# HEAD: the head with the text's length, no body
	run curl -sS -I "$URL/retvars?name=ann"
	assert_output --partial "Content-Length: 23"
	refute_output --partial "hello"
}

@test "return 204 TEXT sends no body" {
	run curl -sS -D "$T/h" -o "$T/body" "$URL/ret204"
	grep -q '^HTTP/1.1 204' "$T/h"
	[ ! -s "$T/body" ]
}

@test "return 404 goes through error_page; return 404 TEXT does not" {
	# nginx: a return of 400 or more without text is an error, answered
	# by error_page; with a text the text is the answer
	run get /ret404
	assert_output "404 found"
	run get /ret404t
	assert_output "404 no such thing"
}

@test "return 301/307 URL: Location absolute for a '/' path, as written otherwise" {
	run location_of /ret301
	assert_output "301 $URL/elsewhere?x=1"
	run location_of /ret301rel
	assert_output "301 elsewhere"
	run location_of '/ret307?a=1'
	assert_output "307 https://127.0.0.1/tls/ret307?a=1"
}

@test "return's Location honours absolute_redirect, server_name_in_redirect, port_in_redirect" {
	# nginx: off keeps "/rel"; the server's first name without the port
	run location_of /retrel
	assert_output "302 /rel"
	run location_of /retname
	assert_output "302 http://rw.example/named"
}

@test "return URL alone is a 302" {
	run location_of /returl
	assert_output "302 http://example.com//returl"
}

@test "return 444 closes the connection without an answer, logged as 444" {
	run curl -sS "$URL/ret444"
	assert_failure 52 # curl: empty reply from server
	for _ in $(seq 1 50); do
		grep -q '"GET /ret444 HTTP/1.1" 444 ' "$T/access.log" && break
		sleep 0.1
	done
	grep -q '"GET /ret444 HTTP/1.1" 444 ' "$T/access.log"
	# the worker goes on answering
	run get /ret200
	assert_output "200 "
}

# --- configuration errors ----------------------------------------------

# bad_conf BODY: a server with BODY; fcgate -t's output in $output
bad_conf() {
	{
		base_conf
		printf 'server {\n    listen = {127.0.0.1:1}\n%s\n}\n' "$1"
	} >"$T/bad.conf"
	run "$FCGATE" -t -c "$T/bad.conf"
}

line_of() {
	grep -n -F -- "$1" "$T/bad.conf" | head -1 | cut -d: -f1
}

@test "-t: a rewrite regex that does not compile is reported at its line" {
	bad_conf "    location \"/\" {
        rewrite '^/(unclosed' { to = \"/x\" }
    }"
	assert_failure 1
	assert_output --partial "$T/bad.conf:$(line_of unclosed): rewrite: invalid regex"
}

@test "-t: a return code outside 100-599 is reported at the return's own line" {
	bad_conf '    location "/" {
        index = {index.html}
        return = "600 too big"
    }'
	assert_failure 1
	assert_output --partial "$T/bad.conf:$(line_of '"600 too big"'): return '600 too big'"
	bad_conf '    return = "99"'
	assert_failure 1
	assert_output --partial "$T/bad.conf:$(line_of '"99"'): return '99'"
	bad_conf '    return = "/relative/url"'
	assert_failure 1
	assert_output --partial "$T/bad.conf:$(line_of relative): return '/relative/url'"
}

@test "-t: an unknown rewrite flag is reported at the flag's line" {
	bad_conf "    rewrite '^/a' {
        to = \"/b\"
        flag = lasst
    }"
	assert_failure 1
	assert_output --partial "$T/bad.conf:$(line_of lasst): rewrite: unknown flag 'lasst'"
}

@test "-t: an empty replacement is refused, as nginx refuses it" {
	bad_conf "    rewrite '^/a' { to = \"\" }"
	assert_failure 1
	assert_output --partial "$T/bad.conf:$(line_of "'^/a'"): rewrite '^/a': no 'to' replacement"
}

@test "a URI-change cycle with an error_page for 500 answers 500 once, no recursion" {
	# nginx: the 11th URI change is "rewrite or internal redirection
	# cycle" and answers 500 without the error_page (it would loop
	# again).  Before the fix, the error_page for 500 was tried again
	# on every 500 and the worker's stack overflowed.
	local port conf="$T/loop.conf"
	port="$(free_port)"
	mkdir -p "$T/html/loop"
	{
		echo "pid_file = \"$T/loop.pid\""
		echo "shm_path = \"$T/loop.shm\""
		echo "error_log = \"$T/loop.log\""
		echo 'access_log = "off"'
		echo 'workers = 1'
		cat <<CONF
server {
    listen = {127.0.0.1:$port}
    root = "$T/html"
    error_page "/loop/" { status = {500} }
    location "/loop/" { index = {"/loop/"} }
    location "/r/" { rewrite '^/r/(.*)\$' { to = "/r/\$1"  flag = last } }
}
CONF
	} >"$conf"
	"$FCGATE" -f -c "$conf" >>"$T/fcgate.out" 2>&1 &
	fcg_track $!
	wait_port "$port"
	for u in /loop/ /r/x /loop/; do
		run curl -sS --max-time 5 -o /dev/null -w '%{http_code}' \
			"http://127.0.0.1:$port$u"
		assert_output 500
	done
	run grep -c 'rewrite or internal redirection cycle' "$T/loop.log"
	assert_output 3
	run grep -c 'exited on signal' "$T/loop.log"
	assert_output 0
}

@test "fcgate's own 500 closes the connection, as nginx's does" {
	# nginx: ngx_http_special_response_handler turns keep-alive off for
	# 400, 413, 414, 500 and 501, with or without an error_page
	run curl -sS -D - -o /dev/null "$URL/loop"
	assert_line --partial "HTTP/1.1 500"
	assert_line "Connection: close"$'\r'
}
