#!/usr/bin/env python3
"""Publish with ironicmdns.ironic as ironic's conductor does:
Zeroconf().register_service(TYPE, URL, params) with [mdns] options from
--option NAME=VALUE. Prints READY, waits for SIGTERM, closes, prints CLOSED.
A registration failure prints "FAILED: <class> <message>" and exits 3.

    publish.py [--option NAME=VALUE]... [--hex KEY=HEX]... TYPE URL [KEY=VALUE | KEY]...
"""
import argparse
import signal
import sys
import threading

from oslo_config import cfg
from oslo_config import types


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--option", action="append", default=[])
    ap.add_argument("--hex", action="append", default=[])
    ap.add_argument("type")
    ap.add_argument("url")
    ap.add_argument("props", nargs="*")
    args = ap.parse_args()
    from ironicmdns import ironic as mdns
    cfg.CONF([], default_config_files=[])
    for opt in args.option:
        name, _, value = opt.partition("=")
        if name == "params":
            value = types.Dict(types.String(quotes=True))(value)
        elif name == "interfaces":
            value = value.split(",")
        else:
            value = int(value)
        cfg.CONF.set_override(name, value, group="mdns")
    params = {}
    for p in args.props:
        k, eq, v = p.partition("=")
        params[k] = v if eq else None
    for p in args.hex:
        k, _, v = p.partition("=")
        params[k] = bytes.fromhex(v)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    zc = mdns.Zeroconf()
    try:
        zc.register_service(args.type, args.url, params or None)
    except mdns.ServiceRegistrationFailure as exc:
        print("FAILED: %s %s" % (type(exc).__name__, exc), flush=True)
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
