#!/usr/bin/env bats
# fcgate -t: every configuration error is reported as FILE:LINE: reason,
# with exit status 1; good configurations (and the sample) pass.

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

# line_of TEXT: the line number of the first line holding TEXT in c.conf
line_of() {
	grep -n -F -- "$1" "$T/c.conf" | head -1 | cut -d: -f1
}

@test "the sample configuration and its include pass -t" {
	run "$FCGATE" -t -c "$REPO/etc/fcgate.conf"
	assert_success
	assert_output --partial "test is successful"
}

@test "an unknown option is reported at its line despite comments above it" {
	conf_with '# one comment
# two comments
// three
server {
    listen = {127.0.0.1:8080}   # trailing comment
    bogus_option = 3
}'
	run "$FCGATE" -t -c "$T/c.conf"
	assert_failure 1
	assert_output --partial "$T/c.conf:$(line_of bogus_option): no such option 'bogus_option'"
}

@test "the seed's typo max_falis is reported at its line" {
	sed 's/max_fails = 5/max_falis = 5/' "$REPO/etc/fcgate.conf" >"$T/seed.conf"
	cp "$REPO/etc/fastcgi_params" "$REPO/etc/mime.types" "$T/"
	run "$FCGATE" -t -c "$T/seed.conf"
	assert_failure 1
	line="$(grep -n max_falis "$T/seed.conf" | cut -d: -f1)"
	assert_line "$T/seed.conf:$line: no such option 'max_falis'"
}

@test "bad values: time, size, weight, each with its own line" {
	conf_with 'upstream u {
    server 127.0.0.1:9000 { weight = 0 }
    server 127.0.0.1:9001 { fail_timeout = 3x }
}
server {
    listen = {127.0.0.1:8080}
    client_max_body_size = 10q
    location "/" { fastcgi_pass = u }
}'
	run "$FCGATE" -t -c "$T/c.conf"
	assert_failure 1
	assert_line --partial "c.conf:$(line_of 'weight = 0'): weight must be between 1"
	assert_line --partial "c.conf:$(line_of 'fail_timeout = 3x'): invalid time '3x' for fail_timeout"
	assert_line --partial "c.conf:$(line_of 'client_max_body_size = 10q'): invalid size '10q' for client_max_body_size"
}

@test "cross references: unknown upstream, bad regex, unknown variable, bad listen" {
	conf_with 'server {
    listen = {127.0.0.1:99999}
    location "~ (" { root = /tmp }
    location "/a" { fastcgi_pass = nowhere }
    location "/b" { fastcgi_pass = 127.0.0.1:9000
                    fastcgi_param { X = "$no_such_var" } }
    location "/c" { fastcgi_next_upstream = {error, sometimes} }
    location "/d" { deny = some }
}'
	run "$FCGATE" -t -c "$T/c.conf"
	assert_failure 1
	assert_line --partial "c.conf:$(line_of 'server {'): listen '127.0.0.1:99999': invalid port"
	assert_line --partial "c.conf:$(line_of '~ ('): location: invalid regex '('"
	assert_line --partial "c.conf:$(line_of nowhere): fastcgi_pass: unknown upstream 'nowhere'"
	assert_line --partial "unknown variable '\$no_such_var'"
	assert_line --partial "c.conf:$(line_of sometimes): fastcgi_next_upstream: unknown condition 'sometimes'"
	assert_line --partial "c.conf:$(line_of 'deny = some'): deny: only 'all'"
}

@test "a bad access entry, deny, expires or charset value is reported at its own line" {
	# each value is checked as it is read, so a location written over
	# several lines points at the line to fix, not at the location
	conf_with 'server {
    listen = {127.0.0.1:8080}
    location "/a" {
        root = /tmp
        access = {"allow 127.0.0.1",
                  "allow 10.0.0.0/40",
                  "deny all"}
        deny = everyone
        expires = "3 fortnights"
        charset = "utf 8"
    }
}'
	run "$FCGATE" -t -c "$T/c.conf"
	assert_failure 1
	assert_line --partial "c.conf:$(line_of 10.0.0.0/40): access 'allow 10.0.0.0/40'"
	assert_line --partial "c.conf:$(line_of everyone): deny: only 'all' is supported, not 'everyone'"
	assert_line --partial "c.conf:$(line_of fortnights): expires '3 fortnights': use a time"
	assert_line --partial "c.conf:$(line_of 'utf 8'): charset: invalid name 'utf 8'"
	[ "$(grep -c 'c.conf:' <<<"$output")" = 4 ]
}

@test "duplicates: upstream server, upstream name, server_name on one listen" {
	conf_with 'upstream u {
    server 127.0.0.1:9000 {}
    server 127.0.0.1:9000 {}
}
server { listen = {127.0.0.1:8080} }'
	run "$FCGATE" -t -c "$T/c.conf"
	assert_failure 1
	assert_output --partial "duplicate title '127.0.0.1:9000'"
	conf_with 'server { listen = {127.0.0.1:8080} server_name = {a.test} }
server { listen = {127.0.0.1:8080} server_name = {A.test} }'
	run "$FCGATE" -t -c "$T/c.conf"
	assert_failure 1
	assert_output --partial "c.conf:$(line_of A.test): duplicate server_name 'A.test' on 127.0.0.1:8080"
}

@test "no listen, no server, workers out of range" {
	conf_with 'server { root = /tmp }'
	run "$FCGATE" -t -c "$T/c.conf"
	assert_failure 1
	assert_output --partial "server has no listen"
	printf 'workers = 0\nmime_types = "%s"\n' "$REPO/etc/mime.types" >"$T/c.conf"
	run "$FCGATE" -t -c "$T/c.conf"
	assert_failure 1
	assert_line --partial "c.conf:1: workers must be \"auto\" or 1..256, not '0'"
	assert_line --partial "no server block"
}

@test "include() is relative to the including file, errors point into it" {
	mkdir -p "$T/conf.d/sub"
	printf 'fastcgi_param {\n    A = "$uri"\n}\ninclude("sub/more")\n' >"$T/conf.d/params"
	printf '# a comment\nfastcgi_index = index.php\nbogus_inner = 1\n' >"$T/conf.d/sub/more"
	conf_with 'server {
    listen = {127.0.0.1:8080}
    location "/" { fastcgi_pass = 127.0.0.1:9000 include("conf.d/params") }
}'
	run "$FCGATE" -t -c "$T/c.conf"
	assert_failure 1
	assert_output --partial "$T/conf.d/sub/more:3: no such option 'bogus_inner'"
	printf '# a comment\nfastcgi_index = index.php\n' >"$T/conf.d/sub/more"
	run "$FCGATE" -t -c "$T/c.conf"
	assert_success
	conf_with 'server { listen = {127.0.0.1:8080} include("missing.conf") }'
	run "$FCGATE" -t -c "$T/c.conf"
	assert_failure 1
	assert_output --partial "include(\"missing.conf\"): cannot read $T/missing.conf"
}

@test "fastcgi_param free-form keys raise no false errors" {
	conf_with 'server {
    listen = {127.0.0.1:8080}
    location "/" {
        fastcgi_pass = 127.0.0.1:9000
        fastcgi_param { SCRIPT_FILENAME = "$document_root$fastcgi_script_name"
                        CUSTOM = 'x${uri}y' }
    }
}'
	run "$FCGATE" -t -c "$T/c.conf"
	assert_success
	refute_output --partial "no such option"
}

@test "a missing config file exits 1 with a clear line" {
	run "$FCGATE" -t -c "$T/nope.conf"
	assert_failure 1
	assert_output --partial "nope.conf"
}

@test "every recipe passes -t where it stands in the tree (fastcgi_params beside it)" {
	# the README's --explain example and a reader's first try run the
	# recipes in place
	local f
	for f in "$REPO"/etc/recipes/*.conf; do
		run "$FCGATE" -t -c "$f"
		assert_success
	done
}
