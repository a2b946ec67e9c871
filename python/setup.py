"""Build step of the ironicmdns wheel: put libironicmdns inside the package.

Where the library comes from, first match wins:
  IRONICMDNS_PREBUILT=/path/libironicmdns.so   bundle that file as it is;
  IRONICMDNS_SYSTEM_LIBRARY=1                  bundle nothing: the package
                                               loads the installed
                                               libironicmdns.so.0;
  otherwise                                    `cargo build --release
                                               --locked --lib` in the source
                                               tree this directory sits in
                                               (CARGO, CARGO_TARGET_DIR and
                                               IRONICMDNS_CARGO_PROFILE
                                               honoured).
The wheel is tagged py3-none-<platform>: the library is loaded with ctypes,
so one wheel serves every Python 3 on that platform.
"""

import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))
LIBNAME = "libironicmdns.so.0"


def _cargo_library():
    root = os.path.dirname(HERE)
    manifest = os.path.join(root, "Cargo.toml")
    if not os.path.exists(manifest):
        sys.exit("ironicmdns: no Cargo.toml above %s; set IRONICMDNS_PREBUILT "
                 "or IRONICMDNS_SYSTEM_LIBRARY=1" % HERE)
    profile = os.environ.get("IRONICMDNS_CARGO_PROFILE", "release")
    cargo = os.environ.get("CARGO", "cargo")
    cmd = [cargo, "build", "--locked", "--lib", "--manifest-path", manifest,
           "--profile", profile]
    print("ironicmdns: " + " ".join(cmd), flush=True)
    subprocess.check_call(cmd)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
    subdir = "debug" if profile == "dev" else profile
    return os.path.join(target, subdir, "libironicmdns.so")


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        if os.environ.get("IRONICMDNS_SYSTEM_LIBRARY") == "1":
            return
        lib = os.environ.get("IRONICMDNS_PREBUILT") or _cargo_library()
        if not os.path.isfile(lib):
            sys.exit("ironicmdns: library not found: %s" % lib)
        dest = os.path.join(self.build_lib, "ironicmdns", LIBNAME)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(lib, dest)


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
    cmdclass={"build_py": BuildWithLibrary, "bdist_wheel": PlatformWheel},
    distclass=BinaryDistribution,
)
