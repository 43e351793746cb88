#!/bin/bash
# Run the whole bats suite against the normal build and then against the
# AddressSanitizer/UBSan build (build/asan), and end with one line
# "N passed, N failed".  Exit status 1 when anything failed.  The normal
# build's event_engine defaults to epoll and the sanitizer build's to
# io_uring (Makefile), so the two passes run every test on both engines.
#
#   t/run.sh             both builds
#   t/run.sh FILE...     only these bats files (both builds; the fuzz
#                        applications and multi-host files on one only)
set -u
cd "$(dirname "$0")/.."
# Debian's python3 before any version manager's shim (pyenv's costs 0.3 s a
# call).
[ -x /usr/bin/python3 ] && PATH="/usr/bin:$PATH"
files=("$@")
[ "${#files[@]}" -gt 0 ] || files=(t/*.bats)
passed=0
failed=0
for build in build build/asan; do
	echo "== suite against $build"
	run=("${files[@]}")
	if [ "$build" = build/asan ]; then
		# The fuzzers are sanitizer builds of their own, whatever the
		# pass: run them once.  The applications' file (80-apps) tests
		# the recipes and the applications, not memory safety, and is
		# the slowest file; the benchmark's smoke runs (95-bench, and
		# 96-bench-wp for the WordPress case) check the harness, and a
		# sanitizer build measures nothing: all once, on the normal
		# build.  So is the multi-host file
		# (93-multihost): it tests how hosts, the balancer and DNS fit
		# together, on features whose own files run on both builds.
		run=()
		for f in "${files[@]}"; do
			case "$f" in
			*fuzz* | *80-apps* | *93-multihost* | *95-bench* | *96-bench-wp*) ;;
			*) run+=("$f") ;;
			esac
		done
		[ "${#run[@]}" -gt 0 ] || continue
	fi
	out="$(mktemp)"
	# FCGATE_SANITIZED: the few volume tests use smaller volumes there.
	FCGATE_SANITIZED="$([ "$build" = build/asan ] && echo 1)" \
	FCGATE_BUILD="$build" ASAN_OPTIONS="detect_leaks=1:abort_on_error=0" \
	    bats --tap "${run[@]}" 2>&1 | tee "$out"
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^not ok ' "$out")
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "no test ran against $build (bats failed to start?)"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	rm -f "$out"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
