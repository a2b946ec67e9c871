"""The C ABI of libironicmdns through ctypes: every argtypes/restype here.

The library is found, first match wins, at $IRONICMDNS_LIBRARY, inside this
package (the wheel bundles it), or as the system's libironicmdns.so.0.
Strings the library allocates come back as c_void_p and are freed with
zc_string_free (a c_char_p result would leak them).

Loading checks the library: every function below must be there and
``zc_version()`` must be this package's version, else ImportError naming
what is wrong (an older system library, a stale IRONICMDNS_LIBRARY).
"""

import ctypes
import os

from ironicmdns._version import __version__ as EXPECTED_VERSION

ZC_OK = 0
ZC_ERR_INVALID_ARGUMENT = -1
ZC_ERR_REGISTRATION = -2
ZC_ERR_NAME_CONFLICT = -3
ZC_ERR_NOT_FOUND = -4
ZC_ERR_NO_VALID_ADDRESS = -5
ZC_ERR_DECODE = -6
ZC_ERR_IO = -7
ZC_ERR_CLOSED = -8
ZC_ERR_POISONED = -9
ZC_ERR_INTERNAL = -10
ZC_ERR_AUTH = -11
ZC_ERR_CANCELLED = -12

ZC_ENDPOINT_VALIDATED = 1

ZC_LOG_DEBUG = 0
ZC_LOG_WARNING = 1
ZC_LOG_ERROR = 2

ZC_MAX_INPUT = 4096


def _candidates():
    env = os.environ.get("IRONICMDNS_LIBRARY")
    if env:
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("libironicmdns.so.0", "libironicmdns.so"):
        if os.path.exists(os.path.join(here, name)):
            yield os.path.join(here, name)
    yield "libironicmdns.so.0"
    # last: find_library runs ldconfig or the compiler (slow)
    import ctypes.util
    found = ctypes.util.find_library("ironicmdns")
    if found:
        yield found


def _load():
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path), path
        except OSError as exc:
            errors.append("%s: %s" % (path, exc))
    raise ImportError("ironicmdns: cannot load libironicmdns (%s)" % "; ".join(errors))


lib, path = _load()

status = ctypes.c_int32
vp = ctypes.c_void_p          # opaque handles and library-owned strings
cp = ctypes.c_char_p          # input strings (bytes), static output strings
P = ctypes.POINTER
LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)

_PROTOTYPES = {
    "zc_strerror": (cp, [status]),
    "zc_version": (cp, []),
    "zc_string_free": (None, [vp]),
    "zc_new": (status, [vp, P(vp)]),
    "zc_register_service": (status, [vp, cp, cp, vp]),
    "zc_get_endpoint": (status, [vp, cp, ctypes.c_int, ctypes.c_int, P(vp), P(vp)]),
    "zc_wait_lost": (status, [vp, ctypes.c_int32, P(vp)]),
    "zc_last_error": (ctypes.c_size_t, [vp, ctypes.c_char_p, ctypes.c_size_t]),
    "zc_close": (status, [vp]),
    "zc_lookup_with_options": (status, [vp, cp, P(vp), P(vp)]),
    "zc_options_new": (status, [P(vp)]),
    "zc_options_set": (status, [vp, cp, cp]),
    "zc_options_load_file": (status, [vp, cp]),
    "zc_options_last_error": (ctypes.c_size_t, [vp, ctypes.c_char_p, ctypes.c_size_t]),
    "zc_options_free": (None, [vp]),
    "zc_option_count": (ctypes.c_size_t, []),
    "zc_option_info": (status, [ctypes.c_size_t] + [P(cp)] * 5),
    "zc_sample_config": (status, [P(vp)]),
    "zc_props_new": (status, [P(vp)]),
    "zc_props_set": (status, [vp, cp, cp, ctypes.c_size_t]),
    "zc_props_count": (ctypes.c_size_t, [vp]),
    "zc_props_get_at": (status, [vp, ctypes.c_size_t, P(cp), P(vp), P(ctypes.c_size_t),
                                 P(ctypes.c_int)]),
    "zc_props_free": (None, [vp]),
    "zc_browse": (status, [vp, ctypes.c_uint32, P(vp)]),
    "zc_services_count": (ctypes.c_size_t, [vp]),
    "zc_services_get_at": (status, [vp, ctypes.c_size_t, P(cp), P(cp), P(cp), P(vp)]),
    "zc_services_free": (None, [vp]),
    "zc_set_log_callback": (status, [LOG_FN, vp]),
    "zc_cancel_new": (status, [P(vp)]),
    "zc_cancel_trigger": (status, [vp]),
    "zc_cancel_free": (None, [vp]),
    "zc_register_service_ex": (status, [vp, cp, cp, vp, vp]),
    "zc_get_endpoint_ex": (status, [vp, cp, ctypes.c_int, ctypes.c_int, vp, P(vp), P(vp),
                                    P(ctypes.c_uint32)]),
    "zc_browse_ex": (status, [vp, ctypes.c_uint32, vp, P(vp)]),
    "zc_wait_lost_ex": (status, [vp, ctypes.c_int32, vp, P(vp)]),
}


def _bind(library, where):
    """Prototypes on ``library``; ImportError for a missing function or
    another version than the package's."""
    missing = [n for n in _PROTOTYPES if not hasattr(library, n)]
    if missing:
        raise ImportError(
            "ironicmdns %s: the library at %s lacks %s (an older libironicmdns?); "
            "install libironicmdns %s or set IRONICMDNS_LIBRARY"
            % (EXPECTED_VERSION, where, ", ".join(missing), EXPECTED_VERSION))
    for name, (res, args) in _PROTOTYPES.items():
        f = getattr(library, name)
        f.restype = res
        f.argtypes = args
    found = library.zc_version().decode("utf-8", "replace")
    if found != EXPECTED_VERSION:
        raise ImportError(
            "ironicmdns %s needs libironicmdns %s, but %s is version %s; "
            "install the matching library or set IRONICMDNS_LIBRARY"
            % (EXPECTED_VERSION, EXPECTED_VERSION, where, found))


_bind(lib, path)


def take_string(ptr):
    """A library-owned string (c_void_p value) as str; freed here."""
    if not ptr:
        return None
    try:
        return ctypes.string_at(ptr).decode("utf-8")
    finally:
        lib.zc_string_free(ptr)


def _copy(fn, obj):
    n = fn(obj, None, 0)
    buf = ctypes.create_string_buffer(n + 1)
    fn(obj, buf, n + 1)
    return buf.value.decode("utf-8", "replace")


def handle_detail(zc):
    """Detail of the last failure on a handle (NULL: the calling thread's)."""
    return _copy(lib.zc_last_error, zc)


def options_detail(opts):
    return _copy(lib.zc_options_last_error, opts)


def strerror(st):
    return lib.zc_strerror(st).decode("utf-8")
