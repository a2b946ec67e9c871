#!/usr/bin/env python3
"""The benchmark of libironicmdns against its peers. Started by
bench/run.sh inside a fresh network namespace, which is host A; never run it
in the machine's own network namespace (it refuses to).

Hosts (docs/LAB.md): host B is a process in its own `unshare -n`, joined to A by a veth
(198.18.0.1/2, fd00:99::1/2); for the idle measurement each stack gets its
own quiet host on a veth of its own (198.18.N.0/24).

Stacks: ours (libironicmdns: bench/rust mdns-bench in-process, the
ironic-mdns CLI as a process), ref (ironic_lib.mdns on python-zeroconf:
bench/ref_bench.py), avahi (avahi-daemon per host via tests/peers/
avahi_host.sh, avahi-browse / avahi-publish-service), sd (mdns-sd via
mdns-bench).
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from lab import Avahi, Cell, Host, Proc, cpu_ticks, in_private_netns, log, proc_status, sh, wakeups

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TYPE = "baremetal"
SERVICE = "_openstack._tcp"
URL_B = "http://198.18.0.2:6385/baremetal"


# ------------------------------------------------------------------- bench
class Bench:
    STACKS = ("ours", "ref", "avahi", "sd")

    def __init__(self, args):
        self.a = args
        self.tmp = tempfile.mkdtemp(prefix="ironicmdns-bench-")
        self.bin = os.path.join(ROOT, "target", "release")
        self.cli = os.path.join(self.bin, "ironic-mdns")
        self.mb = os.path.join(self.bin, "mdns-bench")
        peers = os.environ.get("BENCH_PEERS_DIR") or os.path.join(ROOT, "tests", "peers")
        self.avahi_host = os.path.join(peers, "avahi_host.sh")
        venv = os.environ.get("BENCH_VENV") or os.path.join(ROOT, ".venv")
        self.py = os.path.join(venv, "bin", "python")
        self.ref = [self.py, os.path.join(ROOT, "bench", "ref_bench.py")]
        self.ref_lookup = [self.py, os.path.join(peers, "ironic_lookup.py")]
        self.runs = args.runs
        self.rows = []
        self.hosts = []
        self.avahis = []
        self.procs = []
        self.skip = set(args.skip or [])
        self.floor = None  # process_floor(), measured once per run

    # ---- lifecycle
    def setup(self):
        sh("ip link set lo up")
        self.B = Host(0, with_v6=True)
        self.hosts.append(self.B)
        sh("ip route add 224.0.0.0/4 dev a0")
        time.sleep(0.5)

    def teardown(self):
        for p in self.procs:
            try:
                p.stop(signal.SIGKILL, 2)
            except Exception:
                pass
        for av in self.avahis:
            subprocess.run([self.avahi_host, "stop", av.dir], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        for h in self.hosts:
            h.close()

    def spawn(self, argv, host=None, **kw):
        p = Proc(host.wrap(argv) if host else argv, **kw)
        self.procs.append(p)
        return p

    def avahi(self, host, iface):
        av = Avahi(self, host, iface)
        self.avahis.append(av)
        return av

    def avahi_stop(self, av):
        subprocess.run([self.avahi_host, "stop", av.dir], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        self.avahis.remove(av)

    def publisher(self, stack, ty=TYPE, host=None, url=URL_B, ip="198.18.0.2", cli=False):
        """Start a publisher of ty on host (default B). Returns (proc, start
        time of the registration call, avahi or None); proc None: failed."""
        host = host or self.B
        if stack == "ours":
            argv = ([self.cli, "register", ty, url] if cli
                    else [self.mb, "register", "ours", ty, url])
        elif stack == "ref":
            argv = self.ref + ["register", ty, url]
        elif stack == "sd":
            argv = [self.mb, "register", "sd", ty, ip, "6385", "path=/baremetal"]
        else:
            av = self.avahi(host, host.b_if)
            t0 = time.time()
            p = self.spawn(host.wrap(["avahi-publish-service", "-s", ty, SERVICE, "6385",
                                      "path=/baremetal"]), env=av.env, merge=True)
            ok = p.expect(lambda l: "Established" in l, 10)
            return (p if ok else None), t0, av
        p = self.spawn(argv, host, stderr=open(os.path.join(self.tmp, "pub.err"), "ab"))
        if cli:
            t0 = time.time()
            ok = p.expect(lambda l: l.startswith("registered"), 30)
            return (p if ok else None), t0, None
        start = p.json("start", 30)
        ready = p.json("ready", 30)
        if not start or not ready:
            p.stop(signal.SIGKILL)
            return None, 0, None
        return p, start["start"], None

    def unpublish(self, p, av):
        if p:
            p.stop()
        if av:
            self.avahi_stop(av)

    def why(self, stack):
        """A short reason when a stack failed (from its stderr log)."""
        try:
            with open(os.path.join(self.tmp, "pub.err"), "rb") as f:
                tail = f.read().decode("utf-8", "replace").strip().splitlines()
            for line in reversed(tail):
                if "not yet implemented" in line or "panicked" in line:
                    return "failed: not implemented yet (todo!)"
        except OSError:
            pass
        return "failed"

    # ---- in-process lookups
    def inproc_lookups(self, stack, ty=TYPE, runs=None, warm=0, extra=()):
        """JSON reports of an in-process lookup driver on host A."""
        runs = self.runs if runs is None else runs
        if stack == "ref":
            argv = self.ref + ["lookup", ty, "--runs", str(runs), "--warm", str(warm)]
        else:
            argv = [self.mb, "lookup", stack, ty, "--runs", str(runs), "--warm", str(warm),
                    "--timeout", "12"]
        argv += list(extra)
        out, reps = run_json(argv, timeout=300)
        err = out.stderr.decode("utf-8", "replace")
        if not reps:
            msg = "not implemented yet (todo!)" if "not yet implemented" in err else \
                (err.strip().splitlines() or ["no output"])[-1][:80]
            return None, "failed: " + msg
        return reps, None

    def capture(self):
        """tcpdump on host A's side of the veth (the lab's own link only):
        returns a stop function giving the publisher's answer times (ms,
        from a one-shot query leaving to its first answer arriving, paired
        by DNS ID), or None when tcpdump is missing."""
        if not shutil.which("tcpdump"):
            return None
        path = os.path.join(self.tmp, "inproc.pcap")
        p = subprocess.Popen(["tcpdump", "-i", "a0", "-n", "--immediate-mode", "-w", path,
                              "udp port 5353"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(1.0)

        def stop():
            time.sleep(0.3)
            p.terminate()
            p.wait(5)
            out = subprocess.run(["tcpdump", "-n", "-tt", "-r", path], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL).stdout.decode().splitlines()
            asked, waits = {}, []
            for line in out:
                f = line.split()
                if len(f) < 6 or f[1] != "IP":
                    continue
                t, src, qid = float(f[0]), f[2], f[5].rstrip("*-+%")
                if f[4].startswith("224.0.0.251") and not src.endswith(".5353"):
                    asked[qid] = t
                elif src.endswith(".5353") and not f[4].startswith("224.") and qid in asked:
                    waits.append((t - asked.pop(qid)) * 1000)
            return waits
        return stop

    def row_lookup_inproc(self):
        """Rows 1 and 3: fresh in-call lookup, warm lookup (same instance);
        then the fresh lookup again against our own publisher."""
        fresh, warm, wire = self.inproc_cells(self.a.publisher, ("ours", "ref", "sd"))
        fresh["avahi"] = Cell(missing="n/a (daemon; see process row)")
        warm["avahi"] = Cell(missing="n/a (daemon cache)")
        who = "`baremetal` published on host B by %s" % self.a.publisher
        self.add("lookup on the other host, fresh instance, in-call", fresh,
                 "<= 0.5 ms median, >= 5x faster than ref", lambda c: c["ours"].s and
                 c["ours"].s["median"] <= 0.5 and (not c["ref"].s or c["ref"].s["median"] / c["ours"].s["median"] >= 5),
                 note=who + "; ours: module-level one-shot lookup (`lookup_once`, on the caller's "
                 "thread); ref: module-level "
                 "get_endpoint; sd: a new ServiceDaemon browsing _openstack._tcp until the instance "
                 "resolves (mdns-sd has no one-instance lookup), runs 1.1 s apart (it asks by "
                 "multicast, which a responder answers at most once a second, RFC 6762 s6.2); " + wire)
        self.add("warm lookup (cached, same instance)", warm, "<= 50 us median",
                 lambda c: c["ours"].s and c["ours"].s["median"] <= 50,
                 note=who + "; sd: a new browse on the same daemon, the previous one left running "
                 "(mdns-sd's stop_browse empties its cache of the type)")
        if self.a.publisher != "ours" and "ours" not in self.skip:
            fresh, _, wire = self.inproc_cells("ours", ("ours",))
            self.add("the same, published by ours", fresh, "<= 0.5 ms median",
                     lambda c: c["ours"].s and c["ours"].s["median"] <= 0.5,
                     note="`baremetal` published on host B by ours (`ironic-mdns register`); the "
                     "lookup as in the first row; " + wire)

    def inproc_cells(self, publisher, stacks):
        """Fresh and warm in-call cells of `stacks` against `publisher`, and
        a note on the publisher's answer time (the part of ours' figure
        spent waiting on the wire)."""
        pub, _, av = self.publisher(publisher)
        if not pub:
            raise RuntimeError("publisher %s failed" % publisher)
        fresh, warm = {}, {}
        waits = []  # the publisher's answer times in ours' runs
        for stack in stacks:
            if stack in self.skip:
                continue
            stop = self.capture() if stack == "ours" else None
            # warm-up run (not counted), then the runs
            warm_runs = self.a.warm_runs
            reps, err = self.inproc_lookups(stack, runs=self.runs + 1, warm=warm_runs)
            if stop:
                waits = stop()
            if err:
                fresh[stack] = Cell(missing=err)
                warm[stack] = Cell(missing=err)
                continue
            fr = [r for r in reps if r["kind"] == "fresh"][1:]
            wr = [r for r in reps if r["kind"] == "warm"]
            nf = sum(1 for r in fr if not r["ok"])
            fresh[stack] = Cell([r["ms"] for r in fr if r["ok"]], "ms",
                                note="(%d not found)" % nf if nf else "")
            nw = sum(1 for r in wr if not r["ok"])
            warm[stack] = Cell([r["ms"] * 1000 for r in wr if r["ok"]], "us",
                               note="(%d not found)" % nw if nw else "")
        floor = self.raw_floor() if "ours" in stacks and "ours" not in self.skip else None
        self.unpublish(pub, av)
        if len(waits) >= 3:
            wire = ("the publisher's answer time in ours' runs (one-shot query out to its first "
                    "answer in, tcpdump on host A): %.3f ms median (%.3f-%.3f ms, n=%d)"
                    % (statistics.median(waits), min(waits), max(waits), len(waits)))
        else:
            wire = "the publisher's answer time: not captured"
        if floor is not None:
            if floor.s and fresh.get("ours") and fresh["ours"].s:
                fresh["ours"].extra = "(%.2f ms above the floor)" % (
                    fresh["ours"].s["median"] - floor.s["median"])
            wire += ("; the floor, a bare one-shot query timed the same way (`mdns-bench "
                     "rawquery`: one new IPv4 socket, one packet out, the first answer with its "
                     "ID in; no interface scan, no IPv6, no parsing): %s" % floor.text())
        return fresh, warm, wire

    def raw_floor(self):
        """The bare one-shot query against the current publisher."""
        _, reps = run_json([self.mb, "rawquery", TYPE, "--runs", str(self.runs), "--timeout", "2"],
                           timeout=120)
        reps = reps[1:]
        ms = [r["ms"] for r in reps if r["ok"]]
        miss = len(reps) - len(ms)
        return Cell(ms, "ms", note="(%d unanswered)" % miss if miss else "") if ms else \
            Cell(missing="no answer")

    # ---- whole processes
    def row_lookup_process(self):
        pub, _, av = self.publisher(self.a.publisher)
        if not pub:
            raise RuntimeError("publisher %s failed" % self.a.publisher)
        cells = {}
        cmds = {
            "ours": [self.cli, "lookup", TYPE],
            "ref": self.ref_lookup + [TYPE],
            "sd": [self.mb, "lookup", "sd", TYPE, "--timeout", "12"],
        }
        for stack, argv in cmds.items():
            if stack not in self.skip:
                # sd asks by multicast: runs more than the responder's 1 s
                # rate limit apart (RFC 6762 s6.2; see bench/rust SD_GAP)
                cells[stack] = self.time_process(argv, gap=1.1 if stack == "sd" else 0.2)
        c_lookup = os.path.join(ROOT, "target", "lookup")
        c_cells = {s: Cell(missing="n/a") for s in ("ref", "avahi", "sd")}
        if "ours" not in self.skip and os.path.exists(c_lookup):
            # the C example wants the soname, which cargo does not make
            lib = os.path.join(self.tmp, "lib")
            os.makedirs(lib, exist_ok=True)
            so0 = os.path.join(lib, "libironicmdns.so.0")
            if not os.path.exists(so0):
                os.symlink(os.path.join(self.bin, "libironicmdns.so"), so0)
            c_cells["ours"] = self.time_process([c_lookup, TYPE], env=dict(os.environ, LD_LIBRARY_PATH=lib))
        else:
            c_cells["ours"] = Cell(missing="not built (make examples)")
        if "avahi" not in self.skip:
            cells["avahi"] = self.avahi_process_lookups()
        self.unpublish(pub, av)
        floor = self.process_floor()
        if floor.s:
            for c in (cells.get("ours"), c_cells["ours"]):
                if c is not None and c.s:
                    c.extra = "(%.2f ms above the floor)" % (c.s["median"] - floor.s["median"])
            fl = "launcher floor, `/bin/true` timed the same way in the same run: %s" % floor.text()
        else:
            fl = "launcher floor not measured (%s)" % floor.text()
        self.add("the same as a whole fresh process", cells, "<= 1.5 ms median",
                 lambda c: c["ours"].s and c["ours"].s["median"] <= 1.5,
                 note="ours: `ironic-mdns lookup`; ref: python ironic_lookup.py (interpreter start "
                      "included); avahi: avahi-browse -rp to the resolved line, fresh avahi-daemon on "
                      "host A each run (cold cache; daemon start not counted); sd: mdns-bench process; "
                      "each from spawn to exit (`mdns-bench spawn`); " + fl)
        self.add("the same as a whole fresh process, C example", c_cells, "<= 1.5 ms median",
                 lambda c: c["ours"].s and c["ours"].s["median"] <= 1.5,
                 note="`make examples`' target/lookup (examples/c/lookup.c: zc_lookup) against "
                      "target/release/libironicmdns.so; " + fl)

    def time_process(self, argv, env=None, gap=0.2):
        """Wall time of a whole process: a warm-up, then the runs, `gap` s
        apart, each from spawn to exit through `mdns-bench spawn` (a thin
        posix_spawn launcher; a Python subprocess adds about 1 ms here)."""
        cmd = [self.mb, "spawn", "--runs", str(self.runs), "--gap-ms", str(int(gap * 1000)), "--"]
        out, reps = run_json(cmd + list(argv), timeout=60 + self.runs * 60, env=env)
        reps = reps[1:]  # the warm-up
        times = [r["ms"] for r in reps if r["ok"]]
        fails = sum(1 for r in reps if not r["ok"])
        if not times:
            # the launcher drops the output: run once more to say why
            err = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                                 env=env).stderr.decode("utf-8", "replace")
            return Cell(missing="failed: " + ("not implemented yet (todo!)" if "not yet implemented" in err
                                              else (err.strip().splitlines() or ["?"])[-1][:80]))
        return Cell(times, note="(%d failed)" % fails if fails else "")

    def process_floor(self):
        """The launcher's floor: `/bin/true` as a whole process, timed the
        same way (what no program started by exec can go below here)."""
        if self.floor is None:
            self.floor = self.time_process(["/bin/true"])
        return self.floor

    def avahi_process_lookups(self):
        times = []
        for i in range(self.runs + 1):
            av = self.avahi(None, "a0")
            t = time.perf_counter()
            p = self.spawn(["avahi-browse", "-rp", SERVICE], env=av.env)
            got = p.expect(lambda l: l.startswith("=") and (";%s;" % TYPE) in l, 10)
            dt = (time.perf_counter() - t) * 1000
            p.stop(signal.SIGKILL)
            self.avahi_stop(av)
            if got and i > 0:
                times.append(dt)
        return Cell(times) if times else Cell(missing="failed")

    # ---- register until the other host resolves
    def row_register(self):
        cells = {}
        for stack in self.STACKS:
            if stack in self.skip:
                continue
            times, fails, why = [], 0, ""
            for i in range(self.runs + 1):
                watch = self.spawn([self.mb, "watch", TYPE, "--timeout", "8"])
                if not watch.json("watching", 10):
                    raise RuntimeError("mdns-sd watcher did not start")
                time.sleep(0.3)  # its first queries are out
                pub, t0, av = self.publisher(stack)
                if not pub:
                    fails += 1
                    why = self.why(stack)
                    watch.stop(signal.SIGKILL)
                    if av:
                        self.avahi_stop(av)
                    if i == 0:
                        break
                    continue
                found = watch.json("found", 8) or watch.json("failed", 0.1)
                watch.stop(signal.SIGKILL)
                if found and "found" in found:
                    if i > 0:
                        times.append((found["found"] - t0) * 1000)
                else:
                    fails += 1
                self.unpublish(pub, av)
                time.sleep(1.2)  # goodbyes are out; caches on both sides drop it
            cells[stack] = (Cell(times, note="(%d failed)" % fails if fails else "") if times
                            else Cell(missing=why or "failed"))
        self.add("register until the other host can resolve it", cells, "<= 1.0 s median",
                 lambda c: c["ours"].s and c["ours"].s["median"] <= 1000,
                 note="observer: an mdns-sd browser on host A (unsolicited answers accepted); from "
                      "the registration call (avahi: avahi-publish-service start, daemon running) "
                      "to the observer's resolved event")

    # ---- peak RSS
    def row_rss(self):
        cells = {}
        for stack in self.STACKS:
            if stack in self.skip:
                continue
            vals, why = [], ""
            for i in range(max(2, self.runs // 2)):
                pub, _, av = self.publisher(stack, cli=(stack == "ours"))
                if not pub:
                    why = self.why(stack)
                    break
                time.sleep(2)
                pid = pub.p.pid
                # nsenter execs the command: same pid
                hwm = proc_status(pid, "VmHWM") or 0
                if av:
                    hwm += proc_status(av.pid, "VmHWM") or 0
                vals.append(hwm / 1024)
                self.unpublish(pub, av)
                time.sleep(1.2)
            cells[stack] = Cell(vals, "MiB") if vals else Cell(missing=why or "failed")
        self.add("peak RSS of a process holding one registration", cells, "<= 2.5 MiB",
                 lambda c: c["ours"].s and c["ours"].s["median"] <= 2.5,
                 note="VmHWM 2 s after the registration; ours: `ironic-mdns register`; ref: python "
                      "ref_bench.py; avahi: avahi-publish-service + avahi-daemon; sd: mdns-bench")

    # ---- 50 lookups at once
    def row_swarm(self):
        n = self.a.swarm
        pub, _, av = self.publisher(self.a.publisher)
        if not pub:
            raise RuntimeError("publisher %s failed" % self.a.publisher)
        cells = {}
        for stack in self.STACKS:
            if stack in self.skip:
                continue
            results = []
            for rnd in range(self.a.swarm_rounds):
                r = self.swarm_round(stack, n)
                if r is None:
                    results = None
                    break
                results.append(r)
                time.sleep(1.5)
            if not results:
                cells[stack] = Cell(missing="failed" if results is None else "n/a")
                continue
            found = ["%d/%d" % (f, n) for f, _ in results]
            fast = ["%d" % sum(1 for x in t if x <= 100) for _, t in results]
            meds = [statistics.median(t) if t else None for _, t in results]
            cells[stack] = Cell([m for m in meds if m is not None], "ms",
                                extra="found %s, within 100 ms %s" % (",".join(found), ",".join(fast)))
        self.unpublish(pub, av)
        self.add("%d lookups released at the same instant from one host" % n, cells,
                 "%d/%d found, median <= 10 ms" % (n, n),
                 lambda c: c["ours"].s and c["ours"].s["median"] <= 10 and
                 c["ours"].extra.startswith("found " + ",".join(["%d/%d" % (n, n)] * self.a.swarm_rounds) + ","),
                 note="per round the median of the %d in-call times (avahi: avahi-browse processes, "
                      "from release to the resolved line); figures are over %d rounds; publisher on "
                      "host B: %s" % (n, self.a.swarm_rounds, self.a.publisher))

    def swarm_round(self, stack, n):
        fifo = os.path.join(self.tmp, "release-%s" % stack)
        if os.path.exists(fifo):
            os.unlink(fifo)
        os.mkfifo(fifo)
        av = None
        procs = []
        if stack == "avahi":
            av = self.avahi(None, "a0")
            for _ in range(n):
                procs.append(self.spawn(["sh", "-c", 'echo armed; cat "$0" >/dev/null; '
                                         'exec avahi-browse -rp ' + SERVICE, fifo], env=av.env))
        else:
            argv = (self.ref + ["lookup", TYPE, "--release", fifo] if stack == "ref"
                    else [self.mb, "lookup", stack, TYPE, "--release", fifo, "--timeout", "12"])
            for _ in range(n):
                procs.append(self.spawn(argv, stderr=open(os.path.join(self.tmp, "swarm.err"), "ab")))
        armed = sum(1 for p in procs if p.expect(lambda l: "armed" in l, 120))
        if armed < n:
            for p in procs:
                p.stop(signal.SIGKILL)
            if av:
                self.avahi_stop(av)
            return None
        time.sleep(0.3)
        t_release = time.time()
        with open(fifo, "wb"):
            pass
        times = []
        for p in procs:
            if stack == "avahi":
                got = p.expect(lambda l: l.startswith("=") and (";%s;" % TYPE) in l, 15)
                if got:
                    times.append((got[0] - t_release) * 1000)
                p.stop(signal.SIGKILL)
            else:
                r = p.json("kind", 40)
                if r and r["ok"]:
                    times.append(r["ms"])
                p.stop(signal.SIGKILL)
        if av:
            self.avahi_stop(av)
        os.unlink(fifo)
        return len(times), times

    # ---- idle CPU
    def row_idle(self):
        secs = self.a.idle
        cells, running = {}, []
        for k, stack in enumerate(self.STACKS):
            if stack in self.skip:
                continue
            h = Host(10 + k)
            self.hosts.append(h)
            time.sleep(0.3)
            pub, _, av = self.publisher(stack, host=h, url="http://%s:6385/baremetal" % h.b_ip,
                                        ip=h.b_ip, cli=(stack == "ours"))
            if not pub:
                cells[stack] = Cell(missing=self.why(stack))
                continue
            running.append((stack, pub, av))
        time.sleep(5)  # announcements done
        pids = {s: [p.p.pid] + ([av.pid] if av else []) for s, p, av in running}
        w0 = {s: sum(wakeups(x) for x in ps) for s, ps in pids.items()}
        c0 = {s: sum(cpu_ticks(x) for x in ps) for s, ps in pids.items()}
        time.sleep(secs)
        hz = os.sysconf("SC_CLK_TCK")
        for s, ps in pids.items():
            w = sum(wakeups(x) for x in ps) - w0[s]
            c = (sum(cpu_ticks(x) for x in ps) - c0[s]) / hz
            cells[s] = Cell([w * 5.0 / secs], "/5 s", extra="(%d in %d s, CPU %.2f s)" % (w, secs, c))
        for s, p, av in running:
            self.unpublish(p, av)
        self.add("idle with one registration, wake-ups per 5 s over %d s" % secs, cells,
                 "<= 1 per 5 s", lambda c: c["ours"].s and c["ours"].s["median"] <= 1,
                 note="context switches of all threads (/proc/PID/task/*/status), each stack alone "
                      "on its own quiet host; avahi: daemon + avahi-publish-service")

    # ---- nobody answering
    def row_nobody(self):
        cells = {}
        variants = [("ours", ()), ("ref", ())]
        runs = self.a.nobody_runs
        for stack, extra in variants:
            if stack in self.skip:
                continue
            reps, err = self.inproc_lookups(stack, ty="nobody", runs=runs, extra=extra)
            if err:
                cells[stack] = Cell(missing=err)
                continue
            found = sum(1 for r in reps if r["ok"])
            cells[stack] = Cell([r["ms"] for r in reps if r["kind"] == "fresh"],
                                note="(%d found?!)" % found if found else "")
        cells["avahi"] = Cell(missing="n/a (no attempts option)")
        cells["sd"] = Cell(missing="n/a (no attempts option)")
        self.add("lookup with nobody answering, default options", cells,
                 "like the reference (3 attempts, ~9.3 s)",
                 lambda c: c["ours"].s and c["ref"].s and abs(c["ours"].s["median"] - c["ref"].s["median"]) < 1000
                 if c.get("ref") and c["ref"].s else c["ours"].s and 8800 <= c["ours"].s["median"] <= 9800)
        short = {}
        if "ours" not in self.skip:
            reps, err = self.inproc_lookups("ours", ty="nobody", runs=runs,
                                            extra=("--option", "lookup_timeout=0.5"))
            short["ours"] = Cell(missing=err) if err else Cell([r["ms"] for r in reps])
        for s in ("ref", "avahi", "sd"):
            short[s] = Cell(missing="n/a (no such option)")
        self.add("the same with lookup_timeout = 0.5 s", short,
                 "shorter (3 x 0.5 s + 0.3 s ~ 1.8 s)",
                 lambda c: c["ours"].s and c["ours"].s["median"] <= 2500)

    # ---- DNSSEC on mDNS
    def row_trust(self):
        """A validated in-call lookup against the plain one, both of ours
        signing on host B; and the publisher's signing work per re-sign."""
        na = {s: Cell(missing="n/a (no DNSSEC on mDNS)") for s in ("ref", "avahi", "sd")}
        if "ours" in self.skip:
            return
        if not shutil.which("dnssec-keygen"):
            self.add("validated lookup of a signed publisher, fresh instance, in-call",
                     dict(na, ours=Cell(missing="dnssec-keygen missing")), "", lambda c: False)
            return
        kdir = os.path.join(self.tmp, "keys")
        os.makedirs(kdir, exist_ok=True)
        stem = subprocess.run(["dnssec-keygen", "-q", "-K", kdir, "-a", "ED25519", "-n", "ZONE",
                               "-f", "KSK", "local."], stdout=subprocess.PIPE,
                              check=True).stdout.decode().strip()
        key = os.path.join(kdir, stem)
        p = self.spawn([self.mb, "register", "ours", TYPE, URL_B, "--signing-key",
                        key + ".private"], self.B,
                       stderr=open(os.path.join(self.tmp, "pub.err"), "ab"))
        if not p.json("start", 30) or not p.json("ready", 30):
            p.stop(signal.SIGKILL)
            raise RuntimeError("signed publisher failed")
        # The ramdisk's form (docs/TRUST.md): the DS, compact, as on a kernel
        # command line; and the DNSKEY read from its .key file.
        ds = subprocess.run(["dnssec-dsfromkey", "-2", key + ".key"], stdout=subprocess.PIPE,
                            check=True).stdout.decode().split()
        compact = ":".join(ds[3:7])
        # Plain and validated lookups alternate in one process (pairs, the
        # first of each pair alternating): the machine drifts between
        # separate runs by more than the difference measured here.
        def pairs(anchor):
            reps, err = self.inproc_lookups("ours", runs=self.runs + 1,
                                            extra=("--paired-anchor", anchor))
            if err:
                return Cell(missing=err), Cell(missing=err)
            reps = reps[2:]  # the first pair warms up
            return tuple(Cell([r["ms"] for r in reps if r["kind"] == k and r["ok"]], "ms")
                         for k in ("plain", "validated"))
        plain, valid = pairs(compact)
        plain_f, keyfile = pairs("@" + key + ".key")
        warm = {}
        for kind, extra in (("plain", ()), ("ds", ("--trust-anchor", compact))):
            reps, err = self.inproc_lookups("ours", runs=0, warm=self.a.warm_runs, extra=extra)
            warm[kind] = Cell(missing=err) if err else \
                Cell([r["ms"] * 1000 for r in reps if r["kind"] == "warm" and r["ok"]], "us")
        self.unpublish(p, None)
        for c, base in ((valid, plain), (keyfile, plain_f)):
            if base.s and c.s:
                c.extra = "(%+.3f ms over plain)" % (c.s["median"] - base.s["median"])
        self.add("validated lookup of a signed publisher, fresh instance, in-call",
                 dict(na, ours=valid), "<= 0.3 ms above the plain lookup's median",
                 lambda c: c["ours"].s and plain.s and
                 c["ours"].s["median"] - plain.s["median"] <= 0.3,
                 note="ours on host B signs with an Ed25519 key from dnssec-keygen; the lookup "
                 "validates against the key's DS in the compact form a ramdisk gets on its "
                 "kernel command line (`--trust-anchor KEYTAG:15:2:HEX`, docs/TRUST.md), the "
                 "configuration included in the time, as for every fresh instance; plain and "
                 "validated lookups alternate in one process; the plain ones: %s; with the "
                 "DNSKEY read from its file (`--trust-anchor @K....key`): %s against plain %s; "
                 "warm (cached, validated when it was cached): %s, plain %s"
                 % (plain.text(), keyfile.text(), plain_f.text(), warm["ds"].text(),
                    warm["plain"].text()))
        _, reps = run_json([self.mb, "signcost", "--signing-key", key + ".private",
                            "--runs", str(self.runs)], timeout=120)
        ms = [r["ms"] for r in reps if r.get("ok")]
        detail = reps[0]["detail"] if reps else ""
        self.add("publisher's signing work per re-sign (one registration)",
                 dict(na, ours=Cell(ms, "ms") if ms else Cell(missing="failed")),
                 "<= 1 ms (once an hour)", lambda c: c["ours"].s and c["ours"].s["median"] <= 1.0,
                 note="Ed25519: %s (PTR x2, SRV, TXT, A, NSEC, DNSKEY); signatures are "
                 "remade every hour and reused in between" % detail)

    # ---- table
    # ---- the Python and Go packages (python/, go/)
    def py_cell(self, argv):
        """time_process of a Python one-liner, or why it cannot run."""
        probe = subprocess.run(argv[:1] + ["-c", argv[2].split(";")[0]],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if probe.returncode != 0:
            return Cell(missing="failed: " + (probe.stderr.decode("utf-8", "replace").strip()
                                              .splitlines() or ["?"])[-1][:80])
        return self.time_process(argv)

    def fresh_inproc(self, argv):
        out, reps = run_json(argv, timeout=300)
        fr = [r for r in reps if r.get("kind") == "fresh"][1:]
        if not fr:
            err = out.stderr.decode("utf-8", "replace").strip().splitlines() or ["no output"]
            return Cell(missing="failed: " + err[-1][:80])
        nf = sum(1 for r in fr if not r["ok"])
        return Cell([r["ms"] for r in fr if r["ok"]], "ms", note="(%d not found)" % nf if nf else "")

    def row_bindings(self):
        """Python package vs the reference (whole process, in-call, RSS);
        Go package whole process."""
        pub, _, av = self.publisher(self.a.publisher)
        if not pub:
            raise RuntimeError("publisher %s failed" % self.a.publisher)
        na = {s: Cell(missing="n/a") for s in ("avahi", "sd")}
        one = "%s; get_endpoint('%s')" % ("%s", TYPE)
        ref = (self.py_cell([self.py, "-c", one % "from ironic_lib.mdns import get_endpoint"])
               if "ref" not in self.skip else Cell(missing="skipped"))
        ours = self.py_cell([self.py, "-c", one % "from ironicmdns.ipa import get_endpoint"])
        core = self.py_cell([self.py, "-c", "import ironicmdns; ironicmdns.lookup('%s')" % TYPE])
        ten_x = (lambda c: c["ours"].s and c["ref"].s and
                 c["ref"].s["median"] / c["ours"].s["median"] >= 10)
        self.add("Python whole process: `python -c 'from M import get_endpoint; "
                 "get_endpoint(\"baremetal\")'`", dict(na, ours=ours, ref=ref),
                 ">= 10x faster than ref", ten_x,
                 note="ours: M = ironicmdns.ipa (oslo.config, installed in the venv, is not "
                      "imported: the process has not loaded it, so nothing is configured); "
                      "ref: M = ironic_lib.mdns; the same venv python, interpreter start included")
        self.add("Python whole process, core: `ironicmdns.lookup(\"baremetal\")`",
                 dict(na, ours=core, ref=ref), ">= 10x faster than ref", ten_x,
                 note="ours without oslo.config: `import ironicmdns; ironicmdns.lookup(...)`")
        inref = (self.fresh_inproc(self.ref + ["lookup", TYPE, "--runs", str(self.runs + 1)])
                 if "ref" not in self.skip else Cell(missing="skipped"))
        inours = self.fresh_inproc([self.py, os.path.join(ROOT, "bench", "py_bench.py"), "lookup",
                                    TYPE, "--runs", str(self.runs + 1)])
        self.add("Python in-call get_endpoint, fresh instance", dict(na, ours=inours, ref=inref),
                 ">= 10x faster than ref", ten_x,
                 note="module-level get_endpoint: ironicmdns.ipa vs ironic_lib.mdns, timed inside "
                      "one interpreter (bench/py_bench.py, bench/ref_bench.py), first call not counted")
        go = os.path.join(ROOT, "target", "go-bench", "mdns-lookup")
        if os.path.exists(go):
            env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(ROOT, "target", "go-bench", "lib"))
            gocell = self.time_process([go, TYPE], env=env)
        else:
            gocell = Cell(missing="not built (bench/run.sh builds it with go)")
        self.add("Go whole process: ironicmdns.Lookup", {"ours": gocell, "ref": Cell(missing="n/a"),
                                                         **na},
                 "<= 10 ms median", lambda c: c["ours"].s and c["ours"].s["median"] <= 10,
                 note="go/cmd/mdns-lookup (the Go package's one-shot Lookup) against "
                      "target/release/libironicmdns.so")
        self.unpublish(pub, av)
        time.sleep(1.2)
        py_bench = [self.py, os.path.join(ROOT, "bench", "py_bench.py")]
        ref_rss = (self.rss_of(self.ref + ["register", TYPE, URL_B])
                   if "ref" not in self.skip else Cell(missing="skipped"))
        third = (lambda c: c["ours"].s and c["ref"].s and
                 c["ours"].s["median"] * 3 <= c["ref"].s["median"])
        self.add("Python process holding one registration, peak RSS",
                 dict(na, ours=self.rss_of(py_bench + ["register", TYPE, URL_B, "--core"]),
                      ref=ref_rss), "<= 1/3 of ref", third,
                 note="VmHWM 2 s after the registration; ours: ironicmdns.Zeroconf (bench/py_bench.py "
                      "register --core, which imports only sys, signal, time); ref: ironic_lib.mdns "
                      "(bench/ref_bench.py register)")
        self.add("the same with the drop-in ironicmdns.ironic",
                 dict(na, ours=self.rss_of(py_bench + ["register", TYPE, URL_B]), ref=ref_rss),
                 "<= 1/3 of ref", third,
                 note="ours: ironicmdns.ironic in a process that has not imported oslo.config "
                      "(its [mdns] options are then the defaults)")
        self.add("the drop-in with oslo.config loaded first (as in a conductor)",
                 dict(na, ours=self.rss_of(py_bench + ["register", TYPE, URL_B, "--oslo"]),
                      ref=ref_rss), "<= 1/3 of ref (not required)", third,
                 note="ours: oslo.config imported before ironicmdns.ironic, which then registers "
                      "its [mdns] options with it, as ironic.common.mdns does; a conductor has "
                      "oslo.config loaded anyway")

    def rss_of(self, argv):
        """VmHWM of a publisher on host B, 2 s after its registration."""
        vals = []
        for _ in range(max(2, self.runs // 2)):
            p = self.spawn(argv, self.B, stderr=open(os.path.join(self.tmp, "pub.err"), "ab"))
            if not p.json("ready", 30):
                p.stop(signal.SIGKILL)
                break
            time.sleep(2)
            vals.append((proc_status(p.p.pid, "VmHWM") or 0) / 1024)
            p.stop()
            time.sleep(1.2)
        return Cell(vals, "MiB") if vals else Cell(missing="failed")

    def add(self, name, cells, target, ok, note=""):
        for s in self.STACKS:
            cells.setdefault(s, Cell(missing="skipped"))
        try:
            met = bool(ok(cells))
        except Exception:
            met = False
        verdict = "met" if met else ("MISSED" if cells["ours"].s else "not measured")
        self.rows.append((name, cells, target, verdict, note))
        log("%s: ours %s | ref %s | avahi %s | sd %s -> %s" % (
            name, cells["ours"].text(), cells["ref"].text(), cells["avahi"].text(),
            cells["sd"].text(), verdict))

    def table(self):
        def ratio(c, peer):
            o, p = c["ours"].s, c[peer].s
            if not o or not p or not o["median"]:
                return ""
            return " (%.3gx)" % (p["median"] / o["median"])
        lines = ["| measurement | target | ours | reference (ironic_lib + python-zeroconf) | Avahi | mdns-sd | verdict |",
                 "|---|---|---|---|---|---|---|"]
        notes = []
        for name, cells, target, verdict, note in self.rows:
            lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                name, target, cells["ours"].text(),
                cells["ref"].text() + ratio(cells, "ref"),
                cells["avahi"].text() + ratio(cells, "avahi"),
                cells["sd"].text() + ratio(cells, "sd"), verdict))
            if note:
                notes.append("- *%s*: %s" % (name, note))
        return "\n".join(lines), "\n".join(notes)


def run_json(argv, **kw):
    """Run a driver that prints one JSON object per line: the finished
    process and the objects (other lines are skipped)."""
    out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    reps = []
    for line in out.stdout.decode().splitlines():
        try:
            reps.append(json.loads(line))
        except ValueError:
            pass
    return out, reps


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "nproc %d, %s, Linux %s" % (os.cpu_count(), model, platform.release())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer runs, 15 s idle window")
    ap.add_argument("--runs", type=int, help="runs per figure after the warm-up (default 7, quick 3)")
    ap.add_argument("--publisher", default="ref", choices=Bench.STACKS,
                    help="who publishes on host B for the lookup rows (default ref)")
    ap.add_argument("--skip", action="append", choices=Bench.STACKS, help="leave a stack out")
    ap.add_argument("--only", action="append",
                    choices=["inproc", "process", "register", "rss", "swarm", "idle", "nobody",
                             "bindings", "trust"])
    ap.add_argument("--write", metavar="FILE", help="write the results (markdown) to FILE")
    ap.add_argument("--command", default="bench/run.sh", help="the command to print as the reproducer")
    a = ap.parse_args()
    a.runs = a.runs or (3 if a.quick else 7)
    a.warm_runs = 20 if a.quick else 100
    a.swarm = 50
    a.swarm_rounds = 1 if a.quick else 2
    a.idle = 15 if a.quick else 60
    a.nobody_runs = 1 if a.quick else 2

    if not in_private_netns():
        sys.exit("bench: refusing to run outside the private namespace bench/run.sh makes")
    for path in ("ironic-mdns", "mdns-bench"):
        if not os.path.exists(os.path.join(ROOT, "target", "release", path)):
            sys.exit("bench: target/release/%s missing (use bench/run.sh)" % path)

    b = Bench(a)
    started = datetime.datetime.now(datetime.timezone.utc)
    phases = [("inproc", b.row_lookup_inproc), ("process", b.row_lookup_process),
              ("register", b.row_register), ("rss", b.row_rss), ("swarm", b.row_swarm),
              ("idle", b.row_idle), ("nobody", b.row_nobody), ("bindings", b.row_bindings),
              ("trust", b.row_trust)]
    try:
        b.setup()
        for name, fn in phases:
            if a.only and name not in a.only:
                continue
            log("== %s" % name)
            t = time.time()
            try:
                fn()
            except Exception as exc:  # a phase that breaks does not hide the others
                log("phase %s failed: %r" % (name, exc))
            log("   (%.0f s)" % (time.time() - t))
    finally:
        b.teardown()
    took = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()
    table, notes = b.table()
    head = ("Run %s UTC on %s; %d runs per figure after a warm-up%s; took %.0f s.\n"
            % (started.strftime("%Y-%m-%d %H:%M"), machine(), a.runs,
               " (--quick)" if a.quick else "", took))
    text = ("%s\nReproduce: `%s`\n\nmedian (min-max, n); in brackets after a peer: the peer's "
            "median / ours (how many times faster ours is; below 1: slower).\n\n%s\n\n%s\n"
            % (head, a.command, table, notes))
    print(text)
    if a.write:
        with open(a.write, "w") as f:
            f.write("# Benchmarks: libironicmdns and its peers\n\n"
                    "Written by `bench/run.sh` (see bench/README.md for what each row "
                    "measures and how). The target column holds each row's goal; a missed one says MISSED.\n\n")
            f.write(text)


if __name__ == "__main__":
    main()
