#!/usr/bin/env bats
# max_conns as a true capacity across all workers, kept idle connections
# included, against real php-fpm: what php-fpm itself sees (its status
# page, the connections to its port) never goes above max_conns; an idle
# connection of one worker is given up at once for a request of another;
# a worker killed while holding connections leaks none of the budget.

load helper

setup() {
	fcg_setup
	cat >"$T/html/sleep.php" <<'PHP'
<?php
usleep((int)($_GET['ms'] ?? 50) * 1000);
echo "ok\n";
PHP
}

teardown() {
	fcg_teardown
}

# fpm_pool NAME CHILDREN: a php-fpm pool on a free port, pm = static with
# CHILDREN children and its status page; sets FPM_PORT.
fpm_pool() {
	FPM_PORT="${3:-$(free_port)}"
	PHP_CHILDREN="$2" start_php_pool "$1" "127.0.0.1:$FPM_PORT"
}

# cap_conf 'UPSTREAM BODY': two workers, *.php to upstream "app".
cap_conf() {
	php_site_conf "$1"
	start_fcgate "$T/fcgate.conf"
}

# open_conns: established connections from the gateway to the pool now.
open_conns() {
	ss -Htn state established "( dport = :$FPM_PORT )" | wc -l
}

# sample_conns FILE: open_conns every 20 ms into FILE until $T/stop
# exists (at most 3000 samples).
sample_conns() {
	local i
	for i in $(seq 1 3000); do
		[ -e "$T/stop" ] && break
		open_conns >>"$1"
		sleep 0.02
	done
}

# server_field NAME: that member of the one server in `status --json`.
server_field() {
	"$FCGATECTL" -m "$T/fcgate.shm" status --json |
		python3 -c 'import json, sys
d = json.load(sys.stdin)
print(d["upstreams"][0]["servers"][0][sys.argv[1]])' "$1"
}

# stop_fcgate: TERM to the master, and wait until it is gone (5 s).
stop_fcgate() {
	kill -TERM "$FCGATE_PID"
	for _ in $(seq 1 100); do
		kill -0 "$FCGATE_PID" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# worker_pids [STATE]: the pids of the workers in that state (running).
worker_pids() {
	"$FCGATECTL" -m "$T/fcgate.shm" workers --json |
		python3 -c 'import json, sys
ws = json.load(sys.stdin)["workers"]
print(" ".join(str(w["pid"]) for w in ws if w["state"] == sys.argv[1]))' \
			"${1:-running}"
}

# worker_requests PID: requests that worker answered.
worker_requests() {
	"$FCGATECTL" -m "$T/fcgate.shm" workers --json |
		python3 -c 'import json, sys
ws = json.load(sys.stdin)["workers"]
print(sum(w["requests"] for w in ws if w["pid"] == int(sys.argv[1])))' "$1"
}

# fpm_stat 'LABEL': that line's value on the pool's own status page.
fpm_stat() {
	python3 "$REPO/t/lib/fpm_status.py" "$FPM_PORT" |
		sed -n "s/^$1: *//p"
}

@test "max_conns 2 with keepalive 16 over 2 workers: php-fpm never sees more than 2 connections, nothing waits in its backlog" {
	# Pins the budget: busy and idle connections of both workers together
	# stay within max_conns = pm.max_children.  Without it each worker
	# keeps its own idle ones, the second worker's connections queue in
	# php-fpm's backlog behind children pinned by idle connections.
	fpm_pool www 2
	cap_conf "keepalive = 16
queue = 100
server 127.0.0.1:$FPM_PORT { max_conns = 2 }"
	sample_conns "$T/samples" &
	local sampler=$!
	run python3 "$REPO/t/lib/burst.py" "$HTTP_PORT" "/sleep.php?ms=30" 120 8
	touch "$T/stop"
	wait "$sampler"
	assert_output "status 200 120"
	# the sampler saw the connections, and never more than 2
	[ "$(sort -n "$T/samples" | tail -1)" -le 2 ]
	[ "$(sort -n "$T/samples" | tail -1)" -ge 1 ]
	[ "$(server_field conns)" -le 2 ]
	[ "$(server_field conns)" -eq "$(open_conns)" ]
	! grep -q 'no live upstreams' "$T/error.log"
	# php-fpm's own view, once fcgate's idle connections are gone (the
	# status page needs a child, and they hold both) and the children
	# are back in accept(): else the status request itself waits in the
	# backlog, and is counted there
	stop_fcgate
	for _ in $(seq 1 100); do
		[ "$(ss -Htn state all "( sport = :$FPM_PORT )" |
			grep -vc LISTEN)" = 0 ] && break
		sleep 0.05
	done
	sleep 0.2
	[ "$(fpm_stat 'max listen queue')" = 0 ]
	[ "$(fpm_stat 'max children reached')" = 0 ]
	# (not "max active processes": php-fpm 8.2 counts it wrong, it grows
	# past max_children under any load)
}

@test "an idle connection kept by one worker is given up at once for a request of the other (max_conns 1)" {
	# Pins the hand-over: with the one slot held idle by worker A, a
	# request in worker B gets it at once, not after A's keepalive_timeout
	# of 60 s.  A is stopped (SIGSTOP) while B accepts the request, so the
	# request cannot land on A; A resumes 0.3 s later and hears the bell.
	fpm_pool www 1
	cap_conf "keepalive = 4
keepalive_timeout = 60s
server 127.0.0.1:$FPM_PORT { max_conns = 1 }"
	local a b p t
	run curl -sS -m 10 -o /dev/null -w '%{http_code}' \
		"http://127.0.0.1:$HTTP_PORT/sleep.php?ms=1"
	assert_output 200
	for p in $(worker_pids); do
		[ "$(worker_requests "$p")" = 1 ] && a=$p || b=$p
	done
	[ -n "$a" ] && [ -n "$b" ]
	[ "$(server_field idle)" = 1 ]
	kill -STOP "$a"
	curl -sS -m 10 -o /dev/null -w '%{http_code} %{time_total}' \
		"http://127.0.0.1:$HTTP_PORT/sleep.php?ms=1" >"$T/second" &
	p=$!
	sleep 0.3
	kill -CONT "$a"
	wait "$p"
	t="$(cat "$T/second")"
	[ "${t%% *}" = 200 ]
	# 0.3 s of the stop and a few milliseconds; 5 s is far below 60 s
	python3 -c 'import sys; sys.exit(float(sys.argv[1]) >= 5)' "${t#* }"
	[ "$(worker_requests "$b")" = 1 ]
	[ "$(server_field conns)" -le 1 ]
	[ "$(open_conns)" -le 1 ]
}

@test "SIGKILL of the workers holding idle connections: status shows the connections really open, and requests go on" {
	# Pins the master's repair: a killed worker's share of conns and idle
	# is subtracted when it is reaped, else the budget would stay used by
	# connections the kernel closed, and requests would wait for them.
	fpm_pool www 4
	cap_conf "keepalive = 4
server 127.0.0.1:$FPM_PORT { max_conns = 4 }"
	run python3 "$REPO/t/lib/burst.py" "$HTTP_PORT" "/sleep.php?ms=20" 40 4
	assert_output "status 200 40"
	[ "$(server_field idle)" -ge 1 ]
	local before pids p
	before="$(worker_pids)"
	[ "$(echo $before | wc -w)" = 2 ]
	for p in $before; do
		kill -KILL "$p"
	done
	# until two new workers run (5 s at most)
	for _ in $(seq 1 100); do
		pids="$(worker_pids)"
		[ "$(echo $pids | wc -w)" = 2 ] && ! echo " $before " |
			grep -q " ${pids%% *} " && ! echo " $before " |
			grep -q " ${pids##* } " && break
		sleep 0.05
	done
	[ "$(echo $pids | wc -w)" = 2 ]
	[ "$(server_field conns)" -eq "$(open_conns)" ]
	[ "$(server_field conns)" -eq 0 ]
	[ "$(server_field idle)" -eq 0 ]
	run python3 "$REPO/t/lib/burst.py" "$HTTP_PORT" "/sleep.php?ms=20" 40 4
	assert_output "status 200 40"
	[ "$(server_field conns)" -le 4 ]
	[ "$(server_field conns)" -eq "$(open_conns)" ]
}

@test "a worker that wrote garbage into its shadow row and died: the master clamps, survives, and requests go on" {
	# Pins that the repair trusts nothing it reads: the dead worker's row
	# says it held INT32_MAX connections, -5 idle ones and a billion
	# requests; no total goes below 0, the master lives on.  The other
	# worker is killed too, so the truth afterwards is 0 of everything
	# (a lying row makes the totals wrong for the living, not negative).
	fpm_pool www 2
	cap_conf "keepalive = 2
server 127.0.0.1:$FPM_PORT { max_conns = 2 }"
	run python3 "$REPO/t/lib/burst.py" "$HTTP_PORT" "/sleep.php?ms=5" 10 2
	assert_output "status 200 10"
	local victim all
	all="$(worker_pids)"
	victim="${all%% *}"
	# The row of the victim's slot: the shadow rows are the segment's
	# last part (no queue places here), SHM_MAX_WORKERS rows of one
	# 16-byte record per server; the worker table starts at byte 64, one
	# 64-byte slot each, the pid first.
	local conns
	conns="$(server_field conns)"
	run python3 - "$T/fcgate.shm" "$victim" <<'PY'
import mmap, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
size = os.fstat(fd).st_size
m = mmap.mmap(fd, size)
base = size - 256 * 16
# the rows add up to the total: the offsets are right
print(sum(struct.unpack_from("<i", m, base + k * 16)[0] for k in range(256)))
slot = next(k for k in range(256)
            if struct.unpack_from("<i", m, 64 + 64 * k)[0] == int(sys.argv[2]))
struct.pack_into("<iiii", m, base + slot * 16, 2**31 - 1, -5, 10**9, 2**31 - 1)
m.close()
PY
	assert_success
	[ "$output" = "$conns" ] && [ "$conns" -ge 1 ]
	kill -KILL $all
	for _ in $(seq 1 100); do
		[ "$(echo $(worker_pids) | wc -w)" = 2 ] &&
			! echo " $(worker_pids) " | grep -q " $victim " &&
			! echo " $(worker_pids) " | grep -q " ${all##* } " && break
		sleep 0.05
	done
	kill -0 "$FCGATE_PID"
	[ "$(server_field conns)" = 0 ]
	# (its row's -5 idle counts as none: what it really held stays
	# counted, shown too high but never negative)
	[ "$(server_field idle)" -ge 0 ]
	[ "$(server_field active)" = 0 ]
	run python3 "$REPO/t/lib/burst.py" "$HTTP_PORT" "/sleep.php?ms=5" 20 2
	assert_output "status 200 20"
	[ "$(open_conns)" -le 2 ]
}
