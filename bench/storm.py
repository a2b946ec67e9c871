#!/usr/bin/env python3
"""Boot storm and query flood on a private bridge.

  storm.py storm [--agents N] [--responders ours,ref,avahi,floor]
                 [--placements pinned,shared] [--runs R] [--check] [--json F]
      One responder host (h0, 198.18.0.1) and N agent hosts on one bridge.
      Every agent is armed (forked into its namespace, blocked on a FIFO) and
      all are released at one instant; each runs `ironic-mdns lookup
      baremetal` (the floor: `true`). A capture on the responder's eth0
      gives query -> answer service times; the responder host's
      RcvbufErrors (/proc/net/snmp, snmp6) and the responder's CPU time
      (schedstat of all its threads) are read before and after.
      pinned: responder on CPU 1, agents on CPU 0; shared: no pinning.
  storm.py flood [--rate Q] [--seconds S] [--check] [--json F]
      h1 floods the responder (ours) with Q queries/s for S s (bounded,
      self-stopping, lab addresses only); h2 looks `baremetal` up every
      0.25 s meanwhile; h3, off-link (198.19.0.7/24), sends unicast and
      multicast legacy queries. Reported: the responder's peak RSS,
      bytes in vs bytes out on its port (multicast / unicast), packets to
      the off-link host, the legitimate lookups' times.

  storm.py timeline PCAP [--bucket-ms B]
      A kept capture as queries and answers per family over time, and the
      order in which the families were answered.

Debugging: STORM_KEEP=PREFIX keeps each storm's capture as
PREFIX.RESPONDER.PLACEMENT.pcap, and the agents' start and end times as
PREFIX.RESPONDER.PLACEMENT.agents.json (a later run overwrites an earlier one);
STORM_DEBUG=1 logs every unanswered first query with its packets;
STORM_PERF=PREFIX records the responder with perf (STORM_PERF_EVENTS=LIST
records those events instead of CPU samples, e.g. sched:sched_switch).

--check turns the targets into an exit status (the CI test at small size,
scripts/tests.d/50-storm.sh). Everything runs in private network
namespaces: started in the machine's own, the script re-runs itself under
`unshare -n` (the harness's namespace is the bridge's).
"""

import argparse
import ctypes
import json
import os
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import in_private_netns  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
LIBC = ctypes.CDLL(None, use_errno=True)
URL = "http://198.18.0.1:6385/baremetal"
INSTANCE = "baremetal._openstack._tcp.local."


def log(msg):
    print("storm: " + msg, file=sys.stderr, flush=True)


def own_network():
    return not in_private_netns()


def sh(cmd, check=True):
    r = subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (cmd[:80], r.stdout.decode()[-400:]))
    return r.stdout.decode()


# ------------------------------------------------------------------ hosts
class Host:
    """A network namespace held by a forked child (dies with the harness)."""

    def __init__(self, i, v4=None, prefix=24):
        self.i = i
        self.v4 = v4 or "198.18.0.%d" % (i + 1)
        self.prefix = prefix
        self.v6 = "fd00:99::%x" % (i + 1)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            if LIBC.unshare(CLONE_NEWNET) != 0:
                os._exit(1)
            os.write(w, b"x")
            while True:
                signal.pause()
        os.close(w)
        if os.read(r, 1) != b"x":
            raise RuntimeError("unshare(CLONE_NEWNET) failed")
        os.close(r)
        self.pid = pid
        self.ns = "/proc/%d/ns/net" % pid

    def sh(self, script, check=True):
        return sh("nsenter --net=%s sh -c '%s'" % (self.ns, script), check)

    def close(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except OSError:
            pass


class Lab:
    """h0..h(n-1) on br0 in the harness's own (private) namespace."""

    def __init__(self, n, extra=()):
        self.hosts = []
        sh("ip link set lo up; ip link add br0 type bridge mcast_snooping 0; ip link set br0 up")
        specs = [(i, None, 24) for i in range(n)] + list(extra)
        batch = []
        for (i, v4, prefix) in specs:
            h = Host(i, v4, prefix)
            self.hosts.append(h)
            h.sh("sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0; "
                 "ip link set lo up")
            batch.append("link add p%d type veth peer name eth0 netns %s" % (i, h.ns))
            batch.append("link set p%d master br0" % i)
            batch.append("link set p%d up" % i)
        self._batch(batch)
        for h in self.hosts:
            h.sh("ip addr add %s/%d dev eth0; ip -6 addr add %s/64 dev eth0 nodad; "
                 "ip link set eth0 multicast on; ip link set eth0 up; "
                 "ip route add 224.0.0.0/4 dev eth0" % (h.v4, h.prefix, h.v6))

    @staticmethod
    def _batch(lines):
        with tempfile.NamedTemporaryFile("w", suffix=".ip") as f:
            f.write("\n".join(lines) + "\n")
            f.flush()
            sh("ip -batch %s" % f.name)

    def close(self):
        for h in self.hosts:
            h.close()


def setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if LIBC.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")
    finally:
        os.close(fd)


def popen_on(host, argv, cpus=None, **kw):
    def pre():
        setns(host.ns)
        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if cpus is not None:
            os.sched_setaffinity(0, cpus)
    return subprocess.Popen(argv, preexec_fn=pre, **kw)


# ------------------------------------------------------------ measurements
def snmp_drops(host):
    """(IPv4 RcvbufErrors, IPv6 Udp6RcvbufErrors) of the host."""
    out = host.sh("cat /proc/net/snmp /proc/net/snmp6")
    v4 = v6 = 0
    lines = out.splitlines()
    for a, b in zip(lines, lines[1:]):
        if a.startswith("Udp:") and b.startswith("Udp:"):
            d = dict(zip(a.split()[1:], b.split()[1:]))
            v4 = int(d.get("RcvbufErrors", 0))
    for line in lines:
        if line.startswith("Udp6RcvbufErrors"):
            v6 = int(line.split()[1])
    return v4, v6


def kernel_drops():
    """Machine-wide: packets dropped for a full per-CPU backlog
    (net.core.netdev_max_backlog; /proc/net/softnet_stat column 2) and
    packets discarded while their neighbour (ARP, ND) was unresolved
    (/proc/net/stat/{arp,ndisc}_cache). Other work on the machine adds to
    them too."""
    backlog = 0
    with open("/proc/net/softnet_stat") as f:
        for line in f:
            backlog += int(line.split()[1], 16)
    unresolved = 0
    for table in ("arp_cache", "ndisc_cache"):
        try:
            with open("/proc/net/stat/" + table) as f:
                head = f.readline().split()
                col = head.index("unresolved_discards")
                for line in f:
                    unresolved += int(line.split()[col], 16)
        except (OSError, ValueError):
            pass
    return backlog, unresolved


def cpu_ns(pids):
    """Of every thread of pids (schedstat): on-CPU nanoseconds, nanoseconds
    runnable but waiting for a CPU, and the number of times it was run."""
    total = [0, 0, 0]
    for pid in pids:
        try:
            for tid in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    for k, v in enumerate(f.read().split()[:3]):
                        total[k] += int(v)
        except OSError:
            pass
    return total


def rss_kib(pid, key="VmRSS"):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Capture:
    """tcpdump on a host's eth0, port 5353, to a pcap file."""

    def __init__(self, host, path, cpus=None):
        self.path = path
        # --immediate-mode: without it libpcap reads a TPACKET_V3 ring, whose
        # blocks reach tcpdump only when full or when the 1 s block timer
        # retires them; on SIGINT tcpdump exits without reading the block
        # being filled, so the storm's last packets (mostly the answers)
        # were in "received by filter" but not in the file.
        self.p = popen_on(host, ["tcpdump", "-i", "eth0", "-n", "-U", "--immediate-mode",
                                 "-B", "16384", "-s", "256",
                                 "-w", path, "udp", "port", "5353"], cpus=cpus,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        line = self.p.stderr.readline().decode()
        if "listening" not in line:
            raise RuntimeError("tcpdump: " + line)

    def stop(self):
        """The packets, and how many the filter matched that are not in
        the file (dropped by the kernel for a full buffer, or never read)."""
        time.sleep(0.3)
        self.p.send_signal(signal.SIGINT)
        err = self.p.communicate(timeout=10)[1].decode()
        stats = {}
        for line in err.splitlines():
            for key in ("captured", "received by filter", "dropped by kernel"):
                if line.endswith("packets " + key):
                    stats[key] = int(line.split()[0])
        pkts = read_pcap(self.path)
        if "received by filter" not in stats:
            raise RuntimeError("tcpdump printed no statistics: " + err[-300:])
        missed = max(stats["received by filter"] - len(pkts), stats.get("dropped by kernel", 0))
        return pkts, missed


def read_pcap(path):
    """[(t, src_ip, sport, dst_ip, dport, dns_id, is_response, udp_len)]."""
    pkts = []
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return pkts
    magic = struct.unpack("<I", data[:4])[0]
    nano = magic == 0xA1B23C4D
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        t = sec + frac / (1e9 if nano else 1e6)
        if len(frame) < 14:
            continue
        et = struct.unpack("!H", frame[12:14])[0]
        ip = frame[14:]
        if et == 0x0800 and len(ip) >= 20:
            ihl = (ip[0] & 15) * 4
            src, dst = socket.inet_ntop(socket.AF_INET, ip[12:16]), socket.inet_ntop(socket.AF_INET, ip[16:20])
            udp = ip[ihl:] if ip[9] == 17 else b""
        elif et == 0x86DD and len(ip) >= 40:
            src, dst = socket.inet_ntop(socket.AF_INET6, ip[8:24]), socket.inet_ntop(socket.AF_INET6, ip[24:40])
            udp = ip[40:] if ip[6] == 17 else b""
        else:
            continue
        if len(udp) < 8 + 4:
            continue
        sport, dport, ulen = struct.unpack("!HHH", udp[:6])
        dns_id, flags = struct.unpack("!HH", udp[8:12])
        pkts.append((t, src, sport, dst, dport, dns_id, bool(flags & 0x8000), ulen))
    return pkts


def is_group(a):
    return a in ("224.0.0.251", "ff02::fb")


def service_times(pkts, responder_ips):
    """Per agent source (v4 / v6): the first query's service time (s), or
    None when nothing answered it before the capture ended. An answer is
    one the querier can hear: sent to its address and port, or multicast
    to the group of its family when it asked from port 5353 (a one-shot
    querier on an ephemeral port never hears the group, RFC 6762 s6.7)."""
    queries, answers = [], []
    for p in pkts:
        t, src, sport, dst, dport, qid, resp, _ = p
        if resp and src in responder_ips:
            answers.append(p)
        elif not resp and src not in responder_ips:
            queries.append(p)
    first = {}
    for q in queries:
        if q[1] not in first:
            first[q[1]] = q
    out = {}
    for src, q in first.items():
        t, _, sport, _, _, qid, _, _ = q
        got = None
        for a in answers:
            if a[0] < t:
                continue
            direct = a[3] == src and a[4] == sport and (a[5] == qid or sport == 5353)
            heard = sport == 5353 and is_group(a[3]) and (":" in a[3]) == (":" in src)
            if direct or heard:
                got = a[0] - t
                break
        out[src] = got
    return out


def pct(vals, p):
    vals = sorted(vals)
    if not vals:
        return None
    k = min(len(vals) - 1, max(0, int(round(p / 100.0 * len(vals) + 0.5)) - 1))
    return vals[k]


# --------------------------------------------------------------- responders
class Responder:
    def __init__(self, kind, host, tmp, cpus, venv):
        self.kind, self.procs, self.pids, self.avahi_dir = kind, [], [], None
        env = dict(os.environ)
        if kind.startswith("ours"):
            # ours@PATH: another build of ironic-mdns as the responder.
            binary = kind.split("@", 1)[1] if "@" in kind else BIN
            p = popen_on(host, [binary, "register", "baremetal", URL], cpus=cpus,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            self.procs.append(p)
            if not p.stdout.readline().startswith(b"registered"):
                raise RuntimeError("ironic-mdns register did not register")
            self.pids = [p.pid]
        elif kind == "ref":
            p = popen_on(host, [os.path.join(venv, "bin", "python"), os.path.join(HERE, "ref_bench.py"),
                                "register", "baremetal", URL], cpus=cpus,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            self.procs.append(p)
            while True:
                line = p.stdout.readline()
                if not line:
                    raise RuntimeError("ref_bench.py register ended")
                if b"ready" in line:
                    break
                if b"failed" in line:
                    raise RuntimeError(line.decode())
            self.pids = [p.pid]
        elif kind == "avahi":
            self.avahi_dir = tempfile.mkdtemp(prefix="avahi-", dir=tmp)
            script = os.path.join(ROOT, "tests", "peers", "avahi_host.sh")
            r = popen_on(host, [script, "start", self.avahi_dir, "eth0"], cpus=cpus,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            out = r.communicate(timeout=60)[0].decode()
            if r.returncode != 0:
                raise RuntimeError("avahi_host.sh: " + out[-300:])
            with open(os.path.join(self.avahi_dir, "avahi.pid")) as f:
                self.pids = [int(f.read())]
            env["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=%s/system_bus_socket" % self.avahi_dir
            p = popen_on(host, ["avahi-publish-service", "-s", "baremetal", "_openstack._tcp", "6385",
                                "path=/baremetal"], cpus=cpus, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            self.procs.append(p)
            while True:
                line = p.stdout.readline()
                if not line:
                    raise RuntimeError("avahi-publish-service ended")
                if b"Established" in line:
                    break
        self.host = host

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if self.avahi_dir:
            script = os.path.join(ROOT, "tests", "peers", "avahi_host.sh")
            subprocess.run(["nsenter", "--net=" + self.host.ns, script, "stop", self.avahi_dir],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# ------------------------------------------------------------------ agents
def arm_agents(hosts, argv, fifo, outdir, cpus):
    """Fork one waiter per host: it enters the namespace, blocks on the
    FIFO, then times its command. Returns the pids."""
    pids = []
    for h in hosts:
        pid = os.fork()
        if pid == 0:
            try:
                LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                setns(h.ns)
                if cpus is not None:
                    os.sched_setaffinity(0, cpus)
                fd = os.open(fifo, os.O_RDONLY)
                os.read(fd, 1)
                os.close(fd)
                t0 = time.time()
                out = os.open(os.path.join(outdir, "%d.out" % h.i), os.O_WRONLY | os.O_CREAT, 0o644)
                child = os.fork()
                if child == 0:
                    os.dup2(out, 1)
                    devnull = os.open(os.devnull, os.O_WRONLY)
                    os.dup2(devnull, 2)
                    os.execv(argv[0], argv)
                _, status = os.waitpid(child, 0)
                t1 = time.time()
                with open(os.path.join(outdir, "%d.json" % h.i), "w") as f:
                    json.dump({"start": t0, "end": t1, "status": status}, f)
            finally:
                os._exit(0)
        pids.append(pid)
    return pids


def storm_once(lab, kind, placement, n, tmp, venv):
    resp_cpus = {1} if placement == "pinned" else None
    agent_cpus = {0} if placement == "pinned" else None
    h0, agents = lab.hosts[0], lab.hosts[1:n + 1]
    responder = None
    if kind != "floor":
        responder = Responder(kind, h0, tmp, resp_cpus, venv)
        # A warm-up lookup from the last agent: the responder answers.
        r = popen_on(agents[-1], [BIN, "lookup", "baremetal"], stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL)
        out = r.communicate(timeout=30)[0].decode()
        if not out.startswith(("http://", "https://")):
            log("warm-up lookup against %s found %r" % (kind, out))
        time.sleep(1.5)
    run = tempfile.mkdtemp(prefix="run-", dir=tmp)
    fifo = os.path.join(run, "go")
    os.mkfifo(fifo)
    argv = [BIN, "lookup", "baremetal"] if kind != "floor" else ["/bin/true"]
    # Every responder meets the agents as strangers, as after a real boot:
    # the lab is shared by the runs, and neighbour (ARP, ND) entries left
    # by an earlier responder's unicast answers made the next one's free
    # (they cost the first one 80% of its CPU: each ARP request is flooded
    # to every agent's namespace in the sender's softirq).
    for h in [h0] + agents:
        h.sh("ip -4 neigh flush all; ip -6 neigh flush all")
    cap = Capture(h0, os.path.join(run, "cap.pcap")) if kind != "floor" else None
    drops0 = snmp_drops(h0)
    kdrops0 = kernel_drops()
    cpu0 = cpu_ns(responder.pids) if responder else [0, 0, 0]
    waiters = arm_agents(agents, argv, fifo, run, agent_cpus)
    perf = None
    if os.environ.get("STORM_PERF") and responder:
        events = os.environ.get("STORM_PERF_EVENTS", "")
        perf = subprocess.Popen(["perf", "record", "-q", "-F", "4000", "-g"]
                                + (["-e", events] if events else []) + ["-o",
                                 os.environ["STORM_PERF"] + "." + kind + "." + placement,
                                 "-p", ",".join(map(str, responder.pids))],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
    time.sleep(0.5 + n * 0.01)  # every waiter blocked in open()
    t_release = time.time()
    fd = os.open(fifo, os.O_WRONLY)
    os.close(fd)
    for pid in waiters:
        os.waitpid(pid, 0)
    t_done = time.time()
    time.sleep(0.5)
    cpu1 = cpu_ns(responder.pids) if responder else [0, 0, 0]
    if perf:
        perf.send_signal(signal.SIGINT)
        perf.wait()
    drops1 = snmp_drops(h0)
    kdrops1 = kernel_drops()
    pkts, cap_dropped = cap.stop() if cap else ([], 0)
    if cap and os.environ.get("STORM_KEEP"):
        subprocess.run(["cp", cap.path, "%s.%s.%s.pcap" % (os.environ["STORM_KEEP"], kind, placement)])
    if responder:
        responder.stop()
    e2e, found, ends = [], 0, []
    for h in agents:
        try:
            with open(os.path.join(run, "%d.json" % h.i)) as f:
                r = json.load(f)
            with open(os.path.join(run, "%d.out" % h.i)) as f:
                text = f.read()
        except (OSError, ValueError):
            continue
        e2e.append(r["end"] - t_release)
        if os.environ.get("STORM_KEEP"):
            if not hasattr(h, "ll"):
                h.ll = sorted(link_local(h))
            ends.append({"v4": h.v4, "v6": h.v6, "ll": h.ll, "start": r["start"], "end": r["end"]})
        ok = r["status"] == 0 and (kind == "floor" or text.startswith(("http://", "https://")))
        found += ok
    if os.environ.get("STORM_KEEP"):
        with open("%s.%s.%s.agents.json" % (os.environ["STORM_KEEP"], kind, placement), "w") as f:
            json.dump({"release": t_release, "agents": ends}, f)
    res = {"responder": kind, "placement": placement, "agents": n, "found": found,
           "e2e_median_s": statistics.median(e2e) if e2e else None,
           "e2e_max_s": max(e2e) if e2e else None, "wall_s": t_done - t_release,
           "backlog_drops": kdrops1[0] - kdrops0[0], "unresolved_discards": kdrops1[1] - kdrops0[1]}
    if kind != "floor":
        ips = {h0.v4, h0.v6} | link_local(h0)
        st = service_times(pkts, ips)
        if os.environ.get("STORM_DEBUG"):
            for src, v in st.items():
                if v is None:
                    log("unanswered first query from %s: %s" % (
                        src, [p for p in pkts if src in (p[1], p[3])][:6]))
        for fam, is6 in (("v4", False), ("v6", True)):
            vals = [v for s, v in st.items() if (":" in s) == is6]
            answered = [v for v in vals if v is not None]
            res[fam] = {"agents_asking": len(vals), "first_answered": len(answered),
                        "median_ms": pct(answered, 50) * 1e3 if answered else None,
                        "p95_ms": pct(answered, 95) * 1e3 if answered else None}
        res["answers_unicast"] = sum(1 for p in pkts if p[6] and p[1] in ips and not is_group(p[3]))
        res["answers_multicast"] = sum(1 for p in pkts if p[6] and p[1] in ips and is_group(p[3]))
        res["rcvbuf_drops_v4"] = drops1[0] - drops0[0]
        res["rcvbuf_drops_v6"] = drops1[1] - drops0[1]
        res["cpu_ms"] = (cpu1[0] - cpu0[0]) / 1e6
        res["runqueue_wait_ms"] = (cpu1[1] - cpu0[1]) / 1e6
        res["times_run"] = cpu1[2] - cpu0[2]
        res["capture_missed"] = cap_dropped
    return res


def link_local(host):
    out = host.sh("ip -6 -o addr show dev eth0 scope link")
    return {w.split("/")[0] for line in out.splitlines() for w in line.split()[3:4]}


def storm(args):
    kinds = args.responders.split(",")
    places = args.placements.split(",")
    tmp = tempfile.mkdtemp(prefix="ironicmdns-storm-")
    lab = Lab(args.agents + 1)
    results = []
    try:
        for run in range(args.runs):
            for placement in places:
                for kind in kinds:
                    try:
                        r = storm_once(lab, kind, placement, args.agents, tmp, args.venv)
                    except Exception as e:  # one stack failing does not end the run
                        r = {"responder": kind, "placement": placement, "error": str(e)}
                    r["run"] = run
                    log(json.dumps(r))
                    results.append(r)
    finally:
        lab.close()
        subprocess.run(["rm", "-rf", tmp])
    return results


def storm_table(results):
    """A markdown table: per placement and responder, the median over runs
    of each figure (min-max in brackets when several runs)."""
    def cell(vals, fmt):
        vals = [v for v in vals if v is not None]
        if not vals:
            return "-"
        med = fmt % statistics.median(vals)
        return med if len(vals) == 1 else "%s (%s-%s)" % (med, fmt % min(vals), fmt % max(vals))
    rows = ["| placement | responder | found | first queries answered v4 / v6 | service median v4 / v6 | "
            "service p95 v4 / v6 | end to end median | RcvbufErrors v4 / v6 | responder CPU / run-queue wait | "
            "backlog drops, unresolved-neighbour discards (machine) |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    keys = []
    for r in results:
        k = (r.get("placement"), r.get("responder"))
        if k not in keys:
            keys.append(k)
    for k in keys:
        rs = [r for r in results if (r.get("placement"), r.get("responder")) == k and "error" not in r]
        if not rs:
            err = [r["error"] for r in results if (r.get("placement"), r.get("responder")) == k][0]
            rows.append("| %s | %s | failed: %s ||||||||" % (k[0], k[1], err[:80]))
            continue
        def fam(f, key, fmt="%.0f ms"):
            return cell([r[f][key] for r in rs if f in r], fmt)
        answered = ", ".join("%d/%d / %d/%d" % (r["v4"]["first_answered"], r["v4"]["agents_asking"],
                                                r["v6"]["first_answered"], r["v6"]["agents_asking"])
                             for r in rs if "v4" in r) or "-"
        drops = ", ".join("%d / %d" % (r["rcvbuf_drops_v4"], r["rcvbuf_drops_v6"])
                          for r in rs if "rcvbuf_drops_v4" in r) or "-"
        rows.append("| %s | %s | %s | %s | %s / %s | %s / %s | %s | %s | %s | %s |" % (
            k[0], k[1].split("@")[0] + (" (before)" if "@" in k[1] else ""),
            ", ".join("%d/%d" % (r["found"], r["agents"]) for r in rs), answered,
            fam("v4", "median_ms"), fam("v6", "median_ms"), fam("v4", "p95_ms"), fam("v6", "p95_ms"),
            cell([r["e2e_median_s"] for r in rs], "%.2f s"), drops,
            cell([r.get("cpu_ms") for r in rs], "%.0f ms") + " / "
            + cell([r.get("runqueue_wait_ms") for r in rs], "%.0f ms"),
            ", ".join("%d, %d" % (r["backlog_drops"], r["unresolved_discards"]) for r in rs)))
    return "\n".join(rows)


def storm_check(results):
    bad = []
    for r in results:
        if r.get("responder") != "ours":
            continue
        if "error" in r:
            bad.append(r["error"])
            continue
        if r["found"] != r["agents"]:
            bad.append("%s: found %d/%d" % (r["placement"], r["found"], r["agents"]))
        for fam in ("v4", "v6"):
            f = r[fam]
            # An agent that resolved from another's multicast answer never asks.
            if f["agents_asking"] == 0 or f["first_answered"] != f["agents_asking"]:
                bad.append("%s %s: %d of %d agents' first queries answered"
                           % (r["placement"], fam, f["first_answered"], f["agents_asking"]))
        if r["capture_missed"]:
            # Not a verdict on the responder: the capture is incomplete.
            bad.append("%s: capture incomplete, %d matched packets not in the file"
                       % (r["placement"], r["capture_missed"]))
        if r["rcvbuf_drops_v4"] or r["rcvbuf_drops_v6"]:
            bad.append("%s: receive-buffer drops v4 %d v6 %d" % (r["placement"], r["rcvbuf_drops_v4"],
                                                                 r["rcvbuf_drops_v6"]))
    return bad


# ------------------------------------------------------------------- flood
FLOOD_SRC = r"""
import os, socket, struct, sys, time
rate, secs, kind = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
def q(name, qtype, qu):
    out = b"".join(bytes([len(l)]) + l.encode() for l in name.strip(".").split(".")) + b"\0"
    return out + struct.pack("!HH", qtype, 0x8001 if qu else 1)
inst = "baremetal._openstack._tcp.local."
pkts = []
for i, (qt, qu) in enumerate([(33, False), (16, True), (255, False), (12, False)]):
    name = "_openstack._tcp.local." if qt == 12 else inst
    pkts.append(struct.pack("!6H", i + 1, 0, 1, 0, 0, 0) + q(name, qt, qu))
s5353 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s5353.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s5353.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s5353.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
s5353.bind(("0.0.0.0", 5353))
seph = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
seph.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
for s in (s5353, seph):
    s.setblocking(False)
dsts = {"group": ("224.0.0.251", 5353), "unicast": (sys.argv[4], 5353)}
total = int(rate * secs)
t0 = time.monotonic()
sent = nbytes = 0
while sent < total and time.monotonic() - t0 < secs + 2:
    due = int((time.monotonic() - t0) * rate) + 1
    while sent < min(due, total):
        p = pkts[sent % len(pkts)]
        sock = seph if sent % 3 == 2 else s5353
        dst = dsts["unicast"] if kind == "offlink" and sent % 2 else dsts["group"]
        if kind == "offlink":
            sock = seph if sent % 2 else s5353
        try:
            sock.sendto(p, dst)
            nbytes += len(p)
        except OSError:
            pass
        sent += 1
    time.sleep(0.0005)
print(sent, nbytes, flush=True)
"""


def flood(args):
    tmp = tempfile.mkdtemp(prefix="ironicmdns-flood-")
    # h0 responder, h1 flooder, h2 legitimate querier, h3 off-link host.
    lab = Lab(3, extra=[(3, "198.19.0.7", 24)])
    h0, h1, h2, h3 = lab.hosts
    # The responder could reach the off-link host (so nothing but the rule
    # stops an answer), and h3 routes to the responder's subnet.
    h0.sh("ip route add 198.19.0.0/24 dev eth0")
    h3.sh("ip route add 198.18.0.0/24 dev eth0")
    res = {"rate": args.rate, "seconds": args.seconds}
    try:
        resp = Responder("ours", h0, tmp, None, args.venv)
        pid = resp.pids[0]
        time.sleep(1.5)
        rss0 = rss_kib(pid)
        cap = Capture(h0, os.path.join(tmp, "cap.pcap"))
        drops0 = snmp_drops(h0)
        fl = popen_on(h1, [sys.executable, "-c", FLOOD_SRC, str(args.rate), str(args.seconds), "onlink",
                           h0.v4], stdout=subprocess.PIPE)
        off = popen_on(h3, [sys.executable, "-c", FLOOD_SRC, "200", str(args.seconds), "offlink",
                            h0.v4], stdout=subprocess.PIPE)
        times, peak = [], rss0
        t_end = time.time() + args.seconds
        time.sleep(0.3)
        while time.time() < t_end - 0.3:
            t = time.time()
            r = popen_on(h2, [BIN, "lookup", "baremetal", "--lookup-attempts", "1",
                              "--lookup-timeout", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            out = r.communicate(timeout=30)[0].decode()
            times.append((time.time() - t) if out.startswith("http://") else None)
            peak = max(peak, rss_kib(pid))
            time.sleep(0.25)
        sent = fl.communicate(timeout=args.seconds + 30)[0].split()
        off.communicate(timeout=args.seconds + 30)
        peak = max(peak, rss_kib(pid))
        drops1 = snmp_drops(h0)
        pkts, cap_dropped = cap.stop()
        resp.stop()
    finally:
        lab.close()
        subprocess.run(["rm", "-rf", tmp])
    resp_ips = {h0.v4, h0.v6}
    b_in = sum(p[7] for p in pkts if p[1] == h1.v4)
    out_mc = sum(p[7] for p in pkts if p[1] in resp_ips and is_group(p[3]))
    out_uc_flooder = sum(p[7] for p in pkts if p[1] in resp_ips and p[3] == h1.v4)
    to_off = sum(1 for p in pkts if p[1] in resp_ips and p[3] == h3.v4)
    from_off = sum(1 for p in pkts if p[1] == h3.v4)
    ok = [t for t in times if t is not None]
    res.update({"flood_sent": int(sent[0]) if sent else 0, "flood_bytes_in": b_in,
                "bytes_out_multicast": out_mc, "bytes_out_unicast_to_flooder": out_uc_flooder,
                "amplification": (out_mc + out_uc_flooder) / b_in if b_in else None,
                "offlink_queries_seen": from_off, "packets_to_offlink": to_off,
                "rss_start_kib": rss0, "rss_peak_kib": peak,
                "lookups": len(times), "lookups_found": len(ok),
                "lookup_max_s": max(ok) if ok else None,
                "lookup_median_s": statistics.median(ok) if ok else None,
                "rcvbuf_drops": [drops1[0] - drops0[0], drops1[1] - drops0[1]],
                "capture_missed": cap_dropped})
    log(json.dumps(res))
    return res


def flood_check(r):
    bad = []
    if r["lookups"] == 0 or r["lookups_found"] != r["lookups"] or r["lookup_max_s"] > 1.0:
        bad.append("legitimate lookups: %d/%d found, slowest %s s"
                   % (r["lookups_found"], r["lookups"], r["lookup_max_s"]))
    if r["packets_to_offlink"] or not r["offlink_queries_seen"]:
        bad.append("off-link host: %d queries seen, %d packets sent to it"
                   % (r["offlink_queries_seen"], r["packets_to_offlink"]))
    if r["amplification"] is None or r["amplification"] > 1.0:
        bad.append("bytes out / bytes in = %s" % r["amplification"])
    if r["capture_missed"]:
        bad.append("capture incomplete: %d matched packets not in the file" % r["capture_missed"])
    if r["rss_peak_kib"] > r["rss_start_kib"] + 4096:
        bad.append("RSS grew from %d to %d KiB" % (r["rss_start_kib"], r["rss_peak_kib"]))
    return bad


def timeline(path, bucket_ms, responder_ips):
    """A kept capture (STORM_KEEP) as a table: per time bucket from the
    first query, queries and answers per family, then the families of the
    answers in the order sent, run-length encoded (`6x180 4x200`: 180 IPv6
    answers, then 200 IPv4 ones)."""
    pkts = read_pcap(path)
    ips = set(responder_ips.split(","))
    ips |= {p[1] for p in pkts if p[6] and p[1].startswith("fe80")}
    queries = [p for p in pkts if not p[6] and p[1] not in ips]
    answers = [p for p in pkts if p[6] and p[1] in ips]
    if not queries:
        return "no queries in %s" % path
    t0 = min(p[0] for p in queries)
    rows = {}
    for col, group in ((0, queries), (2, answers)):
        for p in group:
            if p[0] >= t0:
                k = int((p[0] - t0) * 1e3 // bucket_ms)
                rows.setdefault(k, [0, 0, 0, 0])[col + (":" in p[1])] += 1
    out = ["| ms from the first query | queries v4 | queries v6 | answers v4 | answers v6 |",
           "|---|---|---|---|---|"]
    out += ["| %d | %d | %d | %d | %d |" % (k * bucket_ms, *rows[k]) for k in sorted(rows)]
    runs = []
    for p in sorted(answers):
        fam = "6" if ":" in p[1] else "4"
        if runs and runs[-1][0] == fam:
            runs[-1][1] += 1
        else:
            runs.append([fam, 1])
    out.append("")
    out.append("answers in the order sent: " + " ".join("%sx%d" % (f, n) for f, n in runs))
    return "\n".join(out)


def main():
    global BIN
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["storm", "flood", "timeline"])
    ap.add_argument("pcap", nargs="?", help="timeline: a capture kept by STORM_KEEP")
    ap.add_argument("--bucket-ms", type=float, default=50)
    ap.add_argument("--responder-ips", default="198.18.0.1,fd00:99::1")
    ap.add_argument("--agents", type=int, default=200)
    ap.add_argument("--responders", default="floor,ours,ref,avahi")
    ap.add_argument("--placements", default="pinned,shared")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--rate", type=float, default=10000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "ironic-mdns"))
    ap.add_argument("--venv", default=os.environ.get("BENCH_VENV", os.path.join(ROOT, ".venv")))
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.mode == "timeline":
        # Reads a file; no network, no namespace.
        if not args.pcap:
            sys.exit("storm.py timeline PCAP")
        print(timeline(args.pcap, args.bucket_ms, args.responder_ips))
        return
    if own_network() or os.environ.get("STORM_INNER") != "1":
        # A fresh private namespace (the bridge's) for every run; as an
        # ordinary user inside a user namespace of its own.
        os.environ["STORM_INNER"] = "1"
        os.environ["IRONICMDNS_OUTER_NETNS"] = os.readlink("/proc/self/ns/net")
        flags = "-n" if os.geteuid() == 0 else "-rn"
        os.execvp("unshare", ["unshare", flags, sys.executable] + sys.argv)
    if own_network():
        sys.exit("storm.py: still in the machine's own network namespace; refusing")
    if args.agents < 1 or args.agents > 250:
        sys.exit("storm.py: --agents must be 1..250 (one /24)")
    if args.rate <= 0 or args.rate > 20000 or args.seconds <= 0 or args.seconds > 60:
        sys.exit("storm.py: --rate 1..20000 and --seconds up to 60 (bounded flood)")
    BIN = os.path.abspath(args.bin)
    if not os.access(BIN, os.X_OK):
        sys.exit("storm.py: no %s (cargo build --release)" % BIN)
    if args.mode == "storm":
        out = storm(args)
        print(storm_table(out))
        bad = storm_check(out) if args.check else []
    else:
        out = flood(args)
        bad = flood_check(out) if args.check else []
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    if args.check:
        for b in bad:
            print("storm.py: FAILED: " + b)
        print("storm.py %s: %s" % (args.mode, "FAILED" if bad else "ok"))
        sys.exit(1 if bad else 0)


BIN = None
if __name__ == "__main__":
    main()
