"""Private hosts for the ironicmdns tests (docs/LAB.md), never the real network.

The whole pytest run is host A: scripts/tests.d/20-python.sh starts it in a
fresh network namespace (`unshare -n`, or `unshare -rn` as a user). The
`hosts` fixture adds host B (a namespace held by a sleeping child) joined
by a veth: A = 198.18.0.1 / fd00:99::1 on va, B = 198.18.0.2 / fd00:99::2
on vb. `hosts.on_b(argv)` starts a process on B. Everything on B dies with
the fixture.

If this process is not in a private network namespace (it sees more than
`lo`), the network tests are skipped, or fail with
IRONICMDNS_REQUIRE_NETNS=1: nothing here ever sends on a real network.
"""

import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PEERS = os.path.join(ROOT, "tests", "peers")
HELPERS = os.path.join(HERE, "helpers")
A4, B4 = "198.18.0.1", "198.18.0.2"
A6, B6 = "fd00:99::1", "fd00:99::2"


def _private_namespace():
    """A private namespace made for us has only `lo` (until we add va)."""
    with open("/proc/self/net/dev") as f:   # this namespace's, unlike /sys
        names = {line.split(":")[0].strip() for line in f.readlines()[2:]}
    return names <= {"lo", "va"}, sorted(names)


def _sh(cmd):
    subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


@pytest.fixture(scope="session")
def netns():
    ok, names = _private_namespace()
    if not ok:
        why = ("network test skipped: not in a private network namespace "
               "(interfaces %s); run scripts/tests.d/20-python.sh" % names)
        if os.environ.get("IRONICMDNS_REQUIRE_NETNS") == "1":
            pytest.fail(why)
        pytest.skip(why)
    _sh("ip link set lo up; ip link set lo multicast on")
    return True


class Hosts:
    def __init__(self):
        self.b = subprocess.Popen(["unshare", "-n", "sleep", "infinity"])
        self.children = []
        ns = "/proc/%d/ns/net" % self.b.pid
        for _ in range(100):   # until unshare has switched namespaces
            if os.readlink(ns) != os.readlink("/proc/self/ns/net"):
                break
            time.sleep(0.01)
        self.ns = ns
        _sh("ip link add va type veth peer name vb; ip link set vb netns %s; "
            "ip addr add %s/24 dev va; ip -6 addr add %s/64 dev va nodad; "
            "ip link set va multicast on; ip link set va up; "
            "ip route add 224.0.0.0/4 dev va" % (ns, A4, A6))
        _sh("nsenter --net=%s sh -c 'ip link set lo up; ip addr add %s/24 dev vb; "
            "ip -6 addr add %s/64 dev vb nodad; ip link set vb multicast on; "
            "ip link set vb up; ip route add 224.0.0.0/4 dev vb'" % (ns, B4, B6))
        # link-local addresses and routes settle
        time.sleep(0.3)

    def on_b(self, argv, **kw):
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        kw.setdefault("text", True)
        p = subprocess.Popen(["nsenter", "--net=" + self.ns] + list(argv), **kw)
        self.children.append(p)
        return p

    def run_b(self, argv, timeout=60, **kw):
        p = self.on_b(argv, **kw)
        out, err = p.communicate(timeout=timeout)
        return p.returncode, out, err

    def close(self):
        for p in self.children:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.b.kill()
        self.b.wait()
        subprocess.run(["ip", "link", "del", "va"], stderr=subprocess.DEVNULL)


@pytest.fixture
def hosts(netns):
    h = Hosts()
    try:
        yield h
    finally:
        h.close()


def python_argv(script, *args):
    """argv running a helper with this interpreter (the venv's)."""
    return [sys.executable, script] + [str(a) for a in args]


def run_a(argv, timeout=60, **kw):
    """A process on host A (this namespace)."""
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)


def wait_line(proc, want, timeout=30):
    """Read proc's stdout until a line starting with `want`; returns it."""
    deadline = time.time() + timeout
    lines = []
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith(want):
            return line.strip()
    proc.kill()
    raise AssertionError("no %r from %s: stdout %r stderr %r"
                         % (want, proc.args, lines, proc.stderr.read()))
