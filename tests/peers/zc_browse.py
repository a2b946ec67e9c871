#!/usr/bin/env python3
"""Browse _openstack._tcp.local. with python-zeroconf.

usage: zc_browse.py [--seconds S] [--interface IP]...

Prints a JSON list, sorted by name, of
{"name", "server", "port", "addresses", "properties"} for every instance
heard within S seconds (default 3) and resolved.
"""

import argparse
import sys
import time

import peer_common

TYPE = "_openstack._tcp.local."


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--interface", action="append", default=[])
    args = ap.parse_args()
    peer_common.setup_logging()

    import zeroconf

    if args.interface:
        zc = zeroconf.Zeroconf(interfaces=args.interface)
    else:
        zc = zeroconf.Zeroconf(interfaces=zeroconf.InterfaceChoice.All,
                               ip_version=zeroconf.IPVersion.All)
    names = set()

    def handler(zeroconf, service_type, name, state_change):
        if state_change is zeroconf_mod.ServiceStateChange.Added:
            names.add(name)

    zeroconf_mod = zeroconf
    browser = zeroconf.ServiceBrowser(zc, TYPE, handlers=[handler])
    time.sleep(args.seconds)
    browser.cancel()
    out = []
    for name in sorted(names):
        info = zc.get_service_info(TYPE, name, timeout=2000)
        if info is None:
            out.append({"name": name, "server": None, "port": None,
                        "addresses": [], "properties": {}})
            continue
        out.append({"name": name, "server": info.server, "port": info.port,
                    "addresses": info.parsed_addresses(),
                    "properties": peer_common.encode_props(info.properties)})
    zc.close()
    peer_common.emit(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
