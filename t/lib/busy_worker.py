#!/usr/bin/env python3
"""Long requests held by one fcgate worker, short ones sent through another.

usage: busy_worker.py PORT FCGATECTL SEGMENT UPSTREAM OTHER NLONG NSHORT
                      LONG_PATH SHORT_PATH

Opens keep-alive connections one at a time and learns which worker
accepted each (its `accepted` count in `fcgatectl workers --json` went
up), until NLONG of them are on one worker (A) and one is on another (B).
Then, with server OTHER of UPSTREAM set down, sends LONG_PATH on each of
A's connections and waits until the upstream has NLONG in flight (all on
the servers still up), sets OTHER up again and sends NSHORT requests
SHORT_PATH one after the other on B's connection.  Prints

    workers A B
    short BODY...          (the first word of each short answer's body)
    inflight N             (the upstream's in-flight count after them)
    long BODY...

and exits 0, or prints a reason on stderr and exits 1.  Every wait is
bounded.
"""
import http.client
import json
import subprocess
import sys
import time


def ctl(argv, *args):
    out = subprocess.run([argv[2], "-m", argv[3], *args],
                         capture_output=True, text=True, check=True)
    return out.stdout


def accepted(argv):
    return {w["pid"]: w["accepted"]
            for w in json.loads(ctl(argv, "workers", "--json"))["workers"]
            if w["state"] == "running"}


def inflight(argv):
    for up in json.loads(ctl(argv, "status", "--json"))["upstreams"]:
        if up["name"] == argv[4]:
            return sum(s["active"] for s in up["servers"])
    raise SystemExit("no upstream " + argv[4])


def connect_one(argv):
    """A new connection and the pid of the worker that accepted it."""
    before = accepted(argv)
    conn = http.client.HTTPConnection("127.0.0.1", int(argv[1]), timeout=20)
    conn.connect()
    for _ in range(200):
        now = accepted(argv)
        grew = [p for p in now if now[p] > before.get(p, 0)]
        if len(grew) == 1 and sum(now.values()) == sum(before.values()) + 1:
            return conn, grew[0]
        time.sleep(0.02)
    raise SystemExit("could not tell which worker accepted a connection")


def place(argv, nlong):
    """nlong connections on one worker, one on another."""
    by = {}
    for _ in range(12 * (nlong + 1)):
        conn, pid = connect_one(argv)
        by.setdefault(pid, []).append(conn)
        full = [p for p in by if len(by[p]) >= nlong]
        for a in full:
            others = [p for p in by if p != a]
            if others:
                return a, by[a][:nlong], others[0], by[others[0]][0]
    raise SystemExit("the connections did not spread over two workers")


def body(conn):
    resp = conn.getresponse()
    data = resp.read().decode(errors="replace").split()
    return data[0] if data and resp.status == 200 else "status%d" % resp.status


def main(argv):
    if len(argv) != 10:
        print(__doc__, file=sys.stderr)
        return 2
    nlong, nshort = int(argv[6]), int(argv[7])
    a, longs, b, short = place(argv, nlong)
    print("workers", a, b)
    ctl(argv, "set", argv[4], argv[5], "down")
    for conn in longs:
        conn.request("GET", argv[8])
    for _ in range(250):
        if inflight(argv) == nlong:
            break
        time.sleep(0.02)
    else:
        raise SystemExit("the long requests did not all start")
    ctl(argv, "set", argv[4], argv[5], "up")
    got = []
    for _ in range(nshort):
        short.request("GET", argv[9])
        got.append(body(short))
    print("short", *got)
    print("inflight", inflight(argv))
    print("long", *[body(conn) for conn in longs])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
