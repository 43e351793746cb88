#!/usr/bin/env bats
# make bench's script (t/bench/bench.py) in its --smoke form: every case
# for one second, one round, 200 idle connections, fcgate and nginx on
# every case and the other installed peers on small-50; the php-fpm
# capacity cases (t/bench/fpm_cases.py) in a test of their own.  A
# benchmark is not a test; this only keeps the script, its backend
# (fcgi_benchd), its load generator (fcgi_load) and the peers'
# configurations (t/bench/peer_confs.py) from rotting, and, run against
# the sanitizer build, puts the ASan build of fcgate under every case's
# load.

load helper

setup() {
	fcg_setup
}

teardown() {
	fcg_teardown
}

@test "make bench --smoke: every case against fcgate and nginx, every installed peer on small-50, table, CSV and chart written" {
	# Pins the request-rate half of make bench: fcgate and nginx answer
	# every case, every installed peer (t/bench/peers.py) answers both
	# small-50 lines it can do, all without errors (an error means that
	# peer's configuration in t/bench/peer_confs.py is wrong), the cells
	# a peer cannot do are "-" with the footnote saying why, and the
	# memory figure has every gateway.  Run against the ASan build
	# (FCGATE_BUILD=build/asan), a sanitizer report fails it.
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || skip "nginx missing"
	command -v wrk >/dev/null || skip "wrk missing"
	# the php-fpm capacity cases have the next test (they are not
	# request-rate cases, and the two runs together take as long as one)
	run python3 "$REPO/t/bench/bench.py" --smoke --out "$T/bench" \
	    --cases small-50,small-500,close,64k,post-16k,ip_hash,php-fpm
	echo "$output" | tail -25
	assert_success
	[ -s "$T/bench/table.md" ]
	[ -s "$T/bench/rounds.csv" ]
	[ "$(head -c 8 "$T/bench/bench.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ]
	run python3 - "$T/bench" "$REPO/t/bench" <<'PY'
import csv, sys
sys.path.insert(0, sys.argv[2])
sys.dont_write_bytecode = True
import peer_confs, peers
have, _ = peers.installed()
rows = list(csv.DictReader(open(sys.argv[1] + "/summary.csv")))
def got(case, g, ka=None):
    return [r for r in rows if r["case"] == case and r["gateway"] == g
            and (ka is None or r["backend_keepalive"] == ka)]
want = {"small-50", "small-500", "close", "64k", "post-16k", "ip_hash",
        "php-fpm"}
assert want <= {r["case"] for r in rows}, sorted(want)
for c in want:
    for g in ("fcgate", "nginx"):
        assert got(c, g), (c, g)
# every installed peer on the small-50 lines it can do, and only there
for g in have:
    for ka, key in (("on", peer_confs.KA), ("off", peer_confs.NOKA)):
        port, _ = peer_confs.line_plan(g, key, False)
        assert bool(got("small-50", g, ka)) == (port is not None), (g, ka)
    assert got("small-50", g), g
for r in rows:
    if r["gateway"] in ("none", "") or r["case"] == "idle-memory":
        continue
    assert int(r["requests"]) > 0, r
    assert int(r["errors"]) == 0, r
    assert float(r["cpu_s_per_10k"]) > 0, r
none = [r for r in rows if r["gateway"] == "none"]
assert len(none) >= 4 and all(int(r["requests"]) > 0 for r in none), none
idle = {r["gateway"] for r in rows if r["case"] == "idle-memory"}
assert idle == {"fcgate", *have}, idle
# the table: a column per gateway, "-" and its footnote where a peer
# has no backend keep-alive (caddy, lighttpd) on the kept small-50 line
table = open(sys.argv[1] + "/table.md").read().splitlines()
head = next(l for l in table if l.startswith("| case |"))
cols = [c.strip() for c in head.strip("|").split("|")]
for g in ["fcgate", *have]:
    assert f"{g} req/s" in cols, (g, cols)
line = next(l for l in table
            if l.startswith("| 13 B, 50 keep-alive clients | on |"))
cells = dict(zip(cols, (c.strip() for c in line.strip("|").split("|"))))
notes = [l for l in table if l[:1].isdigit() and ". " in l]
for g in have:
    cell = cells[f"{g} req/s"]
    if g in peer_confs.NO_KEEPALIVE:
        assert cell.startswith("- ["), (g, cell)
        n = int(cell[3:].split("]")[0].split(",")[0])
        assert notes[n - 1].startswith(f"{n}. "), notes
        assert "no backend keep-alive" in notes[n - 1], notes[n - 1]
    else:
        assert float(cell.split()[0]) > 0, (g, cell)
assert "**" in cells["fcgate / best peer"], cells
print("ok", len(rows), " ".join(have))
PY
	assert_success
	assert_output --partial "ok"
	grep -q "Memory per idle keep-alive client connection" "$T/bench/table.md"
}

@test "make bench --smoke: the php-fpm capacity cases run both gateways, and their settings bite" {
	# Pins the three php-fpm cases (t/bench/fpm_cases.py): every variant
	# ran against its gateway, the loads that fit the pools were all
	# served, nginx's max_conns=4 group really is limited (it answers a
	# full group with 502: else the burst compares nothing), the slow
	# uploads were still connected at the end (else the GETs ran beside
	# nothing), and an fcgate that has the queue serves the whole burst,
	# with kept backend connections too when max_conns counts idle ones.
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || skip "nginx missing"
	command -v wrk >/dev/null || skip "wrk missing"
	[ -x /usr/sbin/php-fpm8.2 ] || skip "php-fpm8.2 missing"
	run python3 "$REPO/t/bench/bench.py" --smoke --only heavy_tail,burst,slow_upload --out "$T/bench"
	echo "$output" | tail -25
	assert_success
	grep -q "### php-fpm capacity" "$T/bench/table.md"
	[ "$(head -c 8 "$T/bench/bench.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ]
	run python3 - "$T/bench/summary.csv" <<'PY'
import csv, sys
rows = {(r["case"], r["gateway"], r["variant"]): r
        for r in csv.DictReader(open(sys.argv[1]))}
want = {("heavy_tail", "fcgate", "round_robin"),
        ("heavy_tail", "fcgate", "least_conn"),
        ("heavy_tail", "nginx", "round_robin"),
        ("heavy_tail", "nginx", "least_conn"),
        ("heavy_tail", "nginx", "least_conn+zone"),
        ("burst", "fcgate", "queue+max_conns"),
        ("burst", "fcgate", "no limit"),
        ("burst", "nginx", "max_conns+zone"),
        ("burst", "nginx", "no limit"),
        ("burst", "fcgate", "queue+max_conns+keepalive"),
        ("burst", "nginx", "max_conns+zone+keepalive"),
        ("slow_upload", "fcgate", "buffering"),
        ("slow_upload", "nginx", "buffering")}
assert want <= set(rows), sorted(want - set(rows))
for k in want:
    assert int(rows[k]["requests"]) > 0, rows[k]
for k in want:
    if k[0] != "burst" or k[2] == "no limit":
        assert int(rows[k]["errors"]) == 0, rows[k]
assert int(rows[("burst", "nginx", "max_conns+zone")]["e502"]) > 0
for g in ("fcgate", "nginx"):
    r = rows[("slow_upload", g, "buffering")]
    assert r["slow_connected"] == "500/500", r
q = rows[("burst", "fcgate", "queue+max_conns")]
assert "queue " in q["features"], q
if "queue yes" in q["features"]:
    assert int(q["errors"]) == 0, q
k = rows[("burst", "fcgate", "queue+max_conns+keepalive")]
if "queue yes" in k["features"] and "idle connections yes" in k["features"]:
    assert int(k["errors"]) == 0, k
print("ok", q["features"])
PY
	assert_success
	assert_output --partial "ok"
}
