#!/usr/bin/env python3
"""Seed the fuzz corpora (fuzz/corpus/<target>/), before `cargo fuzz cmin`.

usage: make_seeds.py CORPUS_DIR [CAPTURE.pcap ...]

- packet, engine: every mDNS datagram of the captures (fuzz/seeds/
  capture.sh: the reference, Avahi, mdns-sd, ours), each alone and each
  capture as one conversation (real time gaps, real source kinds), plus the
  malformed classes of tests/hostile_net.rs;
- txt, url, config, capi: hand-written inputs in each target's format
  (src/fuzzing/<target>.rs), from the values docs/SPEC.md and the peers use.
File names are content hashes, as libFuzzer names its own.
"""

import hashlib
import ipaddress
import os
import struct
import sys


def put(corpus, target, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def pcap_datagrams(path):
    """(time, src ip, src port, payload) of each UDP datagram."""
    with open(path, "rb") as f:
        raw = f.read()
    magic = raw[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        e, frac = "<", 1e-6
    elif magic == b"\x4d\x3c\xb2\xa1":
        e, frac = "<", 1e-9
    elif magic == b"\xa1\xb2\xc3\xd4":
        e, frac = ">", 1e-6
    else:
        raise SystemExit(f"{path}: not a pcap file")
    linktype = struct.unpack(e + "I", raw[20:24])[0]
    at = 24
    out = []
    while at + 16 <= len(raw):
        sec, sub, incl, _ = struct.unpack(e + "IIII", raw[at:at + 16])
        frame = raw[at + 16:at + 16 + incl]
        at += 16 + incl
        if linktype == 1:  # Ethernet
            ethertype, ip = struct.unpack(">H", frame[12:14])[0], frame[14:]
        elif linktype == 113:  # Linux cooked
            ethertype, ip = struct.unpack(">H", frame[14:16])[0], frame[16:]
        else:
            continue
        if ethertype == 0x0800:
            ihl = (ip[0] & 15) * 4
            if ip[9] != 17:
                continue
            src, udp = ipaddress.ip_address(ip[12:16]), ip[ihl:]
        elif ethertype == 0x86DD:
            if ip[6] != 17:
                continue
            src, udp = ipaddress.ip_address(ip[8:24]), ip[40:]
        else:
            continue
        sport = struct.unpack(">H", udp[0:2])[0]
        out.append((sec + sub * frac, src, sport, udp[8:]))
    return out


# Indices into the fixed source list of src/fuzzing/engine.rs `source_ip`.
SRC_V4_ON_LINK, SRC_LINK_LOCAL, SRC_V6_ON_LINK = 0, 4, 5


def engine_step(dt_ms, src, sport, payload):
    if src.version == 4:
        sel = SRC_V4_ON_LINK
    elif src.is_link_local:
        sel = SRC_LINK_LOCAL
    else:
        sel = SRC_V6_ON_LINK
    step = bytes([0]) + struct.pack(">H", min(dt_ms, 65535)) + bytes([0, sel])
    step += b"\x00" if sport == 5353 else b"\xff" + struct.pack(">H", sport)
    return step + struct.pack(">H", len(payload)) + payload


TIMER_10S = bytes([10]) + struct.pack(">H", 10000)


def from_captures(corpus, paths):
    n = 0
    for path in paths:
        grams = pcap_datagrams(path)
        conversation = bytearray([0])
        last = grams[0][0] if grams else 0
        for i, (t, src, sport, payload) in enumerate(grams):
            put(corpus, "packet", payload)
            put(corpus, "engine", bytes([0]) + engine_step(20, src, sport, payload) + TIMER_10S)
            if i < 500:
                conversation += engine_step(int((t - last) * 1000), src, sport, payload)
            last = t
            n += 1
        put(corpus, "engine", bytes(conversation) + TIMER_10S)
    return n


def name(text):
    out = b""
    for label in text.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def malformed(corpus):
    """The classes of tests/hostile_net.rs."""
    q = struct.pack(">6H", 0, 0, 1, 0, 0, 0) + name("baremetal._openstack._tcp.local") + b"\0\x21\0\x01"
    classes = [
        q[:12] + b"\xc0\x0c\0\x21\0\x01",  # compression loop
        q[:12] + b"\xc0\x14\0\x21\0\x01\0\0\x05local\0",  # forward pointer
        q[:12] + bytes([q[12] | 0x40]) + q[13:],  # reserved label bits
        q[:5] + b"\xc8" + q[6:],  # counts larger than the data
        q[:12] + b"\x3f" + b"x" * 10,  # label longer than the packet
    ]
    a = struct.pack(">6H", 0, 0x8400, 0, 3, 0, 0)
    for i in range(3):
        a += name(f"flood-{i}.local") + struct.pack(">HHIH", 1, 1, 4500, 4) + bytes([10, 0, 0, i])
    classes.append(a[:-3])  # truncated record
    for c in classes:
        put(corpus, "packet", c)
        put(corpus, "engine", bytes([0]) + engine_step(20, ipaddress.ip_address("198.18.0.7"), 5353, c) + TIMER_10S)
    return len(classes)


def chunk(b):
    return bytes([len(b)]) + b


def handwritten(corpus):
    # txt: TXT RDATA as on the wire
    for strings in [
        [b"path=/baremetal", b"protocol=http"],
        [b"txtvers=1", b"ipa_debug=1", b"foo"],
        [b""],
        [b"=nokey", b"k=", b"k=second"],
        [b"\xff\xfe=bad", b"ok=1"],
        [b"nul\x00key=v"],
        [b"path=/\xe2\x82\xac"],
    ]:
        put(corpus, "txt", b"".join(chunk(s) for s in strings))
    # url: mode 0 = endpoint text; odd modes = resolved service to URL
    for ep in [
        "http://198.18.0.1:6385/baremetal",
        "https://[fd00:99::1]/v1",
        "https://ironic.example.com:443/",
        "wss://h:443",
        "http://user@[fe80::1%25eth0]:80",
        "http://ironic",
    ]:
        put(corpus, "url", b"\x00" + ep.encode())
    for mode, addr, target, txt in [
        (1, bytes([198, 18, 0, 1]), "conductor.local.", [b"path=/baremetal", b"protocol=http"]),
        (3, ipaddress.ip_address("fd00:99::1").packed, "c.local.", [b"path=/v1"]),
        (3, ipaddress.ip_address("fe80::1").packed, "c.local.", []),
        (1, bytes([10, 0, 0, 1]), "ironic.example.com.", [b"protocol=https"]),
        (1, bytes([10, 0, 0, 1]), "x.local.", [b"path=/\xff"]),
    ]:
        body = bytes([mode]) + struct.pack(">H", 6385) + bytes([7]) + addr + chunk(target.encode())
        put(corpus, "url", body + b"".join(chunk(t) for t in txt))
    # config: selector, value (6 = unknown name, then the name)
    for sel, value in [
        (0, "5"), (1, "3"), (0, "0"), (1, "-1"), (0, "99999999999"),
        (2, "k1:v1,k2:'v,2'"), (2, "a:b:c"), (2, "noval"), (2, ""),
        (3, "198.18.0.1,fd00:99::1"), (3, ""), (3, "fe80::1%eth0"),
        (4, "0.2"), (4, "3.0"), (4, "nan"), (4, "1e400"), (4, "-1"),
    ]:
        put(corpus, "config", bytes([sel]) + chunk(value.encode()))
    put(corpus, "config", bytes([6]) + chunk(b"1") + chunk(b"bogus"))
    # capi: op sequences
    put(corpus, "capi", b"\x00" + chunk(b"params") + chunk(b"a:b,c:'d,e'") + b"\x01\x08")
    put(corpus, "capi", b"\x00" + chunk(b"lookup_timeout") + chunk(b"x") + b"\x01\x03" + b"\x01\x00")
    put(corpus, "capi", b"\x02" + chunk(b"path") + b"\x01" + chunk(b"/baremetal") + b"\x03" + chunk(b"path") + b"\x04\x00")
    put(corpus, "capi", b"\x02" + chunk(b"k") + b"\x00" + chunk(b"") + b"\x02" + chunk(b"k") + b"\x03" + chunk(b"v") + b"\x04\x00\x04\x01")
    put(corpus, "capi", b"\x02" + chunk(b"k=") + b"\x01" + chunk(b"v") + b"\x05\xff\xff\xff\xf5\x02")


def main():
    corpus = sys.argv[1]
    n = from_captures(corpus, sys.argv[2:])
    m = malformed(corpus)
    handwritten(corpus)
    print(f"make_seeds: {n} captured datagrams, {m} malformed, hand-written seeds for 4 targets")


if __name__ == "__main__":
    main()
