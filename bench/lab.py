"""Lab pieces for bench/bench.py: child processes with timed output lines,
private hosts (network namespaces on a veth, docs/LAB.md), Avahi hosts
(tests/peers/avahi_host.sh), /proc readings, and the statistics cells.
Only ever used inside the private namespace bench/run.sh makes."""

import json
import os
import queue
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes
class Proc:
    """A child whose stdout lines are collected, with arrival times."""

    def __init__(self, argv, env=None, stderr=subprocess.DEVNULL, merge=False):
        self.argv = argv
        self.t_spawn = time.time()
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                  stderr=subprocess.STDOUT if merge else stderr, env=env)
        self.lines = queue.Queue()
        self.all = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.p.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.all.append(line)
            self.lines.put((time.time(), line))
        self.lines.put((time.time(), None))

    def expect(self, pred, timeout):
        """(time, line) of the first line with pred(line), else None."""
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                return None
            try:
                t, line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                self.lines.put((t, None))
                return None
            if pred(line):
                return t, line

    def json(self, key, timeout):
        """The first JSON line holding key, as a dict, else None."""
        def has(line):
            try:
                return key in json.loads(line)
            except ValueError:
                return False
        got = self.expect(has, timeout)
        return json.loads(got[1]) if got else None

    def stop(self, sig=signal.SIGTERM, timeout=5):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.p.returncode


def proc_status(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def wakeups(pid):
    """Context switches of every thread of pid (each is a wake-up)."""
    total = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
    except OSError:
        pass
    return total


def cpu_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError):
        return 0


def sh(cmd, check=True):
    return subprocess.run(cmd, shell=True, check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT).stdout.decode()


# -------------------------------------------------------------------- hosts
class Host:
    """A private network namespace (a pausing process under `unshare -n`) joined to
    host A by a veth pair a<N> (in A) / b<N> (in it)."""

    def __init__(self, n, with_v6=False):
        self.n = n
        # The namespace lives as long as this holder; a python pause rather
        # than `sleep infinity`, which a broad clean-up elsewhere may kill.
        self.sleeper = subprocess.Popen(["unshare", "-n", sys.executable, "-c",
                                         "import signal; signal.pause()", "ironicmdns-bench-host"])
        me = os.readlink("/proc/self/ns/net")
        while os.readlink("/proc/%d/ns/net" % self.sleeper.pid) == me:
            time.sleep(0.01)
        self.ns = "/proc/%d/ns/net" % self.sleeper.pid
        self.a_if, self.b_if = "a%d" % n, "b%d" % n
        self.a_ip, self.b_ip = "198.18.%d.1" % n, "198.18.%d.2" % n
        sh("ip link add %s type veth peer name %s && ip link set %s netns %s"
           % (self.a_if, self.b_if, self.b_if, self.ns))
        sh("ip addr add %s/24 dev %s && ip link set %s multicast on && ip link set %s up"
           % (self.a_ip, self.a_if, self.a_if, self.a_if))
        inner = ("ip link set lo up; ip addr add %s/24 dev %s; ip link set %s multicast on; "
                 "ip link set %s up; ip route add 224.0.0.0/4 dev %s"
                 % (self.b_ip, self.b_if, self.b_if, self.b_if, self.b_if))
        if with_v6:
            sh("ip -6 addr add fd00:99::1/64 dev %s nodad" % self.a_if)
            inner += "; ip -6 addr add fd00:99::2/64 dev %s nodad" % self.b_if
        sh("nsenter --net=%s sh -c %s" % (self.ns, shlex.quote(inner)))

    def wrap(self, argv):
        if self.sleeper.poll() is not None:
            raise RuntimeError("host %d vanished: its namespace holder was killed" % self.n)
        return ["nsenter", "--net=" + self.ns] + list(argv)

    def close(self):
        self.sleeper.kill()
        self.sleeper.wait()


class Avahi:
    """One avahi-daemon (+ private D-Bus) on a host, via avahi_host.sh."""

    def __init__(self, bench, host, iface):
        self.dir = tempfile.mkdtemp(prefix="avahi-", dir=bench.tmp)
        argv = [bench.avahi_host, "start", self.dir, iface]
        out = subprocess.run(host.wrap(argv) if host else argv, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=30)
        if out.returncode != 0:
            raise RuntimeError("avahi_host.sh: " + out.stdout.decode()[-300:])
        self.env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS="unix:path=%s/system_bus_socket" % self.dir)
        with open(os.path.join(self.dir, "avahi.pid")) as f:
            self.pid = int(f.read())


# -------------------------------------------------------------- statistics
def stats(values):
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "us" and v >= 1000:
        unit, v = "ms", v / 1000
    if unit == "ms":
        return "%.3g ms" % v if v < 1000 else "%.3g s" % (v / 1000)
    if unit == "us":
        return "%.3g us" % v
    if unit == "MiB":
        return "%.3g MiB" % v
    return "%.3g %s" % (v, unit)


def in_private_netns():
    """Fail closed: true only in a network namespace other than the one
    the launcher (bench/run*.sh, storm.py) recorded in IRONICMDNS_OUTER_NETNS
    before `unshare`, and other than PID 1's when that is readable (it is not
    always, not even as root)."""
    own = os.readlink("/proc/self/ns/net")
    outer = os.environ.get("IRONICMDNS_OUTER_NETNS", "")
    if not outer or outer == own:
        return False
    try:
        return own != os.readlink("/proc/1/ns/net")
    except OSError:
        return True


class Cell:
    """One stack's result for one row: stats, or why there is none."""

    def __init__(self, values=None, unit="ms", note="", missing=None, extra=""):
        self.s = stats(values) if values else None
        self.unit, self.note, self.missing, self.extra = unit, note, missing, extra

    def text(self):
        if self.s is None:
            return self.missing or "n/a"
        s = self.s
        if s["n"] == 1:
            body = fmt(s["median"], self.unit)
        else:
            body = "%s (%s-%s, n=%d)" % (fmt(s["median"], self.unit), fmt(s["min"], self.unit),
                                         fmt(s["max"], self.unit), s["n"])
        return body + (" " + self.extra if self.extra else "") + (" " + self.note if self.note else "")
