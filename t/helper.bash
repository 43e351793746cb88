# Shared set-up for the bats suite: temp dirs, free loopback ports, our
# test FastCGI backend, real php-fpm pools, fcgate itself.  Everything
# started here is recorded by pid and stopped by fcg_teardown.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

REPO="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
BUILD="$REPO/${FCGATE_BUILD:-build}"
case "${FCGATE_BUILD:-build}" in /*) BUILD="$FCGATE_BUILD" ;; esac
FCGATE="$BUILD/fcgate"
FCGATECTL="$BUILD/fcgatectl"
TESTD="$BUILD/fcgi_testd"
PHP_FPM="${PHP_FPM:-php-fpm8.2}"

# Debian's python3 directly: a version manager's shim in PATH (pyenv) costs
# a third of a second per call, and the suite calls it hundreds of times.
# (PATH rather than a function: tests start python3 in the background and
# signal it by $!.)
if [ -x /usr/bin/python3 ]; then
	PATH="/usr/bin:$PATH"
fi

fcg_setup() {
	T="$(mktemp -d /tmp/fcgate-t.XXXXXX)"
	chmod 755 "$T"
	: >"$T/pids"
	mkdir -p "$T/html"
	chmod 755 "$T/html"
}

fcg_teardown() {
	local pid
	[ -n "${T:-}" ] && [ -f "$T/pids" ] || return 0
	while read -r pid; do
		kill -TERM "$pid" 2>/dev/null || true
	done <"$T/pids"
	for _ in $(seq 1 50); do
		local alive=0
		while read -r pid; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done <"$T/pids"
		[ "$alive" = 0 ] && break
		sleep 0.1
	done
	while read -r pid; do
		kill -KILL "$pid" 2>/dev/null || true
	done <"$T/pids"
	# A sanitizer report from any fcgate process fails the test.
	local report=0
	if cat "$T"/*.out 2>/dev/null |
		grep -E -q 'AddressSanitizer|LeakSanitizer|runtime error:'; then
		report=1
		cat "$T"/*.out >&3
	fi
	if [ -n "${FCG_KEEP:-}" ]; then
		echo "# kept $T" >&3
	else
		rm -rf "$T"
	fi
	[ "$report" = 0 ] || { echo "sanitizer report, see above" >&2; return 1; }
}

fcg_track() { echo "$1" >>"$T/pids"; }

# A TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT [HOST]: until something accepts there (5 s at most).
wait_port() {
	local host="${2:-127.0.0.1}"
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/$host/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "nothing listens on $host:$1" >&2
	return 1
}

wait_file() {
	for _ in $(seq 1 100); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	echo "$1 did not appear" >&2
	return 1
}

# start_testd NAME [fcgi_testd options...]: sets TESTD_PORT_<NAME>.
start_testd() {
	local name="$1" port
	shift
	port="$(free_port)"
	"$TESTD" -l "127.0.0.1:$port" -n "$name" -p "$T/testd-$name.pid" "$@" \
		>>"$T/testd-$name.log" 2>&1 &
	fcg_track $!
	wait_file "$T/testd-$name.pid"
	wait_port "$port"
	eval "TESTD_PORT_$name=$port"
}

# conns NAME: connections the gateway opened to test backend NAME so far
# (start_testd's readiness probe made the first one).
conns() {
	echo $(($(grep -c '^conn ' "$T/testd-$1.log") - 1))
}

# start_php_pool NAME [LISTEN]: a real php-fpm with one pool, in the
# foreground, on a free port of 127.0.0.1 (or LISTEN: a unix socket path
# or ADDR:PORT, ADDR any of 127.0.0.0/8),
# pm = static with PHP_CHILDREN children (4).  Sets PHP_PORT_<NAME> for
# TCP pools.
start_php_pool() {
	local name="$1" listen="${2:-}" port=""
	if [ -z "$listen" ]; then
		port="$(free_port)"
		listen="127.0.0.1:$port"
	elif [ "${listen#/}" = "$listen" ]; then
		port="${listen##*:}"
	fi
	cat >"$T/php-$name.conf" <<CONF
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
pm.max_children = ${PHP_CHILDREN:-4}
pm.status_path = /fpm-status
catch_workers_output = yes
clear_env = no
env[FCGATE_POOL] = $name
CONF
	"$PHP_FPM" -F -y "$T/php-$name.conf" -p "$T" >>"$T/php-$name.out" 2>&1 &
	fcg_track $!
	if [ -n "$port" ]; then
		wait_port "$port" "${listen%:*}"
		eval "PHP_PORT_$name=$port"
	else
		wait_file "$listen"
	fi
}

# start_fcgate CONF: fcgate -f in the background, waits for HTTP_PORT.
start_fcgate() {
	"$FCGATE" -f -c "$1" >>"$T/fcgate.out" 2>&1 &
	FCGATE_PID=$!
	fcg_track "$FCGATE_PID"
	wait_port "$HTTP_PORT"
}

# php_site_conf 'UPSTREAM BODY' [NAME]: $T/fcgate.conf with upstream NAME
# ("app") holding that body, and one server whose *.php go to it.  Sets
# HTTP_PORT; starts nothing.
php_site_conf() {
	{
		base_conf
		cat <<CONF
upstream ${2:-app} {
$1
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = "$T/html"
    location '~ \.php$' {
        fastcgi_pass = ${2:-app}
        include("$REPO/etc/fastcgi_params")
        fastcgi_param { SCRIPT_FILENAME = "\$document_root\$fastcgi_script_name" }
    }
}
CONF
	} >"$T/fcgate.conf"
}

# start_nginx HTTP_BODY PORT: Debian's nginx in $T/ngx with http {
# HTTP_BODY }, one worker, access log off, in the foreground; waits for
# PORT.  Sets NGINX_PID.
start_nginx() {
	mkdir -p "$T/ngx/logs"
	cat >"$T/ngx/nginx.conf" <<NGX
worker_processes 1;
events {}
http {
    access_log off;
$1
}
NGX
	/usr/sbin/nginx -p "$T/ngx" -c "$T/ngx/nginx.conf" \
		-g "daemon off; pid $T/ngx/nginx.pid; error_log $T/ngx/err.log;" \
		>"$T/ngx/out" 2>&1 &
	NGINX_PID=$!
	fcg_track "$NGINX_PID"
	wait_port "$2"
}

# run_unit PROGRAM NAME: run a unit test program of the build, which must
# succeed and end with "all N NAME checks passed".
run_unit() {
	run "$BUILD/$1"
	assert_success
	assert_output --regexp "(^|
)all [0-9]+ $2 checks passed\$"
	refute_output --partial "FAIL"
}

# base_conf: the global part of a config for this test's temp dir.
# Sets HTTP_PORT.
base_conf() {
	HTTP_PORT="$(free_port)"
	cat <<CONF
workers = ${WORKERS:-2}
worker_connections = ${WORKER_CONNECTIONS:-1024}
pid_file = "$T/fcgate.pid"
shm_path = "$T/fcgate.shm"
error_log = "$T/error.log"
access_log = "$T/access.log"
log_level = info
mime_types = "$REPO/etc/mime.types"
CONF
}

# free_dns_port: a port on 127.0.0.1 free for both UDP and TCP (a DNS
# server such as dnsmasq binds both).
free_dns_port() {
	python3 -c 'import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); break
    except OSError:
        pass
print(p)'
}

# start_dnsmasq ARGS...: dnsmasq on 127.0.0.1:$DNS_PORT answering the A
# records in $T/hosts (TTL 1); sets DNSMASQ_PID.
start_dnsmasq() {
	touch "$T/hosts"
	/usr/sbin/dnsmasq -k --no-resolv --no-hosts --port="$DNS_PORT" \
		--listen-address=127.0.0.1 --bind-interfaces \
		--pid-file="$T/dnsmasq.pid" --addn-hosts="$T/hosts" \
		--local-ttl=1 "$@" >>"$T/dnsmasq.out" 2>&1 &
	DNSMASQ_PID=$!
	fcg_track "$DNSMASQ_PID"
	for _ in $(seq 1 50); do
		kill -0 "$DNSMASQ_PID" 2>/dev/null || break
		dig +short +time=1 +tries=1 -p "$DNS_PORT" @127.0.0.1 probe.invalid >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$T/dnsmasq.out" >&2
	return 1
}

# hosts LINES: the A records, re-read by dnsmasq on HUP
hosts() {
	printf '%s\n' "$@" >"$T/hosts"
	[ -z "${DNSMASQ_PID:-}" ] || kill -HUP "$DNSMASQ_PID"
}
