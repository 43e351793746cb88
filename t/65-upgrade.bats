#!/usr/bin/env bats
# USR2: a new binary takes over with the listening sockets (nginx's binary
# upgrade).  The pid file moves to .oldbin, QUIT to the old master finishes
# it, and no request fails on the way, keep-alive or not.  A new master
# that fails gives the pid file back.

load helper

setup() {
	fcg_setup
	echo "served" >"$T/html/index.html"
	{
		base_conf
		cat <<CONF
server {
    listen = {127.0.0.1:$HTTP_PORT, "unix:$T/http.sock"}
    root = "$T/html"
}
CONF
	} >"$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
}

teardown() {
	fcg_teardown
}

# keepalive_load N: N requests on one keep-alive connection; prints the
# status of each.
keepalive_load() {
	local i
	for i in $(seq 1 "$1"); do
		echo "url = \"$URL/?k=$i\""
		echo 'write-out = "%{http_code}\n"'
		echo 'output = /dev/null'
	done >"$T/urls"
	curl -sS -K "$T/urls"
}

# wait_new_master: until the pid file names a process other than OLD.
wait_new_master() {
	for _ in $(seq 1 100); do
		NEW="$(cat "$T/fcgate.pid" 2>/dev/null || true)"
		[ -n "$NEW" ] && [ "$NEW" != "$FCGATE_PID" ] && return 0
		sleep 0.05
	done
	return 1
}

@test "USR2 then QUIT under load: the new binary serves, no request fails" {
	start_fcgate "$T/fcgate.conf"
	wait_file "$T/fcgate.pid"
	python3 "$REPO/t/lib/load.py" "$HTTP_PORT" / 4 3 >"$T/load" &
	load=$!
	keepalive_load 400 >"$T/ka" &
	ka=$!
	sleep 0.7
	kill -USR2 "$FCGATE_PID"
	wait_new_master
	fcg_track "$NEW"
	[ "$(cat "$T/fcgate.pid.oldbin")" = "$FCGATE_PID" ]
	sleep 0.5
	kill -QUIT "$FCGATE_PID"
	for _ in $(seq 1 100); do
		kill -0 "$FCGATE_PID" 2>/dev/null || break
		sleep 0.1
	done
	run kill -0 "$FCGATE_PID"
	assert_failure
	wait "$load"
	wait "$ka"
	cat "$T/load"
	grep -q '^failed 0$' "$T/load"
	[ "$(awk '/^requests/ { print $2 }' "$T/load")" -gt 50 ]
	[ "$(grep -c '^200$' "$T/ka")" -eq 400 ]
	# the new master alone now, on both sockets
	[ "$(cat "$T/fcgate.pid")" = "$NEW" ]
	[ ! -e "$T/fcgate.pid.oldbin" ]
	run curl -sS "$URL/"
	assert_output served
	run curl -sS --unix-socket "$T/http.sock" http://x/
	assert_output served
	grep -q "using the inherited socket" "$T/error.log"
	kill -0 "$NEW"
}

@test "a new master that cannot start gives the pid file back" {
	start_fcgate "$T/fcgate.conf"
	wait_file "$T/fcgate.pid"
	echo 'bogus_option = 1' >>"$T/fcgate.conf"
	kill -USR2 "$FCGATE_PID"
	for _ in $(seq 1 100); do
		grep -q 'upgrade: .* is back' "$T/error.log" && break
		sleep 0.1
	done
	grep -q 'upgrade: the new master [0-9]* exited' "$T/error.log"
	[ "$(cat "$T/fcgate.pid")" = "$FCGATE_PID" ]
	[ ! -e "$T/fcgate.pid.oldbin" ]
	run curl -sS "$URL/"
	assert_output served
	run curl -sS --unix-socket "$T/http.sock" http://x/
	assert_output served
}
