"""Build step of the ironicmdns wheel and sdist: libironicmdns inside the
package, one version for the crate and the package.

The crate: in a checkout, the source tree this directory sits in
(``../Cargo.toml``); in an sdist, ``rust/`` next to this file, which the
sdist command fills with exactly the files the crate build reads (the
compiler's dep-info of a ``cargo build --lib`` and the build script's
``rerun-if-changed`` inputs, plus Cargo.toml and Cargo.lock), so the list
cannot go stale as the crate changes.

The version is the crate's (``[package] version`` of Cargo.toml); it is
written into ``ironicmdns/_version.py``, and the package checks the loaded
library against it.

Where the library comes from, first match wins:
  IRONICMDNS_PREBUILT=/path/libironicmdns.so   bundle that file as it is;
  IRONICMDNS_SYSTEM_LIBRARY=1                  bundle nothing: the package
                                               loads the installed
                                               libironicmdns.so.0;
  otherwise                                    `cargo build --release
                                               --locked --lib` of the crate
                                               (CARGO, CARGO_TARGET_DIR and
                                               IRONICMDNS_CARGO_PROFILE
                                               honoured).
The wheel is tagged py3-none-<platform>: the library is loaded with ctypes,
so one wheel serves every Python 3 on that platform. `auditwheel repair`
then turns linux_x86_64 into the manylinux tag the library's symbol
versions allow (scripts/tests.d/25-wheel.sh).
"""

import json
import os
import runpy
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist
from setuptools.dist import Distribution

from setuptools.command.bdist_wheel import bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))
LIBNAME = "libironicmdns.so.0"
SDIST_CRATE = "rust"


def _crate_root():
    """The crate's directory: rust/ in an sdist, else the checkout's top."""
    for root in (os.path.join(HERE, SDIST_CRATE), os.path.dirname(HERE)):
        if os.path.isfile(os.path.join(root, "Cargo.toml")):
            return root
    return None


def _crate_version(root):
    """[package] version of Cargo.toml, read as the package reads it in a
    checkout (ironicmdns/_version.py's package_version)."""
    reader = runpy.run_path(os.path.join(HERE, "src", "ironicmdns", "_version.py"),
                            run_name="setup")
    version = reader["package_version"](os.path.join(root, "Cargo.toml"))
    if version is None:
        sys.exit("ironicmdns: no [package] version in %s/Cargo.toml" % root)
    return version


def _version():
    root = _crate_root()
    if root is not None:
        return _crate_version(root)
    # Built from an unpacked sdist without rust/ (IRONICMDNS_PREBUILT or
    # IRONICMDNS_SYSTEM_LIBRARY): PKG-INFO holds the version.
    pkg_info = os.path.join(HERE, "PKG-INFO")
    if os.path.isfile(pkg_info):
        with open(pkg_info, encoding="utf-8") as f:
            for line in f:
                if line.startswith("Version:"):
                    return line.split(":", 1)[1].strip()
    sys.exit("ironicmdns: no Cargo.toml (%s/%s or %s/..) to read the version from"
             % (HERE, SDIST_CRATE, HERE))


VERSION = _version()


def _cargo(root, *args):
    cmd = [os.environ.get("CARGO", "cargo")] + list(args) + [
        "--manifest-path", os.path.join(root, "Cargo.toml")]
    print("ironicmdns: " + " ".join(cmd), flush=True)
    return cmd


def _target_dir(root):
    return os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))


def _cargo_library():
    root = _crate_root()
    if root is None:
        sys.exit("ironicmdns: no crate (%s/%s/Cargo.toml or %s/../Cargo.toml); set "
                 "IRONICMDNS_PREBUILT or IRONICMDNS_SYSTEM_LIBRARY=1"
                 % (HERE, SDIST_CRATE, HERE))
    profile = os.environ.get("IRONICMDNS_CARGO_PROFILE", "release")
    subprocess.check_call(_cargo(root, "build", "--locked", "--lib", "--profile", profile))
    subdir = "debug" if profile == "dev" else profile
    return os.path.join(_target_dir(root), subdir, "libironicmdns.so")


def crate_files(root):
    """Files (relative to ``root``) that building the crate's library
    reads: Cargo.toml, Cargo.lock, the sources in the dep-info of the
    library and the build script, and the build script's declared inputs
    that exist. Runs a dev ``cargo build --lib`` to get them."""
    out = subprocess.check_output(
        _cargo(root, "build", "--locked", "--lib", "--message-format=json"),
        text=True)
    root = os.path.realpath(root)
    target = os.path.realpath(_target_dir(root))
    found = {"Cargo.toml", "Cargo.lock"}

    def add(path):
        path = os.path.realpath(os.path.join(root, path))
        if path.startswith(target + os.sep) or not path.startswith(root + os.sep):
            return                      # generated, or a registry crate
        if os.path.isfile(path):
            found.add(os.path.relpath(path, root))

    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and \
                msg.get("manifest_path") == os.path.join(root, "Cargo.toml"):
            for art in msg.get("filenames", []):
                dep = os.path.splitext(art)[0] + ".d"
                if os.path.isfile(dep):
                    with open(dep, encoding="utf-8") as f:
                        for text in f.read().replace("\\\n", " ").splitlines():
                            head, _, deps = text.partition(": ")
                            for p in deps.split():
                                add(p)
        elif msg.get("reason") == "build-script-executed" and \
                msg.get("package_id", "").startswith("path+file://%s#" % root):
            out_dir = msg.get("out_dir") or ""
            output = os.path.join(os.path.dirname(out_dir), "output")
            if os.path.isfile(output):
                with open(output, encoding="utf-8") as f:
                    for text in f:
                        if text.startswith("cargo:rerun-if-changed="):
                            add(text.split("=", 1)[1].strip())
    # The build script's own sources and the library's: from the dep-info
    # files next to the artifacts; a build.rs that cargo did not rerun
    # still has its .d file in the build directory.
    build_dir = os.path.join(target, "debug", "build")
    if os.path.isdir(build_dir):
        for entry in os.listdir(build_dir):
            if entry.startswith("ironicmdns-"):
                d = os.path.join(build_dir, entry)
                for name in os.listdir(d):
                    if name.endswith(".d"):
                        with open(os.path.join(d, name), encoding="utf-8") as f:
                            for text in f.read().replace("\\\n", " ").splitlines():
                                for p in text.partition(": ")[2].split():
                                    add(p)
    return sorted(found)


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        dest_dir = os.path.join(self.build_lib, "ironicmdns")
        os.makedirs(dest_dir, exist_ok=True)
        with open(os.path.join(dest_dir, "_version.py"), "w", encoding="utf-8") as f:
            f.write('"""Written by setup.py from Cargo.toml."""\n__version__ = %r\n' % VERSION)
        if os.environ.get("IRONICMDNS_SYSTEM_LIBRARY") == "1":
            return
        lib = os.environ.get("IRONICMDNS_PREBUILT") or _cargo_library()
        if not os.path.isfile(lib):
            sys.exit("ironicmdns: library not found: %s" % lib)
        shutil.copyfile(lib, os.path.join(dest_dir, LIBNAME))


class SdistWithCrate(sdist):
    """The sdist carries the crate under rust/ so that it builds from
    itself, anywhere."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        root = _crate_root()
        if root is None:
            sys.exit("ironicmdns: no crate to put into the sdist")
        listed = crate_files(root)
        for rel in listed:
            dest = os.path.join(base_dir, SDIST_CRATE, rel)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy2(os.path.join(root, rel), dest)
        print("ironicmdns: %d crate files in the sdist under %s/"
              % (len(listed), SDIST_CRATE), flush=True)


class PlatformWheel(bdist_wheel):
    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _python, _abi, plat = super().get_tag()
        return "py3", "none", plat


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return os.environ.get("IRONICMDNS_SYSTEM_LIBRARY") != "1"


setup(
    version=VERSION,
    cmdclass={"build_py": BuildWithLibrary, "bdist_wheel": PlatformWheel,
              "sdist": SdistWithCrate},
    distclass=BinaryDistribution,
)
