#!/usr/bin/env bats
# Static files, the HTTP side: ETag, conditional requests (304 / 412),
# byte ranges (206 / 416, If-Range), HEAD, and symlinks that leave root.

load helper

setup() {
	fcg_setup
	printf '0123456789abcdefghij' >"$T/html/twenty.txt"
	touch -d @1600000000 "$T/html/twenty.txt"
	: >"$T/html/empty.txt"
	echo "home page" >"$T/html/index.html"
	echo "<h1>custom not found</h1>" >"$T/html/404.html"
	mkdir -p "$T/html/noindex" "$T/html/sub" "$T/html/deep" "$T/outside"
	echo "deep file" >"$T/html/deep/file.txt"
	ln -s ../../outside/secret.txt "$T/html/deep/out.txt"
	echo "sub index" >"$T/html/sub/index.html"
	echo "TOP-SECRET-OUTSIDE" >"$T/outside/secret.txt"
	chmod 755 "$T/outside"
	ln -s twenty.txt "$T/html/link.txt"
	ln -s sub "$T/html/sublink"
	ln -s ../outside/secret.txt "$T/html/rel-out.txt"
	ln -s "$T/outside/secret.txt" "$T/html/abs-out.txt"
	ln -s /etc/passwd "$T/html/passwd"
	ln -s ../outside "$T/html/outdir"
	ln -s html "$T/rootlink"
	{
		base_conf
		cat <<CONF
server {
    listen = {127.0.0.1:$HTTP_PORT}
    server_name = {localhost}
    root = "$T/html"
    error_page /404.html { status = {404} }
    location "^~ /deep/" { root = "$T/rootlink" }
}
CONF
	} >"$T/fcgate.conf"
	start_fcgate "$T/fcgate.conf"
	URL="http://127.0.0.1:$HTTP_PORT"
	MTIME="$(stat -c '%Y' "$T/html/twenty.txt")"
	LASTMOD="$(LC_ALL=C date -u -d "@$MTIME" '+%a, %d %b %Y %H:%M:%S GMT')"
}

teardown() {
	fcg_teardown
}

# get PATH [curl options...]: prints the status; head in $T/h, body in $T/b.
get() {
	local path="$1"
	shift
	rm -f "$T/b"
	curl -sS -D "$T/h" -o "$T/b" -w '%{http_code}' "$@" "$URL$path"
}

# hdr NAME: the value of a response header from the last get, or nothing.
hdr() {
	grep -i "^$1:" "$T/h" | head -n 1 | cut -d' ' -f2- | tr -d '\r'
}

# etag_of FILE: nginx's ETag computed independently from stat(1).
etag_of() {
	local mtime size
	read -r mtime size < <(stat -c '%Y %s' "$1")
	printf '"%x-%x"' "$mtime" "$size"
}

# raw REQUEST-HEAD...: sends the lines over one connection that the last
# request closes; prints everything the server wrote, CRLFs kept.
raw() {
	python3 - "$HTTP_PORT" "$@" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(5)
s.sendall("".join(a.replace("\\n", "\r\n") for a in sys.argv[2:]).encode())
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
sys.stdout.write(data.decode("latin-1"))
PY
}

@test "200 has nginx's ETag from mtime and size, Last-Modified, Accept-Ranges" {
	run get /twenty.txt
	assert_output 200
	assert_equal "$(hdr ETag)" "$(etag_of "$T/html/twenty.txt")"
	assert_equal "$(hdr ETag)" '"5f5e1000-14"'
	assert_equal "$(hdr Last-Modified)" "$LASTMOD"
	assert_equal "$(hdr Accept-Ranges)" bytes
	assert_equal "$(hdr Content-Length)" 20
	assert_equal "$(cat "$T/b")" 0123456789abcdefghij
	# a file changed in size gets another ETag
	printf 'more' >>"$T/html/twenty.txt"
	touch -d @1600000000 "$T/html/twenty.txt"
	run get /twenty.txt
	assert_equal "$(hdr ETag)" '"5f5e1000-18"'
}

@test "If-None-Match with our ETag, a list holding it (weak too) or * is 304" {
	local etag
	etag="$(etag_of "$T/html/twenty.txt")"
	for inm in "$etag" "\"x\", W/$etag" '*'; do
		run get /twenty.txt -H "If-None-Match: $inm"
		assert_output 304
		assert_equal "$(hdr ETag)" "$etag"
		assert_equal "$(hdr Last-Modified)" "$LASTMOD"
		assert_equal "$(hdr Content-Length)" ""
		assert_equal "$(hdr Content-Type)" ""
		refute [ -s "$T/b" ]
	done
	run get /twenty.txt -H 'If-None-Match: "5f5e1000-15"'
	assert_output 200
	assert_equal "$(cat "$T/b")" 0123456789abcdefghij
	# If-None-Match decides alone: a matching date does not make it 304
	run get /twenty.txt -H 'If-None-Match: "other"' \
		-H "If-Modified-Since: $LASTMOD"
	assert_output 200
}

@test "If-Modified-Since equal to Last-Modified is 304; other dates are 200" {
	run get /twenty.txt -H "If-Modified-Since: $LASTMOD"
	assert_output 304
	refute [ -s "$T/b" ]
	local earlier later
	earlier="$(LC_ALL=C date -u -d "@$((MTIME - 1))" '+%a, %d %b %Y %H:%M:%S GMT')"
	later="$(LC_ALL=C date -u -d "@$((MTIME + 3600))" '+%a, %d %b %Y %H:%M:%S GMT')"
	run get /twenty.txt -H "If-Modified-Since: $earlier"
	assert_output 200
	# exact comparison, as nginx's default `if_modified_since exact`
	run get /twenty.txt -H "If-Modified-Since: $later"
	assert_output 200
	run get /twenty.txt -H "If-Modified-Since: garbage"
	assert_output 200
	assert_equal "$(cat "$T/b")" 0123456789abcdefghij
}

@test "If-Match and If-Unmodified-Since that fail are 412" {
	local etag
	etag="$(etag_of "$T/html/twenty.txt")"
	run get /twenty.txt -H 'If-Match: "nope"'
	assert_output 412
	refute [ "$(cat "$T/b")" = 0123456789abcdefghij ]
	run get /twenty.txt -H "If-Match: W/$etag"
	assert_output 412
	run get /twenty.txt -H "If-Match: \"nope\", $etag"
	assert_output 200
	run get /twenty.txt -H 'If-Match: *'
	assert_output 200
	run get /twenty.txt -H 'If-Unmodified-Since: Sat, 01 Jan 2000 00:00:00 GMT'
	assert_output 412
	run get /twenty.txt -H "If-Unmodified-Since: $LASTMOD"
	assert_output 200
}

@test "Range bytes=0-9, bytes=5-, bytes=-3 are 206 with the right bytes" {
	run get /twenty.txt -H 'Range: bytes=0-9'
	assert_output 206
	assert_equal "$(hdr Content-Range)" "bytes 0-9/20"
	assert_equal "$(hdr Content-Length)" 10
	assert_equal "$(hdr ETag)" "$(etag_of "$T/html/twenty.txt")"
	printf '0123456789' | cmp - "$T/b"
	run get /twenty.txt -H 'Range: bytes=5-'
	assert_output 206
	assert_equal "$(hdr Content-Range)" "bytes 5-19/20"
	assert_equal "$(hdr Content-Length)" 15
	printf '56789abcdefghij' | cmp - "$T/b"
	run get /twenty.txt -H 'Range: bytes=-3'
	assert_output 206
	assert_equal "$(hdr Content-Range)" "bytes 17-19/20"
	assert_equal "$(hdr Content-Length)" 3
	printf 'hij' | cmp - "$T/b"
}

@test "Range past the end is clamped; a suffix longer than the file is all of it" {
	run get /twenty.txt -H 'Range: bytes=15-999999999999999999999999'
	assert_output 206
	assert_equal "$(hdr Content-Range)" "bytes 15-19/20"
	printf 'fghij' | cmp - "$T/b"
	run get /twenty.txt -H 'Range: bytes=-100'
	assert_output 206
	assert_equal "$(hdr Content-Range)" "bytes 0-19/20"
	printf '0123456789abcdefghij' | cmp - "$T/b"
}

@test "unsatisfiable Range is 416 with Content-Range bytes */size" {
	for r in 'bytes=20-' 'bytes=25-30' 'bytes=-0' 'bytes=99999999999999999999-'; do
		run get /twenty.txt -H "Range: $r"
		assert_output 416
		assert_equal "$(hdr Content-Range)" "bytes */20"
		refute [ -s "$T/b" ]
	done
}

@test "invalid or multiple ranges are ignored: 200 with the whole file" {
	for r in 'bytes=abc' 'bytes=9-5' 'bytes=0-1,3-4' 'items=0-5' 'bytes=5' 'bytes=-'; do
		run get /twenty.txt -H "Range: $r"
		assert_output 200
		assert_equal "$(hdr Content-Range)" ""
		printf '0123456789abcdefghij' | cmp - "$T/b"
	done
	run get /empty.txt -H 'Range: bytes=0-'
	assert_output 200
}

@test "If-Range with the ETag or date honours Range, otherwise 200 full" {
	local etag
	etag="$(etag_of "$T/html/twenty.txt")"
	run get /twenty.txt -H 'Range: bytes=0-3' -H "If-Range: $etag"
	assert_output 206
	printf '0123' | cmp - "$T/b"
	run get /twenty.txt -H 'Range: bytes=0-3' -H "If-Range: $LASTMOD"
	assert_output 206
	printf '0123' | cmp - "$T/b"
	run get /twenty.txt -H 'Range: bytes=0-3' -H 'If-Range: "5f5e1000-15"'
	assert_output 200
	printf '0123456789abcdefghij' | cmp - "$T/b"
	run get /twenty.txt -H 'Range: bytes=0-3' \
		-H 'If-Range: Sat, 01 Jan 2000 00:00:00 GMT'
	assert_output 200
	printf '0123456789abcdefghij' | cmp - "$T/b"
}

@test "HEAD: 200, 206, 304 and 416 heads as for GET, no body bytes on the wire" {
	local etag
	etag="$(etag_of "$T/html/twenty.txt")"
	# Each HEAD is followed on the same connection by a GET: a stray body
	# byte would show before the second status line.
	run raw 'HEAD /twenty.txt HTTP/1.1\nHost: x\nRange: bytes=5-9\n\n' \
		'GET /index.html HTTP/1.1\nHost: x\nConnection: close\n\n'
	assert_output --regexp $'^HTTP/1.1 206 '
	assert_output --partial $'Content-Range: bytes 5-9/20\r\n'
	assert_output --partial $'Content-Length: 5\r\n'
	assert_output --regexp $'\r\n\r\nHTTP/1.1 200 '
	refute_output --partial 56789
	run raw 'HEAD /twenty.txt HTTP/1.1\nHost: x\n\n' \
		'GET /index.html HTTP/1.1\nHost: x\nConnection: close\n\n'
	assert_output --partial $'Content-Length: 20\r\n'
	assert_output --partial $'Accept-Ranges: bytes\r\n'
	assert_output --regexp $'\r\n\r\nHTTP/1.1 200 '
	refute_output --partial 0123
	run raw "HEAD /twenty.txt HTTP/1.1\\nHost: x\\nIf-None-Match: $etag\\n\\n" \
		'GET /index.html HTTP/1.1\nHost: x\nConnection: close\n\n'
	assert_output --regexp $'^HTTP/1.1 304 '
	assert_output --partial "ETag: $etag"
	assert_output --regexp $'\r\n\r\nHTTP/1.1 200 '
	run raw 'HEAD /twenty.txt HTTP/1.1\nHost: x\nRange: bytes=30-\n\n' \
		'GET /index.html HTTP/1.1\nHost: x\nConnection: close\n\n'
	assert_output --regexp $'^HTTP/1.1 416 '
	assert_output --partial $'Content-Range: bytes */20\r\n'
	assert_output --regexp $'\r\n\r\nHTTP/1.1 200 '
}

@test "symlinks inside root are served; a root that is a symlink works" {
	run get /link.txt
	assert_output 200
	assert_equal "$(cat "$T/b")" 0123456789abcdefghij
	run get /sublink/
	assert_output 200
	assert_equal "$(cat "$T/b")" "sub index"
	# /deep/ has root = rootlink, a symlink to html
	run get /deep/file.txt
	assert_output 200
	assert_equal "$(cat "$T/b")" "deep file"
	run get /deep/out.txt
	assert_output 403
	refute grep -q 'TOP-SECRET-OUTSIDE' "$T/b"
}

@test "symlinks that leave root are 403 and their target never appears" {
	for p in /rel-out.txt /abs-out.txt /outdir/secret.txt /passwd; do
		run get "$p"
		assert_output 403
		refute grep -q 'TOP-SECRET-OUTSIDE\|root:' "$T/b"
	done
	run get /outdir/secret.txt -H 'Range: bytes=0-3'
	assert_output 403
	refute grep -q 'TOP-' "$T/b"
	run grep -c 'outside of root' "$T/error.log"
	assert_output 5
}

@test "directory without index is 403, missing file 404 with its error_page" {
	run get /noindex/
	assert_output 403
	run get /missing.txt
	assert_output 404
	assert_equal "$(cat "$T/b")" "<h1>custom not found</h1>"
	# the error page is not a 200: no validators, and they do not apply
	assert_equal "$(hdr ETag)" ""
	assert_equal "$(hdr Accept-Ranges)" ""
	run get /missing.txt -H 'If-None-Match: *' -H 'Range: bytes=0-3'
	assert_output 404
	assert_equal "$(cat "$T/b")" "<h1>custom not found</h1>"
}
