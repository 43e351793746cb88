#!/usr/bin/python3
"""fcgate's benchmark: fcgate against its peers on the same FastCGI backends.

    make bench                                  # 3 rounds of 5 s per run
    make bench BENCH_ARGS="--peers nginx,caddy" # some peers only
    make bench BENCH_ARGS="--seconds 10 --rounds 5"
    make bench BENCH_ARGS=--publish             # also update README's table

What runs, all on loopback:
  - three fcgi_benchd backends (t/bench/fcgi_benchd.c, event-driven,
    prefork) and one php-fpm pool;
  - fcgate and every installed peer (t/bench/peers.py: nginx, caddy,
    haproxy, apache2, lighttpd, h2o), each with 2 workers or threads,
    access log off, one listening port per variant: backend keep-alive
    on or off, client-address hash, php-fpm.  Their configurations are
    in peer_confs.py, which also says what a peer cannot do (the
    table's "-" and footnotes);
  - wrk as the client.  Gateways alternate run by run (fcgate, then the
    peers, the order reversed every other round) so machine drift hits
    all alike.  --smoke runs the peers other than nginx on small-50 only.

Per case line and gateway: requests/s, p50/p99 latency, errors (non-2xx/3xx
answers and socket errors), and CPU seconds the gateway's own processes
(master + workers, from /proc) spent per 10,000 requests.  A "no gateway"
row drives the backends directly with t/bench/fcgi_load.c: what the backends
can do, the ceiling for all.  Before the load, 10,000 idle keep-alive
connections are opened to each gateway to measure memory per idle client
connection.

Then the php-fpm capacity cases (t/bench/fpm_cases.py): three pools of 4
children behind one more fcgate and nginx (fcgate against nginx only), a
heavy-tailed script at 80 % of capacity, a burst of twice the children,
slow uploads beside normal requests, driven by t/bench/httpload.py;
fpm_report.py adds their table and the chart's p99 panel.

Results go to build/bench/ (--out): table.md, summary.csv, rounds.csv and
bench.png (gnuplot), written by bench_report.py.  The machine is shared by
wrk, gateway and backends, so absolute numbers drift; fcgate's ratio to the
best peer of the same round is the figure to read.
"""
import argparse
import datetime
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
import bench_report  # noqa: E402
import fpm_cases  # noqa: E402
import fpm_report  # noqa: E402
import peer_confs  # noqa: E402
import peers  # noqa: E402
from bench_proc import (Proc, cpu_seconds, die, free_port,  # noqa: E402
                        rss_kib, wait_port)
from peer_confs import write_fcgate_conf, write_php_pool  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Each case: what wrk sends, and which gateway variants it runs against.
# A variant is a port key: it names the server block (listening port)
# of every gateway's configuration (write_fcgate_conf, peer_confs.py).
KA, NOKA, IPHASH, PHP = (peer_confs.KA, peer_confs.NOKA, peer_confs.IPHASH,
                         peer_confs.PHP)


class Case:
    def __init__(self, name, title, path, conns, variants, wrk_args=(),
                 script=None, preload=False, ceiling=None):
        self.name = name
        self.title = title
        self.path = path
        self.conns = conns
        self.variants = variants
        self.wrk_args = list(wrk_args)
        self.script = script
        self.preload = preload
        self.ceiling = ceiling      # fcgi_load arguments, or None


POST_LUA = """\
wrk.method = "POST"
wrk.body = string.rep("x", 16384)
wrk.headers["Content-Type"] = "application/octet-stream"
"""

BOTH_KA = [KA, NOKA]


def cases(php_ok):
    c = [
        Case("small-50", "13 B, 50 keep-alive clients", "/small", 50,
             BOTH_KA, ceiling=["-c", "50"]),
        Case("small-500", "13 B, 500 keep-alive clients", "/small", 500,
             BOTH_KA, ceiling=["-c", "500"]),
        Case("close", "13 B, Connection: close, 50 clients", "/small", 50,
             [KA], wrk_args=["-H", "Connection: close"]),
        Case("64k", "64 KiB answers, 50 clients", "/big?size=65536", 50,
             [KA], ceiling=["-c", "50", "-q", "size=65536"]),
        Case("post-16k", "16 KiB POST bodies, 50 clients", "/post", 50,
             [KA], script=POST_LUA, ceiling=["-c", "50", "-b", "16384"]),
        Case("ip_hash", "ip_hash, 256 client /24s", "/small", 256,
             [IPHASH], preload=True),
    ]
    if php_ok:
        c.append(Case("php-fpm", "php-fpm, 50 clients (backend-bound)",
                      "/bench.php", 50, [PHP]))
    return c


# --- measuring -------------------------------------------------------------

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * UNIT_MS[m.group(2)] if m else float("nan")


def parse_wrk(out):
    r = {}
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    r["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Requests/sec:\s*([\d.]+)", out)
    r["rps"] = float(m.group(1)) if m else 0.0
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(r"^\s*%s%%\s+(\S+)" % pct, out, re.M)
        r[key] = to_ms(m.group(1)) if m else float("nan")
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    r["errors"] = errors
    return r


def parse_load(out):
    kv = dict(x.split("=", 1) for x in out.split())
    return {"requests": int(kv["requests"]), "rps": float(kv["rps"]),
            "p50_ms": float(kv["p50_ms"]), "p99_ms": float(kv["p99_ms"]),
            "errors": int(kv["errors"])}


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = os.path.join(REPO, args.build)
        self.dir = tempfile.mkdtemp(prefix="fcgate-bench.")
        # php-fpm's children (nobody) read the script under it
        os.chmod(self.dir, 0o755)
        os.makedirs(os.path.join(self.dir, "www"), mode=0o755)
        self.procs = []
        self.rows = []
        self.fpm = None
        self.memory = {}
        self.gws = ["fcgate"] + args.peer_list
        # peers other than nginx run only these cases (--smoke), or all
        self.peer_cases = args.peer_cases
        self.plan = {}      # (case, keep-alive, gateway) -> note keys

    # what fpm_cases.Fpm uses of this file
    free_port = staticmethod(free_port)
    wait_port = staticmethod(wait_port)
    cpu_seconds = staticmethod(cpu_seconds)
    fail = staticmethod(die)

    def stop_proc(self, p):
        p.stop()
        self.procs.remove(p)

    def start(self, name, argv, port, env=None):
        p = Proc(name, argv, os.path.join(self.dir, name + ".out"), env)
        self.procs.append(p)
        if port:
            wait_port(port, p, name)
        return p

    def stop_all(self):
        """Stop everything; returns a sanitizer report fcgate wrote (a
        sanitizer build, as in the suite's second pass), or None."""
        for p in reversed(self.procs):
            p.stop()
        self.procs = []
        for name in ("fcgate", "fcgate-fpm", "fcgate-probe"):
            log = os.path.join(self.dir, name + ".out")
            if not os.path.exists(log):
                continue
            with open(log, errors="replace") as f:
                text = f.read()
            if re.search(r"AddressSanitizer|LeakSanitizer|runtime error:",
                         text):
                return text
        return None

    def setup(self):
        a = self.args
        self.backends = [free_port() for _ in range(3)]
        for i, port in enumerate(self.backends):
            self.start(f"benchd-{i}", [os.path.join(self.build, "fcgi_benchd"),
                                       "-l", f"127.0.0.1:{port}", "-w", "1"],
                       port)
        self.php_port = None
        php = shutil.which("php-fpm8.2") or "/usr/sbin/php-fpm8.2"
        if not a.no_php and os.path.exists(php):
            self.php_port = free_port()
            conf = write_php_pool(self.dir, self.php_port)
            self.start("php-fpm", [php, "-F", "-y", conf, "-p", self.dir],
                       self.php_port)
        keys = [KA, NOKA, IPHASH, PHP]
        self.ports = {g: {k: free_port() for k in keys} for g in self.gws}
        fconf = write_fcgate_conf(self.dir, self.ports["fcgate"],
                                  self.backends, self.php_port, REPO)
        self.gw = {"fcgate": self.start(
            "fcgate", [a.fcgate, "-f", "-c", fconf],
            self.ports["fcgate"][KA])}
        one = None
        if "h2o" in self.gws:
            # h2o's fastcgi handler takes one address: one fcgi_benchd with
            # the three's processes on one port
            one = free_port()
            self.start("benchd-one", [os.path.join(self.build, "fcgi_benchd"),
                                      "-l", f"127.0.0.1:{one}", "-w", "3"],
                       one)
        site = peer_confs.Site(self.dir, self.backends, self.php_port, one)
        self.listens = listens = {"fcgate": keys}
        for g in self.gws[1:]:
            conf = peer_confs.WRITERS[g](site, self.ports[g])
            peer = peers.PEERS[g]
            listens[g] = peer_confs.LISTENS[g]
            self.gw[g] = self.start(g, peer.argv(conf, self.dir),
                                    self.ports[g][listens[g][0]],
                                    peer.env(self.dir))
        for g in self.gws:
            for k in listens[g]:
                if k != PHP or self.php_port:
                    wait_port(self.ports[g][k], self.gw[g], g)
        self.lua = os.path.join(self.dir, "post.lua")
        with open(self.lua, "w") as f:
            f.write(POST_LUA)
        self.fpm_cases = [c for c in fpm_cases.CASES
                          if not a.cases or c in a.cases.split(",")]
        if self.fpm_cases and not a.no_php and os.path.exists(php):
            # a smoke run has no time for requests a gateway left stuck
            self.fpm = fpm_cases.Fpm(self, a.tail_load,
                                     3 if a.smoke else 40)
            self.fpm.setup(php, REPO, a.fcgate, a.nginx)
            print("bench: fcgate under test has: " +
                  self.fpm.features_text(), flush=True)

    # one wrk run against one gateway variant
    def run_wrk(self, case, gateway, key, seconds):
        url = f"http://127.0.0.1:{self.ports[gateway][key]}{case.path}"
        threads = 2 if case.conns >= 2 else 1
        argv = [self.args.wrk, f"-t{threads}", f"-c{case.conns}",
                f"-d{seconds}s", "--latency"] + case.wrk_args
        if case.script:
            argv += ["-s", self.lua]
        argv.append(url)
        env = dict(os.environ)
        if case.preload:
            env["LD_PRELOAD"] = os.path.join(self.build, "srcaddr.so")
        master = self.gw[gateway].pid
        cpu0 = cpu_seconds(master)
        out = subprocess.run(argv, capture_output=True, text=True, env=env,
                             timeout=seconds + 60)
        cpu1 = cpu_seconds(master)
        if out.returncode != 0:
            die(f"wrk failed ({out.returncode}): {out.stderr.strip()}")
        r = parse_wrk(out.stdout)
        r["cpu_s"] = cpu1 - cpu0
        if not self.gw[gateway].alive():
            die(f"{gateway} died during {case.name}")
        return r

    def run_ceiling(self, case, seconds):
        argv = [os.path.join(self.build, "fcgi_load"), "-d", str(seconds),
                "-t", "2"] + case.ceiling + \
               [f"127.0.0.1:{p}" for p in self.backends]
        out = subprocess.run(argv, capture_output=True, text=True,
                             timeout=seconds + 60)
        if out.returncode != 0:
            die(f"fcgi_load failed ({out.returncode}): {out.stderr.strip()}")
        r = parse_load(out.stdout)
        r["cpu_s"] = float("nan")
        return r

    def record(self, rnd, case, gateway, keepalive, r, notes=()):
        row = {"round": rnd, "case": case.name, "gateway": gateway,
               "backend_keepalive": keepalive, **r,
               "notes": "; ".join(notes)}
        self.rows.append(row)
        per10k = (r["cpu_s"] / r["requests"] * 10000
                  if r["requests"] else float("nan"))
        print(f"  {case.name:<10} {gateway:<8} keepalive={keepalive:<3} "
              f"{r['rps']:>9.0f} req/s  p50 {r['p50_ms']:7.2f} ms  "
              f"p99 {r['p99_ms']:7.2f} ms  errors {r['errors']:<4} "
              f"cpu/10k {per10k:6.3f} s", flush=True)

    def run_line(self, rnd, case, key, order):
        """One table line: each gateway in order, on the port its plan
        names (peer_confs.line_plan), or skipped ("-" in the table)."""
        ka = "off" if key in (NOKA, PHP) else "on"
        for g in order:
            if g not in ("fcgate", "nginx") and self.peer_cases and \
                    case.name not in self.peer_cases:
                self.plan[(case.name, ka, g)] = ["smoke"]
                continue
            port_key, notes = peer_confs.line_plan(
                g, key, len(case.variants) == 1)
            self.plan[(case.name, ka, g)] = notes
            if port_key is None:
                continue
            r = self.run_wrk(case, g, port_key, self.args.seconds)
            self.record(rnd, case, g, ka, r, notes)

    def run(self):
        a = self.args
        all_cases = cases(self.php_port is not None)
        if a.cases:
            want = a.cases.split(",")
            all_cases = [c for c in all_cases if c.name in want]
        # Memory first, while every gateway is fresh: after the load runs
        # their heaps hold freed memory that new connections would reuse.
        if a.idle:
            for g in self.gws:
                self.memory[g] = self.idle_memory(g, a.idle)
        for rnd in range(1, a.rounds + 1):
            print(f"round {rnd}/{a.rounds}", flush=True)
            for case in all_cases:
                # fcgate, then the peers; reversed every other round so
                # drift within a round does not always favour one side
                order = list(self.gws)
                if rnd % 2 == 0:
                    order.reverse()
                for key in case.variants:
                    self.run_line(rnd, case, key, order)
                if case.ceiling and not a.no_ceiling:
                    self.record(rnd, case, "none", "on",
                                self.run_ceiling(case, a.seconds))
            if self.fpm:
                self.fpm.run_round(rnd, self.fpm_cases, a.seconds,
                                   a.burst_seconds)

    def idle_memory(self, gateway, n):
        """KiB of gateway RSS per idle keep-alive client connection."""
        port = self.ports[gateway][self.listens[gateway][0]]
        master = self.gw[gateway].pid
        if gateway == "haproxy":
            # it holds no more than its maxconn (peer_confs.py)
            n = min(n, peer_confs.haproxy_maxconn() - 50)
        req = b"GET /small HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port
        # one request first, so that lazily set up state exists before the
        # baseline, for every gateway
        socks = [socket.create_connection(("127.0.0.1", port), 10)]
        read_answer(socks[0], req)
        time.sleep(0.3)
        before = rss_kib(master)
        try:
            for _ in range(n - 1):
                s = socket.create_connection(("127.0.0.1", port), 10)
                socks.append(s)
                read_answer(s, req)
            time.sleep(0.5)
            after = rss_kib(master)
            if not self.gw[gateway].alive():
                die(f"{gateway} died holding {n} idle connections")
        finally:
            for s in socks:
                s.close()
        per = (after - before) * 1024 / (len(socks) - 1)
        print(f"  idle      {gateway:<8} {len(socks)} idle keep-alive "
              f"connections: RSS {before} -> {after} KiB, "
              f"{per:.0f} bytes each", flush=True)
        return {"before_kib": before, "after_kib": after, "conns": len(socks),
                "bytes_per_conn": per}


def read_answer(s, req):
    """Send req and read one HTTP answer with a Content-Length."""
    try:
        s.sendall(req)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                die("a gateway closed an idle-test connection")
            buf += chunk
        head, _, body = buf.partition(b"\r\n\r\n")
        m = re.search(rb"(?i)content-length:\s*(\d+)", head)
        want = int(m.group(1)) if m else 0
        while len(body) < want:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
    except OSError as e:
        die(f"idle-test connection: {e}")
    if not head.startswith(b"HTTP/1.1 200"):
        die("idle-test request failed: " + head.split(b"\r\n")[0].decode())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=5,
                    help="length of each wrk run (default 5)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds of alternating runs (default 3)")
    ap.add_argument("--cases", help="comma-separated case names (the "
                    "php-fpm capacity cases: " + ",".join(fpm_cases.CASES) +
                    ")")
    ap.add_argument("--peers", help="comma-separated peers to measure "
                    "fcgate against (default: every installed one of " +
                    ",".join(peers.PEERS) + ")")
    ap.add_argument("--only", help="as --cases, and no idle-memory figure "
                    "unless --idle is given: a quick look at some cases")
    ap.add_argument("--tail-load", type=float, default=fpm_cases.TAIL_LOAD,
                    help="heavy_tail's rate as a share of the php-fpm "
                    "pools' capacity (default %(default)s)")
    ap.add_argument("--burst-seconds", type=int, default=10,
                    help="length of each run of the burst case (default 10)")
    ap.add_argument("--idle", type=int, default=None,
                    help="idle keep-alive connections for the memory "
                         "figure (0: skip; default 10000)")
    ap.add_argument("--smoke", action="store_true",
                    help="1-second runs, 1 round, 200 idle connections: "
                         "checks that the script works")
    ap.add_argument("--no-php", action="store_true")
    ap.add_argument("--no-ceiling", action="store_true")
    ap.add_argument("--publish", action="store_true",
                    help="copy results to t/bench/results and README")
    ap.add_argument("--out", default=os.path.join(REPO, "build", "bench"))
    ap.add_argument("--build", default="build",
                    help="where fcgi_benchd, fcgi_load and srcaddr.so are")
    ap.add_argument("--fcgate", default=os.path.join(
        REPO, os.environ.get("FCGATE_BUILD", "build"), "fcgate"),
        help="the fcgate binary (default: $FCGATE_BUILD/fcgate)")
    ap.add_argument("--nginx", default=shutil.which("nginx") or
                    "/usr/sbin/nginx")
    ap.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    ap.add_argument("--gnuplot", default=shutil.which("gnuplot") or
                    "/usr/bin/gnuplot")
    ap.add_argument("--keep", action="store_true",
                    help="keep the run directory (configs, logs)")
    a = ap.parse_args()
    if a.only:
        a.cases = a.only
        if a.idle is None:
            a.idle = 0
    if a.idle is None:
        a.idle = 10000
    a.peer_cases = None
    if a.smoke:
        a.seconds, a.rounds, a.idle = 1, 1, min(a.idle, 200)
        a.burst_seconds = 1
        # a minute is time for every peer on one case, nginx on all
        a.peer_cases = ["small-50"]
    want_peers = a.peers.split(",") if a.peers else None
    unknown = [p for p in want_peers or [] if p not in peers.PEERS]
    if unknown:
        ap.error(f"unknown peer(s) {','.join(unknown)}; the peers are "
                 f"{','.join(peers.PEERS)}")
    # --nginx names the binary for the nginx peer too
    peers.PEERS["nginx"].binaries.insert(0, a.nginx)
    a.peer_list, missing = peers.installed(want_peers)
    if missing:
        print(f"bench: not installed, left out: {', '.join(missing)} "
              f"(t/deps.sh installs them)", file=sys.stderr)
    if a.seconds < 1 or a.rounds < 1 or a.idle < 0 or a.burst_seconds < 1 \
            or not 0 < a.tail_load <= 2:
        ap.error("--seconds, --rounds and --burst-seconds must be at least "
                 "1, --idle >= 0, --tail-load in (0, 2]")
    for tool in (a.wrk, a.gnuplot) + ((a.nginx,) if "nginx" in a.peer_list
                                      else ()):
        if not os.access(tool, os.X_OK):
            die(f"{tool} not found (make bench installs it: t/deps.sh)")
    for prog in ("fcgi_benchd", "fcgi_load", "srcaddr.so"):
        if not os.path.exists(os.path.join(REPO, a.build, prog)):
            die(f"{a.build}/{prog} missing: run make first")
    if not os.access(a.fcgate, os.X_OK):
        die(f"{a.fcgate} missing: run make first")

    # 10,000 client sockets here and as many in a gateway worker
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, min(hard, 65536))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if a.idle + 200 > want:
        a.idle = max(0, want - 200)
        print(f"bench: open files limited to {want}: "
              f"{a.idle} idle connections", file=sys.stderr)

    os.makedirs(a.out, exist_ok=True)
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1).strip() if m else cpu
    except OSError:
        pass
    meta = (f"{datetime.date.today().isoformat()}, {os.cpu_count()} cores "
            f"({cpu}) shared by wrk, gateway and backends, "
            f"{a.rounds} round(s) of {a.seconds} s; peers: "
            f"{', '.join(a.peer_list) or 'none'}")
    b = Bench(a)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        b.setup()
        print(f"bench: {meta}; run directory {b.dir}", flush=True)
        b.run()
    finally:
        report = b.stop_all()
        if not a.keep:
            shutil.rmtree(b.dir, ignore_errors=True)
    if report:
        sys.stderr.write(report)
        die("fcgate reported a memory error (above)")

    titles = {c.name: c.title for c in cases(True)}
    summary = bench_report.summarize(b.rows)
    fpm_rows = b.fpm.rows if b.fpm else []
    fpm_summary = fpm_report.summarize(fpm_rows)
    fields = ["case", "gateway", "backend_keepalive", "round", "rounds",
              "rps", "p50_ms", "p99_ms", "errors", "requests", "cpu_s",
              "cpu_s_per_10k", "variant", "sent", "success_pct",
              "wait_p50_ms", "wait_p99_ms", "e502",
              "e503", "e504", "e_other", "slow_connected", "client_lag_ms",
              "client_cpu_s", "features", "notes", "idle_conns",
              "bytes_per_conn"]
    idle = [{"case": "idle-memory", "gateway": g, "idle_conns": m["conns"],
             "bytes_per_conn": round(m["bytes_per_conn"])}
            for g, m in b.memory.items()]
    bench_report.write_csv(os.path.join(a.out, "rounds.csv"),
                           b.rows + fpm_rows, fields)
    bench_report.write_csv(os.path.join(a.out, "summary.csv"),
                           summary + fpm_summary + idle, fields)
    tbl = (bench_report.table(summary, b.memory, titles, meta, b.gws,
                              b.plan) if summary else f"Run of {meta}\n")
    if fpm_summary:
        tbl += fpm_report.table(fpm_summary, b.fpm.features_text(),
                                a.seconds, a.burst_seconds,
                                b.fpm.tail_rate)
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write(tbl)
    png = bench_report.chart(a.out, summary, fpm_summary, meta, a.gnuplot,
                             b.gws)
    print()
    print(tbl)
    print(f"written: {a.out}/table.md summary.csv rounds.csv "
          f"{os.path.basename(png) if png else '(no chart)'}")
    if a.publish:
        bench_report.publish(REPO, a.out, tbl)


if __name__ == "__main__":
    main()
