#!/usr/bin/env bats
# Several gateway hosts behind an L4 balancer, on one machine: hosts are
# network namespaces made by the test (t/lib/netns.bash), joined to one
# bridge, with addresses in 10.77.0.0/16 that exist only there.
#
#   c    10.77.0.100 + 64 client addresses 10.77.101.7 .. 10.77.164.7
#        (one per /24, so ip_hash, which hashes a /24, has 64 keys)
#   lb   10.77.0.30:80   HAProxy (TCP, send-proxy-v2, check) -> g1, g2
#   g1   10.77.0.21:8080 fcgate, proxy_protocol listen, realip from lb;
#        10.77.0.21:8090 Debian's nginx with the same upstream, the
#        reference for the mapping (queried directly)
#   g2   10.77.0.22:8080 fcgate, the same configuration
#   b1..b3 10.77.0.11..13:9000 php-fpm, the script answers its host's name
#   dns  10.77.0.53:53   dnsmasq, SRV _php._tcp.php.test -> b1..b3
#
# The hosts and php-fpm live for the whole file; each test starts its own
# gateways, balancer and DNS server and stops them by pid.  Skipped where
# ip netns is not permitted; CI runs it as root.  MH_GATEWAY=nginx runs
# the scenarios with Debian's nginx as both gateways (but for DNS
# discovery, which nginx lacks): the test's own check.

load helper
load lib/netns

CLIENT="$REPO/t/lib/netns_client.py"
NET_B1=10.77.0.11
NET_B2=10.77.0.12
NET_B3=10.77.0.13
NET_G1=10.77.0.21
NET_G2=10.77.0.22
NET_LB=10.77.0.30
NET_DNS=10.77.0.53
NET_C=10.77.0.100

setup_file() {
	fcg_setup
	export T
	if ! NETNS_SKIP="$(netns_probe)"; then
		export NETNS_SKIP
		return 0
	fi
	netns_init
	netns_host b1 "$NET_B1"
	netns_host b2 "$NET_B2"
	netns_host b3 "$NET_B3"
	netns_host g1 "$NET_G1"
	netns_host g2 "$NET_G2"
	netns_host lb "$NET_LB"
	netns_host dns "$NET_DNS"
	# shellcheck disable=SC2046
	netns_host c "$NET_C" $(mh_clients)
	mh_script
	mh_php b1 "$NET_B1"
	mh_php b2 "$NET_B2"
	mh_php b3 "$NET_B3"
}

teardown_file() {
	netns_teardown
}

setup() {
	netns_require
	# What a test starts (gateways, balancer, nginx, DNS) is stopped at
	# its end; the hosts and php-fpm stay.
	export NETNS_PIDS="$T/test-pids"
	: >"$NETNS_PIDS"
	rm -rf "$T"/g1* "$T"/g2* "$T"/lb* "$T"/ngx* "$T"/dns* "$T"/map-* \
	    "$T"/load* "$T"/stop
}

teardown() {
	netns_stop_pids "$T/test-pids"
	netns_sweep g1 g2 lb dns c
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		tail -n 20 "$T"/g1-error.log "$T"/g2-error.log "$T"/g1.out \
		    "$T"/g2.out "$T"/lb.log "$T"/dns.log 2>/dev/null >&3 || true
	fi
	# The next test's setup removes these files: a sanitizer report of
	# this test's gateways (FCGATE_BUILD=build/asan) fails it now.
	if cat "$T"/g1.out "$T"/g2.out 2>/dev/null |
		grep -E -q 'AddressSanitizer|LeakSanitizer|runtime error:'; then
		cat "$T"/g1.out "$T"/g2.out >&3
		echo "sanitizer report, see above" >&2
		return 1
	fi
}

mh_clients() {
	local i
	for i in $(seq 101 164); do
		echo "10.77.$i.7"
	done
}

# The PHP script: which backend host answered, the REMOTE_ADDR it got and
# the gateway that passed it (a fastcgi_param of each gateway).
mh_script() {
	cat >"$T/html/who.php" <<'PHP'
<?php
header("Content-Type: text/plain");
echo "backend=", getenv("HOST_ID"), "\n";
echo "remote=", $_SERVER["REMOTE_ADDR"], "\n";
echo "gateway=", $_SERVER["GATEWAY_ID"] ?? "-", "\n";
PHP
	chmod 644 "$T/html/who.php"
}

# mh_php NAME ADDR: php-fpm in host NAME on ADDR:9000, children as nobody,
# env HOST_ID=NAME, every request in $T/php-NAME.access.
mh_php() {
	cat >"$T/php-$1.conf" <<CONF
[global]
pid = $T/php-$1.pid
error_log = $T/php-$1.log
daemonize = no

[$1]
user = nobody
group = nogroup
listen = $2:9000
pm = static
pm.max_children = 4
access.log = $T/php-$1.access
access.format = "%R %r"
clear_env = no
env[HOST_ID] = $1
CONF
	netns_start "$1" "$T/php-$1.out" "$PHP_FPM" -F -y "$T/php-$1.conf" \
	    -p "$T"
	netns_wait_port "$1" "$2" 9000
}

# mh_gateway NAME ADDR TOP UPSTREAM: fcgate in host NAME, listening on
# ADDR:8080 with the PROXY protocol and believing it only from the
# balancer; TOP is added at top level, UPSTREAM is the body of upstream
# "php".  Its files are $T/NAME.*.
mh_gateway() {
	cat >"$T/$1.conf" <<CONF
workers = 2
pid_file = "$T/$1.pid"
shm_path = "$T/$1.shm"
error_log = "$T/$1-error.log"
access_log = "$T/$1-access.log"
log_level = info
mime_types = "$REPO/etc/mime.types"
$3
upstream php {
$4
}
server {
    listen = {"$2:8080 proxy_protocol"}
    set_real_ip_from = {"$NET_LB/32"}
    real_ip_header = "proxy_protocol"
    root = "$T/html"
    location "/" {
        fastcgi_pass = php
        include("$REPO/etc/fastcgi_params")
        fastcgi_param {
            SCRIPT_FILENAME = "\$document_root\$fastcgi_script_name"
            GATEWAY_ID = "$1"
        }
    }
}
CONF
	netns_start "$1" "$T/$1.out" "$FCGATE" -f -c "$T/$1.conf"
	eval "PID_$1=$NETNS_PID"
	netns_wait_port c "$2" 8080
}

# mh_stop NAME: TERM to gateway NAME's master, and wait until it is gone
# (5 s at most).
mh_stop() {
	local pid
	pid="$(eval echo "\$PID_$1")"
	kill -TERM "$pid"
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "$1 (pid $pid) did not stop" >&2
	return 1
}

# The three backends as static servers, b2 with weight 2.
MH_STATIC='    server "10.77.0.11:9000" {}
    server "10.77.0.12:9000" { weight = 2 }
    server "10.77.0.13:9000" {}'

# mh_gateways UPSTREAM [TOP [NGINX_METHOD]]: g1 and g2 with the same
# configuration.  With MH_GATEWAY=nginx they are Debian's nginx instead
# (upstream method NGINX_METHOD, the servers of MH_STATIC), to check
# that the scenarios hold for nginx too.
mh_gateways() {
	if [ "${MH_GATEWAY:-fcgate}" = nginx ]; then
		mh_nginx g1 g1 "$NET_G1:8080" "${3:-}"
		mh_nginx g2 g2 "$NET_G2:8080" "${3:-}"
		return
	fi
	mh_gateway g1 "$NET_G1" "${2:-}" "$1"
	mh_gateway g2 "$NET_G2" "${2:-}" "$1"
}

# mh_nginx NAME HOST ADDR:PORT METHOD: Debian's nginx in host HOST on
# ADDR:PORT with the PROXY protocol and realip from the balancer, as a
# gateway; upstream method METHOD ("ip_hash;", "hash $remote_addr
# consistent;") and the servers of MH_STATIC; GATEWAY_ID NAME; files in
# $T/NAME-ngx, error log $T/NAME-error.log.  Sets PID_NAME.
mh_nginx() {
	mkdir -p "$T/$1-ngx/logs"
	cat >"$T/$1-ngx/nginx.conf" <<NGX
worker_processes 2;
user nobody nogroup;
events {}
http {
    access_log off;
    error_log $T/$1-error.log info;
    upstream php {
        $4
        server 10.77.0.11:9000;
        server 10.77.0.12:9000 weight=2;
        server 10.77.0.13:9000;
    }
    server {
        listen $3 proxy_protocol;
        set_real_ip_from $NET_LB/32;
        real_ip_header proxy_protocol;
        root $T/html;
        location / {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
            fastcgi_param GATEWAY_ID $1;
            fastcgi_pass php;
        }
    }
}
NGX
	netns_start "$2" "$T/$1.out" /usr/sbin/nginx -p "$T/$1-ngx" \
	    -c "$T/$1-ngx/nginx.conf" \
	    -g "daemon off; pid $T/$1-ngx/nginx.pid; error_log $T/$1-error.log;"
	eval "PID_$1=$NETNS_PID"
	netns_wait_port c "${3%:*}" "${3##*:}"
}

# mh_haproxy: HAProxy in host lb, TCP mode, both gateways as servers with
# send-proxy-v2 and a check (which also sends a PROXY header); a
# connection refused is retried on the other gateway.
mh_haproxy() {
	cat >"$T/lb.cfg" <<CFG
global
    maxconn 2000
    stats socket $T/lb.sock mode 600 level admin
defaults
    mode tcp
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    retries 3
    option redispatch
frontend gateways
    bind $NET_LB:80
    default_backend gateways
backend gateways
    balance roundrobin
    default-server send-proxy-v2 check inter 200ms fall 1 rise 2
    server g1 $NET_G1:8080
    server g2 $NET_G2:8080
CFG
	netns_start lb "$T/lb.log" /usr/sbin/haproxy -db -f "$T/lb.cfg"
	netns_wait_port c "$NET_LB" 80
}

# mh_dns HOST...: (re)starts dnsmasq in host dns with A records
# HOST.php.test and SRV records _php._tcp.php.test -> HOST.php.test:9000
# (priority 0, weight 1) for each HOST (b1 b2 b3); TTL 1 s.
mh_dns() {
	local h args=() addr
	if [ -n "${DNS_PID:-}" ]; then
		kill -TERM "$DNS_PID" 2>/dev/null
		for _ in $(seq 1 50); do
			kill -0 "$DNS_PID" 2>/dev/null || break
			sleep 0.1
		done
	fi
	for h in "$@"; do
		case "$h" in
		b1) addr=$NET_B1 ;;
		b2) addr=$NET_B2 ;;
		b3) addr=$NET_B3 ;;
		esac
		args+=("--host-record=$h.php.test,$addr"
		    "--srv-host=_php._tcp.php.test,$h.php.test,9000,0,1")
	done
	netns_start dns "$T/dns.log" /usr/sbin/dnsmasq -k --no-resolv \
	    --no-hosts --listen-address="$NET_DNS" --bind-interfaces \
	    --port=53 --user=nobody --group=nogroup --pid-file= \
	    --local-ttl=1 --log-queries --log-facility=- "${args[@]}"
	DNS_PID=$NETNS_PID
	netns_wait_udp dns "$NET_DNS" 53
}

# mh_map NAME TARGET MODE: one request from every client address to
# TARGET, into $T/map-NAME: "ADDR STATUS BACKEND REMOTE GATEWAY" lines
# (60 s at most in all; each request has 10 s).
mh_map() {
	# shellcheck disable=SC2046
	timeout 60 ip netns exec "$(netns_name c)" python3 "$CLIENT" once \
	    "$2" "$3" /who.php $(mh_clients) >"$T/map-$1"
}

# mh_same A B: the maps A and B send every address to the same backend,
# every answer a 200; prints the differences.
mh_same() {
	join "$T/map-$1" "$T/map-$2" | awk -v a="$1" -v b="$2" '
	    $2 != 200 || $6 != 200 || $3 != $7 {
		    print $1 ": " a " " $2 " " $3 ", " b " " $6 " " $7; bad++ }
	    END { exit bad > 0 }'
}

# mh_status NAME: the first line of fcgatectl status of gateway NAME.
mh_status() {
	"$FCGATECTL" -m "$T/$1.shm" status | head -n 1
}

# The checks of the first two tests: through g1 and g2 directly, and
# twice through the balancer (HAProxy alternates the gateways), every
# client address gets the backend nginx gives it; through the balancer
# the backend sees the client's address; the addresses spread over all
# three backends.
mh_check_mapping() {
	mh_map ngx "$NET_G1:8090" proxy
	mh_map g1 "$NET_G1:8080" proxy
	mh_map g2 "$NET_G2:8080" proxy
	mh_map lb1 "$NET_LB:80" plain
	mh_map lb2 "$NET_LB:80" plain
	run mh_same ngx g1
	assert_success
	run mh_same ngx g2
	assert_success
	run mh_same ngx lb1
	assert_success
	run mh_same ngx lb2
	assert_success
	# REMOTE_ADDR through the balancer is the client's, not 10.77.0.30.
	run awk '$1 != $4 { print; bad++ } END { exit bad > 0 }' \
	    "$T/map-lb1" "$T/map-lb2"
	assert_success
	# Both gateways served through the balancer...
	run awk '{ print $5 }' "$T/map-lb1" "$T/map-lb2"
	assert_line g1
	assert_line g2
	# ... and the mapping is not everyone to one backend.
	run awk '{ print $3 }' "$T/map-ngx"
	assert_line b1
	assert_line b2
	assert_line b3
}

@test "ip_hash on the client's address from PROXY v2: the same backend through either gateway, and nginx's" {
	# Pins: real_ip_header = proxy_protocol + set_real_ip_from the
	# balancer feeds ip_hash and REMOTE_ADDR, and two gateways with the
	# same server list agree with each other and with nginx's ip_hash.
	mh_gateways "    balance = ip_hash
$MH_STATIC" "" "ip_hash;"
	mh_nginx ngx g1 "$NET_G1:8090" "ip_hash;"
	mh_haproxy
	mh_check_mapping
}

@test "hash \$remote_addr consistent: the same backend through either gateway, and nginx's" {
	# Pins: balance = hash with hash_key = "\$remote_addr" and consistent
	# maps each client as nginx's "hash \$remote_addr consistent", on
	# both gateways, on the address the PROXY header gave.
	mh_gateways '    balance = hash
    hash_key = "$remote_addr"
    consistent = true
'"$MH_STATIC" "" 'hash $remote_addr consistent;'
	mh_nginx ngx g1 "$NET_G1:8090" 'hash $remote_addr consistent;'
	mh_haproxy
	mh_check_mapping
}

# mh_crash NAME: what a host failure does to gateway NAME's processes:
# KILL to its master and, at the same moment, to its workers (children
# of the master, read before the kill), so its sockets close at once.
mh_crash() {
	local master kids
	master="$(eval echo "\$PID_$1")"
	kids="$(cat /proc/"$master"/task/*/children 2>/dev/null)"
	[ -n "$kids" ] || { echo "no workers under $master" >&2; return 1; }
	# shellcheck disable=SC2086
	kill -KILL "$master" $kids
}

@test "a gateway host dies: its clients move to the other one, each to the same backend" {
	# Pins: after g1 dies, HAProxy sends everyone to g2 and each client
	# keeps its backend (ip_hash on the real address is the same on both
	# hosts); the only failures are those the kill causes (bounded
	# below), none for most clients.
	local threads=16
	mh_gateways "    balance = ip_hash
$MH_STATIC" "" "ip_hash;"
	mh_haproxy
	mh_map before "$NET_LB:80" plain
	run awk '$2 != 200 { print; bad++ } END { exit bad > 0 }' \
	    "$T/map-before"
	assert_success
	# shellcheck disable=SC2046
	STOP="$T/stop" netns_exec c python3 "$CLIENT" load "$NET_LB:80" plain \
	    /who.php 30 "$threads" $(mh_clients) >"$T/load.out" 2>&1 &
	local load=$!
	echo "$load" >>"$T/test-pids"
	sleep 2
	mh_crash g1
	sleep 3
	touch "$T/stop"
	for _ in $(seq 1 150); do
		kill -0 "$load" 2>/dev/null || break
		sleep 0.1
	done
	run kill -0 "$load"
	assert_failure
	cat "$T/load.out"
	run grep -c requests= "$T/load.out"
	assert_output 65
	# Each client: one backend all along, the one it had before.
	run awk 'NR == FNR { want[$1] = $3; next }
	    /^10\./ { sub("backends=", "", $4)
		    if ($4 != want[$1]) { print; bad++ } }
	    END { exit bad > 0 }' "$T/map-before" "$T/load.out"
	assert_success
	# Each client was last served by g2, and g1 served before the kill.
	run awk '/^10\./ && $6 != "last=g2" { print; bad++ }
	    END { exit bad > 0 }' "$T/load.out"
	assert_success
	run grep -c 'gateways=g1,g2' "$T/load.out"
	refute_output 0
	# What the kill fails: each thread's request in flight on g1, and
	# one it may send there while g1's dying sockets still take
	# connections and before the balancer's check sees it gone (a
	# sanitizer build dies slowly).  So at most two per thread, and per
	# client (a thread sends from 4 addresses in turn: in the normal
	# build no address has seen a second one).
	run awk '/^10\./ { split($3, f, "="); if (f[2] > 2) { print; bad++ } }
	    END { exit bad > 0 }' "$T/load.out"
	assert_success
	run awk -v max="$((2 * threads))" '/^total/ { split($3, f, "=")
	    exit f[2] > max }' "$T/load.out"
	assert_success
}

# The DNS test's upstream: the servers are the SRV records of
# _php._tcp.php.test, hashed consistently (a record's point seed is its
# address, so two gateways with the same records agree).
MH_DNS_TOP="resolver = {\"$NET_DNS\"}
resolver_valid = 1s"
MH_DNS_UP='    balance = hash
    hash_key = "$remote_addr"
    consistent = true
    max_servers = 8
    server "php.test" { service = "_php._tcp" }'

# mh_found NAME: the servers gateway NAME's fcgatectl status --json lists
# in upstream php as up, "ADDR ORIGIN-NAME ORIGIN-TYPE" sorted, one a line.
mh_found() {
	"$FCGATECTL" -m "$T/$1.shm" status --json | python3 -c '
import json, sys
for u in json.load(sys.stdin)["upstreams"]:
    for s in u["servers"] if u["name"] == "php" else []:
        if s["state"] == "up":
            o = s.get("origin") or {}
            print(s["addr"], o.get("name", "-"), o.get("type", "-"))
' | sort
}

# mh_wait_backends SET: until, on both gateways, the backends the 64
# clients reach are exactly SET ("b1 b2"), 15 s at most.
mh_wait_backends() {
	local got1 got2
	for _ in $(seq 1 30); do
		mh_map g1 "$NET_G1:8080" proxy
		mh_map g2 "$NET_G2:8080" proxy
		got1="$(awk '$2 == 200 { print $3 }' "$T/map-g1" | sort -u |
		    xargs)"
		got2="$(awk '$2 == 200 { print $3 }' "$T/map-g2" | sort -u |
		    xargs)"
		[ "$got1" = "$1" ] && [ "$got2" = "$1" ] && return 0
		sleep 0.5
	done
	echo "backends: g1 '$got1', g2 '$got2', want '$1'" >&2
	return 1
}

@test "DNS changes the backends on both gateways without a reload and without a failed request" {
	# Pins: SRV records found by the resolver become servers on both
	# gateways; adding b3 and then removing b1 in DNS changes both
	# gateways' sets with no reload (same master pid, same generation);
	# a load running through both changes sees no failed request; b1
	# gets no new request once it is out; both gateways list the same
	# servers and agree on every client, also with a gateway started
	# after the changes.
	[ "${MH_GATEWAY:-fcgate}" = fcgate ] ||
		skip "nginx finds no SRV records (NGINX Plus only)"
	mh_dns b1 b2
	mh_gateways "$MH_DNS_UP" "$MH_DNS_TOP"
	mh_haproxy
	run mh_wait_backends "b1 b2"
	assert_success
	local s1 s2
	s1="$(mh_status g1 | sed 's/, up [^,]*//')"
	s2="$(mh_status g2 | sed 's/, up [^,]*//')"
	# shellcheck disable=SC2046
	STOP="$T/stop" netns_exec c python3 "$CLIENT" load "$NET_LB:80" plain \
	    /who.php 60 16 $(mh_clients) >"$T/load.out" 2>&1 &
	local load=$!
	echo "$load" >>"$T/test-pids"
	sleep 1
	mh_dns b1 b2 b3
	run mh_wait_backends "b1 b2 b3"
	assert_success
	mh_dns b2 b3
	run mh_wait_backends "b2 b3"
	assert_success
	# Requests already sent to b1 finish; after that b1 sees none.
	sleep 1
	local n1
	n1="$(wc -l <"$T/php-b1.access")"
	sleep 3
	touch "$T/stop"
	for _ in $(seq 1 150); do
		kill -0 "$load" 2>/dev/null || break
		sleep 0.1
	done
	run kill -0 "$load"
	assert_failure
	run wc -l <"$T/php-b1.access"
	assert_output "$n1"
	run grep '^total' "$T/load.out"
	assert_output --regexp '^total requests=[0-9]+ failed=0$'
	refute_output 'total requests=0 failed=0'
	# No reload: the same masters, the same generations.
	run mh_status g1
	assert_output --regexp '^master pid '
	[ "$(mh_status g1 | sed 's/, up [^,]*//')" = "$s1" ]
	[ "$(mh_status g2 | sed 's/, up [^,]*//')" = "$s2" ]
	# The two gateways, with the same records, choose alike.
	run mh_same g1 g2
	assert_success
	# Both list the same two servers, found in DNS, and b1 no more.
	local name
	for name in g1 g2; do
		run mh_found "$name"
		assert_output "$NET_B2:9000 _php._tcp.php.test SRV
$NET_B3:9000 _php._tcp.php.test SRV"
	done
	# A gateway started now holds b2 and b3 in other records than g1,
	# which kept b2's and b3's and emptied b1's: the ring depends on the
	# addresses, not on where they sit, so the two still agree.
	mh_stop g2
	mh_gateway g2 "$NET_G2" "$MH_DNS_TOP" "$MH_DNS_UP"
	run mh_wait_backends "b2 b3"
	assert_success
	run mh_same g1 g2
	assert_success
}

@test "a gateway reached without the PROXY header closes the connection" {
	# Pins: on a proxy_protocol listen, plain HTTP from a client that
	# bypasses the balancer is never served: no byte comes back, and the
	# error log names the client.  The same client with a header is
	# served, so the closing is the missing header's doing.
	mh_gateways "$MH_STATIC"
	run netns_exec c python3 "$CLIENT" plain "$NET_G1:8080" 10.77.101.7
	assert_output "bytes 0"
	run netns_exec c python3 "$CLIENT" once "$NET_G1:8080" proxy \
	    /who.php 10.77.101.7
	assert_output --regexp '^10\.77\.101\.7 200 b[123] 10\.77\.101\.7 g1$'
	for _ in $(seq 1 20); do
		grep -q '10\.77\.101\.7' "$T/g1-error.log" && break
		sleep 0.1
	done
	run grep '10\.77\.101\.7' "$T/g1-error.log"
	assert_success
}
