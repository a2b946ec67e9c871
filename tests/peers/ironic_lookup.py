#!/usr/bin/env python3
"""Look up with the reference: ironic_lib.mdns get_endpoint.

usage: ironic_lookup.py [--option NAME=VALUE]... [--watch SECONDS] TYPE...

One TYPE: module-level get_endpoint; prints {"url": ..., "params": {...}}
(JSON, see peer_common for the value encoding). Not found: the message on
stderr, exit 1.
Several TYPEs: one Zeroconf, get_endpoint for each in turn, one JSON line
each: {"type": T, "url": U | null, "params": {...}, "error": E | null}.

--watch SECONDS: keep one warm Zeroconf and look up again and again for
SECONDS, printing one JSON line per attempt:
{"start": t0, "end": t1, "url": ... | null, "error": ... | null}
(times are time.time()); prints WATCHING before the first attempt.
"""

import argparse
import sys
import time

import peer_common


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--option", action="append", default=[])
    ap.add_argument("--watch", type=float)
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("types", nargs="+")
    args = ap.parse_args()
    peer_common.setup_logging()
    peer_common.configure(args.option)

    from ironic_lib import exception
    from ironic_lib import mdns

    if args.watch is None and len(args.types) > 1:
        zc = mdns.Zeroconf()
        try:
            for service_type in args.types:
                try:
                    url, params = zc.get_endpoint(service_type)
                    error = None
                except exception.ServiceLookupFailure as exc:
                    url, params, error = None, {}, str(exc)
                peer_common.emit({"type": service_type, "url": url,
                                  "params": peer_common.encode_props(params),
                                  "error": error})
        finally:
            zc.close()
        return 0

    args.type = args.types[0]
    if args.watch is None:
        try:
            url, params = mdns.get_endpoint(args.type)
        except exception.ServiceLookupFailure as exc:
            print("lookup failed: %s" % exc, file=sys.stderr)
            return 1
        peer_common.emit({"url": url,
                          "params": peer_common.encode_props(params)})
        return 0

    zc = mdns.Zeroconf()
    print("WATCHING", flush=True)
    deadline = time.time() + args.watch
    try:
        while time.time() < deadline:
            start = time.time()
            try:
                url, _params = zc.get_endpoint(args.type)
                error = None
            except exception.ServiceLookupFailure as exc:
                url, error = None, str(exc)
            peer_common.emit({"start": start, "end": time.time(),
                              "url": url, "error": error})
            time.sleep(args.interval)
    finally:
        zc.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
