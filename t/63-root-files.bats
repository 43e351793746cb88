#!/usr/bin/env bats
# Files the master handles as root: the pid file's temporary, the logs it
# hands to the workers' user on USR1, the run-time directory it makes.
# None of them is reached through a symbolic link someone put there.

load helper

setup() {
	fcg_setup
	echo hi >"$T/html/index.html"
	{
		base_conf
		cat <<CONF
user = nobody
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = "$T/html"
}
CONF
	} >"$T/fcgate.conf"
	echo "precious" >"$T/victim"
	chmod 0600 "$T/victim"
}

teardown() {
	fcg_teardown
}

@test "a symbolic link at the pid file's temporary is not written through" {
	ln -s "$T/victim" "$T/fcgate.pid.tmp"
	start_fcgate "$T/fcgate.conf"
	wait_file "$T/fcgate.pid"
	[ "$(cat "$T/victim")" = precious ]
	[ "$(cat "$T/fcgate.pid")" = "$FCGATE_PID" ]
	[ ! -e "$T/fcgate.pid.tmp" ] && [ ! -L "$T/fcgate.pid.tmp" ]
	[ "$(stat -c %a "$T/fcgate.pid")" = 644 ]
	grep -q "removing the stale $T/fcgate.pid.tmp" "$T/error.log"
}

@test "USR1 does not hand a symbolic link's target to the workers' user" {
	[ "$(id -u)" = 0 ] || skip "needs root (the chown happens as root)"
	start_fcgate "$T/fcgate.conf"
	wait_file "$T/fcgate.pid"
	rm "$T/access.log"
	ln -s "$T/victim" "$T/access.log"
	kill -USR1 "$FCGATE_PID"
	for _ in $(seq 1 50); do
		grep -q "access.log is a symbolic link" "$T/error.log" && break
		sleep 0.1
	done
	grep -q "log $T/access.log is a symbolic link: not handed" "$T/error.log"
	[ "$(stat -c %U "$T/victim")" = root ]
	# a real file is still handed over
	rm "$T/access.log"
	kill -USR1 "$FCGATE_PID"
	for _ in $(seq 1 50); do
		[ "$(stat -c %U "$T/access.log" 2>/dev/null)" = nobody ] && break
		sleep 0.1
	done
	[ "$(stat -c %U "$T/access.log")" = nobody ]
	[ "$(stat -c %U "$T/victim")" = root ]
	run curl -sS "http://127.0.0.1:$HTTP_PORT/"
	assert_output hi
}

@test "the master makes a missing run-time directory, mode 0755" {
	sed -i -e "s|^pid_file = .*|pid_file = \"$T/run/fcgate.pid\"|" \
		-e "s|^shm_path = .*|shm_path = \"$T/run/fcgate.shm\"|" \
		"$T/fcgate.conf"
	(umask 077; start_fcgate "$T/fcgate.conf")
	wait_file "$T/run/fcgate.pid"
	[ "$(stat -c %a "$T/run")" = 755 ]
	[ "$(stat -c %u "$T/run")" = "$(id -u)" ]
	[ -e "$T/run/fcgate.shm" ]
	grep -q "created the directory $T/run" "$T/error.log"
}

@test "the installed sample configuration keeps its files in /run/fcgate and /var/log/fcgate" {
	grep -q '^pid_file *= */run/fcgate/fcgate.pid' "$REPO/etc/fcgate.conf"
	grep -q '^shm_path *= */run/fcgate/fcgate.shm' "$REPO/etc/fcgate.conf"
	grep -q '^error_log *= */var/log/fcgate/error.log' "$REPO/etc/fcgate.conf"
	grep -q '^access_log *= */var/log/fcgate/access.log' "$REPO/etc/fcgate.conf"
	! grep -q '/tmp' "$REPO/etc/fcgate.conf"
	run make -C "$REPO" install PREFIX=/usr DESTDIR="$T/root"
	assert_success
	[ "$(stat -c %a "$T/root/var/log/fcgate")" = 755 ]
	grep -q '^PIDFile=/run/fcgate/fcgate.pid$' \
		"$T/root/usr/lib/systemd/system/fcgate.service"
	grep -q '/run/fcgate/fcgate.pid' "$T/root/etc/logrotate.d/fcgate"
}
