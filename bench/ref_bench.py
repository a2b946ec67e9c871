#!/usr/bin/env python3
"""In-process timings of the reference, ironic_lib.mdns on python-zeroconf,
for bench/run.sh (run only inside its private network namespaces). The same
JSON lines as bench/rust (mdns-bench):

  ref_bench.py lookup TYPE [--runs N] [--warm M] [--release FIFO]
      N fresh module-level get_endpoint() calls (each opens a Zeroconf,
      looks up, closes), then one Zeroconf() looked up once untimed and M
      more times ("warm"). --release FIFO: print {"armed": t}, then wait
      until FIFO is opened and closed by a writer (a swarm's start).
  ref_bench.py register TYPE URL
      {"start": t} before register_service, {"ready": t} after it, holds
      until SIGINT/SIGTERM, then close() (goodbyes).
"""

import argparse
import json
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("BENCH_PEERS_DIR")
                or os.path.join(HERE, "..", "tests", "peers"))
import peer_common  # noqa: E402


def report(kind, secs, ok, detail):
    print(json.dumps({"kind": kind, "ms": secs * 1e3, "ok": ok,
                      "detail": detail, "end": time.time()}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["lookup", "register"])
    ap.add_argument("type")
    ap.add_argument("url", nargs="?")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--warm", type=int, default=0)
    ap.add_argument("--release", metavar="FIFO")
    ap.add_argument("--option", action="append", default=[])
    args = ap.parse_args()
    peer_common.setup_logging()
    peer_common.configure(args.option)
    from ironic_lib import exception
    from ironic_lib import mdns

    if args.cmd == "register":
        # Blocked before zeroconf starts its threads; sigwait() below takes
        # them (no polling loop to disturb the idle measurement).
        sigs = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
        zc = mdns.Zeroconf()
        print(json.dumps({"start": time.time()}), flush=True)
        try:
            zc.register_service(args.type, args.url)
        except exception.ServiceRegistrationFailure as exc:
            print(json.dumps({"failed": str(exc)}), flush=True)
            zc.close()
            return 2
        print(json.dumps({"ready": time.time()}), flush=True)
        signal.sigwait(sigs)
        zc.close()
        return 0

    if args.release:
        # a swarm: say so, then block until bench.py opens and closes FIFO
        print(json.dumps({"armed": time.time()}), flush=True)
        with open(args.release, "rb") as fifo:
            fifo.read()
    for _ in range(args.runs):
        t = time.perf_counter()
        try:
            url, _ = mdns.get_endpoint(args.type)
            ok, detail = True, url
        except exception.ServiceLookupFailure as exc:
            ok, detail = False, str(exc)
        report("fresh", time.perf_counter() - t, ok, detail)
        if args.runs > 1:
            time.sleep(0.2)
    if args.warm:
        zc = mdns.Zeroconf()
        for i in range(args.warm + 1):
            t = time.perf_counter()
            try:
                url, _ = zc.get_endpoint(args.type)
                ok, detail = True, url
            except exception.ServiceLookupFailure as exc:
                ok, detail = False, str(exc)
            report("first" if i == 0 else "warm", time.perf_counter() - t, ok, detail)
        zc.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
