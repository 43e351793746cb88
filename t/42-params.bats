#!/usr/bin/env bats
# fastcgi_param at the top, server and location levels, with nginx's array
# inheritance: a level with a fastcgi_param of its own replaces the outer
# list entirely; a level with none inherits the nearest outer one.

load helper

setup() {
	fcg_setup
	start_testd a
	{
		base_conf
		cat <<CONF
fastcgi_param { TOP_P = "top" }
upstream app {
    server 127.0.0.1:$TESTD_PORT_a {}
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {one}
    root = "$T/html"
    include("$REPO/etc/fastcgi_params")
    fastcgi_param { SRV_P = "server \$server_name" }
    location "/inherit/" { fastcgi_pass = app }
    location "/own/" {
        fastcgi_pass = app
        fastcgi_param { LOC_P = "loc \$uri" }
    }
    location "/ifne/" {
        fastcgi_pass = app
        fastcgi_param_if_not_empty { LOC_Q = "\$query_string" }
    }
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {two}
    root = "$T/html"
    location "/" { fastcgi_pass = app }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
}

teardown() {
	fcg_teardown
}

@test "a location without fastcgi_param inherits the server's list (with its include), not the top's" {
	run curl -sS -H 'Host: one' "$URL/inherit/x?mode=echo"
	assert_success
	assert_line "SRV_P=server one"
	assert_line "QUERY_STRING=mode=echo"
	assert_line "REQUEST_METHOD=GET"
	refute_line --partial "TOP_P="
}

@test "a location with a fastcgi_param of its own replaces the server's whole list" {
	run curl -sS -H 'Host: one' "$URL/own/x?mode=echo"
	assert_success
	assert_line "LOC_P=loc /own/x"
	refute_line --partial "SRV_P="
	refute_line --partial "QUERY_STRING="
	refute_line --partial "TOP_P="
	# fastcgi_param_if_not_empty alone is a list of its own too
	run curl -sS -H 'Host: one' "$URL/ifne/x?mode=echo"
	assert_line "LOC_Q=mode=echo"
	refute_line --partial "SRV_P="
}

@test "a server without fastcgi_param inherits the top-level list" {
	run curl -sS -H 'Host: two' "$URL/x?mode=echo"
	assert_success
	assert_line "TOP_P=top"
	refute_line --partial "SRV_P="
}

@test "fastcgi_param errors at the server and top levels are reported with their line" {
	printf 'fastcgi_param { BAD = "$nosuchvar" }\n' >>"$T/fcgate.conf"
	run "$FCGATE" -t -c "$T/fcgate.conf"
	assert_failure
	assert_output --partial "fcgate.conf:"
	assert_output --partial "nosuchvar"
	[ "$(echo "$output" | grep -c nosuchvar)" -eq 1 ]
}
