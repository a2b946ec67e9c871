"""ironicmdns against the reference between two private hosts: ironic_lib
(python-zeroconf) on the other end, and ironic-python-agent's own start-up
code running with ironicmdns.ipa as its mdns module."""

import json
import os
import subprocess

import pytest

from conftest import A4, B4, HELPERS, PEERS, python_argv, run_a, wait_line


def test_ironic_module_publishes_ironic_lib_finds(hosts):
    # The conductor's call, in this process (host A).
    from ironicmdns import ironic as mdns
    zc = mdns.Zeroconf()
    try:
        zc.register_service("baremetal", "http://%s:6385/baremetal" % A4,
                            params={"ipa_debug": "1"})
        rc, out, err = hosts.run_b(python_argv(os.path.join(PEERS, "ironic_lookup.py"),
                                               "baremetal"))
    finally:
        zc.close()
    assert rc == 0, err
    found = json.loads(out)
    assert found["url"] == "http://%s:6385/baremetal" % A4
    assert found["params"] == {"ipa_debug": "1", "txtvers": "1"}


def test_ironic_lib_publishes_ipa_module_finds(hosts):
    pub = hosts.on_b(python_argv(os.path.join(PEERS, "ironic_publish.py"), "baremetal",
                                 "http://%s:6385/baremetal" % B4, "ipa_debug=1"))
    wait_line(pub, "READY")
    # The command of the "done when", as it is.
    r = run_a(["python", "-c", "from ironicmdns.ipa import get_endpoint; "
               "print(get_endpoint('baremetal'))"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "('http://%s:6385/baremetal', {'ipa_debug': '1'})" % B4


@pytest.fixture
def our_conductor(hosts):
    pub = hosts.on_b(python_argv(os.path.join(HELPERS, "publish.py"), "baremetal",
                                 "http://%s:6385/baremetal" % B4,
                                 "ipa_ntp_server=198.18.0.9", "ipa_listen_port=1234"))
    wait_line(pub, "READY")
    return pub


def agent(*args):
    r = run_a(python_argv(os.path.join(HELPERS, "ipa_agent.py"), *args))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("mode", ["mdns", "implicit"])
def test_the_agent_finds_our_conductor_through_its_own_code(our_conductor, mode):
    got = agent(mode)
    assert got["api_urls"] == ["http://%s:6385/baremetal" % B4]
    # TXT overrides: ntp_server is in [mdns] allowed_overrides, listen_port
    # is not.
    assert got["ntp_server"] == "198.18.0.9"
    assert got["listen_port"] == 9999
    assert got["error"] is None


def test_the_agent_does_not_look_up_without_use_mdns(our_conductor):
    got = agent("implicit-off")
    assert got["api_urls"] is None
    assert got["ntp_server"] is None


def test_the_agent_catches_our_lookup_failure_as_its_own(hosts):
    # Nobody publishes: the agent's `except errors.ServiceLookupFailure`
    # (in its IronicPythonAgent and in ipa_agent.py) gets ours.
    got = agent("mdns", "--lookup-attempts", "1")
    assert got["api_urls"] is None
    assert got["error"] == "ironicmdns.ipa.ServiceLookupFailure"


def test_bad_input_raises_the_reference_types(hosts):
    def outcomes(impl):
        r = run_a(python_argv(os.path.join(HELPERS, "bad_input.py"), impl), timeout=120)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout.strip().splitlines()[-1])

    ref, ours = outcomes("ref"), outcomes("ours")
    assert set(ref) == set(ours)
    # Names DNS cannot carry: the reference lets python-zeroconf's
    # BadTypeInNameException out; ours is a ValueError.
    leaky = {"empty service type", "service type too long", "lookup empty",
             "lookup too long"}
    for case in leaky:
        assert ref[case] == "zeroconf._exceptions.BadTypeInNameException", (case, ref)
        assert ours[case] == "ironicmdns.InvalidArgument", (case, ours)
    # A URL without a host: the reference resolves None (the loopback
    # addresses) and publishes them; ours refuses the URL.
    assert ref["not a url"] == "ok"
    assert ours["not a url"] == "ironicmdns.ironic.ServiceRegistrationFailure"
    deviations = leaky | {"not a url"}
    same_name = {case: (ref[case].rsplit(".", 1)[-1], ours[case].rsplit(".", 1)[-1])
                 for case in ref if case not in deviations}
    assert all(r == o for r, o in same_name.values()), same_name
    assert ref["port not a number"] == ours["port not a number"] == "builtins.ValueError"
    assert ours["unresolvable host"] == "ironicmdns.ironic.ServiceRegistrationFailure"
    assert ours["lookup nobody"] == "ironicmdns.ipa.ServiceLookupFailure"


FRESH = os.environ.get("IRONICMDNS_FRESH_PYTHON")


@pytest.mark.skipif(not FRESH, reason="IRONICMDNS_FRESH_PYTHON not set (20-python.sh sets it)")
def test_done_when_commands_in_a_fresh_venv(hosts):
    """`pip install ./python` into a fresh venv (no oslo.config there): the
    issue's two commands, against ironic_lib on host B."""
    pub = hosts.on_b(python_argv(os.path.join(PEERS, "ironic_publish.py"), "baremetal",
                                 "http://%s:6385/baremetal" % B4, "ipa_debug=1"))
    wait_line(pub, "READY")
    r = run_a([FRESH, "-c", "from ironicmdns.ipa import get_endpoint; "
               "print(get_endpoint('baremetal'))"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "('http://%s:6385/baremetal', {'ipa_debug': '1'})" % B4
    pub.terminate()
    wait_line(pub, "CLOSED")

    ours = subprocess.Popen(
        [FRESH, "-c", "import sys, time; from ironicmdns.ironic import Zeroconf; "
         "zc = Zeroconf(); zc.register_service('baremetal', "
         "'http://%s:6385/baremetal', {'ipa_debug': '1'}); print('READY', flush=True); "
         "sys.stdin.read(); zc.close()" % A4],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_line(ours, "READY")
        rc, out, err = hosts.run_b(python_argv(os.path.join(PEERS, "ironic_lookup.py"),
                                               "baremetal"))
        assert rc == 0, err
        found = json.loads(out)
        assert found["url"] == "http://%s:6385/baremetal" % A4
        assert found["params"]["ipa_debug"] == "1"
    finally:
        ours.stdin.close()
        ours.wait(10)
