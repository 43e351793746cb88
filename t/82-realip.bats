#!/usr/bin/env bats
# Client addresses behind a trusted proxy: set_real_ip_from,
# real_ip_header, real_ip_recursive, $realip_remote_addr.  The address a
# trusted peer names replaces the connection's for one request, so
# $remote_addr, REMOTE_ADDR (php-fpm and the test backend), allow/deny,
# the access and error logs and ip_hash all see it; an untrusted peer's
# headers change nothing; the next request on a keep-alive connection
# starts from the socket's address again.  Where Debian's nginx is
# installed, the same table of X-Forwarded-For / X-Real-IP headers is
# asked of nginx with the same directives, and of its ip_hash behind
# realip, and both must agree.

load helper
bats_require_minimum_version 1.5.0

setup() {
	fcg_setup
}

teardown() {
	fcg_teardown
}

RET='$remote_addr $remote_port $realip_remote_addr $realip_remote_port'

# table_rows FILE: the request table (one request a line, header lines
# tab-separated): chains with and without trusted hops, garbage, empty
# entries, ports, IPv6 (and how it is written back), nginx's loose
# address reader, several header lines, and far more hops than any proxy
# chain has.
table_rows() {
	python3 - "$1" <<'PY'
import sys
x = "X-Forwarded-For: "
rows = ["-"] + [x + v for v in [
    "1.2.3.4", "1.2.3.4, 10.0.0.1", "1.2.3.4, 10.0.0.1, 10.0.0.2",
    "10.0.0.3, 10.0.0.1, 10.0.0.2", "1.2.3.4,10.0.0.1", "1.2.3.4 10.0.0.1",
    "5.6.7.8, 1.2.3.4, 10.0.0.1", "garbage, 10.0.0.1", "1.2.3.4, garbage",
    "1.2.3.4, garbage, 10.0.0.1", "10.0.0.9, garbage, 10.0.0.1",
    ",1.2.3.4", "a,1.2.3.4", "1.2.3.4,", "1.2.3.4, ,  10.0.0.1", ",", "",
    "1.2.3.4:8080", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:0080",
    "10.0.0.7:99, 10.0.0.1", "[2001:db8::1]:443, 10.0.0.1", "[1.2.3.4]:5",
    "2001:db8::1", "2001:db9::5, 2001:db8::1", "2001:DB9:0:0:0:0:0:5",
    "::ffff:10.0.0.1", "9.9.9.9, ::ffff:10.0.0.1", "::1.2.3.4", "::",
    "1::", "1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9",
    ":1:2:3:4:5:6:7:8", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4",
    "12345::1", "1..2.3", "01.002.3.4", "1.2.3.256", "255.255.255.255",
    "1.2.3", "1.2.3.4.5", "1.2.3.4:80:90", "1:0:0:2:0:0:3:4",
    "1:0:2:3:4:5:6:7", "1:0:0:0:2:0:0:0", "::0.0.0.1", "::ffff:0:1.2.3.4",
    "0:0:0:0:0:ffff:0102:0304", "2001:db8::1%eth0", "::1.2.3",
    ", ".join(["1.2.3.4"] + ["10.0.%d.%d" % (i // 200, i % 200)
                             for i in range(300)])]]
rows += ["\t".join(x + v for v in vs) for vs in [
    ["1.2.3.4", "10.0.0.1"], ["1.2.3.4", "5.6.7.8"],
    ["9.9.9.9, 10.0.0.5", "10.0.0.1"], ["1.2.3.4", "garbage"],
    ["garbage", "10.0.0.1"], ["10.0.0.4", "10.0.0.1"],
    ["1.2.3.4", "", "10.0.0.1"], ["1.2.3.4", "10.0.0.1, junk", "10.0.0.2"],
    ["7.7.7.7"] + ["10.0.1.%d" % i for i in range(30)]]]
rows += ["x-forwarded-for: 1.2.3.4", "X-Real-IP: 1.2.3.4",
    "X-Real-IP: 1.2.3.4, 10.0.0.1", "X-Real-IP: 1.2.3.4\tX-Real-IP: 5.6.7.8",
    "X-Real-IP: garbage", "X-Client: 1.2.3.4",
    "X-Client: 10.0.0.1, 5.6.7.8\tX-Client: 4.4.4.4",
    "X-Client: 1.2.3.4, 10.0.0.1"]
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
}

# Four servers on ports $1..$4 trusting 127.0.0.1, 10.0.0.0/8 and
# 2001:db8::/32 (top level), answering with $RET: X-Forwarded-For,
# X-Forwarded-For recursive, X-Real-IP (the default) recursive, X-Client.
fcgate_four() {
	local ret="\"200 $RET\""
	{
		WORKERS=1 base_conf
		cat <<CONF
set_real_ip_from = {"127.0.0.1", "10.0.0.0/8", "2001:db8::/32"}
server { listen = {127.0.0.1:$1}  real_ip_header = "X-Forwarded-For"
         location / { return = $ret } }
server { listen = {127.0.0.1:$2}  real_ip_header = "X-Forwarded-For"
         real_ip_recursive = true  location / { return = $ret } }
server { listen = {127.0.0.1:$3}  real_ip_recursive = true
         location / { return = $ret } }
server { listen = {127.0.0.1:$4}  real_ip_header = "X-Client"
         location / { return = $ret } }
CONF
	} >"$T/fcgate.conf"
	HTTP_PORT="$1"
	start_fcgate "$T/fcgate.conf"
}

@test "realip unit checks: the address reader, the walk, trust, the PROXY header's source, the restore" {
	# pins worker/realip_addr.c and worker/realip.c directly (the PROXY
	# header's path too; t/81 drives it end to end)
	run_unit realip_test realip
}

@test "realip directives: bad values are FILE:LINE errors at -t, good ones and inheritance pass" {
	# pins the builder's checks and their lines, and that the three
	# directives are accepted at the top level and in a server
	{
		base_conf
		cat <<CONF
set_real_ip_from = {"127.0.0.1", "192.0.2.0/24", "2001:db8::/32", "unix:"}
real_ip_header = "X-Forwarded-For"
real_ip_recursive = true
server {
    listen = {127.0.0.1:$HTTP_PORT}
    real_ip_header = "proxy_protocol"
}
server {
    listen = {127.0.0.1:$(free_port)}
    set_real_ip_from = {"::1"}
    real_ip_header = "CF-Connecting-IP"
    real_ip_recursive = false
}
CONF
	} >"$T/ok.conf"
	run "$FCGATE" -t -c "$T/ok.conf"
	assert_success
	{
		base_conf
		cat <<CONF
set_real_ip_from = {"10.0.0.0/33"}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    set_real_ip_from = {"127.0.0.1", "localhost", "all", "1.2.3.4/x"}
    real_ip_header = "X Real IP"
}
server {
    listen = {127.0.0.1:$(free_port)}
    real_ip_header = ""
}
CONF
	} >"$T/bad.conf"
	run "$FCGATE" -t -c "$T/bad.conf"
	assert_failure
	assert_output --partial "$T/bad.conf:9: set_real_ip_from '10.0.0.0/33': not an address, ADDRESS/BITS or \"unix:\""
	assert_output --partial "$T/bad.conf:12: set_real_ip_from 'localhost': not an address"
	assert_output --partial "$T/bad.conf:12: set_real_ip_from 'all': not an address"
	assert_output --partial "$T/bad.conf:12: set_real_ip_from '1.2.3.4/x': not an address"
	assert_output --partial "$T/bad.conf:13: real_ip_header 'X Real IP': not a header name"
	assert_output --partial "$T/bad.conf:17: real_ip_header '': not a header name"
	refute_output --partial "'127.0.0.1'"
}

@test "X-Forwarded-For and X-Real-IP choose the client as nginx does: a table of chains, garbage, ports, IPv6, several lines, many hops" {
	[ -x /usr/sbin/nginx ] || skip "nginx is not installed"
	# pins the walk (realip.c) and the address reader (realip_addr.c)
	# against nginx's own realip module, row by row, in all four modes
	local p n i
	for i in 1 2 3 4; do
		p[$i]="$(free_port)"
		n[$i]="$(free_port)"
	done
	start_nginx "    set_real_ip_from 127.0.0.1;
    set_real_ip_from 10.0.0.0/8;
    set_real_ip_from 2001:db8::/32;
    server { listen 127.0.0.1:${n[1]}; real_ip_header X-Forwarded-For;
             return 200 \"$RET\"; }
    server { listen 127.0.0.1:${n[2]}; real_ip_header X-Forwarded-For;
             real_ip_recursive on; return 200 \"$RET\"; }
    server { listen 127.0.0.1:${n[3]}; real_ip_recursive on;
             return 200 \"$RET\"; }
    server { listen 127.0.0.1:${n[4]}; real_ip_header X-Client;
             return 200 \"$RET\"; }" "${n[1]}"
	fcgate_four "${p[1]}" "${p[2]}" "${p[3]}" "${p[4]}"
	table_rows "$T/table"
	for i in 1 2 3 4; do
		python3 "$REPO/t/lib/realip_table.py" "${n[$i]}" "$T/table" \
			>"$T/nginx.$i"
		python3 "$REPO/t/lib/realip_table.py" "${p[$i]}" "$T/table" \
			>"$T/fcgate.$i"
		run diff "$T/nginx.$i" "$T/fcgate.$i"
		assert_success
	done
	# the table is not trivial: each mode moved some clients and not
	# others, and the four modes do not all agree
	run grep -c '=> 127.0.0.1 SOCK 127.0.0.1 SOCK$' "$T/fcgate.2"
	[ "$output" -gt 5 ]
	run grep -c '=> [^ ]* [0-9]* 127.0.0.1 SOCK$' "$T/fcgate.2"
	[ "$output" -gt 30 ]
	run cmp -s "$T/fcgate.1" "$T/fcgate.2"
	assert_failure
	# a few rows spelled out
	run cat "$T/fcgate.2"
	assert_line "X-Forwarded-For: 5.6.7.8, 1.2.3.4, 10.0.0.1 => 1.2.3.4  127.0.0.1 SOCK"
	assert_line "X-Forwarded-For: 10.0.0.3, 10.0.0.1, 10.0.0.2 => 10.0.0.3  127.0.0.1 SOCK"
	assert_line "X-Forwarded-For: 1.2.3.4, garbage, 10.0.0.1 => 10.0.0.1  127.0.0.1 SOCK"
	assert_line "X-Forwarded-For: [2001:db8::1]:443, 10.0.0.1 => 2001:db8::1 443 127.0.0.1 SOCK"
	assert_line "X-Forwarded-For: 9.9.9.9, 10.0.0.5 | X-Forwarded-For: 10.0.0.1 => 9.9.9.9  127.0.0.1 SOCK"
	run cat "$T/fcgate.1"
	assert_line "X-Forwarded-For: 1.2.3.4 | X-Forwarded-For: 5.6.7.8 => 5.6.7.8  127.0.0.1 SOCK"
}

@test "an IPv6 address in brackets without a port is read as nginx 1.27.3 and later read it" {
	# pins the one place the reader follows newer nginx than Debian's
	# 1.22 (which refuses "[2001:db8::1]"); the rest of the table is
	# compared with nginx itself above
	local p1 p2 p3 p4
	p1="$(free_port)" p2="$(free_port)" p3="$(free_port)" p4="$(free_port)"
	fcgate_four "$p1" "$p2" "$p3" "$p4"
	printf '%s\n' "X-Forwarded-For: [2001:db8::1]" "X-Forwarded-For: [1.2.3.4]" \
		"X-Forwarded-For: [::1" "X-Forwarded-For: []" >"$T/table"
	run python3 "$REPO/t/lib/realip_table.py" "$p2" "$T/table"
	assert_success
	assert_line "X-Forwarded-For: [2001:db8::1] => 2001:db8::1  127.0.0.1 SOCK"
	assert_line "X-Forwarded-For: [1.2.3.4] => 1.2.3.4  127.0.0.1 SOCK"
	assert_line "X-Forwarded-For: [::1 => 127.0.0.1 SOCK 127.0.0.1 SOCK"
	assert_line "X-Forwarded-For: [] => 127.0.0.1 SOCK 127.0.0.1 SOCK"
}

# A server trusting set_real_ip_from $1 with X-Forwarded-For (recursive
# when $2 is "true"), also listening on [::1]:$V6_PORT, passing "/" to the test backend and "/php/" to a
# php-fpm pool, "/deny/" (a file) allowing only 1.2.3.4; logs in $T.
proxied_conf() {
	cat >"$T/html/addr.php" <<'PHP'
<?php
header('Content-Type: text/plain');
echo $_SERVER['REMOTE_ADDR'], ' ', $_SERVER['REMOTE_PORT'], "\n";
PHP
	mkdir -p "$T/html/deny"
	echo allowed >"$T/html/deny/index.html"
	chmod -R a+rX "$T/html"
	start_testd a
	start_php_pool p
	V6_PORT="$(free_port)"
	{
		WORKERS=1 base_conf
		cat <<CONF
server {
    listen = {127.0.0.1:$HTTP_PORT, "[::1]:$V6_PORT"}
    set_real_ip_from = {$1}
    real_ip_header = "X-Forwarded-For"
    real_ip_recursive = $2
    location / {
        fastcgi_pass = 127.0.0.1:$TESTD_PORT_a
        include("$REPO/etc/fastcgi_params")
        fastcgi_param { REALIP_REMOTE_ADDR = "\$realip_remote_addr" }
    }
    location "/php/" {
        fastcgi_pass = 127.0.0.1:$PHP_PORT_p
        include("$REPO/etc/fastcgi_params")
        fastcgi_param { SCRIPT_FILENAME = "$T/html/addr.php" }
    }
    location "/deny/" {
        access = {"allow 1.2.3.4", "deny all"}
        root = "$T/html"
    }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	wait_port "$V6_PORT" ::1
	URL="http://127.0.0.1:$HTTP_PORT"
}

@test "a trusted peer's X-Forwarded-For reaches REMOTE_ADDR (php-fpm, test backend), \$realip_remote_addr keeps the peer" {
	# pins that the phase runs before the FastCGI params are built
	proxied_conf '"127.0.0.1"' true
	run curl -sS -H 'X-Forwarded-For: 203.0.113.9' "$URL/php/x"
	assert_success
	assert_output "203.0.113.9 "
	run curl -sS -H 'X-Forwarded-For: 203.0.113.9:4242' "$URL/php/x"
	assert_output "203.0.113.9 4242"
	run curl -sS -H 'X-Forwarded-For: 198.51.100.7, 127.0.0.1' \
		"$URL/x?mode=echo"
	assert_line "REMOTE_ADDR=198.51.100.7"
	assert_line "REMOTE_PORT="
	assert_line "REALIP_REMOTE_ADDR=127.0.0.1"
	# no header: the socket's own address in both
	run curl -sS "$URL/x?mode=echo"
	assert_line "REMOTE_ADDR=127.0.0.1"
	assert_line "REALIP_REMOTE_ADDR=127.0.0.1"
	assert_line --regexp '^REMOTE_PORT=[0-9]+$'
}

@test "an untrusted peer's X-Forwarded-For changes nothing: REMOTE_ADDR, allow/deny, the logs" {
	# pins the trust check: 127.0.0.1 is not in set_real_ip_from here,
	# so every forged header is ignored
	proxied_conf '"10.0.0.0/8", "::1", "unix:"' true
	run curl -sS -H 'X-Forwarded-For: 1.2.3.4' "$URL/x?mode=echo"
	assert_line "REMOTE_ADDR=127.0.0.1"
	run curl -sS -H 'X-Forwarded-For: 1.2.3.4' "$URL/php/x"
	assert_output --regexp '^127\.0\.0\.1 [0-9]+$'
	run curl -sS -o /dev/null -w '%{http_code}' \
		-H 'X-Forwarded-For: 1.2.3.4' -H 'X-Real-IP: 1.2.3.4' \
		"$URL/deny/"
	assert_output 403
	run grep -c '^1\.2\.3\.4 ' "$T/access.log"
	assert_output 0
	run grep -c '^127\.0\.0\.1 ' "$T/access.log"
	assert_output 3
	run grep 'access forbidden by rule' "$T/error.log"
	assert_output --partial "client: 127.0.0.1,"
	# the same forged header from ::1, which is trusted, does move it
	run curl -sS -w ' %{http_code}' -H 'X-Forwarded-For: 1.2.3.4' \
		"http://[::1]:$V6_PORT/deny/"
	assert_output "allowed
 200"
	run curl -sS -H 'X-Forwarded-For: 1.2.3.4' "http://[::1]:$V6_PORT/x?mode=echo"
	assert_line "REMOTE_ADDR=1.2.3.4"
	assert_line "REALIP_REMOTE_ADDR=::1"
}

@test "allow/deny, the access log and the error log see the real address" {
	# pins that access rules run on the replaced address, and both logs
	# write it
	proxied_conf '"127.0.0.1"' false
	run curl -sS -w ' %{http_code}' -H 'X-Forwarded-For: 1.2.3.4' "$URL/deny/"
	assert_output "allowed
 200"
	run curl -sS -o /dev/null -w '%{http_code}' \
		-H 'X-Forwarded-For: 1.2.3.4, 5.6.7.8' "$URL/deny/"
	assert_output 403
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/deny/"
	assert_output 403
	run grep 'access forbidden by rule' "$T/error.log"
	assert_line --partial "client: 5.6.7.8,"
	assert_line --partial "client: 127.0.0.1,"
	refute_line --partial "client: 1.2.3.4,"
	run cut -d' ' -f1,9 "$T/access.log"
	assert_output "1.2.3.4 200
5.6.7.8 403
127.0.0.1 403"
	# a URI refused while the head is read is the socket's, as in nginx,
	# whose realip runs after that
	run python3 "$REPO/t/lib/raw_request.py" "$HTTP_PORT" \
		'GET /../x HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n'
	assert_line "HTTP/1.1 400 Bad Request"
	run grep 'sent an invalid URI' "$T/error.log"
	assert_output --partial "client 127.0.0.1 sent an invalid URI"
	run tail -n 1 "$T/access.log"
	assert_output --regexp '^127\.0\.0\.1 .* 400 '
}

@test "keep-alive: the next request on the connection, pipelined or not, starts from the socket's address" {
	# pins the restore at the end of each request (request_reset,
	# request_free): the proxy's word holds for one request only
	proxied_conf '"127.0.0.1"' false
	run python3 - "$HTTP_PORT" <<'PY'
import re, socket, sys, time
port = int(sys.argv[1])
def req(xff, close=False):
    h = "GET /deny/ HTTP/1.1\r\nHost: t\r\n"
    if xff:
        h += "X-Forwarded-For: " + xff + "\r\n"
    if close:
        h += "Connection: close\r\n"
    return (h + "\r\n").encode()
def read_all(s):
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            return out
        out += d
def read_one(s):
    out = b""
    while b"\r\n\r\n" not in out:
        out += s.recv(65536)
    head, body = out.split(b"\r\n\r\n", 1)
    n = int([l for l in head.split(b"\r\n")
             if l.lower().startswith(b"content-length:")][0].split(b":")[1])
    while len(body) < n:
        body += s.recv(65536)
    return head.split(b"\r\n")[0].decode() + " " + body[:n].decode()
# one after the other on one connection
s = socket.create_connection(("127.0.0.1", port), timeout=5)
for xff in ["1.2.3.4", None, "1.2.3.4"]:
    s.sendall(req(xff))
    print("seq", read_one(s).split(" ")[1])
    time.sleep(0.05)
s.close()
# pipelined in one write
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(req("1.2.3.4") + req(None) + req("1.2.3.4", True))
out = read_all(s).decode()
print("pipe", " ".join(re.findall(r"HTTP/1\.1 (\d+) ", out)))
PY
	assert_success
	assert_output "seq 200
seq 403
seq 200
pipe 200 403 200"
	# the 403s were logged with the socket's address
	run cut -d' ' -f1,9 "$T/access.log"
	assert_output "1.2.3.4 200
127.0.0.1 403
1.2.3.4 200
1.2.3.4 200
127.0.0.1 403
1.2.3.4 200"
}

@test "set_real_ip_from unix: trusts clients of a unix listen, and only them" {
	# pins the unix: entry against a unix socket's peer, and that a TCP
	# peer is not covered by it
	local tcp
	tcp="$(free_port)"
	{
		WORKERS=1 base_conf
		cat <<CONF
set_real_ip_from = {"unix:"}
real_ip_header = "X-Forwarded-For"
server {
    listen = {"unix:$T/fcgate.sock", 127.0.0.1:$tcp}
    location / { return = "200 $RET" }
}
CONF
	} >"$T/fcgate.conf"
	HTTP_PORT="$tcp"
	start_fcgate "$T/fcgate.conf"
	wait_file "$T/fcgate.sock"
	run curl -sS --unix-socket "$T/fcgate.sock" \
		-H 'X-Forwarded-For: 192.0.2.5' http://t/
	assert_output "192.0.2.5  unix: "
	run curl -sS --unix-socket "$T/fcgate.sock" http://t/
	assert_output "unix:  unix: "
	run curl -sS -H 'X-Forwarded-For: 192.0.2.5' "http://127.0.0.1:$tcp/"
	assert_output --regexp '^127\.0\.0\.1 ([0-9]+) 127\.0\.0\.1 \1$'
}

@test "a server inherits each realip directive from the top level on its own; its own replace them" {
	# pins the per-directive inheritance of conf_build_realip.c
	local a b c
	a="$(free_port)" b="$(free_port)" c="$(free_port)"
	{
		WORKERS=1 base_conf
		cat <<CONF
set_real_ip_from = {"127.0.0.1"}
real_ip_header = "X-Forwarded-For"
server { listen = {127.0.0.1:$a}  location / { return = "200 \$remote_addr" } }
server { listen = {127.0.0.1:$b}  real_ip_recursive = true
         set_real_ip_from = {"127.0.0.1", "10.0.0.0/8"}
         location / { return = "200 \$remote_addr" } }
server { listen = {127.0.0.1:$c}  set_real_ip_from = {"10.0.0.0/8"}
         location / { return = "200 \$remote_addr" } }
CONF
	} >"$T/fcgate.conf"
	HTTP_PORT="$a"
	start_fcgate "$T/fcgate.conf"
	local h='X-Forwarded-For: 1.2.3.4, 10.0.0.1'
	run curl -sS -H "$h" "http://127.0.0.1:$a/"
	assert_output "10.0.0.1"
	run curl -sS -H "$h" "http://127.0.0.1:$b/"
	assert_output "1.2.3.4"
	run curl -sS -H "$h" "http://127.0.0.1:$c/"
	assert_output "127.0.0.1"
}

@test "real_ip_header = proxy_protocol on a connection without a PROXY header leaves the address" {
	# pins that a trusted peer without a PROXY header (a listen without
	# proxy_protocol) is not moved by any header it sends, while the
	# same request to a server reading X-Real-IP is
	local other
	other="$(free_port)"
	{
		WORKERS=1 base_conf
		cat <<CONF
set_real_ip_from = {"127.0.0.1"}
real_ip_header = "proxy_protocol"
server { listen = {127.0.0.1:$HTTP_PORT}  location / { return = "200 \$remote_addr" } }
server { listen = {127.0.0.1:$other}  real_ip_header = "X-Real-IP"
         location / { return = "200 \$remote_addr" } }
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	run curl -sS -H 'X-Forwarded-For: 1.2.3.4' -H 'X-Real-IP: 1.2.3.4' \
		"http://127.0.0.1:$HTTP_PORT/"
	assert_output "127.0.0.1"
	run curl -sS -H 'X-Forwarded-For: 1.2.3.4' -H 'X-Real-IP: 1.2.3.4' \
		"http://127.0.0.1:$other/"
	assert_output "1.2.3.4"
}

@test "ip_hash on the real address behind a trusting listener: spread over the servers, stable, as nginx's ip_hash" {
	# pins that the balancer hashes the replaced c->peer: 60 clients
	# behind one proxy address spread over three servers, each always to
	# the same one, the one nginx's ip_hash behind realip picks
	local np addrs a
	start_testd a
	start_testd b
	start_testd c
	np="$(free_port)"
	{
		WORKERS=2 base_conf
		cat <<CONF
upstream app {
    balance = ip_hash
    server 127.0.0.1:$TESTD_PORT_a {}
    server 127.0.0.1:$TESTD_PORT_b {}
    server 127.0.0.1:$TESTD_PORT_c {}
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    set_real_ip_from = {"127.0.0.1"}
    real_ip_header = "X-Forwarded-For"
    location / { fastcgi_pass = app  include("$REPO/etc/fastcgi_params") }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	addrs="$(for i in $(seq 1 60); do
		echo "$((i * 37 % 223 + 1)).$((i * 11 % 250)).$i.$((i * 7 % 250))"
	done)"
	pick_all() {
		local a
		for a in $addrs; do
			echo "$a $(curl -sS -H "X-Forwarded-For: $a" \
				"$1/x?mode=echo" | sed -n 's/^backend=//p')"
		done
	}
	pick_all "http://127.0.0.1:$HTTP_PORT" >"$T/first"
	pick_all "http://127.0.0.1:$HTTP_PORT" >"$T/second"
	run diff "$T/first" "$T/second"
	assert_success
	# every server got some of them
	for a in a b c; do
		run grep -c " $a\$" "$T/first"
		[ "$output" -ge 5 ]
	done
	# each client went where nginx's ip_hash (written out in
	# t/lib/ip_hash.py) sends it: server index 0 1 2 = a b c
	python3 "$REPO/t/lib/ip_hash.py" 1,1,1 - $addrs |
		awk '{ print $1, substr("abc", $2 + 1, 1) }' >"$T/model"
	run diff "$T/model" "$T/first"
	assert_success
	[ -x /usr/sbin/nginx ] || return 0
	start_nginx "    upstream app {
        ip_hash;
        server 127.0.0.1:$TESTD_PORT_a;
        server 127.0.0.1:$TESTD_PORT_b;
        server 127.0.0.1:$TESTD_PORT_c;
    }
    server {
        listen 127.0.0.1:$np;
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;
        location / { include /etc/nginx/fastcgi_params; fastcgi_pass app; }
    }" "$np"
	pick_all "http://127.0.0.1:$np" >"$T/nginx"
	run diff "$T/nginx" "$T/first"
	assert_success
}
