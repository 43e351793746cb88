#!/usr/bin/env bats
# FastCGI records and CGI response headers (unit test program):
# encoding, the record parser fed at every split, CGI header translation.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
	REPO="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
	BUILD="$REPO/${FCGATE_BUILD:-build}"
	case "${FCGATE_BUILD:-build}" in /*) BUILD="$FCGATE_BUILD" ;; esac
}

@test "fcgi unit tests: records, name-value pairs, every split, CGI headers" {
	cd "$REPO"
	run "$BUILD/fcgi_test"
	assert_success
	assert_output --regexp '^all [0-9]+ fcgi checks passed$'
	refute_output --partial "FAIL"
}
