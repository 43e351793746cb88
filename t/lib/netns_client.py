#!/usr/bin/env python3
"""The clients of the multi-host test: many source addresses, one host.

usage:
  netns_client.py once HOST:PORT MODE PATH ADDR...
      one request from each source address ADDR; prints one line each:
      ADDR STATUS BACKEND REMOTE GATEWAY  (STATUS "ERR" on a socket error,
      "-" for a line the answer did not have)
  netns_client.py load HOST:PORT MODE PATH SECONDS THREADS ADDR...
      THREADS threads, each sending from its share of the addresses in
      turn, a new connection per request, for SECONDS; prints a line per
      address:
      ADDR requests=N failed=N backends=B,.. gateways=G,.. last=G
      (last: the gateway of the last answered request), then
      "total requests=N failed=N" and the first errors ("error ...").
      With STOP=FILE in the environment it also ends once FILE exists.
  netns_client.py plain HOST:PORT ADDR
      a plain HTTP request, no PROXY header; prints "bytes N" (what came
      back before the connection closed) or "error ...".

MODE is "proxy" (a PROXY protocol v2 header first, whose source is ADDR
and the source port, as a balancer would send) or "plain".  The answer's
body has lines backend=, remote=, gateway= (the test's PHP script).  A
failure is any answer other than 200, or a socket error.
"""
import os
import socket
import struct
import sys
import threading
import time

V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def proxy_v2(src, sport, dst, dport):
    body = (socket.inet_aton(src) + socket.inet_aton(dst) +
            struct.pack("!HH", sport, dport))
    # version 2, command PROXY; AF_INET, STREAM
    return V2_SIG + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body


def request(host, port, mode, path, addr):
    """(status, {field: value}); status is an int, or "ERR" with the reason
    in fields["error"]."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.bind((addr, 0))
        s.connect((host, port))
        head = b""
        if mode == "proxy":
            head = proxy_v2(addr, s.getsockname()[1], host, port)
        s.sendall(head + ("GET %s HTTP/1.1\r\nHost: mh.test\r\n"
                          "Connection: close\r\n\r\n" % path).encode())
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except OSError as e:
        return "ERR", {"error": repr(e)}
    finally:
        s.close()
    text = data.decode("latin-1")
    first = text.split("\r\n", 1)[0].split(" ")
    if len(first) < 2 or not first[1].isdigit():
        return "ERR", {"error": "no status line: %r" % text[:80]}
    fields = {}
    body = text.split("\r\n\r\n", 1)[-1]
    for line in body.split("\n"):
        k, sep, v = line.partition("=")
        if sep:
            fields[k.strip()] = v.strip()
    return int(first[1]), fields


def split_target(t):
    host, _, port = t.rpartition(":")
    return host, int(port)


def cmd_once(args):
    host, port = split_target(args[0])
    mode, path = args[1], args[2]
    for addr in args[3:]:
        st, f = request(host, port, mode, path, addr)
        print(addr, st, f.get("backend", "-"), f.get("remote", "-"),
              f.get("gateway", "-"))
        if st == "ERR":
            print("error", addr, f["error"], file=sys.stderr)


def load_thread(host, port, mode, path, addrs, until, out, lock):
    i = 0
    stop = os.environ.get("STOP")
    while time.time() < until and not (stop and os.path.exists(stop)):
        addr = addrs[i % len(addrs)]
        i += 1
        st, f = request(host, port, mode, path, addr)
        with lock:
            r = out[addr]
            r["requests"] += 1
            if st != 200:
                r["failed"] += 1
                if len(out["errors"]) < 10:
                    out["errors"].append("%s %s %s %s" % (
                        time.strftime("%H:%M:%S"), addr, st,
                        f.get("error", "")))
                continue
            r["backends"].add(f.get("backend", "-"))
            r["gateways"].add(f.get("gateway", "-"))
            r["last"] = f.get("gateway", "-")


def cmd_load(args):
    host, port = split_target(args[0])
    mode, path = args[1], args[2]
    secs, n = float(args[3]), int(args[4])
    addrs = args[5:]
    n = max(1, min(n, len(addrs)))
    lock = threading.Lock()
    out = {"errors": []}
    for a in addrs:
        out[a] = {"requests": 0, "failed": 0, "backends": set(),
                  "gateways": set(), "last": "-"}
    until = time.time() + secs
    ts = [threading.Thread(target=load_thread,
                           args=(host, port, mode, path, addrs[k::n], until,
                                 out, lock))
          for k in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    total = failed = 0
    for a in addrs:
        r = out[a]
        total += r["requests"]
        failed += r["failed"]
        print("%s requests=%d failed=%d backends=%s gateways=%s last=%s" % (
            a, r["requests"], r["failed"], ",".join(sorted(r["backends"])),
            ",".join(sorted(r["gateways"])), r["last"]))
    print("total requests=%d failed=%d" % (total, failed))
    for e in out["errors"]:
        print("error", e)


def cmd_plain(args):
    host, port = split_target(args[0])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    got = b""
    try:
        s.bind((args[1], 0))
        s.connect((host, port))
        s.sendall(b"GET /who.php HTTP/1.1\r\nHost: mh.test\r\n\r\n")
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except ConnectionResetError:
        pass
    except OSError as e:
        print("error", repr(e))
        return
    finally:
        s.close()
    print("bytes", len(got))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {"once": cmd_once, "load": cmd_load, "plain": cmd_plain}[cmd](args)


if __name__ == "__main__":
    main()
