#!/usr/bin/env python3
"""Send hand-made PROXY protocol headers (and requests) to fcgate.

usage: proxy_send.py [--bytewise] [--pause S] [--shut] [--wait S] PORT PIECE...

Each PIECE is a Python expression for bytes, with these helpers:
  req(path="/", close=True)        a GET request for path
  v1(proto, src, dst, sport, dport) "PROXY proto src dst sport dport\\r\\n"
  v2(ver_cmd, fam, body)           a v2 header: signature, the two bytes,
                                   the body's length, the body
  inet4(src, dst, sport, dport)    a v2 address block for TCP over IPv4
  inet6(src, dst, sport, dport)    ... over IPv6
  unix(src, dst)                   ... for AF_UNIX (108 bytes each)
  tlv(type, value)                 one v2 TLV
Pieces are written one by one, PAUSE seconds apart (default 0.05);
--bytewise writes every byte on its own.  --shut shuts down the write side
after the last piece.  Then everything the server sends is read, until it
closes or WAIT seconds (default 10) pass with nothing more.  Prints what
came back, or CLOSED (the server closed without a byte), RESET, or OPEN
(still open after WAIT seconds).
"""
import socket
import struct
import sys
import time

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def req(path="/", close=True):
    return (b"GET %s HTTP/1.1\r\nHost: t\r\n%s\r\n"
            % (path.encode(), b"Connection: close\r\n" if close else b""))


def v1(proto, src, dst, sport, dport):
    return ("PROXY %s %s %s %s %s\r\n"
            % (proto, src, dst, sport, dport)).encode()


def v2(ver_cmd, fam, body=b""):
    return SIG + bytes([ver_cmd, fam]) + struct.pack(">H", len(body)) + body


def inet4(src, dst, sport, dport):
    return (socket.inet_pton(socket.AF_INET, src)
            + socket.inet_pton(socket.AF_INET, dst)
            + struct.pack(">HH", sport, dport))


def inet6(src, dst, sport, dport):
    return (socket.inet_pton(socket.AF_INET6, src)
            + socket.inet_pton(socket.AF_INET6, dst)
            + struct.pack(">HH", sport, dport))


def unix(src, dst):
    return src.encode().ljust(108, b"\0") + dst.encode().ljust(108, b"\0")


def tlv(t, value):
    return bytes([t]) + struct.pack(">H", len(value)) + value


def main(argv):
    bytewise, shut, pause, wait = False, False, 0.05, 10.0
    while argv and argv[0].startswith("--"):
        opt = argv.pop(0)
        if opt == "--bytewise":
            bytewise = True
        elif opt == "--shut":
            shut = True
        elif opt == "--pause":
            pause = float(argv.pop(0))
        elif opt == "--wait":
            wait = float(argv.pop(0))
        else:
            sys.exit("unknown option " + opt)
    port = int(argv[0])
    pieces = [eval(p) for p in argv[1:]]
    if bytewise:
        pieces = [bytes([b]) for p in pieces for b in p]
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    out = b""
    try:
        for i, p in enumerate(pieces):
            if i > 0:
                time.sleep(pause)
            s.sendall(p)
        if shut:
            s.shutdown(socket.SHUT_WR)
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except socket.timeout:
        if not out:
            print("OPEN")
            return
    except (ConnectionResetError, BrokenPipeError):
        if not out:
            print("RESET")
            return
    if not out:
        print("CLOSED")
        return
    sys.stdout.write(out.decode("latin-1").replace("\r\n", "\n"))


if __name__ == "__main__":
    main(sys.argv[1:])
