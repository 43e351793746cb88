#!/usr/bin/env bats
# fastcgi_connect_timeout and fastcgi_send_timeout give 504 (read timeouts
# are in 40-fastcgi), and count as failures of the server.

load helper

setup() {
	fcg_setup
	start_testd a
	# A listener that never accepts, its queue full: connects hang.
	HOLE_PORT="$(free_port)"
	python3 - "$HOLE_PORT" "$T/hole.ready" <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
l = socket.socket()
l.bind(("127.0.0.1", port))
l.listen(0)
fill = []
for _ in range(8):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    fill.append(c)
time.sleep(0.3)
open(sys.argv[2], "w").close()
time.sleep(60)
PY
	fcg_track $!
	wait_file "$T/hole.ready"
	{
		base_conf
		cat <<CONF
upstream hole {
    server 127.0.0.1:$HOLE_PORT {}
    server 127.0.0.1:$TESTD_PORT_a { backup = true }
}
upstream a {
    server 127.0.0.1:$TESTD_PORT_a {}
}
server {
    listen = {127.0.0.1:$HTTP_PORT}
    root = "$T/html"
    client_max_body_size = 64m
    location "/hole/" {
        fastcgi_pass = 127.0.0.1:$HOLE_PORT
        fastcgi_connect_timeout = 1s
        include("$REPO/etc/fastcgi_params")
    }
    location "/hole-then-backup/" {
        fastcgi_pass = hole
        fastcgi_connect_timeout = 1s
        include("$REPO/etc/fastcgi_params")
    }
    location "/a/" {
        fastcgi_pass = a
        fastcgi_send_timeout = 1s
        include("$REPO/etc/fastcgi_params")
    }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
}

teardown() {
	fcg_teardown
}

@test "a backend that never accepts: 504 after fastcgi_connect_timeout" {
	run curl -sS -o /dev/null -w '%{http_code}' "$URL/hole/x.php"
	assert_output 504
	grep -q 'upstream timed out (110: Connection timed out) while connecting to upstream' "$T/error.log"
}

@test "a connect timeout is a failure: the next server (here the backup) answers" {
	run curl -sS "$URL/hole-then-backup/x.php?mode=echo"
	assert_line "backend=a"
	run "$FCGATECTL" -m "$T/fcgate.shm" status
	assert_output --regexp "127.0.0.1:$HOLE_PORT +failed "
}

@test "a backend that stops reading the body: 504 after fastcgi_send_timeout" {
	head -c 8000000 /dev/zero >"$T/big"
	run curl -sS -o /dev/null -w '%{http_code}' -X PUT --data-binary @"$T/big" \
		"$URL/a/x.php?mode=noread"
	assert_output 504
	grep -q 'upstream timed out (110: Connection timed out) while sending request to upstream' "$T/error.log"
}
