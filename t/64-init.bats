#!/usr/bin/env bats
# etc/init.d/fcgate run for real (paths from a defaults file), and USR1
# reopening the logs as logrotate's postrotate does.

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
}
CONF
	} >"$T/fcgate.conf"
	printf 'DAEMON=%s\nCONF=%s\nSTOP_TIMEOUT=10\n' "$FCGATE" "$T/fcgate.conf" \
		>"$T/defaults"
	export FCGATE_DEFAULTS="$T/defaults"
	INIT="$REPO/etc/init.d/fcgate"
	URL="http://127.0.0.1:$HTTP_PORT"
}

teardown() {
	[ ! -f "$T/fcgate.pid" ] || fcg_track "$(cat "$T/fcgate.pid")"
	fcg_teardown
}

@test "init script: configtest, start, status, reload, restart, stop" {
	run sh "$INIT" configtest
	assert_success
	assert_output --partial "test is successful"
	run sh "$INIT" start
	assert_success
	assert_line --regexp '^fcgate started \(pid [0-9]+\)$'
	pid="$(cat "$T/fcgate.pid")"
	fcg_track "$pid"
	wait_port "$HTTP_PORT"
	run curl -sS "$URL/"
	assert_output hello
	# a real daemon: a session of its own, not our child
	[ "$(ps -o sid= -p "$pid" | tr -d ' ')" != "$(ps -o sid= -p $$ | tr -d ' ')" ]
	[ "$(ps -o ppid= -p "$pid" | tr -d ' ')" != "$$" ]
	run sh "$INIT" status
	assert_success
	assert_output "fcgate is running (pid $pid)"
	run sh "$INIT" start
	assert_output "fcgate is already running (pid $pid)"
	run sh "$INIT" reload
	assert_success
	sleep 0.5
	run "$FCGATECTL" -m "$T/fcgate.shm" status --json
	assert_output --partial '"generation":1'
	run sh "$INIT" restart
	assert_success
	newpid="$(cat "$T/fcgate.pid")"
	fcg_track "$newpid"
	[ "$newpid" != "$pid" ]
	wait_port "$HTTP_PORT"
	run curl -sS "$URL/"
	assert_output hello
	run sh "$INIT" stop
	assert_success
	assert_output "fcgate stopped"
	run sh "$INIT" status
	assert_failure 3
	[ ! -e "$T/fcgate.pid" ]
	! kill -0 "$newpid" 2>/dev/null
}

@test "init script: a broken configuration is refused before anything stops" {
	run sh "$INIT" start
	assert_success
	pid="$(cat "$T/fcgate.pid")"
	fcg_track "$pid"
	echo "max_falis = 3" >>"$T/fcgate.conf"
	run sh "$INIT" restart
	assert_failure
	assert_output --partial "fcgate.conf:"
	kill -0 "$pid"
	run sh "$INIT" reload
	assert_failure
}

@test "USR1 reopens the logs: after a rotation lines go to the new files" {
	run sh "$INIT" start
	assert_success
	pid="$(cat "$T/fcgate.pid")"
	fcg_track "$pid"
	wait_port "$HTTP_PORT"
	curl -sS -o /dev/null "$URL/?before"
	mv "$T/access.log" "$T/access.log.1"
	mv "$T/error.log" "$T/error.log.1"
	kill -USR1 "$pid"
	sleep 0.5
	curl -sS -o /dev/null "$URL/?after"
	sleep 0.2
	grep -q '?before' "$T/access.log.1"
	grep -q '?after' "$T/access.log"
	! grep -q '?after' "$T/access.log.1"
	grep -q 'reopening logs' "$T/error.log.1"
	[ -e "$T/error.log" ]
}

@test "make install puts binaries, config, init script, unit and logrotate in place" {
	run make -C "$REPO" install PREFIX=/usr DESTDIR="$T/root"
	assert_success
	for f in usr/sbin/fcgate usr/bin/fcgatectl etc/fcgate/fcgate.conf \
		etc/fcgate/fastcgi_params etc/fcgate/mime.types \
		etc/init.d/fcgate usr/lib/systemd/system/fcgate.service \
		etc/logrotate.d/fcgate usr/share/doc/fcgate/README.md; do
		[ -s "$T/root/$f" ] || { echo "missing $f"; false; }
	done
	[ -x "$T/root/etc/init.d/fcgate" ]
	sh -n "$T/root/etc/init.d/fcgate"
	grep -q '^DAEMON=/usr/sbin/fcgate$' "$T/root/etc/init.d/fcgate"
	grep -q '^ExecStart=/usr/sbin/fcgate -c /etc/fcgate/fcgate.conf$' \
		"$T/root/usr/lib/systemd/system/fcgate.service"
	! grep -q '@[A-Z]*@' "$T/root/etc/init.d/fcgate" \
		"$T/root/usr/lib/systemd/system/fcgate.service"
	# the installed configuration checks out with its installed files
	run "$T/root/usr/sbin/fcgate" -t -c "$T/root/etc/fcgate/fcgate.conf"
	assert_success
}
