#!/usr/bin/env bats
# fcgatectl roll: restart an upstream's php-fpm pools one at a time, each
# drained first, with no failed request.  Three real pools; the command
# reloads one (kill -USR2 its master) through a script that maps the
# {server} address to that pool's pid file.

load helper

setup() {
	fcg_setup
	# a few milliseconds of work, so requests are in flight when a
	# server is drained
	cat >"$T/html/who.php" <<'PHP'
<?php usleep(isset($_GET['sleep']) ? (int)$_GET['sleep'] : 5000);
echo "pool=", getenv('FCGATE_POOL'), "\n";
PHP
	: >"$T/map"
	local n
	for n in a b c; do
		start_pool "$n"
		eval "echo \"127.0.0.1:\$PHP_PORT_$n $n\"" >>"$T/map"
	done
	# reload.sh ADDRESS: USR2 to that pool's master, then wait (5 s at
	# most) until it says it is ready again.
	cat >"$T/reload.sh" <<SH
#!/bin/bash
name=\$(awk -v a="\$1" '\$1 == a { print \$2 }' "$T/map")
[ -n "\$name" ] || { echo "no pool for \$1" >&2; exit 4; }
log="$T/php-\$name.log"
before=\$(grep -c 'ready to handle connections' "\$log")
kill -USR2 "\$(cat "$T/php-\$name.pid")" || exit 5
for _ in \$(seq 1 100); do
	[ "\$(grep -c 'ready to handle connections' "\$log")" -gt "\$before" ] && exit 0
	sleep 0.05
done
echo "pool \$name did not come back" >&2
exit 6
SH
	chmod +x "$T/reload.sh"
	write_conf ""
	start_fcgate "$T/fcgate.conf"
}

# start_pool NAME: a php-fpm pool on a free port, answering php-fpm's
# ping at /ping; sets PHP_PORT_<NAME>.  (The pid and log files are
# where reload.sh looks.)
start_pool() {
	local port
	port="$(free_port)"
	cat >"$T/php-$1.conf" <<CONF
[global]
pid = $T/php-$1.pid
error_log = $T/php-$1.log
daemonize = no

[$1]
user = nobody
group = nogroup
listen = 127.0.0.1:$port
pm = static
pm.max_children = 4
ping.path = /ping
clear_env = no
env[FCGATE_POOL] = $1
CONF
	"$PHP_FPM" -F -y "$T/php-$1.conf" -p "$T" >>"$T/php-$1.out" 2>&1 &
	fcg_track $!
	wait_port "$port"
	eval "PHP_PORT_$1=$port"
}

# write_conf HEALTHLINE: fcgate.conf, upstream php of the three pools.
write_conf() {
	php_site_conf "$1
    server 127.0.0.1:$PHP_PORT_a {}
    server 127.0.0.1:$PHP_PORT_b {}
    server 127.0.0.1:$PHP_PORT_c {}" php
}

# use_checks: the upstream gets a health_check (a reload); returns once
# every server has passed one.
use_checks() {
	write_conf "    health_check { interval = 100ms  timeout = 1s  fails = 1  passes = 1 }"
	kill -HUP "$FCGATE_PID"
	for _ in $(seq 1 100); do
		[ "$(checked_up)" = "3" ] && return 0
		sleep 0.05
	done
	echo "the checks did not start" >&2
	return 1
}

# checked_up: how many servers have a check that passed.
checked_up() {
	ctl status --json 2>/dev/null | python3 -c '
import json, sys
ss = json.load(sys.stdin)["upstreams"][0]["servers"]
print(sum(1 for s in ss if s["check"] and s["check"]["state"] == "up"
          and s["check"]["checks"] > 0))'
}

teardown() { fcg_teardown; }

ctl() { "$FCGATECTL" -m "$T/fcgate.shm" "$@"; }

# ready COUNT: each pool's log says "ready" COUNT times.
ready_counts() {
	local n
	for n in a b c; do
		grep -c 'ready to handle connections' "$T/php-$n.log"
	done | tr '\n' ' '
}

# failures: the failures the gateway counted per server (a retry on the
# next server hides them from the client, not from these).
failures() {
	ctl status --json | python3 -c '
import json, sys
print(" ".join(str(s["failures"]) for s in json.load(sys.stdin)["upstreams"][0]["servers"]))'
}

# states: the STATE column of the three servers.
states() {
	ctl status --json | python3 -c '
import json, sys
print(" ".join(s["state"] for s in json.load(sys.stdin)["upstreams"][0]["servers"]))'
}

# Pins: under steady load, a roll reloads every pool once (each
# php-fpm says ready a second time), no request fails, none even had to
# be retried on another server, and every server is back up at the end.
# (Reloading the pools without the roll fails this: servers are marked
# failed.)
@test "roll over three pools under load: each reloaded, no failed request" {
	run ready_counts
	assert_output "1 1 1 "
	python3 "$REPO/t/lib/load.py" "$HTTP_PORT" /who.php 8 6 \
		>"$T/load.out" 2>&1 &
	local load=$!
	fcg_track "$load"
	sleep 1
	run ctl roll php --exec "$T/reload.sh {server}" --timeout 20s
	assert_success
	assert_output --partial "roll php: 127.0.0.1:$PHP_PORT_a drain after"
	assert_output --partial "roll php: 127.0.0.1:$PHP_PORT_c undrain after"
	wait "$load"
	run cat "$T/load.out"
	assert_line "failed 0"
	[ "$(sed -n 's/^requests //p' "$T/load.out")" -gt 100 ]
	run ready_counts
	assert_output "2 2 2 "
	run failures
	assert_output "0 0 0"
	run states
	assert_output "up up up"
}

# Pins: --json gives one object per step, the phases in order for each
# server; {server} is the address, shell-quoted; a down server is
# skipped and stays down, a drained one goes back to drain; draining the
# only server up is said on stderr (stdout stays JSON).
@test "roll --json: the steps; down skipped, states given back" {
	bats_require_minimum_version 1.5.0
	ctl set php "127.0.0.1:$PHP_PORT_b" down
	ctl set php "127.0.0.1:$PHP_PORT_c" drain
	run --separate-stderr ctl roll php --json \
		--exec "echo {server} >>'$T/seen'"
	assert_success
	[[ "$stderr" == *"roll php: 127.0.0.1:$PHP_PORT_a is the only server up: while it restarts its requests fail"* ]]
	echo "$output" | python3 -c '
import json, sys
steps = [json.loads(l) for l in sys.stdin]
got = [(s["server"].split(":")[1], s["phase"]) for s in steps]
a, b, c = sys.argv[1:4]
want = [(a, p) for p in ("drain", "idle", "exec", "healthy", "undrain")]
want += [(b, "skip")]
want += [(c, p) for p in ("drain", "idle", "exec", "healthy", "undrain")]
assert got == want, got
assert all(isinstance(s["elapsed_ms"], int) for s in steps)
' "$PHP_PORT_a" "$PHP_PORT_b" "$PHP_PORT_c"
	run cat "$T/seen"
	assert_output "127.0.0.1:$PHP_PORT_a
127.0.0.1:$PHP_PORT_c"
	run states
	assert_output "up down drain"
}

# Pins: a command that fails stops the roll at that server: non-zero
# exit, the server and the reason said, the server undrained, the next
# ones untouched.
@test "a failing command: stop, name the server, undrain it" {
	run ctl roll php --exec 'exit 3'
	assert_failure 1
	assert_output --partial "fcgatectl: roll php stopped at server 127.0.0.1:$PHP_PORT_a: the command exited with 3"
	refute_output --partial "127.0.0.1:$PHP_PORT_b"
	run states
	assert_output "up up up"
	run curl -sS "http://127.0.0.1:$HTTP_PORT/who.php"
	assert_success
}

# Pins: a server still busy when --timeout runs out is not restarted:
# the roll stops, says why, and gives it back.
@test "a server that does not drain in time" {
	curl -sS "http://127.0.0.1:$HTTP_PORT/who.php?sleep=4000000" \
		>/dev/null &
	local slow=$!
	fcg_track "$slow"
	for _ in $(seq 1 100); do
		ctl status --json | grep -q '"active":1' && break
		sleep 0.05
	done
	# the busy one is whichever round robin gave it: roll until it
	run ctl roll php --timeout 500ms --exec "echo {server} >>'$T/ran'"
	assert_failure 1
	assert_output --partial "requests still in flight after 500 ms"
	run states
	assert_output "up up up"
	wait "$slow" || true
}

# Pins: a server that does not come back (the command stops its pool)
# fails the roll after --timeout, undrained.
@test "a server that does not come back in time" {
	run ctl roll php --timeout 1s \
		--exec "kill -TERM \$(cat '$T/php-a.pid'); sleep 0.5"
	assert_failure 1
	assert_output --partial "stopped at server 127.0.0.1:$PHP_PORT_a: it does not accept connections after 1000 ms"
	run states
	assert_output "up up up"
}

# Pins: an unknown upstream and a bad command line are refused before
# anything changes.
@test "roll refuses an unknown upstream and bad arguments" {
	run ctl roll nope --exec true
	assert_failure 1
	assert_output "fcgatectl: no upstream nope"
	run ctl roll php
	assert_failure 2
	assert_output --partial "usage:"
	run ctl roll php --exec true --timeout soon
	assert_failure 2
	assert_output --partial "--timeout must be a time"
	run states
	assert_output "up up up"
}

# Pins: with a health check, healthy means a check passed after the
# command ended: under load each pool is reloaded, no request fails or
# is retried, every server is back up.
@test "roll with health checks under load: no failed request" {
	use_checks
	python3 "$REPO/t/lib/load.py" "$HTTP_PORT" /who.php 6 6 \
		>"$T/load.out" 2>&1 &
	local load=$!
	fcg_track "$load"
	sleep 0.5
	run ctl roll php --exec "$T/reload.sh {server}" --timeout 20s
	assert_success
	wait "$load"
	run cat "$T/load.out"
	assert_line "failed 0"
	run ready_counts
	assert_output "2 2 2 "
	run failures
	assert_output "0 0 0"
	run states
	assert_output "up up up"
}

# Pins: with a health check the roll waits for the check, not for a
# connect: a pool that comes back answering its ping wrongly (it accepts
# connections) stops the roll there, undrained, the next pools untouched.
@test "roll with health checks: a server whose check fails stops the roll" {
	use_checks
	sed -i 's|^ping.path = /ping|ping.path = /ping\nping.response = pang|' \
		"$T/php-a.conf"
	run ctl roll php --exec "$T/reload.sh {server}" --timeout 2s
	assert_failure 1
	assert_output --partial "fcgatectl: roll php stopped at server 127.0.0.1:$PHP_PORT_a: its health check has not passed after 2000 ms"
	run ready_counts
	assert_output "2 1 1 "
	run ctl status --json
	assert_output --partial '"state":"failed"'
	refute_output --partial '"state":"drain"'
}
