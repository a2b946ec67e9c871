"""Trusted discovery through the drop-ins (DNSSEC): the agent's trust
anchors (the agent parameter ``ipa-mdns-trust-anchor`` and ``[mdns]
trust_anchor``) reach the library's lookup, and the conductor's ``[mdns]
signing_key_file`` reaches its responder.

Keys are made by BIND's tools as an operator makes them: ``dnssec-keygen
-a ED25519 -n ZONE local.`` and ``dnssec-dsfromkey -2``; the kernel
command line carries the DS in the compact form KEYTAG:ALG:DIGESTTYPE:HEX.

Five tests need the mDNS engine to sign and validate (an engine that
does not returns unsigned answers to a lookup with an anchor, and signs
nothing): test_a_kernel_anchor_refuses_an_unsigned_conductor,
test_a_kernel_anchor_finds_the_validated_signed_conductor,
test_an_anchor_for_an_other_key_refuses_a_signed_conductor,
test_the_agents_start_up_takes_the_validated_signed_conductor and
test_the_agents_start_up_refuses_an_unsigned_impostor. They assert the
behaviour the options promise and fail on a library that does not keep it.
"""

import json
import os
import shutil
import subprocess
import sys
import types

import pytest
from oslo_config import cfg

import ironicmdns
from ironicmdns import _lib
from ironicmdns import ipa
from ironicmdns import ironic

from conftest import B4, HELPERS, PEERS, python_argv, wait_line
from test_activation import conductor_venv  # noqa: F401 (a fixture)

REQUIRE = os.environ.get("IRONICMDNS_REQUIRE_PEERS") == "1"
URL = "http://%s:6385/baremetal" % B4


# ---------------------------------------------------------------- keys


class Key:
    """A key pair of dnssec-keygen: ``private`` (the .private path), ``ds``
    (the DS line of dnssec-dsfromkey -2) and ``compact`` (the same DS as
    KEYTAG:ALG:DIGESTTYPE:HEX)."""

    def __init__(self, directory):
        name = subprocess.run(["dnssec-keygen", "-q", "-K", str(directory), "-a", "ED25519",
                               "-n", "ZONE", "local."], check=True, capture_output=True,
                              text=True).stdout.strip()
        base = os.path.join(str(directory), name)
        self.private = base + ".private"
        self.ds = subprocess.run(["dnssec-dsfromkey", "-2", base + ".key"], check=True,
                                 capture_output=True, text=True).stdout.strip()
        words = self.ds.split()
        at = words.index("DS")
        tag, alg, digest_type = words[at + 1:at + 4]
        self.compact = ":".join([tag, alg, digest_type, "".join(words[at + 4:])])


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """Two key pairs: ``good`` (the conductor's) and ``other``."""
    if not (shutil.which("dnssec-keygen") and shutil.which("dnssec-dsfromkey")):
        why = "dnssec-keygen / dnssec-dsfromkey not found (bind9-utils)"
        if REQUIRE:
            pytest.fail(why)
        pytest.skip(why)
    directory = tmp_path_factory.mktemp("keys")
    return types.SimpleNamespace(good=Key(directory), other=Key(directory))


# ---------------------------------------------------------------- processes

# The conductor on host B: ironicmdns.ironic as ironic calls it, [mdns]
# options from oslo.config; argv: URL [SIGNING_KEY_FILE].
CONDUCTOR = r"""
import signal, sys, threading
from oslo_config import cfg
from ironicmdns import ironic as mdns
cfg.CONF([], default_config_files=[])
if len(sys.argv) > 2:
    cfg.CONF.set_override("signing_key_file", sys.argv[2], group="mdns")
zc = mdns.Zeroconf()
zc.register_service("baremetal", sys.argv[1], {"ipa_ntp_server": "198.18.0.9"})
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
print("READY", flush=True)
stop.wait()
zc.close()
print("CLOSED", flush=True)
"""

# The agent's lookup on host A: ironicmdns.ipa standing in for the agent's
# module (so the agent's own parameter reader is used) or, with "plain",
# alone (it reads /proc/cmdline itself). argv: MODE ATTEMPTS [ANCHOR]...
# with the anchors as [mdns] trust_anchor values. Prints one JSON object.
AGENT_LOOKUP = r"""
import json, logging, sys
logging.basicConfig(level=logging.WARNING, format="LOG %(name)s %(message)s")
from ironicmdns import ipa
if sys.argv[1] == "agent":
    ipa.stand_in()
from oslo_config import cfg
cfg.CONF([], default_config_files=[])
cfg.CONF.set_override("lookup_attempts", int(sys.argv[2]), group="mdns")
if sys.argv[3:]:
    cfg.CONF.set_override("trust_anchor", sys.argv[3:], group="mdns")
try:
    url, props = ipa.get_endpoint("baremetal")
    out = {"url": url, "params": props, "error": None}
except ipa.ServiceLookupFailure as exc:
    out = {"url": None, "error": "%s.%s" % (type(exc).__module__, type(exc).__name__),
           "agents_class": any(c.__module__ == "ironic_python_agent.errors"
                               for c in type(exc).__mro__),
           "status": exc.status, "message": str(exc)}
print(json.dumps(out))
"""


def with_cmdline(argv, cmdline, tmp_path):
    """``argv`` in a mount namespace where /proc/cmdline reads ``cmdline``
    (the kernel command line the agent's ramdisk was booted with)."""
    fake = tmp_path / "cmdline"
    fake.write_text(cmdline + "\n")
    return ["unshare", "-m", "--propagation", "private", "sh", "-c",
            'mount --bind "$0" /proc/cmdline && exec "$@"', str(fake)] + list(argv)


def agent_lookup(tmp_path, cmdline, *anchors, mode="agent", attempts=1):
    """The agent's lookup on host A; (result dict, stderr)."""
    argv = [sys.executable, "-c", AGENT_LOOKUP, mode, str(attempts)] + list(anchors)
    r = subprocess.run(with_cmdline(argv, cmdline, tmp_path), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1]), r.stderr


def conductor(hosts, key=None):
    """Our conductor on host B, signing with ``key`` (None: unsigned)."""
    argv = [sys.executable, "-c", CONDUCTOR, URL] + ([key.private] if key else [])
    pub = hosts.on_b(argv)
    wait_line(pub, "READY")
    return pub


def impostor(hosts):
    """The reference's conductor (ironic_lib, python-zeroconf) on host B:
    unsigned, as any host on the link can publish."""
    pub = hosts.on_b(python_argv(os.path.join(PEERS, "ironic_publish.py"), "baremetal",
                                 URL, "ipa_ntp_server=198.18.0.66"))
    wait_line(pub, "READY")
    return pub


# ---------------------------------------------------------------- options


def test_the_trust_options_are_listed_and_generated(tmp_path):
    ipa_opts = {o.name: o for _, opts in ipa.list_opts() for o in opts}
    assert isinstance(ipa_opts["trust_anchor"], cfg.MultiStrOpt)
    assert cfg.CONF.mdns.trust_anchor == []
    ironic_opts = {o.name: o for _, opts in ironic.list_opts() for o in opts}
    assert isinstance(ironic_opts["signing_key_file"], cfg.StrOpt)
    assert cfg.CONF.mdns.signing_key_file is None
    gen = os.path.join(os.path.dirname(sys.executable), "oslo-config-generator")
    for namespace, line in (("ironicmdns.ipa", "#trust_anchor ="),
                            ("ironicmdns.ironic", "#signing_key_file = <None>")):
        out = tmp_path / ("%s.conf" % namespace)
        subprocess.run([gen, "--namespace", namespace, "--output-file", str(out)],
                       check=True)
        assert line in out.read_text().splitlines(), (namespace, out.read_text())


class _Spy:
    """Stands for ironicmdns.Zeroconf: records the options it is made with."""

    made = []

    def __init__(self, **options):
        self.made.append(options)

    def get_endpoint(self, *args):
        raise ironicmdns.NotFound(_lib.ZC_ERR_NOT_FOUND, "spy")

    def close(self):
        pass


@pytest.fixture
def agent_params(monkeypatch):
    """The agent's parameter reader, as its utils module has it, holding
    the dict this fixture returns."""
    params = {}
    monkeypatch.setitem(sys.modules, "ironic_python_agent.utils",
                        types.SimpleNamespace(get_agent_params=lambda: dict(params)))
    monkeypatch.setattr(_Spy, "made", [])
    monkeypatch.setattr(ipa._core, "Zeroconf", _Spy)
    return params


def test_the_anchors_reach_the_library_kernel_first_then_config(agent_params, keys):
    # No anchor: no validation asked (as before).
    with pytest.raises(ipa.ServiceLookupFailure):
        ipa.get_endpoint("baremetal")
    assert _Spy.made[-1]["trust_anchor"] is None
    # The agent parameter, commas and all, then each [mdns] trust_anchor.
    both = "%s,%s" % (keys.other.compact, keys.good.compact)
    agent_params["ipa-mdns-trust-anchor"] = both
    cfg.CONF.set_override("trust_anchor", [keys.good.ds, keys.other.ds], group="mdns")
    try:
        with pytest.raises(ipa.ServiceLookupFailure):
            ipa.get_endpoint("baremetal")
    finally:
        cfg.CONF.clear_override("trust_anchor", group="mdns")
    assert _Spy.made[-1]["trust_anchor"] == [both, keys.good.ds, keys.other.ds]
    assert _Spy.made[-1]["lookup_attempts"] == 3


@pytest.mark.parametrize("where,value", [
    ("ipa-mdns-trust-anchor", "12345:15:2:nothex"),
    ("ipa-mdns-trust-anchor", ""),
    ("[mdns] trust_anchor", "local. IN DS 1 2"),
    ("[mdns] trust_anchor", "@/nonexistent/anchors"),
    ("[mdns] trust_anchor", ""),
])
def test_a_bad_anchor_fails_the_lookup_before_any_lookup(agent_params, keys, caplog,
                                                         where, value):
    # One good anchor beside the bad one changes nothing: all or none.
    agent_params["ipa-mdns-trust-anchor"] = keys.good.compact
    config = [keys.good.ds]
    if where == "ipa-mdns-trust-anchor":
        agent_params[where] = value
    else:
        config.append(value)
    cfg.CONF.set_override("trust_anchor", config, group="mdns")
    caplog.set_level("ERROR", logger=ipa._log_name)
    try:
        with pytest.raises(ipa.ServiceLookupFailure) as caught:
            ipa.get_endpoint("baremetal")
    finally:
        cfg.CONF.clear_override("trust_anchor", group="mdns")
    assert _Spy.made == []                       # no Zeroconf, no lookup
    assert caught.value.status == _lib.ZC_ERR_INVALID_ARGUMENT
    assert str(caught.value).startswith("Cannot use multicast DNS: %s: " % where)
    assert "trust_anchor" in str(caught.value)
    logged = [r.getMessage() for r in caplog.records if r.name == ipa._log_name]
    assert any(m.startswith("Refusing to look up through multicast DNS: %s=%s is no "
                            "usable trust anchor" % (where, value)) for m in logged), logged


def test_a_bad_signing_key_file_fails_the_conductor_naming_it(tmp_path, keys):
    garbage = tmp_path / "Klocal.+015+00001.private"
    garbage.write_text("Private-key-format: v1.3\nAlgorithm: 15 (ED25519)\nPrivateKey: !!\n")
    shutil.copy(keys.good.private[:-len(".private")] + ".key", tmp_path / "Klocal.+015+00001.key")
    for path in (str(tmp_path / "Knone.+015+00000.private"), str(garbage)):
        cfg.CONF.set_override("signing_key_file", path, group="mdns")
        try:
            with pytest.raises(ironicmdns.InvalidArgument) as caught:
                ironic.Zeroconf()
        finally:
            cfg.CONF.clear_override("signing_key_file", group="mdns")
        assert "signing_key_file" in str(caught.value), caught.value
        assert path in str(caught.value), caught.value


# ironic's own configuration, in a venv with ironic activated for the
# conductor: ironic.conf's [mdns] signing_key_file reaches ours.
# argv: CONFIG_FILE.
IRONIC_CONF = r"""
import json, sys
from oslo_log import log
from ironic.conf import CONF
log.register_options(CONF)
CONF(["--config-file", sys.argv[1]], default_config_files=[])
from ironic.common import mdns
assert mdns.__spec__.name == "ironicmdns.ironic", mdns.__spec__
import ironicmdns
out = {"signing_key_file": CONF.mdns.signing_key_file}
try:
    mdns.Zeroconf().close()
    out["error"] = None
except ironicmdns.InvalidArgument as exc:
    out["error"] = str(exc)
print(json.dumps(out))
"""


def test_ironic_conf_signing_key_file_reaches_the_conductors_zeroconf(conductor_venv, netns,
                                                                     tmp_path, keys):
    python = conductor_venv
    for path, fails in ((keys.good.private, False),
                        (str(tmp_path / "Klocal.+015+00000.private"), True)):
        conf = tmp_path / "ironic.conf"
        conf.write_text("[mdns]\nsigning_key_file = %s\n" % path)
        r = subprocess.run([python, "-c", IRONIC_CONF, str(conf)], capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        got = json.loads(r.stdout.strip().splitlines()[-1])
        assert got["signing_key_file"] == path
        if fails:
            assert got["error"] and "signing_key_file" in got["error"], got
            assert path in got["error"], got
        else:
            assert got["error"] is None, got


# ---------------------------------------------------------------- on the link


@pytest.mark.parametrize("mode", ["agent", "plain"])
def test_a_bad_kernel_anchor_keeps_the_import_and_never_falls_back(hosts, tmp_path, mode):
    # An unsigned conductor is there to be found: the lookup must not find
    # it. "agent": the agent's reader; "plain": /proc/cmdline read by ours.
    conductor(hosts)
    got, err = agent_lookup(tmp_path, "quiet ipa-use-mdns=1 ipa-mdns-trust-anchor=12345:15:2:zz",
                            mode=mode)
    assert got["url"] is None, got
    assert got["error"] == "ironicmdns.ipa.ServiceLookupFailure"
    # the agent's own class whenever the agent's module is what we are
    assert got["agents_class"] is (mode == "agent")
    assert got["status"] == _lib.ZC_ERR_INVALID_ARGUMENT
    assert ("LOG ironic_python_agent.mdns Refusing to look up through multicast DNS: "
            "ipa-mdns-trust-anchor=12345:15:2:zz") in err, err
    # The same lookup without the parameter finds the conductor (it was
    # there all along).
    got, err = agent_lookup(tmp_path, "quiet ipa-use-mdns=1", mode=mode)
    assert got["url"] == URL, (got, err)


def test_a_kernel_anchor_refuses_an_unsigned_conductor(hosts, tmp_path, keys):
    impostor(hosts)
    got, err = agent_lookup(tmp_path, "ipa-mdns-trust-anchor=" + keys.good.compact)
    assert got["url"] is None, got
    assert got["error"] == "ironicmdns.ipa.ServiceLookupFailure"
    assert got["status"] == _lib.ZC_ERR_AUTH, got
    # The impostor is on the link: without an anchor it would be taken.
    got, _ = agent_lookup(tmp_path, "quiet")
    assert got["url"] == URL and got["params"]["ipa_ntp_server"] == "198.18.0.66", got


def test_a_kernel_anchor_finds_the_validated_signed_conductor(hosts, tmp_path, keys):
    conductor(hosts, keys.good)
    # The compact DS on the kernel command line, alone and after another.
    for anchors in (keys.good.compact, "%s,%s" % (keys.other.compact, keys.good.compact)):
        got, err = agent_lookup(tmp_path, "quiet ipa-mdns-trust-anchor=" + anchors,
                                attempts=3)
        assert got["url"] == URL, (got, err)
        assert got["params"] == {"ipa_ntp_server": "198.18.0.9"}, got
    # The DS as dnssec-dsfromkey prints it, in [mdns] trust_anchor.
    got, err = agent_lookup(tmp_path, "quiet", keys.good.ds, attempts=3)
    assert got["url"] == URL, (got, err)


def test_an_anchor_for_an_other_key_refuses_a_signed_conductor(hosts, tmp_path, keys):
    conductor(hosts, keys.good)
    got, err = agent_lookup(tmp_path, "ipa-mdns-trust-anchor=" + keys.other.compact)
    assert got["url"] is None, got
    assert got["status"] == _lib.ZC_ERR_AUTH, got


# ---------------------------------------------------------------- the agent itself


def agent_start(tmp_path, cmdline, *args):
    """ironic-python-agent's own start-up (IronicPythonAgent with api_url
    "mdns": helpers/ipa_agent.py) booted with ``cmdline``."""
    argv = python_argv(os.path.join(HELPERS, "ipa_agent.py"), "mdns", *args)
    r = subprocess.run(with_cmdline(argv, cmdline, tmp_path), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1]), r.stderr


def test_the_agents_start_up_takes_the_validated_signed_conductor(hosts, tmp_path, keys):
    pub = conductor(hosts, keys.good)
    got, err = agent_start(tmp_path, "ipa-mdns-trust-anchor=" + keys.good.compact)
    assert got["api_urls"] == [URL], (got, err[-3000:])
    assert got["ntp_server"] == "198.18.0.9"        # the TXT record applied
    assert got["error"] is None
    pub.terminate()
    wait_line(pub, "CLOSED")


def test_the_agents_start_up_refuses_an_unsigned_impostor(hosts, tmp_path, keys):
    impostor(hosts)
    got, err = agent_start(tmp_path, "ipa-mdns-trust-anchor=" + keys.good.compact,
                           "--lookup-attempts", "1")
    assert got["api_urls"] is None, (got, err[-3000:])
    assert got["ntp_server"] is None                 # nothing of it applied
    assert got["error"] == "ironicmdns.ipa.ServiceLookupFailure"
