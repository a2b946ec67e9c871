"""Drop-in for ``ironic.common.mdns`` (the conductor's side: publishing).

Same API: ``Zeroconf()``, ``register_service(service_type, endpoint,
params=None)``, ``close()``, the context manager, and the ``[mdns]`` options
``registration_attempts``, ``lookup_attempts``, ``params``, ``interfaces``
(ironic's) and ``signing_key_file`` (ours, see below), registered with
oslo.config as soon as the process imports it, before or after this
module (``list_opts()`` for oslo-config-generator). The conductor's call works as it is:

    from ironicmdns import ironic as mdns
    mdns.Zeroconf().register_service('baremetal', api_url, params=...)

A failed registration raises ``ServiceRegistrationFailure``, which is also
``ironic.common.exception.ServiceRegistrationFailure`` when ironic is
loaded, so ironic's own ``except`` clauses catch it. As in ironic, a
URL whose port is not a number raises ``ValueError``, and the TXT
properties are the ``[mdns] params`` option updated with ``params``.

It logs to the logger ``ironic.common.mdns`` (the library's own messages
too), or to the name it stands in for (``stand_in("ironic_lib.mdns")``
for a process that used ironic_lib's module), so that the process's
per-module log levels apply as they did.

Trusted discovery (DNSSEC, docs/TRUST.md): ``[mdns] signing_key_file``
names a private key as BIND's ``dnssec-keygen`` writes it
(``K<name>+<alg>+<tag>.private``, its ``.key`` beside it); the conductor
then signs the records it publishes, and agents given the key's DS as
their trust anchor accept this conductor only. The key is read and checked
when ``Zeroconf()`` is made: an unreadable or bad one raises
``ironicmdns.InvalidArgument`` (a ValueError) naming ``signing_key_file``,
so the conductor never publishes unsigned by mistake.

While the process has not imported oslo.config, ``CONF.mdns`` is a plain
object holding the same options with their defaults (set its attributes
to change them): nothing can have configured them otherwise.
"""

from __future__ import annotations

import sys
import types

import ironicmdns as _core
from ironicmdns import _lib
from ironicmdns import _oslo

UPSTREAM = "ironic.common.mdns"
_log_name = UPSTREAM
_core.log_as(UPSTREAM)

# Without oslo.config in the process: a plain object with the defaults.
CONF = types.SimpleNamespace(mdns=types.SimpleNamespace(
    registration_attempts=5, lookup_attempts=3, params={}, interfaces=None,
    signing_key_file=None))
_oslo_opts = None


def _register(cfg):
    """Our [mdns] options on cfg.CONF (called once oslo.config is loaded,
    see _oslo); CONF becomes cfg.CONF."""
    global CONF, _oslo_opts
    new = [
        cfg.IntOpt("registration_attempts", min=1, default=5,
                   help="Number of attempts to register a service. Currently "
                        "has to be larger than 1 because of race conditions "
                        "in the zeroconf library."),
    ] + _oslo.shared_opts(cfg) + [
        cfg.StrOpt("signing_key_file",
                   help="DNSSEC private key in BIND's format: the "
                        "K<name>+<alg>+<tag>.private file that dnssec-keygen "
                        "writes (for example dnssec-keygen -a ED25519 -n ZONE "
                        "local.), with its .key file beside it. The records "
                        "published are signed with it, so that agents with the "
                        "key's DS (dnssec-dsfromkey -2) as trust anchor "
                        "(ipa-mdns-trust-anchor) accept this conductor only. "
                        "Unset: unsigned."),
    ]
    for name in _oslo.register(cfg, "Options for multicast DNS", new):
        # ironic.conf registered it first: use that one.
        _core._debug(_log_name, "[mdns] %s is already registered", name)
    _oslo_opts = new
    CONF = cfg.CONF


_oslo.when_loaded(_register)


def _opts():
    if _oslo_opts is not None:
        return _oslo_opts
    return [dict(o) for o in _core.options() if o["name"] != "lookup_timeout"]


def __getattr__(name):
    # PEP 562: the option list as oslo.config objects once it is loaded.
    if name == "opts":
        return _opts()
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


class ServiceRegistrationFailure(_core.RegistrationFailure):
    """A registration failed: an ``ironicmdns.RegistrationFailure`` with
    ``status``, raised as a subclass that is also ironic's
    ``ironic.common.exception.ServiceRegistrationFailure`` whenever that
    module is loaded (as it is wherever ``except
    exception.ServiceRegistrationFailure`` can run); importing it here
    instead would load oslo.log into every process that publishes."""

    _msg_fmt = "Cannot register %(service)s service: %(error)s"

    def __init__(self, service="unknown", error="", status=_lib.ZC_ERR_REGISTRATION):
        text = self._msg_fmt % {"service": service, "error": error}
        Exception.__init__(self, text)
        self.status = status
        self.message = text
        self.kwargs = {"service": service, "error": error, "code": 500}
        self.code = 500


_AS_IRONIC = {}


def _failure(service, error, status):
    """ServiceRegistrationFailure, also ironic's class when it is loaded."""
    cls = ServiceRegistrationFailure
    ironic_exc = sys.modules.get("ironic.common.exception")
    if ironic_exc is not None:
        base = ironic_exc.ServiceRegistrationFailure
        cls = _AS_IRONIC.get(base)
        if cls is None:
            cls = type("ServiceRegistrationFailure", (ServiceRegistrationFailure, base),
                       {"__module__": __name__, "__qualname__": "ServiceRegistrationFailure"})
            _AS_IRONIC[base] = cls
    return cls(service=service, error=error, status=status)


class Zeroconf:
    """mDNS server configured from ``CONF.mdns``; context manager. A
    ``signing_key_file`` that cannot be read or holds no usable key raises
    ``ironicmdns.InvalidArgument`` naming the option."""

    def __init__(self) -> None:
        conf = CONF.mdns
        self._zc = _core.Zeroconf(interfaces=conf.interfaces or None,
                                  registration_attempts=conf.registration_attempts,
                                  lookup_attempts=conf.lookup_attempts,
                                  signing_key_file=conf.signing_key_file or None)

    def register_service(self, service_type: str, endpoint: str,
                         params: "dict[str, object] | None" = None) -> None:
        """Register ``service_type`` at ``endpoint`` with TXT ``params``
        (over ``[mdns] params``). Raises ServiceRegistrationFailure."""
        name = "%s" % (service_type,)
        # A name DNS cannot carry is a ValueError here (the reference lets
        # python-zeroconf's BadTypeInNameException out).
        _core._check_service_type(name)
        if not isinstance(endpoint, str):
            raise _failure(name, "endpoint %r is not a URL" % (endpoint,),
                           _lib.ZC_ERR_INVALID_ARGUMENT)
        # ironic parses the URL first: a bad port is its ValueError.
        from urllib import parse as urlparse
        urlparse.urlparse(endpoint).port
        all_params = dict(CONF.mdns.params or {})
        if params:
            all_params.update(params)
        _core._debug(_log_name, "Registering %s at %s via mDNS", service_type, endpoint)
        try:
            self._zc.register_service(name, endpoint, all_params)
        except _core.Error as exc:
            raise _failure(name, exc.message, exc.status) from None

    def close(self) -> None:
        """Withdraw the registrations (goodbyes) and stop."""
        self._zc.close()

    def __enter__(self) -> "Zeroconf":
        return self

    def __exit__(self, *args: object) -> None:
        self.close()


def _as_upstream(name=UPSTREAM):
    """Act as ironic's module imported as ``name``: log to that logger and
    load ironic's exception module, as ironic's module does at import (the
    conductor has it loaded anyway), so a failure is ironic's class from
    the first call on."""
    global _log_name
    _log_name = name
    _core.log_as(name)
    try:
        import ironic.common.exception  # noqa: F401
    except ImportError:      # ironic_lib's users need not have ironic
        pass


def stand_in(name: str = UPSTREAM) -> None:
    """Make this module ironic's ``ironic.common.mdns`` (or ``name``, e.g.
    ``ironic_lib.mdns``) in this process, before the conductor imports
    it. The activation (``python -m ironicmdns.activate --conductor``)
    does this from an import hook instead."""
    _core._stand_in(__name__, name)
    _as_upstream(name)


def list_opts() -> list:
    """Entry point for oslo-config-generator: imports oslo.config when it
    is importable (which registers the options), else the plain listing."""
    if _oslo_opts is None:
        _oslo.import_if_present()
    return [("mdns", _opts())]
