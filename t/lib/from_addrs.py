#!/usr/bin/env python3
"""GET a URL once from each of several loopback source addresses.

usage: from_addrs.py PORT PATH ADDR...
prints one line per address: ADDR <TAB> the value of the "backend=" line of
the answer (or "-" when there is none).  One process for all the requests:
much faster than one curl per address.
"""
import http.client
import sys


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    for addr in sys.argv[3:]:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                                       source_address=(addr, 0))
        c.request("GET", path)
        body = c.getresponse().read().decode("latin-1")
        c.close()
        got = "-"
        for line in body.split("\n"):
            if line.startswith("backend="):
                got = line[len("backend="):]
        print("%s\t%s" % (addr, got))


if __name__ == "__main__":
    main()
