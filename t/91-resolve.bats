#!/usr/bin/env bats
# DNS discovery: servers found in DNS (resolve = true: A/AAAA; service:
# SRV) with dnsmasq on loopback, and a small python DNS server for the
# faults dnsmasq cannot make.  Backends are fcgi_testd on 127.0.0.2..9,
# each answering with its name.

load helper

setup() {
	fcg_setup
	[ -x /usr/sbin/dnsmasq ] || skip "dnsmasq (dnsmasq-base) is not installed"
	# free for both UDP and TCP (dnsmasq binds both)
	DNS_PORT="$(python3 -c 'import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); break
    except OSError:
        pass
print(p)')"
	BPORT="$(free_port)"
}

teardown() {
	fcg_teardown
}

# backend_at NAME ADDR: fcgi_testd NAME on ADDR:$BPORT
backend_at() {
	"$TESTD" -l "$2:$BPORT" -n "$1" -p "$T/testd-$1.pid" >>"$T/testd-$1.log" 2>&1 &
	fcg_track $!
	wait_port "$BPORT" "$2"
}

# start_dnsmasq ARGS...: dnsmasq on 127.0.0.1:$DNS_PORT, hosts in $T/hosts
start_dnsmasq() {
	touch "$T/hosts"
	/usr/sbin/dnsmasq -k --no-resolv --no-hosts --port="$DNS_PORT" \
		--listen-address=127.0.0.1 --bind-interfaces \
		--pid-file="$T/dnsmasq.pid" --addn-hosts="$T/hosts" \
		--local-ttl=1 "$@" >>"$T/dnsmasq.out" 2>&1 &
	DNSMASQ_PID=$!
	fcg_track "$DNSMASQ_PID"
	for _ in $(seq 1 50); do
		kill -0 "$DNSMASQ_PID" 2>/dev/null || break
		dig +short +time=1 +tries=1 -p "$DNS_PORT" @127.0.0.1 probe.invalid >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$T/dnsmasq.out" >&2
	return 1
}

# hosts LINES: the A records, re-read by dnsmasq on HUP
hosts() {
	printf '%s\n' "$@" >"$T/hosts"
	[ -z "${DNSMASQ_PID:-}" ] || kill -HUP "$DNSMASQ_PID"
}

# conf_resolve BODY-OF-UPSTREAM
conf_resolve() {
	{
		base_conf
		cat <<CONF
resolver = {"127.0.0.1:$DNS_PORT"}
upstream u {
$1
}
server {
    listen = {"127.0.0.1:$HTTP_PORT"}
    location / { fastcgi_pass = u }
}
CONF
	} >"$T/c.conf"
}

# names N: the backend names of N requests, one a line
names() {
	for _ in $(seq 1 "$1"); do
		curl -s "http://127.0.0.1:$HTTP_PORT/" | sed -n 's/^backend=//p'
	done
}

# wait_servers N: until status lists N servers of u that are up (5 s)
wait_servers() {
	for _ in $(seq 1 50); do
		[ "$("$FCGATECTL" -c "$T/c.conf" status | grep -c '^u .*) *up ')" = "$1" ] && return 0
		sleep 0.1
	done
	"$FCGATECTL" -c "$T/c.conf" status >&2
	return 1
}

@test "-t: resolve without a resolver, bad resolvers and services, unix: and addresses" {
	# pins the FILE:LINE errors of the config side
	{
		base_conf
		cat <<'CONF'
upstream u {
    server "php.test:9000" { resolve = true }
}
upstream v {
    server "php.test" { service = "php" }
    server "unix:/run/x.sock" { resolve = true }
    server "10.0.0.1:9000" { resolve = true }
    server "svc.test:80" { service = "_php._tcp" }
}
server { listen = {"127.0.0.1:8080"} location / { fastcgi_pass = u } }
CONF
	} >"$T/c.conf"
	run "$FCGATE" -t -c "$T/c.conf"
	assert_failure 1
	l() { grep -n -F -- "$1" "$T/c.conf" | head -1 | cut -d: -f1; }
	assert_output --partial "$T/c.conf:$(l '"php.test:9000"'): no resolver defined to resolve php.test"
	assert_output --partial "$T/c.conf:$(l 'service = "php"'): server 'php.test': service 'php' must look like _name._tcp"
	assert_output --partial "$T/c.conf:$(l unix:/run): server 'unix:/run/x.sock': resolve and service need a host name, not a unix socket"
	assert_output --partial "$T/c.conf:$(l 10.0.0.1): server '10.0.0.1:9000': resolve and service need a host name, not an address"
	assert_output --partial "$T/c.conf:$(l svc.test): server 'svc.test:80': a service server is a name without a port"
	sed -i '1i resolver = {"127.0.0.1:53", "ns.example"}' "$T/c.conf"
	run "$FCGATE" -t -c "$T/c.conf"
	assert_output --partial "$T/c.conf:1: resolver 'ns.example': expected an IP address"
	refute_output --partial "no resolver defined"
}

@test "A records become servers; a new one gets traffic, a removed one drains, without a reload" {
	# pins resolve = true end to end: records -> traffic, changes without
	# HUP, the counters of a kept server, status origins
	backend_at b2 127.0.0.2
	backend_at b3 127.0.0.3
	backend_at b4 127.0.0.4
	hosts "127.0.0.2 php.test" "127.0.0.3 php.test"
	start_dnsmasq
	conf_resolve "    server \"php.test:$BPORT\" { resolve = true }"
	start_fcgate "$T/c.conf"
	wait_servers 2
	run names 6
	assert_equal "$(echo "$output" | sort | uniq -c | awk '{print $1 $2}' | tr '\n' ' ')" "3b2 3b3 "
	run "$FCGATECTL" -c "$T/c.conf" status
	assert_output --regexp "127\.0\.0\.2:$BPORT \(php\.test A\) +up"
	before="$("$FCGATECTL" -c "$T/c.conf" status --json | python3 -c 'import json,sys
d = json.load(sys.stdin)
print([s["requests"] for s in d["upstreams"][0]["servers"] if s["addr"].startswith("127.0.0.2:")][0])')"
	assert_equal "$before" 3
	# 127.0.0.4 appears, 127.0.0.3 goes: under a load loop, no failure
	( end=$((SECONDS + 6)); while [ $SECONDS -lt $end ]; do
		curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$HTTP_PORT/" ; done >"$T/codes" ) &
	load=$!
	sleep 1
	hosts "127.0.0.2 php.test" "127.0.0.4 php.test"
	wait "$load"
	[ -s "$T/codes" ]
	run grep -v -c '^200$' "$T/codes"
	assert_output 0
	run names 6
	assert_equal "$(echo "$output" | sort | uniq -c | awk '{print $1 $2}' | tr '\n' ' ')" "3b2 3b4 "
	run "$FCGATECTL" -c "$T/c.conf" status
	refute_output --partial "127.0.0.3:$BPORT"
	after="$("$FCGATECTL" -c "$T/c.conf" status --json | python3 -c 'import json,sys
d = json.load(sys.stdin)
print([s["requests"] for s in d["upstreams"][0]["servers"] if s["addr"].startswith("127.0.0.2:")][0])')"
	[ "$after" -gt "$before" ]
	run grep -c "127.0.0.3:$BPORT is no longer in php.test: draining" "$T/error.log"
	assert_output 1
	run grep -c "found in php.test" "$T/error.log"
	assert_output 3
}

@test "SRV records: ports and weights from the records, lowest priority first" {
	# pins service = SRV ports, weights (in the split) and priority
	# (higher priority is a backup, unused while primaries are up)
	P2="$(free_port)"
	"$TESTD" -l "127.0.0.5:$P2" -n b5 -p "$T/testd-b5.pid" >>"$T/testd-b5.log" 2>&1 &
	fcg_track $!
	wait_port "$P2" 127.0.0.5
	backend_at b2 127.0.0.2
	backend_at b3 127.0.0.3
	start_dnsmasq --srv-host="_php._tcp.php.test,b2.test,$BPORT,0,3" \
		--srv-host="_php._tcp.php.test,b5.test,$P2,0,1" \
		--srv-host="_php._tcp.php.test,b3.test,$BPORT,1,1" \
		--host-record=b2.test,127.0.0.2 --host-record=b5.test,127.0.0.5 \
		--host-record=b3.test,127.0.0.3
	conf_resolve '    server "php.test" { service = "_php._tcp" }'
	start_fcgate "$T/c.conf"
	wait_servers 2
	run names 8
	assert_equal "$(echo "$output" | sort | uniq -c | awk '{print $1 $2}' | tr '\n' ' ')" "6b2 2b5 "
	run "$FCGATECTL" -c "$T/c.conf" status
	assert_output --regexp "127\.0\.0\.5:$P2 \(_php\._tcp\.php\.test SRV\) +up +1/"
	assert_output --regexp "127\.0\.0\.2:$BPORT \(_php\._tcp\.php\.test SRV\) +up +3/"
	assert_output --regexp "127\.0\.0\.3:$BPORT \(_php\._tcp\.php\.test SRV\) +backup"
}
