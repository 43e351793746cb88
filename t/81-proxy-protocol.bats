#!/usr/bin/env bats
# The PROXY protocol (v1 and v2) on a listen with the proxy_protocol flag:
# the parser's unit test (its fuzz target runs in t/70), the flag in the
# config, and fcgate behind HAProxy's send-proxy / send-proxy-v2 and
# behind hand-made headers (good, split, bad, slow).

bats_require_minimum_version 1.5.0
load helper

setup() {
	fcg_setup
	cd "$REPO"
}

teardown() {
	fcg_teardown
}

# listen_conf LISTEN...: a config with one server per LISTEN (each a
# quoted list body), static files only.
listen_conf() {
	base_conf
	local l
	for l in "$@"; do
		cat <<CONF
server {
    listen = {$l}
    root = "$T/html"
}
CONF
	done
}

# pp_conf: a server with a proxy_protocol listen (HTTP_PORT), a plain
# one (PLAIN_PORT) and a PHP location when PHP_PORT_pp is set; /vars
# answers with the PROXY variables and the peer's address.
pp_conf() {
	PLAIN_PORT="$(free_port)"
	base_conf
	cat <<CONF
server {
    listen = {"127.0.0.1:$HTTP_PORT proxy_protocol", "127.0.0.1:$PLAIN_PORT"}
    root = "$T/html"
    client_header_timeout = 1s
    location "= /vars" {
        return = "200 pp=[\$proxy_protocol_addr]:[\$proxy_protocol_port] to=[\$proxy_protocol_server_addr]:[\$proxy_protocol_server_port] remote=[\$remote_addr]"
    }
CONF
	if [ -n "${PHP_PORT_pp:-}" ]; then
		cat <<CONF
    location '~ \.php\$' {
        fastcgi_pass = 127.0.0.1:$PHP_PORT_pp
        include("$REPO/etc/fastcgi_params")
        fastcgi_param {
            SCRIPT_FILENAME = "\$document_root\$fastcgi_script_name"
            PP_ADDR = "\$proxy_protocol_addr"
            PP_PORT = "\$proxy_protocol_port"
            PP_SERVER_ADDR = "\$proxy_protocol_server_addr"
            PP_SERVER_PORT = "\$proxy_protocol_server_port"
        }
    }
CONF
	fi
	echo "}"
}

start_pp() {
	pp_conf >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
}

# send ARGS...: t/lib/proxy_send.py to the proxy_protocol listen.
send() {
	python3 "$REPO/t/lib/proxy_send.py" "$@"
}

# The PHP script that echoes what fcgate passed.
php_echo() {
	cat >"$T/html/pp.php" <<'PHP'
<?php
header('Content-Type: text/plain');
foreach (['PP_ADDR', 'PP_PORT', 'PP_SERVER_ADDR', 'PP_SERVER_PORT',
    'REMOTE_ADDR'] as $k)
	echo $k, "=", $_SERVER[$k] ?? '', "\n";
PHP
}

# start_haproxy: HAProxy in TCP mode on [::1] in front of HTTP_PORT, one
# frontend per way of sending the header; sets HP_V1, HP_V2, HP_TLV, and
# HP_CATCH (v2 with TLVs to CATCH_PORT, where a test listens instead).
start_haproxy() {
	HP_V1="$(free_port)"
	HP_V2="$(free_port)"
	HP_TLV="$(free_port)"
	HP_CATCH="$(free_port)"
	CATCH_PORT="$(free_port)"
	cat >"$T/haproxy.cfg" <<CFG
global
    maxconn 100
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend v1
    bind [::1]:$HP_V1
    default_backend v1
backend v1
    server fcgate 127.0.0.1:$HTTP_PORT send-proxy
frontend v2
    bind [::1]:$HP_V2
    default_backend v2
backend v2
    server fcgate 127.0.0.1:$HTTP_PORT send-proxy-v2
frontend tlv
    bind [::1]:$HP_TLV
    unique-id-format %{+X}o\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid
    default_backend tlv
backend tlv
    server fcgate 127.0.0.1:$HTTP_PORT send-proxy-v2 proxy-v2-options crc32c,unique-id,authority
frontend catch
    bind [::1]:$HP_CATCH
    unique-id-format %{+X}o\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid
    default_backend catch
backend catch
    server catch 127.0.0.1:$CATCH_PORT send-proxy-v2 proxy-v2-options crc32c,unique-id,authority
CFG
	/usr/sbin/haproxy -db -f "$T/haproxy.cfg" >>"$T/haproxy.log" 2>&1 &
	fcg_track $!
	wait_port "$HP_V1" ::1
	wait_port "$HP_V2" ::1
	wait_port "$HP_TLV" ::1
}

# Pins the parser's edges: every prefix of a good header asks for more,
# each refusal the protocol demands has its reason.
@test "proxy_proto: v1/v2 headers, prefixes, strict refusals, the 4096-byte cap" {
	run_unit proxy_proto_test proxy_proto
}

# Pins the flag's syntax: the address, then flags; -T shows it as written.
@test "config: 'ADDR proxy_protocol' is accepted, extra spaces too, and -T shows it" {
	listen_conf '"127.0.0.1:1 proxy_protocol"' '"127.0.0.1:2  proxy_protocol "' >"$T/c.conf"
	run "$FCGATE" -t -c "$T/c.conf"
	assert_success
	run --separate-stderr "$FCGATE" -T -c "$T/c.conf"
	assert_success
	assert_output --partial 'listen = {"127.0.0.1:1 proxy_protocol"}'
}

# Pins the refusals: ssl and http2 are named as not built, anything else
# is an invalid parameter, each with the file and line.
@test "config: ssl, http2 and unknown listen flags are FILE:LINE errors" {
	listen_conf '"127.0.0.1:1 ssl"' >"$T/c.conf"
	run "$FCGATE" -t -c "$T/c.conf"
	assert_failure
	assert_output --regexp "c\.conf:[0-9]+: listen '127\.0\.0\.1:1 ssl': the \"ssl\" parameter is not supported yet"
	listen_conf '"127.0.0.1:1 proxy_protocol http2"' >"$T/c.conf"
	run "$FCGATE" -t -c "$T/c.conf"
	assert_failure
	assert_output --regexp "c\.conf:[0-9]+: listen .*: the \"http2\" parameter is not supported yet"
	listen_conf '"127.0.0.1:1 proxy-protocol"' >"$T/c.conf"
	run "$FCGATE" -t -c "$T/c.conf"
	assert_failure
	assert_output --regexp "c\.conf:[0-9]+: listen .*: invalid parameter \"proxy-protocol\""
	listen_conf '"127.0.0.1:1proxy_protocol"' >"$T/c.conf"
	run "$FCGATE" -t -c "$T/c.conf"
	assert_failure
	assert_output --regexp "c\.conf:[0-9]+: listen '127\.0\.0\.1:1proxy_protocol'"
}

# Pins what PHP gets behind HAProxy: the client's address and port from
# the header (v1 text, v2 binary, v2 with TLVs that are skipped), while
# REMOTE_ADDR stays the balancer's.  The client is on ::1, HAProxy talks
# to fcgate on 127.0.0.1: the two can only be told apart by the header.
@test "behind HAProxy send-proxy, send-proxy-v2 and v2 with TLVs, PHP sees the client's address and port" {
	[ -x /usr/sbin/haproxy ] || skip "haproxy is not installed (t/deps.sh installs it)"
	php_echo
	start_php_pool pp
	start_pp
	start_haproxy
	local hp out port
	for hp in "$HP_V1" "$HP_V2" "$HP_TLV"; do
		out="$(curl -sS -g -w 'local_port=%{local_port}\n' "http://[::1]:$hp/pp.php")"
		port="$(sed -n 's/^local_port=//p' <<<"$out")"
		[ -n "$port" ] || fail "curl gave no local port: $out"
		run echo "$out"
		assert_line "PP_ADDR=::1"
		assert_line "PP_PORT=$port"
		assert_line "PP_SERVER_ADDR=::1"
		assert_line "PP_SERVER_PORT=$hp"
		assert_line "REMOTE_ADDR=127.0.0.1"
	done
	# the TLV frontend does send TLVs: its header, caught by a listener
	# in fcgate's place, is longer than the 52 bytes of TCP6 alone
	python3 -c 'import os, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); s.settimeout(10)
open(sys.argv[2] + ".ready", "w").close()
c, _ = s.accept(); c.settimeout(2); d = c.recv(4096)
open(sys.argv[2] + ".tmp", "wb").write(d); os.rename(sys.argv[2] + ".tmp", sys.argv[2])' \
	    "$CATCH_PORT" "$T/caught" &
	fcg_track $!
	wait_file "$T/caught.ready"
	curl -sS -g -m 3 "http://[::1]:$HP_CATCH/" >/dev/null 2>&1 || true
	wait_file "$T/caught"
	run python3 -c 'import sys; d = open(sys.argv[1], "rb").read()
n = 16 + (d[14] << 8 | d[15])
print("v2" if d[:12] == b"\r\n\r\n\x00\r\nQUIT\n" else "not v2", n > 52)' "$T/caught"
	assert_output "v2 True"
	# keep-alive through the balancer: the second request keeps them
	run curl -sS -g "http://[::1]:$HP_V2/pp.php" "http://[::1]:$HP_V2/pp.php"
	assert_success
	[ "$(grep -c '^PP_ADDR=::1$' <<<"$output")" = 2 ] || fail "$output"
}

# Pins v1 by hand: TCP4 and TCP6 give their addresses, UNKNOWN serves the
# request with the variables empty, and a plain listen leaves them empty.
@test "v1 by hand: TCP4, TCP6, UNKNOWN; variables empty on a plain listen" {
	start_pp
	run send "$HTTP_PORT" 'v1("TCP4", "192.0.2.1", "198.51.100.7", 56324, 443) + req("/vars")'
	assert_output --partial "pp=[192.0.2.1]:[56324] to=[198.51.100.7]:[443] remote=[127.0.0.1]"
	run send "$HTTP_PORT" 'v1("TCP6", "2001:DB8::1", "2001:db8::2", 1, 65535) + req("/vars")'
	assert_output --partial "pp=[2001:db8::1]:[1] to=[2001:db8::2]:[65535] remote=[127.0.0.1]"
	run send "$HTTP_PORT" 'b"PROXY UNKNOWN\r\n" + req("/vars")'
	assert_output --partial "HTTP/1.1 200"
	assert_output --partial "pp=[]:[] to=[]:[] remote=[127.0.0.1]"
	run send "$HTTP_PORT" 'b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n" + req("/vars")'
	assert_output --partial "pp=[]:[] to=[]:[] remote=[127.0.0.1]"
	run send "$PLAIN_PORT" 'req("/vars")'
	assert_output --partial "pp=[]:[] to=[]:[] remote=[127.0.0.1]"
}

# Pins v2 by hand: TCP4 and TCP6 addresses, UNIX and LOCAL served with the
# socket's own address, unknown TLVs (and an empty one) skipped.
@test "v2 by hand: TCP4, TCP6, UNIX, LOCAL, unknown TLVs ignored" {
	start_pp
	run send "$HTTP_PORT" 'v2(0x21, 0x11, inet4("192.0.2.1", "198.51.100.7", 4000, 80)) + req("/vars")'
	assert_output --partial "pp=[192.0.2.1]:[4000] to=[198.51.100.7]:[80] remote=[127.0.0.1]"
	run send "$HTTP_PORT" 'v2(0x21, 0x21, inet6("2001:db8::1", "::1", 5, 6)) + req("/vars")'
	assert_output --partial "pp=[2001:db8::1]:[5] to=[::1]:[6]"
	run send "$HTTP_PORT" 'v2(0x21, 0x31, unix("/run/a.sock", "/run/b.sock")) + req("/vars")'
	assert_output --partial "HTTP/1.1 200"
	assert_output --partial "pp=[]:[] to=[]:[] remote=[127.0.0.1]"
	run send "$HTTP_PORT" 'v2(0x20, 0x00) + req("/vars")'
	assert_output --partial "pp=[]:[] to=[]:[] remote=[127.0.0.1]"
	run send "$HTTP_PORT" 'v2(0x20, 0x11, inet4("192.0.2.1", "192.0.2.2", 1, 2)) + req("/vars")'
	assert_output --partial "pp=[]:[] to=[]:[] remote=[127.0.0.1]"
	run send "$HTTP_PORT" 'v2(0x21, 0x11, inet4("192.0.2.3", "192.0.2.4", 7, 8) + tlv(0xe0, b"x" * 300) + tlv(0x05, b"id") + tlv(0x04, b"")) + req("/vars")'
	assert_output --partial "pp=[192.0.2.3]:[7] to=[192.0.2.4]:[8]"
}

# Pins the reading: a header sent one byte per write, a header and two
# pipelined requests in one write (both answered with the header's
# address), a header alone with the request a moment later.
@test "header split byte by byte, header + requests in one write, request after the header" {
	start_pp
	run send --bytewise --pause 0.002 "$HTTP_PORT" 'v1("TCP4", "192.0.2.5", "192.0.2.6", 10, 20)' 'req("/vars")'
	assert_output --partial "pp=[192.0.2.5]:[10] to=[192.0.2.6]:[20]"
	run send --bytewise --pause 0.002 "$HTTP_PORT" 'v2(0x21, 0x11, inet4("192.0.2.7", "192.0.2.8", 30, 40) + tlv(0xe1, b"abc"))' 'req("/vars")'
	assert_output --partial "pp=[192.0.2.7]:[30] to=[192.0.2.8]:[40]"
	run send "$HTTP_PORT" 'v2(0x21, 0x11, inet4("192.0.2.9", "192.0.2.10", 50, 60)) + req("/vars", close=False) + req("/vars")'
	[ "$(grep -c 'pp=\[192.0.2.9\]:\[50\]' <<<"$output")" = 2 ] || fail "$output"
	run send --pause 0.2 "$HTTP_PORT" 'v1("TCP4", "192.0.2.11", "192.0.2.12", 1, 2)' 'req("/vars")'
	assert_output --partial "pp=[192.0.2.11]:[1]"
}

# log_has TEXT: the error log has a line with TEXT (a second at most).
log_has() {
	for _ in $(seq 1 20); do
		grep -F -q -- "$1" "$T/error.log" && return 0
		sleep 0.05
	done
	fail "no '$1' in the error log: $(cat "$T/error.log")"
}

# Pins the refusals: each bad header closes the connection without an
# answer (the request after it is never served) and logs one line with
# the client's address and the reason.
@test "bad headers: bad signature, bad version, oversized, no CRLF, plain HTTP: closed and logged" {
	start_pp
	run send "$HTTP_PORT" 'b"\r\n\r\n\x00\r\nQUIX\n\x21\x11\x00\x0c" + bytes(12) + req("/vars")'
	refute_output --partial "HTTP/1.1"
	log_has "broken PROXY protocol header from client 127.0.0.1: not a PROXY protocol header"
	run send "$HTTP_PORT" 'v2(0x11, 0x11, inet4("192.0.2.1", "192.0.2.2", 1, 2)) + req("/vars")'
	refute_output --partial "HTTP/1.1"
	log_has "client 127.0.0.1: a v2 signature with a version other than 2"
	run send "$HTTP_PORT" 'v2(0x21, 0x11, inet4("192.0.2.1", "192.0.2.2", 1, 2) + tlv(0xe0, b"x" * 5000)) + req("/vars")'
	refute_output --partial "HTTP/1.1"
	log_has "client 127.0.0.1: a v2 header longer than 4096 bytes"
	run send "$HTTP_PORT" 'b"PROXY UNKNOWN " + b"x" * 200 + b"\r\n" + req("/vars")'
	refute_output --partial "HTTP/1.1"
	log_has "client 127.0.0.1: no CRLF within 107 bytes of a v1 header"
	run send "$HTTP_PORT" 'v1("TCP4", "192.0.2.01", "192.0.2.2", 1, 2) + req("/vars")'
	refute_output --partial "HTTP/1.1"
	log_has "client 127.0.0.1: bad source address in a v1 header"
	run send "$HTTP_PORT" 'v2(0x21, 0x21, inet4("192.0.2.1", "192.0.2.2", 1, 2)) + req("/vars")'
	refute_output --partial "HTTP/1.1"
	log_has "client 127.0.0.1: a v2 address block too short for its family"
	run send "$HTTP_PORT" 'v2(0x21, 0x11, inet4("192.0.2.1", "192.0.2.2", 1, 2) + b"\xe0\x00") + req("/vars")'
	refute_output --partial "HTTP/1.1"
	log_has "client 127.0.0.1: a v2 TLV past the end of the header"
	# plain HTTP on a proxy_protocol listen: refused, never guessed at
	run curl -sS "http://127.0.0.1:$HTTP_PORT/vars"
	assert_failure
	log_has 'not a PROXY protocol header ("GET /vars HTTP/1.1'
	# none of them reached a location
	run cat "$T/access.log"
	refute_output --partial "/vars"
}

# Pins the ends without a whole header: EOF in the middle is closed and
# logged; a header that stops coming is closed at client_header_timeout
# (1s here; the client would wait 10s) and logged.
@test "truncated then EOF, and too slow: closed and logged" {
	start_pp
	run send --shut "$HTTP_PORT" 'v1("TCP4", "192.0.2.1", "192.0.2.2", 1, 2)[:20]'
	assert_output --regexp '^(CLOSED|RESET)$'
	log_has "client 127.0.0.1 closed the connection while sending the PROXY protocol header"
	run send --shut "$HTTP_PORT" 'v2(0x21, 0x11, inet4("192.0.2.1", "192.0.2.2", 1, 2))[:20]'
	assert_output --regexp '^(CLOSED|RESET)$'
	run send --wait 10 "$HTTP_PORT" 'v2(0x21, 0x11, inet4("192.0.2.1", "192.0.2.2", 1, 2))[:14]'
	assert_output --regexp '^(CLOSED|RESET)$'
	log_has "client 127.0.0.1 timed out before sending a whole PROXY protocol header"
	run send --wait 10 "$HTTP_PORT" 'b"PROXY TCP4 1.2"'
	assert_output --regexp '^(CLOSED|RESET)$'
	[ "$(grep -c 'timed out before sending a whole PROXY' "$T/error.log")" = 2 ] || fail "$(cat "$T/error.log")"
}

# Pins that the flag is per listen: the same bytes are a client's address
# on the proxy_protocol listen and an invalid request line (400, as nginx
# answers) on the plain listen of the same server.
@test "a PROXY header: read on the proxy_protocol listen, a bad request (400) on a plain one" {
	start_pp
	run send "$HTTP_PORT" 'v1("TCP4", "192.0.2.1", "192.0.2.2", 1, 2) + req("/vars")'
	assert_output --partial "pp=[192.0.2.1]:[1]"
	run send "$PLAIN_PORT" 'v1("TCP4", "192.0.2.1", "192.0.2.2", 1, 2) + req("/vars")'
	assert_output --partial "HTTP/1.1 400"
	refute_output --partial "pp=["
}

# Pins the shared listen record: the flag given by the second server on
# an address (by name) applies to the first (the default) too, as nginx
# merges listen flags per address.
@test "the flag on any server of an address applies to every server on it" {
	base_conf >"$T/fcgate.conf"
	cat >>"$T/fcgate.conf" <<CONF
server {
    listen = {"127.0.0.1:$HTTP_PORT"}
    server_name = {first}
    root = "$T/html"
    location "= /vars" { return = "200 first pp=[\$proxy_protocol_addr]" }
}
server {
    listen = {"127.0.0.1:$HTTP_PORT proxy_protocol"}
    server_name = {second}
    root = "$T/html"
    location "= /vars" { return = "200 second pp=[\$proxy_protocol_addr]" }
}
CONF
	start_fcgate "$T/fcgate.conf"
	run send "$HTTP_PORT" 'v1("TCP4", "192.0.2.1", "192.0.2.2", 1, 2) + req("/vars")'
	assert_output --partial "first pp=[192.0.2.1]"
	run send "$HTTP_PORT" 'req("/vars")'
	refute_output --partial "HTTP/1.1"
}

# Pins real_ip_header = proxy_protocol: behind a trusted peer the PROXY
# header's source becomes $remote_addr and $remote_port (and what access
# rules see), $realip_remote_addr keeps the socket's peer; a server that
# does not trust the peer keeps the socket's address whatever the header
# says.
@test "real_ip_header = proxy_protocol: the header's source is the client only behind a trusted peer" {
	UNTRUSTED_PORT="$(free_port)"
	{
		base_conf
		cat <<CONF
server {
    listen = {"127.0.0.1:$HTTP_PORT proxy_protocol"}
    root = "$T/html"
    set_real_ip_from = {"127.0.0.0/8"}
    real_ip_header = proxy_protocol
    location "= /vars" {
        return = "200 remote=[\$remote_addr]:[\$remote_port] realip=[\$realip_remote_addr]"
    }
    location "= /denied.txt" {
        access = {"deny 192.0.2.66", "allow all"}
    }
}
server {
    listen = {"127.0.0.1:$UNTRUSTED_PORT proxy_protocol"}
    root = "$T/html"
    set_real_ip_from = {"10.0.0.0/8"}
    real_ip_header = proxy_protocol
    location "= /vars" {
        return = "200 remote=[\$remote_addr]:[\$remote_port] realip=[\$realip_remote_addr]"
    }
}
CONF
	} >"$T/fcgate.conf"
	echo allowed >"$T/html/denied.txt"
	start_fcgate "$T/fcgate.conf"
	run send "$HTTP_PORT" 'v2(0x21, 0x11, inet4("192.0.2.1", "198.51.100.7", 40000, 443)) + req("/vars")'
	assert_output --partial "remote=[192.0.2.1]:[40000] realip=[127.0.0.1]"
	run send "$HTTP_PORT" 'v1("TCP6", "2001:db8::5", "2001:db8::2", 7, 80) + req("/vars")'
	assert_output --partial "remote=[2001:db8::5]:[7] realip=[127.0.0.1]"
	run send "$HTTP_PORT" 'v1("TCP4", "192.0.2.66", "198.51.100.7", 1, 80) + req("/denied.txt")'
	assert_output --partial "HTTP/1.1 403"
	run send "$HTTP_PORT" 'v1("TCP4", "192.0.2.67", "198.51.100.7", 1, 80) + req("/denied.txt")'
	assert_output --partial "allowed"
	# LOCAL: no client address in the header, the socket's stays.
	run send "$HTTP_PORT" 'v2(0x20, 0x00, b"") + req("/vars")'
	assert_output --partial "remote=[127.0.0.1]:["
	run send "$UNTRUSTED_PORT" 'v2(0x21, 0x11, inet4("192.0.2.1", "198.51.100.7", 40000, 443)) + req("/vars")'
	assert_output --partial "remote=[127.0.0.1]:["
	refute_output --partial "192.0.2.1"
	grep -q '192.0.2.66 .*"GET /denied.txt' "$T/access.log"
}
