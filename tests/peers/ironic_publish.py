#!/usr/bin/env python3
"""Publish with the reference: ironic_lib.mdns.Zeroconf().register_service.

usage: ironic_publish.py [--option NAME=VALUE]... [--hex KEY=HEX]...
                         TYPE URL [KEY=VALUE | KEY]...
       ironic_publish.py [--option NAME=VALUE]... --spec FILE

--spec FILE: register several services on one Zeroconf, in order; FILE is a
JSON list of {"type": T, "url": U, "params": {KEY: "text" | null |
{"hex": "e228a1"}}}.

Prints READY once registered, then waits for SIGTERM/SIGINT, closes
(goodbyes) and prints CLOSED. A registration failure prints
"FAILED: <message>" and exits 3.
"""

import argparse
import json
import signal
import sys
import threading

import peer_common


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--option", action="append", default=[])
    ap.add_argument("--hex", action="append", default=[])
    ap.add_argument("--spec")
    ap.add_argument("type", nargs="?")
    ap.add_argument("url", nargs="?")
    ap.add_argument("props", nargs="*")
    args = ap.parse_args()
    peer_common.setup_logging()
    peer_common.configure(args.option)

    from ironic_lib import exception
    from ironic_lib import mdns

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())

    if args.spec:
        with open(args.spec) as f:
            services = [(s["type"], s["url"], peer_common.decode_props(
                s.get("params") or {})) for s in json.load(f)]
    else:
        if not args.type or not args.url:
            ap.error("TYPE and URL (or --spec) are required")
        services = [(args.type, args.url,
                     peer_common.parse_props(args.props, args.hex))]

    zc = mdns.Zeroconf()
    try:
        for service_type, url, params in services:
            zc.register_service(service_type, url, params or None)
    except exception.ServiceRegistrationFailure as exc:
        print("FAILED: %s" % exc, flush=True)
        zc.close()
        return 3
    print("READY", flush=True)
    while not stop.wait(0.1):
        pass
    zc.close()
    print("CLOSED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
