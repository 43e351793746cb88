#!/usr/bin/env bats
# The attack vectors of t/vectors.tsv against a live fcgate: each gets its
# status, a connection closed where the stream can no longer be trusted,
# and none reaches the FastCGI backend.  One test per category; a failure
# names every vector that misbehaved.

load helper

setup() {
	fcg_setup
	start_testd app
	echo "home" >"$T/html/index.html"
	echo "secret" >"$T/html/.htaccess"
	mkdir -p "$T/html/sub"
	{
		base_conf
		cat <<CONF
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {t}
    root = "$T/html"
    client_max_body_size = 1m
    location '~ \.php$' {
        fastcgi_pass = 127.0.0.1:$TESTD_PORT_app
        include("$REPO/etc/fastcgi_params")
    }
    location '~ /\.ht' { deny = all }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
}

teardown() {
	fcg_teardown
}

# vectors CATEGORY: send them all, compare with the table.
vectors() {
	local id want_status want_close got_status got_close bad=""
	python3 "$REPO/t/lib/send_raw.py" "$HTTP_PORT" "$REPO/t/vectors.tsv" "$1" \
		>"$T/got"
	[ -s "$T/got" ] || { echo "no vectors in category $1"; return 1; }
	while IFS=$'\t' read -r id got_status got_close; do
		read -r want_status want_close < <(awk -F'\t' -v id="$id" \
			'$1 == id { print $3, $4 }' "$REPO/t/vectors.tsv")
		if [ "$got_status" != "$want_status" ] ||
		   { [ "$want_close" != any ] && [ "$got_close" != "$want_close" ]; }; then
			bad="$bad
  $id: got $got_status close=$got_close, want $want_status close=$want_close"
		fi
	done <"$T/got"
	[ -z "$bad" ] || { echo "vectors that misbehaved:$bad"; return 1; }
	# the backend never saw any of them (its log has only the probe)
	[ "$(grep -c '^conn ' "$T/testd-app.log")" -eq 1 ]
	# and the workers are the ones that started
	run "$FCGATECTL" -m "$T/fcgate.shm" workers
	refute_output --partial "exited on signal"
	! grep -q 'exited on signal' "$T/error.log"
}

@test "vectors: request smuggling (CL/TE conflicts, bad lengths, chunk tricks)" {
	vectors smuggling
}

@test "vectors: malformed request lines and header fields" {
	vectors malformed
}

@test "vectors: path traversal and deny bypass attempts" {
	vectors traversal
}

@test "vectors: oversized request line, head, header line and bodies" {
	vectors oversized
}
