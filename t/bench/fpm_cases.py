"""The benchmark's php-fpm capacity cases: fcgate against nginx in front of
three real php-fpm pools of 4 children each (pm = static), the setting where
a gateway's balancing, queueing and buffering decide what PHP users see.

  heavy_tail   a script whose service time is 2 ms for 90 % of requests,
               20 ms for 9 %, 200 ms for 1 %, offered open loop
               (t/bench/httpload.py rate) at 80 % of the pools' capacity;
               round robin and least_conn on both gateways (nginx's
               least_conn with and without a shared `zone`)
  burst        24 keep-alive clients (twice the 12 children), closed loop:
               fcgate with `queue` and `max_conns = 4` per server, nginx
               with `max_conns=4` (it has no queue: a full group is a 502)
               and nginx with no limit (php-fpm's listen backlog absorbs
               the burst); then both again with 4 kept backend
               connections (nginx does not count idle ones in max_conns,
               and an idle kept connection holds a php-fpm child)
  slow_upload  500 clients trickle 1 MiB POST bodies (1 KiB every 100 ms)
               while normal clients GET a PHP page open loop; request
               buffering on, both gateways' default

Used by bench.py (class Fpm): it owns the pools, one fcgate and one nginx
for these cases (so the other cases' configurations stay as they were),
and a short-lived probing fcgate that finds which of least_conn, the
shared queue and max_conns counting idle connections the binary under
test has: the cases run whatever it has, and the output says what that
was.  Results are rows of their own (variant, status
counts, success rate), which t/bench/fpm_report.py turns into the table
and the chart.
"""
import json
import os
import re
import resource
import subprocess
import threading
import time

from bench_proc import http_get

HERE = os.path.dirname(os.path.abspath(__file__))
POOLS, CHILDREN = 3, 4
# (share, milliseconds): the heavy-tailed service time mix
MIX = ((900, 2), (90, 20), (10, 200))
TAIL_LOAD = 0.8
BURST_CONNS = 2 * POOLS * CHILDREN
SLOW_CLIENTS, SLOW_BODY, SLOW_CHUNK, SLOW_INTERVAL_MS = 500, 1 << 20, 1024, 100
SLOW_RATE = 500
CASES = ("heavy_tail", "burst", "slow_upload")
TITLES = {"heavy_tail": "heavy tail, open loop",
          "burst": f"burst, {BURST_CONNS} clients for 12 children",
          "slow_upload": f"{SLOW_CLIENTS} slow 1 MiB uploads + "
                         f"{SLOW_RATE} GET/s"}

# Per case: the runs of a round, in order (gateway, variant), and the pairs
# the table and chart compare (label, chart label, fcgate variant, nginx
# variant).
RUNS = {
    "heavy_tail": [("fcgate", "round_robin"), ("nginx", "round_robin"),
                   ("fcgate", "least_conn"), ("nginx", "least_conn+zone"),
                   ("nginx", "least_conn"), ("fcgate", "least_conn+queue")],
    "burst": [("fcgate", "queue+max_conns"), ("nginx", "max_conns+zone"),
              ("fcgate", "no limit"), ("nginx", "no limit"),
              ("fcgate", "queue+max_conns+keepalive"),
              ("nginx", "max_conns+zone+keepalive")],
    "slow_upload": [("fcgate", "buffering"), ("nginx", "buffering")],
}
PAIRS = {
    "heavy_tail": [("round robin", "tail rr", "round_robin", "round_robin"),
                   ("least_conn / nginx zone", "tail lc/lc zone",
                    "least_conn", "least_conn+zone"),
                   ("least_conn / nginx no zone", "tail lc/lc",
                    "least_conn", "least_conn"),
                   ("fcgate least_conn max_conns=4 queue / nginx "
                    "least_conn zone", "tail lc+queue/lc zone",
                    "least_conn+queue", "least_conn+zone")],
    "burst": [("fcgate queue=100 max_conns=4 / nginx max_conns=4",
               "burst queue/max_conns", "queue+max_conns", "max_conns+zone"),
              ("fcgate queue=100 max_conns=4 / nginx no limit",
               "burst queue/no limit", "queue+max_conns", "no limit"),
              ("no limit / no limit", "burst no limit", "no limit",
               "no limit"),
              ("both with backend keepalive = 4: fcgate queue=100 "
               "max_conns=4 / nginx max_conns=4", "burst keep-alive",
               "queue+max_conns+keepalive", "max_conns+zone+keepalive")],
    "slow_upload": [("request buffering (default)", "slow uploads",
                     "buffering", "buffering")],
}
# the upstream / server block behind each variant
UPSTREAM = {"round_robin": "tail_rr", "least_conn": "tail_lc",
            "least_conn+queue": "tail_lcq",
            "least_conn+zone": "tail_lc_zone", "queue+max_conns": "burst_q",
            "max_conns+zone": "burst_mc", "no limit": "burst_plain",
            "queue+max_conns+keepalive": "burst_q_ka",
            "max_conns+zone+keepalive": "burst_mc_ka",
            "buffering": "slow"}
PATH = {"heavy_tail": "/tail.php", "burst": "/tail.php",
        "slow_upload": "/hello.php"}


def mean_ms():
    return sum(share * ms for share, ms in MIX) / 1000


def capacity():
    """Requests/s the pools can serve: children / mean service time."""
    return POOLS * CHILDREN * 1000 / mean_ms()


def tail_php():
    """The script: ?ms=N sleeps N ms; otherwise ?s=SEED draws from MIX,
    seeded per request, so every run of the same length gets the same
    sequence of service times whichever gateway is in front."""
    branches, edge = [], 0
    for share, ms in MIX[:-1]:
        edge += share
        branches.append(f"$r < {edge} ? {ms} : (")
    expr = "".join(branches) + str(MIX[-1][1]) + ")" * (len(MIX) - 1)
    return f"""<?php
$ms = isset($_GET['ms']) ? (int)$_GET['ms'] : -1;
if ($ms < 0) {{
    mt_srand(isset($_GET['s']) ? (int)$_GET['s'] : 0);
    $r = mt_rand(0, 999);
    $ms = {expr};
}}
usleep($ms * 1000);
header('Content-Type: text/plain');
echo getenv('BENCH_POOL'), ' ', $ms, "\\n";
"""


def write_pools(d, ports):
    www = os.path.join(d, "www")
    with open(os.path.join(www, "tail.php"), "w") as f:
        f.write(tail_php())
    with open(os.path.join(www, "hello.php"), "w") as f:
        f.write('<?php echo "hello, world\\n";\n')
    pools = "".join(f"""
[p{i}]
user = nobody
group = nogroup
listen = 127.0.0.1:{port}
pm = static
pm.max_children = {CHILDREN}
pm.max_requests = 0
env[BENCH_POOL] = p{i}
""" for i, port in enumerate(ports))
    conf = os.path.join(d, "php-fpm-pools.conf")
    with open(conf, "w") as f:
        # listen.backlog stays php-fpm's default (511), as in production
        f.write(f"""[global]
pid = {d}/php-fpm-pools.pid
error_log = {d}/php-fpm-pools.log
daemonize = no
{pools}""")
    return conf


def fcgate_upstreams(ports, probe=False):
    def servers(opts=""):
        return "\n".join(f"    server 127.0.0.1:{p} {{{opts}}}"
                         for p in ports)
    if probe:
        p0, p1, p2 = ports
        return f"""upstream probe_lc {{
    balance = least_conn
    server 127.0.0.1:{p0} {{}}
    server 127.0.0.1:{p1} {{}}
}}
upstream probe_q {{
    queue = 4
    queue_timeout = 5s
    server 127.0.0.1:{p2} {{ max_conns = 1 }}
}}
upstream probe_cap {{
    keepalive = 2
    server 127.0.0.1:{p2} {{ max_conns = 4 }}
}}
"""
    return f"""upstream tail_rr {{
{servers()}
}}
upstream tail_lc {{
    balance = least_conn
{servers()}
}}
# max_conns = the pool's children: requests wait in one queue for the
# first child free in any pool, instead of in one pool's backlog
upstream tail_lcq {{
    balance = least_conn
    queue = 100
    queue_timeout = 30s
{servers(" max_conns = 4 ")}
}}
upstream burst_q {{
    queue = 100
    queue_timeout = 30s
{servers(" max_conns = 4 ")}
}}
upstream burst_q_ka {{
    queue = 100
    queue_timeout = 30s
    keepalive = 4
    keepalive_requests = 1000000
    keepalive_timeout = {KEPT_IDLE_S}s
{servers(" max_conns = 4 ")}
}}
upstream burst_plain {{
{servers()}
}}
upstream slow {{
{servers()}
}}
"""


def write_fcgate(d, repo, name, ports, pool_ports, probe=False):
    servers = "".join(f"""
server {{
    listen = {{127.0.0.1:{ports[up]}}}
    root = "{d}/www"
    keepalive_requests = 1000000
    client_body_buffer_size = 64k
    client_max_body_size = 2m
    client_body_temp_path = "{d}/{name}-tmp"
    location / {{
        fastcgi_pass = {up}
        include("{repo}/etc/fastcgi_params")
        fastcgi_param {{ SCRIPT_FILENAME = "$document_root$fastcgi_script_name" }}
    }}
}}
""" for up in ports)
    os.makedirs(os.path.join(d, name + "-tmp"), exist_ok=True)
    path = os.path.join(d, name + ".conf")
    with open(path, "w") as f:
        f.write(f"""# written by t/bench/fpm_cases.py
workers = 2
worker_connections = 16384
pid_file = "{d}/{name}.pid"
shm_path = "{d}/{name}.shm"
error_log = "{d}/{name}-error.log"
access_log = off
log_level = warn
mime_types = "{repo}/etc/mime.types"

{fcgate_upstreams(pool_ports, probe)}{servers}""")
    return path


# A kept idle connection holds a php-fpm child, and both gateways share
# the pools: after a run with kept connections they must be closed before
# the next run (of either gateway) starts, else they starve it.  They are
# closed after KEPT_IDLE_S idle; the next run waits a little longer.
KEPT_IDLE_S = 1
KEPT_SETTLE_S = 3

# nginx keeps a FastCGI connection only when asked per location
KEEP_CONN = "\n            fastcgi_keep_conn on;"


def write_nginx(d, ports, pool_ports):
    def servers(opts=""):
        return "\n".join(f"        server 127.0.0.1:{p}{opts};"
                         for p in pool_ports)
    blocks = "".join(f"""
    server {{
        listen 127.0.0.1:{ports[up]};
        root {d}/www;
        client_max_body_size 2m;
        location / {{
            fastcgi_pass {up};{KEEP_CONN if up.endswith("_ka") else ""}
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
        }}
    }}""" for up in ports)
    t = os.path.join(d, "nginx-fpm-tmp")
    os.makedirs(t, exist_ok=True)
    path = os.path.join(d, "nginx-fpm.conf")
    # Without `zone`, nginx keeps least_conn's counts and max_conns per
    # worker process; with it they are shared, as fcgate's always are.
    with open(path, "w") as f:
        f.write(f"""# written by t/bench/fpm_cases.py
worker_processes 2;
worker_rlimit_nofile 40000;
pid {d}/nginx-fpm.pid;
error_log {d}/nginx-fpm-error.log warn;
events {{
    worker_connections 16384;
}}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_buffer_size 64k;
    client_body_temp_path {t}/body;
    fastcgi_temp_path {t}/fastcgi;
    proxy_temp_path {t}/proxy;
    uwsgi_temp_path {t}/uwsgi;
    scgi_temp_path {t}/scgi;

    upstream tail_rr {{
{servers()}
    }}
    upstream tail_lc {{
        least_conn;
{servers()}
    }}
    upstream tail_lc_zone {{
        zone tail_lc_zone 64k;
        least_conn;
{servers()}
    }}
    upstream burst_mc {{
        zone burst_mc 64k;
{servers(" max_conns=4")}
    }}
    upstream burst_mc_ka {{
        zone burst_mc_ka 64k;
{servers(" max_conns=4")}
        keepalive 4;
        keepalive_requests 1000000;
        keepalive_timeout {KEPT_IDLE_S}s;
    }}
    upstream burst_plain {{
{servers()}
    }}
    upstream slow {{
{servers()}
    }}
{blocks}
}}
""")
    return path


def in_threads(*calls):
    """Run the calls at once; their results in order."""
    out = [None] * len(calls)

    def run(i):
        out[i] = calls[i][0](*calls[i][1:])
    ts = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def delayed(seconds, fn, *args):
    time.sleep(seconds)
    return fn(*args)


def pool_of(body):
    """The pool a /tail.php answer came from ("p0"), or None (the body may
    be chunked: nothing here parses it, the line is found in it)."""
    m = re.search(r"\b(p\d+) \d+\n", body)
    return m.group(1) if m else None


class Fpm:
    def __init__(self, bench, tail_load=TAIL_LOAD, client_timeout=40):
        self.b = bench
        self.client_timeout = client_timeout
        self.tail_rate = round(tail_load * capacity())
        self.rows = []
        self.features = {}

    # --- setting up --------------------------------------------------------

    def setup(self, php, repo, fcgate, nginx):
        b = self.b
        self.fcgatectl = os.path.join(os.path.dirname(fcgate), "fcgatectl")
        self.pool_ports = [b.free_port() for _ in range(POOLS)]
        conf = write_pools(b.dir, self.pool_ports)
        pools = b.start("php-fpm-pools", [php, "-F", "-y", conf, "-p", b.dir],
                        self.pool_ports[0])
        for p in self.pool_ports[1:]:
            b.wait_port(p, pools, "php-fpm-pools")
        self.probe(repo, fcgate)
        self.ports = {g: {UPSTREAM[v]: b.free_port()
                          for runs in RUNS.values()
                          for gw, v in runs if gw == g}
                      for g in ("fcgate", "nginx")}
        fconf = write_fcgate(b.dir, repo, "fcgate-fpm", self.ports["fcgate"],
                             self.pool_ports)
        nconf = write_nginx(b.dir, self.ports["nginx"], self.pool_ports)
        self.gw = {
            "fcgate": b.start("fcgate-fpm", [fcgate, "-f", "-c", fconf],
                              self.ports["fcgate"]["tail_rr"]),
            "nginx": b.start("nginx-fpm", [nginx, "-p", b.dir, "-c", nconf,
                                           "-g", "daemon off;"],
                             self.ports["nginx"]["tail_rr"]),
        }
        for g in ("fcgate", "nginx"):
            for port in self.ports[g].values():
                b.wait_port(port, self.gw[g], g + "-fpm")

    def status(self, conf, upstream):
        """The servers of one upstream in fcgatectl status --json."""
        if not os.access(self.fcgatectl, os.X_OK):
            return []
        out = subprocess.run([self.fcgatectl, "-c", conf, "status", "--json"],
                             capture_output=True, text=True, timeout=10)
        try:
            doc = json.loads(out.stdout)
        except ValueError:
            return []
        for up in doc.get("upstreams", []):
            if up.get("name") == upstream:
                return up.get("servers", [])
        return []

    def probe(self, repo, fcgate):
        """Which of least_conn, the queue and max_conns counting idle
        connections this fcgate has, found by what it does (a binary
        without them parses the same configuration and falls back to round
        robin, no queue, uncounted idle connections)."""
        b = self.b
        ports = {u: b.free_port() for u in ("probe_lc", "probe_q",
                                              "probe_cap")}
        conf = write_fcgate(b.dir, repo, "fcgate-probe", ports,
                            self.pool_ports, probe=True)
        p = b.start("fcgate-probe", [fcgate, "-f", "-c", conf],
                    ports["probe_lc"])
        try:
            for port in ports.values():
                b.wait_port(port, p, "fcgate-probe")
            # least_conn: while one request holds a server for 800 ms, four
            # short ones all go to the other; round robin sends two back
            res = in_threads(
                (http_get, ports["probe_lc"], "/tail.php?ms=800"),
                *[(delayed, 0.2 + 0.05 * i, http_get, ports["probe_lc"],
                   "/tail.php?ms=1") for i in range(4)])
            held = pool_of(res[0][1])
            self.features["least_conn"] = (
                all(r[0] == 200 for r in res) and held is not None and
                all(pool_of(r[1]) != held for r in res[1:]))
            # queue: two requests for one max_conns = 1 server; without a
            # queue the second one fails at once
            res = in_threads((http_get, ports["probe_q"], "/tail.php?ms=400"),
                             (delayed, 0.05, http_get, ports["probe_q"],
                              "/tail.php?ms=400"))
            self.features["queue"] = all(r[0] == 200 for r in res)
            # capacity: open (busy + idle) connections counted in the
            # segment, during a request and after it (kept idle)
            got = in_threads(
                (http_get, ports["probe_cap"], "/tail.php?ms=400"),
                (delayed, 0.2, self.status, conf, "probe_cap"))[1]
            time.sleep(0.1)
            got += self.status(conf, "probe_cap")
            self.features["capacity"] = any(
                s.get("conns", 0) > 0 or s.get("idle", 0) > 0 for s in got)
        finally:
            b.stop_proc(p)

    def features_text(self):
        f = self.features
        yes = {True: "yes", False: "no"}
        return (f"least_conn {yes[f.get('least_conn', False)]}"
                f"{'' if f.get('least_conn') else ' (round robin)'}, "
                f"queue {yes[f.get('queue', False)]}, "
                f"max_conns counting idle connections "
                f"{yes[f.get('capacity', False)]}")

    # --- running -----------------------------------------------------------

    def load(self, kind, port, path, n, seconds):
        argv = ["/usr/bin/python3", os.path.join(HERE, "httpload.py"), kind,
                str(port), path, str(n), str(seconds),
                str(self.client_timeout)]
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(argv, capture_output=True, text=True,
                             timeout=seconds + self.client_timeout + 60)
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if out.returncode != 0:
            self.b.fail(f"httpload failed ({out.returncode}): "
                        f"{out.stderr.strip()}")
        r = json.loads(out.stdout)
        # what the client itself cost: it shares the machine with the rest
        r["client_cpu_s"] = (ru1.ru_utime + ru1.ru_stime -
                             ru0.ru_utime - ru0.ru_stime)
        return r

    def trickle_start(self, port):
        argv = ["/usr/bin/python3", os.path.join(HERE, "httpload.py"),
                "trickle", str(port), "/hello.php", str(SLOW_CLIENTS),
                str(SLOW_BODY), str(SLOW_CHUNK), str(SLOW_INTERVAL_MS)]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        line = p.stdout.readline().split()
        if not line or line[0] != "ready":
            p.kill()
            p.wait()
            self.b.fail("the slow-upload clients did not start")
        time.sleep(1)     # every client has sent its first pieces
        return p, int(line[1])

    def trickle_stop(self, p):
        p.terminate()
        try:
            out, _ = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        try:
            return json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {"clients": 0, "still_connected": 0}

    def run_one(self, case, gateway, variant, seconds, burst_seconds):
        port = self.ports[gateway][UPSTREAM[variant]]
        master = self.gw[gateway].pid
        trickle = None
        if case == "slow_upload":
            trickle, nslow = self.trickle_start(port)
        try:
            cpu0 = self.b.cpu_seconds(master)
            if case == "heavy_tail":
                r = self.load("rate", port, PATH[case],
                              self.tail_rate, seconds)
            elif case == "burst":
                r = self.load("conns", port, PATH[case], BURST_CONNS,
                              burst_seconds)
            else:
                r = self.load("rate", port, PATH[case], SLOW_RATE, seconds)
            cpu1 = self.b.cpu_seconds(master)
        finally:
            if trickle:
                t = self.trickle_stop(trickle)
        if trickle:
            r["slow_connected"] = f"{t['still_connected']}/{nslow}"
        if not self.gw[gateway].alive():
            self.b.fail(f"{gateway} died during {case}")
        if UPSTREAM[variant].endswith("_ka"):
            time.sleep(KEPT_SETTLE_S)
        st = r["statuses"]
        ok_codes = sum(v for k, v in st.items() if 200 <= int(k) < 400)
        row = {"case": case, "gateway": gateway, "variant": variant,
               "backend_keepalive": "off", "requests": r["requests"],
               "sent": r["sent"], "rps": r["rps"], "p50_ms": r["p50_ms"],
               "p99_ms": r["p99_ms"], "wait_p50_ms": r["wait_p50_ms"],
               "wait_p99_ms": r["wait_p99_ms"],
               "errors": r["sent"] - r["ok"],
               "e502": st.get("502", 0), "e503": st.get("503", 0),
               "e504": st.get("504", 0),
               "e_other": r["sent"] - ok_codes - st.get("502", 0) -
               st.get("503", 0) - st.get("504", 0),
               "success_pct": 100.0 * r["ok"] / r["sent"] if r["sent"] else
               float("nan"), "cpu_s": cpu1 - cpu0,
               "slow_connected": r.get("slow_connected", ""),
               "client_lag_ms": r.get("client_lag_ms", 0.0),
               "client_cpu_s": r["client_cpu_s"],
               "features": self.features_text() if gateway == "fcgate"
               else ""}
        return row

    def run_round(self, rnd, cases, seconds, burst_seconds):
        for case in cases:
            runs = list(RUNS[case])
            if rnd % 2 == 0:
                runs.reverse()
            for gateway, variant in runs:
                row = self.run_one(case, gateway, variant, seconds,
                                   burst_seconds)
                row["round"] = rnd
                row["cpu_s_per_10k"] = (row["cpu_s"] / row["requests"] * 1e4
                                        if row["requests"] else float("nan"))
                self.rows.append(row)
                print(f"  {case:<11} {gateway:<6} {variant:<16} "
                      f"{row['rps']:>7.0f} req/s  p50 {row['p50_ms']:8.2f} ms"
                      f"  p99 {row['p99_ms']:8.2f} ms  wait p99 "
                      f"{row['wait_p99_ms']:7.2f} ms  ok "
                      f"{row['success_pct']:6.2f} %  502/503/504/other "
                      f"{row['e502']}/{row['e503']}/{row['e504']}/"
                      f"{row['e_other']}"
                      + (f"  client lag {row['client_lag_ms']:.0f} ms"
                         if row["client_lag_ms"] > 10 else "")
                      + f"  client cpu {row['client_cpu_s']:.2f} s"
                      + (f"  slow still connected {row['slow_connected']}"
                         if row["slow_connected"] else ""), flush=True)
