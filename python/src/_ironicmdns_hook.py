"""The activation's import hook: makes ``ironic_python_agent.mdns`` (the
agent) or ``ironic.common.mdns`` (the conductor) resolve to
``ironicmdns.ipa`` / ``ironicmdns.ironic``.

A ``.pth`` file that ``python -m ironicmdns.activate`` writes into a venv's
site-packages calls ``install(role)`` at every interpreter start of that
venv. That adds one ``sys.meta_path`` finder which answers for those exact
module names and nothing else (not their packages, not other modules), so
the rest of the agent or of ironic is imported as it is. Everything stays
lazy: this module is top-level (importing ``ironicmdns`` would load the
library into every process of the venv) and imports nothing but ``sys`` and
``os``, both loaded already; ``ironicmdns`` is imported only when the agent
or ironic imports its mdns module.

Undo: ``python -m ironicmdns.activate --agent --undo`` (or
``--conductor``) removes the ``.pth`` file; setting
``IRONICMDNS_ACTIVATION=off`` in a process's environment turns the hook off
for that process only.
"""

import os
import sys

# upstream module -> the drop-in that stands in for it
TARGETS = {
    "ironic_python_agent.mdns": "ironicmdns.ipa",
    "ironic.common.mdns": "ironicmdns.ironic",
}
ROLES = {
    "agent": ("ironic_python_agent.mdns",),
    "conductor": ("ironic.common.mdns",),
}


class _Loader:
    """Loads the drop-in and hands it to the import system under the
    upstream name; the drop-in keeps its own ``__spec__``."""

    def __init__(self, target):
        self.target = target
        self.own_spec = None

    def create_module(self, spec):
        import importlib
        module = importlib.import_module(self.target)
        self.own_spec = module.__spec__
        return module

    def exec_module(self, module):
        # The import system has set __spec__ to the upstream name's spec;
        # the module is still ironicmdns.* (reload, pickling).
        upstream = module.__spec__.name
        module.__spec__ = self.own_spec
        module._as_upstream(upstream)


class Finder:
    """A ``sys.meta_path`` finder for the upstream names of ``roles``."""

    def __init__(self, roles):
        self.names = {n: TARGETS[n] for r in roles for n in ROLES[r]}

    def find_spec(self, name, path=None, target=None):
        ours = self.names.get(name)
        if ours is None:
            return None
        from importlib.machinery import ModuleSpec
        return ModuleSpec(name, _Loader(ours), origin="ironicmdns activation: " + ours)

    def __repr__(self):
        return "<ironicmdns activation for %s>" % ", ".join(sorted(self.names))


def install(*roles):
    """Put the finder for ``roles`` ("agent", "conductor") first on
    ``sys.meta_path``, once per process."""
    if os.environ.get("IRONICMDNS_ACTIVATION", "").lower() in ("off", "0", "no", "false"):
        return None
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValueError("ironicmdns activation: unknown role %s" % ", ".join(unknown))
    for f in sys.meta_path:
        if isinstance(f, Finder):
            f.names.update(Finder(roles).names)
            return f
    finder = Finder(roles)
    sys.meta_path.insert(0, finder)
    return finder
