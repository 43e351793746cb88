#!/usr/bin/env python3
"""Clients that trickle a POST body: the slow uploads that pin backends.

usage: slow_upload.py PORT PATH COUNT READY_FILE SECONDS

Opens COUNT connections, sends each a POST head announcing 1,000,000
bytes, writes READY_FILE, then sends one body byte per connection every
0.1 s for SECONDS seconds and closes them all.  Prints how many
connections the server closed early.
"""
import socket
import sys
import time


def main():
    port, path, count = int(sys.argv[1]), sys.argv[2].encode(), int(sys.argv[3])
    ready, seconds = sys.argv[4], float(sys.argv[5])
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"POST " + path + b" HTTP/1.1\r\nHost: localhost\r\n"
                  b"Content-Length: 1000000\r\n\r\n")
        socks.append(s)
    with open(ready, "w") as f:
        f.write("%d\n" % len(socks))
    closed = set()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for i, s in enumerate(socks):
            if i in closed:
                continue
            try:
                s.sendall(b"x")
            except OSError:
                closed.add(i)
        time.sleep(0.1)
    for s in socks:
        s.close()
    print(len(closed))


main()
