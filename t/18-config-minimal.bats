#!/usr/bin/env bats
# A minimal configuration starts in a directory of its own: without
# mime_types and no mime.types beside it, the built-in table of common
# types and default_type apply (nginx's built-in types).  A mime_types
# file that is named but missing stays an error.

load helper

setup() {
	fcg_setup
	mkdir -p "$T/min/html/special"
	echo '{}' >"$T/min/html/a.json"
	echo 'body{}' >"$T/min/html/c.css"
	echo 'x' >"$T/min/html/b.unknownext"
	echo 'x' >"$T/min/html/special/d.unknownext"
	echo 'x' >"$T/min/html/special/e.png"
	chmod -R a+rX "$T/min"
	HTTP_PORT="$(free_port)"
}

teardown() {
	fcg_teardown
}

# minimal_conf [EXTRA TOP] [EXTRA SERVER] [EXTRA LOCATION]
minimal_conf() {
	cat >"$T/min/fcgate.conf" <<CONF
workers = 1
pid_file = "$T/fcgate.pid"
shm_path = "$T/fcgate.shm"
error_log = "$T/error.log"
access_log = "$T/access.log"
${1:-}
upstream app { server 127.0.0.1:9 {} }
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = html
    ${2:-}
    location "/" { }
    location "/special/" { ${3:-} }
}
CONF
}

ctype() {
	curl -sS -o /dev/null -w '%{content_type}' "http://127.0.0.1:$HTTP_PORT/$1"
}

@test "a minimal config without mime.types starts and uses the built-in types" {
	minimal_conf
	[ ! -e "$T/min/mime.types" ]
	run "$FCGATE" -t -c "$T/min/fcgate.conf"
	assert_success
	start_fcgate "$T/min/fcgate.conf"
	[ "$(ctype a.json)" = application/json ]
	[ "$(ctype c.css)" = text/css ]
	[ "$(ctype special/e.png)" = image/png ]
	[ "$(ctype b.unknownext)" = application/octet-stream ]
}

@test "default_type at the top, server and location levels" {
	minimal_conf 'default_type = "text/plain"'
	start_fcgate "$T/min/fcgate.conf"
	[ "$(ctype b.unknownext)" = text/plain ]
	[ "$(ctype special/d.unknownext)" = text/plain ]
	[ "$(ctype a.json)" = application/json ]
	kill -TERM "$FCGATE_PID"
	for _ in $(seq 1 50); do kill -0 "$FCGATE_PID" 2>/dev/null || break; sleep 0.1; done
	minimal_conf 'default_type = "text/plain"' \
		'default_type = "application/x-server"' \
		'default_type = "application/x-location"'
	start_fcgate "$T/min/fcgate.conf"
	[ "$(ctype b.unknownext)" = application/x-server ]
	[ "$(ctype special/d.unknownext)" = application/x-location ]
	[ "$(ctype special/e.png)" = image/png ]
}

@test "a mime.types beside the config is used; a named one that is missing is an error" {
	printf 'types {\n    application/x-mine unknownext;\n}\n' >"$T/min/mime.types"
	minimal_conf
	start_fcgate "$T/min/fcgate.conf"
	[ "$(ctype b.unknownext)" = application/x-mine ]
	# only what that file lists
	[ "$(ctype a.json)" = application/octet-stream ]
	rm "$T/min/mime.types"
	minimal_conf 'mime_types = "no-such.types"'
	run "$FCGATE" -t -c "$T/min/fcgate.conf"
	assert_failure 1
	assert_output --partial "$T/min/fcgate.conf:6: mime_types: cannot read $T/min/no-such.types: No such file or directory"
}

@test "a default_type that is not a content type is refused with its line" {
	minimal_conf '' 'default_type = ""'
	run "$FCGATE" -t -c "$T/min/fcgate.conf"
	assert_failure 1
	assert_output --regexp "$T/min/fcgate.conf:[0-9]+: default_type: '' is not a valid content type"
}
