#!/usr/bin/env python3
"""In-process timings of the Python package (python/: ironicmdns.ipa and
ironicmdns.ironic, the drop-ins for ironic's two mDNS modules), for
bench/run.sh, with the JSON lines of ref_bench.py (run only inside its
private network namespaces):

  py_bench.py lookup TYPE [--runs N]
      N module-level ironicmdns.ipa.get_endpoint() calls (each opens a
      Zeroconf, looks up, closes): {"kind": "fresh", "ms": ..., "ok": ...}.
  py_bench.py register TYPE URL [--core]
      {"start": t} before ironicmdns.ironic.Zeroconf().register_service
      (--core: ironicmdns.Zeroconf(), without oslo.config), {"ready": t}
      after it, holds until SIGINT/SIGTERM, then close().
"""

import argparse
import json
import signal
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["lookup", "register"])
    ap.add_argument("type")
    ap.add_argument("url", nargs="?")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--core", action="store_true")
    args = ap.parse_args()

    if args.cmd == "register":
        if args.core:
            import ironicmdns as mdns
            mdns.ServiceRegistrationFailure = mdns.RegistrationFailure
        else:
            from ironicmdns import ironic as mdns
        sigs = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
        zc = mdns.Zeroconf()
        print(json.dumps({"start": time.time()}), flush=True)
        try:
            zc.register_service(args.type, args.url)
        except mdns.ServiceRegistrationFailure as exc:
            print(json.dumps({"failed": str(exc)}), flush=True)
            zc.close()
            return 2
        print(json.dumps({"ready": time.time()}), flush=True)
        signal.sigwait(sigs)
        zc.close()
        return 0

    from ironicmdns import ipa as mdns
    for _ in range(args.runs):
        t = time.perf_counter()
        try:
            url, _ = mdns.get_endpoint(args.type)
            ok, detail = True, url
        except mdns.ServiceLookupFailure as exc:
            ok, detail = False, str(exc)
        print(json.dumps({"kind": "fresh", "ms": (time.perf_counter() - t) * 1e3, "ok": ok,
                          "detail": detail, "end": time.time()}), flush=True)
        if args.runs > 1:
            time.sleep(0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
