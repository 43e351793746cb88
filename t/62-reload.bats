#!/usr/bin/env bats
# HUP reload: a good configuration takes over under steady load with no
# failed request, counters continue, the generation counts up; a bad one is
# logged with FILE:LINE and the running configuration stays.

load helper

setup() {
	fcg_setup
	start_testd a
	start_testd b
	mkdir -p "$T/v1" "$T/v2"
	echo "version one" >"$T/v1/index.html"
	echo "version two" >"$T/v2/index.html"
	chmod -R a+rX "$T"
	write_conf v1 "server 127.0.0.1:$TESTD_PORT_a {}"
	start_fcgate "$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
}

teardown() {
	fcg_teardown
}

# write_conf ROOT 'UPSTREAM SERVERS' [EXTRA LISTEN]
write_conf() {
	local port="${HTTP_PORT:-}"
	{
		base_conf
		cat <<CONF
upstream app {
$2
}
server {
    listen = {127.0.0.1:${port:-$HTTP_PORT}${3:+, $3}}
    root = "$T/$1"
    location '~ \.php$' {
        fastcgi_pass = app
        include("$REPO/etc/fastcgi_params")
    }
}
CONF
	} >"$T/fcgate.conf.new"
	# keep the port of the first configuration
	[ -z "$port" ] || HTTP_PORT="$port"
	mv "$T/fcgate.conf.new" "$T/fcgate.conf"
}

generation() {
	"$FCGATECTL" -m "$T/fcgate.shm" status --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])'
}

@test "HUP under steady load: new configuration, no failed request, counters kept" {
	for i in $(seq 1 10); do curl -sS -o /dev/null "$URL/x.php?mode=echo"; done
	python3 "$REPO/t/lib/load.py" "$HTTP_PORT" / 4 4 >"$T/load" &
	load=$!
	sleep 1
	extra="$(free_port)"
	write_conf v2 "server 127.0.0.1:$TESTD_PORT_a {}
server 127.0.0.1:$TESTD_PORT_b {}" "127.0.0.1:$extra"
	kill -HUP "$FCGATE_PID"
	sleep 1
	kill -HUP "$FCGATE_PID"		# and once more, while the old ones finish
	wait "$load"
	cat "$T/load"
	grep -q '^failed 0$' "$T/load"
	grep -q '^body [0-9]* version one$' "$T/load"
	grep -q '^body [0-9]* version two$' "$T/load"
	[ "$(awk '/^requests/ { print $2 }' "$T/load")" -gt 100 ]
	run curl -sS "$URL/"
	assert_output "version two"
	run curl -sS "http://127.0.0.1:$extra/"
	assert_output "version two"
	[ "$(generation)" -eq 2 ]
	# the counters of server a went on; b is new
	run "$FCGATECTL" -m "$T/fcgate.shm" status
	assert_output --regexp "127.0.0.1:$TESTD_PORT_a +up +1/1 +0 +[0-9]+/[0-9]+ +10 "
	assert_output --regexp "127.0.0.1:$TESTD_PORT_b +up +1/1 +0 +[0-9]+/[0-9]+ +0 "
	# two workers of the newest generation, the old ones gone
	sleep 1
	run "$FCGATECTL" -m "$T/fcgate.shm" workers --json
	[ "$(echo "$output" | grep -o '"pid"' | wc -l)" -eq 2 ]
	grep -q 'old worker process [0-9]* exited' "$T/error.log"
	grep -q 'reloaded: generation 2' "$T/error.log"
}

@test "HUP with a broken configuration: FILE:LINE in the log, the old one keeps serving" {
	cp "$T/fcgate.conf" "$T/good.conf"
	sed -i 's/^workers = .*/workers = 2\nmax_falis = 3/' "$T/fcgate.conf"
	kill -HUP "$FCGATE_PID"
	sleep 0.5
	grep -q "fcgate.conf:[0-9]*: .*max_falis" "$T/error.log"
	grep -q 'reload failed: .* the previous configuration stays in force' "$T/error.log"
	run curl -sS "$URL/"
	assert_output "version one"
	[ "$(generation)" -eq 0 ]
	kill -0 "$FCGATE_PID"
}

@test "HUP with a listen address that cannot be bound: logged, nothing changes" {
	busy="$(free_port)"
	python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
open(sys.argv[2], "w").close(); time.sleep(30)' "$busy" "$T/busy.ready" &
	fcg_track $!
	wait_file "$T/busy.ready"
	write_conf v2 "server 127.0.0.1:$TESTD_PORT_a {}" "127.0.0.1:$busy"
	kill -HUP "$FCGATE_PID"
	sleep 0.5
	grep -q "bind() to 127.0.0.1:$busy failed (98: Address already in use)" "$T/error.log"
	grep -q 'reload failed: cannot bind a new listen address' "$T/error.log"
	run curl -sS "$URL/"
	assert_output "version one"
	[ "$(generation)" -eq 0 ]
}

@test "fcgatectl top follows the gateway across a reload; --json on set and signals" {
	"$FCGATECTL" -m "$T/fcgate.shm" top -n 3 -d 0.6 >"$T/top" &
	top=$!
	sleep 0.8
	kill -HUP "$FCGATE_PID"
	wait "$top"
	[ "$(grep -c '^--- [0-9:]*$' "$T/top")" -eq 3 ]
	grep -q 'generation 0, 2 workers' "$T/top"
	grep -q 'generation 1, 2 workers' "$T/top"
	[ "$(grep -c '^ *PID  STATE' "$T/top")" -eq 3 ]
	run "$FCGATECTL" -m "$T/fcgate.shm" set app "127.0.0.1:$TESTD_PORT_a" weight 4 --json
	assert_success
	assert_output "{\"upstream\":\"app\",\"server\":\"127.0.0.1:$TESTD_PORT_a\",\"weight\":{\"old\":1,\"new\":4}}"
	run "$FCGATECTL" -m "$T/fcgate.shm" reopen --json
	assert_success
	assert_output "{\"signal\":\"USR1\",\"master_pid\":$FCGATE_PID}"
	run "$FCGATECTL" -m "$T/fcgate.shm" top -n 0
	assert_failure 2
}
