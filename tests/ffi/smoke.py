#!/usr/bin/env python3
"""ctypes smoke test of libironicmdns's C ABI.

    smoke.py /path/to/libironicmdns.so.0

Run inside a private network namespace (tests/capi_ffi.rs does): the last
step opens mDNS sockets for a lookup that must come back "not found" fast.
Prints "ffi-python: ok" when every check passed; a step that reaches a part
of the library still being written prints "PENDING ..." and stops there.
"""
import ctypes as C
import sys
import time

ZC_OK = 0
ZC_ERR_INVALID_ARGUMENT = -1
ZC_ERR_NOT_FOUND = -4
ZC_ERR_INTERNAL = -10

lib = C.CDLL(sys.argv[1])
status = C.c_int32
opts_p = C.c_void_p
props_p = C.c_void_p


def proto(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


zc_version = proto("zc_version", C.c_char_p)
zc_strerror = proto("zc_strerror", C.c_char_p, status)
zc_string_free = proto("zc_string_free", None, C.c_void_p)
zc_last_error = proto("zc_last_error", C.c_size_t, C.c_void_p, C.c_char_p, C.c_size_t)
zc_options_new = proto("zc_options_new", status, C.POINTER(opts_p))
zc_options_set = proto("zc_options_set", status, opts_p, C.c_char_p, C.c_char_p)
zc_options_last_error = proto("zc_options_last_error", C.c_size_t, opts_p, C.c_char_p, C.c_size_t)
zc_options_free = proto("zc_options_free", None, opts_p)
zc_option_count = proto("zc_option_count", C.c_size_t)
zc_option_info = proto("zc_option_info", status, C.c_size_t, *[C.POINTER(C.c_char_p)] * 5)
zc_props_new = proto("zc_props_new", status, C.POINTER(props_p))
zc_props_set = proto("zc_props_set", status, props_p, C.c_char_p, C.c_char_p, C.c_size_t)
zc_props_count = proto("zc_props_count", C.c_size_t, props_p)
zc_props_get_at = proto("zc_props_get_at", status, props_p, C.c_size_t, C.POINTER(C.c_char_p),
                        C.POINTER(C.c_void_p), C.POINTER(C.c_size_t), C.POINTER(C.c_int))
zc_props_free = proto("zc_props_free", None, props_p)
zc_lookup_with_options = proto("zc_lookup_with_options", status, opts_p, C.c_char_p,
                               C.POINTER(C.c_void_p), C.POINTER(props_p))

failures = []


def check(what, ok):
    if not ok:
        failures.append(what)
        print("FAIL", what, file=sys.stderr)


def options_detail(opts):
    n = zc_options_last_error(opts, None, 0)
    buf = C.create_string_buffer(n + 1)
    check("detail length is stable", zc_options_last_error(opts, buf, n + 1) == n)
    return buf.value.decode()


def pending(what, st, detail):
    if st == ZC_ERR_INTERNAL and "not yet implemented" in detail:
        print("PENDING", what + ":", detail)
        return True
    return False


def finish():
    if failures:
        print("ffi-python: %d failure(s)" % len(failures), file=sys.stderr)
        sys.exit(1)
    print("ffi-python: ok")
    sys.exit(0)


# version and static texts
check("zc_version", zc_version().decode().count(".") == 2)
check("strerror(ZC_OK)", zc_strerror(ZC_OK) == b"success")
check("strerror(not found)", zc_strerror(ZC_ERR_NOT_FOUND) == b"not found")
check("strerror(unknown)", zc_strerror(12345) == b"unknown status code")

# properties: binary value, key without value, replace in place
props = props_p()
check("props_new", zc_props_new(C.byref(props)) == ZC_OK)
check("set binary", zc_props_set(props, b"bin", b"\xe2\x28\xa1\x00z", 5) == ZC_OK)
check("set no value", zc_props_set(props, b"flag", None, 0) == ZC_OK)
check("set bad key", zc_props_set(props, b"a=b", b"x", 1) == ZC_ERR_INVALID_ARGUMENT)
check("set non-UTF-8 key", zc_props_set(props, b"\xc3\x28", b"x", 1) == ZC_ERR_INVALID_ARGUMENT)
check("count", zc_props_count(props) == 2)
key, value, n, has = C.c_char_p(), C.c_void_p(), C.c_size_t(), C.c_int()
check("get_at 0", zc_props_get_at(props, 0, C.byref(key), C.byref(value), C.byref(n), C.byref(has)) == ZC_OK)
check("binary kept", key.value == b"bin" and has.value == 1 and C.string_at(value, n.value) == b"\xe2\x28\xa1\x00z")
check("get_at 1", zc_props_get_at(props, 1, C.byref(key), C.byref(value), C.byref(n), C.byref(has)) == ZC_OK)
check("no value", key.value == b"flag" and has.value == 0 and not value.value)
check("get_at out of range", zc_props_get_at(props, 2, None, None, None, None) == ZC_ERR_INVALID_ARGUMENT)
zc_props_free(props)
zc_props_free(None)

# thread detail, snprintf-style
check("NULL out", zc_props_new(None) == ZC_ERR_INVALID_ARGUMENT)
small = C.create_string_buffer(4)
full = zc_last_error(None, small, 4)
check("detail cut", full == len("zc_props_new: out is NULL") and small.value == b"zc_")

# options
opts = opts_p()
check("options_new", zc_options_new(C.byref(opts)) == ZC_OK)
check("non-UTF-8 name", zc_options_set(opts, b"\xff", b"1") == ZC_ERR_INVALID_ARGUMENT)
check("detail names the argument", "name is not valid UTF-8" in options_detail(opts))
st = zc_options_set(opts, b"lookup_attempts", b"1")
if pending("options", st, options_detail(opts)):
    zc_options_free(opts)
    finish()
check("lookup_attempts", st == ZC_OK)
check("lookup_timeout", zc_options_set(opts, b"lookup_timeout", b"0.2") == ZC_OK)
check("unknown option", zc_options_set(opts, b"no_such_option", b"1") == ZC_ERR_INVALID_ARGUMENT)
check("unknown option detail", "no_such_option" in options_detail(opts))

names = []
for i in range(zc_option_count()):
    out = [C.c_char_p() for _ in range(5)]
    check("option_info", zc_option_info(i, *[C.byref(o) for o in out]) == ZC_OK)
    names.append(out[1].value.decode())
for name in ("registration_attempts", "lookup_attempts", "params", "interfaces"):
    check("listing has " + name, name in names)

# a lookup nobody answers: not found, quickly, outputs untouched
url, found = C.c_void_p(), props_p()
started = time.monotonic()
st = zc_lookup_with_options(opts, b"nobody-serves-this", C.byref(url), C.byref(found))
elapsed = time.monotonic() - started
detail = options_detail(opts)
if not pending("lookup", st, detail):
    check("lookup not found (%d: %s)" % (st, detail), st == ZC_ERR_NOT_FOUND)
    check("detail names the service", "nobody-serves-this" in detail)
    check("quick (%.2f s)" % elapsed, elapsed < 5.0)
    check("outputs untouched", not url.value and not found.value)
zc_options_free(opts)
finish()
