#!/usr/bin/env python3
"""Latency of a normal client while many slow-loris clients are connected.

usage: slowloris.py PORT [SLOW_CLIENTS] [SAMPLES]

Measures SAMPLES requests for "/" (a new connection each) first with no
other clients, then while SLOW_CLIENTS connections each trickle one header
byte every 100 ms without ever finishing their request head.  Prints
p50/p99/max in milliseconds for both phases.  A benchmark, not a test: the
machine is shared, compare phases and gateways from the same run.
"""
import socket
import sys
import threading
import time


def one_request(port):
    t0 = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
    while s.recv(65536):
        pass
    s.close()
    return (time.perf_counter() - t0) * 1000


def sample(port, n):
    lat = sorted(one_request(port) for _ in range(n))
    return lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1], lat[-1]


def trickle(socks, stop):
    i = 0
    while not stop.is_set():
        for s in socks:
            try:
                s.send(b"X-a:b\r\n"[i % 7:i % 7 + 1])
            except OSError:
                pass
        i += 1
        time.sleep(0.1)


def main():
    port = int(sys.argv[1])
    nslow = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    base = sample(port, n)
    socks = []
    for _ in range(nslow):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\n")
        socks.append(s)
    stop = threading.Event()
    t = threading.Thread(target=trickle, args=(socks, stop))
    t.start()
    time.sleep(1)
    loaded = sample(port, n)
    alive = 0
    for s in socks:
        try:
            s.send(b"X")
            alive += 1
        except OSError:
            pass
    stop.set()
    t.join()
    for s in socks:
        s.close()
    print("idle:             p50 %.2f ms  p99 %.2f ms  max %.2f ms" % base)
    print("%d slow clients: p50 %.2f ms  p99 %.2f ms  max %.2f ms"
          " (%d still connected)" % ((nslow,) + loaded + (alive,)))


if __name__ == "__main__":
    main()
