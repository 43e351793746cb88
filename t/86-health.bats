#!/usr/bin/env bats
# Active health checks: the checker process the master runs, against real
# php-fpm pools (ping.path, a uri script, FCGI_GET_VALUES) and our test
# backend's broken answers; the verdicts in `fcgatectl status`, the
# slow_start ramp after a server comes back, the checker's supervision,
# and the health_check section's errors.

load helper

setup() {
	fcg_setup
	cat >"$T/html/hit.php" <<'PHP'
<?php
header('Content-Type: text/plain');
echo getenv('FCGATE_POOL'), "\n";
PHP
	# answers 500 while the flag file exists
	cat >"$T/html/health.php" <<'PHP'
<?php
if (file_exists(__DIR__ . '/sick'))
	http_response_code(500);
header('Content-Type: text/plain');
echo file_exists(__DIR__ . '/bored') ? "meh\n" : "ALL GOOD\n";
PHP
	chmod -R a+rX "$T"
}

teardown() {
	fcg_teardown
}

# start_ping_pool NAME PORT: a php-fpm pool answering ping.path /ping
# (php-fpm's default answer, "pong"); sets PHP_PID_<NAME>.
start_ping_pool() {
	cat >"$T/php-$1.conf" <<CONF
[global]
pid = $T/php-$1.pid
error_log = $T/php-$1.log
daemonize = no

[$1]
user = nobody
group = nogroup
listen = 127.0.0.1:$2
pm = static
pm.max_children = 2
ping.path = /ping
clear_env = no
env[FCGATE_POOL] = $1
CONF
	"$PHP_FPM" -F -y "$T/php-$1.conf" -p "$T" >>"$T/php-$1.out" 2>&1 &
	fcg_track $!
	eval "PHP_PID_$1=$!"
	wait_port "$2"
}

# stop_pool NAME PORT: stop it and wait until nothing listens there.
stop_pool() {
	local pid
	eval "pid=\$PHP_PID_$1"
	kill -TERM "$pid"
	wait "$pid" || true
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null || return 0
		sleep 0.05
	done
	echo "pool $1 still listens on $2" >&2
	return 1
}

status() {
	"$FCGATECTL" -m "$T/fcgate.shm" status "$@"
}

# wait_row UPSTREAM SERVER STATE-REGEX: until status shows that row
# (10 s at most).
wait_row() {
	for _ in $(seq 1 200); do
		status | grep -E "^$1 +$2 +$3" && return 0
		sleep 0.05
	done
	status >&2
	return 1
}

# wait_json REGEX: until status --json matches (10 s at most).
wait_json() {
	for _ in $(seq 1 200); do
		status --json | grep -E -q "$1" && return 0
		sleep 0.05
	done
	status --json >&2
	return 1
}

# php_conf UPSTREAM-BODY: fcgate in front of upstream `app` for *.php.
php_conf() { php_site_conf "$1"; }

# hits POOL N: of N requests, how many pool POOL answered (all must be 200).
hits() {
	local n=0 body
	for _ in $(seq 1 "$2"); do
		body="$(curl -sS -f "http://127.0.0.1:$HTTP_PORT/hit.php")" ||
			return 1
		[ "$body" = "$1" ] && n=$((n + 1))
	done
	echo "$n"
}

# requests UPSTREAM SERVER: the REQUESTS column of that row.
requests() {
	status --json | python3 -c '
import json, sys
up, addr = sys.argv[1], sys.argv[2]
for u in json.load(sys.stdin)["upstreams"]:
    for s in u["servers"]:
        if u["name"] == up and s["addr"] == addr:
            print(s["requests"])' "$1" "$2"
}

# A stopped pool is taken out by its fastcgi_ping check (php-fpm's
# ping.path): shown failed with the reason, and no request is sent to it
# (max_fails = 0: no passive accounting would keep it out).  Started
# again it comes back with slow_start: "up (slow start N%)" in status,
# and a share of requests that grows to its full weight.
@test "fastcgi_ping takes a stopped pool out and brings it back with slow start" {
	local p1 p2 before early late
	p1="$(free_port)"
	p2="$(free_port)"
	start_ping_pool one "$p1"
	start_ping_pool two "$p2"
	php_conf "    health_check { interval = 100ms  timeout = 1s }
    server 127.0.0.1:$p1 { max_fails = 0  slow_start = 6s }
    server 127.0.0.1:$p2 { max_fails = 0 }"
	start_fcgate "$T/fcgate.conf"
	wait_row app "127.0.0.1:$p1" 'up +'
	run hits one 10
	assert_success
	assert_output 5

	stop_pool one "$p1"
	wait_row app "127.0.0.1:$p1" \
	    'failed \(check: connect: Connection refused\)'
	# (the check that took it out may have met the pool shutting down)
	grep -E -q "server 127.0.0.1:$p1 in upstream app failed its health check: .+; taken out" \
	    "$T/error.log"
	before="$(requests app "127.0.0.1:$p1")"
	run hits two 20
	assert_success
	assert_output 20
	[ "$(requests app "127.0.0.1:$p1")" = "$before" ]

	start_ping_pool one "$p1"
	wait_row app "127.0.0.1:$p1" 'up \(slow start [0-9]+%\)'
	grep -q "server 127.0.0.1:$p1 in upstream app passed its health check: back, slow start over 6000 ms" \
	    "$T/error.log"
	early="$(hits one 20)"
	# the ramp is over once status says plain "up" again
	wait_row app "127.0.0.1:$p1" 'up +[0-9]'
	late="$(hits one 20)"
	echo "early $early late $late"
	[ "$late" = 10 ]
	[ "$early" -lt "$late" ]
}

# A server that also failed passively (max_fails within a long
# fail_timeout) is back as soon as its checks pass again: the check saw
# it answer, so the old passive failures no longer keep it out.
@test "passing checks clear passive failures: no wait for fail_timeout" {
	local p1 p2
	p1="$(free_port)"
	p2="$(free_port)"
	start_ping_pool one "$p1"
	start_ping_pool two "$p2"
	php_conf "    health_check { interval = 1s  timeout = 1s }
    server 127.0.0.1:$p1 { max_fails = 1  fail_timeout = 120s }
    server 127.0.0.1:$p2 { max_fails = 1  fail_timeout = 120s }"
	start_fcgate "$T/fcgate.conf"
	wait_row app "127.0.0.1:$p1" 'up +'
	stop_pool one "$p1"
	# two requests: one meets the stopped pool (a passive failure, the
	# request moving on to the other pool)
	hits two 2 >/dev/null
	status --json | grep -q "\"addr\":\"127.0.0.1:$p1\",[^}]*\"fails\":1,"
	wait_row app "127.0.0.1:$p1" 'failed \(check: '
	start_ping_pool one "$p1"
	wait_row app "127.0.0.1:$p1" 'up +'
	# well inside fail_timeout: it takes its share again (about half:
	# its effective weight climbs back from the failure, as nginx's)
	run hits one 10
	assert_success
	[ "$output" -ge 3 ]
}

# type = uri runs a real script: its status (500 while the flag file
# exists) and, with expect, its body decide; the server comes back when
# the script is healthy again.
@test "type = uri fails a server on status 500 and on a body without expect" {
	local p1
	p1="$(free_port)"
	start_ping_pool one "$p1"
	php_conf "    health_check { interval = 100ms  type = uri
                   uri = \"$T/html/health.php\"  expect = \"ALL GOOD\" }
    server 127.0.0.1:$p1 { }"
	start_fcgate "$T/fcgate.conf"
	# checks ran and passed: nothing failed yet
	wait_json '"state":"up","fails":0,"passes":1,"checks":[1-9][0-9]*,"failed":0,"reason":null'

	touch "$T/html/sick"
	wait_row app "127.0.0.1:$p1" 'failed \(check: status 500\)'
	run curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/hit.php"
	assert_output 502
	grep -q 'no live upstreams' "$T/error.log"

	rm "$T/html/sick"
	wait_row app "127.0.0.1:$p1" 'up +'
	touch "$T/html/bored"
	wait_row app "127.0.0.1:$p1" 'failed \(check: body does not match\)'
	rm "$T/html/bored"
	wait_row app "127.0.0.1:$p1" 'up +'
}

# FCGI_GET_VALUES against php-fpm: it answers the management record, so
# the check passes, again and again.
@test "fastcgi_get_values passes against php-fpm" {
	local p1
	p1="$(free_port)"
	start_ping_pool one "$p1"
	php_conf "    health_check { interval = 100ms  type = fastcgi_get_values }
    server 127.0.0.1:$p1 { }"
	start_fcgate "$T/fcgate.conf"
	wait_json '"checks":([3-9]|[1-9][0-9]+),'
	run status --json
	assert_output --regexp '"check":\{"state":"up","fails":0,"passes":1,"checks":([3-9]|[1-9][0-9]+),"failed":0,'
	run status
	assert_output --regexp "app +127.0.0.1:$p1 +up +"
}

# Broken answers are failed checks with their reason, never a crash: not
# FastCGI, a record cut short, an answer over the size a check reads, a
# backend slower than timeout.  A good answer from the same backend passes.
@test "garbage, a closed answer, a huge one and a slow one fail the check" {
	start_testd a
	{
		base_conf
		for m in garbage midrecord 'size&n=400000' 'slow&ms=3000' echo; do
			cat <<CONF
upstream u_${m%%&*} {
    health_check { interval = 100ms  timeout = 300ms  type = uri  uri = "/x.php?mode=$m" }
    server 127.0.0.1:$TESTD_PORT_a { }
}
CONF
		done
		cat <<CONF
server {
    listen = {127.0.0.1:$HTTP_PORT}
    location "/" { fastcgi_pass = u_echo }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	wait_row u_garbage "127.0.0.1:$TESTD_PORT_a" 'failed \(check: invalid answer\)'
	wait_row u_midrecord "127.0.0.1:$TESTD_PORT_a" \
	    'failed \(check: closed before the end of the answer\)'
	wait_row u_size "127.0.0.1:$TESTD_PORT_a" 'failed \(check: invalid answer\)'
	wait_row u_slow "127.0.0.1:$TESTD_PORT_a" 'failed \(check: timed out\)'
	wait_row u_echo "127.0.0.1:$TESTD_PORT_a" 'up +'
	# the checker that judged them is still the first one
	[ "$(grep -c 'start health checker process' "$T/error.log")" = 1 ]
	run grep -E 'health checker process [0-9]+ exited' "$T/error.log"
	assert_failure
}

# The checker is one process the master supervises: killed, it is
# started again and goes on checking; it stops with the master.
@test "a killed checker is restarted by the master and stops with it" {
	local p1 old new n1
	p1="$(free_port)"
	start_ping_pool one "$p1"
	php_conf "    health_check { interval = 100ms }
    server 127.0.0.1:$p1 { }"
	start_fcgate "$T/fcgate.conf"
	wait_row app "127.0.0.1:$p1" 'up +'
	old="$(sed -n 's/.*start health checker process \([0-9]*\).*/\1/p' "$T/error.log" | tail -1)"
	[ -n "$old" ]
	kill -KILL "$old"
	for _ in $(seq 1 100); do
		new="$(sed -n 's/.*start health checker process \([0-9]*\).*/\1/p' "$T/error.log" | tail -1)"
		[ "$new" != "$old" ] && break
		sleep 0.05
	done
	[ "$new" != "$old" ]
	grep -q "health checker process $old exited on signal 9" "$T/error.log"
	n1="$(status --json | sed -n 's/.*"checks":\([0-9]*\).*/\1/p')"
	for _ in $(seq 1 100); do
		[ "$(status --json | sed -n 's/.*"checks":\([0-9]*\).*/\1/p')" -gt "$n1" ] && break
		sleep 0.05
	done
	[ "$(status --json | sed -n 's/.*"checks":\([0-9]*\).*/\1/p')" -gt "$n1" ]
	kill -0 "$new"
	kill -TERM "$FCGATE_PID"
	wait "$FCGATE_PID"
	run kill -0 "$new"
	assert_failure
}

# A reload keeps the verdicts: a failed server stays failed in the new
# segment from its first moment, although the new config needs 5 failed
# checks in a row (a fresh verdict would start "up" and take 5 checks).
@test "reload keeps a failed verdict" {
	local p1 p2 dead
	p1="$(free_port)"
	dead="$(free_port)"
	start_ping_pool one "$p1"
	php_conf "    health_check { interval = 300ms  fails = 5 }
    server 127.0.0.1:$p1 { }
    server 127.0.0.1:$dead { }"
	start_fcgate "$T/fcgate.conf"
	wait_row app "127.0.0.1:$dead" 'failed \(check: connect: Connection refused\)'
	kill -HUP "$FCGATE_PID"
	for _ in $(seq 1 100); do
		status | grep -q 'generation 1' && break
		sleep 0.02
	done
	for _ in $(seq 1 10); do
		run status
		assert_output --partial 'generation 1'
		assert_output --regexp "app +127.0.0.1:$dead +failed \(check: connect: Connection refused\)"
		assert_output --regexp "app +127.0.0.1:$p1 +up +"
		sleep 0.05
	done
}

# Bad values are FILE:LINE errors; slow_start with ip_hash is a warning
# from -t (the configuration is still good) and is not used.
@test "health_check errors have FILE:LINE; slow_start with ip_hash warns" {
	{
		base_conf
		cat <<CONF
upstream a {
    health_check { interval = 0  fails = 0  passes = 1001  type = tcp }
    server 127.0.0.1:9 { }
}
upstream b {
    health_check { type = uri }
    server 127.0.0.1:9 { }
}
upstream c {
    health_check { type = fastcgi_get_values  expect = "pong" }
    health_check { }
    server 127.0.0.1:9 { }
}
upstream d {
    health_check { type = uri  uri = "relative.php" timeout = 0 }
    server 127.0.0.1:9 { }
}
server { listen = {127.0.0.1:$HTTP_PORT} location "/" { fastcgi_pass = a } }
CONF
	} >"$T/bad.conf"
	run "$FCGATE" -t -c "$T/bad.conf"
	assert_failure 1
	assert_output --partial "$T/bad.conf:10: health_check: interval must be at least 10ms"
	assert_output --partial "$T/bad.conf:10: health_check: fails must be between 1 and 1000, not 0"
	assert_output --partial "$T/bad.conf:10: health_check: passes must be between 1 and 1000, not 1001"
	assert_output --partial "$T/bad.conf:10: health_check: type must be fastcgi_ping, uri or fastcgi_get_values, not 'tcp'"
	assert_output --partial "$T/bad.conf:14: health_check: type = uri needs a uri"
	assert_output --partial "$T/bad.conf:18: health_check: type = fastcgi_get_values sends no uri and reads no body"
	assert_output --partial "$T/bad.conf:19: upstream c: only one health_check is allowed"
	assert_output --partial "$T/bad.conf:23: health_check: uri must be an absolute path"
	assert_output --partial "$T/bad.conf:23: health_check: timeout must be more than 0"

	{
		base_conf
		cat <<CONF
upstream a {
    balance = ip_hash
    server 127.0.0.1:9 { slow_start = 30s }
    server 127.0.0.1:10 { }
}
server { listen = {127.0.0.1:$HTTP_PORT} location "/" { fastcgi_pass = a } }
CONF
	} >"$T/warn.conf"
	run "$FCGATE" -t -c "$T/warn.conf"
	assert_success
	assert_output --partial "$T/warn.conf:11: warning: slow_start of server 127.0.0.1:9 is ignored with balance = ip_hash"
	assert_output --partial "test is successful"
}

# The probe's judging of answers fed in pieces of every size, and the
# requests it sends (t/unit/health_probe_test.c).
@test "health probe unit tests: expect at every split, status, garbage, bounds, GET_VALUES" {
	run "$BUILD/health_probe_test"
	assert_success
	assert_output --regexp "all [0-9]+ health_probe checks passed\$"
	refute_output --partial FAIL
}
