"""make bench's results for the request-rate cases: summary, table, chart.

bench.py measures and hands its rows here: one row per run (case,
gateway, backend_keepalive, round, requests/s, latencies, errors, CPU).
This module only computes and writes: the medians per case line and
gateway, fcgate's ratio to the best peer of each line, table.md's
request-rate and CPU tables with their footnotes, the memory per idle
connection, bench.png's panels (the php-fpm capacity panel comes from
fpm_report.py), and README's copy (publish).  No measuring here.
"""
import csv
import os
import shutil
import statistics
import subprocess

import fpm_report
from peer_confs import NOTES


def summarize(rows):
    """One line per (case, gateway, keepalive): medians over the rounds;
    CPU per 10k requests from the totals."""
    groups = {}
    for r in rows:
        groups.setdefault((r["case"], r["gateway"], r["backend_keepalive"]),
                          []).append(r)
    out = []
    for (case, gw, ka), rs in groups.items():
        req = sum(r["requests"] for r in rs)
        cpu = sum(r["cpu_s"] for r in rs)
        out.append({
            "case": case, "gateway": gw, "backend_keepalive": ka,
            "rounds": len(rs),
            "rps": statistics.median(r["rps"] for r in rs),
            "p50_ms": statistics.median(r["p50_ms"] for r in rs),
            "p99_ms": statistics.median(r["p99_ms"] for r in rs),
            "errors": sum(r["errors"] for r in rs),
            "rps_by_round": {r["round"]: r["rps"] for r in rs},
            "requests": req,
            "cpu_s_per_10k": cpu / req * 10000 if req else float("nan"),
            "notes": rs[0].get("notes", ""),
        })
    return out


def fmt(x, spec):
    return "-" if x is None or x != x else format(x, spec)


def ratio(a, b):
    return a / b if a and b and a == a and b == b else float("nan")


class Line:
    """One line of the table: a case and its backend keep-alive, every
    gateway's summary on it (None: did not run), the ceiling."""

    def __init__(self, case, ka, by_gw, ceiling, peers):
        self.case, self.ka, self.ceiling = case, ka, ceiling
        self.by_gw = by_gw
        self.f = by_gw.get("fcgate")
        self.peers = [by_gw[p] for p in peers if by_gw.get(p)]

    def best(self):
        """The peer with the most requests/s (median) on this line."""
        return max(self.peers, key=lambda s: s["rps"], default=None)

    def lowest_cpu(self):
        cpus = [s["cpu_s_per_10k"] for s in self.peers
                if s["cpu_s_per_10k"] == s["cpu_s_per_10k"]]
        return min(cpus, default=float("nan"))

    def ratio_to_best(self):
        """fcgate / the best peer: within each round fcgate's requests/s
        over the fastest peer's of that round, the median over the
        rounds.  Runs of one round are next to each other in time, so
        the machine's drift between rounds cancels out, which a ratio of
        medians would not do."""
        if not self.f or not self.peers:
            return float("nan")
        rs = []
        for rnd, frps in self.f["rps_by_round"].items():
            peer = [p["rps_by_round"][rnd] for p in self.peers
                    if rnd in p["rps_by_round"]]
            if peer and max(peer):
                rs.append(frps / max(peer))
        return statistics.median(rs) if rs else float("nan")


def lines(summary, peers):
    """The table's lines in run order: each (case, keep-alive) once, with
    every gateway that ran it.  The ceiling is measured on kept
    connections only; both lines of a case get it."""
    seen, out = [], []
    for s in summary:
        key = (s["case"], s["backend_keepalive"])
        if s["gateway"] == "none" or key in seen:
            continue
        seen.append(key)
        by_gw = {x["gateway"]: x for x in summary
                 if (x["case"], x["backend_keepalive"]) == key}
        ceil = next((x for x in summary if x["case"] == s["case"]
                     and x["gateway"] == "none"), None)
        out.append(Line(s["case"], s["backend_keepalive"], by_gw, ceil,
                        peers))
    return out


class Notes:
    """Footnotes numbered in the order the table first uses them."""

    def __init__(self):
        self.keys = []

    def mark(self, keys):
        out = []
        for k in keys:
            if k not in self.keys:
                self.keys.append(k)
            out.append(str(self.keys.index(k) + 1))
        return " [" + ",".join(out) + "]" if out else ""

    def text(self):
        return [f"{i + 1}. {NOTES[k]}." for i, k in enumerate(self.keys)]


def cell(line, gw, value, spec, notes, plan):
    s = line.by_gw.get(gw)
    keys = plan.get((line.case, line.ka, gw), [])
    if s is None:
        return "-" + notes.mark(keys)
    return fmt(value(s), spec) + notes.mark(keys)


def errors_text(line):
    bad = [f"{g} {s['errors']}" for g, s in line.by_gw.items()
           if g != "none" and s["errors"]]
    return ", ".join(bad) if bad else "0"


def rate_tables(tls, gws, titles, plan, notes):
    head = " | ".join(f"{g} req/s" for g in gws)
    out = ["| case | backend keep-alive | " + head +
           " | fcgate / best peer | no gateway req/s | "
           "p99 ms fcgate / best peer | errors |",
           "|---|---|" + "---:|" * (len(gws) + 4)]
    for ln in tls:
        best = ln.best()
        p99 = (f"{fmt(ln.f['p99_ms'] if ln.f else None, '.2f')} / "
               f"{fmt(best['p99_ms'] if best else None, '.2f')}"
               + (f" ({best['gateway']})" if best else ""))
        out.append(
            f"| {titles.get(ln.case, ln.case)} | {ln.ka} | " +
            " | ".join(cell(ln, g, lambda s: s["rps"], ".0f", notes, plan)
                       for g in gws) +
            f" | **{fmt(ln.ratio_to_best(), '.2f')}**"
            + (f" ({best['gateway']})" if best else "") +
            f" | {fmt(ln.ceiling['rps'] if ln.ceiling else None, '.0f')}"
            f" | {p99} | {errors_text(ln)} |")
    return out


def cpu_tables(tls, gws, titles, plan, notes):
    out = ["| case | backend keep-alive | " +
           " | ".join(f"{g}" for g in gws) +
           " | fcgate / lowest peer |",
           "|---|---|" + "---:|" * (len(gws) + 1)]
    for ln in tls:
        out.append(
            f"| {titles.get(ln.case, ln.case)} | {ln.ka} | " +
            " | ".join(cell(ln, g, lambda s: s["cpu_s_per_10k"], ".3f",
                            notes, plan) for g in gws) +
            f" | **{fmt(ratio(ln.f['cpu_s_per_10k'] if ln.f else None, ln.lowest_cpu()), '.2f')}** |")
    return out


def default_lines(summary, titles):
    """fcgate with its backend keep-alive against nginx as Debian ships
    it (no fastcgi_keep_conn): what a user switching gets."""
    def find(case, gw, ka):
        return next((s for s in summary if (s["case"], s["gateway"],
                     s["backend_keepalive"]) == (case, gw, ka)), None)
    out = []
    for case in ("small-50", "small-500"):
        f, n = find(case, "fcgate", "on"), find(case, "nginx", "off")
        if not f or not n:
            continue
        rs = [f["rps_by_round"][r] / n["rps_by_round"][r]
              for r in f["rps_by_round"]
              if n["rps_by_round"].get(r)]
        if rs:
            out.append(f"- {titles.get(case, case)}: fcgate with backend "
                       f"keep-alive / nginx default (none) = "
                       f"**{statistics.median(rs):.2f}**")
    return [""] + out if out else []


def memory_lines(memory, gws):
    have = [g for g in gws if g in memory]
    if not have:
        return []
    parts = [f"{g} {memory[g]['bytes_per_conn']:.0f}"
             + (f" ({memory[g]['conns']} open)"
                if memory[g]["conns"] != memory[have[0]]["conns"] else "")
             for g in have]
    peers = [memory[g]["bytes_per_conn"] for g in have if g != "fcgate"]
    low = min(peers, default=float("nan"))
    f = memory.get("fcgate", {}).get("bytes_per_conn")
    return ["", f"- Memory per idle keep-alive client connection, bytes "
                f"({memory[have[0]]['conns']} open, RSS of all the "
                f"gateway's processes, fresh gateway): " + ", ".join(parts) +
            f"; fcgate / lowest peer = **{fmt(ratio(f, low), '.2f')}**"]


def table(summary, memory, titles, meta, gws, plan):
    """table.md's request-rate part: requests/s, then CPU, per line."""
    peers = [g for g in gws if g != "fcgate"]
    tls = lines(summary, peers)
    notes = Notes()
    out = [f"Run of {meta}", "",
           "Requests/s and latencies are medians over the rounds; fcgate / "
           "best peer is the median over the rounds of fcgate's requests/s "
           "over the fastest peer's in the same round (the runs of a round "
           "are next to each other in time); the best peer named is the "
           "fastest by median.  CPU is the gateway's own processes, user + "
           "system, over all rounds.  \"-\": the gateway cannot do the "
           "line (footnote).", ""]
    out += rate_tables(tls, gws, titles, plan, notes)
    out += ["", "Gateway CPU seconds per 10,000 requests (less is better):",
            ""]
    out += cpu_tables(tls, gws, titles, plan, notes)
    if notes.keys:
        out += [""] + notes.text()
    out += default_lines(summary, titles)
    out += memory_lines(memory, gws)
    return "\n".join(out) + "\n"


def write_csv(path, rows, fields):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)


COLOURS = ["#2b7bba", "#555555", "#e6a23c", "#8bbf6a", "#b07cc6",
           "#d9776c", "#4fb3bf"]


def chart_data(out, summary, gws):
    """chart.dat: one row per line, its label, fcgate / best peer, then
    every gateway's CPU per 10k requests (NaN where it did not run)."""
    tls = lines(summary, [g for g in gws if g != "fcgate"])
    dat = os.path.join(out, "chart.dat")
    with open(dat, "w") as f:
        f.write("# label ratio_to_best " + " ".join(gws) + "\n")
        for ln in tls:
            label = ln.case + ("" if ln.ka == "on" else " (no ka)")
            cpus = []
            for g in gws:
                s = ln.by_gw.get(g)
                cpus.append("%.4f" % s["cpu_s_per_10k"] if s else "NaN")
            r = ln.ratio_to_best()
            f.write('"%s" %s %s\n' % (label, "%.3f" % r if r == r else "NaN",
                                      " ".join(cpus)))
    return dat, len(tls)


def chart(out, summary, fpm_summary, meta, gnuplot, gws):
    """bench.png: fcgate / best peer per line (lines at 1.0 and at the
    goal, 1.2), CPU per request of every gateway (fcgate in blue), and
    the php-fpm capacity cases' panel (fpm_report.py)."""
    dat, n = chart_data(out, summary, gws)
    png = os.path.join(out, "bench.png")
    nfpm = fpm_report.chart_data(out, fpm_summary)
    panels = (2 if n else 0) + (1 if nfpm else 0)
    if not panels:
        return None
    script = f"""
set terminal pngcairo size 1200,{380 * panels} font "sans,10"
set output "{png}"
set multiplot layout {panels},1 title "fcgate and its peers, same FastCGI backends, same run\\n{meta}"
set style fill solid 0.85 border -1
set grid ytics
set key outside top center horizontal
set xtics rotate by -20 noenhanced
set datafile missing "NaN"
"""
    if n:
        cpu = ", \\\n     ".join(
            (f'"{dat}" using 3:xtic(1)' if i == 0 else f'"" using {i + 3}')
            + f' title "{g}" lc rgb "{COLOURS[i % len(COLOURS)]}"'
            for i, g in enumerate(gws))
        script += f"""
set xrange [-0.6:{n - 0.4}]
set yrange [0:*]
set style data histograms
set style histogram clustered gap 1
set boxwidth 0.8
set ylabel "fcgate req/s / best peer's (goal: 1.2)"
plot "{dat}" using 2:xtic(1) title "fcgate / best peer" lc rgb "#2b7bba", \\
     "" using 0:2:(sprintf("%.2f", $2)) with labels offset 0,0.8 notitle, \\
     1.0 with lines lc rgb "#000000" dt 2 title "1.0 (parity)", \\
     1.2 with lines lc rgb "#2ca02c" lw 2 title "1.2 (goal)"
set ylabel "gateway CPU s per 10k requests (less is better)"
plot {cpu}
"""
    if nfpm:
        script += fpm_report.chart_panel(out, nfpm)
    script += "unset multiplot\n"
    res = subprocess.run([gnuplot], input=script, text=True,
                         capture_output=True)
    if res.returncode != 0:
        raise SystemExit("bench: gnuplot failed: " + res.stderr.strip())
    return png


def publish(repo, out, tbl):
    """Copy the chart and CSVs to t/bench/results and put the table into
    README between its bench markers."""
    dest = os.path.join(repo, "t", "bench", "results")
    os.makedirs(dest, exist_ok=True)
    for name in ("bench.png", "summary.csv", "rounds.csv", "table.md"):
        shutil.copy(os.path.join(out, name), dest)
    readme = os.path.join(repo, "README.md")
    with open(readme) as f:
        text = f.read()
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    if begin not in text or end not in text:
        raise SystemExit("bench: README.md has no bench markers; results "
                         "are in " + dest)
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(readme, "w") as f:
        f.write(head + begin + "\n" + tbl + end + tail)
    print(f"published to {dest} and README.md")
