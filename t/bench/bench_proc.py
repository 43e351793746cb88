"""The processes make bench starts, and what /proc says about them.

    p = Proc(name, argv, log, env)   # own process group; p.stop() ends it
    wait_port(port, p, name)         # until it listens, or die()
    cpu_seconds(pid), rss_kib(pid)   # of pid and its children

bench.py starts its gateways and backends through these, and the other
cases through its Bench; nothing here knows a gateway or a case.
"""
import os
import signal
import socket
import subprocess
import sys
import time


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


_given = set()     # the ports free_port has handed out in this run


def free_port():
    """A loopback port nothing listens on, and none handed out before in
    this run: the kernel may give a port it just saw closed to the next
    bind(0), and two servers told the same port would leave one dying at
    start-up (nginx keeps its other ports open while it retries, so it
    looks started and dies a few seconds into a case)."""
    for _ in range(100):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in _given:
            _given.add(port)
            return port
    die("no free loopback port found")


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


def http_get(port, path, host="bench", timeout=10.0):
    """(status, body) of one GET on a new connection with that Host, or
    (0, error)."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n"
                  f"Connection: close\r\n\r\n".encode())
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        s.close()
        head, _, body = buf.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), body.decode("utf-8", "replace")
    except (OSError, ValueError, IndexError) as e:
        return 0, str(e)
