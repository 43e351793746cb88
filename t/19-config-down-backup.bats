#!/usr/bin/env bats
# `down = true` together with `backup = true` is accepted, as nginx accepts
# `server ... backup down`: a backup out of service, never used, even when
# every primary is gone (then: 502, "no live upstreams").

load helper

setup() {
	fcg_setup
	start_testd a -x "$T/a.fail"
	start_testd spare
	start_testd spare2
}

teardown() {
	fcg_teardown
}

srv() { echo "server 127.0.0.1:$(eval echo "\$TESTD_PORT_$1") { ${2:-} }"; }

# balance_conf 'UPSTREAM BODY': upstream "app" for *.php; starts fcgate.
balance_conf() {
	{
		base_conf
		cat <<CONF
upstream app {
$1
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = "$T/html"
    location '~ \.php$' {
        fastcgi_pass = app
        include("$REPO/etc/fastcgi_params")
    }
}
CONF
	} >"$T/fcgate.conf"
}

backend_of() {
	curl -sS "http://127.0.0.1:$HTTP_PORT/x.php?mode=echo" | sed -n 's/^backend=//p'
}

@test "down and backup together pass -t and the backup is never used" {
	balance_conf "$(srv a; srv spare 'down = true  backup = true')"
	run "$FCGATE" -t -c "$T/fcgate.conf"
	assert_success
	start_fcgate "$T/fcgate.conf"
	for _ in 1 2 3 4; do
		[ "$(backend_of)" = a ]
	done
	run "$FCGATECTL" -m "$T/fcgate.shm" status
	assert_output --regexp "127.0.0.1:$TESTD_PORT_spare +down "
	# every primary gone: still not the down backup
	touch "$T/a.fail"
	for _ in 1 2 3; do
		run curl -sS -o /dev/null -w '%{http_code}' \
			"http://127.0.0.1:$HTTP_PORT/x.php?mode=echo"
		assert_output 502
	done
	[ "$(conns spare)" -eq 0 ]
}

@test "a down backup beside a live one: only the live backup serves" {
	balance_conf "balance = ip_hash
$(srv a; srv spare 'backup = true  down = true'; srv spare2 'backup = true')"
	start_fcgate "$T/fcgate.conf"
	[ "$(backend_of)" = a ]
	touch "$T/a.fail"
	for _ in 1 2 3 4; do
		[ "$(backend_of)" = spare2 ]
	done
	[ "$(conns spare)" -eq 0 ]
}
