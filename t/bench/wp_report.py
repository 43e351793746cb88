"""The WordPress case's results (t/bench/wp_case.py runs it): medians per
page and gateway, the Markdown table beside php-fpm's and MariaDB's CPU,
and two chart panels for bench.png.  No measuring here.
"""
import os
import statistics

from wp_case import CHILDREN, CONNS, PAGES

TITLES = {"wp-front": "front page /", "wp-post": "one post /?p=ID"}


def summarize(rows):
    """One line per (page, gateway): medians over the rounds, CPU per
    request from the totals, php-fpm's state at its least busy and its
    longest listen queue."""
    groups = {}
    for r in rows:
        groups.setdefault((r["case"], r["gateway"]), []).append(r)
    out = []
    for (case, gw), rs in groups.items():
        req = sum(r["requests"] for r in rs)

        def per10k(key):
            return (sum(r[key] for r in rs) / req * 1e4 if req
                    else float("nan"))
        out.append({
            "case": case, "gateway": gw, "backend_keepalive": "off",
            "rounds": len(rs),
            "rps": statistics.median(r["rps"] for r in rs),
            "rps_by_round": {r["round"]: r["rps"] for r in rs},
            "p50_ms": statistics.median(r["p50_ms"] for r in rs),
            "p99_ms": statistics.median(r["p99_ms"] for r in rs),
            "errors": sum(r["errors"] for r in rs),
            "requests": req,
            "cpu_s_per_10k": per10k("cpu_s"),
            "fpm_cpu_s_per_10k": per10k("fpm_cpu_s"),
            "db_cpu_s_per_10k": per10k("db_cpu_s"),
            "fpm_active": min(r["fpm_active"] for r in rs),
            "fpm_queue": max(r["fpm_queue"] for r in rs),
        })
    return out


def gateways(summary):
    """The gateways in run order (fcgate first)."""
    seen = []
    for s in summary:
        if s["gateway"] not in seen:
            seen.append(s["gateway"])
    return seen


def vs_fcgate(f, s):
    """fcgate's requests/s over this gateway's: the median of the ratios
    of the same round's runs (next to each other in time)."""
    rounds = sorted(set(f["rps_by_round"]) & set(s["rps_by_round"]))
    rs = [f["rps_by_round"][r] / s["rps_by_round"][r] for r in rounds
          if s["rps_by_round"][r]]
    return statistics.median(rs) if rs else float("nan")


def ms(per10k):
    return per10k / 10.0   # s per 10k requests -> ms per request


def table(summary, missing):
    by = {(s["case"], s["gateway"]): s for s in summary}
    gws = gateways(summary)
    lines = ["", "### WordPress (real application)", "",
             f"Debian's WordPress on MariaDB, one php-fpm pool of {CHILDREN} "
             f"children (pm = static) shared by all gateways, {CONNS} wrk "
             "connections (php-fpm is the bottleneck: \"busy\" is php-fpm's "
             "busy children in the middle of each run, at its lowest, and "
             "\"queue\" its longest listen queue then).  Each gateway runs "
             "its documented WordPress configuration with default "
             "permalinks (`/?p=ID`); backend keep-alive is off for all, as "
             "in those configurations; haproxy serves no static files (not "
             "needed by these two pages).  CPU is per request: the "
             "gateway's own processes, php-fpm's master and children, "
             "MariaDB; \"share\" is the gateway's part of the three.", "",
             "| page | gateway | req/s | fcgate / this | p50 / p99 ms | "
             "errors | gateway CPU ms/req | php-fpm CPU ms/req | "
             "MariaDB CPU ms/req | gateway share | php-fpm busy / queue |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for page in PAGES:
        f = by.get((page, "fcgate"))
        for g in gws:
            s = by.get((page, g))
            if not s:
                continue
            gw, php, db = (ms(s["cpu_s_per_10k"]), ms(s["fpm_cpu_s_per_10k"]),
                           ms(s["db_cpu_s_per_10k"]))
            share = gw / (gw + php + db) * 100 if gw + php + db else 0.0
            ratio = ("-" if g == "fcgate" or not f
                     else f"{vs_fcgate(f, s):.2f}")
            lines.append(
                f"| {TITLES[page]} | {g} | {s['rps']:.0f} | {ratio} "
                f"| {s['p50_ms']:.1f} / {s['p99_ms']:.1f} | {s['errors']} "
                f"| {gw:.3f} | {php:.2f} | {db:.2f} | {share:.1f} % "
                f"| {s['fpm_active']}/{CHILDREN} / {s['fpm_queue']} |")
    if missing:
        lines += ["", "- not installed, not run: " + ", ".join(missing)]
    return "\n".join(lines) + "\n"


def chart_data(out, summary):
    """chart-wp.dat: one line per page, a column of requests/s and one of
    gateway CPU ms/request per gateway; returns the number of gateways."""
    by = {(s["case"], s["gateway"]): s for s in summary}
    gws = gateways(summary)
    with open(os.path.join(out, "chart-wp.dat"), "w") as f:
        f.write("page " + " ".join(gws) + " " +
                " ".join(g + "_cpu" for g in gws) + "\n")
        for page in PAGES:
            cells = [by.get((page, g)) for g in gws]
            f.write('"%s" %s %s\n' % (
                TITLES[page],
                " ".join("%.1f" % c["rps"] if c else "NaN" for c in cells),
                " ".join("%.4f" % ms(c["cpu_s_per_10k"]) if c else "NaN"
                         for c in cells)))
    return len(gws)


def chart_panel(out, n):
    dat = os.path.join(out, "chart-wp.dat")
    return f"""
set xrange [-0.6:{len(PAGES) - 0.4}]
set yrange [0:*]
set title "WordPress through php-fpm ({CHILDREN} children, {CONNS} clients)"
set ylabel "WordPress: requests/s (median)"
plot for [i=2:{n + 1}] "{dat}" using i:xtic(1) title columnheader(i)
set ylabel "WordPress: gateway CPU ms per request"
plot for [i={n + 2}:{2 * n + 1}] "{dat}" using i:xtic(1) \\
     title columnheader(i - {n})
unset title
"""
