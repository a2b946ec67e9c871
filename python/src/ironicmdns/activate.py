"""Switch a venv's agent or conductor over to ironicmdns, or back.

    python -m ironicmdns.activate --agent       # ironic_python_agent.mdns -> ironicmdns.ipa
    python -m ironicmdns.activate --conductor   # ironic.common.mdns -> ironicmdns.ironic
    python -m ironicmdns.activate --agent --undo
    python -m ironicmdns.activate --status

Run it with the venv's own interpreter (``/opt/ironic-python-agent/bin/python
-m ironicmdns.activate --agent``): it writes ``ironicmdns-<role>.pth`` into
that interpreter's site-packages (``--site-packages DIR`` for another). The
file makes every interpreter start of the venv put one import hook on
``sys.meta_path`` (``_ironicmdns_hook``) that maps only the module name of
the role to our drop-in; nothing else changes, nothing is loaded until the
agent or ironic imports its mdns module. ``--undo`` removes the file. The
diskimage-builder element ``contrib/dib/ironicmdns`` runs ``--agent`` in the
ramdisk's agent venv.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import sysconfig

ROLES = ("agent", "conductor")
UPSTREAM = {"agent": "ironic_python_agent.mdns", "conductor": "ironic.common.mdns"}
DROP_IN = {"agent": "ironicmdns.ipa", "conductor": "ironicmdns.ironic"}


def pth_name(role: str) -> str:
    return "ironicmdns-%s.pth" % role


def pth_text(role: str) -> str:
    """The .pth line: it installs the hook when the hook module is still
    installed, and is silent when the package was uninstalled but the
    file left behind."""
    return ("import importlib.util as u; u.find_spec('_ironicmdns_hook') and "
            "__import__('_ironicmdns_hook').install(%r)\n" % role)


def site_packages() -> str:
    return sysconfig.get_paths()["purelib"]


def activate(role: str, site: str | None = None) -> str:
    """Write the .pth of ``role`` into ``site`` (default: this
    interpreter's site-packages); returns its path."""
    if role not in ROLES:
        raise ValueError("role must be one of %s, not %r" % (", ".join(ROLES), role))
    site = site or site_packages()
    path = os.path.join(site, pth_name(role))
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(pth_text(role))
    os.replace(tmp, path)
    return path


def deactivate(role: str, site: str | None = None) -> str | None:
    """Remove the .pth of ``role``; returns its path, None if absent."""
    if role not in ROLES:
        raise ValueError("role must be one of %s, not %r" % (", ".join(ROLES), role))
    path = os.path.join(site or site_packages(), pth_name(role))
    try:
        os.remove(path)
    except FileNotFoundError:
        return None
    return path


def check(role: str, python: str = sys.executable) -> str:
    """Import the upstream module name in a fresh ``python`` and return the
    module it resolved to (the drop-in's name when active)."""
    code = ("import importlib, sys; m = importlib.import_module(%r); print(m.__spec__.name)"
            % UPSTREAM[role])
    env = dict(os.environ)
    env.pop("IRONICMDNS_ACTIVATION", None)
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError("importing %s failed: %s" % (UPSTREAM[role], out.stderr.strip()))
    return out.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ironicmdns.activate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    who = ap.add_mutually_exclusive_group(required=True)
    who.add_argument("--agent", action="store_const", dest="role", const="agent",
                     help="ironic_python_agent.mdns -> ironicmdns.ipa")
    who.add_argument("--conductor", action="store_const", dest="role", const="conductor",
                     help="ironic.common.mdns -> ironicmdns.ironic")
    who.add_argument("--status", action="store_true",
                     help="print which roles are active in the site-packages")
    ap.add_argument("--undo", action="store_true", help="remove the activation")
    ap.add_argument("--site-packages", metavar="DIR",
                    help="site-packages to write to (default: this interpreter's)")
    ap.add_argument("--no-check", action="store_true",
                    help="do not import the upstream module afterwards to check "
                         "(the check needs the agent or ironic installed)")
    args = ap.parse_args(argv)
    site = args.site_packages or site_packages()
    if args.status:
        for role in ROLES:
            on = os.path.exists(os.path.join(site, pth_name(role)))
            print("%s: %s (%s -> %s)" % (role, "active" if on else "inactive",
                                        UPSTREAM[role], DROP_IN[role]))
        return 0
    if args.undo:
        path = deactivate(args.role, site)
        print("ironicmdns: %s" % ("removed " + path if path else
                                  "no activation for the %s in %s" % (args.role, site)))
        return 0
    path = activate(args.role, site)
    print("ironicmdns: wrote %s (%s -> %s)" % (path, UPSTREAM[args.role], DROP_IN[args.role]))
    if not args.no_check and args.site_packages is None:
        got = check(args.role)
        if got != DROP_IN[args.role]:
            print("ironicmdns: %s still resolves to %s" % (UPSTREAM[args.role], got),
                  file=sys.stderr)
            return 1
        print("ironicmdns: checked: %s is %s" % (UPSTREAM[args.role], got))
    return 0


if __name__ == "__main__":
    sys.exit(main())
