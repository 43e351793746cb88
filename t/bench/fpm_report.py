"""The php-fpm capacity cases' results (t/bench/fpm_cases.py runs them):
medians and counts per variant, the Markdown table with fcgate/nginx
ratios, and the p99 panel of bench.png.  No measuring here.
"""
import os
import statistics

from fpm_cases import (BURST_CONNS, CASES, CHILDREN, MIX, PAIRS, POOLS,
                       SLOW_CLIENTS, SLOW_INTERVAL_MS, SLOW_RATE, TITLES,
                       capacity, mean_ms)


def summarize(rows):
    """One line per (case, gateway, variant): median latencies over the
    rounds, counts and success rate over all of them."""
    groups = {}
    for r in rows:
        groups.setdefault((r["case"], r["gateway"], r["variant"]),
                          []).append(r)
    out = []
    for (case, gw, variant), rs in groups.items():
        sent = sum(r["sent"] for r in rs)
        ok = sum(r["sent"] - r["errors"] for r in rs)
        req = sum(r["requests"] for r in rs)
        out.append({
            "case": case, "gateway": gw, "variant": variant,
            "backend_keepalive": "off", "rounds": len(rs),
            "rps": statistics.median(r["rps"] for r in rs),
            "p50_ms": statistics.median(r["p50_ms"] for r in rs),
            "p99_ms": statistics.median(r["p99_ms"] for r in rs),
            "p99_by_round": {r["round"]: r["p99_ms"] for r in rs},
            "wait_p50_ms": statistics.median(r["wait_p50_ms"] for r in rs),
            "wait_p99_ms": statistics.median(r["wait_p99_ms"] for r in rs),
            "errors": sum(r["errors"] for r in rs),
            "e502": sum(r["e502"] for r in rs),
            "e503": sum(r["e503"] for r in rs),
            "e504": sum(r["e504"] for r in rs),
            "e_other": sum(r["e_other"] for r in rs),
            "sent": sent, "requests": req,
            "success_pct": 100.0 * ok / sent if sent else float("nan"),
            "cpu_s_per_10k": (sum(r["cpu_s"] for r in rs) / req * 1e4
                              if req else float("nan")),
            "slow_connected": " ".join(r["slow_connected"] for r in rs
                                       if r["slow_connected"]),
            "features": rs[0]["features"],
            "client_lag_ms": max(r["client_lag_ms"] for r in rs),
        })
    return out


def pairs(summary):
    """(case, label, short label, fcgate line, nginx line) for the table
    and the chart."""
    by = {(s["case"], s["gateway"], s["variant"]): s for s in summary}
    for case in CASES:
        for label, short, fv, nv in PAIRS[case]:
            f, n = by.get((case, "fcgate", fv)), by.get((case, "nginx", nv))
            if f and n:
                yield case, label, short, f, n


def p99_ratio(f, n):
    """fcgate/nginx p99: the median of the ratios within each round."""
    rounds = sorted(set(f["p99_by_round"]) & set(n["p99_by_round"]))
    rs = [f["p99_by_round"][r] / n["p99_by_round"][r] for r in rounds
          if n["p99_by_round"][r] and n["p99_by_round"][r] ==
          n["p99_by_round"][r]]
    return statistics.median(rs) if rs else float("nan")


def ratio_cell(f, n):
    """The p99 ratio, bold; in parentheses when a side failed requests:
    its p99 is then of the requests it served, a different set."""
    r = p99_ratio(f, n)
    if f["errors"] or n["errors"]:
        return f"({r:.2f})"
    return f"**{r:.2f}**"


def num(x):
    return "-" if x != x else f"{x:.2f}"


def codes(s):
    return f"{s['e502']}/{s['e503']}/{s['e504']}/{s['e_other']}"


def table(summary, features, seconds, burst_seconds, tail_rate):
    ps = list(pairs(summary))
    if not ps:
        return ""
    lines = [
        "", f"### php-fpm capacity: {POOLS} pools x {CHILDREN} children "
        f"(pm = static)", "",
        f"- fcgate binary: {features}",
        f"- service time mix (tail.php, seeded per request): "
        + ", ".join(f"{share / 10:g} % {ms} ms" for share, ms in MIX)
        + f"; mean {mean_ms():.2f} ms, capacity {POOLS * CHILDREN} / "
        f"{mean_ms():.2f} ms = {capacity():.0f} req/s",
        f"- heavy tail: {tail_rate} req/s open loop "
        f"({100 * tail_rate / capacity():.0f} % of capacity) "
        f"for {seconds} s (latency from the moment a request was due); "
        f"burst: {BURST_CONNS} keep-alive clients closed loop for "
        f"{burst_seconds} s; slow uploads ({seconds} s): "
        f"{SLOW_CLIENTS} clients sending 1 KiB every {SLOW_INTERVAL_MS} ms "
        f"of a 1 MiB body, the GETs at {SLOW_RATE} req/s open loop; no "
        f"backend keep-alive",
        "- p50/p99 are of the successful answers, medians over the "
        "rounds; the p99 ratio is the median of the rounds' own ratios "
        "(below 1: fcgate's is lower), in parentheses when a side failed "
        "requests (its p99 is then of the ones it served); ok % and the "
        "error counts are over all rounds",
        "- the wait is a request's latency less the time tail.php slept "
        "for it: what queueing in front of or inside the pools added. "
        "With 1 % of requests at 200 ms, the p99 latency is such a "
        "request plus its wait; the wait's p99 shows the balancing alone",
        "",
        "| case | fcgate / nginx setting | fcgate p50 / p99 ms | "
        "nginx p50 / p99 ms | p99 ratio | p99 wait ms f / n | "
        "fcgate ok % | nginx ok % | "
        "fcgate 502/503/504/other | nginx 502/503/504/other | "
        "gateway CPU s/10k answers f / n |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lag = max(s["client_lag_ms"] for s in summary)
    if lag > 10:
        lines.insert(-3, f"- the load client fell up to {lag:.0f} ms "
                     f"behind its schedule (the machine was too busy for "
                     f"the rate); that delay is in the open-loop latencies")
    for case, label, _, f, n in ps:
        lines.append(
            f"| {TITLES[case]} | {label} "
            f"| {f['p50_ms']:.2f} / {f['p99_ms']:.2f} "
            f"| {n['p50_ms']:.2f} / {n['p99_ms']:.2f} "
            f"| {ratio_cell(f, n)} "
            f"| {num(f['wait_p99_ms'])} / {num(n['wait_p99_ms'])} "
            f"| {f['success_pct']:.2f} | {n['success_pct']:.2f} "
            f"| {codes(f)} | {codes(n)} "
            f"| {f['cpu_s_per_10k']:.3f} / {n['cpu_s_per_10k']:.3f} |")
    return "\n".join(lines) + "\n"


def chart_data(out, summary):
    """The chart's data for the p99 panel: label, fcgate p99, nginx p99,
    error counts; returns the number of lines."""
    ps = list(pairs(summary))
    with open(os.path.join(out, "chart-fpm.dat"), "w") as f:
        f.write("# label fcgate_p99 nginx_p99 fcgate_errors nginx_errors\n")
        for _, _, short, fs, ns in ps:
            f.write('"%s" %.3f %.3f %d %d\n' % (
                short, fs["p99_ms"], ns["p99_ms"], fs["errors"],
                ns["errors"]))
    return len(ps)


def chart_panel(out, n):
    dat = os.path.join(out, "chart-fpm.dat")
    return f"""
set xrange [-0.6:{n - 0.4}]
set logscale y
set yrange [*:*]
set ylabel "php-fpm: p99 ms (log)"
set title "php-fpm capacity cases: p99 of the ok answers; above the bars: failed requests, fcgate / nginx"
plot "{dat}" using 2:xtic(1) title "fcgate" lc rgb "#2b7bba", \\
     "" using 3 title "nginx" lc rgb "#888888", \\
     "" using 0:($2 > $3 ? $2 : $3):(sprintf("%d / %d", $4, $5)) \\
        with labels offset 0,0.8 notitle
unset logscale y
unset title
"""
