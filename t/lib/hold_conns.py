#!/usr/bin/env python3
"""Hold idle connections open, with one kept-alive client beside them.

usage: hold_conns.py PORT COUNT READY_FILE RELEASE_FILE [TIMEOUT]

First makes one keep-alive request, then opens COUNT connections that send
nothing, writes READY_FILE, waits until RELEASE_FILE exists (at most
TIMEOUT seconds), makes a second request on the first connection (for
/denied, which the test denies: an answer that needs no descriptor), closes everything and prints
the two statuses ("200 403", or "err" for one that got no answer).
"""
import os
import re
import socket
import sys
import time


def ask(s, path=b"/"):
    s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            return "err"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.search(rb"Content-Length: (\d+)", head)
    need = int(m.group(1)) if m else 0
    while len(body) < need:
        chunk = s.recv(4096)
        if not chunk:
            return "err"
        body += chunk
    return head.split(b" ")[1].decode()


def main():
    port, count = int(sys.argv[1]), int(sys.argv[2])
    ready, release = sys.argv[3], sys.argv[4]
    limit = float(sys.argv[5]) if len(sys.argv) > 5 else 30.0
    first = socket.create_connection(("127.0.0.1", port), timeout=10)
    one = ask(first)
    idle = []
    for _ in range(count):
        try:
            idle.append(socket.create_connection(("127.0.0.1", port),
                                                 timeout=10))
        except OSError:
            break
    with open(ready, "w") as f:
        f.write("%d\n" % len(idle))
    deadline = time.monotonic() + limit
    while not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        two = ask(first, b"/denied")
    except OSError:
        two = "err"
    for s in idle:
        s.close()
    first.close()
    print(one, two)


main()
