"""Drop-in for ``ironic_python_agent.mdns`` (the agent's side: lookup).

Same API: module-level ``get_endpoint(service_type)``,
``Zeroconf().get_endpoint(service_type, skip_loopback=True,
skip_link_local=False)``, ``close()``, the context manager, ``list_opts()``
for oslo-config-generator, and the ``[mdns]`` options ``use_mdns``,
``allowed_overrides``, ``lookup_attempts``, ``params``, ``interfaces``
(the agent's) and ``trust_anchor`` (ours, see below), registered with
oslo.config as soon as the process imports it (before or after this
module; see ironicmdns._oslo). A failed lookup raises
``ServiceLookupFailure``, which is also an
``ironic_python_agent.errors.ServiceLookupFailure`` when the agent's errors
module is loaded, so the agent's own ``except`` clauses catch it.

``use_mdns`` defaults to the agent parameter ``ipa-use-mdns`` (false when
absent; a value that is not a boolean is logged and taken as false, where
the reference's import fails), read by the agent's own
``utils.get_agent_params()`` (kernel command line and virtual media)
whenever this module stands in for the agent's (``stand_in``, the
activation), ``allowed_overrides`` to ``inspection_callback_url,ntp_server``;
as in the agent, they govern the caller (whether to look up at all, which
TXT ``ipa_*`` keys may override configuration), not ``get_endpoint``
itself. ``overrides(params)`` applies the ``allowed_overrides`` rule.

As the agent's module it logs to the logger ``ironic_python_agent.mdns``
(the library's own messages too), fails every lookup with
``ServiceLookupFailure`` (also when no socket can be opened or the library
fails), and leaves ``txtvers`` out of the properties it returns: the TXT
version key (RFC 6763 s6.7) that our publishers add is record metadata,
not agent configuration, and the agent would log "Skipping unknown
configuration option txtvers" for it on every boot; the reference's
conductor never publishes it, so the agent sees what it sees there.

Trusted discovery (DNSSEC, docs/TRUST.md): the agent parameter
``ipa-mdns-trust-anchor`` (kernel command line or virtual media, read by
the same reader as ``ipa-use-mdns``, when a lookup starts) and the
``[mdns] trust_anchor`` option (one anchor or more per value; the option
may be given several times) each add trust anchors, in any form the
library takes: a kernel command line holds no spaces within a parameter,
so there the compact DS form ``KEYTAG:ALG:DIGESTTYPE:HEXDIGEST`` is the
one to use, several separated by commas. With any anchor given, a lookup
accepts only a conductor whose records carry valid signatures by an
anchored key; one that finds none fails with ``ServiceLookupFailure``
(status ZC_ERR_AUTH). An anchor the library refuses (malformed, empty,
an unreadable ``@file``) does not break the import: it is logged, and
every lookup fails with ``ServiceLookupFailure``; there is never a
fallback to unvalidated answers.

While the process has not imported oslo.config, ``CONF.mdns`` is a plain
object holding the same options with their defaults (set its attributes
to change them); nothing can have configured them otherwise, and a plain
``get_endpoint`` does not pay for importing oslo.config.
"""

from __future__ import annotations

import sys
import types

import ironicmdns as _core
from ironicmdns import _lib
from ironicmdns import _oslo

_MDNS_DOMAIN = "_openstack._tcp.local."
_DEFAULT_OVERRIDES = ["inspection_callback_url", "ntp_server"]


UPSTREAM = "ironic_python_agent.mdns"
_log_name = UPSTREAM
_core.log_as(UPSTREAM)


def _log():
    # logging is imported when something is logged, not with the module.
    import logging
    return logging.getLogger(_log_name)


def _agent_params():
    """The agent's parameters: the agent's own reader (kernel command line
    and virtual media) once its utils module is loaded (``stand_in`` loads
    it, as the agent's module does; importing it for a plain lookup would
    cost the lookup's time many times over), else /proc/cmdline read the
    same way (whitespace-separated ``key=value``; words without ``=``
    ignored)."""
    ipa_utils = sys.modules.get("ironic_python_agent.utils")
    get = getattr(ipa_utils, "get_agent_params", None)   # None: still loading
    if get is not None:
        return get()
    try:
        with open("/proc/cmdline") as f:
            words = f.read().split()
    except OSError:
        return {}
    return dict(w.split("=", 1) for w in words if "=" in w)


def _kernel_use_mdns():
    return _agent_params().get("ipa-use-mdns", False)


TRUST_PARAM = "ipa-mdns-trust-anchor"


def _trust_anchors():
    """The trust anchors given, as ``(where, value)`` pairs: the agent
    parameter first (absent: none; a value is passed on as it is, commas
    and all, for the library to split), then each ``[mdns] trust_anchor``
    value. An empty value is kept: the library refuses it, and the lookup
    fails rather than run unvalidated."""
    given = []
    kernel = _agent_params().get(TRUST_PARAM)
    if kernel is not None:
        given.append((TRUST_PARAM, kernel))
    for value in CONF.mdns.trust_anchor or ():
        given.append(("[mdns] trust_anchor", value))
    return given


def _checked_anchors():
    """The anchor values for the library, each checked by it first. A
    refused one is logged (naming where it came from) and raises
    ServiceLookupFailure: a lookup the operator asked to validate never
    runs without validation."""
    values = []
    for where, value in _trust_anchors():
        try:
            with _core._Options(trust_anchor=[value]):
                pass
        except _core.Error as exc:
            _log().error("Refusing to look up through multicast DNS: %s=%s is no "
                         "usable trust anchor: %s", where, value, exc.message)
            raise _failure_class()(status=exc.status, message="Cannot use multicast "
                                   "DNS: %s: %s" % (where, exc.message)) from None
        values.append(value)
    return values


def _truthy(value):
    """oslo.config's Boolean type."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "on", "yes"):
        return True
    if text in ("false", "0", "off", "no"):
        return False
    raise ValueError("Unexpected boolean value %r" % value)


def _default_use_mdns():
    """``ipa-use-mdns`` as a boolean; a value that is none is logged and
    taken as false (mDNS answers are unauthenticated: off is the safe
    side), so that a typo on the kernel command line cannot stop the
    agent's import."""
    value = _kernel_use_mdns()
    try:
        return _truthy(value)
    except ValueError:
        _log().warning("Ignoring ipa-use-mdns=%s: not a boolean; [mdns] use_mdns "
                       "defaults to false", value)
        return False


# Without oslo.config in the process: a plain object with the defaults.
CONF = types.SimpleNamespace(mdns=types.SimpleNamespace(
    use_mdns=_default_use_mdns(),
    allowed_overrides=list(_DEFAULT_OVERRIDES),
    lookup_attempts=3,
    params={},
    interfaces=None,
    trust_anchor=[],
))
_oslo_opts = None


def _register(cfg):
    """Our [mdns] options on cfg.CONF (called once oslo.config is loaded,
    see _oslo); CONF becomes cfg.CONF."""
    global CONF, _oslo_opts
    new = [
        cfg.BoolOpt("use_mdns", default=_default_use_mdns(),
                    help="Look the Ironic API up with multicast DNS when neither "
                         "ipa-api-url nor ipa-inspection-callback-url is given. "
                         "mDNS answers are not authenticated: any host on the "
                         "link can answer. Kernel argument: ipa-use-mdns."),
        cfg.ListOpt("allowed_overrides", default=list(_DEFAULT_OVERRIDES),
                    help="Configuration options (named without the ipa_ prefix "
                         "of the TXT keys) that the TXT record of the "
                         "discovered service may override. Empty: none."),
    ] + _oslo.shared_opts(cfg) + [
        cfg.MultiStrOpt("trust_anchor", default=[],
                        help="DNSSEC trust anchor for the lookup: a DNSKEY or DS "
                             "record in zone-file text, a DS in the compact form "
                             "KEYTAG:ALG:DIGESTTYPE:HEXDIGEST (several separated by "
                             "commas), or @/path/file holding such lines. May be "
                             "given more than once; each adds anchors, as does the "
                             "kernel argument ipa-mdns-trust-anchor. With any anchor, "
                             "only a service whose records carry valid signatures "
                             "by an anchored key is accepted, and a bad anchor "
                             "fails every lookup."),
    ]
    global _use_mdns_ours
    taken = _oslo.register(cfg, "Options for multicast DNS client", new)
    for name in taken:
        # The agent's own module registered it first: use that one.
        _core._debug(_log_name, "[mdns] %s is already registered", name)
    _use_mdns_ours = "use_mdns" not in taken
    _oslo_opts = new
    CONF = cfg.CONF


_use_mdns_ours = False


def _refresh_use_mdns():
    """The use_mdns default again, from the agent's reader now loaded."""
    value = _default_use_mdns()
    if _oslo_opts is None:
        CONF.mdns.use_mdns = value
    elif _use_mdns_ours:
        CONF.set_default("use_mdns", value, group="mdns")


_oslo.when_loaded(_register)


class _ServiceLookupFailure(_core.LookupFailure):
    """A lookup failed: an ``ironicmdns.LookupFailure`` with ``status``,
    and the agent's ``ironic_python_agent.errors.ServiceLookupFailure``
    whenever that module is loaded (as it is wherever the agent's
    ``except errors.ServiceLookupFailure`` can run); importing it here
    instead would cost every lookup the agent's imports."""

    def __init__(self, service="unknown", message=None, status=_lib.ZC_ERR_NOT_FOUND):
        text = message or "Cannot find %s service through multicast." % service
        Exception.__init__(self, text)
        self.status = status
        self.message = text
        self.type = "ServiceLookupFailure"
        self.code = 500


_ServiceLookupFailure.__name__ = _ServiceLookupFailure.__qualname__ = "ServiceLookupFailure"
_AS_AGENT = {}


def _failure_class():
    """ServiceLookupFailure, also the agent's class when it is loaded."""
    errors = sys.modules.get("ironic_python_agent.errors")
    base = getattr(errors, "ServiceLookupFailure", None)
    if base is None:
        return _ServiceLookupFailure
    cls = _AS_AGENT.get(base)
    if cls is None:
        cls = type("ServiceLookupFailure", (_ServiceLookupFailure, base),
                   {"__module__": __name__, "__qualname__": "ServiceLookupFailure"})
        _AS_AGENT[base] = cls
    return cls


def __getattr__(name):
    # PEP 562: names whose value depends on what the process has loaded.
    if name == "ServiceLookupFailure":
        return _failure_class()
    if name == "opts":
        return _opts()
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def _opts():
    if _oslo_opts is not None:
        return _oslo_opts
    return [dict(o) for o in _core.options() if o["name"] != "registration_attempts"]


def _lookup_failure(name, exc):
    """The agent's exception for a failed library call."""
    if isinstance(exc, _core.NotFound):
        return _failure_class()(service=name)
    return _failure_class()(
        service=name, status=exc.status,
        message="Cannot find %s service through multicast: %s" % (name, exc.message))


def _without_txtvers(props):
    """The properties without the TXT version key (any case, RFC 6763
    s6.4): it describes the record, it is no agent option."""
    return {k: v for k, v in props.items() if k.lower() != "txtvers"}


class Zeroconf:
    """mDNS client configured from ``CONF.mdns`` and the trust anchors
    (``ipa-mdns-trust-anchor``, ``[mdns] trust_anchor``); context manager.
    Every failure of the library (no usable socket, closed, internal, a
    refused trust anchor, no validated answer) raises ServiceLookupFailure,
    which the agent catches and logs."""

    def __init__(self) -> None:
        conf = CONF.mdns
        anchors = _checked_anchors()
        try:
            self._zc = _core.Zeroconf(interfaces=conf.interfaces or None,
                                      lookup_attempts=conf.lookup_attempts,
                                      trust_anchor=anchors or None)
        except _core.InvalidArgument:
            raise
        except _core.Error as exc:
            raise _failure_class()(status=exc.status, message="Cannot use multicast "
                                   "DNS: %s" % exc.message) from None

    def get_endpoint(self, service_type: str, skip_loopback: bool = True,
                     skip_link_local: bool = False) -> "tuple[str, dict[str, str | bytes | None]]":
        """``(url, properties)`` of ``service_type``; see ironicmdns.Zeroconf.
        Raises ServiceLookupFailure."""
        name = "%s" % (service_type,)
        # A name DNS cannot carry is a ValueError here (the reference lets
        # python-zeroconf's BadTypeInNameException out).
        _core._check_service_type(name)
        try:
            url, props = self._zc.get_endpoint(name, skip_loopback, skip_link_local)
        except _core.Error as exc:
            raise _lookup_failure(name, exc) from None
        return url, _without_txtvers(props)

    def close(self) -> None:
        self._zc.close()

    def __enter__(self) -> "Zeroconf":
        return self

    def __exit__(self, *args: object) -> None:
        self.close()


def get_endpoint(service_type: str) -> "tuple[str, dict[str, str | bytes | None]]":
    """One-shot lookup with the ``[mdns]`` options: ``(url, properties)``."""
    with Zeroconf() as zc:
        return zc.get_endpoint(service_type)


def _as_upstream(name=UPSTREAM):
    """Act as the agent's module imported as ``name``: log to that logger,
    load what the agent's module loads (its errors and utils; the agent is
    installed wherever this runs), and take use_mdns from the agent's
    parameter reader, as the agent's module does at import."""
    global _log_name
    _log_name = name
    _core.log_as(name)
    import ironic_python_agent.errors  # noqa: F401
    import ironic_python_agent.utils  # noqa: F401
    _refresh_use_mdns()


def stand_in(name: str = UPSTREAM) -> None:
    """Make this module the agent's ``ironic_python_agent.mdns`` in this
    process (before the agent imports it). The activation
    (``python -m ironicmdns.activate --agent``) does this from an import
    hook instead, so that nothing else has to change."""
    _core._stand_in(__name__, name)
    _as_upstream(name)


def overrides(params: "dict[str, object] | None") -> "dict[str, object]":
    """The configuration overrides a service's TXT properties may make,
    as the agent applies them: only ``ipa_``-prefixed keys, prefix removed,
    and only names in ``[mdns] allowed_overrides`` (None: any). Returns
    ``{option: value}``; skipped keys are logged."""
    allowed = CONF.mdns.allowed_overrides
    out = {}
    for key, value in (params or {}).items():
        if not key.startswith("ipa_"):
            _log().warning("Skipping unknown configuration option %s", key)
            continue
        name = key[4:]
        if allowed is not None and name not in allowed:
            _log().warning("Skipping configuration option %s: not in the [mdns] "
                        "allowed_overrides list", name)
            continue
        out[name] = value
    return out


def list_opts() -> list:
    """Entry point for oslo-config-generator: imports oslo.config when it
    is importable (which registers the options), else the plain listing."""
    if _oslo_opts is None:
        _oslo.import_if_present()
    return [("mdns", _opts())]
