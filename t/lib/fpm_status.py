#!/usr/bin/env python3
"""Ask a php-fpm pool for its status page directly over FastCGI.

usage: fpm_status.py PORT [PATH]
Prints the plain-text status page (pm.status_path, /fpm-status by
default): "active processes", "max active processes", "listen queue",
"max listen queue", "max children reached", ...  The request takes one
of the pool's children, like any other.
"""
import socket
import struct
import sys


def record(rtype, content, rid=1):
    return struct.pack("!BBHHBx", 1, rtype, rid, len(content), 0) + content


def params(pairs):
    out = b""
    for k, v in pairs.items():
        k, v = k.encode(), v.encode()
        out += bytes([len(k)]) + bytes([len(v)]) + k + v
    return out


def main():
    port = int(sys.argv[1])
    path = sys.argv[2] if len(sys.argv) > 2 else "/fpm-status"
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    p = params({"SCRIPT_NAME": path, "SCRIPT_FILENAME": path,
                "REQUEST_METHOD": "GET", "QUERY_STRING": "",
                "SERVER_PROTOCOL": "HTTP/1.1", "GATEWAY_INTERFACE": "CGI/1.1"})
    s.sendall(record(1, struct.pack("!HB5x", 1, 0)) + record(4, p) +
              record(4, b"") + record(5, b""))
    data, out = b"", b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    while len(data) >= 8:
        _, rtype, _, clen, plen = struct.unpack("!BBHHB", data[:7])
        body = data[8:8 + clen]
        data = data[8 + clen + plen:]
        if rtype == 6:
            out += body
        if rtype == 3:
            break
    text = out.decode(errors="replace")
    print(text.split("\r\n\r\n", 1)[-1])


main()
