"""oslo.config for the drop-ins, paid for only by processes that have it.

Importing oslo.config costs a lookup's time several times over (and about
10 MiB), and a process that has not imported it has configured nothing: the
defaults apply. So the drop-ins register their ``[mdns]`` options with
``cfg.CONF`` as soon as the process imports ``oslo_config.cfg``, whenever
that is: at once when it is already loaded, otherwise from an import hook
(a ``sys.meta_path`` finder that runs the callbacks right after the module
has executed, then removes itself). An agent that puts ``ironicmdns.ipa``
in ``sys.modules`` before importing oslo.config thus finds ``CONF.mdns``
registered, as with its own module.
"""

import sys

NAME = "oslo_config.cfg"
_pending = []


def loaded():
    """``oslo_config.cfg`` when the process has imported it, else None."""
    cfg = sys.modules.get(NAME)
    return cfg if cfg is not None and hasattr(cfg, "CONF") else None


def when_loaded(callback):
    """``callback(cfg)`` now if oslo.config is loaded, else once it is."""
    cfg = loaded()
    if cfg is not None:
        callback(cfg)
        return
    _pending.append(callback)
    if _HOOK not in sys.meta_path:
        sys.meta_path.insert(0, _HOOK)


def import_if_present():
    """Import oslo.config when it is installed: the import hook then
    registers the options of every module waiting for it (list_opts)."""
    try:
        import oslo_config.cfg  # noqa: F401
    except ImportError:
        pass


def shared_opts(cfg):
    """The ``[mdns]`` options that ironic and the agent both have, with the
    reference's types, defaults and help."""
    from oslo_config import types as cfg_types
    return [
        cfg.IntOpt("lookup_attempts", min=1, default=3,
                   help="Number of attempts to lookup a service."),
        cfg.Opt("params", type=cfg_types.Dict(cfg_types.String(quotes=True)),
                default={},
                help="Additional parameters to pass for the registered service."),
        cfg.ListOpt("interfaces",
                    help="List of IP addresses of interfaces to use for mDNS. "
                         "Defaults to all interfaces on the system."),
    ]


def register(cfg, title, opts):
    """Register ``opts`` in the ``[mdns]`` group (``title``) of ``cfg.CONF``.
    An option someone registered first is kept as it is; its name is in the
    list returned."""
    group = cfg.OptGroup(name="mdns", title=title)
    cfg.CONF.register_group(group)
    taken = []
    for opt in opts:
        try:
            cfg.CONF.register_opt(opt, group)
        except cfg.DuplicateOptError:
            taken.append(opt.name)
    return taken


def _fire(cfg):
    if _HOOK in sys.meta_path:
        sys.meta_path.remove(_HOOK)
    while _pending:
        _pending.pop(0)(cfg)


class _Hook:
    """Finds ``oslo_config.cfg`` with the other finders and wraps its
    loader's ``exec_module`` to call ``_fire`` after it."""

    def find_spec(self, name, path=None, target=None):
        if name != NAME:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        run = getattr(loader, "exec_module", None)
        if run is None:
            return spec

        def exec_module(module):
            run(module)
            _fire(module)

        loader.exec_module = exec_module
        return spec


_HOOK = _Hook()
