#!/bin/bash
# make demo: fcgate in the foreground in front of four real PHP-FPM pools
# shaped like the sample configuration (etc/fcgate.conf): three on
# 127.0.0.1:9001-9003 and the backup on a unix socket.  Everything runs in
# /tmp/fcgate-demo on loopback.  Ctrl-C stops fcgate and the pools.
#
#   etc/demo/run.sh            run until Ctrl-C
#   etc/demo/run.sh --check    start, make a few requests, stop (exit 0 ok)
set -eu

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${FCGATE_BUILD:-build}"
case "$BUILD" in /*) ;; *) BUILD="$REPO/$BUILD" ;; esac
DEMO=/tmp/fcgate-demo
PHP_FPM="${PHP_FPM:-php-fpm8.2}"
PIDS=""
MODE="${1:-run}"

stop_all() {
	for pid in $PIDS; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $PIDS; do
		wait "$pid" 2>/dev/null || true
	done
	PIDS=""
}
trap 'stop_all' EXIT
trap 'stop_all; exit 130' INT TERM

wait_for() {	# wait_for TEST ARG: up to 10 s
	i=0
	while ! "$1" "$2"; do
		i=$((i + 1))
		[ "$i" -le 100 ] || { echo "demo: $2 did not come up" >&2; exit 1; }
		sleep 0.1
	done
}
is_sock() { [ -S "$1" ]; }

for p in 8080 9001 9002 9003; do
	if bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" 2>/dev/null; then
		echo "demo: 127.0.0.1:$p is already in use; stop what listens" \
		    "there (or an earlier demo) first" >&2
		exit 1
	fi
done
[ -x "$BUILD/fcgate" ] || { echo "demo: build first (make)" >&2; exit 1; }

rm -rf "$DEMO"
mkdir -p "$DEMO"
cp -r "$REPO/etc/fcgate.conf" "$REPO/etc/fastcgi_params" \
    "$REPO/etc/mime.types" "$REPO/etc/html" "$DEMO/"
chmod -R a+rX "$DEMO"
# The demo always runs two workers, whatever the CPU count ("auto"), and
# keeps its run-time files and its backup pool's socket in $DEMO.
sed -i -e 's/^workers *= *auto\b/workers     = 2   /' \
    -e "s|/run/fcgate/|$DEMO/|" -e "s|/var/log/fcgate/|$DEMO/|" \
    -e "s|unix:/run/php/php-fpm.sock|unix:$DEMO/php-backup.sock|" \
    "$DEMO/fcgate.conf"

# One php-fpm per pool, in the foreground, each with its own config.
start_pool() {	# start_pool NAME LISTEN
	user=""
	[ "$(id -u)" -ne 0 ] || user="user = www-data
group = www-data"
	cat >"$DEMO/php-$1.conf" <<POOL
[global]
pid = $DEMO/php-$1.pid
error_log = $DEMO/php-$1.log
daemonize = no

[$1]
$user
listen = $2
listen.mode = 0666
pm = static
pm.max_children = 2
clear_env = no
env[FCGATE_POOL] = $1
POOL
	"$PHP_FPM" -F -y "$DEMO/php-$1.conf" -p "$DEMO" \
	    >>"$DEMO/php-$1.out" 2>&1 &
	PIDS="$PIDS $!"
}

tcp_up() { bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

start_pool pool1 127.0.0.1:9001
start_pool pool2 127.0.0.1:9002
start_pool pool3 127.0.0.1:9003
start_pool backup "$DEMO/php-backup.sock"
wait_for tcp_up 9001
wait_for tcp_up 9002
wait_for tcp_up 9003
wait_for is_sock "$DEMO/php-backup.sock"

"$BUILD/fcgate" -t -c "$DEMO/fcgate.conf"
"$BUILD/fcgate" -f -c "$DEMO/fcgate.conf" &
FCGATE_PID=$!
PIDS="$FCGATE_PID $PIDS"
wait_for tcp_up 8080

cat <<MSG

fcgate is running in front of four PHP-FPM pools (config: $DEMO/fcgate.conf)

  curl http://127.0.0.1:8080/                  static index.html
  curl http://127.0.0.1:8080/index.php         PHP; says which pool answered
  curl --interface 127.0.3.1 http://127.0.0.1:8080/index.php
  curl --interface 127.0.9.1 http://127.0.0.1:8080/index.php
                                               ip_hash: clients from other /24
                                               networks land on other pools
  curl http://127.0.0.1:8080/.htaccess         403 (deny = all)
  curl --data-binary @FILE http://127.0.0.1:8080/echo.php
                                               POST body echoed back

  $BUILD/fcgatectl -c $DEMO/fcgate.conf status
  $BUILD/fcgatectl -c $DEMO/fcgate.conf workers

Logs: $DEMO/error.log, $DEMO/access.log.  Ctrl-C stops everything.
MSG

if [ "$MODE" = "--check" ]; then
	fail=0
	curl -fsS http://127.0.0.1:8080/ | grep -q 'fcgate is running' ||
	    { echo "demo check: static page failed" >&2; fail=1; }
	php="$(curl -fsS -H 'X-Demo: yes' --data-binary 'hello=1' \
	    'http://127.0.0.1:8080/index.php?a=1&b=2')" || php=""
	for want in '^pool=pool' "^SCRIPT_FILENAME=$DEMO/html/index.php\$" \
	    '^REQUEST_METHOD=POST$' '^QUERY_STRING=a=1&b=2$' \
	    '^CONTENT_LENGTH=7$' '^HTTP_X_DEMO=yes$' '^body_bytes=7$'; do
		echo "$php" | grep -q "$want" ||
		    { echo "demo check: PHP page lacks $want" >&2; fail=1; }
	done
	code="$(curl -sS -o /dev/null -w '%{http_code}' \
	    http://127.0.0.1:8080/.htaccess)"
	[ "$code" = 403 ] || { echo "demo check: .htaccess gave $code" >&2; fail=1; }
	head -c 1048576 /dev/urandom >"$DEMO/post.bin"
	curl -fsS --data-binary @"$DEMO/post.bin" -o "$DEMO/post.back" \
	    http://127.0.0.1:8080/echo.php &&
	    cmp -s "$DEMO/post.bin" "$DEMO/post.back" ||
	    { echo "demo check: 1 MiB POST not echoed intact" >&2; fail=1; }
	"$BUILD/fcgatectl" -c "$DEMO/fcgate.conf" status >"$DEMO/status" ||
	    { echo "demo check: fcgatectl status failed" >&2; fail=1; }
	cat "$DEMO/status"
	# The PHP requests above are counted on the server that took them.
	awk '$1 == "backend" && $6 > 0 { n++ } END { exit n ? 0 : 1 }' \
	    "$DEMO/status" ||
	    { echo "demo check: no requests counted" >&2; fail=1; }
	workers="$("$BUILD/fcgatectl" -c "$DEMO/fcgate.conf" workers --json |
	    grep -o '"pid"' | wc -l)"
	[ "$workers" -eq 2 ] ||
	    { echo "demo check: $workers workers, not 2" >&2; fail=1; }
	[ "$fail" -eq 0 ] && echo "demo check: ok"
	exit "$fail"
fi
wait "$FCGATE_PID"
