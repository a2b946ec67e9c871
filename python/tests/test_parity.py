"""The drop-ins behave as the modules they stand in for, on the import
order the activation really uses: a venv with our wheel and both .pth
files (``python -m ironicmdns.activate --agent`` and ``--conductor``),
where ``import ironic_python_agent.mdns`` / ``ironic.common.mdns`` is the
first thing that loads ours.

(a) use_mdns comes from the agent's own parameter reader (kernel command
line and virtual media), also when our module is imported before the
agent's utils; (b) every library failure is the agent's
ServiceLookupFailure, so the agent logs and goes on; (c) a bad
ipa-use-mdns value does not break the import; (d) log records carry the
upstream logger names."""

import json
import os
import subprocess
import sysconfig

import pytest

from conftest import A4
from test_activation import WHEELHOUSE, _assert_own_copy, _need, _pip, _venv


@pytest.fixture(scope="module")
def activated(tmp_path_factory):
    """(python, site-packages) of a venv seeing the peers' packages (the
    agent, ironic, oslo.*), with our wheel installed and both roles
    activated."""
    wheelhouse = _need(WHEELHOUSE, "IRONICMDNS_WHEELHOUSE")
    venv = tmp_path_factory.mktemp("activated") / "venv"
    python, site = _venv(venv, sysconfig.get_paths()["purelib"])
    _pip(python, *[os.path.join(wheelhouse, f) for f in os.listdir(wheelhouse)])
    _assert_own_copy(python, site, "ironicmdns")
    for role in ("--agent", "--conductor"):
        r = subprocess.run([python, "-m", "ironicmdns.activate", role],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, (r.stdout, r.stderr)
    return python, site


def run(python, code, cmdline=None, tmp_path=None, timeout=60):
    """``code`` in the activated venv; with ``cmdline``, in a mount
    namespace where /proc/cmdline holds that text."""
    argv = [python, "-c", code]
    if cmdline is not None:
        fake = tmp_path / "cmdline"
        fake.write_text(cmdline + "\n")
        argv = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                'mount --bind "$0" /proc/cmdline && exec "$@"', str(fake)] + argv
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


# Sets the agent's cached parameters right after its utils module runs, as
# the agent's reader leaves them after reading a virtual-media floppy
# (boot_method=vmedia): a test host has no such floppy.
VMEDIA_HOOK = r"""
import sys
class _Hook:
    def find_spec(self, name, path=None, target=None):
        if name != "ironic_python_agent.utils":
            return None
        sys.meta_path.remove(self)
        import importlib.util
        spec = importlib.util.find_spec(name)
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            module.AGENT_PARAMS_CACHED = {"boot_method": "vmedia", "ipa-use-mdns": "1"}
        spec.loader.exec_module = exec_module
        return spec
sys.meta_path.insert(0, _Hook())
"""


def test_a_use_mdns_comes_from_the_agents_reader_with_virtual_media(activated):
    python, _ = activated
    code = VMEDIA_HOOK + "\n".join([
        "import ironic_python_agent.mdns as mdns",     # first: ours, by the activation
        "assert mdns.__spec__.name == 'ironicmdns.ipa', mdns.__spec__",
        "from oslo_config import cfg",
        "cfg.CONF([], default_config_files=[])",
        "print(cfg.CONF.mdns.use_mdns)",
    ])
    r = run(python, code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True"]


def test_a_without_the_parameter_use_mdns_stays_off(activated):
    python, _ = activated
    r = run(python, "\n".join([
        "import ironic_python_agent.mdns",
        "from oslo_config import cfg",
        "cfg.CONF([], default_config_files=[])",
        "print(cfg.CONF.mdns.use_mdns)"]))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False"]


AGENT_START = r"""
import json, logging, sys
logging.basicConfig(level=logging.WARNING, format="LOG %(name)s %(message)s")
from oslo_config import cfg
from ironic_python_agent import agent, errors
assert agent.mdns.__spec__.name == "ironicmdns.ipa", agent.mdns
cfg.CONF([], default_config_files=[])
cfg.CONF.set_override("use_mdns", True, group="mdns")
cfg.CONF.set_override("interfaces", ["198.18.0.77"], group="mdns")   # no such address
a = agent.IronicPythonAgent(
    None, agent.Host(hostname="198.18.0.1", port=9999),
    agent.Host(hostname="198.18.0.1", port=9999),
    ip_lookup_attempts=1, ip_lookup_sleep=0, network_interface=None,
    lookup_timeout=1, lookup_interval=1, standalone=False, agent_token=None)
zc = agent.mdns.Zeroconf.__new__(agent.mdns.Zeroconf)
import ironicmdns
zc._zc = ironicmdns.Zeroconf(interfaces="127.0.0.1")
zc.close()
closed = None
try:
    zc.get_endpoint("baremetal")
except errors.ServiceLookupFailure as exc:
    closed = [type(exc).__name__, exc.status]
print(json.dumps({"api_urls": a.api_urls, "closed": closed}))
"""


def test_b_library_failures_are_the_agents_lookup_failure(activated, netns):
    python, _ = activated
    r = run(python, AGENT_START)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    # No socket on 198.18.0.77: the agent caught it, logged, went on.
    assert got["api_urls"] is None
    assert "LOG ironic_python_agent.agent Could not get baremetal endpoint from mDNS" \
        in r.stderr, r.stderr
    # A closed Zeroconf: the agent's class too, with the library's status.
    assert got["closed"] == ["ServiceLookupFailure", -8]


def test_c_a_bad_ipa_use_mdns_does_not_break_the_import(activated, tmp_path):
    python, _ = activated
    code = "\n".join([
        "import logging",
        "logging.basicConfig(level=logging.WARNING, format='LOG %(name)s %(message)s')",
        "import ironic_python_agent.mdns",
        "from oslo_config import cfg",
        "cfg.CONF([], default_config_files=[])",
        "print(cfg.CONF.mdns.use_mdns)",
    ])
    r = run(python, code, cmdline="quiet ipa-use-mdns=maybe", tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False"]
    assert "LOG ironic_python_agent.mdns Ignoring ipa-use-mdns=maybe" in r.stderr, r.stderr
    # and a good value on the same path is honoured
    r = run(python, code, cmdline="quiet ipa-use-mdns=1", tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True"]


# Only the upstream module's logger is at DEBUG; the root at WARNING.
LOGGER_NAMES = r"""
import logging, sys
logging.basicConfig(level=logging.WARNING, format="LOG %(name)s %(message)s")
upstream = sys.argv[1]
logging.getLogger(upstream).setLevel(logging.DEBUG)
import importlib
mdns = importlib.import_module(upstream)
import ironicmdns
with ironicmdns.Zeroconf(interfaces=sys.argv[2]) as zc:
    zc.register_service("baremetal", "http://%s:6385/baremetal" % sys.argv[2])
"""


@pytest.mark.parametrize("upstream", ["ironic_python_agent.mdns", "ironic.common.mdns"])
def test_d_library_log_records_carry_the_upstream_logger_name(activated, hosts, upstream):
    python, _ = activated
    r = subprocess.run([python, "-c", LOGGER_NAMES, upstream, A4], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "LOG %s registering" % upstream in r.stderr, r.stderr
    assert "LOG ironicmdns " not in r.stderr, r.stderr


def test_d_the_conductor_drop_in_logs_as_ironic(activated, hosts):
    python, _ = activated
    code = "\n".join([
        "import logging",
        "logging.basicConfig(level=logging.WARNING, format='LOG %(name)s %(message)s')",
        "logging.getLogger('ironic.common.mdns').setLevel(logging.DEBUG)",
        "from ironic.common import mdns",
        "zc = mdns.Zeroconf()",
        "zc.register_service('baremetal', 'http://%s:6385/baremetal')" % A4,
        "zc.close()",
    ])
    r = run(python, code)
    assert r.returncode == 0, r.stderr
    assert "LOG ironic.common.mdns Registering baremetal at http://%s:6385/baremetal" % A4 \
        in r.stderr, r.stderr


def test_the_activation_reaches_only_the_two_module_names(activated):
    python, site = activated
    code = "\n".join([
        "import sys, _ironicmdns_hook",
        "finder = [f for f in sys.meta_path if isinstance(f, _ironicmdns_hook.Finder)]",
        "assert len(finder) == 1, sys.meta_path",
        "print(sorted(finder[0].names.items()))",
        "import ironic_python_agent.utils, ironic.common.exception",
        "print('ironicmdns' in sys.modules)",
    ])
    r = run(python, code)
    assert r.returncode == 0, r.stderr
    names, loaded = r.stdout.splitlines()
    assert names == ("[('ironic.common.mdns', 'ironicmdns.ironic'), "
                     "('ironic_python_agent.mdns', 'ironicmdns.ipa')]")
    # other modules of both packages load as they are, without ours
    assert loaded == "False"
    # and IRONICMDNS_ACTIVATION=off turns it off for one process
    r = subprocess.run([python, "-c", "import ironic_python_agent.mdns as m; "
                        "print(m.__spec__.name)"], capture_output=True, text=True,
                       env=dict(os.environ, IRONICMDNS_ACTIVATION="off"), timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ironic_python_agent.mdns"
