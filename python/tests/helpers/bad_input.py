#!/usr/bin/env python3
"""Feed bad input to the reference or to ironicmdns; print what each case
raised, one JSON object {case: "module.Class" | "ok"}.

    bad_input.py ref|ours

ref: ironic_lib.mdns (the same register_service as ironic.common.mdns) and
ironic_python_agent.mdns; ours: ironicmdns.ironic and ironicmdns.ipa. Runs
on a private host with 198.18.0.1 (tests/conftest.py).
"""
import json
import sys

from oslo_config import cfg

REGISTER = {
    "unresolvable host": ("baremetal", "http://no-such-host.invalid:6385"),
    "port not a number": ("baremetal", "http://198.18.0.1:abc"),
    "not a url": ("baremetal", "not a url"),
    "endpoint None": ("baremetal", None),
    "service type None": (None, "http://198.18.0.1:6385"),
    "key not str": ("bm2", "http://198.18.0.1:6385", {1: "1"}),
    "empty service type": ("", "http://198.18.0.1:6385"),
    "service type too long": ("x" * 64, "http://198.18.0.1:6385"),
}
LOOKUP = {
    "lookup nobody": "nobody",
    "lookup None": None,
    "lookup empty": "",
    "lookup too long": "x" * 64,
}


def outcome(f):
    try:
        f()
        return "ok"
    except Exception as exc:
        return "%s.%s" % (type(exc).__module__, type(exc).__name__)


def main():
    if sys.argv[1] == "ref":
        from ironic_lib import mdns as server
        from ironic_python_agent import mdns as client
    else:
        from ironicmdns import ipa as client
        from ironicmdns import ironic as server
    cfg.CONF([], default_config_files=[])
    cfg.CONF.set_override("registration_attempts", 1, group="mdns")
    cfg.CONF.set_override("lookup_attempts", 1, group="mdns")
    out = {}
    zc = server.Zeroconf()
    for case, args in REGISTER.items():
        out[case] = outcome(lambda: zc.register_service(*args))
    zc.close()
    zc = client.Zeroconf()
    for case, name in LOOKUP.items():
        out[case] = outcome(lambda: zc.get_endpoint(name))
    zc.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
