#!/usr/bin/env python3
"""Seeds for the dns_message, dns_tsig and dns_exchange fuzz targets from
the exchanges recorded with BIND and Knot (src/dns/exchange/*.recorded).

    python3 fuzz/seeds/make_dns_seeds.py   # from the repository root

Writes fuzz/corpus/dns_*/seed-<server>-<n>-<what>. The input layouts are
those documented in src/fuzzing/dns_tsig.rs and dns_exchange.rs.
"""
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pairs(server):
    path = os.path.join(ROOT, "src/dns/exchange", server + ".recorded")
    lines = [l for l in open(path).read().splitlines() if not l.startswith("#")]
    for i in range(0, len(lines) - 1, 2):
        yield bytes.fromhex(lines[i][2:]), bytes.fromhex(lines[i + 1][2:])


def skip_name(b, i):
    while True:
        n = b[i]
        if n == 0:
            return i + 1
        if n & 0xC0 == 0xC0:
            return i + 2
        i += 1 + n


def last_record(b):
    """(start, type) of the last record of a message."""
    i = 12
    for _ in range(struct.unpack(">H", b[4:6])[0]):
        i = skip_name(b, i) + 4
    counts = sum(struct.unpack(">HHH", b[6:12]))
    last = None
    for _ in range(counts):
        start = i
        i = skip_name(b, i)
        t, _, _, rdlen = struct.unpack(">HHIH", b[i:i + 10])
        i += 10 + rdlen
        last = (start, t)
    return last


def unsigned(b):
    start, t = last_record(b)
    assert t == 250, "not signed"
    u = bytearray(b[:start])
    u[10:12] = struct.pack(">H", struct.unpack(">H", b[10:12])[0] - 1)
    return bytes(u)


def write(target, name, data):
    d = os.path.join(ROOT, "fuzz/corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


index = 0
for server in ("bind", "knot"):
    for n, (q, a) in enumerate(pairs(server)):
        tag = f"seed-{server}-{n}"
        write("dns_message", tag + "-request", q)
        write("dns_message", tag + "-answer", a)
        write("dns_message", tag + "-answer-unsigned", unsigned(a))
        # dns_tsig: flags, position (u16), xor, clock offset (i16), error
        # selector, the message
        plain = unsigned(a)
        write("dns_tsig", tag + "-sign", bytes([1, 0, 0, 0, 0, 0, 0]) + plain)
        write("dns_tsig", tag + "-sign-late", bytes([1, 0, 0, 0, 0x01, 0x2D, 0]) + plain)
        write("dns_tsig", tag + "-sign-change-id", bytes([3, 0, 1, 0x55, 0, 0, 0]) + plain)
        write("dns_tsig", tag + "-badtime", bytes([1, 0, 0, 0, 0, 0, 2]) + plain)
        write("dns_tsig", tag + "-raw", bytes([0, 0, 0, 0, 0, 0, 0]) + a)
        # dns_exchange: pair, key, attempts, then steps
        pick = bytes([index, 1, 1])
        write("dns_exchange", tag + "-answered", pick + bytes([0, 2, 0]))
        write("dns_exchange", tag + "-late", pick + bytes([1, 0x01, 0xF4, 0, 2, 0]))
        write("dns_exchange", tag + "-forged-first", pick + bytes([0, 0, 0, 0, 2, 1, 0, 40, 0x20, 0, 2, 0]))
        write("dns_exchange", tag + "-socket-error", pick + bytes([2, 0, 2, 0]))
        write("dns_exchange", tag + "-unkeyed", bytes([index, 0, 0, 0, 2, 0]))
        index += 1
