"""What the package checks and promises outside the network code: the
library it loads (functions present, same version as the package), one
version for the crate and the package, type information, every library
option as a keyword, and a dropped Zeroconf closing itself with goodbyes."""

import base64
import gc
import os
import re
import subprocess
import sys
import weakref

import pytest

import ironicmdns
from ironicmdns import _lib
from conftest import A4, B4, HELPERS, ROOT, python_argv, wait_line


def _stub_library(tmp_path, version, leave_out=()):
    """A shared library with the package's C functions as stubs (each
    returns 0), ``zc_version`` returning ``version``, without the names in
    ``leave_out``: a library of another version, or an older one."""
    cc = os.environ.get("CC", "cc")
    lines = ['const char *zc_version(void) { return "%s"; }' % version]
    for name in _lib._PROTOTYPES:
        if name != "zc_version" and name not in leave_out:
            lines.append("int %s(void) { return 0; }" % name)
    src = tmp_path / "stub.c"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "libironicmdns-stub.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(out), str(src)], check=True)
    return str(out)


def _import_with(library):
    return subprocess.run([sys.executable, "-c", "import ironicmdns"], capture_output=True,
                          text=True, env=dict(os.environ, IRONICMDNS_LIBRARY=library))


def test_a_library_of_another_version_is_an_import_error_naming_both(tmp_path):
    r = _import_with(_stub_library(tmp_path, "0.0.9"))
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: "), r.stderr
    assert "0.0.9" in last and ironicmdns.__version__ in last, last


def test_an_older_library_missing_a_function_is_an_import_error(tmp_path):
    r = _import_with(_stub_library(tmp_path, ironicmdns.__version__,
                                   leave_out=("zc_browse", "zc_wait_lost")))
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: "), r.stderr
    assert "lacks" in last and "zc_wait_lost" in last and "zc_browse" in last, last
    assert "older libironicmdns" in last, last
    assert "AttributeError" not in r.stderr


def test_the_same_version_everywhere():
    with open(os.path.join(ROOT, "Cargo.toml")) as f:
        crate = re.search(r'^\[package\][^\[]*?^version\s*=\s*"([^"]+)"', f.read(),
                          re.M | re.S).group(1)
    from importlib import metadata
    assert ironicmdns.__version__ == crate
    assert ironicmdns.version() == crate
    assert metadata.version("ironicmdns") == crate


def test_type_information_ships():
    assert os.path.exists(os.path.join(os.path.dirname(ironicmdns.__file__), "py.typed"))
    hints = ironicmdns.Zeroconf.get_endpoint.__annotations__
    assert set(hints) == {"service_type", "skip_loopback", "skip_link_local", "return"}


def _value_for(option):
    """A Python value of the option's type, from its default text."""
    t, d = option["type"], option["default"]
    if t == "integer":
        return int(d)
    if t == "floating point":
        return float(d)
    if t == "list":
        return d.split(",") if d else []
    return d


# RFC 8080 s6.1's Ed25519 key pair, as dnssec-keygen writes it, and its DS.
_ED_PRIVATE = ("Private-key-format: v1.2\nAlgorithm: 15 (ED25519)\n"
               "PrivateKey: ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI=\n")
_ED_KEY = ("example.com. 3600 IN DNSKEY 257 3 15 "
           "l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=\n")
_ED_DS = "3613:15:2:3aa5ab37efce57f737fc1627013fee07bdf241bd10f3b1964ab55c78e79a304b"


def test_every_option_of_the_librarys_table_is_a_keyword(tmp_path):
    table = ironicmdns.options()
    names = {o["name"] for o in table}
    assert {"domain", "dns_servers", "tsig_key_file", "tsig_key", "discovery",
            "lookup_timeout", "interfaces", "trust_anchor", "trust_clock_skew",
            "signing_key_file"} <= names
    # Unset means off for these two, and an empty value is refused: give
    # each a real one.
    (tmp_path / "Kexample.com.+015+03613.private").write_text(_ED_PRIVATE)
    (tmp_path / "Kexample.com.+015+03613.key").write_text(_ED_KEY)
    real = {"trust_anchor": [_ED_DS],
            "signing_key_file": tmp_path / "Kexample.com.+015+03613.private"}
    for name in real:
        with pytest.raises(ironicmdns.InvalidArgument):
            ironicmdns._Options(**{name: ""})
    for option in table:
        value = real.get(option["name"], _value_for(option))
        with ironicmdns._Options(**{option["name"]: value}):
            pass
    with pytest.raises(TypeError) as info:
        ironicmdns._Options(no_such_option=1)
    assert "no_such_option" in str(info.value) and "discovery" in str(info.value)


SECRET = base64.b64encode(b"k" * 32).decode()


@pytest.mark.parametrize("kwargs, fragment", [
    ({"tsig_key": "hmac-md5:k1:" + SECRET}, "hmac-md5"),
    ({"discovery": "carrier-pigeon"}, "discovery"),
    ({"dns_servers": ["not an address"]}, "dns_servers"),
    ({"domain": "bad..domain"}, "domain"),
    ({"tsig_key_file": "/nonexistent/key.conf"}, "/nonexistent/key.conf"),
])
def test_unicast_dns_options_are_checked_by_the_library(kwargs, fragment):
    with pytest.raises(ironicmdns.Error) as info:
        ironicmdns._Options(**kwargs)
    assert fragment in info.value.message, info.value.message


def test_unicast_dns_options_reach_the_library(netns, tmp_path):
    key = tmp_path / "k.conf"
    key.write_text('key "k1" { algorithm hmac-sha256; secret "%s"; };\n' % SECRET)
    for tsig in ({"tsig_key": "hmac-sha256:k1:" + SECRET}, {"tsig_key_file": key}):
        with ironicmdns.Zeroconf(interfaces="127.0.0.1", domain="example.test",
                                 dns_servers=["127.0.0.1:5300"], discovery="mdns",
                                 **tsig) as zc:
            assert not zc.closed
    with pytest.raises(TypeError):
        ironicmdns.Zeroconf(interfaces="127.0.0.1", lookup_timeout="3")


def test_a_dropped_zeroconf_closes_itself_with_goodbyes(hosts):
    listener = hosts.on_b(python_argv(os.path.join(HELPERS, "goodbye_listener.py"), B4,
                                      "baremetal", 10))
    wait_line(listener, "READY")
    zc = ironicmdns.Zeroconf(interfaces=A4)
    zc.register_service("baremetal", "http://%s:6385/baremetal" % A4)
    handle = zc._handle
    ref = weakref.ref(zc)
    del zc
    gc.collect()
    assert ref() is None
    assert handle.closed and not handle.ptr
    line = wait_line(listener, "GOODBYE", timeout=15)
    assert line.startswith("GOODBYE baremetal._openstack._tcp.local."), line
    listener.wait(5)


def test_a_zeroconf_left_open_at_exit_says_goodbye(hosts):
    listener = hosts.on_b(python_argv(os.path.join(HELPERS, "goodbye_listener.py"), B4,
                                      "baremetal", 10))
    wait_line(listener, "READY")
    code = ("import ironicmdns; zc = ironicmdns.Zeroconf(interfaces=%r); "
            "zc.register_service('baremetal', 'http://%s:6385/baremetal'); "
            "import sys; sys.modules['__main__'].keep = zc" % (A4, A4))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    wait_line(listener, "GOODBYE", timeout=15)
    listener.wait(5)
