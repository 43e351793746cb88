#!/usr/bin/env python3
"""Send one raw request (Python escapes: \\r \\n \\x01 ...) and print what
came back, until the server closes or 3 s pass without a byte.

usage: raw_request.py PORT REQUEST
"""
import codecs
import socket
import sys

s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
s.sendall(codecs.escape_decode(sys.argv[2].encode())[0])
out = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
except socket.timeout:
    pass
sys.stdout.write(out.decode("latin1").replace("\r\n", "\n"))
