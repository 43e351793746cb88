#!/usr/bin/env bats
# access_log = off and log_not_found = false in a server or location, as
# nginx's favicon.ico / robots.txt blocks use them.

load helper

setup() {
	fcg_setup
	echo "hello" >"$T/html/index.html"
	{
		base_conf
		cat <<CONF
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = "$T/html"
    location "= /favicon.ico" { access_log = off  log_not_found = false }
    location "/quiet/" {
        log_not_found = false
        location "/quiet/inner/" { }
    }
    location "/" { }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
}

teardown() {
	fcg_teardown
}

# The access log is written when a request ends; give it a moment.
settle() {
	curl -sS -o /dev/null "$URL/index.html"
	for _ in $(seq 1 50); do
		grep -q 'GET /index.html' "$T/access.log" 2>/dev/null && break
		sleep 0.1
	done
}

@test "access_log = off and log_not_found = false: a missing favicon leaves no line in either log" {
	# nginx: location = /favicon.ico { access_log off; log_not_found off; }
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/favicon.ico"
	assert_output 404
	settle
	run grep -c 'favicon' "$T/access.log"
	assert_output 0
	run grep -c 'favicon' "$T/error.log"
	assert_output 0
}

@test "without them a missing file is in both logs" {
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/missing.png"
	assert_output 404
	settle
	run grep -c 'GET /missing.png' "$T/access.log"
	assert_output 1
	run grep -c 'missing.png' "$T/error.log"
	assert_output 1
}

@test "log_not_found is inherited by a nested location; the access log still has it" {
	# nginx merges log_not_found into nested locations
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/quiet/inner/x.txt"
	assert_output 404
	settle
	run grep -c 'x.txt' "$T/error.log"
	assert_output 0
	run grep -c 'GET /quiet/inner/x.txt' "$T/access.log"
	assert_output 1
}

@test "access_log with a path in a location: FILE:LINE (one log file, set at the top)" {
	cat >"$T/bad.conf" <<CONF
pid_file = "$T/b.pid"
shm_path = "$T/b.shm"
error_log = "stderr"
server {
    listen = {127.0.0.1:1}
    location "/" {
        access_log = "/tmp/other.log"
    }
}
CONF
	run "$FCGATE" -t -c "$T/bad.conf"
	assert_failure
	assert_output --partial "bad.conf:6: access_log: a server or location takes only 'off'"
}
