#!/usr/bin/env bats
# The unit test programs under t/unit (built next to fcgate): each prints a
# FAIL line per failed check and a last line "all N WHAT checks passed".

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
	REPO="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
	BUILD="$REPO/${FCGATE_BUILD:-build}"
	case "${FCGATE_BUILD:-build}" in /*) BUILD="$FCGATE_BUILD" ;; esac
	cd "$REPO"
}

# unit PROGRAM WHAT
unit() {
	run "$BUILD/$1"
	assert_success
	assert_output --regexp "(^|
)all [0-9]+ $2 checks passed\$"
	refute_output --partial "FAIL"
}

@test "http: request heads (smuggling vectors, limits, pipelining), chunked bodies at every split, reasons, dates" {
	unit http_test http
}

@test "uri: path normalisation against traversal and encoding tricks, // merging on and off, output bounds" {
	unit uri_test uri
}

@test "route: server by listen and Host, nginx location order" {
	unit route_test route
}

@test "fcgi: records, name-value pairs, the record parser at every split, GET_VALUES" {
	unit fcgi_test fcgi
}

@test "cgi: the CGI header block (Status, Location, Content-Length, bad lines, the iterator)" {
	unit cgi_test cgi
}

@test "num: bounded decimal and hex parsing at max, max + 1, 64-bit overflow, empty and bad text" {
	unit num_test num
}

@test "addr: every address form parsed and printed back, refusals with reasons, equality, a refused connect" {
	unit addr_test addr
}
