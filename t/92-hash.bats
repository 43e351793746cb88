#!/usr/bin/env bats
# balance = hash with hash_key, plain and consistent: the pick rules (unit
# test program upstream_hash_test), the configuration, and side by side
# with nginx's own `hash $request_uri [consistent]` in front of the same
# test backends (TCP and unix: servers, weights, a down server); with
# consistent, the share of keys that move when a server is added or
# removed, measured through fcgate.

load helper
bats_require_minimum_version 1.5.0

setup() {
	fcg_setup
}

teardown() {
	fcg_teardown
}

@test "hash pick rules: crc32, rehash sequence, the ring, empty and gone slots, move fractions" {
	# pins shared/upstream_hash.c against numbers computed apart from it
	run_unit upstream_hash_test upstream_hash
}

# hash_conf EXTRA...: an upstream "app" with the given lines before its
# two servers, passed to by location /.
hash_conf() {
	base_conf
	echo "upstream app {"
	printf '    %s\n' "$@"
	cat <<CONF
    server 127.0.0.1:9001 { weight = 3 }
    server 127.0.0.1:9002 { slow_start = 10s }
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    location / { fastcgi_pass = app }
}
CONF
}

@test "fcgate -t: hash_key and consistent need balance = hash, hash needs a key, with FILE:LINE" {
	# pins each refusal and where it points (the upstream's line)
	hash_conf >"$T/x.conf"
	up="$(grep -n 'upstream app' "$T/x.conf" | cut -d: -f1)"
	hash_conf "hash_key = \"\$request_uri\"" >"$T/a.conf"
	run "$FCGATE" -t -c "$T/a.conf"
	assert_failure
	assert_output --partial "$T/a.conf:$up: upstream app: hash_key needs balance = hash"
	hash_conf "consistent = true" >"$T/b.conf"
	run "$FCGATE" -t -c "$T/b.conf"
	assert_failure
	assert_output --partial "$T/b.conf:$up: upstream app: consistent = true needs balance = hash"
	hash_conf "balance = hash" >"$T/c.conf"
	run "$FCGATE" -t -c "$T/c.conf"
	assert_failure
	assert_output --partial "$T/c.conf:$up: upstream app: balance = hash needs a hash_key"
	hash_conf "balance = hash" 'hash_key = ""' >"$T/d.conf"
	run "$FCGATE" -t -c "$T/d.conf"
	assert_failure
	assert_output --partial "$T/d.conf:$up: upstream app: balance = hash needs a hash_key"
	hash_conf "balance = hash" "hash_key = \"\$no_such_thing\"" >"$T/e.conf"
	run "$FCGATE" -t -c "$T/e.conf"
	assert_failure
	assert_output --partial "$T/e.conf:$up: hash_key: unknown variable"
	hash_conf 'balance = "hash consistent"' "hash_key = \"\$uri\"" >"$T/f.conf"
	run "$FCGATE" -t -c "$T/f.conf"
	assert_failure
	assert_output --partial "$T/f.conf:$up: upstream app: balance must be round_robin, ip_hash, least_conn, random_two or hash, not 'hash consistent'"
}

@test "fcgate -t accepts hash and hash consistent, warns that slow_start is ignored, --explain picks by the key" {
	# pins the accepted forms, the warning's place, and that --explain
	# hashes the request's key rather than taking round robin's first
	for extra in "" "consistent = true"; do
		hash_conf "balance = hash" "hash_key = \"\$request_uri\"" \
			"$extra" >"$T/ok.conf"
		run "$FCGATE" -t -c "$T/ok.conf"
		assert_success
		line="$(grep -n 'slow_start' "$T/ok.conf" | cut -d: -f1)"
		assert_output --partial "$T/ok.conf:$line: warning: slow_start of server 127.0.0.1:9002 is ignored with balance = hash"
		method=hash
		[ -n "$extra" ] && method="hash consistent"
		seen=""
		for k in $(seq 1 20); do
			run --separate-stderr "$FCGATE" -c "$T/ok.conf" --explain "GET /k$k"
			assert_line --regexp "^backend   127\.0\.0\.1:900[12] of \"app\" \($method, 2 servers;"
			seen="$seen $(sed -n 's/^backend   127\.0\.0\.1:\(900[12]\).*/\1/p' <<<"$output")"
		done
		# round robin's first pick is always 9001 (weight 3): a key
		# sends some of the twenty to 9002
		[[ "$seen" == *9002* ]]
		[[ "$seen" == *9001* ]]
	done
}

# gateways METHOD SPEC...: test backends and both gateways.  Each SPEC is
# NAME:WEIGHT[:down]; a NAME starting with u listens on a unix socket.
# nginx (one worker) uses `hash $request_uri METHOD`, fcgate (two
# workers) balance = hash with hash_key = "$request_uri" and consistent
# when METHOD is "consistent".  Sets NGX_URL and URL.
gateways() {
	local method="$1" spec name weight down np ngx_servers="" fcg_servers=""
	shift
	for spec in "$@"; do
		IFS=: read -r name weight down <<<"$spec"
		if [ "${name#u}" != "$name" ]; then
			[ -e "$T/$name.sock" ] || start_unix_testd "$name"
			addr="unix:$T/$name.sock"
		else
			[ -n "$(eval echo "\${TESTD_PORT_$name:-}")" ] ||
				start_testd "$name"
			addr="127.0.0.1:$(eval echo "\$TESTD_PORT_$name")"
		fi
		ngx_servers="$ngx_servers        server $addr weight=$weight${down:+ down};
"
		fcg_servers="$fcg_servers    server \"$addr\" { weight = $weight${down:+  down = true} }
"
	done
	np="$(free_port)"
	start_nginx "    upstream h {
        hash \$request_uri $method;
$ngx_servers    }
    server {
        listen 127.0.0.1:$np;
        location / { include /etc/nginx/fastcgi_params; fastcgi_pass h; }
    }" "$np"
	NGX_URL="http://127.0.0.1:$np"
	fcgate_with "$method" "$fcg_servers"
}

stop_nginx() {
	kill -TERM "$NGINX_PID"
	for _ in $(seq 1 100); do
		kill -0 "$NGINX_PID" 2>/dev/null || return 0
		sleep 0.05
	done
}

# start_unix_testd NAME: a test backend on $T/NAME.sock.
start_unix_testd() {
	"$TESTD" -l "unix:$T/$1.sock" -n "$1" -p "$T/testd-$1.pid" \
		>>"$T/testd-$1.log" 2>&1 &
	fcg_track $!
	wait_file "$T/$1.sock"
	chmod 666 "$T/$1.sock" # nginx's worker runs as nobody
}

# fcgate_with METHOD SERVER-LINES: (re)start fcgate on that upstream.
fcgate_with() {
	if [ -n "${FCGATE_PID:-}" ]; then
		kill -TERM "$FCGATE_PID"
		for _ in $(seq 1 100); do
			kill -0 "$FCGATE_PID" 2>/dev/null || break
			sleep 0.05
		done
	fi
	{
		base_conf
		cat <<CONF
upstream h {
    balance = hash
    hash_key = "\$request_uri"
    consistent = $([ "$1" = consistent ] && echo true || echo false)
$2}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    location / {
        fastcgi_pass = h
        include("$REPO/etc/fastcgi_params")
    }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
}

# keys BASE OUT: 1000 distinct request URIs, one after the other on one
# connection; the backend of each, one a line, into OUT.
keys() {
	local i
	for i in $(seq 1 1000); do
		echo "url = \"$1/item/$i?mode=echo\""
	done >"$T/urls"
	curl -sS -K "$T/urls" | sed -n 's/^backend=//p' >"$2"
	[ "$(wc -l <"$2")" -eq 1000 ]
}

# same_picks N: both gateways send each of the 1000 keys to one server,
# the same one, and N servers get keys.
same_picks() {
	keys "$NGX_URL" "$T/ngx.picks"
	keys "$URL" "$T/fcg.picks"
	cmp "$T/ngx.picks" "$T/fcg.picks"
	[ "$(sort -u "$T/ngx.picks" | wc -l)" -eq "$1" ]
	# no server failed on the way: the keys chose them
	! grep -q 'failed\|temporarily disabled' "$T/ngx/err.log" "$T/error.log"
	keys "$URL" "$T/fcg.again"
	cmp "$T/fcg.picks" "$T/fcg.again"
}

@test "hash \$request_uri: 1000 keys go where nginx sends them, weights 3,1,1, TCP and unix:, and with one server down" {
	[ -x /usr/sbin/nginx ] || skip "nginx is not installed"
	# pins the crc32 of the key, the weighted walk and the rehash
	# sequence past a down server against nginx itself
	gateways "" a:3 b:1 uc:1
	same_picks 3
	cp "$T/ngx.picks" "$T/all-up"
	stop_nginx
	gateways "" a:3 b:1:down uc:1
	same_picks 2
	# the down server's keys went elsewhere, the others stayed
	# the down server's keys went elsewhere; the others stayed, as a
	# down server keeps its share of the total weight
	! grep -qx b "$T/ngx.picks"
	paste -d' ' "$T/all-up" "$T/ngx.picks" | awk '$1 != "b" && $1 != $2 { bad++ } END { exit bad > 0 }'
	run "$FCGATECTL" -m "$T/fcgate.shm" status --json
	assert_output --partial '"balance":"hash"'
}

@test "hash \$request_uri consistent: 1000 keys go where nginx sends them, weights 3,1,1, TCP and unix:, and with one server down" {
	[ -x /usr/sbin/nginx ] || skip "nginx is not installed"
	# pins the ring (points per weight, the seed from the server's name,
	# unix: included), the lookup and the walk past a down server
	gateways consistent a:3 b:1 uc:1
	same_picks 3
	cp "$T/ngx.picks" "$T/all-up"
	stop_nginx
	gateways consistent a:3 b:1:down uc:1
	same_picks 2
	! grep -qx b "$T/ngx.picks"
	# on the ring only the down server's keys move
	paste -d' ' "$T/all-up" "$T/ngx.picks" | awk '$1 != "b" && $1 != $2 { bad++ } END { exit bad > 0 }'
	run "$FCGATECTL" -m "$T/fcgate.shm" status --json
	assert_output --partial '"balance":"hash consistent"'
}

# moved A B: the share of keys whose server differs between files A and B.
moved() {
	paste -d' ' "$1" "$2" | awk '$1 != $2 { n++ } END { printf "%.3f\n", n / NR }'
}

@test "hash consistent moves about 1/N of the keys when a server is added or removed; plain hash far more" {
	# pins the property the ring is for, measured through fcgate: N = 4
	# equal servers, a fifth added (ideal 1/5), one of the four removed
	# (ideal 1/4); bounds 0.5x .. 1.6x of the ideal
	local method n four
	for method in consistent plain; do
		for n in a b c d e; do
			[ -n "$(eval echo "\${TESTD_PORT_$n:-}")" ] || start_testd "$n"
			eval "line_$n=\"    server 127.0.0.1:\$TESTD_PORT_$n {}
\""
		done
		four="$line_a$line_b$line_c$line_d"
		fcgate_with "$method" "$four"
		keys "$URL" "$T/four"
		fcgate_with "$method" "$four$line_e"
		keys "$URL" "$T/five"
		fcgate_with "$method" "$line_a$line_b$line_d"
		keys "$URL" "$T/three"
		eval "add_$method=$(moved "$T/four" "$T/five")"
		eval "del_$method=$(moved "$T/four" "$T/three")"
		[ "$method" = consistent ] || continue
		# on the ring a key moves only to the added server, and
		# only the removed server's keys move
		paste -d' ' "$T/four" "$T/five" | awk '$1 != $2 && $2 != "e" { bad++ } END { exit bad > 0 }'
		paste -d' ' "$T/four" "$T/three" | awk '$1 != $2 && $1 != "c" { bad++ } END { exit bad > 0 }'
	done
	echo "# moved: consistent +1 $add_consistent -1 $del_consistent, plain +1 $add_plain -1 $del_plain" >&3
	python3 - "$add_consistent" "$del_consistent" "$add_plain" "$del_plain" <<'PY'
import sys
add, dele, padd, pdel = map(float, sys.argv[1:])
assert 0.5 / 5 <= add <= 1.6 / 5, add
assert 0.5 / 4 <= dele <= 1.6 / 4, dele
assert padd > 2 * add and pdel > 2 * dele, (padd, pdel)
PY
}

@test "hash consistent seeds a server's points with its title as written (a host name), as nginx" {
	# pins that the ring takes the `server` title, not the resolved
	# address: nginx's seed is the name in the config; the expected
	# servers come from an independent transcription with zlib.crc32
	{
		base_conf
		cat <<CONF
upstream app {
    balance = hash
    hash_key = "\$uri"
    consistent = true
    server localhost:9001 {}
    server 127.0.0.1:9002 {}
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    location / { fastcgi_pass = app }
}
CONF
	} >"$T/title.conf"
	got=""
	for k in $(seq 1 40); do
		run --separate-stderr "$FCGATE" -c "$T/title.conf" --explain "GET /k$k"
		got="$got$(sed -n 's/^backend   .*:\(900[12]\) of .*/\1/p' <<<"$output") "
	done
	want="$(python3 - <<'PY'
import bisect, struct, zlib
pts = []
for i, (host, port) in enumerate([(b"localhost", b"9001"), (b"127.0.0.1", b"9002")]):
    prev = 0
    for j in range(160):
        h = zlib.crc32(host + b"\0" + port + struct.pack("<I", prev))
        pts.append((h, i))
        prev = h
pts.sort()
keys = [p[0] for p in pts]
out = []
for i in range(1, 41):
    k = bisect.bisect_left(keys, zlib.crc32(b"/k%d" % i)) % len(pts)
    out.append("9001" if pts[k][1] == 0 else "9002")
print(" ".join(out) + " ")
PY
)"
	[ "$got" = "$want" ]
}

@test "hash consistent with php-fpm: a URI keeps its pool across workers and connections, the pool --explain names" {
	# pins the key path of a real worker (expanded per request, the
	# worker's own ring) against the master-side pick --explain makes,
	# with real php-fpm pools that answer their own name
	cat >"$T/html/who.php" <<'PHP'
<?php
header('Content-Type: text/plain');
echo getenv('FCGATE_POOL'), "\n";
PHP
	start_php_pool p1
	start_php_pool p2
	start_php_pool p3
	php_site_conf "    balance = hash
    hash_key = \"\$request_uri\"
    consistent = true
    server 127.0.0.1:$PHP_PORT_p1 {}
    server 127.0.0.1:$PHP_PORT_p2 { weight = 2 }
    server 127.0.0.1:$PHP_PORT_p3 {}"
	start_fcgate "$T/fcgate.conf"
	declare -A port_pool=([$PHP_PORT_p1]=p1 [$PHP_PORT_p2]=p2 [$PHP_PORT_p3]=p3)
	# (not $i: bats's run, checking its version, sets i)
	for k in $(seq 1 30); do
		run --separate-stderr "$FCGATE" -c "$T/fcgate.conf" --explain "GET /who.php?u=$k"
		port="$(sed -n 's/^backend   127\.0\.0\.1:\([0-9]*\) of .*/\1/p' <<<"$output")"
		want="${port_pool[$port]}"
		# three requests, each on its own connection (either worker)
		for _ in 1 2 3; do
			got="$(curl -sS "http://127.0.0.1:$HTTP_PORT/who.php?u=$k")"
			[ "$got" = "$want" ] || {
				echo "/who.php?u=$k: $got, --explain said $want" >&2
				return 1
			}
		done
		echo "$want" >>"$T/pools"
	done
	[ "$(sort -u "$T/pools" | wc -l)" -eq 3 ]
}
