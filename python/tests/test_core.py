"""The Pythonic core: options, errors with status and message, config
files, the context manager, lookup and browse between private hosts."""

import os
import time

import pytest

import ironicmdns
from ironicmdns import _lib
from conftest import B4, HELPERS, ROOT, python_argv, wait_line

CONFIG = os.path.join(ROOT, "tests", "data", "config")


def test_listing_sample_and_version():
    names = [o["name"] for o in ironicmdns.options()]
    assert names[:4] == ["registration_attempts", "lookup_attempts", "params", "interfaces"]
    assert all(o["group"] == "mdns" and o["help"] for o in ironicmdns.options())
    assert ironicmdns.sample_config().startswith("[mdns]\n")
    assert ironicmdns.version() == "0.1.0"


@pytest.mark.parametrize("kwargs, cls, status, fragment", [
    ({"lookup_attempts": 0}, ironicmdns.InvalidArgument, _lib.ZC_ERR_INVALID_ARGUMENT,
     "lookup_attempts"),
    ({"interfaces": ["eth0"]}, ironicmdns.InvalidArgument, _lib.ZC_ERR_INVALID_ARGUMENT,
     "interfaces"),
    ({"lookup_timeout": -1}, ironicmdns.InvalidArgument, _lib.ZC_ERR_INVALID_ARGUMENT,
     "lookup_timeout"),
    ({"config_files": ["/nonexistent/ironic.conf"]}, ironicmdns.IOFailure, _lib.ZC_ERR_IO,
     "/nonexistent/ironic.conf"),
    ({"interfaces": "198.18.0.77"}, ironicmdns.IOFailure, _lib.ZC_ERR_IO, "198.18.0.77"),
])
def test_bad_options_raise_with_status_and_message(netns, kwargs, cls, status, fragment):
    with pytest.raises(cls) as info:
        ironicmdns.Zeroconf(**kwargs)
    assert info.value.status == status
    assert fragment in info.value.message
    assert str(info.value) == info.value.message
    assert isinstance(info.value, ironicmdns.Error)


def test_bad_types_are_type_errors(netns):
    with pytest.raises(TypeError):
        ironicmdns.Zeroconf(lookup_attempts="3")
    with pytest.raises(TypeError):
        ironicmdns.Zeroconf(params={1: "x"})
    with ironicmdns.Zeroconf(interfaces="127.0.0.1") as zc:
        with pytest.raises(TypeError):
            zc.get_endpoint(b"baremetal")
        with pytest.raises(ironicmdns.InvalidArgument):
            zc.get_endpoint("bare\0metal")


def test_config_file_bad_value_names_file_and_line(netns, tmp_path):
    conf = tmp_path / "ironic.conf"
    conf.write_text("[DEFAULT]\ndebug = true\n\n[mdns]\nlookup_attempts = three\n")
    with pytest.raises(ironicmdns.InvalidArgument) as info:
        ironicmdns.Zeroconf(config_files=[str(conf)])
    assert "ironic.conf, line 5:" in info.value.message
    assert "[mdns] lookup_attempts" in info.value.message


def test_config_files_then_keywords_set_the_lookup(netns, tmp_path):
    fast = tmp_path / "fast.conf"
    fast.write_text("[mdns]\nlookup_attempts = 1\nlookup_timeout = 0.2\n")
    # ironic.conf: interfaces = 198.18.0.1, lookup_attempts = 2; then fast.conf.
    files = [os.path.join(CONFIG, "ironic.conf"), fast]   # str and os.PathLike
    t = time.monotonic()
    with pytest.raises(ironicmdns.NotFound) as info:
        ironicmdns.lookup("nobody", config_files=files, interfaces=["127.0.0.1"])
    took = time.monotonic() - t
    assert took < 1.5, took
    assert info.value.status == _lib.ZC_ERR_NOT_FOUND
    assert "nobody" in info.value.message


def test_context_manager_closes(netns):
    with ironicmdns.Zeroconf(interfaces=["127.0.0.1"]) as zc:
        assert not zc.closed
    assert zc.closed
    with pytest.raises(ironicmdns.Closed) as info:
        zc.get_endpoint("baremetal")
    assert info.value.status == _lib.ZC_ERR_CLOSED
    zc.close()   # twice is fine


def test_close_cancels_a_call_in_flight(netns):
    import threading
    zc = ironicmdns.Zeroconf(interfaces=["127.0.0.1"])
    done = []

    def browse():
        try:
            done.append(zc.browse(0.8))
        except ironicmdns.Closed as exc:
            done.append(exc)

    t = threading.Thread(target=browse)
    t.start()
    deadline = time.monotonic() + 10
    while not zc._handle.busy and time.monotonic() < deadline:
        time.sleep(0.01)        # until the browse is inside the library
    start = time.monotonic()
    zc.close()
    waited = time.monotonic() - start
    t.join()
    assert len(done) == 1 and isinstance(done[0], ironicmdns.Closed), done
    assert waited < 0.1, waited     # cancelled, not waited out
    with pytest.raises(ironicmdns.Closed):
        zc.browse(0.1)


def test_service_is_a_named_tuple():
    s = ironicmdns.Service("baremetal", "http://198.18.0.2:6385", None, {"a": "1"})
    assert s == ("baremetal", "http://198.18.0.2:6385", None, {"a": "1"})
    assert (s.service_type, s.url, s.error, s.params) == tuple(s)
    assert s._fields == ("service_type", "url", "error", "params")
    assert s._asdict()["url"] == "http://198.18.0.2:6385"
    assert s._replace(url=None, error="x") == ("baremetal", None, "x", {"a": "1"})
    assert repr(s) == ("Service(service_type='baremetal', url='http://198.18.0.2:6385', "
                       "error=None, params={'a': '1'})")
    import pickle
    assert pickle.loads(pickle.dumps(s)) == s


def test_import_loads_no_heavy_modules():
    import subprocess
    import sys
    code = ("import sys; import ironicmdns.ipa, ironicmdns.ironic; print(sorted("
            "{'threading', 'collections', 'weakref', 'logging', 'oslo_config', 'urllib'}"
            " & set(sys.modules)))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_lookup_and_browse_find_a_publisher_on_the_other_host(hosts):
    pub = hosts.on_b(python_argv(os.path.join(HELPERS, "publish.py"), "baremetal",
                                 "http://%s:6385/baremetal" % B4, "ipa_debug=1"))
    wait_line(pub, "READY")
    url, props = ironicmdns.lookup("baremetal")
    assert url == "http://%s:6385/baremetal" % B4
    assert props == {"ipa_debug": "1", "txtvers": "1"}
    services = ironicmdns.browse(1.5)
    assert ironicmdns.Service("baremetal", url, None, props) in services
    with pytest.raises(ironicmdns.InvalidArgument):
        ironicmdns.browse(61)


def test_a_taken_name_is_a_name_conflict(hosts):
    pub = hosts.on_b(python_argv(os.path.join(HELPERS, "publish.py"), "baremetal",
                                 "http://%s:6385/baremetal" % B4))
    wait_line(pub, "READY")
    with ironicmdns.Zeroconf(registration_attempts=2) as zc:
        with pytest.raises(ironicmdns.NameConflict) as info:
            zc.register_service("baremetal", "http://198.18.0.1:6385/baremetal")
    assert info.value.status == _lib.ZC_ERR_NAME_CONFLICT
    assert isinstance(info.value, ironicmdns.RegistrationFailure)


def test_every_status_of_the_header_has_its_exception():
    import re
    with open(os.path.join(ROOT, "include", "ironicmdns.h")) as f:
        codes = {int(v): n for n, v in re.findall(r"#define ZC_ERR_(\w+) (-\d+)", f.read())}
    assert len(codes) >= 11
    classes = {ironicmdns._error(code, "x").__class__ for code in codes}
    assert ironicmdns.Error not in classes          # each has its own subclass
    assert len(classes) == len(codes)
    for code, name in codes.items():
        assert getattr(_lib, "ZC_ERR_" + name) == code
