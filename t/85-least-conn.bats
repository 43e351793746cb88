#!/usr/bin/env bats
# balance = least_conn and balance = random_two: the pick rules (unit test
# program upstream_least_test), the configuration, and against real
# php-fpm pools: load seen across workers steers new requests.

load helper

setup() {
	fcg_setup
}

teardown() {
	fcg_teardown
}

@test "least_conn, random_two pick rules: ties, weights, backups, failed, max_conns, drain, seeded draws" {
	# pins every rule of shared/upstream_least.c (see the program's tests)
	run "$BUILD/upstream_least_test"
	assert_success
	assert_output --regexp "(^|
)all [0-9]+ upstream_least checks passed\$"
	refute_output --partial "FAIL"
}
