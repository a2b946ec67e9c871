"""oslo.config is imported only by processes that have it: a plain
get_endpoint / registration does not load it (nor logging, nor the agent's
or ironic's modules), and a process that imports oslo.config, before or
after our module, gets the [mdns] options registered and read from its
configuration files."""

import json
import os
import sys

import pytest

from conftest import A4, B4, PEERS, python_argv, run_a, wait_line

HEAVY = ("oslo_config", "ironic_python_agent", "ironic", "logging")


def _loaded_heavy():
    return ("sorted({m.split('.')[0] for m in sys.modules} & set(%r))" % (HEAVY,))


def test_plain_get_endpoint_imports_no_oslo_config(hosts):
    pub = hosts.on_b(python_argv(os.path.join(PEERS, "ironic_publish.py"), "baremetal",
                                 "http://%s:6385/baremetal" % B4))
    wait_line(pub, "READY")
    code = ("import sys; from ironicmdns.ipa import get_endpoint; url, _ = "
            "get_endpoint('baremetal'); import json; print(json.dumps([url, %s]))"
            % _loaded_heavy())
    r = run_a([sys.executable, "-c", code])
    assert r.returncode == 0, r.stderr
    url, heavy = json.loads(r.stdout)
    assert url == "http://%s:6385/baremetal" % B4
    assert heavy == []


def test_plain_import_of_both_drop_ins_imports_no_oslo_config(netns):
    code = ("import sys, json; from ironicmdns import ipa, ironic; "
            "print(json.dumps([%s, type(ipa.CONF).__name__, type(ironic.CONF).__name__, "
            "ipa.CONF.mdns.allowed_overrides, ironic.CONF.mdns.registration_attempts]))"
            % _loaded_heavy())
    r = run_a([sys.executable, "-c", code])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [[], "SimpleNamespace", "SimpleNamespace",
                                    ["inspection_callback_url", "ntp_server"], 5]


# The config file sets an address no interface has: the lookup / server
# creation fails naming it, which shows the option was read from the file.
@pytest.mark.parametrize("oslo_first", [True, False], ids=["oslo-first", "ours-first"])
@pytest.mark.parametrize("module", ["ipa", "ironic"])
def test_oslo_config_files_are_honoured_when_the_process_loads_it(netns, tmp_path,
                                                                   module, oslo_first):
    conf = tmp_path / "mdns.conf"
    conf.write_text("[mdns]\ninterfaces = 198.18.0.77\nlookup_attempts = 2\n")
    imports = ["from oslo_config import cfg", "from ironicmdns import %s as mdns" % module]
    if not oslo_first:
        imports.reverse()
    code = "\n".join(imports + [
        "import ironicmdns, json",
        "cfg.CONF(['--config-file', %r], default_config_files=[])" % str(conf),
        "assert mdns.CONF is cfg.CONF",
        "out = [cfg.CONF.mdns.lookup_attempts, cfg.CONF.mdns.interfaces]",
        "try:",
        "    mdns.Zeroconf()",
        # ironicmdns.ipa turns every failure into the agent's
        # ServiceLookupFailure (an ironicmdns.Error), keeping the status.
        "except ironicmdns.Error as exc:",
        "    assert exc.status == ironicmdns._lib.ZC_ERR_IO, exc.status",
        "    out.append(exc.message)",
        "print(json.dumps(out))",
    ])
    r = run_a([sys.executable, "-c", code])
    assert r.returncode == 0, r.stderr
    attempts, interfaces, *failure = json.loads(r.stdout)
    assert (attempts, interfaces) == (2, ["198.18.0.77"])
    assert failure and "198.18.0.77" in failure[0]


def test_use_mdns_is_registered_for_an_agent_importing_oslo_later(netns):
    # The agent's recipe: our module in sys.modules first, then oslo.config
    # and the agent, which sets [mdns] use_mdns and reads allowed_overrides.
    code = "\n".join([
        "import sys, json, ironicmdns.ipa",
        "sys.modules['ironic_python_agent.mdns'] = ironicmdns.ipa",
        "assert 'oslo_config' not in sys.modules",
        "from oslo_config import cfg",
        "cfg.CONF([], default_config_files=[])",
        "before = cfg.CONF.mdns.use_mdns",
        "cfg.CONF.set_override('use_mdns', True, group='mdns')",
        "cfg.CONF.set_override('allowed_overrides', ['ntp_server'], group='mdns')",
        "print(json.dumps([before, ironicmdns.ipa.overrides(",
        "    {'ipa_ntp_server': 'x', 'ipa_inspection_callback_url': 'y'}),",
        "    [o.name for _, opts in ironicmdns.ipa.list_opts() for o in opts]]))",
    ])
    r = run_a([sys.executable, "-c", code])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [False, {"ntp_server": "x"}, [
        "use_mdns", "allowed_overrides", "lookup_attempts", "params", "interfaces",
        "trust_anchor"]]


def test_list_opts_imports_oslo_config_itself(netns):
    code = ("import sys; from ironicmdns import ironic; "
            "print([type(o).__name__ for _, opts in ironic.list_opts() for o in opts], "
            "'oslo_config.cfg' in sys.modules)")
    r = run_a([sys.executable, "-c", code])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "['IntOpt', 'IntOpt', 'Opt', 'ListOpt', 'StrOpt'] True"


def test_lookup_failure_becomes_the_agents_once_its_errors_are_loaded(netns):
    from ironicmdns import ipa
    code = ("import sys, ironicmdns.ipa as ipa; plain = ipa.ServiceLookupFailure; "
            "assert 'ironic_python_agent' not in sys.modules; "
            "from ironic_python_agent import errors; "
            "both = ipa.ServiceLookupFailure; "
            "print(issubclass(both, errors.ServiceLookupFailure), issubclass(both, plain), "
            "issubclass(plain, errors.ServiceLookupFailure), both.__name__)")
    r = run_a([sys.executable, "-c", code])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "True True False ServiceLookupFailure"
    assert issubclass(ipa.ServiceLookupFailure, ipa._ServiceLookupFailure)


def test_a_plain_registration_imports_no_logging(hosts):
    code = ("import sys, time; from ironicmdns import ironic; zc = ironic.Zeroconf(); "
            "zc.register_service('baremetal', 'http://%s:6385/baremetal'); time.sleep(0.5); "
            "import json; print(json.dumps(%s)); zc.close()" % (A4, _loaded_heavy()))
    r = run_a([sys.executable, "-c", code])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == []


def test_library_log_messages_reach_logging(caplog):
    import logging
    import ironicmdns
    from ironicmdns import _lib
    saved = ironicmdns._log_name
    ironicmdns.log_as("ironicmdns")
    try:
        with caplog.at_level(logging.DEBUG, logger="ironicmdns"):
            ironicmdns._forward_log(_lib.ZC_LOG_DEBUG, b"probe sent", None)
            ironicmdns._forward_log(_lib.ZC_LOG_WARNING, b"name taken", None)
    finally:
        ironicmdns.log_as(saved)
    assert [(r.levelno, r.getMessage()) for r in caplog.records
            if r.name == "ironicmdns"] == [(logging.DEBUG, "probe sent"),
                                           (logging.WARNING, "name taken")]


def test_without_logging_loaded_debug_is_dropped_and_warnings_printed(netns):
    code = ("import sys, ironicmdns; from ironicmdns import _lib; "
            "ironicmdns._forward_log(_lib.ZC_LOG_DEBUG, b'probe sent', None); "
            "print('logging' in sys.modules); "
            "ironicmdns._forward_log(_lib.ZC_LOG_WARNING, b'name taken', None); "
            "print('logging' in sys.modules)")
    r = run_a([sys.executable, "-c", code])
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "True"]
    assert "name taken" in r.stderr and "probe sent" not in r.stderr
