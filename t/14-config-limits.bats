#!/usr/bin/env bats
# -t refuses what could not start: workers' user or group that does not
# exist (as root), an upstream with more servers than the segment has
# room for.  Each is exit 1 with FILE:LINE, for -t and for a start.

load helper

setup() {
	fcg_setup
}

teardown() {
	fcg_teardown
}

# conf_with BODY: base globals + BODY into $T/c.conf
conf_with() {
	{
		base_conf
		printf '%s\n' "$1"
	} >"$T/c.conf"
}

line_of() {
	grep -n -F -- "$1" "$T/c.conf" | head -1 | cut -d: -f1
}

@test "-t: a workers' user or group that does not exist (as root)" {
	[ "$(id -u)" = 0 ] || skip "user and group are only used as root"
	conf_with 'user = no-such-user-fcg
server { listen = {127.0.0.1:8080} }'
	run "$FCGATE" -t -c "$T/c.conf"
	assert_failure 1
	assert_output --partial "$T/c.conf:$(line_of 'user = '): user: no such user 'no-such-user-fcg'"
	# a start says the same, before anything is bound
	run timeout 10 "$FCGATE" -f -c "$T/c.conf"
	assert_failure 1
	assert_output --partial "no such user 'no-such-user-fcg'"
	conf_with 'user = nobody
group = no-such-group-fcg
server { listen = {127.0.0.1:8080} }'
	run "$FCGATE" -t -c "$T/c.conf"
	assert_failure 1
	assert_output --partial "$T/c.conf:$(line_of 'group = '): group: no such group 'no-such-group-fcg'"
	conf_with 'user = nobody
server { listen = {127.0.0.1:8080} }'
	run "$FCGATE" -t -c "$T/c.conf"
	assert_success
}

# big_upstream N: an upstream of N servers on the line after "upstream"
big_upstream() {
	python3 - "$1" <<'PY'
import sys
n = int(sys.argv[1])
print("upstream big {")
for i in range(n):
    print("    server 127.0.%d.%d:9000 {}" % (i // 250, 1 + i % 250))
print("}")
print('server { listen = {127.0.0.1:8080} location "/" { fastcgi_pass = big } }')
PY
}

@test "-t: an upstream with more servers than the segment holds" {
	conf_with "$(big_upstream 1025)"
	run "$FCGATE" -t -c "$T/c.conf"
	assert_failure 1
	assert_output --partial "$T/c.conf:$(line_of 'upstream big'): upstream big has 1025 servers, at most 1024 are supported"
	conf_with "$(big_upstream 1024)"
	run "$FCGATE" -t -c "$T/c.conf"
	assert_success
}
