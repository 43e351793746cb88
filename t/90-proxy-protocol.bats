#!/usr/bin/env bats
# The PROXY protocol (v1 and v2) on a listen with the proxy_protocol flag:
# the parser's unit test and fuzz target, the flag in the config, and
# fcgate behind HAProxy's send-proxy / send-proxy-v2 and behind
# hand-made headers (good, split, bad, slow).

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
	REPO="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
	BUILD="$REPO/${FCGATE_BUILD:-build}"
	case "${FCGATE_BUILD:-build}" in /*) BUILD="$FCGATE_BUILD" ;; esac
	cd "$REPO"
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
