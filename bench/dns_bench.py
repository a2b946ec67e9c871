"""Unicast DNS-SD rows of the benchmark (docs/DNS.md), run by bench/run_dns.sh
inside a fresh network namespace (host A); refuses the machine's own.

Host B (a private namespace on a veth, bench/lab.py) runs BIND 9 (`named
-g`, started and stopped here by PID) with the dynamic zone example.test and
the TSIG key of tests/dns/servers.rs. `baremetal` is published there by
nsupdate; the rows look it up from host A:

  in-call lookup    mdns-bench lookup ours (Zeroconf::get_endpoint over DNS,
                    TSIG-signed: SRV, TXT; A/AAAA from the SRV answer's
                    additional section), fresh and warm; dnspython
                    (signed SRV+TXT+A queries, in one process)
  whole process     ironic-mdns lookup; dig (one signed SRV query);
                    dnspython script (signed SRV+TXT+A)
  register->visible ironic-mdns register (signed UPDATE) from its start to
                    the SRV answered by the server (polled with dnspython every
                    2 ms), and its peak RSS (VmHWM) holding the registration
  DNSSEC            then BIND again with the zone signed (`dnssec-policy`,
                    one Ed25519 CSK, inline signing): fresh in-call lookups
                    in pairs in one process, plain and validating against
                    the zone's DS (`mdns-bench lookup --paired-anchor`)

Options: --runs N (default 30), --write FILE (markdown table).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Cell, Host, Proc, in_private_netns, log, proc_status  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY_NAME = "upd.example.test"
SECRET = "JBxtZjUj9elM77XPItQmCv/XMXwLT6a45tRAkXj8noc="
KEY_LINE = "hmac-sha256:%s:%s" % (KEY_NAME, SECRET)
DOMAIN = "mystack.example.test"
ZONE = "example.test"
ZONE_FILE = """$TTL 60
@ IN SOA ns.example.test. admin.example.test. 1 60 60 600 60
@ IN NS ns.example.test.
ns IN A 198.18.1.2
"""

DNSPY = r"""
import sys, time, dns.message, dns.query, dns.tsig
server, runs = sys.argv[1], int(sys.argv[2])
key = dns.tsig.Key(%r, %r, "hmac-sha256")
inst = "baremetal._openstack._tcp.%s."
def one():
    out = []
    for name, t in ((inst, "SRV"), (inst, "TXT"), ("conductor.example.test.", "A")):
        q = dns.message.make_query(name, t)
        q.use_tsig(key)
        r = dns.query.udp(q, server, timeout=2)
        out.append(r.answer)
    return out
for i in range(runs):
    t0 = time.perf_counter()
    one()
    print("%%.4f" %% ((time.perf_counter() - t0) * 1e3), flush=True)
""" % (KEY_NAME, SECRET, DOMAIN)

PUBLISH = (
    "update add _openstack._tcp.%s. 60 IN PTR baremetal._openstack._tcp.%s.\n"
    "update add baremetal._openstack._tcp.%s. 60 IN SRV 0 0 6385 conductor.example.test.\n"
    "update add baremetal._openstack._tcp.%s. 60 IN TXT \"txtvers=1\" \"path=/baremetal\"\n"
    "update add conductor.example.test. 60 IN A 198.18.1.2" % ((DOMAIN,) * 4))

POLL = r"""
import sys, time, dns.message, dns.query, dns.tsig, dns.rcode
server, name = sys.argv[1], sys.argv[2]
print("polling", flush=True)
while True:
    q = dns.message.make_query(name, "SRV")
    try:
        r = dns.query.udp(q, server, timeout=0.5)
        if r.answer:
            print("found %.6f" % time.time(), flush=True)
            break
    except Exception:
        pass
    time.sleep(0.002)
"""


def venv_python():
    py = os.environ.get("BENCH_VENV", os.path.join(ROOT, ".venv")) + "/bin/python"
    ok = os.path.exists(py) and subprocess.run([py, "-c", "import dns.tsig"]).returncode == 0
    return py if ok else None


class Named:
    def __init__(self, host, tmp, signed=False):
        # Debian's AppArmor profile for named allows /var/cache/bind only.
        cache = "/var/cache/bind"
        base = cache if os.access(cache, os.W_OK) else tmp
        self.dir = tempfile.mkdtemp(prefix="ironicmdns-bench-named-", dir=base)
        d = self.dir
        os.chmod(d, 0o755)
        os.chmod(tmp, 0o755)  # named drops to user bind: it must get in
        with open(d + "/key", "w") as f:
            f.write('key "%s" { algorithm hmac-sha256; secret "%s"; };\n' % (KEY_NAME, SECRET))
        with open(d + "/zone", "w") as f:
            f.write(ZONE_FILE)
        # Signed: BIND signs the zone itself and re-signs each UPDATE.
        key_dir, policy, zone_dnssec = "", "", ""
        if signed:
            os.mkdir(d + "/keys")
            key_dir = ' key-directory "%s/keys";' % d
            policy = ('dnssec-policy "signed" { keys { csk lifetime unlimited '
                      'algorithm ed25519; }; };\n')
            zone_dnssec = ' dnssec-policy "signed"; inline-signing yes;'
        with open(d + "/named.conf", "w") as f:
            f.write('include "%s/key";\noptions { directory "%s"; listen-on { %s; }; '
                    'listen-on-v6 { none; }; pid-file "%s/pid"; recursion no; '
                    'dnssec-validation no; session-keyfile "%s/session.key"; '
                    'managed-keys-directory "%s";%s };\ncontrols { };\n%s'
                    'zone "%s" { type primary; file "%s/zone"; allow-update { key %s; };%s };\n'
                    % (d, d, host.b_ip, d, d, d, key_dir, policy, ZONE, d, KEY_NAME,
                       zone_dnssec))
        argv = ["named", "-g", "-c", d + "/named.conf"]
        if subprocess.run(["chown", "-R", "bind:bind", d]).returncode == 0:
            argv += ["-u", "bind"]
        self.log = open(d + "/log", "w")
        self.p = subprocess.Popen(host.wrap(argv), stdout=self.log, stderr=self.log)
        self.addr = host.b_ip
        for _ in range(100):
            out = subprocess.run(["dig", "+short", "+time=1", "+tries=1", "@" + self.addr, "SOA", ZONE],
                                 stdout=subprocess.PIPE).stdout
            if b"ns.example.test." in out:
                return
            time.sleep(0.05)
        raise RuntimeError("named did not start: " + open(d + "/log").read()[-500:])

    def signed_rrset(self, name, rtype, timeout=20):
        """Waits until the server serves `name` `rtype` with its RRSIG."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            out = subprocess.run(["dig", "+dnssec", "+noall", "+answer", "+time=1", "+tries=1",
                                  "@" + self.addr, rtype, name], stdout=subprocess.PIPE).stdout
            if any(l.split()[3:5] == ["RRSIG", rtype] for l in out.decode().splitlines()
                   if len(l.split()) > 4):
                return
            time.sleep(0.1)
        raise RuntimeError("no RRSIG over %s %s within %d s" % (name, rtype, timeout))

    def ds(self):
        """The zone's DS (SHA-256) in the compact form KEYTAG:ALG:2:HEX,
        made by dnssec-dsfromkey from the DNSKEY RRset served."""
        keys = subprocess.run(["dig", "+noall", "+answer", "@" + self.addr, "DNSKEY", ZONE],
                              stdout=subprocess.PIPE, check=True).stdout
        out = subprocess.run(["dnssec-dsfromkey", "-2", "-f", "-", ZONE], input=keys,
                             stdout=subprocess.PIPE, check=True).stdout.decode().split()
        return ":".join(out[3:7])

    def nsupdate(self, body):
        script = "server %s\nzone %s\n%s\nsend\n" % (self.addr, ZONE, body)
        subprocess.run(["nsupdate", "-y", KEY_LINE], input=script.encode(), check=True)

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def timed(argv, runs):
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        dt = (time.perf_counter() - t0) * 1e3
        if r.returncode != 0:
            return None, r.stderr.decode()[-200:]
        out.append(dt)
    return out, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--write")
    ap.add_argument("--command", default="bench/run_dns.sh")
    a = ap.parse_args()
    if not in_private_netns():
        sys.exit("dns_bench.py: refusing to run outside the private namespace bench/run_dns.sh makes")
    for prog in ("named", "nsupdate", "dig"):
        if not shutil.which(prog):
            sys.exit("dns_bench.py: %s missing (scripts/setup-peers.sh installs it)" % prog)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    tmp = tempfile.mkdtemp(prefix="dnsbench-")
    ours = os.path.join(ROOT, "target/release/ironic-mdns")
    driver = os.path.join(ROOT, "target/release/mdns-bench")
    py = venv_python()
    B = Host(1)
    rows = []
    named = None
    try:
        named = Named(B, tmp)
        named.nsupdate(PUBLISH)
        srv = named.addr
        opts = ["--option", "domain=" + DOMAIN, "--option", "dns_servers=" + srv,
                "--option", "tsig_key=" + KEY_LINE]
        # in-call, ours
        p = Proc([driver, "lookup", "ours", "baremetal", "--runs", str(a.runs),
                  "--warm", str(a.runs)] + opts, stderr=subprocess.PIPE)
        p.p.wait(timeout=120)
        import json
        fresh, warm = [], []
        for line in p.all:
            try:
                j = json.loads(line)
            except ValueError:
                continue
            if j.get("ok"):
                (fresh if j["kind"] == "fresh" else warm if j["kind"] == "warm" else []).append(j["ms"])
        rows.append(("in-call lookup, fresh instance (TSIG; SRV, TXT, A/AAAA from the additional section)", {"ours": Cell(fresh)}))
        rows.append(("in-call lookup, warm instance", {"ours": Cell(warm)}))
        if py:
            out = subprocess.run([py, "-c", DNSPY, srv, str(a.runs + 1)], stdout=subprocess.PIPE)
            vals = [float(x) for x in out.stdout.decode().split()][1:]
            rows.append(("in-call dnspython (SRV+TXT+A, TSIG)", {"dnspython": Cell(vals)}))
        # whole process
        v, err = timed([ours, "lookup", "baremetal", "--domain", DOMAIN, "--dns-server", srv,
                        "--tsig-key", KEY_LINE], a.runs)
        rows.append(("whole process: ironic-mdns lookup", {"ours": Cell(v, missing=err)}))
        v, err = timed(["dig", "+short", "-y", KEY_LINE, "@" + srv, "SRV",
                        "baremetal._openstack._tcp.%s." % DOMAIN], a.runs)
        rows.append(("whole process: dig (one SRV query, TSIG)", {"dig": Cell(v, missing=err)}))
        if py:
            v, err = timed([py, "-c", DNSPY, srv, "1"], max(3, a.runs // 3))
            rows.append(("whole process: dnspython script", {"dnspython": Cell(v, missing=err)}))
        # register -> visible, and RSS holding it
        vis, rss = [], []
        for i in range(max(3, a.runs // 5)):
            name = "reg%d" % i
            poll = Proc([py or sys.executable, "-c", POLL, srv,
                         "%s._openstack._tcp.%s." % (name, DOMAIN)]) if py else None
            if poll:
                poll.expect(lambda l: l == "polling", 10)
            t0 = time.time()
            reg = Proc([ours, "register", name, "http://198.18.1.1:6385/" + name, "--domain", DOMAIN,
                        "--dns-server", srv, "--tsig-key", KEY_LINE], stderr=subprocess.PIPE)
            got = reg.expect(lambda l: l.startswith("registered"), 20)
            if poll:
                found = poll.expect(lambda l: l.startswith("found"), 20)
                if found:
                    vis.append((float(found[1].split()[1]) - t0) * 1e3)
                poll.p.kill()
            if got:
                time.sleep(0.5)
                hwm = proc_status(reg.p.pid, "VmHWM")
                if hwm:
                    rss.append(hwm / 1024.0)
            reg.stop()
        rows.append(("register until visible (process start -> SRV answered)", {"ours": Cell(vis)}))
        rows.append(("peak RSS holding one DNS registration", {"ours": Cell(rss, unit="MiB")}))
        # DNSSEC: the same zone signed by the server
        named.stop()
        named = None
        if shutil.which("dnssec-dsfromkey"):
            named = Named(B, tmp, signed=True)
            named.signed_rrset(ZONE, "DNSKEY")
            named.nsupdate(PUBLISH)
            for name, rtype in (("baremetal._openstack._tcp.%s." % DOMAIN, "SRV"),
                                ("baremetal._openstack._tcp.%s." % DOMAIN, "TXT"),
                                ("conductor.example.test.", "A")):
                named.signed_rrset(name, rtype)
            p = Proc([driver, "lookup", "ours", "baremetal", "--runs", str(a.runs + 1),
                      "--paired-anchor", named.ds()] + opts, stderr=subprocess.PIPE)
            p.p.wait(timeout=300)
            got = {"plain": [], "validated": []}
            for line in p.all:
                try:
                    j = json.loads(line)
                except ValueError:
                    continue
                if j.get("ok") and j.get("kind") in got:
                    got[j["kind"]].append(j["ms"])
            plain, valid = Cell(got["plain"][1:]), Cell(got["validated"][1:])
            if plain.s and valid.s:
                valid.extra = "(%+.3f ms over plain)" % (valid.s["median"] - plain.s["median"])
            rows.append(("in-call lookup, fresh instance, zone signed by BIND (Ed25519 CSK), "
                         "not validated", {"ours": plain}))
            rows.append(("the same validated against the zone's DS (DO bit, one DNSKEY "
                         "query, three signature checks)", {"ours": valid}))
    finally:
        if named:
            named.stop()
        B.close()
        shutil.rmtree(tmp, ignore_errors=True)
    lines = ["| row | stack | median (min - max) |", "|---|---|---|"]
    for title, cells in rows:
        for stack, cell in cells.items():
            lines.append("| %s | %s | %s |" % (title, stack, cell.text()))
    table = "\n".join(lines)
    print("Unicast DNS-SD, `%s`, %d runs:\n\n%s" % (a.command, a.runs, table))
    if a.write:
        with open(a.write, "a") as f:
            f.write("\n## Unicast DNS-SD (`%s`)\n\n%s\n" % (a.command, table))


if __name__ == "__main__":
    main()
