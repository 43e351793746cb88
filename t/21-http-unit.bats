#!/usr/bin/env bats
# HTTP/1.x request head parser and chunked decoder (unit test program):
# smuggling vectors, limits, pipelining, every split of a chunked body.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
	REPO="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
	BUILD="$REPO/${FCGATE_BUILD:-build}"
	case "${FCGATE_BUILD:-build}" in /*) BUILD="$FCGATE_BUILD" ;; esac
}

@test "http unit tests: request heads, chunked bodies, reasons, dates" {
	cd "$REPO"
	run "$BUILD/http_test"
	assert_success
	assert_output --regexp '^all [0-9]+ http checks passed$'
	refute_output --partial "FAIL"
}
