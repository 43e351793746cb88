#!/usr/bin/env python3
"""Send raw HTTP requests to fcgate and report what came back.

usage: send_raw.py PORT VECTORS_FILE [CATEGORY]

VECTORS_FILE lines: id <TAB> category <TAB> status <TAB> close <TAB> request
(request with Python escapes: \\r \\n \\x00 ...; a request that starts with
"@big:" is generated: @big:line:N (request line of N bytes), @big:head:N
(headers adding up to N bytes), @big:hdr:N (one header line of N
bytes), @big:body:N (a Content-Length body of N
bytes)).  Lines starting with # are comments.  Prints one line per vector:
id <TAB> got status <TAB> closed (yes/no), where closed means the server
closed the connection after its answer.
"""
import codecs
import socket
import sys


def build(req):
    if not req.startswith("@big:"):
        return codecs.escape_decode(req.encode())[0]
    _, kind, n = req.split(":")
    n = int(n)
    if kind == "line":
        return b"GET /" + b"a" * n + b" HTTP/1.1\r\nHost: t\r\n\r\n"
    if kind == "head":
        h = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 1000)
                     for i in range(n // 1000 + 1))
        return b"GET / HTTP/1.1\r\nHost: t\r\n" + h + b"\r\n"
    if kind == "hdr":
        return b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"h" * n + b"\r\n\r\n"
    if kind == "body":
        return (b"POST /x.php HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n"
                % n) + b"b" * n
    raise ValueError(req)


def send(port, raw):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(raw)
    except (BrokenPipeError, ConnectionResetError):
        pass
    data = b""
    closed = "no"
    try:
        while b"\r\n\r\n" not in data:
            d = s.recv(65536)
            if not d:
                closed = "yes"
                break
            data += d
        # after the answer: does the server close? (a short wait)
        s.settimeout(0.3)
        while closed == "no":
            d = s.recv(65536)
            if not d:
                closed = "yes"
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = "yes"
    s.close()
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    status = parts[1] if len(parts) > 1 else "none"
    return status, closed


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    cat = sys.argv[3] if len(sys.argv) > 3 else None
    for line in open(path):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        vid, vcat, _, _, req = line.split("\t", 4)
        if cat and vcat != cat:
            continue
        status, closed = send(port, build(req))
        print("%s\t%s\t%s" % (vid, status, closed))


if __name__ == "__main__":
    main()
