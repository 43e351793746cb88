#!/usr/bin/env bats
# fcgate -T: the test of -t, then every file of the configuration as nginx
# -T prints them: "# configuration file PATH:", the file's text and a line
# feed, the top file first and the include()d ones in the order they are
# read, each file once.

load helper
bats_require_minimum_version 1.5.0

setup() {
	fcg_setup
	mkdir -p "$T/conf.d/php"
	# nested: c.conf includes conf.d/site.inc, which includes php/params.inc
	# relative to itself; params.inc is included a second time later
	printf 'fastcgi_index = index.php\n' >"$T/conf.d/php/params.inc"
	printf '    location "/a/" {\n        include("php/params.inc")\n    }\n' \
		>"$T/conf.d/site.inc"
	printf '# no line feed at the end' >"$T/conf.d/last.inc"
	{
		base_conf
		cat <<CONF
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = "$T/html"
include("conf.d/site.inc")
    location "/b/" {
        include("conf.d/php/params.inc")
    }
}
include("conf.d/last.inc")
CONF
	} >"$T/c.conf"
}

teardown() {
	fcg_teardown
}

@test "-T prints each file once, in include order, as nginx -T does" {
	run --separate-stderr "$FCGATE" -T -c "$T/c.conf"
	assert_success
	[ "$stderr" = "fcgate: configuration file $T/c.conf test is successful" ]
	{
		echo "# configuration file $T/c.conf:"
		cat "$T/c.conf"
		echo
		echo "# configuration file $T/conf.d/site.inc:"
		cat "$T/conf.d/site.inc"
		echo
		echo "# configuration file $T/conf.d/php/params.inc:"
		cat "$T/conf.d/php/params.inc"
		echo
		echo "# configuration file $T/conf.d/last.inc:"
		cat "$T/conf.d/last.inc"
		echo
	} >"$T/expected"
	"$FCGATE" -T -c "$T/c.conf" 2>/dev/null >"$T/got"
	run cmp "$T/expected" "$T/got"
	assert_success
	# each file once: params.inc was included twice
	[ "$(grep -c '^# configuration file ' "$T/got")" = 4 ]
}

@test "-T on a bad configuration: the errors, exit 1, nothing on stdout" {
	printf 'fastcgi_index = index.php\nbogus_option = 1\n' >"$T/conf.d/php/params.inc"
	run --separate-stderr "$FCGATE" -T -c "$T/c.conf"
	assert_failure 1
	[ -z "$output" ]
	[[ "$stderr" == *"$T/conf.d/php/params.inc:2: no such option 'bogus_option'"* ]]
	[[ "$stderr" == *"test failed"* ]]
}

@test "-t prints no files; -T with -t is still -T" {
	run --separate-stderr "$FCGATE" -t -c "$T/c.conf"
	assert_success
	[ -z "$output" ]
	run --separate-stderr "$FCGATE" -t -T -c "$T/c.conf"
	assert_success
	[[ "$output" == "# configuration file $T/c.conf:"* ]]
}
