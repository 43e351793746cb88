#!/usr/bin/env python3
"""Pipeline many requests on one connection and count the answers.

usage: pipeline.py PORT COUNT PATH[,PATH...] [TIMEOUT]

Sends COUNT GET requests in one go (the paths taken in turn, the last
request with Connection: close) and reads until the server closes.
Prints: <responses> <status counts as code=n,...> <eof|timeout>.
"""
import re
import socket
import sys
import time


def main():
    port, count = int(sys.argv[1]), int(sys.argv[2])
    paths = sys.argv[3].split(",")
    limit = float(sys.argv[4]) if len(sys.argv) > 4 else 30.0
    reqs = []
    for i in range(count):
        last = i == count - 1
        reqs.append(b"GET %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n" % (
            paths[i % len(paths)].encode(),
            b"Connection: close\r\n" if last else b""))
    s = socket.create_connection(("127.0.0.1", port), timeout=limit)
    s.sendall(b"".join(reqs))
    deadline = time.monotonic() + limit
    data = bytearray()
    end = "eof"
    while True:
        if time.monotonic() > deadline:
            end = "timeout"
            break
        try:
            chunk = s.recv(1 << 16)
        except socket.timeout:
            end = "timeout"
            break
        except ConnectionResetError:
            end = "reset"
            break
        if not chunk:
            break
        data += chunk
    codes = re.findall(rb"HTTP/1\.1 (\d{3}) ", bytes(data))
    tally = {}
    for c in codes:
        tally[c.decode()] = tally.get(c.decode(), 0) + 1
    print(len(codes), ",".join("%s=%d" % kv for kv in sorted(tally.items())),
          end)


main()
