#!/usr/bin/env python3
"""nginx's ip_hash choice, written from nginx's algorithm
independently of fcgate's C code, so the tests compare two implementations.

usage: ip_hash.py WEIGHTS DOWN ADDR...
  WEIGHTS  comma-separated weights of the primary servers, in file order
  DOWN     comma-separated 0/1 flags (1 = down), or "-" for none
prints one line per address: ADDR INDEX (INDEX -1: round robin fallback)
"""
import ipaddress
import sys


def key_bytes(addr):
    ip = ipaddress.ip_address(addr)
    if ip.version == 4:
        return list(ip.packed[:3])
    return list(ip.packed)


def pick(weights, down, addr):
    total = sum(weights)
    h = 89
    for _ in range(21):  # the first attempt and 20 re-hashes
        for b in key_bytes(addr):
            h = (h * 113 + b) % 6271
        w = h % total
        i = 0
        while w >= weights[i]:
            w -= weights[i]
            i += 1
        if not down[i]:
            return i
    return -1


def main():
    weights = [int(x) for x in sys.argv[1].split(",")]
    if sys.argv[2] == "-":
        down = [False] * len(weights)
    else:
        down = [x == "1" for x in sys.argv[2].split(",")]
    for addr in sys.argv[3:]:
        print(addr, pick(weights, down, addr))


if __name__ == "__main__":
    main()
