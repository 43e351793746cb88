#!/usr/bin/env bats
# DNS discovery: servers found in DNS (resolve = true: A/AAAA; service:
# SRV) with dnsmasq on loopback, and a small python DNS server for the
# faults dnsmasq cannot make.  Backends are fcgi_testd on 127.0.0.2..9,
# each answering with its name.

load helper

setup() {
	fcg_setup
	[ -x /usr/sbin/dnsmasq ] || skip "dnsmasq (dnsmasq-base) is not installed"
	DNS_PORT="$(free_dns_port)"
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

# start_fake_dns: a DNS server on 127.0.0.1:$DNS_PORT (UDP only) for the
# faults dnsmasq cannot make.  It answers A queries with the addresses in
# $T/addrs (TTL 1), AAAA with none, or as $T/mode says: ok, servfail,
# nxdomain, drop (no answer at all), garbage (a record running past the
# end of the message), truncated (TC set; no TCP to retry on).  Each
# query's mode is appended to $T/queries.
start_fake_dns() {
	cat >"$T/fake_dns.py" <<'PY'
import socket, struct, sys, os
port, d = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
open(os.path.join(d, "fake.ready"), "w").close()
def read(name, default):
    try:
        return open(os.path.join(d, name)).read().split()
    except OSError:
        return default
while True:
    q, peer = s.recvfrom(4096)
    if len(q) < 12:
        continue
    qid, = struct.unpack("!H", q[:2])
    end = 12
    while end < len(q) and q[end] != 0:
        end += q[end] + 1
    question = q[12:end + 5]
    qtype, = struct.unpack("!H", q[end + 1:end + 3])
    mode = (read("mode", ["ok"]) or ["ok"])[0]
    with open(os.path.join(d, "queries"), "a") as f:
        f.write(mode + "\n")
    if mode == "drop":
        continue
    flags, answers = 0x8180, b""
    n = 0
    if mode == "servfail":
        flags = 0x8182
    elif mode == "nxdomain":
        flags = 0x8183
    elif mode == "truncated":
        flags = 0x8380
    elif qtype == 1:
        for a in read("addrs", []):
            answers += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 1, 4) + socket.inet_aton(a)
            n += 1
        if mode == "garbage":
            answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 1, 200) + b"\x01\x02"
            n = 1
    head = struct.pack("!HHHHHH", qid, flags, 1, n, 0, 0)
    s.sendto(head + question + answers, peer)
PY
	python3 "$T/fake_dns.py" "$DNS_PORT" "$T" >>"$T/fake_dns.out" 2>&1 &
	fcg_track $!
	wait_file "$T/fake.ready"
}

# mode M [N]: the fake server's answers from now on; waits until it has
# answered (or dropped) N queries so (default 3: three rounds, rounds
# are 1 s apart)
mode() {
	local n="${2:-3}"
	echo "$1" >"$T/mode"
	: >"$T/queries"
	for _ in $(seq 1 100); do
		[ "$(grep -c -x "$1" "$T/queries" 2>/dev/null)" -ge "$n" ] && return 0
		sleep 0.1
	done
	echo "fewer than $n queries in mode $1" >&2
	return 1
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
    location / {
        fastcgi_pass = u
        include("$REPO/etc/fastcgi_params")
    }
}
CONF
	} >"$T/c.conf"
}

# names N: the backend names of N requests, one a line
names() {
	for _ in $(seq 1 "$1"); do
		curl -s -m 10 "http://127.0.0.1:$HTTP_PORT/" | sed -n 's/^backend=//p'
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

@test "-t: the warnings of a line after one found in DNS name that line" {
	# pins the lines-to-records walk: a resolve line owns max_servers
	# records, and the warning about the next line must still be made
	{
		WORKERS=4 base_conf
		cat <<'CONF'
resolver = {"127.0.0.1:53"}
upstream u {
    keepalive = 8
    server "php.test:9000" { resolve = true }
    server "127.0.0.1:9001" { max_conns = 2 }
}
server { listen = {"127.0.0.1:8080"} location / { fastcgi_pass = u } }
CONF
	} >"$T/c.conf"
	run "$FCGATE" -t -c "$T/c.conf"
	assert_success
	assert_output --partial "$T/c.conf:$(grep -n -F 9001 "$T/c.conf" | cut -d: -f1): warning: upstream u: server 127.0.0.1:9001: keepalive 8 x 4 workers"
}

# The resolver's DNS answer parser (t/unit/resolver_parse_test.c).
@test "resolver_parse unit tests: A, AAAA, SRV, TTLs, every truncation, bad pointers" {
	run "$BUILD/resolver_parse_test"
	assert_success
	assert_output --regexp "all [0-9]+ resolver_parse checks passed\$"
	refute_output --partial FAIL
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
		curl -s -m 10 -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$HTTP_PORT/" ; done >"$T/codes" ) &
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
	# fcgatectl set finds a found server by its address
	run "$FCGATECTL" -c "$T/c.conf" set u "127.0.0.4:$BPORT" drain
	assert_success
	assert_output "u 127.0.0.4:$BPORT: up -> drain"
	run names 2
	assert_equal "$(echo "$output" | sort | uniq -c | awk '{print $1 $2}' | tr '\n' ' ')" "2b2 "
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

@test "NXDOMAIN, SERVFAIL, no answer, garbage, truncated: the set stays, one log line per change" {
	# pins: a failed round keeps the last good set (requests still reach
	# both servers) and is logged once per change of outcome, not per query
	backend_at b2 127.0.0.2
	backend_at b3 127.0.0.3
	printf '127.0.0.2\n127.0.0.3\n' >"$T/addrs"
	start_fake_dns
	conf_resolve "    server \"php.test:$BPORT\" { resolve = true }"
	sed -i '1i resolver_timeout = 300ms' "$T/c.conf"
	start_fcgate "$T/c.conf"
	wait_servers 2
	for m in servfail nxdomain drop garbage truncated; do
		mode "$m"
		run names 4
		assert_equal "$(echo "$output" | sort | uniq -c | awk '{print $1 $2}' | tr '\n' ' ')" "2b2 2b3 "
	done
	mode ok
	run grep -c 'resolving php.test failed' "$T/error.log"
	assert_output 5
	run grep 'resolving php.test failed' "$T/error.log"
	# (c-ares says a SERVFAIL, and a truncated answer with no TCP to
	# retry on, as "could not contact")
	assert_line --index 0 --partial "failed: Could not contact DNS servers; keeping the 2 addresses"
	assert_line --index 1 --partial "failed: Domain name not found; keeping the 2 addresses"
	assert_line --index 2 --partial "failed: Timeout while contacting DNS servers"
	assert_line --index 3 --partial "failed: Misformatted DNS reply"
	assert_line --index 4 --partial "failed: Could not contact DNS servers"
	run grep -c 'php.test resolves again' "$T/error.log"
	assert_output 1
	wait_servers 2
}

@test "more addresses than max_servers: the dropped ones are logged once" {
	# pins the bound of a block: max_servers records, the rest dropped
	# by name in one log line, not one per round
	backend_at b2 127.0.0.2
	backend_at b3 127.0.0.3
	printf '127.0.0.5\n127.0.0.2\n127.0.0.4\n127.0.0.3\n' >"$T/addrs"
	start_fake_dns
	conf_resolve "    max_servers = 2
    server \"php.test:$BPORT\" { resolve = true }"
	start_fcgate "$T/c.conf"
	wait_servers 2
	mode ok
	run names 4
	assert_equal "$(echo "$output" | sort | uniq -c | awk '{print $1 $2}' | tr '\n' ' ')" "2b2 2b3 "
	run grep 'more addresses than its 2 records' "$T/error.log"
	assert_output --partial "dropped 127.0.0.4:$BPORT, 127.0.0.5:$BPORT"
	assert_equal "${#lines[@]}" 1
}

@test "the master answers HUP and TERM at once while DNS answers nothing; a reload keeps the found servers" {
	# pins: the resolver never blocks the master's signals (the DNS wait
	# is 30 s, the bounds here 5 s), and HUP carries the found records
	# into the new generation, which serves them with DNS silent
	backend_at b2 127.0.0.2
	backend_at b3 127.0.0.3
	printf '127.0.0.2\n127.0.0.3\n' >"$T/addrs"
	start_fake_dns
	conf_resolve "    server \"php.test:$BPORT\" { resolve = true }"
	start_fcgate "$T/c.conf"
	wait_servers 2
	mode drop 1
	kill -HUP "$FCGATE_PID"
	for _ in $(seq 1 50); do
		grep -q 'reloaded: generation 1' "$T/error.log" && break
		sleep 0.1
	done
	run grep -c 'reloaded: generation 1' "$T/error.log"
	assert_output 1
	run "$FCGATECTL" -c "$T/c.conf" status
	assert_output --partial "generation 1"
	assert_output --regexp "127\.0\.0\.2:$BPORT \(php\.test A\) +up"
	assert_output --regexp "127\.0\.0\.3:$BPORT \(php\.test A\) +up"
	run names 4
	assert_equal "$(echo "$output" | sort | uniq -c | awk '{print $1 $2}' | tr '\n' ' ')" "2b2 2b3 "
	kill -TERM "$FCGATE_PID"
	for _ in $(seq 1 50); do
		kill -0 "$FCGATE_PID" 2>/dev/null || break
		sleep 0.1
	done
	run kill -0 "$FCGATE_PID"
	assert_failure
}

@test "a server gone from DNS drains: its request in flight finishes, then its record empties" {
	# pins GONE: no new requests, the one in flight ends with 200, status
	# shows it draining, and the record leaves status once it is idle
	backend_at b2 127.0.0.2
	backend_at b3 127.0.0.3
	printf '127.0.0.3\n' >"$T/addrs"
	start_fake_dns
	conf_resolve "    server \"php.test:$BPORT\" { resolve = true }"
	start_fcgate "$T/c.conf"
	wait_servers 1
	curl -s -m 10 -o "$T/slow.out" -w '%{http_code}' \
		"http://127.0.0.1:$HTTP_PORT/?mode=slow&ms=3000" >"$T/slow.code" &
	slow=$!
	sleep 0.5
	printf '127.0.0.2\n' >"$T/addrs"
	for _ in $(seq 1 30); do
		"$FCGATECTL" -c "$T/c.conf" status | grep -q "127.0.0.3:$BPORT .*draining" && break
		sleep 0.1
	done
	run "$FCGATECTL" -c "$T/c.conf" status
	assert_output --regexp "127\.0\.0\.3:$BPORT \(php\.test A\) +draining +[0-9/]+ +1 "
	run names 3
	assert_equal "$(echo "$output" | sort | uniq -c | awk '{print $1 $2}' | tr '\n' ' ')" "3b2 "
	wait "$slow"
	assert_equal "$(cat "$T/slow.code")" 200
	run grep -c '^backend=b3' "$T/slow.out"
	assert_output 1
	for _ in $(seq 1 30); do
		"$FCGATECTL" -c "$T/c.conf" status | grep -q "127.0.0.3:$BPORT" || break
		sleep 0.1
	done
	run "$FCGATECTL" -c "$T/c.conf" status
	refute_output --partial "127.0.0.3:$BPORT"
}

@test "a record reused for another address: kept-alive connections to the old one are not reused" {
	# pins reuse with keepalive and max_servers = 1 (the pool keys idle
	# connections by record and incarnation, and drops those of a record
	# that left DNS when the bell rings): the
	# one record drains (its idle connection closed), is freed, and takes
	# the new address; every request then reaches the new backend
	backend_at b2 127.0.0.2
	backend_at b3 127.0.0.3
	printf '127.0.0.2\n' >"$T/addrs"
	start_fake_dns
	WORKERS=1 conf_resolve "    keepalive = 4
    max_servers = 1
    server \"php.test:$BPORT\" { resolve = true }"
	start_fcgate "$T/c.conf"
	wait_servers 1
	run names 3
	assert_equal "$(echo "$output" | sort | uniq -c | awk '{print $1 $2}' | tr '\n' ' ')" "3b2 "
	printf '127.0.0.3\n' >"$T/addrs"
	for _ in $(seq 1 50); do
		"$FCGATECTL" -c "$T/c.conf" status | grep -q "127.0.0.3:$BPORT .*up" && break
		sleep 0.1
	done
	run names 4
	assert_equal "$(echo "$output" | sort | uniq -c | awk '{print $1 $2}' | tr '\n' ' ')" "4b3 "
	run grep -c "dropped 127.0.0.3:$BPORT" "$T/error.log"
	assert_output 1
	run "$FCGATECTL" -c "$T/c.conf" status
	refute_output --partial "127.0.0.2:$BPORT"
	assert_output --regexp "127\.0\.0\.3:$BPORT \(php\.test A\) +up +1/1 +0 +[0-9]+/[0-9]+ +4 "
}

@test "workers and the health checker hold none of the master's DNS sockets or its signalfd" {
	# pins that the children close what fork() gave them of the master's
	# resolver (c-ares' UDP sockets, open while a query waits) and signal
	# descriptor: a child never reads them, and a worker taken over could
	# otherwise send queries from the master's socket or read its answers
	backend_at b2 127.0.0.2
	echo 127.0.0.2 >"$T/addrs"
	start_fake_dns
	conf_resolve "    server \"php.test:$BPORT\" { resolve = true }
    health_check { interval = 1s  type = fastcgi_get_values }"
	sed -i 's/^resolver = .*/&\nresolver_timeout = 20s/' "$T/c.conf"
	start_fcgate "$T/c.conf"
	wait_servers 1
	# a query left unanswered keeps its socket open; a worker and the
	# checker forked now would inherit it
	mode drop 1
	for k in $(ps -o pid= --ppid "$FCGATE_PID"); do
		kill -KILL "$k"
	done
	kids=""
	for _ in $(seq 1 50); do
		kids="$(ps -o pid= --ppid "$FCGATE_PID" | tr -d ' ')"
		[ "$(echo "$kids" | wc -w)" -ge 2 ] && break
		sleep 0.1
	done
	[ "$(echo "$kids" | wc -w)" -ge 2 ] # a worker and the checker
	udp="$(awk 'NR > 1 { print $10 }' /proc/net/udp /proc/net/udp6 | sort -u)"
	# the master holds one now: the test would prove nothing otherwise
	master_udp=0
	for fd in /proc/"$FCGATE_PID"/fd/*; do
		ino="$(readlink "$fd" | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')"
		[ -n "$ino" ] && echo "$udp" | grep -qx "$ino" && master_udp=$((master_udp + 1))
	done
	[ "$master_udp" -ge 1 ]
	for k in $kids; do
		for fd in /proc/"$k"/fd/*; do
			link="$(readlink "$fd")" || continue
			ino="$(echo "$link" | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')"
			if [ -n "$ino" ] && echo "$udp" | grep -qx "$ino"; then
				echo "child $k holds UDP socket $ino" >&2
				return 1
			fi
		done
		# its own signalfd, and not the master's beside it
		n="$(readlink /proc/"$k"/fd/* | grep -c signalfd || true)"
		if [ "$n" -gt 1 ]; then
			echo "child $k holds $n signalfds" >&2
			return 1
		fi
	done
}
