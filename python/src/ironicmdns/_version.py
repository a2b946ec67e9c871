"""The package's version: the crate's. setup.py rewrites this file in the
wheel and the sdist from Cargo.toml's [package] version; in a checkout it
reads Cargo.toml itself, so the two cannot differ. setup.py runs this file
(as ``__name__`` "setup") for ``package_version`` alone."""


def package_version(manifest):
    """[package] version of the Cargo.toml at ``manifest``, or None (a
    line-based read: tomllib is 3.11+ and the build must not need a TOML
    package)."""
    import re
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
    return None


def _from_cargo_toml():
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    manifest = os.path.join(here, "..", "..", "..", "Cargo.toml")
    version = package_version(manifest)
    if version is None:
        raise ImportError("ironicmdns: no [package] version in %s" % manifest)
    return version


if __name__ != "setup":
    __version__ = _from_cargo_toml()
