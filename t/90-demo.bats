#!/usr/bin/env bats
# make demo's script, end to end: the sample configuration in front of four
# real PHP-FPM pools on the fixed loopback ports of etc/fcgate.conf.

load helper

@test "the demo starts, serves static and PHP pages, denies .ht files, stops clean" {
	run bash "$REPO/etc/demo/run.sh" --check
	assert_success
	assert_output --partial "demo check: ok"
	assert_output --partial "curl http://127.0.0.1:8080/index.php"
	# everything it started is gone: the ports are free again
	run bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080'
	assert_failure
	run bash -c 'exec 3<>/dev/tcp/127.0.0.1/9001'
	assert_failure
}
