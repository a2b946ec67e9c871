"""mDNS / DNS-SD discovery for OpenStack bare metal, over libironicmdns.

    import ironicmdns
    with ironicmdns.Zeroconf() as zc:
        zc.register_service("baremetal", "http://198.18.0.1:6385/baremetal",
                            {"ipa_debug": "1"})
        ...
    url, props = ironicmdns.lookup("baremetal")

TXT properties follow the reference (ironic_lib.mdns on python-zeroconf):
given to ``register_service``, a key is str (sent as UTF-8) or bytes; a
value is None (a key without value), bytes (sent as they are), str (UTF-8),
or anything else (sent as ``str(value)`` in UTF-8). Returned by a lookup,
keys are str, a value is str when it is UTF-8, else bytes, and None for a
key without value.

Drop-ins for OpenStack's two mDNS modules: ``ironicmdns.ironic``
(``ironic.common.mdns``) and ``ironicmdns.ipa`` (``ironic_python_agent.mdns``).
"""

# Annotations stay strings: no typing import at run time.
from __future__ import annotations

# Only modules a bare interpreter has, or small ones: threading and
# collections (through functools) and weakref would add about 0.8 MiB to
# every process, a third of what this package itself costs (ctypes, the
# library). weakref (for weakref.finalize) is imported by the first
# Zeroconf: about 1 ms, paid by processes that open one.
import _thread
import atexit
import ctypes
import os
import sys

from ironicmdns import _lib
from ironicmdns._lib import lib
from ironicmdns._version import __version__

__all__ = [
    "__version__", "Zeroconf", "lookup", "browse", "Service", "options", "sample_config",
    "version", "Error", "InvalidArgument", "RegistrationFailure",
    "NameConflict", "LookupFailure", "NotFound", "NoValidAddress",
    "DecodeFailure", "IOFailure", "Closed", "Poisoned", "InternalError",
    "AuthFailure", "Cancelled",
]

# ---------------------------------------------------------------- errors


class Error(Exception):
    """A failed library call: ``status`` (a negative ZC_ERR_* code) and
    ``message`` (the library's detail text)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class InvalidArgument(Error, ValueError):
    """Unusable input: bad option, URL, service type or property."""


class RegistrationFailure(Error):
    """The service could not be registered."""


class NameConflict(RegistrationFailure):
    """Another host owns the service name (after every attempt)."""


class LookupFailure(Error):
    """A lookup failed."""


class NotFound(LookupFailure):
    """Nobody answered for the service."""


class NoValidAddress(LookupFailure):
    """Found, but none of the service's addresses is usable."""


class DecodeFailure(LookupFailure):
    """A TXT key of the service is not UTF-8."""


class IOFailure(Error):
    """No usable interface or socket."""


class Closed(Error):
    """The Zeroconf object is closed."""


class Poisoned(Closed):
    """The handle failed inside the library earlier and refuses work."""


class InternalError(Error):
    """A bug in the library."""


class AuthFailure(Error):
    """A unicast DNS answer was refused as unauthenticated (TSIG), or the
    server refused our key."""


class Cancelled(Error):
    """The call was cancelled (its cancel token was triggered)."""


_BY_STATUS = {
    _lib.ZC_ERR_INVALID_ARGUMENT: InvalidArgument,
    _lib.ZC_ERR_REGISTRATION: RegistrationFailure,
    _lib.ZC_ERR_NAME_CONFLICT: NameConflict,
    _lib.ZC_ERR_NOT_FOUND: NotFound,
    _lib.ZC_ERR_NO_VALID_ADDRESS: NoValidAddress,
    _lib.ZC_ERR_DECODE: DecodeFailure,
    _lib.ZC_ERR_IO: IOFailure,
    _lib.ZC_ERR_CLOSED: Closed,
    _lib.ZC_ERR_POISONED: Poisoned,
    _lib.ZC_ERR_INTERNAL: InternalError,
    _lib.ZC_ERR_AUTH: AuthFailure,
    _lib.ZC_ERR_CANCELLED: Cancelled,
}


def _error(status, detail):
    cls = _BY_STATUS.get(status, Error)
    return cls(status, detail or _lib.strerror(status))


def _check(status, detail):
    """Raise for a failed status; ``detail`` is called only then."""
    if status != _lib.ZC_OK:
        raise _error(status, detail())


# ---------------------------------------------------------------- logging


# The logger the library's own messages go to: "ironicmdns", or the name
# of the upstream module a drop-in stands in for once a drop-in is loaded
# (ironic_python_agent.mdns, ironic.common.mdns), so that the process's
# per-module log levels apply to them as they did to the reference.
_log_name = "ironicmdns"


def log_as(name: str) -> None:
    """Send the library's log messages to the logger ``name`` from now on
    (the drop-ins call it with the name of the module they stand in for)."""
    global _log_name
    _log_name = name


def _stand_in(module_name, name):
    """Make the loaded module ``module_name`` the module ``name`` in this
    process: in ``sys.modules`` and as the attribute of ``name``'s parent
    package (imported if need be). The drop-ins' ``stand_in``."""
    import importlib
    module = sys.modules[module_name]
    parent, _, child = name.rpartition(".")
    sys.modules[name] = module
    if parent:
        setattr(importlib.import_module(parent), child, module)


def _forward_log(level, message, _user):
    """The library's log messages to logging (the logger named by
    ``log_as``). A debug message is dropped while the process has not
    imported logging: nobody can have enabled debug then, and importing it
    (with re, threading, traceback: 1.5 MiB) for a message nobody sees
    would cost every process that registers. Warnings and errors import it
    (its last-resort handler prints them when nothing is configured)."""
    logging = sys.modules.get("logging")
    if logging is None:
        if level == _lib.ZC_LOG_DEBUG:
            return
        import logging
    py_level = {_lib.ZC_LOG_DEBUG: logging.DEBUG,
                _lib.ZC_LOG_WARNING: logging.WARNING}.get(level, logging.ERROR)
    logging.getLogger(_log_name).log(py_level, "%s", message.decode("utf-8", "replace"))


def _debug(logger, msg, *args):
    """A debug message, dropped while logging is not imported (nobody can
    have enabled debug then; see _forward_log)."""
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger(logger).debug(msg, *args)


_LOG_CALLBACK = _lib.LOG_FN(_forward_log)
lib.zc_set_log_callback(_LOG_CALLBACK, None)

# ---------------------------------------------------------------- conversion


def _text(value, what):
    """str for the C ABI: NUL-terminated UTF-8."""
    if not isinstance(value, str):
        raise TypeError("%s must be str, not %s" % (what, type(value).__name__))
    if "\0" in value:
        raise InvalidArgument(_lib.ZC_ERR_INVALID_ARGUMENT, "%s contains NUL" % what)
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidArgument(_lib.ZC_ERR_INVALID_ARGUMENT, "%s: %s" % (what, exc))


def _check_service_type(name):
    """A service type DNS can carry (SPEC 1): 1 to 63 bytes of UTF-8."""
    raw = _text(name, "service_type")
    if not 0 < len(raw) <= 63:
        raise InvalidArgument(_lib.ZC_ERR_INVALID_ARGUMENT,
                              "service type %r must be 1 to 63 bytes long" % name)
    return raw


def _key_bytes(key):
    if isinstance(key, str):
        return _text(key, "property key %r" % key)
    if isinstance(key, (bytes, bytearray)):
        key = bytes(key)
        try:
            key.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidArgument(_lib.ZC_ERR_INVALID_ARGUMENT,
                                  "property key %r is not UTF-8" % key)
        if b"\0" in key:
            raise InvalidArgument(_lib.ZC_ERR_INVALID_ARGUMENT,
                                  "property key %r contains NUL" % key)
        return key
    raise TypeError("property keys must be str or bytes, not %s" % type(key).__name__)


def _value_bytes(value):
    """The reference's rule (python-zeroconf ServiceInfo): None stays None,
    bytes are kept, anything else is str(value) in UTF-8."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return str(value).encode("utf-8")


def _props_in(params):
    """A new zc_props handle (caller frees) from a dict, or None."""
    if not params:
        return None
    items = [(_key_bytes(k), _value_bytes(v)) for k, v in params.items()]
    handle = ctypes.c_void_p()
    _check(lib.zc_props_new(ctypes.byref(handle)), lambda: _lib.handle_detail(None))
    try:
        for key, value in items:
            st = lib.zc_props_set(handle, key, value, len(value) if value is not None else 0)
            _check(st, lambda: _lib.handle_detail(None))
    except BaseException:
        lib.zc_props_free(handle)
        raise
    return handle


def _props_out(handle):
    """A dict from a zc_props handle (not freed here)."""
    out = {}
    key = ctypes.c_char_p()
    value = ctypes.c_void_p()
    length = ctypes.c_size_t()
    has = ctypes.c_int()
    for i in range(lib.zc_props_count(handle)):
        _check(lib.zc_props_get_at(handle, i, ctypes.byref(key), ctypes.byref(value),
                                   ctypes.byref(length), ctypes.byref(has)),
               lambda: _lib.handle_detail(None))
        k = key.value.decode("utf-8")
        if not has.value:
            out[k] = None
            continue
        raw = ctypes.string_at(value.value, length.value) if length.value else b""
        try:
            out[k] = raw.decode("utf-8")
        except UnicodeDecodeError:
            out[k] = raw
    return out


# ---------------------------------------------------------------- options


def _option_text(name, type_name, value):
    """The config-file text of an option value given in Python, by the
    option's type in the library's table (``options()``)."""
    if type_name == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("%s must be int, not %s" % (name, type(value).__name__))
        return str(value)
    if type_name == "floating point":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError("%s must be a number, not %s" % (name, type(value).__name__))
        return repr(float(value))
    if type_name == "list":
        if isinstance(value, str):
            return value
        return ",".join(str(i) for i in value)
    if type_name == "dict":
        if isinstance(value, str):
            return value
        return ",".join("%s:%s" % kv for kv in dict(value).items())
    if isinstance(value, os.PathLike):
        return os.fsdecode(value)
    if not isinstance(value, str):
        raise TypeError("%s must be str, not %s" % (name, type(value).__name__))
    return value


_TYPES = None


def _option_types():
    """{name: type} from the library's options table, read once."""
    global _TYPES
    if _TYPES is None:
        _TYPES = {o["name"]: o["type"] for o in options()}
    return _TYPES


class _Options:
    """A zc_options object from keyword options; a context manager.

    Every option of the library's table (``options()``: the ``[mdns]``
    options, the lookup timeout, the unicast DNS and TSIG options, and any
    the library adds later) is a keyword; None leaves its default. A value
    is converted by the option's type in that table.
    """

    def __init__(self, config_files=(), **values):
        if isinstance(config_files, (str, bytes, os.PathLike)):
            config_files = [config_files]
        types = _option_types()
        unknown = sorted(set(values) - set(types))
        if unknown:
            raise TypeError("unknown option%s %s; the library has: %s"
                            % ("s" if len(unknown) > 1 else "", ", ".join(unknown),
                               ", ".join(types)))
        texts = []
        for name, value in values.items():
            if value is None:
                continue
            if types[name] == "multi valued":
                # Each value adds (trust_anchor): one text or a list of them.
                items = [value] if isinstance(value, (str, os.PathLike)) else list(value)
                texts.extend((name, _option_text(name, "string", v)) for v in items)
            else:
                texts.append((name, _option_text(name, types[name], value)))
        self.ptr = ctypes.c_void_p()
        _check(lib.zc_options_new(ctypes.byref(self.ptr)), lambda: _lib.handle_detail(None))
        try:
            for path in config_files:
                self._do(lib.zc_options_load_file, _text(os.fsdecode(path), "config file"))
            for name, text in texts:
                self._set(name, text)
        except BaseException:
            self.free()
            raise

    def _do(self, fn, *args):
        _check(fn(self.ptr, *args), lambda: _lib.options_detail(self.ptr))

    def _set(self, name, value):
        self._do(lib.zc_options_set, name.encode(), _text(value, name))

    def free(self):
        if self.ptr:
            lib.zc_options_free(self.ptr)
            self.ptr = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.free()


def options() -> list[dict[str, str]]:
    """The options listing: dicts with group, name, type, default, help."""
    out = []
    fields = [ctypes.c_char_p() for _ in range(5)]
    for i in range(lib.zc_option_count()):
        _check(lib.zc_option_info(i, *[ctypes.byref(f) for f in fields]),
               lambda: _lib.handle_detail(None))
        group, name, type_, default, help_ = (f.value.decode("utf-8") for f in fields)
        out.append({"group": group, "name": name, "type": type_,
                    "default": default, "help": help_})
    return out


def sample_config() -> str:
    """A sample ``[mdns]`` section, as oslo-config-generator prints it."""
    text = ctypes.c_void_p()
    _check(lib.zc_sample_config(ctypes.byref(text)), lambda: _lib.handle_detail(None))
    return _lib.take_string(text.value)


def version() -> str:
    """The loaded library's version (the package's: checked on import)."""
    return lib.zc_version().decode("utf-8")


# ---------------------------------------------------------------- Zeroconf


class Service(tuple):
    """A service heard by browse(): url is None when it could not be built,
    and then error says why. A named tuple (collections.namedtuple's
    interface, without importing collections)."""

    __slots__ = ()
    _fields = ("service_type", "url", "error", "params")

    def __new__(cls, service_type, url, error, params):
        return tuple.__new__(cls, (service_type, url, error, params))

    @classmethod
    def _make(cls, iterable):
        return cls(*iterable)

    def _asdict(self):
        return dict(zip(self._fields, self))

    def _replace(self, **changes):
        return self._make(changes.pop(f, v) for f, v in zip(self._fields, self))

    def __getnewargs__(self):
        return tuple(self)

    def __repr__(self):
        return "Service(service_type=%r, url=%r, error=%r, params=%r)" % tuple(self)

    service_type = property(lambda self: self[0], doc="service type, e.g. baremetal")
    url = property(lambda self: self[1], doc="endpoint URL, or None")
    error = property(lambda self: self[2], doc="why url is None")
    params = property(lambda self: self[3], doc="TXT properties")


# For type checkers only (they take a name TYPE_CHECKING as typing's):
# importing typing would cost every process.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, Union
    Properties = Dict[Union[str, bytes], Union[str, bytes, int, float, bool, None]]


class _Handle:
    """The library handle of one Zeroconf, apart from the object so that
    its finalizer (weakref.finalize) can close it without keeping the
    Zeroconf alive. zc_close must not race other calls on the handle:
    calls in flight are counted, and ``idle`` is held while there are any.
    Each call holds a cancel token of the library (zc_cancel): close
    triggers them all (the calls end within 50 ms) and then waits for
    ``idle``."""

    __slots__ = ("ptr", "mu", "idle", "busy", "closed", "tokens")

    def __init__(self):
        self.ptr = ctypes.c_void_p()
        self.mu = _thread.allocate_lock()
        self.idle = _thread.allocate_lock()     # held while calls are in flight
        self.busy = 0
        self.closed = False
        self.tokens = set()                     # of the calls in flight

    def enter(self, token):
        with self.mu:
            if self.closed:
                raise Closed(_lib.ZC_ERR_CLOSED, "this Zeroconf is closed")
            if not self.busy:
                self.idle.acquire()
            self.busy += 1
            self.tokens.add(token)
            return self.ptr

    def leave(self, token):
        with self.mu:
            self.tokens.discard(token)
            self.busy -= 1
            if not self.busy:
                self.idle.release()

    def call(self, fn):
        """``fn(handle, token)`` (a blocking library call taking a cancel
        token), raising for a failed status.

        Every blocking library call of a Zeroconf goes through here. On the
        main thread the library call runs on a helper thread while this one
        waits interruptibly: a KeyboardInterrupt (or any exception raised
        by a signal handler) triggers the token, waits for the call to end
        (within 50 ms) and propagates."""
        token = ctypes.c_void_p()
        _check(lib.zc_cancel_new(ctypes.byref(token)), lambda: _lib.handle_detail(None))
        try:
            ptr = self.enter(token.value)
            try:
                st = _interruptible(lambda: fn(ptr, token), token)
                if st == _lib.ZC_ERR_CANCELLED and self.closed:
                    raise Closed(_lib.ZC_ERR_CLOSED, "this Zeroconf was closed during the call")
                _check(st, lambda: _lib.handle_detail(ptr))
            finally:
                self.leave(token.value)
        finally:
            lib.zc_cancel_free(token)

    def close(self):
        """Withdraw every registration (goodbyes) and free the handle; the
        first call does it, later ones return. Calls in flight are
        cancelled (they raise Closed). Also the finalizer: it runs when the
        Zeroconf is garbage-collected or at interpreter exit."""
        with self.mu:
            if self.closed:
                return
            self.closed = True
            for token in self.tokens:
                lib.zc_cancel_trigger(token)
        with self.idle:         # no new call can start: wait for those in flight
            pass
        with self.mu:
            ptr, self.ptr = self.ptr, ctypes.c_void_p()
        if ptr:
            _check(lib.zc_close(ptr), lambda: _lib.handle_detail(None))


def _interruptible(run, token):
    """``run()`` (a library call holding ``token``), so that a signal
    handler's exception (KeyboardInterrupt) ends it: Python runs signal
    handlers on the main thread only between bytecodes, never inside a C
    call, so there the call runs on a helper thread and this one waits on
    a lock, which a signal interrupts (POSIX)."""
    import threading
    if threading.current_thread() is not threading.main_thread():
        return run()
    done = _thread.allocate_lock()
    done.acquire()
    outcome = []

    def helper():
        try:
            outcome.append((True, run()))
        except BaseException as exc:    # handed to the caller's thread
            outcome.append((False, exc))
        finally:
            done.release()

    _thread.start_new_thread(helper, ())
    try:
        done.acquire()
    except BaseException:
        lib.zc_cancel_trigger(token)
        _wait_uninterrupted(done)
        raise
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


def _wait_uninterrupted(lock):
    """Acquire ``lock`` even if more signals arrive meanwhile (a second
    Ctrl-C must not leave the library call running with a freed token)."""
    while True:
        try:
            lock.acquire()
            return
        except BaseException:
            continue



class Zeroconf:
    """An mDNS (and unicast DNS-SD) client and server: sockets and a
    background thread in the library. Close it, use it as a context
    manager, or drop it: a Zeroconf that is garbage-collected, or still
    open at interpreter exit, is closed then (goodbyes sent).

    Keyword options: every option of the library's table (``options()``;
    ``ironic-mdns options``), e.g. ``interfaces`` (IP addresses, a list or
    a comma string), ``registration_attempts``, ``lookup_attempts``,
    ``lookup_timeout`` (seconds per lookup attempt), ``domain``,
    ``dns_servers``, ``tsig_key_file``, ``tsig_key``, ``discovery``; None
    keeps the default. ``params`` (TXT properties added to every
    registration) and ``config_files`` (OpenStack config files whose
    ``[mdns]`` section is read first, later files winning; the keywords win
    over them).
    """

    def __init__(self, config_files: "str | os.PathLike[str] | list[str | os.PathLike[str]]" = (),
                 params: Properties | None = None, **options: object) -> None:
        self._params = dict(params or {})
        for k, v in self._params.items():   # checked now, used at registration
            _key_bytes(k)
            _value_bytes(v)
        handle = _Handle()
        with _Options(config_files, **options) as opts:
            _check(lib.zc_new(opts.ptr, ctypes.byref(handle.ptr)),
                   lambda: _lib.options_detail(opts.ptr))
        self._handle = handle
        import weakref
        self._finalizer = weakref.finalize(self, handle.close)

    def register_service(self, service_type: str, endpoint: str,
                         params: Properties | None = None) -> None:
        """Publish ``service_type`` (e.g. "baremetal") at ``endpoint`` (a URL)
        with TXT ``params`` merged over the ``params`` option; probes first
        (RFC 6762 s8). Raises RegistrationFailure / NameConflict /
        InvalidArgument."""
        st_b = _text(service_type, "service_type")
        url_b = _text(endpoint, "endpoint")
        merged = dict(self._params)
        if params:
            merged.update(params)
        props = _props_in(merged)
        try:
            self._handle.call(
                lambda h, c: lib.zc_register_service_ex(h, st_b, url_b, props, c))
        finally:
            if props is not None:
                lib.zc_props_free(props)

    def get_endpoint(self, service_type: str, skip_loopback: bool = True,
                     skip_link_local: bool = False) -> "tuple[str, dict[str, str | bytes | None]]":
        """``(url, properties)`` of ``service_type``; a cached answer within
        its TTL returns at once. Raises NotFound / NoValidAddress /
        DecodeFailure (all LookupFailure)."""
        st_b = _text(service_type, "service_type")
        url = ctypes.c_void_p()
        props = ctypes.c_void_p()
        self._handle.call(lambda h, c: lib.zc_get_endpoint_ex(
            h, st_b, int(bool(skip_loopback)), int(bool(skip_link_local)), c,
            ctypes.byref(url), ctypes.byref(props), None))
        try:
            return _lib.take_string(url.value), _props_out(props)
        finally:
            lib.zc_props_free(props)

    def browse(self, duration: float = 3.0) -> "list[Service]":
        """Every ``_openstack._tcp`` service heard within ``duration`` s."""
        ms = int(round(float(duration) * 1000))
        if not 0 <= ms <= 60000:
            raise InvalidArgument(_lib.ZC_ERR_INVALID_ARGUMENT,
                                  "duration must be within 0 to 60 seconds")
        services = ctypes.c_void_p()
        self._handle.call(lambda h, c: lib.zc_browse_ex(h, ms, c, ctypes.byref(services)))
        try:
            out = []
            t, u, e = ctypes.c_char_p(), ctypes.c_char_p(), ctypes.c_char_p()
            p = ctypes.c_void_p()
            for i in range(lib.zc_services_count(services)):
                _check(lib.zc_services_get_at(services, i, ctypes.byref(t), ctypes.byref(u),
                                              ctypes.byref(e), ctypes.byref(p)),
                       lambda: _lib.handle_detail(None))
                dec = (lambda b: b.decode("utf-8") if b is not None else None)
                out.append(Service(dec(t.value), dec(u.value), dec(e.value), _props_out(p)))
            return out
        finally:
            lib.zc_services_free(services)

    def lost(self, timeout: float = 0.0) -> "list[str]":
        """Instance names of registrations lost later to another host
        (RFC 6762 s9), waiting up to ``timeout`` s for one."""
        lost = ctypes.c_void_p()
        ms = int(float(timeout) * 1000)
        self._handle.call(lambda h, c: lib.zc_wait_lost_ex(h, ms, c, ctypes.byref(lost)))
        text = _lib.take_string(lost.value)
        return text.split("\n") if text else []

    def close(self) -> None:
        """Withdraw every registration (goodbyes), stop; idempotent."""
        self._finalizer.detach()
        self._handle.close()

    @property
    def closed(self) -> bool:
        return self._handle.closed

    def __enter__(self) -> "Zeroconf":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def lookup(service_type: str, skip_loopback: bool = True, skip_link_local: bool = False,
           **options: object) -> "tuple[str, dict[str, str | bytes | None]]":
    """One-shot ``(url, properties)`` of ``service_type`` (the reference's
    module-level get_endpoint); ``options`` as for Zeroconf."""
    with Zeroconf(**options) as zc:
        return zc.get_endpoint(service_type, skip_loopback, skip_link_local)


def browse(duration: float = 3.0, **options: object) -> "list[Service]":
    """One-shot browse: every ``_openstack._tcp`` service heard."""
    with Zeroconf(**options) as zc:
        return zc.browse(duration)


@atexit.register
def _shutdown():
    # No Python callback may run once the interpreter goes away. Open
    # Zeroconf objects are closed by weakref.finalize's own exit hook,
    # before or after this one: after it, their goodbyes are sent with the
    # library's messages no longer logged.
    lib.zc_set_log_callback(_lib.LOG_FN(), None)
