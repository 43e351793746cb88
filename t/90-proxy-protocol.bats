#!/usr/bin/env bats
# The PROXY protocol (v1 and v2) on a listen with the proxy_protocol flag:
# the parser's unit test and fuzz target, the flag in the config, and
# fcgate behind HAProxy's send-proxy / send-proxy-v2 and behind
# hand-made headers (good, split, bad, slow).

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

# Pins the parser's edges: every prefix of a good header asks for more,
# each refusal the protocol demands has its reason.
@test "proxy_proto: v1/v2 headers, prefixes, strict refusals, the 4096-byte cap" {
	run "$BUILD/proxy_proto_test"
	assert_success
	assert_output --regexp "(^|
)all [0-9]+ proxy_proto checks passed\$"
	refute_output --partial "FAIL"
}

# Pins that no input makes the parser read past its bytes or change its
# verdict when more bytes come (build/fuzz is built by make fuzz).
@test "fuzz proxy_proto_parse: within the input, verdicts stable as bytes arrive" {
	[ -x build/fuzz/proxy_proto_fuzz ] || fail "build/fuzz/proxy_proto_fuzz missing: run make fuzz"
	run bash t/fuzz/run.sh 3 proxy_proto_fuzz
	assert_success
	assert_output --regexp "(^|
)FUZZ proxy_proto_fuzz: [0-9]+ executions, no crash\$"
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
