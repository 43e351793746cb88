#!/usr/bin/env python3
"""Send one request per line of a table and print what each answer's body
says, the client's own port replaced by "SOCK" (it differs per run).

usage: realip_table.py PORT TABLE
  TABLE  one request per line: its header lines, tab-separated, each
         "Name: value" (a value may be empty); "-" for none
Each request goes on a new connection from 127.0.0.1; the output has one
line per table line: the table line, " => ", the first line of the body.
"""
import socket
import sys


def ask(port, headers):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    own = str(s.getsockname()[1])
    head = "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
    for h in headers:
        head += h + "\r\n"
    s.sendall((head + "\r\n").encode("latin1"))
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
    s.close()
    body = out.split(b"\r\n\r\n", 1)[1].decode("latin1")
    words = body.splitlines()[0].split(" ") if body else []
    return " ".join("SOCK" if w == own else w for w in words)


def main():
    port = int(sys.argv[1])
    with open(sys.argv[2], encoding="latin1") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            headers = [] if line == "-" else line.split("\t")
            print(line.replace("\t", " | "), "=>", ask(port, headers))


if __name__ == "__main__":
    main()
