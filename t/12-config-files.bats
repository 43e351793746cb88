#!/usr/bin/env bats
# What may be read as configuration: only regular files of a sane size,
# without include loops.  A directory, /dev/zero, a FIFO or a loop is a
# FILE:LINE error for -t, and a failed reload that keeps the running
# configuration (it used to exit the lexer, or hang the master).

load helper

setup() {
	fcg_setup
	echo "old config" >"$T/html/index.html"
	mkdir "$T/dir"
	mkfifo "$T/fifo"
	printf 'include("loop-b.inc")\n' >"$T/loop-a.inc"
	printf 'include("loop-a.inc")\n' >"$T/loop-b.inc"
}

teardown() {
	fcg_teardown
}

# conf_including FILE: a good config plus include(FILE) on a known line
conf_including() {
	local port="${HTTP_PORT:-}"
	{
		base_conf
		[ -z "$port" ] || HTTP_PORT="$port"	# keep the first one's
		cat <<CONF
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = "$T/html"
}
CONF
		[ -z "${1:-}" ] || printf 'include("%s")\n' "$1"
	} >"$T/c.conf"
}

inc_line() {
	grep -n '^include(' "$T/c.conf" | cut -d: -f1
}

@test "-t: include() of a directory, /dev/zero, a FIFO, itself: exit 1 with FILE:LINE" {
	for inc in dir /dev/zero fifo c.conf loop-a.inc; do
		conf_including "$inc"
		run timeout 10 "$FCGATE" -t -c "$T/c.conf"
		assert_failure 1
		case "$inc" in
		dir) assert_output --partial "$T/c.conf:$(inc_line): include(\"dir\"): $T/dir is a directory" ;;
		/dev/zero) assert_output --partial "$T/c.conf:$(inc_line): include(\"/dev/zero\"): /dev/zero is not a regular file" ;;
		fifo) assert_output --partial "$T/c.conf:$(inc_line): include(\"fifo\"): $T/fifo is not a regular file" ;;
		c.conf) assert_output --partial "$T/c.conf:$(inc_line): include(\"c.conf\"): an include loop" ;;
		loop-a.inc) assert_output --partial "$T/loop-b.inc:1: include(\"loop-a.inc\"): an include loop" ;;
		esac
		assert_output --partial "test failed"
	done
}

@test "-t: a file included twice side by side is no loop; a deep chain is refused" {
	printf 'fastcgi_index = index.php\n' >"$T/p.inc"
	{
		base_conf
		cat <<CONF
upstream u { server 127.0.0.1:9 {} }
server {
    listen = {127.0.0.1:$HTTP_PORT}
    location "/a" { fastcgi_pass = u include("p.inc") }
    location "/b" { fastcgi_pass = u include("p.inc") }
}
CONF
	} >"$T/c.conf"
	run "$FCGATE" -t -c "$T/c.conf"
	assert_success
	for i in $(seq 1 12); do
		printf 'include("d%d.inc")\n' $((i + 1)) >"$T/d$i.inc"
	done
	: >"$T/d13.inc"
	conf_including d1.inc
	run timeout 10 "$FCGATE" -t -c "$T/c.conf"
	assert_failure 1
	assert_output --partial "nested too deeply"
}

@test "-t: the configuration file itself, or mime_types, that is not a regular file" {
	run timeout 10 "$FCGATE" -t -c "$T/dir"
	assert_failure 1
	assert_output --partial "$T/dir is a directory"
	run timeout 10 "$FCGATE" -t -c /dev/zero
	assert_failure 1
	assert_output --partial "/dev/zero is not a regular file"
	conf_including
	sed -i "s|^mime_types = .*|mime_types = \"$T/fifo\"|" "$T/c.conf"
	run timeout 10 "$FCGATE" -t -c "$T/c.conf"
	assert_failure 1
	assert_output --regexp "$T/c.conf:[0-9]+: mime_types: $T/fifo is not a regular file"
}

@test "HUP with such an include: logged with FILE:LINE, the old configuration keeps serving" {
	conf_including
	start_fcgate "$T/c.conf"
	wait_file "$T/fcgate.pid"
	n=0
	for inc in dir /dev/zero fifo c.conf loop-a.inc; do
		n=$((n + 1))
		conf_including "$inc"
		kill -HUP "$FCGATE_PID"
		for _ in $(seq 1 50); do
			[ "$(grep -c 'reload failed' "$T/error.log")" -ge "$n" ] && break
			sleep 0.1
		done
		[ "$(grep -c 'reload failed' "$T/error.log")" -eq "$n" ]
		kill -0 "$FCGATE_PID"
		run curl -sS --max-time 5 "http://127.0.0.1:$HTTP_PORT/"
		assert_output "old config"
	done
	grep -q "c.conf:$(inc_line): include(\"dir\"): $T/dir is a directory" "$T/error.log"
	grep -q "include(\"/dev/zero\"): /dev/zero is not a regular file" "$T/error.log"
	grep -q "include(\"fifo\"): $T/fifo is not a regular file" "$T/error.log"
	grep -q "include(\"c.conf\"): an include loop" "$T/error.log"
	grep -q "loop-b.inc:1: include(\"loop-a.inc\"): an include loop" "$T/error.log"
	! grep -q 'reloaded: generation' "$T/error.log"
	# and a good file afterwards is taken
	echo "new config" >"$T/html/index.html"
	conf_including
	kill -HUP "$FCGATE_PID"
	for _ in $(seq 1 50); do
		grep -q 'reloaded: generation 1' "$T/error.log" && break
		sleep 0.1
	done
	grep -q 'reloaded: generation 1' "$T/error.log"
}

@test "HUP while memory runs out in the parser: the master survives and keeps serving" {
	[ -z "${FCGATE_SANITIZED:-}" ] || skip "address-space limits and ASan do not mix"
	conf_including
	start_fcgate "$T/c.conf"
	wait_file "$T/fcgate.pid"
	# a configuration that needs far more memory than the master may get
	python3 - "$T/big.inc" "$HTTP_PORT" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(4000):
        f.write('server { listen = {127.0.0.1:%s} server_name = {s%d} '
                'location "/" { root = "/srv" } }\n' % (sys.argv[2], i))
PY
	conf_including big.inc
	vm=$(awk '/^VmSize/ { print $2 }' "/proc/$FCGATE_PID/status")
	prlimit --pid "$FCGATE_PID" --as=$(((vm + 8192) * 1024)):unlimited
	kill -HUP "$FCGATE_PID"
	for _ in $(seq 1 100); do
		grep -q 'reload failed' "$T/error.log" && break
		sleep 0.1
	done
	prlimit --pid "$FCGATE_PID" --as=unlimited:unlimited
	grep -q 'reload failed' "$T/error.log"
	kill -0 "$FCGATE_PID"
	run curl -sS --max-time 5 "http://127.0.0.1:$HTTP_PORT/"
	assert_output "old config"
}
