"""TXT values as the reference treats them, in both directions: the same
properties published by ironic_lib and by ironicmdns read the same by
ironic_lib and by ironicmdns."""

import base64
import json
import os

import pytest

import ironicmdns
from conftest import A4, B4, HELPERS, PEERS, python_argv, wait_line

# (command-line form, what a lookup returns in Python)
PROPS = [
    ("text=v", "text", "v"),
    ("empty=", "empty", ""),
    ("novalue", "novalue", None),
    ("utf=\u00e9t\u00e9", "utf", "\u00e9t\u00e9"),
    ("--hex=bin=e228a1", "bin", b"\xe2\x28\xa1"),
]


def argv(script):
    args = [p for p, _, _ in PROPS if not p.startswith("--hex")]
    hexes = [p.split("=", 1)[1] for p, _, _ in PROPS if p.startswith("--hex")]
    out = [os.path.join(*script), "baremetal", "http://%s:6385/baremetal" % B4] + args
    for h in hexes:
        out += ["--hex", h]
    return python_argv(*out)


def decoded(params):
    """ironic_lookup.py's JSON back to Python values."""
    return {k: base64.b64decode(v["b64"]) if isinstance(v, dict) else v
            for k, v in params.items()}


@pytest.mark.parametrize("publisher", [(PEERS, "ironic_publish.py"),
                                       (HELPERS, "publish.py")])
def test_both_lookups_read_both_publishers_alike(hosts, publisher):
    pub = hosts.on_b(argv(publisher))
    wait_line(pub, "READY")
    want = {k: v for _, k, v in PROPS}
    if publisher[1] == "publish.py":
        want["txtvers"] = "1"
    url, props = ironicmdns.lookup("baremetal")
    assert url == "http://%s:6385/baremetal" % B4
    assert props == want
    # The reference on host A, as a separate process: the same result.
    from conftest import run_a
    r = run_a(python_argv(os.path.join(PEERS, "ironic_lookup.py"), "baremetal"))
    assert r.returncode == 0, r.stderr
    ref = json.loads(r.stdout)
    assert ref["url"] == url
    assert decoded(ref["params"]) == props


def test_values_that_are_not_text_are_sent_as_str(hosts):
    # python-zeroconf's rule: bytes as they are, None without '=', anything
    # else str(value) in UTF-8; bytes keys as they are.
    with ironicmdns.Zeroconf() as zc:
        zc.register_service("baremetal", "http://%s:6385" % A4,
                            {"num": 42, "flag": True, b"bkey": b"raw", "f": 1.5})
        rc, out, err = hosts.run_b(python_argv(os.path.join(PEERS, "ironic_lookup.py"),
                                               "baremetal"))
    assert rc == 0, err
    got = json.loads(out)["params"]
    assert got == {"num": "42", "flag": "True", "bkey": "raw", "f": "1.5", "txtvers": "1"}
