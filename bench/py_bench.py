#!/usr/bin/env python3
"""In-process timings of the Python package (python/: ironicmdns.ipa and
ironicmdns.ironic, the drop-ins for ironic's two mDNS modules), for
bench/run.sh, with the JSON lines of ref_bench.py (run only inside its
private network namespaces):

  py_bench.py lookup TYPE [--runs N]
      N module-level ironicmdns.ipa.get_endpoint() calls (each opens a
      Zeroconf, looks up, closes): {"kind": "fresh", "ms": ..., "ok": ...}.
  py_bench.py register TYPE URL [--core | --oslo]
      {"start": t} before ironicmdns.ironic.Zeroconf().register_service
      (--core: ironicmdns.Zeroconf(); --oslo: oslo.config imported first,
      as in a conductor), {"ready": t} after it, holds until SIGINT/SIGTERM,
      then close().

The register path imports nothing but sys, signal and time (no argparse,
no json): the RSS row measures the package, not this harness.
"""

import signal
import sys
import time


def register(argv):
    type_, url, flags = argv[0], argv[1], set(argv[2:])
    if flags - {"--core", "--oslo"}:
        print("py_bench.py register TYPE URL [--core | --oslo]", file=sys.stderr)
        return 2
    if "--oslo" in flags:
        import oslo_config.cfg  # noqa: F401
    if "--core" in flags:
        import ironicmdns as mdns
        failure = mdns.RegistrationFailure
    else:
        from ironicmdns import ironic as mdns
        failure = mdns.ServiceRegistrationFailure
    sigs = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    zc = mdns.Zeroconf()
    print('{"start": %r}' % time.time(), flush=True)
    try:
        zc.register_service(type_, url)
    except failure as exc:
        import json
        print(json.dumps({"failed": str(exc)}), flush=True)
        zc.close()
        return 2
    print('{"ready": %r}' % time.time(), flush=True)
    signal.sigwait(sigs)
    zc.close()
    return 0


def main():
    if sys.argv[1:2] == ["register"] and len(sys.argv) >= 4:
        return register(sys.argv[2:])
    import argparse
    import json
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["lookup", "register"])
    ap.add_argument("type")
    ap.add_argument("url", nargs="?")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--core", action="store_true")
    ap.add_argument("--oslo", action="store_true")
    args = ap.parse_args()

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
