#!/usr/bin/env bats
# balance = least_conn and balance = random_two: the pick rules (unit test
# program upstream_least_test), the configuration, and against real
# php-fpm pools: load seen across workers steers new requests.

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
	run "$BUILD/upstream_least_test"
	assert_success
	assert_output --regexp "(^|
)all [0-9]+ upstream_least checks passed\$"
	refute_output --partial "FAIL"
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
	assert_output --partial "$T/bad.conf:$line: upstream app: balance must be round_robin, ip_hash, least_conn or random_two, not 'leastconn'"
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
	{
		WORKERS=2 base_conf
		cat <<CONF
upstream app {
    balance = $1
    server 127.0.0.1:$PHP_PORT_a {}
    server 127.0.0.1:$PHP_PORT_b {}
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = "$T/html"
    location '~ \.php$' {
        fastcgi_pass = app
        include("$REPO/etc/fastcgi_params")
        fastcgi_param { SCRIPT_FILENAME = "\$document_root\$fastcgi_script_name" }
    }
}
CONF
	} >"$T/fcgate.conf"
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
