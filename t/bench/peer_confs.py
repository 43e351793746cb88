"""The gateways' configurations for make bench's request-rate cases.

Every gateway gets the same site: the three fcgi_benchd backends, the
php-fpm pool, one listening port per variant (KA: backend keep-alive,
NOKA: none, IPHASH: the client-address hash, PHP: php-fpm), access log
off, two workers or threads, and limits raised so that none of the cases
(500 clients, 10,000 idle connections, millions of requests on one client
connection) runs into a default cap.  What a peer cannot do is said once,
in NOTES, and shown in the table as "-" or as a footnote mark.

    site = Site(run_dir, backends, php_port, one_backend)
    path = WRITERS["caddy"](site, ports)   # ports: {KA: 8001, ...}
    key, note = line_plan("caddy", KA, single=False)

This module writes files only (fcgate's configuration and the php-fpm
pool's too); peers.py starts the gateways, bench.py runs and measures
them.
"""
import os
import resource

KA, NOKA, IPHASH, PHP = "ka", "noka", "iphash", "php"

# Why a cell is "-" or marked; the table numbers the ones it uses.
NOTES = {
    "caddy-noka": "caddy 2.6's fastcgi transport dials a new backend "
                  "connection for every request and closes it with the "
                  "answer (FCGI_BEGIN_REQUEST without FCGI_KEEP_CONN): it "
                  "has no backend keep-alive",
    "lighttpd-noka": "lighttpd 1.4's mod_fastcgi sends FCGI_BEGIN_REQUEST "
                     "without FCGI_KEEP_CONN and closes each backend "
                     "connection: it has no backend keep-alive",
    "smoke": "not run: --smoke runs the peers other than nginx on "
             "small-50 only",
    "noka-run": "ran without backend keep-alive, the only way it has",
    "apache2-hash": "Apache's mod_proxy_balancer has no client-address "
                    "hash (its lbmethods are byrequests, bytraffic, "
                    "bybusyness, heartbeat; stickiness is by cookie or URL)",
    "h2o-one": "h2o 2.2's fastcgi.connect takes one address: h2o proxies "
               "to a fourth fcgi_benchd with 3 worker processes on one "
               "port, the capacity of the three",
    "h2o-hash": "h2o 2.2's fastcgi handler has one backend address, so "
                "nothing to hash over",
    "haproxy-hash": "HAProxy's client-address hash is `balance source`: it "
                    "hashes the whole address over the servers' weights, a "
                    "mapping other than nginx's ip_hash (first three "
                    "octets)",
    "caddy-hash": "caddy's `lb_policy ip_hash` hashes the whole client "
                  "address, not nginx's first three octets",
    "lighttpd-hash": "lighttpd's `fastcgi.balance = \"sticky\"` hashes the "
                     "whole client address, not nginx's first three octets",
}

# Peers without backend keep-alive (their KA port is their NOKA port).
NO_KEEPALIVE = {"caddy": "caddy-noka", "lighttpd": "lighttpd-noka"}
NO_HASH = {"apache2": "apache2-hash", "h2o": "h2o-hash"}
OTHER_HASH = {"haproxy": "haproxy-hash", "caddy": "caddy-hash",
              "lighttpd": "lighttpd-hash"}


def line_plan(gateway, key, single):
    """Which of the gateway's ports a table line runs against, and the
    notes for its cell: (port key or None for "-", [note keys]).  A line
    with backend keep-alive is "-" for a peer without it when the case
    has a line without (small-50, small-500: its figure is there); on a
    case with one line only (single) the peer runs its one configuration
    and the cell says so."""
    notes = []
    if gateway in ("fcgate", "nginx"):
        return key, notes
    if key == IPHASH and gateway in NO_HASH:
        return None, [NO_HASH[gateway]]
    if key == IPHASH:
        notes.append(OTHER_HASH[gateway])
    if gateway == "h2o" and key != PHP:
        notes.append("h2o-one")
    if key in (KA, IPHASH) and gateway in NO_KEEPALIVE:
        if not single and key == KA:
            return None, [NO_KEEPALIVE[gateway]]
        notes += [NO_KEEPALIVE[gateway], "noka-run"]
        return (NOKA if key == KA else key), notes
    return key, notes


class Site:
    """What every configuration points at."""

    def __init__(self, d, backends, php_port, one_backend):
        self.d = d                       # the run directory
        self.www = os.path.join(d, "www")
        self.backends = backends         # the three fcgi_benchd ports
        self.php_port = php_port         # php-fpm's port, or None
        self.one_backend = one_backend   # h2o's single fcgi_benchd


def keys_for(site):
    return [k for k in (KA, NOKA, IPHASH, PHP)
            if k != PHP or site.php_port is not None]


def write(site, name, text):
    path = os.path.join(site.d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def write_fcgate_conf(d, ports, backends, php_port, repo):
    """fcgate.conf: the same site, 2 workers, the keep-alive and
    ip_hash upstreams; repo is where etc/fastcgi_params is."""
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
{loc % (upstream, repo)}
}}""")
    php = (f"upstream php {{\n    server 127.0.0.1:{php_port} {{}}\n}}\n"
           if php_port else "")
    conf = f"""# written by t/bench/peer_confs.py
workers = 2
worker_connections = 16384
pid_file = "{d}/fcgate.pid"
shm_path = "{d}/fcgate.shm"
error_log = "{d}/fcgate-error.log"
access_log = off
log_level = warn
mime_types = "{repo}/etc/mime.types"

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


def write_nginx(site, ports):
    up = "\n".join(f"        server 127.0.0.1:{p};" for p in site.backends)
    servers = []
    for key, upstream, keep in ((KA, "be_ka", True), (NOKA, "be", False),
                                (IPHASH, "be_hash", True),
                                (PHP, "php", False)):
        if key not in keys_for(site):
            continue
        servers.append(f"""    server {{
        listen 127.0.0.1:{ports[key]};
        root {site.www};
        location / {{
            fastcgi_pass {upstream};
            {"fastcgi_keep_conn on;" if keep else ""}
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
        }}
    }}""")
    php = (f"    upstream php {{\n        server 127.0.0.1:{site.php_port};"
           "\n    }\n" if site.php_port else "")
    d = site.d
    # Debian's defaults, except what the comparison needs to be fair:
    # keepalive_requests as unlimited as fcgate's (nginx closes a client or
    # backend connection after 1000 requests by default), a 64 KiB body
    # buffer (fcgate keeps 64 KiB of a body in memory), temp paths here.
    conf = f"""# written by t/bench/peer_confs.py
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
    return write(site, "nginx.conf", conf)


def write_caddy(site, ports):
    """Caddyfile.  One port serves both KA and NOKA lines (the transport
    has no keep-alive), so only NOKA, IPHASH and PHP listen.  round_robin
    as nginx's default (caddy's own default is random); php-fpm through
    php_fastcgi, the documented way."""
    up = " ".join(f"127.0.0.1:{p}" for p in site.backends)
    blocks = []
    for key, policy in ((NOKA, "round_robin"), (IPHASH, "ip_hash")):
        blocks.append(f"""http://127.0.0.1:{ports[key]} {{
\tbind 127.0.0.1
\troot * {site.www}
\treverse_proxy {up} {{
\t\tlb_policy {policy}
\t\ttransport fastcgi
\t}}
}}""")
    if site.php_port:
        blocks.append(f"""http://127.0.0.1:{ports[PHP]} {{
\tbind 127.0.0.1
\troot * {site.www}
\tphp_fastcgi 127.0.0.1:{site.php_port}
}}""")
    # admin off: no API port beside the bench's; auto_https off: plain
    # HTTP on loopback, no certificates; no `log` directive: no access
    # log (caddy logs requests only where a site asks for it)
    conf = """# written by t/bench/peer_confs.py
{
\tadmin off
\tauto_https off
}
""" + "\n".join(blocks) + "\n"
    return write(site, "Caddyfile", conf)


def haproxy_maxconn():
    """The most connections HAProxy starts with under this process's
    open-files limit (it wants 2 per connection and some 20 more)."""
    fds = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return max(100, (fds - 40) // 2)


def write_haproxy(site, ports):
    """haproxy.cfg: fcgi-app with `option keep-conn` (HAProxy's default,
    written out) and `http-reuse always` so idle backend connections are
    shared by all clients as nginx's keepalive pool is; NOKA has
    `no option keep-conn`; IPHASH `balance source`."""
    def servers():
        return "\n".join(f"    server s{i} 127.0.0.1:{p} proto fcgi"
                         for i, p in enumerate(site.backends))
    parts = []
    for key, app, balance in ((KA, "fcgi_ka", "roundrobin"),
                              (NOKA, "fcgi_noka", "roundrobin"),
                              (IPHASH, "fcgi_ka", "source")):
        parts.append(f"""frontend f_{key}
    bind 127.0.0.1:{ports[key]}
    default_backend b_{key}
backend b_{key}
    balance {balance}
    use-fcgi-app {app}
{servers()}
""")
    if site.php_port:
        parts.append(f"""frontend f_php
    bind 127.0.0.1:{ports[PHP]}
    default_backend b_php
backend b_php
    use-fcgi-app fcgi_noka
    server php 127.0.0.1:{site.php_port} proto fcgi
""")
    # maxconn as high as the open-files limit lets HAProxy start: it
    # reserves two descriptors per connection (client and server side)
    # and refuses to start without them, and the default per frontend
    # (2000) would refuse most of the idle-memory case's connections.
    # Long timeouts so no kept client connection is closed during a
    # case; no `log`: no access log.
    conf = f"""# written by t/bench/peer_confs.py
global
    nbthread 2
    maxconn {haproxy_maxconn()}
defaults
    mode http
    maxconn {haproxy_maxconn()}
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    timeout http-keep-alive 120s
    option http-keep-alive
    http-reuse always
fcgi-app fcgi_ka
    docroot {site.www}
    option keep-conn
fcgi-app fcgi_noka
    docroot {site.www}
    no option keep-conn
""" + "".join(parts)
    return write(site, "haproxy.cfg", conf)


APACHE_MODULES = ("mpm_event", "authz_core", "proxy", "proxy_fcgi",
                  "proxy_balancer", "slotmem_shm", "lbmethod_byrequests")


def write_apache(site, ports):
    """apache2.conf: event MPM, 2 child processes of 600 threads,
    mod_proxy_balancer over the three with
    byrequests (round robin by weight), `enablereuse=on` on KA's
    members; no client-address hash, so no IPHASH."""
    d = site.d
    mods = "\n".join(f"LoadModule {m}_module /usr/lib/apache2/modules/"
                     f"mod_{m}.so" for m in APACHE_MODULES)
    vhosts = []
    for key, reuse in ((KA, " enablereuse=on"), (NOKA, "")):
        members = "\n".join(f'    BalancerMember "fcgi://127.0.0.1:{p}"'
                            f'{reuse}' for p in site.backends)
        vhosts.append(f"""Listen 127.0.0.1:{ports[key]}
<Proxy "balancer://be_{key}">
{members}
    ProxySet lbmethod=byrequests
</Proxy>
<VirtualHost 127.0.0.1:{ports[key]}>
    DocumentRoot {site.www}
    ProxyPass "/" "balancer://be_{key}/"
</VirtualHost>""")
    if site.php_port:
        # php-fpm takes the script's path from the URL's path part
        vhosts.append(f"""Listen 127.0.0.1:{ports[PHP]}
<VirtualHost 127.0.0.1:{ports[PHP]}>
    DocumentRoot {site.www}
    ProxyPass "/" "fcgi://127.0.0.1:{site.php_port}{site.www}/"
</VirtualHost>""")
    os.makedirs(os.path.join(d, "apache-run"), exist_ok=True)
    # ThreadsPerChild 600: when every thread of a process is busy, the
    # event MPM closes that process's idle keep-alive connections, and
    # the kernel may hand one process most of the 500 clients (with 256
    # threads, wrk saw a hundred resets a run); AsyncRequestWorkerFactor
    # 40: a process takes at most ThreadsPerChild + factor * idle
    # threads connections, and the idle-memory case holds 10,000;
    # MaxSpareThreads = MaxRequestWorkers so neither process is stopped
    # between cases; MaxKeepAliveRequests 0 is unlimited; no CustomLog:
    # no access log
    conf = f"""# written by t/bench/peer_confs.py
{mods}
ServerName bench
User nobody
Group nogroup
PidFile {d}/apache2.pid
DefaultRuntimeDir {d}/apache-run
ErrorLog {d}/apache2-error.log
LogLevel warn
Timeout 120
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 120
ListenBacklog 4096
ServerLimit 2
StartServers 2
ThreadLimit 600
ThreadsPerChild 600
MaxRequestWorkers 1200
MinSpareThreads 25
MaxSpareThreads 1200
AsyncRequestWorkerFactor 40
MaxConnectionsPerChild 0
""" + "\n".join(vhosts) + "\n"
    return write(site, "apache2.conf", conf)


def write_lighttpd(site, ports):
    """lighttpd.conf: mod_fastcgi over the three with round-robin
    (lighttpd's default is least-connection), sticky for IPHASH; one
    port serves KA and NOKA (no backend keep-alive)."""
    hosts = ", ".join(f'("host" => "127.0.0.1", "port" => {p}, '
                      f'"check-local" => "disable")' for p in site.backends)
    socks = []
    for key, balance in ((IPHASH, "sticky"),):
        socks.append(f"""$SERVER["socket"] == "127.0.0.1:{ports[key]}" {{
    fastcgi.balance = "{balance}"
}}""")
    if site.php_port:
        socks.append(f"""$SERVER["socket"] == "127.0.0.1:{ports[PHP]}" {{
    fastcgi.server = (".php" => (("host" => "127.0.0.1", "port" => {site.php_port})))
}}""")
    # these three are 16-bit settings: a larger number wraps around
    fds = min(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 65535)
    # max-worker 2: two processes, as the others' two workers; max-fds
    # and max-connections for the 10,000 idle connections;
    # keep-alive-requests at its most (the default 1000 would close
    # kept client connections mid-case); no mod_accesslog: no access log
    conf = f"""# written by t/bench/peer_confs.py
server.modules = ("mod_fastcgi")
server.document-root = "{site.www}"
server.bind = "127.0.0.1"
server.port = {ports[NOKA]}
server.errorlog = "{site.d}/lighttpd-error.log"
server.max-worker = 2
server.max-fds = {fds}
server.max-connections = {fds - 1000}
server.max-keep-alive-requests = 65535
server.max-keep-alive-idle = 120
server.upload-dirs = ("{site.d}")
fastcgi.balance = "round-robin"
fastcgi.server = ("/" => ({hosts}))
""" + "\n".join(socks) + "\n"
    return write(site, "lighttpd.conf", conf)


def write_h2o(site, ports):
    """h2o.conf: num-threads 2, each variant a host of its own on its
    port, fastcgi.connect to the one backend (h2o 2.2 takes one address)
    with fastcgi.timeout.keepalive for KA; php-fpm through
    file.custom-handler, the documented way."""
    hosts = []
    for key, keep in ((KA, 60000), (NOKA, 0)):
        hosts.append(f"""  "127.0.0.1:{ports[key]}":
    listen:
      host: 127.0.0.1
      port: {ports[key]}
    paths:
      /:
        fastcgi.connect:
          host: 127.0.0.1
          port: {site.one_backend}
          type: tcp
        fastcgi.timeout.keepalive: {keep}
""")
    if site.php_port:
        hosts.append(f"""  "127.0.0.1:{ports[PHP]}":
    listen:
      host: 127.0.0.1
      port: {ports[PHP]}
    paths:
      /:
        file.dir: {site.www}
        file.custom-handler:
          extension: .php
          fastcgi.connect:
            host: 127.0.0.1
            port: {site.php_port}
            type: tcp
""")
    # max-connections for the 10,000 idle connections (default 1024);
    # http1-request-timeout is how long a kept client connection may
    # idle (default 10 s); no access-log: no access log
    conf = f"""# written by t/bench/peer_confs.py
user: nobody
num-threads: 2
max-connections: 20000
http1-request-timeout: 120
error-log: {site.d}/h2o-error.log
hosts:
""" + "".join(hosts)
    return write(site, "h2o.conf", conf)


WRITERS = {"nginx": write_nginx, "caddy": write_caddy,
           "haproxy": write_haproxy, "apache2": write_apache,
           "lighttpd": write_lighttpd, "h2o": write_h2o}

# The ports each peer listens on (and the bench waits for).
LISTENS = {"nginx": (KA, NOKA, IPHASH, PHP),
           "caddy": (NOKA, IPHASH, PHP),
           "haproxy": (KA, NOKA, IPHASH, PHP),
           "apache2": (KA, NOKA, PHP),
           "lighttpd": (NOKA, IPHASH, PHP),
           "h2o": (KA, NOKA, PHP)}
