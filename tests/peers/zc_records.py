#!/usr/bin/env python3
"""Byte-level view of one instance, as python-zeroconf decodes it.

usage: zc_records.py [--timeout MS] [--interface IP]... TYPE

Queries <TYPE>._openstack._tcp.local. for SRV, TXT, A, AAAA and prints
{"server": SRV target, "port": SRV port,
 "txt": [each TXT character-string as hex, in wire order],
 "addresses": [...]}; exit 1 when nothing answers.
"""

import argparse
import sys

import peer_common

TYPE = "_openstack._tcp.local."


def split_txt(rdata):
    out, i = [], 0
    while i < len(rdata):
        n = rdata[i]
        out.append(rdata[i + 1:i + 1 + n].hex())
        i += 1 + n
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=int, default=3000)
    ap.add_argument("--interface", action="append", default=[])
    ap.add_argument("type")
    args = ap.parse_args()
    peer_common.setup_logging()

    import zeroconf

    if args.interface:
        zc = zeroconf.Zeroconf(interfaces=args.interface)
    else:
        zc = zeroconf.Zeroconf(interfaces=zeroconf.InterfaceChoice.All,
                               ip_version=zeroconf.IPVersion.All)
    name = "%s.%s" % (args.type, TYPE)
    try:
        info = zc.get_service_info(TYPE, name, timeout=args.timeout)
        if info is None:
            print("no answer for %s" % name, file=sys.stderr)
            return 1
        peer_common.emit({"server": info.server, "port": info.port,
                          "txt": split_txt(info.text or b""),
                          "addresses": info.parsed_addresses()})
    finally:
        zc.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
