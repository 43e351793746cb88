#!/usr/bin/python3
"""fcgate's benchmark: fcgate against nginx on the same FastCGI backends.

    make bench                                  # 3 rounds of 5 s per run
    make bench BENCH_ARGS="--seconds 10 --rounds 5"
    make bench BENCH_ARGS=--publish             # also update README's table

What runs, all on loopback:
  - three fcgi_benchd backends (t/bench/fcgi_benchd.c, event-driven,
    prefork) and one php-fpm pool;
  - fcgate and nginx, each with 2 workers, access log off, 16384
    worker_connections, one listening port per variant: backend keep-alive
    on (`keepalive = 16` / `keepalive 16` + `fastcgi_keep_conn on`) or off,
    ip_hash, php-fpm;
  - wrk as the client.  Gateways alternate run by run (A B A B, the order
    reversed every other round) so machine drift hits both alike.

Per case and gateway: requests/s, p50/p99 latency, errors (non-2xx/3xx
answers and socket errors), and CPU seconds the gateway's own processes
(master + workers, from /proc) spent per 10,000 requests.  A "no gateway"
row drives the backends directly with t/bench/fcgi_load.c: what the backends
can do, the ceiling for both.  Then 10,000 idle keep-alive connections are
opened to each gateway to measure memory per idle client connection.

Then the php-fpm capacity cases (t/bench/fpm_cases.py): three pools of 4
children behind one more fcgate and nginx, a heavy-tailed script at 80 %
of capacity, a burst of twice the children, slow uploads beside normal
requests, driven by t/bench/httpload.py; fpm_report.py adds their table
and the chart's p99 panel.

Then the WordPress case (t/bench/wp_case.py, when wordpress and mariadb
are installed; --no-wordpress skips it, --cases wordpress runs it alone):
fcgate and every installed peer in front of one php-fpm pool, rows
"wp-front" and "wp-post", wp_report.py adds its table and chart panels.

Results go to build/bench/ (--out): table.md, summary.csv, rounds.csv and
bench.png (gnuplot).  The machine is shared by wrk, gateway and backends, so
absolute numbers drift; the fcgate/nginx ratio of the same run is the
figure to read.
"""
import argparse
import csv
import datetime
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
import fpm_cases  # noqa: E402
import fpm_report  # noqa: E402
import wp_case  # noqa: E402
import wp_report  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Each case: what wrk sends, and which gateway variants it runs against.
# A variant is (gateway, port key); the port key names the fcgate/nginx
# server block (see write_fcgate_conf / write_nginx_conf).
KA, NOKA, IPHASH, PHP = "ka", "noka", "iphash", "php"


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


# --- processes -------------------------------------------------------------

class Proc:
    """A program we start in its own process group, and stop by that group."""

    def __init__(self, name, argv, log, env=None):
        self.name = name
        self.log = open(log, "ab")
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=self.log,
                                  stdin=subprocess.DEVNULL, env=env,
                                  start_new_session=True)

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        if self.alive():
            try:
                os.killpg(self.p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()
        # anything the group left behind (workers that outlived the master)
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.log.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, what, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not proc.alive():
            die(f"{what} exited at start-up; see its log in the run directory")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    die(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


def die(msg):
    print(f"bench: {msg}", file=sys.stderr)
    raise SystemExit(1)


def children(pid):
    """pids whose parent is pid (the gateway's workers)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rfind(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(d))
    return out


CLK = os.sysconf("SC_CLK_TCK")


def gateway_pids(master):
    return [master] + children(master)


def cpu_seconds(master):
    """utime + stime of the gateway's master and workers, in seconds."""
    total = 0
    for pid in gateway_pids(master):
        try:
            with open(f"/proc/{pid}/stat") as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rfind(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK


def rss_kib(master):
    total = 0
    for pid in gateway_pids(master):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


# --- configs ---------------------------------------------------------------

def write_fcgate_conf(d, ports, backends, php_port):
    up = "\n".join(f"    server 127.0.0.1:{p} {{}}" for p in backends)
    loc = """
    location / {
        fastcgi_pass = %s
        include("%s/etc/fastcgi_params")
        fastcgi_param { SCRIPT_FILENAME = "$document_root$fastcgi_script_name" }
    }"""
    servers = []
    for key, upstream in ((KA, "be_ka"), (NOKA, "be"), (IPHASH, "be_hash"),
                          (PHP, "php")):
        if key == PHP and php_port is None:
            continue
        servers.append(f"""server {{
    listen = {{127.0.0.1:{ports[key]}}}
    root = "{d}/www"
    keepalive_requests = 1000000
    client_body_buffer_size = 64k
{loc % (upstream, REPO)}
}}""")
    php = (f"upstream php {{\n    server 127.0.0.1:{php_port} {{}}\n}}\n"
           if php_port else "")
    conf = f"""# written by t/bench/bench.py
workers = 2
worker_connections = 16384
pid_file = "{d}/fcgate.pid"
shm_path = "{d}/fcgate.shm"
error_log = "{d}/fcgate-error.log"
access_log = off
log_level = warn
mime_types = "{REPO}/etc/mime.types"

upstream be_ka {{
    keepalive = 16
    keepalive_requests = 1000000
{up}
}}
upstream be {{
{up}
}}
upstream be_hash {{
    balance = ip_hash
    keepalive = 16
    keepalive_requests = 1000000
{up}
}}
{php}
""" + "\n".join(servers) + "\n"
    path = os.path.join(d, "fcgate.conf")
    with open(path, "w") as f:
        f.write(conf)
    return path


def write_nginx_conf(d, ports, backends, php_port):
    up = "\n".join(f"        server 127.0.0.1:{p};" for p in backends)
    servers = []
    for key, upstream, keep in ((KA, "be_ka", True), (NOKA, "be", False),
                                (IPHASH, "be_hash", True), (PHP, "php", False)):
        if key == PHP and php_port is None:
            continue
        servers.append(f"""    server {{
        listen 127.0.0.1:{ports[key]};
        root {d}/www;
        location / {{
            fastcgi_pass {upstream};
            {"fastcgi_keep_conn on;" if keep else ""}
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
        }}
    }}""")
    php = (f"    upstream php {{\n        server 127.0.0.1:{php_port};\n    }}\n"
           if php_port else "")
    # Debian's defaults, except what the comparison needs to be fair:
    # keepalive_requests as unlimited as fcgate's (nginx closes a client or
    # backend connection after 1000 requests by default), a 64 KiB body
    # buffer (fcgate keeps 64 KiB of a body in memory), temp paths here.
    conf = f"""# written by t/bench/bench.py
worker_processes 2;
worker_rlimit_nofile 40000;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log warn;
events {{
    worker_connections 16384;
}}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_buffer_size 64k;
    client_body_temp_path {d}/nginx-tmp/body;
    fastcgi_temp_path {d}/nginx-tmp/fastcgi;
    proxy_temp_path {d}/nginx-tmp/proxy;
    uwsgi_temp_path {d}/nginx-tmp/uwsgi;
    scgi_temp_path {d}/nginx-tmp/scgi;

    upstream be_ka {{
{up}
        keepalive 16;
        keepalive_requests 1000000;
    }}
    upstream be {{
{up}
    }}
    upstream be_hash {{
        ip_hash;
{up}
        keepalive 16;
        keepalive_requests 1000000;
    }}
{php}
""" + "\n".join(servers) + "\n}\n"
    os.makedirs(os.path.join(d, "nginx-tmp"), exist_ok=True)
    path = os.path.join(d, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return path


def write_php_pool(d, port):
    with open(os.path.join(d, "www", "bench.php"), "w") as f:
        f.write('<?php echo "hello, world\\n";\n')
    conf = os.path.join(d, "php-fpm.conf")
    with open(conf, "w") as f:
        f.write(f"""[global]
pid = {d}/php-fpm.pid
error_log = {d}/php-fpm.log
daemonize = no

[bench]
user = nobody
group = nogroup
listen = 127.0.0.1:{port}
listen.backlog = 4096
pm = static
pm.max_children = 8
pm.max_requests = 0
""")
    return conf


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
        self.wp = None
        self.memory = {}

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
        for name in ("fcgate", "fcgate-fpm", "fcgate-probe", "fcgate-wp"):
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
        self.ports = {"fcgate": {k: free_port() for k in keys},
                      "nginx": {k: free_port() for k in keys}}
        fconf = write_fcgate_conf(self.dir, self.ports["fcgate"],
                                  self.backends, self.php_port)
        nconf = write_nginx_conf(self.dir, self.ports["nginx"],
                                 self.backends, self.php_port)
        self.gw = {}
        self.gw["fcgate"] = self.start(
            "fcgate", [a.fcgate, "-f", "-c", fconf],
            self.ports["fcgate"][KA])
        self.gw["nginx"] = self.start(
            "nginx", [a.nginx, "-p", self.dir, "-c", nconf,
                      "-g", "daemon off;"], self.ports["nginx"][KA])
        for g in ("fcgate", "nginx"):
            for k in keys:
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
        self.wp = wp_case.start(self, a, php)

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

    def record(self, rnd, case, gateway, keepalive, r):
        row = {"round": rnd, "case": case.name, "gateway": gateway,
               "backend_keepalive": keepalive, **r}
        self.rows.append(row)
        per10k = (r["cpu_s"] / r["requests"] * 10000
                  if r["requests"] else float("nan"))
        print(f"  {case.name:<10} {gateway:<7} keepalive={keepalive:<3} "
              f"{r['rps']:>9.0f} req/s  p50 {r['p50_ms']:7.2f} ms  "
              f"p99 {r['p99_ms']:7.2f} ms  errors {r['errors']:<4} "
              f"cpu/10k {per10k:6.3f} s", flush=True)

    def run(self):
        a = self.args
        all_cases = cases(self.php_port is not None)
        if a.cases:
            want = a.cases.split(",")
            all_cases = [c for c in all_cases if c.name in want]
        # Memory first, while both gateways are fresh: after the load runs
        # their heaps hold freed memory that new connections would reuse.
        if a.idle:
            for g in ("fcgate", "nginx"):
                self.memory[g] = self.idle_memory(g, a.idle)
        for rnd in range(1, a.rounds + 1):
            print(f"round {rnd}/{a.rounds}", flush=True)
            for case in all_cases:
                order = ["fcgate", "nginx"]
                if rnd % 2 == 0:
                    order.reverse()
                for key in case.variants:
                    for g in order:
                        r = self.run_wrk(case, g, key, a.seconds)
                        ka = "off" if key in (NOKA, PHP) else "on"
                        self.record(rnd, case, g, ka, r)
                if case.ceiling and not a.no_ceiling:
                    self.record(rnd, case, "none", "on",
                                self.run_ceiling(case, a.seconds))
            if self.fpm:
                self.fpm.run_round(rnd, self.fpm_cases, a.seconds,
                                   a.burst_seconds)
            if self.wp:
                self.wp.run_round(rnd, a.wrk, a.seconds, parse_wrk)

    def idle_memory(self, gateway, n):
        """KiB of gateway RSS per idle keep-alive client connection."""
        port = self.ports[gateway][KA]
        master = self.gw[gateway].pid
        req = b"GET /small HTTP/1.1\r\nHost: bench\r\n\r\n"
        # one request first, so that lazily set up state exists before the
        # baseline, for both
        socks = [socket.create_connection(("127.0.0.1", port))]
        read_answer(socks[0], req)
        time.sleep(0.3)
        before = rss_kib(master)
        try:
            for _ in range(n - 1):
                s = socket.create_connection(("127.0.0.1", port))
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
        print(f"  idle      {gateway:<7} {len(socks)} idle keep-alive "
              f"connections: RSS {before} -> {after} KiB, "
              f"{per:.0f} bytes each", flush=True)
        return {"before_kib": before, "after_kib": after, "conns": len(socks),
                "bytes_per_conn": per}


def read_answer(s, req):
    """Send req and read one HTTP answer with a Content-Length."""
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
    if not head.startswith(b"HTTP/1.1 200"):
        die("idle-test request failed: " + head.split(b"\r\n")[0].decode())


# --- results ---------------------------------------------------------------

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
        })
    return out


def find(summary, case, gw, ka):
    for s in summary:
        if (s["case"], s["gateway"], s["backend_keepalive"]) == (case, gw, ka):
            return s
    return None


def fmt(x, spec):
    return "-" if x is None or x != x else format(x, spec)


def gateway_pairs(summary):
    """(case, backend_keepalive, fcgate row, nginx row, ceiling row or
    None) for every line of the table and bar of the chart, in run order.
    The ceiling is measured on kept connections only; both lines of a
    case get it."""
    seen = []
    for s in summary:
        key = (s["case"], s["backend_keepalive"])
        if s["gateway"] == "none" or key in seen:
            continue
        seen.append(key)
        f = find(summary, s["case"], "fcgate", s["backend_keepalive"])
        n = find(summary, s["case"], "nginx", s["backend_keepalive"])
        c = find(summary, s["case"], "none", "on")
        if f and n:
            yield s["case"], s["backend_keepalive"], f, n, c


def paired_ratio(f, n):
    """fcgate/nginx requests/s: the median of the ratios of runs from the
    same round.  The runs of a round are next to each other in time, so
    the machine's drift between rounds cancels out, which a ratio of the
    two medians would not do."""
    rounds = sorted(set(f["rps_by_round"]) & set(n["rps_by_round"]))
    rs = [f["rps_by_round"][r] / n["rps_by_round"][r] for r in rounds
          if n["rps_by_round"][r]]
    return statistics.median(rs) if rs else float("nan")


def ratio(a, b):
    return a / b if a and b and a == a and b == b else float("nan")


def table(summary, memory, titles, meta):
    """The results as a Markdown table, fcgate/nginx ratios per line."""
    lines = [f"Run of {meta}", "",
             "Requests/s and latencies are medians over the rounds; the "
             "requests/s ratio is the median of the rounds' own ratios "
             "(runs of one round are next to each other in time); CPU is "
             "the gateway's master and workers, user + system, over all "
             "rounds.", "",
             "| case | backend keep-alive | fcgate req/s | nginx req/s | "
             "ratio | no gateway req/s | fcgate p50 / p99 ms | "
             "nginx p50 / p99 ms | fcgate CPU s/10k req | "
             "nginx CPU s/10k req | CPU ratio | errors f/n |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for case, ka, f, n, c in gateway_pairs(summary):
        lines.append(
            f"| {titles.get(case, case)} | {ka} "
            f"| {f['rps']:.0f} | {n['rps']:.0f} "
            f"| **{paired_ratio(f, n):.2f}** "
            f"| {fmt(c['rps'] if c else None, '.0f')} "
            f"| {f['p50_ms']:.2f} / {f['p99_ms']:.2f} "
            f"| {n['p50_ms']:.2f} / {n['p99_ms']:.2f} "
            f"| {f['cpu_s_per_10k']:.3f} | {n['cpu_s_per_10k']:.3f} "
            f"| {ratio(f['cpu_s_per_10k'], n['cpu_s_per_10k']):.2f} "
            f"| {f['errors']} / {n['errors']} |")
    # fcgate with its keep-alive against nginx's default (no keep-alive)
    extra = []
    for case in ("small-50", "small-500"):
        f = find(summary, case, "fcgate", "on")
        n = find(summary, case, "nginx", "off")
        if f and n:
            extra.append(f"{titles.get(case, case)}: fcgate with backend "
                         f"keep-alive / nginx default (none) = "
                         f"**{paired_ratio(f, n):.2f}**")
    if extra:
        lines += [""] + ["- " + e for e in extra]
    if memory:
        f, n = memory.get("fcgate"), memory.get("nginx")
        if f and n:
            lines += ["", f"- Memory per idle keep-alive client connection "
                          f"({f['conns']} open): fcgate "
                          f"{f['bytes_per_conn']:.0f} bytes, nginx "
                          f"{n['bytes_per_conn']:.0f} bytes (ratio "
                          f"{ratio(f['bytes_per_conn'], n['bytes_per_conn']):.2f})"]
    return "\n".join(lines) + "\n"


def write_csv(path, rows, fields):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)


def chart(out, summary, fpm_summary, meta, gnuplot, wp_summary=()):
    """bench.png: requests/s and CPU per 10k requests, per case; p99 and
    errors of the php-fpm capacity cases (fpm_cases.py)."""
    dat = os.path.join(out, "chart.dat")
    labels = []
    with open(dat, "w") as f:
        f.write("# label fcgate nginx none fcgate_cpu nginx_cpu ratio\n")
        for case, ka, fg, ng, c in gateway_pairs(summary):
            label = case + ("" if ka == "on" else " (no ka)")
            labels.append(label)
            f.write('"%s" %.0f %.0f %s %.4f %.4f %.3f\n' % (
                label, fg["rps"], ng["rps"],
                "%.0f" % c["rps"] if c else "NaN",
                fg["cpu_s_per_10k"], ng["cpu_s_per_10k"],
                paired_ratio(fg, ng)))
    png = os.path.join(out, "bench.png")
    nfpm = fpm_report.chart_data(out, fpm_summary)
    nwp = wp_report.chart_data(out, wp_summary) if wp_summary else 0
    panels = (2 if labels else 0) + (1 if nfpm else 0) + (2 if nwp else 0)
    if not panels:
        return None
    script = f"""
set terminal pngcairo size 1100,{360 * panels} font "sans,10"
set output "{png}"
set multiplot layout {panels},1 title "fcgate vs nginx, same FastCGI backends, same run ({meta})"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key outside top center horizontal
set xtics rotate by -20 noenhanced
set datafile missing "NaN"
"""
    if labels:
        script += f"""
set xrange [-0.6:{len(labels) - 0.4}]
set ylabel "requests/s (median; above the bars: fcgate / nginx)"
set yrange [0:*]
plot "{dat}" using 2:xtic(1) title "fcgate" lc rgb "#2b7bba", \\
     "" using 3 title "nginx" lc rgb "#888888", \\
     "" using 0:($2 > $3 ? $2 : $3):(sprintf("%.2f", $7)) \\
        with labels offset 0,0.8 notitle
set ylabel "gateway CPU s per 10k requests (less is better)"
plot "{dat}" using 5:xtic(1) title "fcgate" lc rgb "#2b7bba", \\
     "" using 6 title "nginx" lc rgb "#888888"
"""
    if nfpm:
        script += fpm_report.chart_panel(out, nfpm)
    if nwp:
        script += wp_report.chart_panel(out, nwp)
    script += "unset multiplot\n"
    res = subprocess.run([gnuplot], input=script, text=True,
                         capture_output=True)
    if res.returncode != 0:
        die("gnuplot failed: " + res.stderr.strip())
    return png


def publish(out, tbl):
    """Copy the chart and CSV to t/bench/results and put the table into
    README between its bench markers."""
    dest = os.path.join(REPO, "t", "bench", "results")
    os.makedirs(dest, exist_ok=True)
    for name in ("bench.png", "summary.csv", "rounds.csv", "table.md"):
        shutil.copy(os.path.join(out, name), dest)
    readme = os.path.join(REPO, "README.md")
    with open(readme) as f:
        text = f.read()
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    if begin not in text or end not in text:
        die("README.md has no bench markers; results are in " + dest)
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(readme, "w") as f:
        f.write(head + begin + "\n" + tbl + end + tail)
    print(f"published to {dest} and README.md")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=5,
                    help="length of each wrk run (default 5)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds of alternating runs (default 3)")
    ap.add_argument("--cases", help="comma-separated case names (the "
                    "php-fpm capacity cases: " + ",".join(fpm_cases.CASES) +
                    "; the WordPress case: wordpress)")
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
    ap.add_argument("--no-wordpress", action="store_true",
                    help="skip the WordPress case (wp_case.py; --cases "
                    "wordpress runs it alone)")
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
    if a.smoke:
        a.seconds, a.rounds, a.idle = 1, 1, min(a.idle, 200)
        a.burst_seconds = 1
    if a.seconds < 1 or a.rounds < 1 or a.idle < 0 or a.burst_seconds < 1 \
            or not 0 < a.tail_load <= 2:
        ap.error("--seconds, --rounds and --burst-seconds must be at least "
                 "1, --idle >= 0, --tail-load in (0, 2]")
    for tool in (a.nginx, a.wrk, a.gnuplot):
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
            f"{a.rounds} round(s) of {a.seconds} s")
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
    summary = summarize(b.rows)
    fpm_rows = b.fpm.rows if b.fpm else []
    fpm_summary = fpm_report.summarize(fpm_rows)
    wp_rows = b.wp.rows if b.wp else []
    wp_summary = wp_report.summarize(wp_rows)
    fields = ["case", "gateway", "backend_keepalive", "round", "rounds",
              "rps", "p50_ms", "p99_ms", "errors", "requests", "cpu_s",
              "cpu_s_per_10k", "variant", "sent", "success_pct",
              "wait_p50_ms", "wait_p99_ms", "e502",
              "e503", "e504", "e_other", "slow_connected", "client_lag_ms",
              "client_cpu_s", "features"] + wp_case.FIELDS
    write_csv(os.path.join(a.out, "rounds.csv"), b.rows + fpm_rows + wp_rows,
              fields)
    write_csv(os.path.join(a.out, "summary.csv"),
              summary + fpm_summary + wp_summary, fields)
    tbl = (table(summary, b.memory, titles, meta) if summary
           else f"Run of {meta}\n")
    if fpm_summary:
        tbl += fpm_report.table(fpm_summary, b.fpm.features_text(),
                                a.seconds, a.burst_seconds,
                                b.fpm.tail_rate)
    if wp_summary:
        tbl += wp_report.table(wp_summary, b.wp.missing)
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write(tbl)
    png = chart(a.out, summary, fpm_summary, meta, a.gnuplot, wp_summary)
    print()
    print(tbl)
    print(f"written: {a.out}/table.md summary.csv rounds.csv "
          f"{os.path.basename(png) if png else '(no chart)'}")
    if a.publish:
        publish(a.out, tbl)


if __name__ == "__main__":
    main()
