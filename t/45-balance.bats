#!/usr/bin/env bats
# Upstream balancing against several real backends (fcgi_testd): nginx's
# smooth weighted round robin sequence, the ip_hash mapping checked against
# an independent implementation (t/lib/ip_hash.py), down, backup with round
# robin and ip_hash, max_fails / fail_timeout shared by every worker, retries,
# max_conns, and fcgatectl set on live traffic.

load helper

setup() {
	fcg_setup
	start_testd a -x "$T/a.fail"
	start_testd b -x "$T/b.fail"
	start_testd c -x "$T/c.fail"
	start_testd spare
}

teardown() {
	fcg_teardown
}

# balance_conf 'UPSTREAM BODY' ['LOCATION EXTRA']: upstream "app" and a
# location for *.php that passes to it; starts fcgate; sets URL.
balance_conf() {
	{
		base_conf
		cat <<CONF
upstream app {
$1
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = "$T/html"
    location '~ \.php$' {
        fastcgi_pass = app
        fastcgi_read_timeout = 2s
        include("$REPO/etc/fastcgi_params")
        ${2:-}
    }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
}

# backends N [curl options]: N sequential requests on one keep-alive
# connection; prints the answering backend of each, one per line.
backends() {
	local n="$1" i
	shift
	for i in $(seq 1 "$n"); do
		echo "url = \"$URL/x.php?mode=echo&i=$i\""
	done >"$T/urls"
	curl -sS "$@" -K "$T/urls" | sed -n 's/^backend=//p'
}

# One request from source address $1: the backend that answered.
backend_from() {
	curl -sS --interface "$1" "$URL/x.php?mode=echo" |
		sed -n 's/^backend=//p'
}

srv() { echo "server 127.0.0.1:$(eval echo "\$TESTD_PORT_$1") { ${2:-} }"; }

@test "round robin: weights 3,1,1 give nginx's sequence a b a c a, twice" {
	WORKERS=1 balance_conf "$(srv a 'weight = 3'; srv b; srv c)"
	run backends 10
	assert_success
	[ "$(echo $output)" = "a b a c a a b a c a" ]
	run backends 500
	echo "# round robin, weights a=3 b=1 c=1, 500 requests:" \
		"$(echo "$output" | sort | uniq -c | tr -s ' ' | tr '\n' ' ')" >&3
	[ "$(echo "$output" | grep -c '^a$')" -eq 300 ]
}

@test "round robin: weights 5,1 over 600 requests on many connections: 500/100" {
	balance_conf "$(srv a 'weight = 5'; srv b)"
	# Connection: close: a new connection, maybe another worker, each time
	backends 600 -H 'Connection: close' | sort | uniq -c >"$T/dist"
	run cat "$T/dist"
	assert_line --regexp '^ *500 a$'
	assert_line --regexp '^ *100 b$'
}

@test "ip_hash: 256 client /24s land where nginx's hash puts them; .1 and .200 share a server" {
	balance_conf "balance = ip_hash
$(srv a 'weight = 3'; srv b; srv c)"
	addrs=""
	for x in $(seq 0 255); do addrs="$addrs 127.0.$x.1 127.0.$x.200"; done
	python3 "$REPO/t/lib/ip_hash.py" 3,1,1 - $addrs | tr ' ' '\t' >"$T/want"
	python3 "$REPO/t/lib/from_addrs.py" "$HTTP_PORT" "/x.php?mode=echo" $addrs \
		>"$T/got"
	paste "$T/want" "$T/got" | awk -F'\t' '
		BEGIN { n[0] = "a"; n[1] = "b"; n[2] = "c" }
		$1 != $3 { print "out of step: " $1 " / " $3; bad = 1 }
		$4 != n[$2] { print $1 ": got " $4 ", nginx says " n[$2]; bad = 1 }
		/\.1\t/ { first = $4 }
		/\.200\t/ && $4 != first { print $1 ": got " $4 ", its .1 " first; bad = 1 }
		END { exit bad }'
	[ "$(wc -l <"$T/got")" -eq 512 ]
	# every server got clients; the table goes to the test's output
	grep '\.1	' "$T/got" | cut -f2 | sort | uniq -c >"$T/dist"
	[ "$(wc -l <"$T/dist")" -eq 3 ]
	echo "# ip_hash, weights a=3 b=1 c=1, 256 client /24s:" \
		"$(tr -s ' ' <"$T/dist" | tr '\n' ' ')" >&3
}

@test "ip_hash: a down server keeps its slot; only its clients move" {
	addrs=""
	for x in $(seq 1 40); do addrs="$addrs 127.0.$x.1"; done
	python3 "$REPO/t/lib/ip_hash.py" 1,1,1 - $addrs >"$T/up"
	python3 "$REPO/t/lib/ip_hash.py" 1,1,1 0,1,0 $addrs >"$T/down"
	balance_conf "balance = ip_hash
$(srv a; srv b 'down = true'; srv c)"
	python3 "$REPO/t/lib/from_addrs.py" "$HTTP_PORT" "/x.php?mode=echo" $addrs \
		>"$T/got"
	names=(a b c)
	moved=0
	while read -r addr idx; do
		before="$(grep "^$addr " "$T/up" | cut -d' ' -f2)"
		got="$(awk -F'\t' -v a="$addr" '$1 == a { print $2 }' "$T/got")"
		[ "$got" = "${names[$idx]}" ] ||
			{ echo "$addr: got '$got', expected ${names[$idx]}"; false; }
		[ "$got" != b ]
		if [ "$before" != 1 ]; then
			[ "$idx" = "$before" ] ||
				{ echo "$addr moved although it was not on b"; false; }
		else
			moved=$((moved + 1))
		fi
	done <"$T/down"
	[ "$moved" -gt 0 ]
	[ "$(conns b)" -eq 0 ]
}

@test "backup with round robin: idle while a primary lives, serves when all are gone" {
	dead1="$(free_port)"
	balance_conf "$(srv a; echo "server 127.0.0.1:$dead1 {}"; srv spare 'backup = true')"
	run backends 6
	[ "$(echo $output)" = "a a a a a a" ]
	[ "$(conns spare)" -eq 0 ]
	kill -TERM "$(cat "$T/testd-a.pid")"
	for _ in $(seq 1 50); do kill -0 "$(cat "$T/testd-a.pid")" 2>/dev/null || break; sleep 0.1; done
	run backends 4
	[ "$(echo $output)" = "spare spare spare spare" ]
}

@test "backup with ip_hash (nginx refuses it): used only when no primary is usable" {
	balance_conf "balance = ip_hash
$(srv a; srv b; srv spare 'backup = true')"
	for x in 1 2 3 4 5 6; do
		got="$(backend_from 127.0.$x.1)"
		[ "$got" = a ] || [ "$got" = b ]
	done
	[ "$(conns spare)" -eq 0 ]
	touch "$T/a.fail" "$T/b.fail"
	for x in 1 2 3 4 5 6; do
		run backend_from 127.0.$x.1
		assert_output spare
	done
	grep -q "upstream prematurely closed\|Connection reset" "$T/error.log"
}

@test "a killed backend costs no failed GET: requests are retried on the others" {
	balance_conf "$(srv a; srv b; srv c)"
	kill -KILL "$(cat "$T/testd-b.pid")"
	for i in $(seq 1 60); do
		curl -sS -o /dev/null -w '%{http_code}\n' "$URL/x.php?mode=echo"
	done >"$T/codes"
	run sort -u "$T/codes"
	assert_output 200
	grep -q 'connect() to upstream failed (111: Connection refused)' "$T/error.log"
	# the failure took b out: one refused attempt in the window, not 20
	[ "$(grep -c 'Connection refused' "$T/error.log")" -eq 1 ]
}

@test "a POST that reached a backend is not repeated; a GET is" {
	balance_conf "$(srv a; srv b; srv c)" "fastcgi_next_upstream = {error, timeout}"
	run curl -sS -o /dev/null -w '%{http_code}' -d 'x=1' "$URL/x.php?mode=die"
	assert_output 502
	[ "$(grep -c 'prematurely closed' "$T/error.log")" -eq 1 ]
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/x.php?mode=die"
	assert_output 502
	[ "$(grep -c 'prematurely closed' "$T/error.log")" -eq 3 ]
}

@test "fastcgi_next_upstream_tries and 'off' bound the retries" {
	balance_conf "$(srv a; srv b; srv c)" "fastcgi_next_upstream_tries = 2"
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/x.php?mode=die"
	assert_output 502
	[ "$(grep -c 'prematurely closed' "$T/error.log")" -eq 2 ]
}

@test "max_fails/fail_timeout: one failure takes a server out for every worker, even new ones; one trial after the window" {
	touch "$T/b.fail"
	balance_conf "$(srv a; srv b 'max_fails = 1
fail_timeout = 3s'; srv c)"
	# the first pass over b fails and is retried elsewhere
	for i in $(seq 1 3); do
		curl -sS -o /dev/null -w '%{http_code}\n' "$URL/x.php?mode=echo"
	done >"$T/codes"
	[ "$(conns b)" -eq 1 ]
	run "$FCGATECTL" -m "$T/fcgate.shm" status
	assert_output --regexp "127.0.0.1:$TESTD_PORT_b +failed "
	# The failure lives in the segment, not in a worker: replace every
	# worker by a fresh process (kill them; the master forks new ones)
	# and none of the new ones tries b inside the window either.
	old="$("$FCGATECTL" -m "$T/fcgate.shm" workers --json |
		python3 -c 'import json,sys; print(" ".join(str(w["pid"]) for w in json.load(sys.stdin)["workers"]))')"
	[ -n "$old" ]
	kill -KILL $old
	for _ in $(seq 1 100); do
		new="$("$FCGATECTL" -m "$T/fcgate.shm" workers --json |
			python3 -c 'import json,sys
ws = [w for w in json.load(sys.stdin)["workers"] if w["state"] == "running"]
print(" ".join(str(w["pid"]) for w in ws))')"
		[ "$(echo $new | wc -w)" -eq 2 ] && [ "$new" != "$old" ] && break
		sleep 0.05
	done
	for p in $new; do [[ " $old " != *" $p "* ]]; done
	seq 1 40 | xargs -P 10 -I{} curl -sS -o /dev/null -w '%{http_code}\n' \
		"$URL/x.php?mode=slow&ms=50&i={}" >>"$T/codes"
	[ "$(conns b)" -eq 1 ]
	run sort -u "$T/codes"
	assert_output 200
	# after the window: exactly one trial request goes to b; it fails
	# again and b is out for another window
	sleep 3.2
	for i in $(seq 1 6); do
		curl -sS -o /dev/null "$URL/x.php?mode=echo"
	done
	[ "$(conns b)" -eq 2 ]
	# b recovers: after the next window its trial succeeds and it is back
	rm "$T/b.fail"
	sleep 3.2
	run backends 9
	[ "$(echo "$output" | grep -c '^b$')" -ge 2 ]
	run "$FCGATECTL" -m "$T/fcgate.shm" status
	assert_output --regexp "127.0.0.1:$TESTD_PORT_b +up "
}

@test "max_fails = 0 never takes a server out" {
	touch "$T/b.fail"
	balance_conf "$(srv a; srv b 'max_fails = 0')"
	for i in $(seq 1 6); do
		curl -sS -o /dev/null -w '%{http_code}\n' "$URL/x.php?mode=echo"
	done >"$T/codes"
	run sort -u "$T/codes"
	assert_output 200
	[ "$(conns b)" -ge 3 ]
}

@test "max_conns counts requests in flight across all workers" {
	balance_conf "$(srv a 'max_conns = 1'; srv b)"
	seq 1 6 | xargs -P 6 -I{} curl -sS "$URL/x.php?mode=slow&ms=700&i={}" |
		sed -n 's/^backend=//p' | sort | uniq -c >"$T/dist"
	run cat "$T/dist"
	assert_line --regexp '^ *1 a$'
	assert_line --regexp '^ *5 b$'
}

@test "all servers unavailable: 502 and 'no live upstreams'" {
	touch "$T/a.fail" "$T/b.fail"
	balance_conf "$(srv a; srv b)"
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/x.php?mode=echo"
	assert_output 502
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/x.php?mode=echo"
	assert_output 502
	grep -q 'no live upstreams' "$T/error.log"
}

@test "fcgatectl set on live traffic: down, weight, drain, up" {
	WORKERS=1 balance_conf "$(srv a; srv b; srv c)"
	run "$FCGATECTL" -m "$T/fcgate.shm" set app "127.0.0.1:$TESTD_PORT_b" down
	assert_success
	run backends 6
	[ "$(echo $output)" = "a c a c a c" ]
	run "$FCGATECTL" -m "$T/fcgate.shm" set app "127.0.0.1:$TESTD_PORT_b" up
	assert_success
	run "$FCGATECTL" -m "$T/fcgate.shm" set app "127.0.0.1:$TESTD_PORT_a" weight 4
	assert_success
	run backends 60
	[ "$(echo "$output" | grep -c '^a$')" -ge 38 ]
	run "$FCGATECTL" -m "$T/fcgate.shm" set app "127.0.0.1:$TESTD_PORT_c" drain
	assert_success
	run "$FCGATECTL" -m "$T/fcgate.shm" status
	assert_output --regexp "127.0.0.1:$TESTD_PORT_c +drain "
	before="$(conns c)"
	run backends 12
	refute_line c
	[ "$(conns c)" -eq "$before" ]
}
