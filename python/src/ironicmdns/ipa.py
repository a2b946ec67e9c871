"""Drop-in for ``ironic_python_agent.mdns`` (the agent's side: lookup).

Same API: module-level ``get_endpoint(service_type)``,
``Zeroconf().get_endpoint(service_type, skip_loopback=True,
skip_link_local=False)``, ``close()``, the context manager, ``list_opts()``
for oslo-config-generator, and the ``[mdns]`` options ``use_mdns``,
``allowed_overrides``, ``lookup_attempts``, ``params``, ``interfaces``
registered with oslo.config as soon as the process imports it (before or
after this module; see ironicmdns._oslo). A failed lookup raises
``ServiceLookupFailure``, which is also an
``ironic_python_agent.errors.ServiceLookupFailure`` when the agent's errors
module is loaded, so the agent's own ``except`` clauses catch it.

``use_mdns`` defaults to the kernel argument ``ipa-use-mdns`` (false when
absent), ``allowed_overrides`` to ``inspection_callback_url,ntp_server``;
as in the agent, they govern the caller (whether to look up at all, which
TXT ``ipa_*`` keys may override configuration), not ``get_endpoint``
itself. ``overrides(params)`` applies the ``allowed_overrides`` rule.

While the process has not imported oslo.config, ``CONF.mdns`` is a plain
object holding the same options with their defaults (set its attributes
to change them); nothing can have configured them otherwise, and a plain
``get_endpoint`` does not pay for importing oslo.config.
"""

import sys
import types

import ironicmdns as _core
from ironicmdns import _lib
from ironicmdns import _oslo

_MDNS_DOMAIN = "_openstack._tcp.local."
_DEFAULT_OVERRIDES = ["inspection_callback_url", "ntp_server"]


def _log():
    # logging is imported when something is logged, not with the module.
    import logging
    return logging.getLogger(__name__)


def _agent_params():
    """The agent's parameters: the agent's own reader (kernel command line
    and virtual media) when the agent is running here (its utils module is
    loaded; importing it only for this would cost a lookup's time many
    times over), else /proc/cmdline read the same way (whitespace-separated
    ``key=value``; words without ``=`` ignored)."""
    ipa_utils = sys.modules.get("ironic_python_agent.utils")
    if ipa_utils is not None:
        return ipa_utils.get_agent_params()
    try:
        with open("/proc/cmdline") as f:
            words = f.read().split()
    except OSError:
        return {}
    return dict(w.split("=", 1) for w in words if "=" in w)


def _kernel_use_mdns():
    return _agent_params().get("ipa-use-mdns", False)


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


# Without oslo.config in the process: a plain object with the defaults.
CONF = types.SimpleNamespace(mdns=types.SimpleNamespace(
    use_mdns=_truthy(_kernel_use_mdns()),
    allowed_overrides=list(_DEFAULT_OVERRIDES),
    lookup_attempts=3,
    params={},
    interfaces=None,
))
_oslo_opts = None


def _register(cfg):
    """Our [mdns] options on cfg.CONF (called once oslo.config is loaded,
    see _oslo); CONF becomes cfg.CONF."""
    global CONF, _oslo_opts
    new = [
        cfg.BoolOpt("use_mdns", default=_kernel_use_mdns(),
                    help="Look the Ironic API up with multicast DNS when neither "
                         "ipa-api-url nor ipa-inspection-callback-url is given. "
                         "mDNS answers are not authenticated: any host on the "
                         "link can answer. Kernel argument: ipa-use-mdns."),
        cfg.ListOpt("allowed_overrides", default=list(_DEFAULT_OVERRIDES),
                    help="Configuration options (named without the ipa_ prefix "
                         "of the TXT keys) that the TXT record of the "
                         "discovered service may override. Empty: none."),
    ] + _oslo.shared_opts(cfg)
    for name in _oslo.register(cfg, "Options for multicast DNS client", new):
        # The agent's own module registered it first: use that one.
        _core._debug(__name__, "[mdns] %s is already registered", name)
    _oslo_opts = new
    CONF = cfg.CONF


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


class Zeroconf:
    """mDNS client configured from ``CONF.mdns``; context manager."""

    def __init__(self):
        conf = CONF.mdns
        self._zc = _core.Zeroconf(interfaces=conf.interfaces or None,
                                  lookup_attempts=conf.lookup_attempts)

    def get_endpoint(self, service_type, skip_loopback=True, skip_link_local=False):
        """``(url, properties)`` of ``service_type``; see ironicmdns.Zeroconf.
        Raises ServiceLookupFailure."""
        name = "%s" % (service_type,)
        # A name DNS cannot carry is a ValueError here (the reference lets
        # python-zeroconf's BadTypeInNameException out).
        _core._check_service_type(name)
        try:
            return self._zc.get_endpoint(name, skip_loopback, skip_link_local)
        except _core.NotFound:
            raise _failure_class()(service=name) from None
        except (_core.LookupFailure, _core.AuthFailure) as exc:
            raise _failure_class()(service=name, message=exc.message,
                                       status=exc.status) from None

    def close(self):
        self._zc.close()

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.close()


def get_endpoint(service_type):
    """One-shot lookup with the ``[mdns]`` options: ``(url, properties)``."""
    with Zeroconf() as zc:
        return zc.get_endpoint(service_type)


def overrides(params):
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


def list_opts():
    """Entry point for oslo-config-generator: imports oslo.config when it
    is importable (which registers the options), else the plain listing."""
    if _oslo_opts is None:
        _oslo.import_if_present()
    return [("mdns", _opts())]
