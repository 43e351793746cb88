#!/usr/bin/env bats
# balance = least_conn and balance = random_two: the pick rules (unit test
# program upstream_least_test), the configuration, against real php-fpm
# pools (load seen across workers steers new requests), and side by side
# with nginx's own least_conn and random two least_conn.

load helper
bats_require_minimum_version 1.5.0

setup() {
	fcg_setup
}

teardown() {
	fcg_teardown
}

@test "least_conn, random_two pick rules: ties, weights, backups, failed, max_conns, drain, seeded draws" {
	# pins every rule of shared/upstream_least.c (see the program's tests)
	run_unit upstream_least_test upstream_least
}

@test "fcgate -t accepts least_conn and random_two, --explain names them, leastconn is refused with FILE:LINE" {
	# pins the parser's list of methods and its error's place
	for method in least_conn random_two; do
		{
			base_conf
			cat <<CONF
upstream app {
    balance = $method
    server 127.0.0.1:9001 {}
    server 127.0.0.1:9002 { weight = 3 }
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    location / { fastcgi_pass = app }
}
CONF
		} >"$T/ok.conf"
		run "$FCGATE" -t -c "$T/ok.conf"
		assert_success
		# --explain names the method it balanced with
		run --separate-stderr "$FCGATE" -c "$T/ok.conf" --explain "GET /x"
		assert_line --regexp "^backend   127\.0\.0\.1:900[12] of \"app\" \($method, 2 servers;"
	done
	# nothing in flight: every server ties, round robin takes the heaviest
	sed -i 's/balance = random_two/balance = least_conn/' "$T/ok.conf"
	run --separate-stderr "$FCGATE" -c "$T/ok.conf" --explain "GET /x"
	assert_line --regexp '^backend   127\.0\.0\.1:9002 of "app" \(least_conn,'
	sed 's/balance = least_conn/balance = leastconn/' "$T/ok.conf" >"$T/bad.conf"
	line="$(grep -n 'upstream app' "$T/bad.conf" | cut -d: -f1)"
	run "$FCGATE" -t -c "$T/bad.conf"
	assert_failure
	assert_output --partial "$T/bad.conf:$line: upstream app: balance must be round_robin, ip_hash, least_conn, random_two or hash, not 'leastconn'"
}

# Two php-fpm pools (4 children each) behind upstream "app" with balance
# $1, two fcgate workers; sleep.php holds a child for ?ms=N and answers
# with its pool's name.
pools_conf() {
	cat >"$T/html/sleep.php" <<'PHP'
<?php
usleep(1000 * (int)($_GET['ms'] ?? 0));
header('Content-Type: text/plain');
echo getenv('FCGATE_POOL'), "\n";
PHP
	start_php_pool a
	start_php_pool b
	php_site_conf "    balance = $1
    server 127.0.0.1:$PHP_PORT_a {}
    server 127.0.0.1:$PHP_PORT_b {}"
	start_fcgate "$T/fcgate.conf"
}

# busy_run: three 3 s requests held by one worker, all on pool a (b set
# down while they start), then ten short requests through the other
# worker; leaves the script's output in $output.
busy_run() {
	run timeout 60 python3 "$REPO/t/lib/busy_worker.py" "$HTTP_PORT" \
		"$FCGATECTL" "$T/fcgate.shm" app "127.0.0.1:$PHP_PORT_b" 3 10 \
		"/sleep.php?ms=3000" "/sleep.php?ms=0"
	assert_success
	# the premise: the long ones were on a and still running throughout
	assert_line "inflight 3"
	assert_line "long a a a"
}

@test "least_conn: short requests through another worker avoid the pool busy with long ones" {
	# pins that the in-flight counts are every worker's: the worker taking
	# the short requests holds none of the long ones
	pools_conf least_conn
	busy_run
	assert_line "short b b b b b b b b b b"
	run "$FCGATECTL" -m "$T/fcgate.shm" status --json
	assert_output --partial '"balance":"least_conn"'
	# pool b's own count: the ten short requests, fcgatectl per server
	python3 - "$output" "$PHP_PORT_a" "$PHP_PORT_b" <<'PY'
import json, sys
up = json.loads(sys.argv[1])["upstreams"][0]
req = {s["addr"]: s["requests"] for s in up["servers"]}
assert req["127.0.0.1:" + sys.argv[2]] == 3, req
assert req["127.0.0.1:" + sys.argv[3]] == 10, req
PY
}

@test "round robin on the same setup spreads the short requests evenly, busy pool included" {
	# the contrast: without least_conn the same run sends half to pool a,
	# so the test above can fail
	pools_conf round_robin
	busy_run
	shorts="$(sed -n 's/^short //p' <<<"$output")"
	n_a="$(tr ' ' '\n' <<<"$shorts" | grep -c '^a$')"
	[ "$n_a" -ge 4 ] && [ "$n_a" -le 6 ]
}

@test "random_two: the less loaded of the two draws, so the busy pool is passed over" {
	# pins random_two's comparison on the shared counts
	pools_conf random_two
	busy_run
	assert_line "short b b b b b b b b b b"
	run "$FCGATECTL" -m "$T/fcgate.shm" status --json
	assert_output --partial '"balance":"random_two"'
}

# Three test backends a b c (weights $1 $2 $3) behind nginx with upstream
# method $4 (worker_processes 1, so its per-worker counts are all the
# counts) and behind fcgate with balance $5 (one worker); sets NGX_URL and
# URL.
nginx_and_fcgate() {
	local np
	start_testd a
	start_testd b
	start_testd c
	np="$(free_port)"
	start_nginx "    upstream lc {
        $4;
        server 127.0.0.1:$TESTD_PORT_a weight=$1;
        server 127.0.0.1:$TESTD_PORT_b weight=$2;
        server 127.0.0.1:$TESTD_PORT_c weight=$3;
    }
    server {
        listen 127.0.0.1:$np;
        location / { include /etc/nginx/fastcgi_params; fastcgi_pass lc; }
    }" "$np"
	NGX_URL="http://127.0.0.1:$np"
	{
		WORKERS=1 base_conf
		cat <<CONF
upstream lc {
    balance = $5
    server 127.0.0.1:$TESTD_PORT_a { weight = $1 }
    server 127.0.0.1:$TESTD_PORT_b { weight = $2 }
    server 127.0.0.1:$TESTD_PORT_c { weight = $3 }
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    location / {
        fastcgi_pass = lc
        include("$REPO/etc/fastcgi_params")
    }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
}

# answers BASE N: N requests one after the other on one connection; the
# backend of each, on one line.
answers() {
	local i
	for i in $(seq 1 "$2"); do
		echo "url = \"$1/x.php?mode=echo&i=$i\""
	done >"$T/urls"
	curl -sS -K "$T/urls" | sed -n 's/^backend=//p' | tr '\n' ' '
}

# all_conns: connections the test backends accepted so far, together.
all_conns() {
	cat "$T"/testd-*.log | grep -c '^conn '
}

# sequence_with_busy BASE: 8 requests while a 3 s request holds one
# server (it has reached its backend: one more connection), then that
# request's backend.
sequence_with_busy() {
	local before pid
	before="$(all_conns)"
	curl -sS -m 20 -o "$T/long.out" "$1/x.php?mode=slow&ms=3000" &
	pid=$!
	for _ in $(seq 1 100); do
		[ "$(all_conns)" -gt "$before" ] && break
		sleep 0.03
	done
	answers "$1" 8
	wait "$pid"
	sed -n 's/^backend=//p' "$T/long.out" >"$T/long"
	echo "| $(cat "$T/long")"
}

@test "least_conn chooses as nginx's least_conn: the idle sequence, and round robin among the tied while one is busy" {
	[ -x /usr/sbin/nginx ] || skip "nginx is not installed"
	# pins the tie-break (smooth weighted round robin over the tied
	# servers only, earlier first) against nginx itself
	nginx_and_fcgate 3 1 1 least_conn least_conn
	ngx="$(answers "$NGX_URL" 10)"
	[ "$ngx" = "a b a c a a b a c a " ]
	[ "$(answers "$URL" 10)" = "$ngx" ]
	ngx="$(sequence_with_busy "$NGX_URL")"
	[ "$(sequence_with_busy "$URL")" = "$ngx" ]
	[ "$ngx" = "b c b c b c b c | a" ]
}

@test "random_two shares idle servers as nginx's random two least_conn: by the pairs drawn, not the weights" {
	[ -x /usr/sbin/nginx ] || skip "nginx is not installed"
	# all idle, the second of two weighted draws wins: for weights 1,2,7
	# about .26 .49 .25 (by weight it would be .1 .2 .7)
	nginx_and_fcgate 1 2 7 "random two least_conn" random_two
	for base in "$NGX_URL" "$URL"; do
		answers "$base" 3000 | tr ' ' '\n' | sort | uniq -c >"$T/shares"
		python3 - "$T/shares" <<'PY'
import sys
got = {l.split()[1]: int(l.split()[0]) / 3000 for l in open(sys.argv[1])}
want = {"a": 0.2583, "b": 0.4889, "c": 0.2528}
for k in want:
    assert abs(got.get(k, 0) - want[k]) < 0.04, (got, want)
PY
	done
}
