#!/usr/bin/env bats
# Active health checks of servers found in DNS: real php-fpm pools on
# 127.0.0.2 and 127.0.0.3, found through dnsmasq's A records, checked
# with type = uri (a script that answers its pool's name).  The checker
# checks each found record at the address it holds and starts afresh
# when the record is given another address.

load helper

setup() {
	fcg_setup
	[ -x /usr/sbin/dnsmasq ] || skip "dnsmasq (dnsmasq-base) is not installed"
	DNS_PORT="$(free_dns_port)"
	BPORT="$(free_port)"
	cat >"$T/html/hit.php" <<'PHP'
<?php
header('Content-Type: text/plain');
echo getenv('FCGATE_POOL'), "\n";
PHP
	chmod -R a+rX "$T"
}

teardown() {
	fcg_teardown
}

# pool NAME ADDR: a php-fpm pool NAME on ADDR:$BPORT; sets POOL_PID_<NAME>.
pool() {
	start_php_pool "$1" "$2:$BPORT"
	eval "POOL_PID_$1=$(tail -n 1 "$T/pids")"
}

# stop_pool NAME ADDR: stop it and wait until nothing listens there.
stop_pool() {
	local pid
	eval "pid=\$POOL_PID_$1"
	kill -TERM "$pid"
	wait "$pid" || true
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/$2/$BPORT") 2>/dev/null || return 0
		sleep 0.05
	done
	echo "pool $1 still listens on $2:$BPORT" >&2
	return 1
}

# conf_found BODY-OF-UPSTREAM: upstream u with that body, for *.php, the
# resolver dnsmasq.  Every server line has max_fails = 0: no passive
# accounting takes a server out, only its checks do.
conf_found() {
	{
		base_conf
		cat <<CONF
resolver = {"127.0.0.1:$DNS_PORT"}
upstream u {
    health_check { interval = 500ms  timeout = 1s  fails = 1  passes = 1
                   type = uri  uri = "$T/html/hit.php" }
$1
}
server {
    listen = {"127.0.0.1:$HTTP_PORT"}
    root = "$T/html"
    location '~ \.php\$' {
        fastcgi_pass = u
        include("$REPO/etc/fastcgi_params")
        fastcgi_param { SCRIPT_FILENAME = "\$document_root\$fastcgi_script_name" }
    }
}
CONF
	} >"$T/c.conf"
}

status() {
	"$FCGATECTL" -c "$T/c.conf" status "$@"
}

# wait_row ADDR STATE-REGEX: until status shows server ADDR:$BPORT of u
# (found in php.test) in that state (10 s at most).
wait_row() {
	for _ in $(seq 1 200); do
		status | grep -E "^u +${1//./\\.}:$BPORT \(php\.test A\) +$2" && return 0
		sleep 0.05
	done
	status >&2
	return 1
}

# pools N: the pools that answered N requests, one a line; fails on any
# answer but 200.
pools() {
	for _ in $(seq 1 "$1"); do
		curl -sS -f "http://127.0.0.1:$HTTP_PORT/hit.php" || return 1
	done
}

# Pins the checks of a found record at the address it holds: a stopped
# pool is shown failed with its reason and logged by its found address,
# no request goes to it once the verdict is in, and started again it is
# back.  Without checks of found servers it is never shown failed (the
# first wait_row times out), and with max_fails = 0 requests would still
# be sent to it.
@test "a found server's check takes a stopped pool out and brings it back" {
	pool one 127.0.0.2
	pool two 127.0.0.3
	hosts "127.0.0.2 php.test" "127.0.0.3 php.test"
	start_dnsmasq
	conf_found "    server \"php.test:$BPORT\" { resolve = true  max_fails = 0 }"
	start_fcgate "$T/c.conf"
	wait_row 127.0.0.2 'up +'
	wait_row 127.0.0.3 'up +'
	run pools 10
	assert_success
	assert_equal "$(echo "$output" | sort | uniq -c | awk '{print $1 $2}' | tr '\n' ' ')" "5one 5two "

	stop_pool one 127.0.0.2
	wait_row 127.0.0.2 'failed \(check: '
	grep -E -q "server 127.0.0.2:$BPORT in upstream u failed its health check: .+; taken out" \
	    "$T/error.log"
	run pools 20
	assert_success
	assert_equal "$(echo "$output" | sort | uniq -c | awk '{print $1 $2}' | tr '\n' ' ')" "20two "
	wait_row 127.0.0.3 'up +'

	pool one 127.0.0.2
	wait_row 127.0.0.2 'up +'
	grep -q "server 127.0.0.2:$BPORT in upstream u passed its health check: back" \
	    "$T/error.log"
	run pools 10
	assert_success
	assert_equal "$(echo "$output" | sort | uniq -c | awk '{print $1 $2}' | tr '\n' ' ')" "5one 5two "
}

# Pins the fresh start of a reused record: with max_servers = 1 the one
# record holds 127.0.0.2 (no pool there: failed), then DNS gives
# 127.0.0.3 instead; the record drains, empties and takes the new
# address, which must not inherit the old address's FAILED verdict: it
# is up at once, serves every request, and the checker logs no
# transition for it (an inherited verdict would be logged coming
# "back").  Checked by removing the fresh start from the checker: the
# grep for transitions of 127.0.0.3 then finds one.
@test "a record reused for another address starts unfailed" {
	pool two 127.0.0.3
	hosts "127.0.0.2 php.test"
	start_dnsmasq
	conf_found "    max_servers = 1
    server \"php.test:$BPORT\" { resolve = true  max_fails = 0 }"
	start_fcgate "$T/c.conf"
	wait_row 127.0.0.2 'failed \(check: connect: Connection refused\)'
	grep -q "server 127.0.0.2:$BPORT in upstream u failed its health check: connect: Connection refused; taken out" \
	    "$T/error.log"

	hosts "127.0.0.3 php.test"
	wait_row 127.0.0.3 'up +'
	run status
	refute_output --partial "127.0.0.2:$BPORT"
	run pools 5
	assert_success
	assert_equal "$(echo "$output" | sort | uniq -c | awk '{print $1 $2}' | tr '\n' ' ')" "5two "
	# a few more checks of the new address
	sleep 1.5
	wait_row 127.0.0.3 'up +'
	run grep -c "127.0.0.3:$BPORT in upstream u" "$T/error.log"
	assert_output 0
}

# Pins a found server's verdict across a reload: the new generation's
# record holds the same address, so it stays failed and the checker logs
# no new transition for it (fails = 5 at 300 ms: a verdict lost at the
# reload would show "up" for more than a second, and be logged taken out
# a second time).  Checked by starting the new segment's found records
# unchecked (SHM_CHECK_OFF): status then shows it up after the
# reload.
@test "a reload keeps a found server's failed verdict" {
	pool two 127.0.0.3
	hosts "127.0.0.2 php.test" "127.0.0.3 php.test"
	start_dnsmasq
	conf_found "    server \"php.test:$BPORT\" { resolve = true  max_fails = 0 }"
	sed -i 's/fails = 1  passes = 1/fails = 5  passes = 1/; s/interval = 500ms/interval = 300ms/' "$T/c.conf"
	start_fcgate "$T/c.conf"
	wait_row 127.0.0.2 'failed \(check: connect: Connection refused\)'
	kill -HUP "$FCGATE_PID"
	for _ in $(seq 1 100); do
		status | grep -q 'generation 1' && break
		sleep 0.02
	done
	wait_row 127.0.0.3 'up +'
	for _ in $(seq 1 10); do
		run status
		assert_output --partial 'generation 1'
		assert_output --regexp "127\.0\.0\.2:$BPORT \(php\.test A\) +failed \(check: connect: Connection refused\)"
		sleep 0.05
	done
	run pools 5
	assert_success
	assert_equal "$(echo "$output" | sort | uniq -c | awk '{print $1 $2}' | tr '\n' ' ')" "5two "
	run grep -c "server 127.0.0.2:$BPORT in upstream u failed its health check" "$T/error.log"
	assert_output 1
}
