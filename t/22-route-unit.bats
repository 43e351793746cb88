#!/usr/bin/env bats
# Routing (unit test program): URI normalisation against traversal and
# encoding tricks, server choice by listen and Host, nginx location order.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
	REPO="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
	BUILD="$REPO/${FCGATE_BUILD:-build}"
	case "${FCGATE_BUILD:-build}" in /*) BUILD="$FCGATE_BUILD" ;; esac
}

@test "route unit tests: normalisation, server and location matching" {
	cd "$REPO"
	run "$BUILD/route_test"
	assert_success
	assert_output --regexp '^all [0-9]+ route checks passed$'
	refute_output --partial "FAIL"
}
