#!/usr/bin/env python3
"""Steady HTTP load for reload tests.

usage: load.py PORT PATH SECONDS [THREADS] [keepalive|keepalive-idle]
Each thread sends GET PATH on a new connection (Connection: close), again
and again, for SECONDS.  With "keepalive" each thread keeps its connection
(a new one only when the server said Connection: close, or after an
error); "keepalive-idle" also waits 0-200 ms between two requests, so
that idle kept-alive connections are around when the server changes.  Prints "requests N", "failed N" and the distinct
bodies' first lines with counts ("body <count> <line>").  A failure is any
answer other than 200 or any socket error.
"""
import http.client
import random
import sys
import threading
import time


def worker(port, path, until, out, mode):
    kept = None
    rnd = random.Random()
    while time.time() < until:
        try:
            if mode:
                if kept is None:
                    kept = http.client.HTTPConnection("127.0.0.1", port,
                                                      timeout=10)
                c = kept
                c.request("GET", path)
            else:
                c = http.client.HTTPConnection("127.0.0.1", port,
                                               timeout=10)
                c.request("GET", path, headers={"Connection": "close"})
            r = c.getresponse()
            body = r.read().decode("latin-1")
            if not mode:
                c.close()
            key = body.split("\n", 1)[0] if r.status == 200 else None
            if mode == "keepalive-idle":
                time.sleep(rnd.random() * 0.2)
        except (OSError, http.client.HTTPException) as e:
            if kept is not None:
                kept.close()
                kept = None
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
    mode = sys.argv[5] if len(sys.argv) > 5 else None
    out = {}
    until = time.time() + secs
    ts = [threading.Thread(target=worker, args=(port, path, until, out, mode))
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
