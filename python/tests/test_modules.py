"""ironicmdns.ironic and ironicmdns.ipa as the modules they stand in for:
options registered with oslo.config, list_opts(), the exception classes of
ironic and of the agent, and the agent's override rule."""

import os
import subprocess
import sys

import pytest
from oslo_config import cfg

import ironicmdns
from ironicmdns import ipa
from ironicmdns import ironic

REQUIRE_PEERS = os.environ.get("IRONICMDNS_REQUIRE_PEERS") == "1"


def test_options_are_registered_with_oslo_config():
    assert cfg.CONF.mdns.use_mdns is False        # no ipa-use-mdns on this kernel
    assert cfg.CONF.mdns.allowed_overrides == ["inspection_callback_url", "ntp_server"]
    assert cfg.CONF.mdns.lookup_attempts == 3
    assert cfg.CONF.mdns.registration_attempts == 5
    assert cfg.CONF.mdns.params == {}
    assert cfg.CONF.mdns.interfaces is None
    assert [o.name for _, opts in ipa.list_opts() for o in opts] == [
        "use_mdns", "allowed_overrides", "lookup_attempts", "params", "interfaces",
        "trust_anchor"]
    assert [o.name for _, opts in ironic.list_opts() for o in opts] == [
        "registration_attempts", "lookup_attempts", "params", "interfaces",
        "signing_key_file"]


def test_oslo_config_generator_prints_our_namespaces(tmp_path):
    out = tmp_path / "sample.conf"
    gen = os.path.join(os.path.dirname(sys.executable), "oslo-config-generator")
    subprocess.run([gen, "--namespace", "ironicmdns.ipa", "--output-file", str(out)],
                   check=True)
    text = out.read_text()
    assert "[mdns]" in text
    assert "#use_mdns = false" in text
    assert "#allowed_overrides = inspection_callback_url,ntp_server" in text
    # and the file it wrote is read back by the library as all defaults
    with ironicmdns._Options(config_files=[str(out)]):
        pass


def test_use_mdns_default_follows_the_kernel_argument(tmp_path, monkeypatch):
    cmdline = tmp_path / "cmdline"
    cmdline.write_text("BOOT_IMAGE=/vmlinuz ipa-use-mdns=1 quiet\n")
    real_open = open

    def fake_open(path, *a, **kw):
        return real_open(cmdline if path == "/proc/cmdline" else path, *a, **kw)

    monkeypatch.setattr("builtins.open", fake_open)
    monkeypatch.delitem(sys.modules, "ironic_python_agent.utils", raising=False)
    assert ipa._kernel_use_mdns() == "1"
    assert ipa._truthy(ipa._kernel_use_mdns()) is True
    cmdline.write_text("quiet ipa-use-mdns\n")
    assert ipa._kernel_use_mdns() is False


def test_overrides_follow_allowed_overrides():
    params = {"ipa_ntp_server": "198.18.0.9", "ipa_debug": "1", "other": "x",
              "ipa_inspection_callback_url": "http://198.18.0.1:5050/v1/continue"}
    assert ipa.overrides(params) == {
        "ntp_server": "198.18.0.9",
        "inspection_callback_url": "http://198.18.0.1:5050/v1/continue"}
    cfg.CONF.set_override("allowed_overrides", [], group="mdns")
    try:
        assert ipa.overrides(params) == {}
    finally:
        cfg.CONF.clear_override("allowed_overrides", group="mdns")


def test_lookup_failure_is_the_agents():
    if REQUIRE_PEERS:
        from ironic_python_agent import errors
    else:
        errors = pytest.importorskip("ironic_python_agent.errors")
    exc = ipa.ServiceLookupFailure(service="baremetal")
    assert isinstance(exc, errors.ServiceLookupFailure)
    assert isinstance(exc, ironicmdns.LookupFailure)
    assert str(exc) == str(errors.ServiceLookupFailure(service="baremetal"))
    assert exc.status == ironicmdns._lib.ZC_ERR_NOT_FOUND


def test_registration_failure_is_ironics(netns):
    if REQUIRE_PEERS:
        from ironic.common import exception
    else:
        exception = pytest.importorskip("ironic.common.exception")
    caught = None
    with ironic.Zeroconf() as zc:
        try:
            zc.register_service("baremetal", "http://no-such-host.invalid:6385")
        except exception.ServiceRegistrationFailure as exc:
            caught = exc
    assert caught is not None
    assert isinstance(caught, exception.IronicException)
    assert isinstance(caught, ironicmdns.RegistrationFailure)
    assert str(caught).startswith("Cannot register baremetal service: ")
    assert "no-such-host.invalid" in str(caught)
    assert caught.kwargs["service"] == "baremetal"
    assert caught.status == ironicmdns._lib.ZC_ERR_REGISTRATION
