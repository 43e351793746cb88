#!/usr/bin/env bats
# The master: -t, workers, respawn, stop, exit statuses.

load helper

setup() {
	fcg_setup
	echo hi >"$T/html/index.html"
	{
		base_conf
		cat <<CONF
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = "$T/html"
}
CONF
	} >"$T/fcgate.conf"
}

teardown() {
	fcg_teardown
}

@test "fcgate -t accepts the sample configuration" {
	run "$FCGATE" -t -c "$REPO/etc/fcgate.conf"
	assert_success
	assert_output --partial "test is successful"
}

@test "usage errors exit 2, a bad config exits 1 with FILE:LINE" {
	run "$FCGATE" -x
	assert_failure 2
	printf 'workers = 1\nbogus_option = 3\n' >>"$T/fcgate.conf"
	run "$FCGATE" -t -c "$T/fcgate.conf"
	assert_failure 1
	assert_output --regexp "$T/fcgate.conf:[0-9]+: .*bogus_option"
}

@test "the master forks the configured workers and respawns a killed one" {
	start_fcgate "$T/fcgate.conf"
	wait_file "$T/fcgate.pid"
	sleep 0.3
	run pgrep -P "$FCGATE_PID"
	[ "${#lines[@]}" -eq 2 ]
	victim="${lines[0]}"
	kill -KILL "$victim"
	sleep 0.5
	run pgrep -P "$FCGATE_PID"
	[ "${#lines[@]}" -eq 2 ]
	refute_line "$victim"
	run curl -sS "http://127.0.0.1:$HTTP_PORT/"
	assert_output hi
	grep -q "exited on signal 9" "$T/error.log"
}

# Pins that workers do not outlive their master: killed (SIGKILL, a
# crash), it can neither stop them nor refresh their servers, and a new
# master could not bind while they hold the sockets.  They finish their
# requests and exit, and the port closes.
@test "a master killed with SIGKILL: its workers exit and the port closes" {
	start_fcgate "$T/fcgate.conf"
	wait_file "$T/fcgate.pid"
	sleep 0.3
	run pgrep -P "$FCGATE_PID"
	[ "${#lines[@]}" -eq 2 ]
	local workers=("${lines[@]}") pid left
	for pid in "${workers[@]}"; do fcg_track "$pid"; done
	kill -KILL "$FCGATE_PID"
	for _ in $(seq 1 100); do
		left=0
		for pid in "${workers[@]}"; do
			# gone, or a zombie nobody reaped yet
			if [ -e "/proc/$pid/stat" ] &&
			    [ "$(awk '{print $3}' "/proc/$pid/stat")" != Z ]; then
				left=$((left + 1))
			fi
		done
		[ "$left" -eq 0 ] && break
		sleep 0.1
	done
	[ "$left" -eq 0 ]
	run curl -sS -m 2 "http://127.0.0.1:$HTTP_PORT/"
	assert_failure
}

@test "TERM stops everything and removes the pid file; a port in use exits 3" {
	start_fcgate "$T/fcgate.conf"
	wait_file "$T/fcgate.pid"
	run "$FCGATE" -f -c "$T/fcgate.conf"
	assert_failure 3
	assert_output --partial "already running"
	kill -TERM "$FCGATE_PID"
	for i in $(seq 1 50); do kill -0 "$FCGATE_PID" 2>/dev/null || break; sleep 0.1; done
	run kill -0 "$FCGATE_PID"
	assert_failure
	[ ! -e "$T/fcgate.pid" ]
	python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
open(sys.argv[2], "w").close(); time.sleep(5)' "$HTTP_PORT" "$T/squatter" \
		2>"$T/squatter.err" &
	fcg_track $!
	wait_file "$T/squatter"
	run timeout 10 "$FCGATE" -f -c "$T/fcgate.conf"
	assert_failure 3
	assert_output --partial "Address already in use"
}

@test "fcgate without -f daemonizes and -s stop stops it" {
	run "$FCGATE" -c "$T/fcgate.conf"
	assert_success
	wait_file "$T/fcgate.pid"
	fcg_track "$(cat "$T/fcgate.pid")"
	wait_port "$HTTP_PORT"
	run curl -sS "http://127.0.0.1:$HTTP_PORT/"
	assert_output hi
	run "$FCGATE" -s stop -c "$T/fcgate.conf"
	assert_success
	for i in $(seq 1 50); do [ -e "$T/fcgate.pid" ] || break; sleep 0.1; done
	[ ! -e "$T/fcgate.pid" ]
}

@test "a daemonized start returns once the pid file is written, and fails with 3 if the master cannot start" {
	local i
	for i in 1 2 3 4 5; do
		run "$FCGATE" -c "$T/fcgate.conf"
		assert_success
		# no wait: the pid file is there when the command returns
		[ -s "$T/fcgate.pid" ] || fail "no pid file when fcgate returned"
		pid="$(cat "$T/fcgate.pid")"
		fcg_track "$pid"
		run "$FCGATE" -s stop -c "$T/fcgate.conf"
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	done
	# the pid file cannot be written, which is found after the fork
	sed "s|^pid_file = .*|pid_file = \"$T/no/such/dir/fcgate.pid\"|" \
		"$T/fcgate.conf" >"$T/bad.conf"
	run timeout 10 "$FCGATE" -c "$T/bad.conf"
	assert_failure 3
}

@test "start-up failures say why: missing log directory, unwritable pid file" {
	sed "s|^error_log = .*|error_log = \"$T/no/such/dir/error.log\"|" \
		"$T/fcgate.conf" >"$T/bad1.conf"
	run timeout 10 "$FCGATE" -f -c "$T/bad1.conf"
	assert_failure 3
	assert_output --partial "cannot open error log $T/no/such/dir/error.log: No such file or directory"
	sed "s|^pid_file = .*|pid_file = \"$T/no/such/dir/fcgate.pid\"|" \
		"$T/fcgate.conf" >"$T/bad2.conf"
	run timeout 10 "$FCGATE" -f -c "$T/bad2.conf"
	assert_failure 3
	assert_output --partial "cannot write pid file $T/no/such/dir/fcgate.pid"
	# and nothing is left listening
	! (exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT") 2>/dev/null
}
