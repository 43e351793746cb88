#!/usr/bin/env bats
# A large configuration: 10,000 server blocks load, and errors deep in
# them still get their real FILE:LINE.  (Loading used to take a
# quadratic time: each location's line was found by reading the file from
# its start, and server_names were compared pair by pair.)

load helper

setup() {
	fcg_setup
	printf '# shared params\nfastcgi_index = index.php\n' >"$T/params.inc"
}

teardown() {
	fcg_teardown
}

# big_conf N [EXTRA]: N servers on one address, each with two names, two
# locations and an include; EXTRA goes last.
big_conf() {
	{
		base_conf
		python3 - "$1" <<'PY'
import sys
n = int(sys.argv[1])
print("upstream app { server 127.0.0.1:9000 {} }")
for i in range(n):
    print("# site %d" % i)
    print("server {")
    print("    listen = {127.0.0.1:8080}")
    print('    server_name = {"site%d.example", "www.site%d.example"}' % (i, i))
    print('    root = "/srv/site%d"   # its own root' % i)
    print('    location "/" { index = {index.php} }')
    print("    location '~ \\.php$' {")
    print("        fastcgi_pass = app")
    print('        include("params.inc")')
    print("    }")
    print("}")
PY
		printf '%s\n' "${2:-}"
	} >"$T/big.conf"
}

@test "10,000 server blocks pass -t (in well under a minute)" {
	big_conf 10000
	[ "$(grep -c '^server {' "$T/big.conf")" -eq 10000 ]
	run timeout 60 "$FCGATE" -t -c "$T/big.conf"
	assert_success
	assert_output --partial "test is successful"
}

@test "in 10,000 server blocks, errors at the end still name their lines" {
	big_conf 10000 'server {
    listen = {127.0.0.1:8080}
    server_name = {"site77.example"}
    location "/x" { fastcgi_pass = nowhere }
}'
	dup="$(grep -n -F 'server_name = {"site77.example"}' "$T/big.conf" | tail -1 | cut -d: -f1)"
	loc="$(grep -n -F 'location "/x"' "$T/big.conf" | cut -d: -f1)"
	run timeout 60 "$FCGATE" -t -c "$T/big.conf"
	assert_failure 1
	assert_output --partial "$T/big.conf:$loc: fastcgi_pass: unknown upstream 'nowhere'"
	assert_output --partial "$T/big.conf:$dup: duplicate server_name 'site77.example' on 127.0.0.1:8080"
	[ "$(echo "$output" | grep -c 'duplicate server_name')" -eq 1 ]
}
