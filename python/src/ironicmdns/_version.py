"""The package's version: the crate's. setup.py rewrites this file in the
wheel and the sdist from Cargo.toml's [package] version; in a checkout it
reads Cargo.toml itself, so the two cannot differ."""


def _from_cargo_toml():
    import os
    import re
    here = os.path.dirname(os.path.abspath(__file__))
    manifest = os.path.join(here, "..", "..", "..", "Cargo.toml")
    section = None
    with open(manifest, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\s*\[([^\]]+)\]", line)
            if m:
                section = m.group(1).strip()
                continue
            m = re.match(r'\s*version\s*=\s*"([^"]+)"', line)
            if m and section == "package":
                return m.group(1)
    raise ImportError("ironicmdns: no [package] version in %s" % manifest)


__version__ = _from_cargo_toml()
