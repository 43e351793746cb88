#!/usr/bin/env bats
# Operations under steady load, fcgate running as a real daemon: HUP, a
# storm of 20 HUPs, TTIN, TTOU and a worker killed with SIGKILL while
# clients keep asking; no request fails except, at most, those the killed
# worker had in hand.

load helper

setup() {
	fcg_setup
	start_testd a
	start_testd b
	echo "static" >"$T/html/index.html"
	{
		base_conf
		cat <<CONF
upstream app {
    server 127.0.0.1:$TESTD_PORT_a {}
    server 127.0.0.1:$TESTD_PORT_b {}
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
	# a real daemon: no -f, found through its pid file
	"$FCGATE" -c "$T/fcgate.conf"
	wait_file "$T/fcgate.pid"
	FCGATE_PID="$(cat "$T/fcgate.pid")"
	fcg_track "$FCGATE_PID"
	wait_port "$HTTP_PORT"
	URL="http://127.0.0.1:$HTTP_PORT"
}

teardown() {
	fcg_teardown
}

workers_json() {
	"$FCGATECTL" -m "$T/fcgate.shm" workers --json
}

nworkers() {
	workers_json | python3 -c 'import json,sys
print(sum(1 for w in json.load(sys.stdin)["workers"] if w["state"] == "running"))'
}

# wait_workers N: until N workers run (5 s at most)
wait_workers() {
	for _ in $(seq 1 100); do
		[ "$(nworkers)" -eq "$1" ] && return 0
		sleep 0.05
	done
	echo "workers: $(nworkers), wanted $1"
	return 1
}

@test "HUP, a HUP storm, TTIN, TTOU and a killed worker under load: no failed request" {
	python3 "$REPO/t/lib/load.py" "$HTTP_PORT" "/x.php?mode=echo" 9 4 >"$T/load1" &
	l1=$!
	python3 "$REPO/t/lib/load.py" "$HTTP_PORT" / 9 2 >"$T/load2" &
	l2=$!
	sleep 1
	kill -TTIN "$FCGATE_PID"
	wait_workers 3
	sleep 0.5
	kill -HUP "$FCGATE_PID"
	sleep 1
	wait_workers 2		# a reload starts the configured count again
	kill -TTIN "$FCGATE_PID"
	wait_workers 3
	kill -TTOU "$FCGATE_PID"
	wait_workers 2
	sleep 0.5
	for i in $(seq 1 20); do kill -HUP "$FCGATE_PID"; sleep 0.05; done
	sleep 1.5
	wait_workers 2
	wait "$l1"
	wait "$l2"
	cat "$T/load1" "$T/load2"
	grep -q '^failed 0$' "$T/load1"
	grep -q '^failed 0$' "$T/load2"
	[ "$(awk '/^requests/ { print $2 }' "$T/load1")" -gt 200 ]
	# HUPs that arrive while one is pending merge into it (signals do
	# not queue): between one reload for the storm and one per HUP
	gen="$("$FCGATECTL" -m "$T/fcgate.shm" status --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])')"
	[ "$gen" -ge 2 ] && [ "$gen" -le 21 ]
	kill -0 "$FCGATE_PID"
	# the screens an operator sees after such a run
	{
		echo "# \$ fcgatectl status"
		"$FCGATECTL" -m "$T/fcgate.shm" status | sed 's/^/#   /'
		echo "# \$ fcgatectl workers"
		"$FCGATECTL" -m "$T/fcgate.shm" workers | sed 's/^/#   /'
	} >&3
}

@test "a worker killed with SIGKILL under load: only its own requests may fail, it is replaced" {
	python3 "$REPO/t/lib/load.py" "$HTTP_PORT" "/x.php?mode=slow&ms=20" 5 4 >"$T/load" &
	l=$!
	sleep 1.5
	victim="$(workers_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["workers"][0]["pid"])')"
	kill -KILL "$victim"
	sleep 0.5
	wait_workers 2
	! workers_json | grep -q "\"pid\": *$victim\\b"
	wait "$l"
	cat "$T/load"
	# at most the 4 requests the victim could have had in hand
	[ "$(awk '/^failed/ { print $2 }' "$T/load")" -le 4 ]
	[ "$(awk '/^requests/ { print $2 }' "$T/load")" -gt 50 ]
	grep -q "worker process $victim exited on signal 9" "$T/error.log"
}

@test "keep-alive clients across 10 HUPs, TTIN and TTOU: no failed request" {
	python3 "$REPO/t/lib/load.py" "$HTTP_PORT" "/x.php?mode=echo" 9 4 \
		keepalive >"$T/load1" &
	local load1=$! i
	fcg_track "$load1"
	python3 "$REPO/t/lib/load.py" "$HTTP_PORT" / 9 4 keepalive-idle \
		>"$T/load2" &
	local load2=$!
	fcg_track "$load2"
	sleep 1
	for i in $(seq 1 10); do
		kill -HUP "$FCGATE_PID"
		sleep 0.5
	done
	kill -TTIN "$FCGATE_PID"
	sleep 0.5
	kill -TTOU "$FCGATE_PID"
	wait "$load1" "$load2"
	cat "$T/load1" "$T/load2" >&3
	run cat "$T/load1" "$T/load2"
	refute_line --regexp '^failed [1-9]'
	refute_line 'requests 0'
}
