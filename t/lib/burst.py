#!/usr/bin/env python3
"""A burst of HTTP requests for the capacity and queue tests.

usage: burst.py PORT PATH COUNT CONCURRENCY
COUNT GET requests of PATH, CONCURRENCY at a time, each on its own
connection.  Prints one line per status seen, "status CODE N", with
"status error N" for socket errors and time-outs (30 s each).
"""
import http.client
import sys
import threading
from collections import Counter


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    count, conc = int(sys.argv[3]), int(sys.argv[4])
    seen = Counter()
    lock = threading.Lock()
    left = [count]

    def run():
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                c.request("GET", path, headers={"Connection": "close"})
                r = c.getresponse()
                r.read()
                code = str(r.status)
                c.close()
            except Exception:
                code = "error"
            with lock:
                seen[code] += 1

    threads = [threading.Thread(target=run) for _ in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for code, n in sorted(seen.items()):
        print("status", code, n)


main()
