#!/usr/bin/env bats
# server "fpm:FILE": a server that names its php-fpm pool file instead of
# an address.  The pool files are written here in php-fpm's own syntax and
# real php-fpm runs from them, so what fcgate reads is what php-fpm reads.

load helper

setup() {
	fcg_setup
	printf '<?php echo "pool=", getenv("FCGATE_POOL"), "\\n";\n' \
		>"$T/html/who.php"
}

teardown() { fcg_teardown; }

# pool_file FILE NAME LISTEN [more lines]: a php-fpm config of one pool,
# [global] first as php-fpm's own file has it.
pool_file() {
	local file="$1" name="$2" listen="$3"
	shift 3
	{
		cat <<CONF
; written by the test, in php-fpm's syntax
[global]
pid = $T/php-$name.pid
error_log = $T/php-$name.log
daemonize = no

[$name]
user = nobody
group = nogroup
listen = $listen
listen.mode = 0666
pm = static
pm.max_children = 3   ; the capacity fcgate takes as max_conns
clear_env = no
env[FCGATE_POOL] = \$pool
CONF
		local l
		for l in "$@"; do echo "$l"; done
	} >"$file"
}

# run_pool FILE: php-fpm in the foreground from that file.
run_pool() {
	"$PHP_FPM" -F -y "$1" -p "$T" >>"$T/php.out" 2>&1 &
	fcg_track $!
}

# conf_with UPSTREAMLINES [LOCATIONLINES]: fcgate.conf with upstream php
# of those lines (the first on line 10) and a PHP location (line 15 when
# the upstream has one line) with the others.
conf_with() {
	{
		base_conf
		cat <<CONF
upstream php {
$1
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = "$T/html"
    location '~ \.php$' {
        fastcgi_pass = php
${2:-}
        include("$REPO/etc/fastcgi_params")
        fastcgi_param { SCRIPT_FILENAME = "\$document_root\$fastcgi_script_name" }
    }
}
CONF
	} >"$T/fcgate.conf"
}

# json_server KEY: that member of the first server in status --json.
json_server() {
	"$FCGATECTL" -m "$T/fcgate.shm" status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)["upstreams"][0]["servers"][0]
print(json.dumps(s[sys.argv[1]]))' "$1"
}

# Pins: a TCP listen is the server's address, pm.max_children its
# max_conns, and requests reach the pool php-fpm runs from that file.
@test "a real pool file: its listen is the address, pm.max_children max_conns" {
	local port
	port="$(free_port)"
	pool_file "$T/www.conf" www "127.0.0.1:$port"
	run_pool "$T/www.conf"
	wait_port "$port"
	conf_with "    server \"fpm:$T/www.conf\" {}"
	start_fcgate "$T/fcgate.conf"
	run curl -sS "http://127.0.0.1:$HTTP_PORT/who.php"
	assert_success
	assert_output "pool=www"
	run json_server addr
	assert_output "\"127.0.0.1:$port\""
	run json_server max_conns
	assert_output "3"
	run "$FCGATECTL" -m "$T/fcgate.shm" status
	assert_output --partial "127.0.0.1:$port"
	refute_output --partial "fpm:"
}

# Pins: the pool file is read again at a reload: a new pm.max_children
# is the new max_conns; a pool file broken meanwhile keeps the running
# configuration (the reload fails with the pool file's error logged).
@test "a reload reads the pool file again" {
	local port
	port="$(free_port)"
	pool_file "$T/www.conf" www "127.0.0.1:$port"
	conf_with "    server \"fpm:$T/www.conf\" {}"
	start_fcgate "$T/fcgate.conf"
	run json_server max_conns
	assert_output "3"
	sed -i 's/^pm.max_children = 3/pm.max_children = 6/' "$T/www.conf"
	kill -HUP "$FCGATE_PID"
	for _ in $(seq 1 100); do
		[ "$(json_server max_conns 2>/dev/null)" = 6 ] && break
		sleep 0.05
	done
	run json_server max_conns
	assert_output "6"
	sed -i '/^listen = /d' "$T/www.conf"
	kill -HUP "$FCGATE_PID"
	for _ in $(seq 1 100); do
		grep -q "has no listen" "$T/error.log" && break
		sleep 0.05
	done
	run grep -c "pool file $T/www.conf:7: pool \[www\] has no listen" "$T/error.log"
	assert_output 1
	for _ in $(seq 1 100); do
		grep -q "reload failed" "$T/error.log" && break
		sleep 0.05
	done
	run grep -c "reload failed" "$T/error.log"
	assert_output 1
	run json_server max_conns
	assert_output "6"
}

# Pins: $pool in listen is the pool's name, a socket path becomes unix:,
# and max_conns on the server line wins over pm.max_children.
@test "a socket path with \$pool, and the line's own max_conns" {
	pool_file "$T/sock.conf" sock '"'"$T"'/$pool.sock"'
	run_pool "$T/sock.conf"
	wait_file "$T/sock.sock"
	conf_with "    server \"fpm:sock.conf\" { max_conns = 2 }"
	start_fcgate "$T/fcgate.conf"
	run curl -sS "http://127.0.0.1:$HTTP_PORT/who.php"
	assert_output "pool=sock"
	run json_server addr
	assert_output "\"unix:$T/sock.sock\""
	run json_server max_conns
	assert_output "2"
}

# Pins: a bare port (php-fpm listens on every address) is reached on
# 127.0.0.1.
@test "a bare port is 127.0.0.1:PORT" {
	local port
	port="$(free_port)"
	pool_file "$T/bare.conf" bare "$port"
	run_pool "$T/bare.conf"
	wait_port "$port"
	conf_with "    server \"fpm:$T/bare.conf\" {}"
	start_fcgate "$T/fcgate.conf"
	run curl -sS "http://127.0.0.1:$HTTP_PORT/who.php"
	assert_output "pool=bare"
	run json_server addr
	assert_output "\"127.0.0.1:$port\""
}

# Pins: php-fpm's value forms: single quotes with a comment after them,
# ${VAR} from the environment inside double quotes, keys before any
# section and in [global] are not the pool's.
@test "quoted values, \${VAR}, [global] keys" {
	local port
	port="$(free_port)"
	cat >"$T/q.conf" <<CONF
listen = 127.0.0.1:1
[global]
listen = 127.0.0.1:2
[q]
listen = '127.0.0.1:$port' ; the pool's own
pm.max_children = "\${FPM_TEST_CHILDREN}"
CONF
	conf_with "    server \"fpm:$T/q.conf\" {}"
	FPM_TEST_CHILDREN=5 start_fcgate "$T/fcgate.conf"
	run json_server addr
	assert_output "\"127.0.0.1:$port\""
	run json_server max_conns
	assert_output "5"
}

# Pins: of a file with several pools, #POOL picks one; without it the
# load fails and names them.
@test "several pools: fpm:FILE#POOL chooses, a bare FILE is refused" {
	local p1 p2
	p1="$(free_port)"
	p2="$(free_port)"
	pool_file "$T/two.conf" one "127.0.0.1:$p1" "" "[two]" \
		"user = nobody" "group = nogroup" "listen = 127.0.0.1:$p2" \
		"pm = static" "pm.max_children = 2" "clear_env = no" \
		"env[FCGATE_POOL] = \$pool"
	run_pool "$T/two.conf"
	wait_port "$p2"
	conf_with "    server \"fpm:$T/two.conf\" {}"
	run "$FCGATE" -t -c "$T/fcgate.conf"
	assert_failure 1
	assert_output --partial "$T/fcgate.conf:10: server 'fpm:$T/two.conf': pool file $T/two.conf: has 2 pools ([one] [two])"
	conf_with "    server \"fpm:$T/two.conf#two\" {}"
	start_fcgate "$T/fcgate.conf"
	run curl -sS "http://127.0.0.1:$HTTP_PORT/who.php"
	assert_output "pool=two"
	run json_server max_conns
	assert_output "2"
}

# Pins: each bad pool file is an error at the server line, naming the
# pool file (and its own line when the problem is on one).
@test "bad pool files: FILE:LINE of the server line, the pool file's name" {
	local c="$T/fcgate.conf"
	conf_with "    server \"fpm:$T/missing.conf\" {}"
	run "$FCGATE" -t -c "$c"
	assert_failure 1
	assert_output --partial "$c:10: server 'fpm:$T/missing.conf': pool file $T/missing.conf: cannot open: No such file or directory"

	mkdir "$T/dir.conf"
	conf_with "    server \"fpm:$T/dir.conf\" {}"
	run "$FCGATE" -t -c "$c"
	assert_output --partial "$c:10: server 'fpm:$T/dir.conf': pool file $T/dir.conf: not a regular file"

	truncate -s 2M "$T/big.conf"
	conf_with "    server \"fpm:$T/big.conf\" {}"
	run "$FCGATE" -t -c "$c"
	assert_output --partial "$c:10: server 'fpm:$T/big.conf': pool file $T/big.conf: too large"

	printf '[www]\nuser = nobody\npm = static\n' >"$T/nolisten.conf"
	conf_with "    server \"fpm:$T/nolisten.conf\" {}"
	run "$FCGATE" -t -c "$c"
	assert_output --partial "$c:10: server 'fpm:$T/nolisten.conf': pool file $T/nolisten.conf:1: pool [www] has no listen"

	printf '[www]\nlisten = 127.0.0.1:9\npm.max_children = lots\n' \
		>"$T/badnum.conf"
	conf_with "    server \"fpm:$T/badnum.conf\" {}"
	run "$FCGATE" -t -c "$c"
	assert_output --partial "pool file $T/badnum.conf:3: pm.max_children must be a number"

	printf '[www]\nlisten = php.sock\n' >"$T/rel.conf"
	conf_with "    server \"fpm:$T/rel.conf\" {}"
	run "$FCGATE" -t -c "$c"
	assert_output --partial "pool file $T/rel.conf:2: listen 'php.sock' is a relative socket path"

	printf 'listen = 127.0.0.1:9\n' >"$T/nopool.conf"
	conf_with "    server \"fpm:$T/nopool.conf\" {}"
	run "$FCGATE" -t -c "$c"
	assert_output --partial "pool file $T/nopool.conf: no pool"
}

# Pins: a file the loader may not read is refused with the reason (as
# root every file is readable, so it is skipped there).
@test "an unreadable pool file" {
	[ "$(id -u)" != 0 ] || skip "root reads every file"
	pool_file "$T/secret.conf" www "127.0.0.1:9"
	chmod 000 "$T/secret.conf"
	conf_with "    server \"fpm:$T/secret.conf\" {}"
	run "$FCGATE" -t -c "$T/fcgate.conf"
	assert_failure 1
	assert_output --partial "pool file $T/secret.conf: cannot open: Permission denied"
}

# Pins: a pool with ping.path gives its upstream (which has no
# health_check) php-fpm's ping as the default check, asking the pool's
# own path and expecting its own response: php-fpm answers /alive only
# because the pool file says so, and a bare `yes` is the ini boolean,
# so php-fpm answers "1" (a check expecting "yes" or "pong" fails).
@test "ping.path gives the upstream a default check with the pool's ping" {
	local port
	port="$(free_port)"
	pool_file "$T/ping.conf" ping "127.0.0.1:$port" "ping.path = /alive" \
		"ping.response = yes"
	run_pool "$T/ping.conf"
	wait_port "$port"
	conf_with "    server \"fpm:$T/ping.conf\" {}"
	start_fcgate "$T/fcgate.conf"
	for _ in $(seq 1 140); do
		json_server check | grep -q '"checks": [1-9]' && break
		sleep 0.05
	done
	run json_server check
	assert_output --partial '"state": "up"'
	assert_output --regexp '"checks": [1-9]'
	assert_output --partial '"failed": 0'
}

# Pins: without ping.path (or with one plain server beside the pool) no
# check is made up.
@test "no ping.path, or a plain server beside the pool: no check" {
	local port
	port="$(free_port)"
	pool_file "$T/noping.conf" noping "127.0.0.1:$port"
	pool_file "$T/ping.conf" ping "127.0.0.1:$(free_port)" "ping.path = /ping"
	run_pool "$T/noping.conf"
	wait_port "$port"
	conf_with "    server \"fpm:$T/noping.conf\" {}
    server \"fpm:$T/ping.conf\" {}"
	start_fcgate "$T/fcgate.conf"
	run json_server check
	assert_output "null"
}

# The warnings.  Each is FILE:LINE: warning: on stderr of -t, which still
# succeeds; the master logs them at start and at reload.

# Pins: keepalive x workers above a server's max_conns is said at that
# server's line, at -t, at start and at reload; under it nothing is.
@test "warning: keepalive x workers can exceed max_conns" {
	local port
	port="$(free_port)"
	pool_file "$T/www.conf" www "127.0.0.1:$port"
	run_pool "$T/www.conf"
	wait_port "$port"
	WORKERS=2 conf_with "    keepalive = 2
    server \"fpm:$T/www.conf\" {}"
	run "$FCGATE" -t -c "$T/fcgate.conf"
	assert_success
	assert_line "$T/fcgate.conf:11: warning: upstream php: server 127.0.0.1:$port: keepalive 2 x 2 workers = 4 idle connections can exceed its max_conns 3: idle connections will be handed back constantly"
	assert_line --partial "test is successful"
	start_fcgate "$T/fcgate.conf"
	run grep -c "fcgate.conf:11: warning: upstream php: server 127.0.0.1:$port: keepalive 2" "$T/error.log"
	assert_output 1
	kill -HUP "$FCGATE_PID"
	for _ in $(seq 1 100); do
		[ "$(grep -c 'fcgate.conf:11: warning: upstream php' "$T/error.log")" -ge 2 ] && break
		sleep 0.05
	done
	run grep -c "fcgate.conf:11: warning: upstream php: server 127.0.0.1:$port: keepalive 2" "$T/error.log"
	assert_output 2

	WORKERS=1 conf_with "    keepalive = 3
    server \"fpm:$T/www.conf\" {}"
	run "$FCGATE" -t -c "$T/fcgate.conf"
	assert_success
	refute_output --partial "warning"
}

# Pins: a pool's request_terminate_timeout not above the
# fastcgi_read_timeout of a location passing to it is said at the
# location's line; and why: php-fpm kills the request, the client gets
# 502 where fastcgi_read_timeout would have given 504.
@test "warning: request_terminate_timeout shorter than fastcgi_read_timeout" {
	local port
	port="$(free_port)"
	pool_file "$T/www.conf" www "127.0.0.1:$port" \
		"request_terminate_timeout = 1s"
	run_pool "$T/www.conf"
	wait_port "$port"
	printf '<?php sleep(3); echo "late\\n";\n' >"$T/html/slow.php"
	conf_with "    server \"fpm:$T/www.conf\" {}" \
		"        fastcgi_read_timeout = 2s"
	run "$FCGATE" -t -c "$T/fcgate.conf"
	assert_success
	assert_line "$T/fcgate.conf:15: warning: location ~ \\.php\$: server 127.0.0.1:$port of upstream php (fpm:$T/www.conf) has request_terminate_timeout 1s, not above fastcgi_read_timeout 2s: php-fpm ends a slow request first and the client gets 502, not 504"
	start_fcgate "$T/fcgate.conf"
	run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/slow.php"
	assert_output 502

	pool_file "$T/long.conf" long "127.0.0.1:9" "request_terminate_timeout = 5m"
	conf_with "    server \"fpm:$T/long.conf\" {}"
	run "$FCGATE" -t -c "$T/fcgate.conf"
	assert_success
	refute_output --partial "warning"
}

# Pins: queue with no max_conns anywhere in the upstream is said at the
# upstream's line; one server with max_conns (here from pm.max_children)
# silences it.
@test "warning: queue without any max_conns" {
	conf_with "    queue = 10
    server 127.0.0.1:9 {}"
	run "$FCGATE" -t -c "$T/fcgate.conf"
	assert_success
	assert_line "$T/fcgate.conf:9: warning: upstream php: queue without any max_conns: no server is ever full, so the queue can only fill when no server is up"
	pool_file "$T/www.conf" www "127.0.0.1:8"
	conf_with "    queue = 10
    server 127.0.0.1:9 {}
    server \"fpm:$T/www.conf\" {}"
	run "$FCGATE" -t -c "$T/fcgate.conf"
	assert_success
	refute_output --partial "warning"
}

# Pins: slow_start with ip_hash is said at the server's line (it is
# ignored there); with round robin it is not.
@test "warning: slow_start with balance = ip_hash" {
	conf_with "    balance = ip_hash
    server 127.0.0.1:9 { slow_start = 30s }
    server 127.0.0.1:8 {}"
	run "$FCGATE" -t -c "$T/fcgate.conf"
	assert_success
	assert_line "$T/fcgate.conf:11: warning: slow_start of server 127.0.0.1:9 is ignored with balance = ip_hash (a ramping weight would move clients)"
	[ "$(echo "$output" | grep -c warning)" = 1 ]
	conf_with "    server 127.0.0.1:9 { slow_start = 30s }"
	run "$FCGATE" -t -c "$T/fcgate.conf"
	assert_success
	refute_output --partial "warning"
}
