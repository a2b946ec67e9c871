#!/usr/bin/env python3
"""Run ironic-python-agent's own start-up lookup with ironicmdns.ipa as its
mdns module: construct ironic_python_agent.agent.IronicPythonAgent the way
its command line does (api_url "mdns", or none with [mdns] use_mdns), which
calls mdns.get_endpoint('baremetal') and applies the TXT overrides
(config.override, [mdns] allowed_overrides). Prints one JSON object:
{"api_urls": [...] | null, "ntp_server": ..., "listen_port": ..., "error": ...}.

    ipa_agent.py mdns|implicit|implicit-off [--lookup-attempts N]
"""
import json
import sys

import ironicmdns.ipa

# Before anything imports the agent: its mdns module is ours.
sys.modules["ironic_python_agent.mdns"] = ironicmdns.ipa

from oslo_config import cfg  # noqa: E402

from ironic_python_agent import agent  # noqa: E402
from ironic_python_agent import errors  # noqa: E402

CONF = cfg.CONF


def main():
    mode = sys.argv[1]
    CONF([], default_config_files=[])
    if sys.argv[2:4] and sys.argv[2] == "--lookup-attempts":
        CONF.set_override("lookup_attempts", int(sys.argv[3]), group="mdns")
    assert agent.mdns is ironicmdns.ipa
    if mode == "implicit":
        CONF.set_override("use_mdns", True, group="mdns")
    api_url = "mdns" if mode == "mdns" else None
    try:
        a = agent.IronicPythonAgent(
            api_url, agent.Host(hostname="198.18.0.1", port=9999),
            agent.Host(hostname="198.18.0.1", port=9999),
            ip_lookup_attempts=1, ip_lookup_sleep=0, network_interface=None,
            lookup_timeout=1, lookup_interval=1, standalone=False,
            agent_token=None)
        urls, error = a.api_urls, None
    except errors.ServiceLookupFailure as exc:
        urls, error = None, "%s.%s" % (type(exc).__module__, type(exc).__name__)
    print(json.dumps({"api_urls": urls, "ntp_server": CONF.ntp_server,
                      "listen_port": CONF.listen_port, "error": error}))


if __name__ == "__main__":
    main()
