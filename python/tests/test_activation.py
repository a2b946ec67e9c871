"""The activation, shipped and run as it is used: the diskimage-builder
element's install step puts our wheel into a venv holding
ironic-python-agent 13.0.0 (from PyPI) and activates it; the agent started
through its own console script on host B finds a conductor published on
host A and sends its first HTTP request to the URL it discovered. And
ironic's own conductor code (BaseConductorManager._publish_endpoint)
publishes through ironicmdns.ironic once the conductor's venv is activated;
ironic_lib's lookup and the agent's (both the reference, python-zeroconf)
find it from host B.

scripts/tests.d/20-python.sh prepares what needs an index, outside the
private namespace: IRONICMDNS_WHEELHOUSE (our wheel),
IRONICMDNS_IPA_WHEELS (ironic-python-agent 13.0.0's wheel) and
IRONICMDNS_CONDUCTOR_SITE (site-packages of a venv with ironic 39.0.0 and
all its dependencies). The test venvs get the other packages' dependencies
through a .pth path line to the peers' site-packages (or the conductor
one): only the agent, or nothing of ironic, is installed into them, and the
activation is written into them alone."""

import http.server
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import threading
import time

import pytest

from conftest import A4, B4, PEERS, ROOT, python_argv, run_a, wait_line

ELEMENT = os.path.join(ROOT, "contrib", "dib", "ironicmdns")
WHEELHOUSE = os.environ.get("IRONICMDNS_WHEELHOUSE")
IPA_WHEELS = os.environ.get("IRONICMDNS_IPA_WHEELS")
CONDUCTOR_SITE = os.environ.get("IRONICMDNS_CONDUCTOR_SITE")
REQUIRE = os.environ.get("IRONICMDNS_REQUIRE_PEERS") == "1"


def _need(value, what):
    if not value:
        why = "%s not set (scripts/tests.d/20-python.sh sets it)" % what
        if REQUIRE:
            pytest.fail(why)
        pytest.skip(why)
    return value


def _venv(path, deps_site):
    """A venv at ``path`` that sees ``deps_site``'s packages after its own."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    bin_python = os.path.join(path, "bin", "python")
    site = subprocess.run([bin_python, "-c", "import sysconfig; print("
                           "sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    with open(os.path.join(site, "zz-deps.pth"), "w") as f:
        f.write(deps_site + "\n")
    return bin_python, site


def _pip(python, *args):
    """pip install into the test venv, with no index. pip comes through
    the deps path line (the peers' copy); run by the test venv's
    interpreter it installs into that venv. --ignore-installed: a copy
    seen through the path line would otherwise count as installed."""
    r = subprocess.run([python, "-m", "pip", "install", "--no-index", "--no-deps",
                        "--ignore-installed", "--disable-pip-version-check", "--quiet"]
                       + list(args), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r


def _assert_own_copy(python, site, module):
    """``module`` loads from the test venv's site-packages, not the deps'."""
    r = subprocess.run([python, "-c", "import %s as m; print(m.__file__)" % module],
                       capture_output=True, text=True, env=dict(
                           os.environ, IRONICMDNS_ACTIVATION="off"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().startswith(site + os.sep), (module, r.stdout, site)


class _Recorder(http.server.BaseHTTPRequestHandler):
    """The Ironic API stub: records every request; answers GET / with an
    API version document and the rest with 404."""

    requests = None

    def _answer(self):
        self.requests.append({"method": self.command, "path": self.path,
                              "host": self.headers.get("Host"),
                              "client": self.client_address[0]})
        if self.command == "GET" and self.path == "/":
            body = json.dumps({"default_version": {"version": "1.68"}}).encode()
            self.send_response(200)
        else:
            body = json.dumps({"error_message": "no such node"}).encode()
            self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def api_stub(netns):
    """An HTTP server on host A (198.18.0.1:6385) recording requests."""
    requests = []
    handler = type("Handler", (_Recorder,), {"requests": requests})
    server = http.server.ThreadingHTTPServer((A4, 6385), handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield requests
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def agent_venv(tmp_path_factory):
    """A venv holding ironic-python-agent 13.0.0 from its PyPI wheel, then
    the element's install step run against it."""
    wheelhouse = _need(WHEELHOUSE, "IRONICMDNS_WHEELHOUSE")
    ipa_wheels = _need(IPA_WHEELS, "IRONICMDNS_IPA_WHEELS")
    venv = tmp_path_factory.mktemp("agent") / "ironic-python-agent"
    peers_site = sysconfig.get_paths()["purelib"]
    python, site = _venv(venv, peers_site)
    ipa = [os.path.join(ipa_wheels, f) for f in os.listdir(ipa_wheels)
           if f.startswith("ironic_python_agent-13.0.0-")]
    assert len(ipa) == 1, os.listdir(ipa_wheels)
    _pip(python, ipa[0])
    _assert_own_copy(python, site, "ironic_python_agent")
    assert os.path.exists(os.path.join(venv, "bin", "ironic-python-agent"))
    # pip for the element's `python -m pip`: the peers' copy, seen through
    # the deps path line, is enough.
    env = dict(os.environ, DIB_IRONICMDNS_AGENT_VENV=str(venv),
               DIB_IRONICMDNS_WHEEL_DIR=wheelhouse)
    r = subprocess.run(["bash", os.path.join(ELEMENT, "post-install.d", "70-ironicmdns")],
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "checked: ironic_python_agent.mdns is ironicmdns.ipa" in r.stdout, r.stdout
    assert os.path.exists(os.path.join(site, "ironicmdns-agent.pth"))
    _assert_own_copy(python, site, "ironicmdns")
    return venv


def test_element_layout_follows_the_builder():
    assert open(os.path.join(ELEMENT, "element-deps")).read().split() == [
        "ironic-python-agent-ramdisk"]
    for script in ("extra-data.d/10-ironicmdns-wheel", "post-install.d/70-ironicmdns"):
        assert os.access(os.path.join(ELEMENT, script), os.X_OK), script
    env = subprocess.run(["bash", "-c", "set -u; . %s; echo $DIB_IRONICMDNS_AGENT_VENV "
                          "$DIB_IRONICMDNS_WHEEL_DIR"
                          % os.path.join(ELEMENT, "environment.d", "10-ironicmdns.bash")],
                         capture_output=True, text=True, check=True).stdout.split()
    assert env == ["/opt/ironic-python-agent", "/tmp/in_target.d/ironicmdns"]


def test_extra_data_copies_the_wheel_and_refuses_without_one(tmp_path):
    wheelhouse = _need(WHEELHOUSE, "IRONICMDNS_WHEELHOUSE")
    wheel = os.path.join(wheelhouse, os.listdir(wheelhouse)[0])
    script = os.path.join(ELEMENT, "extra-data.d", "10-ironicmdns-wheel")
    hooks = tmp_path / "hooks"
    env = dict(os.environ, TMP_HOOKS_PATH=str(hooks), DIB_IRONICMDNS_WHEEL=wheel)
    subprocess.run(["bash", script], env=env, check=True)
    assert os.listdir(hooks / "ironicmdns") == [os.path.basename(wheel)]
    env["DIB_IRONICMDNS_WHEEL"] = ""
    r = subprocess.run(["bash", script], env=env, capture_output=True, text=True)
    assert r.returncode != 0 and "DIB_IRONICMDNS_WHEEL is not set" in r.stderr


AGENT_CONF = """[DEFAULT]
debug = True
use_stderr = True
# Lookup through mDNS: no api_url, [mdns] use_mdns.
listen_host = {b4}
listen_port = 9999
# No root disk to wait for in a test host, no auto TLS, one short lookup.
disk_wait_attempts = 0
enable_auto_tls = False
lookup_timeout = 20
lookup_interval = 1

[mdns]
use_mdns = True
interfaces = {b4}
"""


# The hardware inventory tool the agent runs before its first request: a
# test host has no lshw, and the machine's own hardware is none of the
# test's business. The inventory it reports is empty.
FAKE_LSHW = """#!/bin/sh
echo '{"id": "ironicmdns-test-host", "class": "system", "children": []}'
"""
# udevadm settle: a test host has no udev to wait for.
FAKE_UDEVADM = "#!/bin/sh\nexit 0\n"
# The machine may have docker or podman: the agent would then load its
# container hardware manager. Not here.
NO_TOOL = "#!/bin/sh\nexit 127\n"


def _agent_argv(venv, conf, tmp_path):
    """The agent's console script on host B, as it runs in a ramdisk but
    confined: its own mount namespace with host B's sysfs (so it lists
    host B's interfaces), a fake lshw first on PATH, and no capabilities
    (it keeps uid 0, since the interpreter lives under /root, but cannot
    load modules, set the clock or touch the machine's devices)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("lshw", FAKE_LSHW), ("udevadm", FAKE_UDEVADM),
                       ("docker", NO_TOOL), ("podman", NO_TOOL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    agent = os.path.join(venv, "bin", "ironic-python-agent")
    inner = ("mount -t sysfs sysfs /sys && PATH=%s:$PATH exec setpriv --no-new-privs "
             "--inh-caps=-all --ambient-caps=-all --bounding-set=-all %s --config-file %s"
             % (bin_dir, agent, conf))
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", inner]


def test_the_agent_started_by_its_console_script_calls_the_discovered_api(
        hosts, api_stub, agent_venv, tmp_path):
    from ironicmdns import ironic as mdns
    conf = tmp_path / "agent.conf"
    conf.write_text(AGENT_CONF.format(b4=B4))
    zc = mdns.Zeroconf()
    try:
        zc.register_service("baremetal", "http://%s:6385" % A4, params={"ipa_debug": "1"})
        # The agent waits for a NIC it can report: a physical one (a
        # /sys/class/net/*/device), a bond or a VLAN-named one. The veth
        # to host A is none of these; a VLAN-named veth pair on host B is.
        rc, _, err = hosts.run_b(["sh", "-c", "ip link add ipa0.1 type veth peer name "
                                  "ipa1.1 && ip link set ipa0.1 up && ip link set ipa1.1 up"])
        assert rc == 0, err
        log = tmp_path / "agent.log"    # a file: a full pipe would stall the agent
        with open(log, "w") as log_file:
            agent = hosts.on_b(_agent_argv(agent_venv, conf, tmp_path),
                               stdout=subprocess.DEVNULL, stderr=log_file)
        deadline = time.monotonic() + 90
        while not api_stub and time.monotonic() < deadline and agent.poll() is None:
            time.sleep(0.1)
        agent.terminate()
        try:
            agent.wait(20)
        except subprocess.TimeoutExpired:
            agent.kill()
            agent.wait()
    finally:
        zc.close()
    err = log.read_text()
    assert api_stub, "no request reached the API stub; agent log:\n" + err[-6000:]
    first = api_stub[0]
    # The first request goes to the discovered URL (the API root or the
    # lookup endpoint), from host B.
    assert first["host"] == "%s:6385" % A4, first
    assert first["client"] == B4, first
    assert first["path"] == "/" or first["path"].startswith("/v1/lookup"), first
    # (e) our publisher's txtvers=1 is not handed to the agent's config;
    # the reference module would hand it over, and the agent would warn.
    # With the warning for ipa_debug (not in allowed_overrides) present,
    # this shows the agent applied the TXT record through our module.
    assert "Skipping configuration option debug" in err, err[-4000:]
    assert "Skipping unknown configuration option txtvers" not in err, err[-4000:]


@pytest.fixture
def conductor_venv(tmp_path_factory):
    """A venv that sees ironic 39.0.0 with all its dependencies, our wheel
    installed and activated for the conductor."""
    wheelhouse = _need(WHEELHOUSE, "IRONICMDNS_WHEELHOUSE")
    deps = _need(CONDUCTOR_SITE, "IRONICMDNS_CONDUCTOR_SITE")
    venv = tmp_path_factory.mktemp("conductor") / "venv"
    python, site = _venv(venv, deps)
    wheel = [os.path.join(wheelhouse, f) for f in os.listdir(wheelhouse)]
    _pip(python, *wheel)
    _assert_own_copy(python, site, "ironicmdns")
    r = subprocess.run([python, "-m", "ironicmdns.activate", "--conductor"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "checked: ironic.common.mdns is ironicmdns.ironic" in r.stdout
    return python


CONDUCTOR = r"""
import logging, signal, sys, threading
logging.basicConfig(level=logging.DEBUG, format="LOG %(name)s %(message)s")
from oslo_log import log
from ironic.conf import CONF
log.register_options(CONF)
CONF([], default_config_files=[])
CONF.set_override('auth_strategy', 'noauth')
CONF.set_override('endpoint_override', sys.argv[1], group='service_catalog')
CONF.set_override('debug', True)
from ironic.conductor import base_manager
import ironicmdns.ironic
assert base_manager.mdns is ironicmdns.ironic, base_manager.mdns
manager = base_manager.BaseConductorManager.__new__(base_manager.BaseConductorManager)
manager._publish_endpoint()
assert isinstance(manager._zeroconf, ironicmdns.ironic.Zeroconf)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
print("READY", flush=True)
stop.wait()
manager._zeroconf.close()
print("CLOSED", flush=True)
"""

UPSTREAM_AGENT_LOOKUP = r"""
import json
from oslo_config import cfg
from ironic_python_agent import mdns
assert mdns.__spec__.name == 'ironic_python_agent.mdns'   # the reference
cfg.CONF([], default_config_files=[])
print(json.dumps(mdns.get_endpoint('baremetal')))
"""


def test_ironics_own_conductor_code_publishes_through_ironicmdns(hosts, conductor_venv):
    url = "http://%s:6385/baremetal" % A4
    conductor = subprocess.Popen([conductor_venv, "-c", CONDUCTOR, url],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_line(conductor, "READY", timeout=120)
        rc, out, err = hosts.run_b(python_argv(os.path.join(PEERS, "ironic_lookup.py"),
                                               "baremetal"))
        assert rc == 0, err
        found = json.loads(out)
        assert found["url"] == url
        # CONF.debug: ironic adds ipa_debug=True (published as "True").
        assert found["params"] == {"ipa_debug": "True", "txtvers": "1"}
        rc, out, err = hosts.run_b([sys.executable, "-c", UPSTREAM_AGENT_LOOKUP])
        assert rc == 0, err
        got_url, params = json.loads(out.strip().splitlines()[-1])
        assert got_url == url
        assert params["ipa_debug"] == "True"
    finally:
        conductor.terminate()
        out, err = conductor.communicate(timeout=30)
    assert "CLOSED" in out, err
    # ironic's logger name (d): the drop-in logged the registration there.
    assert "LOG ironic.common.mdns Registering baremetal" in err, err[-3000:]
