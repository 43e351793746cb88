#!/usr/bin/env bats
# make bench's WordPress case (t/bench/wp_case.py) in its --smoke form:
# one round of 1-second runs against fcgate and every installed peer of
# t/bench/peers.py.  A benchmark is not a test; this keeps the case's
# set-up (private MariaDB, the WordPress install, one php-fpm pool) and
# every gateway's WordPress configuration from rotting.  Normal build only
# (t/run.sh), as t/80-apps: it measures nothing and tests no memory safety.

load helper

setup() {
	fcg_setup
}

teardown() {
	fcg_teardown
}

@test "make bench --smoke --only wordpress: every gateway serves the real pages, rows for each, php-fpm saturated" {
	# Pins: each gateway's documented WordPress configuration answers the
	# front page and the post with 200 and the post's marker (bench.py
	# stops otherwise, and prints one line per gateway and page); every
	# gateway has rows for both pages, without errors, and the runs had
	# answers; the load saturates php-fpm (a listen queue in some run:
	# else the case compares gateways in front of an idle PHP); the table
	# section and the chart are written.
	command -v wrk >/dev/null || skip "wrk missing"
	[ -f /usr/share/wordpress/wp-settings.php ] || skip "wordpress missing"
	command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] ||
	    skip "mariadb-server missing"
	[ -x /usr/sbin/php-fpm8.2 ] || skip "php-fpm8.2 missing"
	run python3 "$REPO/t/bench/bench.py" --smoke --only wordpress \
	    --out "$T/bench"
	echo "$output" | tail -40
	assert_success
	gateways="fcgate $(cd "$REPO/t/bench" && python3 -c \
	    'import peers; print(" ".join(peers.installed()[0]))')"
	for g in $gateways; do
		for page in wp-front wp-post; do
			echo "$output" | grep -E -q \
			    "^  wp +$g +$page: 200, [0-9]+ bytes, marker found$" ||
			    { echo "no marker check for $g $page" >&2; false; }
		done
	done
	grep -q "### WordPress (real application)" "$T/bench/table.md"
	[ "$(head -c 8 "$T/bench/bench.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ]
	run python3 - "$T/bench/summary.csv" $gateways <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]))
        if r["case"] in ("wp-front", "wp-post")]
for g in sys.argv[2:]:
    mine = [r for r in rows if r["gateway"] == g]
    assert sorted(r["case"] for r in mine) == ["wp-front", "wp-post"], g
    for r in mine:
        assert int(r["errors"]) == 0, r
        if int(r["requests"]):
            assert float(r["cpu_s_per_10k"]) > 0, r
            assert float(r["fpm_cpu_s_per_10k"]) > 0, r
# A 1-second run of 16 clients on 4 children answers a few pages, or
# none on a machine busy enough to make a page take more than a second
# (each gateway's marker check above already had its page): answers in
# all, not from each.
assert sum(int(r["requests"]) for r in rows) > 0, rows
assert max(int(r["fpm_queue"]) for r in rows) > 0, rows
print("ok", len(rows))
PY
	echo "$output"
	assert_success
	assert_output --partial "ok"
}
