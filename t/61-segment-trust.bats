#!/usr/bin/env bats
# The master signals and waits only on the children it forked.  Workers map
# the segment read-write, so pids written into its worker table must not
# steer the master's kill() or waitpid().

load helper

setup() {
	fcg_setup
	echo hi >"$T/html/index.html"
	{
		WORKERS=2 base_conf
		cat <<CONF
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = "$T/html"
}
CONF
	} >"$T/fcgate.conf"
}

teardown() {
	fcg_teardown
}

# The worker table starts after the 64-byte header; each slot is 64 bytes
# and starts with its pid (int32), then its state (shared/shm.h).
# poke_slot SLOT PID [STATE]
poke_slot() {
	python3 - "$T/fcgate.shm" "$@" <<'PY'
import mmap, struct, sys
path, slot, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    off = 64 + 64 * slot
    struct.pack_into("<i", m, off, pid)
    if len(sys.argv) > 4:
        struct.pack_into("<i", m, off + 4, int(sys.argv[4]))
    m.close()
PY
}

# victim VAR: a process of our own for the master to leave alone.
victim() {
	sleep 60 </dev/null >/dev/null 2>&1 &
	fcg_track $!
	eval "$1=$!"
}

# workers_of PID: how many children PID has.
workers_of() {
	pgrep -P "$1" | wc -l
}

@test "pids written into the segment's worker table are never signalled" {
	start_fcgate "$T/fcgate.conf"
	wait_file "$T/fcgate.pid"
	for _ in $(seq 1 50); do
		[ "$(workers_of "$FCGATE_PID")" -eq 2 ] && break
		sleep 0.1
	done
	victim v0
	victim v1
	victim v5
	# the two live workers' slots and a free one (marked running)
	poke_slot 0 "$v0"
	poke_slot 1 "$v1"
	poke_slot 5 "$v5" 2
	kill -TTOU "$FCGATE_PID"
	for _ in $(seq 1 50); do
		[ "$(workers_of "$FCGATE_PID")" -eq 1 ] && break
		sleep 0.1
	done
	[ "$(workers_of "$FCGATE_PID")" -eq 1 ]
	kill -0 "$v0" && kill -0 "$v1" && kill -0 "$v5"
	# a reload retires the current generation
	poke_slot 0 "$v0"
	poke_slot 1 "$v1"
	kill -HUP "$FCGATE_PID"
	for _ in $(seq 1 50); do
		grep -q 'reloaded: generation 1' "$T/error.log" && break
		sleep 0.1
	done
	grep -q 'reloaded: generation 1' "$T/error.log"
	sleep 0.5
	kill -0 "$v0" && kill -0 "$v1" && kill -0 "$v5"
	run curl -sS "http://127.0.0.1:$HTTP_PORT/"
	assert_output hi
	[ "$(workers_of "$FCGATE_PID")" -eq 2 ]
	# and a graceful stop ends the real workers and the master only
	poke_slot 0 "$v0"
	poke_slot 1 "$v1"
	kill -QUIT "$FCGATE_PID"
	for _ in $(seq 1 50); do
		kill -0 "$FCGATE_PID" 2>/dev/null || break
		sleep 0.1
	done
	run kill -0 "$FCGATE_PID"
	assert_failure
	kill -0 "$v0" && kill -0 "$v1" && kill -0 "$v5"
}

@test "a reload carries counters by name, not by what the old segment says" {
	start_testd a
	{
		base_conf
		cat <<CONF
upstream app {
    server 127.0.0.1:$TESTD_PORT_a {}
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
	start_fcgate "$T/fcgate.conf"
	for i in 1 2 3; do
		curl -sS -o /dev/null "http://127.0.0.1:$HTTP_PORT/x.php?mode=echo"
	done
	# A worker overwrites the header's server count and the first
	# server's upstream name (servers start after the header, 256
	# worker slots and one 128-byte upstream record).
	python3 - "$T/fcgate.shm" <<'PY'
import mmap, struct, sys
with open(sys.argv[1], "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    struct.pack_into("<I", m, 20, 0x7fffffff)	# nservers
    m[64 + 256 * 64 + 128:64 + 256 * 64 + 132] = b"zzz\0"
    m.close()
PY
	kill -HUP "$FCGATE_PID"
	for _ in $(seq 1 50); do
		grep -q 'reloaded: generation 1' "$T/error.log" && break
		sleep 0.1
	done
	grep -q 'reloaded: generation 1' "$T/error.log"
	kill -0 "$FCGATE_PID"
	run "$FCGATECTL" -m "$T/fcgate.shm" status
	assert_output --regexp "127.0.0.1:$TESTD_PORT_a +up +1/1 +0 +[0-9]+/[0-9]+ +3 "
}

@test "fcgatectl signals the master named in the segment only if it is its master" {
	start_fcgate "$T/fcgate.conf"
	wait_file "$T/fcgate.pid"
	victim v
	# the header's master_pid (int32 at byte 28), as a worker could set it
	python3 - "$T/fcgate.shm" "$v" <<'PY'
import mmap, struct, sys
with open(sys.argv[1], "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    struct.pack_into("<i", m, 28, int(sys.argv[2]))
    m.close()
PY
	run "$FCGATECTL" -m "$T/fcgate.shm" stop
	assert_failure
	assert_output --partial "pid $v named in $T/fcgate.shm is not its fcgate master"
	sleep 0.2
	kill -0 "$v"
	# a worker's pid is refused too when the workers run as another user
	if [ "$(id -u)" = 0 ]; then
		worker="$(pgrep -P "$FCGATE_PID" | head -1)"
		python3 - "$T/fcgate.shm" "$worker" <<'PY'
import mmap, struct, sys
with open(sys.argv[1], "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    struct.pack_into("<i", m, 28, int(sys.argv[2]))
    m.close()
PY
		run "$FCGATECTL" -m "$T/fcgate.shm" reopen
		assert_failure
		kill -0 "$worker"
	fi
	python3 - "$T/fcgate.shm" "$FCGATE_PID" <<'PY'
import mmap, struct, sys
with open(sys.argv[1], "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    struct.pack_into("<i", m, 28, int(sys.argv[2]))
    m.close()
PY
	run "$FCGATECTL" -m "$T/fcgate.shm" reload
	assert_success
	for _ in $(seq 1 50); do
		grep -q 'reloaded: generation 1' "$T/error.log" && break
		sleep 0.1
	done
	grep -q 'reloaded: generation 1' "$T/error.log"
}
