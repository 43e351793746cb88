#!/usr/bin/env bats
# The client connection's state machine under pressure: long pipelines,
# running out of descriptors, slow bodies, lingering close, keep-alive
# limits.

load helper

setup() {
	fcg_setup
	echo "home page" >"$T/html/index.html"
	mkdir -p "$T/html/dir"
	echo "in dir" >"$T/html/dir/index.html"
}

teardown() {
	fcg_teardown
}

# conf_static [EXTRA...]: one static server on HTTP_PORT.
conf_static() {
	{
		base_conf
		for extra in "$@"; do echo "$extra"; done
		cat <<CONF
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {localhost}
    root = "$T/html"
}
CONF
	} >"$T/fcgate.conf"
}

@test "5,000 pipelined static GETs on one connection are all answered" {
	conf_static
	start_fcgate "$T/fcgate.conf"
	run python3 "$REPO/t/lib/pipeline.py" "$HTTP_PORT" 5000 \
		/index.html,/missing,/dir,/ 60
	assert_success
	assert_output "5000 200=2500,301=1250,404=1250 eof"
	# the worker that served them is still the one that started
	run grep -c 'exited\|killed by signal' "$T/error.log"
	assert_output 0
}

@test "a pipeline does not starve another client of the same worker" {
	WORKERS=1 conf_static
	start_fcgate "$T/fcgate.conf"
	python3 "$REPO/t/lib/pipeline.py" "$HTTP_PORT" 20000 /index.html 60 \
		>"$T/pipe.out" &
	local pipe=$!
	fcg_track "$pipe"
	sleep 0.2
	run curl -sS -m 5 -o /dev/null -w '%{http_code}' \
		"http://127.0.0.1:$HTTP_PORT/index.html"
	assert_output 200
	wait "$pipe"
	run cat "$T/pipe.out"
	assert_output "20000 200=20000 eof"
}
