"""The benchmark's WordPress case: a real application behind every gateway.

Debian's wordpress package (a copy of /usr/share/wordpress) on a private
MariaDB (datadir, unix socket and pid file in the run directory, no TCP),
through one private php-fpm pool of CHILDREN children (pm = static) on
127.0.0.1 (TCP, where php-fpm reports its listen queue),
installed from the command line before the runs (t/bench/wp_install.php:
tables, theme twentytwentythree, one published post).  Two pages: the
front page `/` ("wp-front") and that post at its default permalink `/?p=ID`
("wp-post").  Default permalinks because every gateway here routes them
to index.php with its documented configuration; haproxy's fcgi-app has no
"if no such file" rewrite (it serves no static files at all), so pretty
permalinks are a thing not all of them can do.

The set-up is the suite's (t/apps/apps.bash, run through bash): its
MariaDB, its copy of WordPress with t/apps/wp-config.php, and for fcgate
and nginx the same configurations t/80-apps.bats runs (fcgate's recipe
etc/recipes/wordpress.conf, nginx's WordPress recipe t/apps/nginx/).  The
other peers get their own documented WordPress set-ups (PEER_CONFS below).
Backend keep-alive is off for every gateway, as in all those documented
configurations: a kept php-fpm connection holds its child for as long as
it lives, so with more clients than children the idle kept ones park
children while new connections wait in the listen queue.

wrk runs CONNS connections (4x the children: php-fpm is the bottleneck),
Host "wp.bench" (WordPress's home), gateways in alternating order (reversed
every other round).  Per run: requests/s, p50/p99, errors, CPU seconds of
the gateway (master + workers), of php-fpm (master + children) and of
MariaDB, and php-fpm's status in the middle of the run (busy children and
listen queue: the evidence that PHP is saturated).  wp_report.py makes the
table and the chart panel.  Nothing here decides a pass or fail.
"""
import os
import socket
import struct
import subprocess
import time

import peers
from bench_proc import http_get

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
CHILDREN = 4
CONNS = 4 * CHILDREN
HOST = "wp.bench"
TITLE = "Gateway benchmark post"
MARKER = "wp-bench-marker: this paragraph proves the real page came back"
PAGES = ("wp-front", "wp-post")
# The row fields beyond bench.py's: other processes' CPU and php-fpm's
# state in the middle of the run.
FIELDS = ["fpm_cpu_s", "db_cpu_s", "fpm_cpu_s_per_10k", "db_cpu_s_per_10k",
          "fpm_active", "fpm_queue"]


def installed():
    """Why the case cannot run here, or None."""
    for path in ("/usr/share/wordpress/wp-settings.php",
                 "/usr/bin/mariadb-install-db", "/usr/sbin/mariadbd",
                 "/usr/bin/php"):
        if not os.path.exists(path):
            return f"{path} missing (packages wordpress, mariadb-server, " \
                "php8.2-cli)"
    return None


def apps_bash(t, script, port=None):
    """Run script with t/apps/apps.bash loaded, T=t: the suite's set-up
    functions.  Their fcg_track records pids in T/pids."""
    env = dict(os.environ, REPO=REPO, T=t, HTTP_PORT=str(port or 0))
    prelude = ('set -e; fcg_track() { echo "$1" >>"$T/pids"; }; '
               '. "$REPO/t/apps/apps.bash"; ')
    r = subprocess.run(["bash", "-c", prelude + script], env=env,
                       capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise RuntimeError(f"{script}: {r.stderr.strip() or r.stdout}")
    return r.stdout


class PidProc:
    """A process apps.bash started in the background (MariaDB): stopped by
    its pid, as bench.Proc stops its own."""

    def __init__(self, name, pid):
        self.name, self.pid = name, pid

    def alive(self):
        try:
            os.kill(self.pid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False

    def stop(self):
        if not self.alive():
            return
        os.kill(self.pid, 15)
        end = time.monotonic() + 30
        while self.alive() and time.monotonic() < end:
            time.sleep(0.1)
        if self.alive():
            os.kill(self.pid, 9)


# --- php-fpm ---------------------------------------------------------------

def write_pool(t, port):
    conf = os.path.join(t, "php-wp.conf")
    with open(conf, "w") as f:
        f.write(f"""[global]
pid = {t}/php-wp.pid
error_log = {t}/php-wp.log
daemonize = no

[wp]
user = nobody
group = nogroup
listen = 127.0.0.1:{port}
listen.backlog = 4096
pm = static
pm.max_children = {CHILDREN}
pm.max_requests = 0
pm.status_path = /fpm-status
""")
    return conf


def fcgi_record(rtype, content=b""):
    return struct.pack("!BBHHBB", 1, rtype, 1, len(content), 0, 0) + content


def fcgi_params(params):
    out = b""
    for k, v in params.items():
        k, v = k.encode(), v.encode()
        out += bytes([len(k), len(v)]) + k + v
    return out


def fpm_status(port, timeout=10.0):
    """php-fpm's status page as a dict, asked over FastCGI on the pool's
    port (no gateway in between); {} when it does not answer."""
    params = {"SCRIPT_NAME": "/fpm-status", "SCRIPT_FILENAME": "/fpm-status",
              "REQUEST_METHOD": "GET", "QUERY_STRING": ""}
    req = (fcgi_record(1, struct.pack("!HB5x", 1, 0)) +
           fcgi_record(4, fcgi_params(params)) + fcgi_record(4) +
           fcgi_record(5))
    out = b""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout)
        s.sendall(req)
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        s.close()
    except OSError:
        return {}
    while len(buf) >= 8:
        _, rtype, _, clen, plen, _ = struct.unpack("!BBHHBB", buf[:8])
        if rtype == 6:
            out += buf[8:8 + clen]
        buf = buf[8 + clen + plen:]
    body = out.partition(b"\r\n\r\n")[2].decode("latin-1")
    return {k.strip(): v.strip() for k, _, v in
            (line.partition(":") for line in body.splitlines()) if v}


# --- the gateways' configurations ------------------------------------------

def to_tcp(t, text, fpm):
    """apps_adapt's output with the pool's TCP port for the socket it put
    in (php-fpm reports its listen queue on TCP only)."""
    sock = f"unix:{t}/php-apps.sock"
    if sock not in text:
        raise RuntimeError("apps_adapt's PHP-FPM socket changed")
    return text.replace(sock, f"127.0.0.1:{fpm}")


def conf_fcgate(t, port, fpm):
    """fcgate's WordPress recipe, as t/80-apps.bats runs it, below the
    bench's global part."""
    site = to_tcp(t, apps_bash(
        t, 'apps_adapt "$REPO/etc/recipes/wordpress.conf"', port), fpm)
    d = os.path.join(t, "fcgate")
    os.makedirs(d, exist_ok=True)
    subprocess.run(["cp", os.path.join(REPO, "etc", "fastcgi_params"), d],
                   check=True)
    path = os.path.join(d, "fcgate.conf")
    with open(path, "w") as f:
        f.write(f"""# written by t/bench/wp_case.py
workers = 2
worker_connections = 1024
pid_file = "{d}/fcgate.pid"
shm_path = "{d}/fcgate.shm"
error_log = "{d}/error.log"
access_log = off
log_level = warn
mime_types = "{REPO}/etc/mime.types"
""" + site)
    return path


def conf_nginx(t, port, fpm):
    """nginx's WordPress recipe in the suite's nginx.conf (apps.bash), with
    the access log off and the pid and error log in the run directory."""
    apps_bash(t, "APPS_GATEWAY=nginx apps_nginx_conf wordpress", port)
    d = os.path.join(t, "nginx-wordpress")
    path = os.path.join(d, "nginx.conf")
    with open(path) as f:
        text = f.read()
    text = text.replace(f"access_log {d}/access.log;", "access_log off;")
    site = os.path.join(d, "site.conf")
    with open(site) as f:
        tcp = to_tcp(t, f.read(), fpm)
    with open(site, "w") as f:
        f.write(tcp)
    if "access_log off;" not in text:
        raise RuntimeError("apps_nginx_conf's access_log line changed")
    with open(path, "w") as f:
        f.write(f"pid {d}/nginx.pid;\nerror_log {d}/err.log warn;\n" + text)
    return path


def conf_caddy(t, port, fpm, root):
    # Caddy's php_fastcgi (index.php for directories and for any path
    # that is no file) with file_server for the static files.
    return f"""{{
	admin off
	auto_https off
}}
http://:{port} {{
	bind 127.0.0.1
	root * {root}
	php_fastcgi 127.0.0.1:{fpm}
	file_server
}}
"""


def conf_haproxy(t, port, fpm, root):
    # HAProxy's fcgi-app: docroot, index for paths ending in "/",
    # path-info.  Its keep-conn is on by default: turned off here, as the
    # other gateways' WordPress set-ups keep no php-fpm connection (see
    # the top of this file).  It serves no static files: everything goes
    # to php-fpm, which refuses what is not .php (403).
    return f"""global
	nbthread 2
	maxconn 4096
defaults
	mode http
	timeout connect 10s
	timeout client 60s
	timeout server 60s
fcgi-app php-fpm
	docroot {root}
	index index.php
	path-info ^(/.+\\.php)(/.*)?$
	no option keep-conn
frontend wp
	bind 127.0.0.1:{port}
	default_backend php
backend php
	use-fcgi-app php-fpm
	server fpm 127.0.0.1:{fpm} proto fcgi
"""


def conf_apache(t, port, fpm, root):
    # Event MPM, two processes; mod_proxy_fcgi by SetHandler for .php
    # (no <Proxy> worker: a connection per request); WordPress's own
    # .htaccess (written beside index.php by setup) read with
    # AllowOverride All.
    mods = ("mpm_event", "authz_core", "dir", "mime", "rewrite", "proxy",
            "proxy_fcgi")
    load = "".join(f"LoadModule {m}_module /usr/lib/apache2/modules/"
                   f"mod_{m}.so\n" for m in mods)
    user = "User nobody\nGroup nogroup\n" if os.getuid() == 0 else ""
    os.makedirs(os.path.join(t, "apache2-run"), exist_ok=True)
    return f"""{load}{user}ServerName {HOST}
Listen 127.0.0.1:{port}
PidFile {t}/apache2.pid
DefaultRuntimeDir {t}/apache2-run
ErrorLog {t}/apache2-error.log
LogLevel warn
StartServers 2
ServerLimit 2
ThreadsPerChild 32
MaxRequestWorkers 64
MinSpareThreads 32
MaxSpareThreads 64
TypesConfig /etc/mime.types
DocumentRoot {root}
<Directory />
	AllowOverride None
	Require all denied
</Directory>
<Directory {root}>
	Options FollowSymLinks
	AllowOverride All
	Require all granted
</Directory>
DirectoryIndex index.php index.html
<FilesMatch "\\.php$">
	SetHandler "proxy:fcgi://127.0.0.1:{fpm}"
</FilesMatch>
"""


# WordPress's .htaccess, as WordPress writes it for Apache.
HTACCESS = """# BEGIN WordPress
RewriteEngine On
RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]
RewriteBase /
RewriteRule ^index\\.php$ - [L]
RewriteCond %{REQUEST_FILENAME} !-f
RewriteCond %{REQUEST_FILENAME} !-d
RewriteRule . /index.php [L]
# END WordPress
"""


def conf_lighttpd(t, port, fpm, root):
    # mod_fastcgi for .php (Debian's php-fpm snippet) and lighttpd's
    # front-controller rewrite for anything that is no file.  No
    # server.errorlog: lighttpd opens it as nobody, and its stderr is
    # already the run directory's lighttpd-wp.out.
    user = ('server.username = "nobody"\nserver.groupname = "nogroup"\n'
            if os.getuid() == 0 else "")
    return f"""server.modules = ( "mod_rewrite", "mod_fastcgi" )
server.document-root = "{root}"
server.bind = "127.0.0.1"
server.port = {port}
server.max-worker = 2
{user}index-file.names = ( "index.php", "index.html" )
url.rewrite-if-not-file = ( "" => "/index.php${{url.path}}${{qsa}}" )
fastcgi.server = ( ".php" => ((
	"host" => "127.0.0.1",
	"port" => {fpm},
	"broken-scriptfilename" => "enable"
)) )
"""


def conf_h2o(t, port, fpm, root):
    # h2o's WordPress set-up: static files from file.dir, anything else
    # internally redirected to /index.php/, .php by file.custom-handler
    # with fastcgi.connect (its keep-alive, fastcgi.timeout.keepalive,
    # is off by default).  No pid-file or error-log: h2o opens them as
    # nobody; its stderr is the run directory's h2o-wp.out.
    user = "user: nobody\n" if os.getuid() == 0 else ""
    return f"""{user}num-threads: 2
listen:
  host: 127.0.0.1
  port: {port}
file.index: [ 'index.php', 'index.html' ]
file.custom-handler:
  extension: .php
  fastcgi.connect:
    host: 127.0.0.1
    port: {fpm}
    type: tcp
hosts:
  "{HOST}":
    paths:
      "/":
        file.dir: {root}
        redirect:
          url: /index.php/
          internal: YES
          status: 307
"""


PEER_CONFS = {"caddy": ("Caddyfile", conf_caddy),
              "haproxy": ("haproxy.cfg", conf_haproxy),
              "apache2": ("apache2.conf", conf_apache),
              "lighttpd": ("lighttpd.conf", conf_lighttpd),
              "h2o": ("h2o.conf", conf_h2o)}


def tasks(pid):
    try:
        return os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []


def cpu_tree(pid):
    """CPU seconds (user + system) the threads of pid and of its children
    have run so far, from /proc/PID/task/TID/schedstat: nanoseconds, where
    /proc/PID/stat counts clock ticks of 10 ms, too coarse for a gateway
    that spends a fraction of a millisecond on a WordPress page.  The same
    processes as bench.py's cpu_seconds: the master and its workers."""
    total, pids = 0, [pid]
    for tid in tasks(pid):
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                pids += [int(c) for c in f.read().split()]
        except OSError:
            pass
    for p in pids:
        for tid in tasks(p):
            try:
                with open(f"/proc/{p}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    return total / 1e9


def start(bench, args, php):
    """The case set up for bench.py, or None when it is not to run: not
    asked for (--no-wordpress, or --cases without "wordpress") or not
    installed (said once)."""
    if args.no_wordpress or (args.cases and
                             "wordpress" not in args.cases.split(",")):
        return None
    why = installed() or (None if os.path.exists(php)
                          else f"{php} missing (package php8.2-fpm)")
    if why:
        print(f"bench: no WordPress case: {why}", flush=True)
        return None
    wp = Wp(bench, args.fcgate, getattr(args, "peers", None))
    wp.setup(php)
    return wp


class Wp:
    """The case's processes and rows; bench.Bench (b) starts and stops the
    processes (b.start, b.procs) and gives the CPU counter."""

    def __init__(self, bench, fcgate, names=None):
        self.b = bench
        self.fcgate = fcgate
        if isinstance(names, str):
            names = [n for n in names.split(",") if n and n != "fcgate"]
        self.peers, self.missing = peers.installed(names)
        self.rows = []
        self.gw = {}
        self.ports = {}

    def setup(self, php):
        t = self.t = os.path.join(self.b.dir, "wp")
        os.makedirs(t, mode=0o755)
        os.chmod(t, 0o755)
        self.root = os.path.join(t, "wordpress")
        self.fpm_port = self.b.free_port()
        # the copy beside MariaDB's start-up: a few seconds less
        apps_bash(t, "apps_copy_wordpress & copy=$!; apps_start_mariadb; "
                  "wait $copy")
        with open(os.path.join(t, "pids")) as f:
            self.db = PidProc("mariadbd", int(f.read().split()[0]))
        self.b.procs.append(self.db)
        with open(os.path.join(self.root, ".htaccess"), "w") as f:
            f.write(HTACCESS)
        r = subprocess.run(["php", os.path.join(HERE, "wp_install.php"),
                            self.root, HOST, TITLE, MARKER],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0 or "post=" not in r.stdout:
            self.b.fail("WordPress install failed: " +
                        (r.stderr.strip() or r.stdout.strip()))
        post = r.stdout.split("post=")[1].split()[0]
        self.paths = {"wp-front": "/", "wp-post": "/?p=" + post}
        self.fpm = self.b.start("php-fpm-wp",
                                [php, "-F", "-y", write_pool(t, self.fpm_port),
                                 "-p", t], self.fpm_port)
        for g in ["fcgate"] + self.peers:
            self.start_gateway(g)
        for g in self.gw:
            for page in PAGES:
                self.check(g, page)

    def start_gateway(self, g):
        port = self.ports[g] = self.b.free_port()
        if g == "fcgate":
            gate = peers.Fcgate(self.fcgate)
            conf = conf_fcgate(self.t, port, self.fpm_port)
        elif g == "nginx":
            gate = peers.PEERS[g]
            conf = conf_nginx(self.t, port, self.fpm_port)
        else:
            gate = peers.PEERS[g]
            name, write = PEER_CONFS[g]
            conf = os.path.join(self.t, name)
            with open(conf, "w") as f:
                f.write(write(self.t, port, self.fpm_port, self.root))
        run_dir = os.path.dirname(conf)
        self.gw[g] = self.b.start(g + "-wp", gate.argv(conf, run_dir), port,
                                  gate.env(run_dir))

    def check(self, g, page):
        """The real page, once, before any measuring: 200 and the post's
        marker in the body (a redirect, an error page or the wrong script
        would measure something else)."""
        status, body = http_get(self.ports[g], self.paths[page], HOST, 30.0)
        if status != 200 or MARKER not in body:
            self.b.fail(f"wordpress: {g} answered {self.paths[page]} with "
                        f"{status} and {'a' if MARKER in body else 'no'} "
                        f"marker: {body[:300]!r}")
        print(f"  wp        {g:<8} {page}: 200, {len(body)} bytes, marker "
              f"found", flush=True)

    def run_one(self, rnd, g, page, wrk, seconds, parse_wrk):
        url = f"http://127.0.0.1:{self.ports[g]}{self.paths[page]}"
        # a slow answer is slow, not an error: the timeout far above
        # WordPress's latencies here
        argv = [wrk, "-t2", f"-c{CONNS}", f"-d{seconds}s", "--latency",
                "--timeout", "30s",
                "-H", f"Host: {HOST}", url]
        gw, fpm = self.gw[g].pid, self.fpm.pid
        c0 = (cpu_tree(gw), cpu_tree(fpm), cpu_tree(self.db.pid))
        p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        time.sleep(seconds / 2)
        st = fpm_status(self.fpm_port, seconds + 10)
        try:
            out, err = p.communicate(timeout=seconds + 60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            self.b.fail(f"wrk did not finish against {g}")
        c1 = (cpu_tree(gw), cpu_tree(fpm), cpu_tree(self.db.pid))
        if p.returncode != 0:
            self.b.fail(f"wrk failed ({p.returncode}): {err.strip()}")
        if not self.gw[g].alive():
            self.b.fail(f"{g} died during {page}")
        r = parse_wrk(out)
        r.update({"round": rnd, "case": page, "gateway": g,
                  "backend_keepalive": "off",
                  "cpu_s": c1[0] - c0[0], "fpm_cpu_s": c1[1] - c0[1],
                  "db_cpu_s": c1[2] - c0[2],
                  "fpm_active": int(st.get("active processes", -1)),
                  "fpm_queue": int(st.get("listen queue", -1))})
        self.rows.append(r)
        n = r["requests"] or 1
        print(f"  {page:<9} {g:<8} {r['rps']:>7.0f} req/s  p50 "
              f"{r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  errors "
              f"{r['errors']:<3} CPU ms/req gateway {r['cpu_s'] / n * 1e3:.3f}"
              f" php {r['fpm_cpu_s'] / n * 1e3:.2f} db "
              f"{r['db_cpu_s'] / n * 1e3:.2f}  php-fpm busy "
              f"{r['fpm_active']}/{CHILDREN} queue {r['fpm_queue']}",
              flush=True)

    def run_round(self, rnd, wrk, seconds, parse_wrk):
        order = list(self.gw)
        if rnd % 2 == 0:
            order.reverse()
        for page in PAGES:
            for g in order:
                self.run_one(rnd, g, page, wrk, seconds, parse_wrk)
