"""The gateways make bench measures: fcgate and its peers.

Each gateway is a Debian package run from its own configuration file in
the bench's run directory, in the foreground, in a process group of its
own (bench.Proc), never as the distribution's service.  This module knows
how to start each one; the configurations for the cases live beside it
(bench.py for the request-rate cases, wp_case.py for WordPress).

    PEERS["caddy"].argv(conf, run_dir)    # the command line
    PEERS["caddy"].env(run_dir)           # its environment
    installed(names)                       # the peers this machine has
"""
import os
import shutil


class Gateway:
    """One gateway: its binary and how it is started."""

    def __init__(self, name, binaries, package, threads_note):
        self.name = name
        self.binaries = binaries    # candidates, first found wins
        self.package = package      # the Debian package it comes in
        self.threads_note = threads_note

    @property
    def binary(self):
        for b in self.binaries:
            path = shutil.which(b) or (b if os.path.isabs(b) else None)
            if path and os.access(path, os.X_OK):
                return path
        return None

    def argv(self, conf, run_dir):
        raise NotImplementedError

    def env(self, run_dir):
        """The environment: the bench's own, with HOME in the run
        directory so no peer writes state under the real home."""
        e = dict(os.environ)
        e["HOME"] = run_dir
        return e


class Fcgate(Gateway):
    def __init__(self, binary):
        super().__init__("fcgate", [binary], None, "workers = 2")

    def argv(self, conf, run_dir):
        return [self.binary, "-f", "-c", conf]


class Nginx(Gateway):
    def __init__(self):
        super().__init__("nginx", ["nginx", "/usr/sbin/nginx"], "nginx",
                         "worker_processes 2")

    def argv(self, conf, run_dir):
        return [self.binary, "-p", run_dir, "-c", conf, "-g", "daemon off;"]


class Caddy(Gateway):
    def __init__(self):
        super().__init__("caddy", ["caddy", "/usr/bin/caddy"], "caddy",
                         "GOMAXPROCS=2")

    def argv(self, conf, run_dir):
        return [self.binary, "run", "--config", conf, "--adapter",
                "caddyfile"]

    def env(self, run_dir):
        e = super().env(run_dir)
        e["XDG_DATA_HOME"] = os.path.join(run_dir, "caddy-data")
        e["XDG_CONFIG_HOME"] = os.path.join(run_dir, "caddy-config")
        e["GOMAXPROCS"] = "2"
        return e


class Haproxy(Gateway):
    def __init__(self):
        super().__init__("haproxy", ["haproxy", "/usr/sbin/haproxy"],
                         "haproxy", "nbthread 2")

    def argv(self, conf, run_dir):
        return [self.binary, "-db", "-f", conf]


class Apache(Gateway):
    def __init__(self):
        super().__init__("apache2", ["apache2", "/usr/sbin/apache2"],
                         "apache2", "event MPM, 2 processes")

    def argv(self, conf, run_dir):
        return [self.binary, "-d", run_dir, "-f", conf, "-DFOREGROUND"]


class Lighttpd(Gateway):
    def __init__(self):
        super().__init__("lighttpd", ["lighttpd", "/usr/sbin/lighttpd"],
                         "lighttpd", "server.max-worker = 2")

    def argv(self, conf, run_dir):
        return [self.binary, "-D", "-f", conf]


class H2o(Gateway):
    def __init__(self):
        super().__init__("h2o", ["h2o", "/usr/bin/h2o"], "h2o",
                         "num-threads: 2")

    def argv(self, conf, run_dir):
        return [self.binary, "-m", "worker", "-c", conf]


# The peers, in the order tables list them.
PEERS = {g.name: g for g in (Nginx(), Caddy(), Haproxy(), Apache(),
                             Lighttpd(), H2o())}


def installed(names=None):
    """The peers asked for (all when names is None) that are installed,
    and the names asked for that are not, as (list, list)."""
    want = list(PEERS) if names is None else names
    have = [n for n in want if n in PEERS and PEERS[n].binary]
    return have, [n for n in want if n not in have]
