"""Shared helpers for the peer drivers (run by tests/peers.rs, in private
network namespaces only; see docs/PEERS.md).

Property encoding on the command line (publishers):
    KEY=VALUE      text value
    KEY            key without value (None)
    KEY=           empty value
    --hex KEY=HEX  raw bytes value, e.g. --hex binary=e228a1
Property encoding in JSON output: a text value is a JSON string, a key
without value is null, a value that is not UTF-8 is {"b64": "..."}.
"""

import base64
import json
import logging
import os
import sys


def setup_logging():
    debug = bool(os.environ.get("PEER_DEBUG"))
    level = logging.DEBUG if debug else logging.WARNING
    logging.basicConfig(stream=sys.stderr, level=level,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not debug:
        # python-zeroconf warns about sends on lo (::1) it cannot make
        logging.getLogger("zeroconf").setLevel(logging.ERROR)


def configure(options):
    """oslo.config with no files; [mdns] options from NAME=VALUE strings."""
    from oslo_config import cfg
    import ironic_lib.mdns  # noqa: F401  (registers the [mdns] options)

    cfg.CONF([], project="ironic-peer", default_config_files=[],
             default_config_dirs=[])
    for opt in options:
        name, _, value = opt.partition("=")
        if name == "interfaces":
            value = [v for v in value.split(",") if v]
        elif name in ("registration_attempts", "lookup_attempts"):
            value = int(value)
        elif name == "params":
            # same syntax as a config file: k1:v1,k2:v2
            from oslo_config import types
            value = types.Dict(types.String(quotes=True))(value)
        cfg.CONF.set_override(name, value, group="mdns")
    return cfg.CONF


def parse_props(args, hex_args):
    props = {}
    for arg in args:
        if "=" in arg:
            key, value = arg.split("=", 1)
            props[key] = value
        else:
            props[arg] = None
    for arg in hex_args:
        key, value = arg.split("=", 1)
        props[key] = bytes.fromhex(value)
    return props


def decode_props(obj):
    """{KEY: "text" | null | {"hex": HEX}} -> ironic_lib params."""
    props = {}
    for key, value in obj.items():
        if isinstance(value, dict):
            value = bytes.fromhex(value["hex"])
        props[key] = value
    return props


def encode_value(value):
    if value is None:
        return None
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"b64": base64.b64encode(value).decode("ascii")}
    return value


def encode_props(props):
    out = {}
    for key, value in props.items():
        if isinstance(key, bytes):
            try:
                key = key.decode("utf-8")
            except UnicodeDecodeError:
                key = "b64:" + base64.b64encode(key).decode("ascii")
        out[key] = encode_value(value)
    return out


def emit(obj):
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()
