#!/usr/bin/env bats
# make bench's script (t/bench/bench.py) in its --smoke form: every case
# for one second, one round, 200 idle connections.  A benchmark is not a
# test; this only keeps the script, its backend (fcgi_benchd), its load
# generator (fcgi_load) and its nginx configuration from rotting, and, in
# the sanitizer pass, puts the ASan build of fcgate under every case's
# load.

load helper

setup() {
	fcg_setup
}

teardown() {
	fcg_teardown
}

@test "make bench --smoke: every case runs against fcgate and nginx, table, CSV and chart written" {
	# In the sanitizer pass the fcgate under load is the ASan build
	# (bench.py takes \$FCGATE_BUILD/fcgate): a report fails the run.
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || skip "nginx missing"
	command -v wrk >/dev/null || skip "wrk missing"
	run python3 "$REPO/t/bench/bench.py" --smoke --out "$T/bench"
	echo "$output" | tail -25
	assert_success
	[ -s "$T/bench/table.md" ]
	[ "$(head -c 8 "$T/bench/bench.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ]
	# every case, for both gateways, with answers and without errors
	run python3 - "$T/bench/summary.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
cases = {r["case"] for r in rows}
want = {"small-50", "small-500", "close", "64k", "post-16k", "ip_hash",
        "php-fpm"}
assert want <= cases, sorted(want - cases)
for c in want:
    for g in ("fcgate", "nginx"):
        got = [r for r in rows if r["case"] == c and r["gateway"] == g]
        assert got, (c, g)
        for r in got:
            assert int(r["requests"]) > 0, r
            assert int(r["errors"]) == 0, r
            assert float(r["cpu_s_per_10k"]) > 0, r
none = [r for r in rows if r["gateway"] == "none"]
assert len(none) >= 4 and all(int(r["requests"]) > 0 for r in none), none
print("ok", len(rows))
PY
	assert_success
	assert_output --partial "ok"
	grep -q "Memory per idle keep-alive client connection" "$T/bench/table.md"
}
