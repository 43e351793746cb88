#!/usr/bin/env bats
# The libFuzzer targets under t/fuzz (built by `make fuzz` into build/fuzz,
# whatever FCGATE_BUILD says), 5 seconds each over a copy of their seed
# corpus: t/fuzz/run.sh prints "FUZZ TARGET: N executions, no crash" and
# fails on a crash or a violated invariant.  A missing fuzz binary fails
# the test; it is not skipped.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
	REPO="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
	cd "$REPO"
}

# fuzz TARGET
fuzz() {
	[ -x "build/fuzz/$1" ] || fail "build/fuzz/$1 missing: run make fuzz"
	run bash t/fuzz/run.sh 3 "$1"
	assert_success
	assert_output --regexp "(^|
)FUZZ $1: [0-9]+ executions, no crash\$"
}

@test "fuzz fcgi_parse: records in random pieces against a reference reading, data within the input, stop at ERROR" {
	fuzz fcgi_fuzz
}

@test "fuzz cgi_parse_headers: head within the buffer, pointers within the head, same answer for the head alone" {
	fuzz cgi_fuzz
}

@test "fuzz http_parse_request and the chunked decoder: pointers within the head, prefixes ask for more, pieces decode alike" {
	fuzz http_fuzz
}

@test "fuzz uri_normalize: no dot segments or // left, rooted, within the output size" {
	fuzz uri_fuzz
}

@test "fuzz the connection state machine: a whole worker over a socket pair, closed within bounded rounds, no descriptor left" {
	fuzz conn_fuzz
}

@test "fuzz proxy_proto_parse: within the input, verdicts stable as bytes arrive" {
	fuzz proxy_proto_fuzz
}

@test "fuzz resolver_parse: a DNS answer of any bytes, records within it, the same answer with more room" {
	fuzz resolver_fuzz
}
