#!/bin/bash
# Run the libFuzzer targets built by `make fuzz` (build/fuzz/*_fuzz) for a
# bounded time each, over a copy of their seed corpus (t/fuzz/corpus/TARGET)
# in a temporary directory, so nothing is written into the repository.
# Builds nothing.
#
#   t/fuzz/run.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 10); TARGETs among fcgi_fuzz cgi_fuzz
# http_fuzz uri_fuzz conn_fuzz proxy_proto_fuzz resolver_fuzz (the "_fuzz" may be left
# out), default all.  Prints
# "FUZZ TARGET: N executions, no crash" per clean target.  When a fuzzer
# crashes or finds an invariant violated, prints the reproducer's path and
# the end of the fuzzer's log, keeps the temporary directory and exits 1.
set -u
cd "$(dirname "$0")/../.."

secs="${1:-10}"
[ $# -gt 0 ] && shift
case "$secs" in
'' | *[!0-9]*)
	echo "usage: t/fuzz/run.sh [SECONDS] [TARGET...]" >&2
	exit 2
	;;
esac
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(fcgi_fuzz cgi_fuzz http_fuzz uri_fuzz conn_fuzz proxy_proto_fuzz resolver_fuzz)

# Longest input per target: a few records, a head with a body, a header
# block, a path, a few pipelined requests, the largest PROXY header and a
# little more.
max_len() {
	case "$1" in
	fcgi_fuzz) echo 8192 ;;
	cgi_fuzz) echo 4096 ;;
	http_fuzz) echo 8192 ;;
	uri_fuzz) echo 1024 ;;
	conn_fuzz) echo 4096 ;;
	proxy_proto_fuzz) echo 4200 ;;
	resolver_fuzz) echo 1500 ;;
	*) echo 4096 ;;
	esac
}

if ! tmp="$(mktemp -d "${TMPDIR:-/tmp}/fcgate-fuzz.XXXXXX")"; then
	echo "FUZZ: cannot create a work directory under ${TMPDIR:-/tmp}" >&2
	exit 1
fi
failed=0
for t in "${targets[@]}"; do
	case "$t" in *_fuzz) ;; *) t="${t}_fuzz" ;; esac
	bin="build/fuzz/$t"
	if [ ! -x "$bin" ]; then
		echo "FUZZ $t: $bin missing (run make fuzz)"
		failed=1
		continue
	fi
	dir="$tmp/$t"
	mkdir -p "$dir/corpus" "$dir/artifacts"
	if [ -d "t/fuzz/corpus/$t" ]; then
		cp -R "t/fuzz/corpus/$t/." "$dir/corpus/"
	fi
	# -timeout: one input taking this long is a finding; the outer
	# timeout only guards against a fuzzer that never stops.
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
	    timeout -k 10 $((secs + 120)) "$bin" \
	    -max_total_time="$secs" -max_len="$(max_len "$t")" \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$dir/artifacts/" "$dir/corpus" \
	    >"$dir/log" 2>&1
	rc=$?
	n=$(sed -n 's/^stat::number_of_executed_units: *\([0-9][0-9]*\).*/\1/p' \
	    "$dir/log" | tail -n 1)
	[ -n "$n" ] ||
		n=$(sed -n 's/^Done \([0-9][0-9]*\) runs.*/\1/p' "$dir/log" |
		    tail -n 1)
	repro=$(find "$dir/artifacts" -type f 2>/dev/null | sort)
	if [ "$rc" -eq 0 ] && [ -z "$repro" ] && [ -n "$n" ]; then
		echo "FUZZ $t: $n executions, no crash"
		continue
	fi
	failed=1
	echo "FUZZ $t: FAILED (exit status $rc, ${n:-unknown} executions)"
	for f in $repro; do
		echo "  reproducer: $f"
		echo "  hex: $(od -An -tx1 -v "$f" | tr -d ' \n' | head -c 2000)"
		echo "  rerun: $bin $f"
	done
	echo "  log: $dir/log (last lines follow)"
	tail -n 40 "$dir/log" | sed 's/^/  | /'
done
if [ "$failed" -eq 0 ]; then
	rm -rf "$tmp"
else
	echo "fuzz output kept in $tmp"
fi
exit "$failed"
