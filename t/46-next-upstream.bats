#!/usr/bin/env bats
# fastcgi_next_upstream beyond errors: the http_403 / http_404 / http_429
# conditions (403 and 404 are no failures of the server, 429 is), the last
# try passing the answer on, and fastcgi_next_upstream_timeout.

load helper

setup() {
	fcg_setup
	start_testd a
	start_testd b
	start_testd c
}

teardown() {
	fcg_teardown
}

# nu_conf 'LOCATION EXTRA' ['SERVER OPTIONS']: upstream app over a, b, c
# (round robin, in that order), *.php passes to it; starts fcgate.
nu_conf() {
	{
		WORKERS=1 base_conf
		cat <<CONF
upstream app {
    server 127.0.0.1:$TESTD_PORT_a { ${2:-} }
    server 127.0.0.1:$TESTD_PORT_b { ${2:-} }
    server 127.0.0.1:$TESTD_PORT_c { ${2:-} }
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = "$T/html"
    location '~ \.php$' {
        fastcgi_pass = app
        include("$REPO/etc/fastcgi_params")
        $1
    }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
}

# failures NAME: the failures fcgatectl counts for test backend NAME.
failures() {
	"$FCGATECTL" -m "$T/fcgate.shm" status --json |
		python3 -c 'import json, sys
port = sys.argv[1]
for u in json.load(sys.stdin)["upstreams"]:
    for s in u["servers"]:
        if s["addr"].endswith(":" + port):
            print(s["failures"])' "$(eval echo "\$TESTD_PORT_$1")"
}

@test "http_403, http_404, http_429: a's answer sends the request to the next server" {
	for code in 403 404 429; do
		nu_conf "fastcgi_next_upstream = {error, timeout, http_$code}" \
			"max_fails = 0"
		for i in 1 2 3 4 5 6; do
			curl -sS -w '%{http_code}\n' \
				"$URL/x.php?mode=status&code=$code&on=a&i=$i"
		done >"$T/out"
		run grep -c '^200$' "$T/out"
		assert_output 6
		run grep -c "^backend=a" "$T/out"
		assert_output 0
		grep -q "upstream answered $code" "$T/error.log"
		# 403 and 404 are answers, not failures (nginx); 429 is one
		run failures a
		if [ "$code" = 429 ]; then assert_output 2; else assert_output 0; fi
		kill -TERM "$FCGATE_PID"
		for _ in $(seq 1 50); do
			kill -0 "$FCGATE_PID" 2>/dev/null || break
			sleep 0.1
		done
		: >"$T/error.log"
	done
}

@test "http_404 not listed: the 404 is the answer" {
	nu_conf ""
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/x.php?mode=status&code=404&on=a"
	assert_output 404
	run failures a
	assert_output 0
}

@test "every server answers 404: the last try's answer is passed on" {
	nu_conf "fastcgi_next_upstream = {error, http_404}"
	run curl -sS -w '%{http_code}' "$URL/x.php?mode=status&code=404"
	assert_output "status 404
404"
	[ "$(grep -c 'upstream answered 404' "$T/error.log")" -eq 2 ]
}

@test "fastcgi_next_upstream_timeout bounds the time retries may take" {
	# each try times out after 300 ms; the limit stops after the second
	nu_conf "fastcgi_read_timeout = 300ms
        fastcgi_next_upstream_timeout = 500ms" "max_fails = 0"
	run curl -sS -o /dev/null -w '%{http_code}' --max-time 5 \
		"$URL/x.php?mode=slow&ms=1500"
	assert_output 504
	[ "$(grep -c 'upstream timed out' "$T/error.log")" -eq 2 ]
	# without it every server is tried
	: >"$T/error.log"
	sed -i '/fastcgi_next_upstream_timeout/d' "$T/fcgate.conf"
	kill -HUP "$FCGATE_PID"
	sleep 1
	run curl -sS -o /dev/null -w '%{http_code}' --max-time 5 \
		"$URL/x.php?mode=slow&ms=1500&again=1"
	assert_output 504
	[ "$(grep -c 'upstream timed out' "$T/error.log")" -eq 3 ]
}

@test "fastcgi_next_upstream_timeout: -t accepts a time, refuses junk" {
	nu_conf "fastcgi_next_upstream_timeout = 10s"
	run "$FCGATE" -t -c "$T/fcgate.conf"
	assert_success
	sed -i 's/fastcgi_next_upstream_timeout = 10s/fastcgi_next_upstream_timeout = soon/' "$T/fcgate.conf"
	run "$FCGATE" -t -c "$T/fcgate.conf"
	assert_failure
	assert_output --partial "fcgate.conf:"
}

@test "fastcgi_catch_stderr: a matching stderr line before the head is an invalid answer" {
	nu_conf 'fastcgi_catch_stderr = {"Fatal-error", "out_of_cheese"}
        fastcgi_next_upstream = {error, timeout, invalid_header}' "max_fails = 0"
	for i in 1 2 3; do
		curl -sS "$URL/x.php?mode=errlog&text=PHP-Fatal-error:boom&on=a&i=$i"
	done >"$T/out"
	run grep -c '^backend=[bc]$' "$T/out"
	assert_output 3
	grep -q 'FastCGI sent in stderr: "PHP-Fatal-error:boom"' "$T/error.log"
	grep -q 'upstream sent a stderr line fastcgi_catch_stderr names' "$T/error.log"
	# every server says it: 502
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/x.php?mode=errlog&text=out_of_cheese"
	assert_output 502
	# other stderr lines are only logged
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/x.php?mode=errlog&text=PHP-Notice"
	assert_output 200
}

@test "a backend that breaks off after its head, before a byte reached the client: the next server answers" {
	nu_conf "fastcgi_next_upstream = {error, timeout, invalid_header}" "max_fails = 0"
	for i in 1 2 3; do
		curl -sS -w '%{http_code}\n' "$URL/x.php?mode=raw&n=3&end=badversion&on=a&i=$i"
	done >"$T/out"
	run grep -c '^200$' "$T/out"
	assert_output 3
	run grep -c '^backend=[bc]$' "$T/out"
	assert_output 3
	grep -q 'upstream sent invalid FastCGI record: unknown version' "$T/error.log"
}
