#!/usr/bin/env bats
# Balancing algorithms (unit test program) and fcgatectl on a segment made
# by that program (`upstream_test mkseg`), without running fcgate.

load helper

UT="$BUILD/upstream_test"

setup() {
	fcg_setup
	SEG="$T/fcgate.shm"
}

teardown() {
	fcg_teardown
}

@test "upstream unit tests: SWRR, ip_hash, failures, backup, max_conns, locking" {
	run "$UT"
	assert_success
	assert_output --partial "all upstream checks passed"
	refute_output --partial "FAIL"
}

@test "fcgatectl status: header line and one aligned row per server" {
	"$UT" mkseg "$SEG" --master $$
	run "$FCGATECTL" -m "$SEG" status
	assert_success
	assert_line --index 0 --regexp "^master pid $$, up 2h0[34]m, generation 2, 2 workers$"
	assert_line --index 1 --regexp '^UPSTREAM +SERVER +STATE +WEIGHT +ACTIVE +CONNS +REQUESTS +FAILS +LAST_FAIL +2XX +3XX +4XX +5XX +AVG_MS$'
	assert_line --index 2 --regexp '^backend +10\.0\.0\.1:9000 +up +3/3 +1 +0/0 +6 +0/0 +- +4 +0 +1 +0 +13$'
	assert_line --index 3 --regexp '^backend +10\.0\.0\.2:9000 +down +1/1 +0 +0/0 +0 +0/0 +- +0 +0 +0 +0 +-$'
	assert_line --index 4 --regexp '^backend +10\.0\.0\.3:9000 +failed +2/0 +0 +0/0 +4 +1/1 +1[23]s ago +3 +0 +0 +0 +13$'
	assert_line --index 5 --regexp '^backend +10\.0\.0\.4:9000 +backup +1/1 '
	assert_line --index 6 --regexp '^127\.0\.0\.1:9100 +127\.0\.0\.1:9100 +up '
	[ "${#lines[@]}" -eq 7 ]
	# aligned: the STATE column starts at the same offset on every row
	cols="$(printf '%s\n' "${lines[@]:1}" | awk '{ print index($0, $3) }' | sort -u | wc -l)"
	[ "$cols" -eq 1 ]
}

@test "fcgatectl status --json is valid JSON with the same numbers" {
	"$UT" mkseg "$SEG" --master $$
	run "$FCGATECTL" -m "$SEG" status --json
	assert_success
	echo "$output" | python3 -m json.tool >/dev/null
	run python3 -c '
import json, sys
d = json.loads(sys.argv[1])
b = d["upstreams"][0]
print(d["master_pid"], d["generation"], d["workers"], d["uptime_s"] >= 7380)
print(b["name"], b["balance"], [s["state"] for s in b["servers"]])
s = b["servers"][0]
print(s["addr"], s["weight"], s["conf_weight"], s["effective_weight"],
      s["active"], s["requests"], s["responses"]["2xx"],
      s["responses"]["4xx"], s["avg_response_ms"], s["last_failure_s_ago"])
f = b["servers"][2]
print(f["fails"], f["failures"], f["last_failure_s_ago"] in (12, 13))
print(d["upstreams"][1]["name"], len(d["upstreams"][1]["servers"]))
' "$output"
	assert_success
	assert_line --index 0 "$$ 2 2 True"
	assert_line --index 1 "backend ip_hash ['up', 'down', 'failed', 'backup']"
	assert_line --index 2 "10.0.0.1:9000 3 3 3 1 6 4 1 13 None"
	assert_line --index 3 "1 1 True"
	assert_line --index 4 "127.0.0.1:9100 1"
}

@test "fcgatectl workers lists the used slots" {
	"$UT" mkseg "$SEG" --master $$
	run "$FCGATECTL" -m "$SEG" workers
	assert_success
	assert_line --index 0 --regexp '^ *PID +STATE +UPTIME +CONNS +ACCEPTED +REQUESTS +GEN$'
	assert_line --index 1 --regexp '^4000 +running +[0-9]s +0 +0 +0 +0$'
	assert_line --index 2 --regexp '^4001 +running +1m0[0-9]s +1 +10 +20 +0$'
	assert_line --index 3 --regexp '^4002 +stopping +2m0[0-9]s +2 +20 +40 +0$'
	[ "${#lines[@]}" -eq 4 ]
	run "$FCGATECTL" -m "$SEG" workers --json
	assert_success
	run python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print([(w["pid"], w["state"], w["requests"]) for w in d["workers"]])
' "$output"
	assert_output "[(4000, 'running', 0), (4001, 'running', 20), (4002, 'stopping', 40)]"
}

@test "fcgatectl set changes weight and state, reflected in status" {
	"$UT" mkseg "$SEG" --master $$
	run "$FCGATECTL" -m "$SEG" set backend 10.0.0.1:9000 weight 7
	assert_success
	assert_output "backend 10.0.0.1:9000: weight 3 -> 7"
	run "$FCGATECTL" -m "$SEG" set backend 10.0.0.2:9000 up
	assert_output "backend 10.0.0.2:9000: down -> up"
	run "$FCGATECTL" -m "$SEG" set backend 10.0.0.4:9000 drain
	assert_output "backend 10.0.0.4:9000: up -> drain"
	run "$FCGATECTL" -m "$SEG" set 127.0.0.1:9100 127.0.0.1:9100 down
	assert_success
	run "$FCGATECTL" -m "$SEG" status
	assert_line --regexp '^backend +10\.0\.0\.1:9000 +up +7/3 '
	assert_line --regexp '^backend +10\.0\.0\.2:9000 +up +1/1 '
	assert_line --regexp '^backend +10\.0\.0\.4:9000 +drain '
	assert_line --regexp '^127\.0\.0\.1:9100 +127\.0\.0\.1:9100 +down '
	run "$FCGATECTL" -m "$SEG" status --json
	echo "$output" | python3 -c 'import json,sys; s=json.load(sys.stdin)["upstreams"][0]["servers"][0]; assert (s["weight"], s["conf_weight"]) == (7, 3), s'
}

# A worker maps the segment read-write: a text field it left without its
# terminating NUL must not make fcgatectl print the fields after it.
@test "fcgatectl set --json prints a server's names no longer than their fields" {
	"$UT" mkseg "$SEG" --master $$
	python3 - "$SEG" <<'PY'
import mmap, sys
with open(sys.argv[1], "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    addr = m.find(b"10.0.0.1:9000\0")
    m[addr - 64:addr] = b"B" * 64    # the record's upstream name, unended
    m.close()
PY
	run "$FCGATECTL" -m "$SEG" set backend 10.0.0.1:9000 weight 2 --json
	assert_success
	assert_output "{\"upstream\":\"$(printf 'B%.0s' $(seq 64))\",\"server\":\"10.0.0.1:9000\",\"weight\":{\"old\":3,\"new\":2}}"
}

@test "fcgatectl set: unknown names and bad values" {
	"$UT" mkseg "$SEG" --master $$
	run "$FCGATECTL" -m "$SEG" set backend 10.9.9.9:9000 down
	assert_failure 1
	assert_output "fcgatectl: no server 10.9.9.9:9000 in upstream backend"
	run "$FCGATECTL" -m "$SEG" set nosuch 10.0.0.1:9000 down
	assert_failure 1
	assert_output "fcgatectl: no upstream nosuch"
	for w in 0 1001 -1 3x ""; do
		run "$FCGATECTL" -m "$SEG" set backend 10.0.0.1:9000 weight "$w"
		assert_failure 2
		assert_output --partial "weight must be a number from 1 to 1000"
	done
	run "$FCGATECTL" -m "$SEG" set backend 10.0.0.1:9000 sideways
	assert_failure 2
	assert_output --partial "usage:"
	run "$FCGATECTL" -m "$SEG" status
	assert_line --regexp '^backend +10\.0\.0\.1:9000 +up +3/3 '
}

@test "fcgatectl usage errors exit 2" {
	run "$FCGATECTL"
	assert_failure 2
	assert_output --partial "usage: fcgatectl"
	run "$FCGATECTL" -m "$SEG" frobnicate
	assert_failure 2
	run "$FCGATECTL" -m "$SEG" status --yaml
	assert_failure 2
	run "$FCGATECTL" -m "$SEG" -c /etc/fcgate/fcgate.conf status
	assert_failure 2
	run "$FCGATECTL" -c x -m "$SEG" status
	assert_failure 2
	run "$FCGATECTL" -m "$SEG" reload now
	assert_failure 2
}

@test "fcgatectl refuses a missing segment, a foreign file, another version" {
	run "$FCGATECTL" -m "$T/nothing.shm" status
	assert_failure 1
	assert_output "fcgatectl: no segment at $T/nothing.shm (is fcgate running?)"
	head -c 100000 /dev/urandom >"$T/random"
	run "$FCGATECTL" -m "$T/random" status
	assert_failure 1
	assert_output "fcgatectl: $T/random is not an fcgate segment"
	: >"$T/empty"
	run "$FCGATECTL" -m "$T/empty" workers
	assert_failure 1
	assert_output "fcgatectl: $T/empty is not an fcgate segment"
	"$UT" mkseg "$SEG" --master $$ --version 99
	run "$FCGATECTL" -m "$SEG" status
	assert_failure 1
	assert_output "fcgatectl: $SEG has layout version 99, this fcgatectl understands 5"
	"$UT" mkseg "$SEG" --master $$
	truncate -s -64 "$SEG"
	run "$FCGATECTL" -m "$SEG" status
	assert_failure 1
	assert_output --partial "is damaged"
}

@test "fcgatectl with a dead master: clear error, exit 1, no signal sent" {
	"$UT" mkseg "$SEG" --master dead
	for cmd in status workers reload "set backend 10.0.0.1:9000 down"; do
		run "$FCGATECTL" -m "$SEG" $cmd
		assert_failure 1
		assert_output --regexp '^fcgatectl: fcgate master \(pid [0-9]+\) is not running$'
	done
	"$UT" mkseg "$SEG" --master 0
	run "$FCGATECTL" -m "$SEG" status
	assert_failure 1
	assert_output --partial "fcgate master is not running"
}

@test "fcgatectl signals the master named in the segment" {
	# a stand-in master that writes down each signal it gets; it maps
	# the segment, as fcgatectl checks that its master does
	python3 -c '
import mmap, os, signal, sys, time
def note(n, f):
    with open(sys.argv[1], "a") as out:
        out.write(signal.Signals(n).name + "\n")
for s in ("SIGHUP", "SIGTERM", "SIGQUIT", "SIGUSR1", "SIGTTIN", "SIGTTOU"):
    signal.signal(getattr(signal, s), note)
for i in range(100):
    if os.path.exists(sys.argv[2]):
        break
    time.sleep(0.05)
time.sleep(0.1)
f = open(sys.argv[2], "rb")
m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
open(sys.argv[1], "w").write("ready\n")
while True:
    signal.pause()
' "$T/signals" "$SEG" &
	pid=$!
	fcg_track "$pid"
	"$UT" mkseg "$SEG" --master "$pid"
	for i in $(seq 1 50); do
		grep -q ready "$T/signals" 2>/dev/null && break
		sleep 0.1
	done
	n=1
	for cmd in reload stop quit reopen add-worker remove-worker; do
		run "$FCGATECTL" -m "$SEG" "$cmd"
		assert_success
		assert_output ""
		n=$((n + 1))
		for i in $(seq 1 50); do
			[ "$(wc -l <"$T/signals")" -ge "$n" ] && break
			sleep 0.1
		done
	done
	kill -KILL "$pid"
	run cat "$T/signals"
	assert_output "$(printf 'ready\nSIGHUP\nSIGTERM\nSIGQUIT\nSIGUSR1\nSIGTTIN\nSIGTTOU')"
}

@test "fcgatectl -c finds the segment through the config's shm_path" {
	{
		base_conf
		cat <<CONF
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = "$T/html"
}
CONF
	} >"$T/fcgate.conf"
	run "$FCGATECTL" -c "$T/fcgate.conf" status
	assert_failure 1
	assert_output "fcgatectl: no segment at $SEG (is fcgate running?)"
	"$UT" mkseg "$SEG" --master $$
	run "$FCGATECTL" -c "$T/fcgate.conf" status
	assert_success
	assert_line --index 0 --partial "master pid $$"
	run "$FCGATECTL" -c "$T/nonexistent.conf" status
	assert_failure 1
}
