#!/usr/bin/env python3
"""Steady HTTP load for reload tests.

usage: load.py PORT PATH SECONDS [THREADS]
Each thread sends GET PATH on a new connection (Connection: close), again
and again, for SECONDS.  Prints "requests N", "failed N" and the distinct
bodies' first lines with counts ("body <count> <line>").  A failure is any
answer other than 200 or any socket error.
"""
import http.client
import sys
import threading
import time


def worker(port, path, until, out):
    while time.time() < until:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", path, headers={"Connection": "close"})
            r = c.getresponse()
            body = r.read().decode("latin-1")
            c.close()
            key = body.split("\n", 1)[0] if r.status == 200 else None
        except OSError as e:
            key = None
            out.setdefault("errors", []).append(
                "%s at %s" % (repr(e), time.strftime("%H:%M:%S") +
                              ("%.3f" % (time.time() % 1))[1:]))
        with lock:
            out["requests"] = out.get("requests", 0) + 1
            if key is None:
                out["failed"] = out.get("failed", 0) + 1
            else:
                out.setdefault("bodies", {}).setdefault(key, 0)
                out["bodies"][key] += 1


lock = threading.Lock()


def main():
    port, path, secs = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    out = {}
    until = time.time() + secs
    ts = [threading.Thread(target=worker, args=(port, path, until, out))
          for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("requests", out.get("requests", 0))
    print("failed", out.get("failed", 0))
    for k, v in sorted(out.get("bodies", {}).items()):
        print("body", v, k)
    for e in out.get("errors", [])[:5]:
        print("error", e)


if __name__ == "__main__":
    main()
