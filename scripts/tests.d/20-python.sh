#!/usr/bin/env bash
# The Python package (python/): the library built from this tree, the
# package installed into a fresh venv and into the peers' venv (.venv, with
# ironic_lib, ironic-python-agent and ironic), then pytest inside a private
# network namespace (this script's `unshare -n`: host A; the tests add host
# B). Prints pytest's summary line.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
VENV="$ROOT/.venv"
if [ ! -x "$VENV/bin/python" ]; then
    echo "python: no $VENV (run scripts/setup-peers.sh): 0 passed, 1 failed"
    exit 1
fi
cargo build --locked --lib --quiet
LIB="$ROOT/target/debug/libironicmdns.so"
export IRONICMDNS_PREBUILT="$LIB"
PIP=(-m pip install --quiet --disable-pip-version-check)

FRESH=$(mktemp -d /tmp/ironicmdns-venv.XXXXXX)
trap 'rm -rf "$FRESH"' EXIT
python3 -m venv "$FRESH"
"$FRESH/bin/python" "${PIP[@]}" ./python
"$FRESH/bin/python" -c 'import ironicmdns, ironicmdns.ipa, ironicmdns.ironic, sys
print("python: fresh venv (Python %d.%d): ironicmdns %s from %s"
      % (sys.version_info[:2] + (ironicmdns.version(), ironicmdns._lib.path)))'
"$VENV/bin/python" "${PIP[@]}" --force-reinstall --no-deps ./python

# For the activation tests (python/tests/test_activation.py), fetched here
# because the tests run without a network: our wheel, ironic-python-agent
# 13.0.0's wheel from PyPI, and a venv with ironic 39.0.0 and all its
# dependencies (built once, about a minute; rebuilt when its requirements
# change).
mkdir "$FRESH/wheelhouse" "$FRESH/ipa"
"$VENV/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps \
    -w "$FRESH/wheelhouse" ./python
"$VENV/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps \
    -d "$FRESH/ipa" ironic-python-agent==13.0.0
CONDUCTOR="$ROOT/target/python-conductor"
want=$(cat python/tests/requirements-conductor.txt tests/peers/requirements.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$CONDUCTOR/.stamp" 2>/dev/null)" != "$want" ]; then
    start=$(date +%s)
    rm -rf "$CONDUCTOR"
    python3 -m venv "$CONDUCTOR"
    "$CONDUCTOR/bin/python" "${PIP[@]}" -c tests/peers/requirements.txt \
        -r python/tests/requirements-conductor.txt
    echo "$want" > "$CONDUCTOR/.stamp"
    echo "python: conductor venv (ironic 39.0.0 and dependencies) built in $(( $(date +%s) - start )) s"
fi
CONDUCTOR_SITE=$("$CONDUCTOR/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

if [ "$(id -u)" -eq 0 ]; then NS=(unshare -n); else NS=(unshare -rn); fi
if ! "${NS[@]}" true 2>/dev/null; then
    echo "python: no private network namespace; network tests skip (fail with IRONICMDNS_REQUIRE_NETNS=1)"
    NS=()
fi
# Both venvs load the copy of $LIB their package bundles.
"${NS[@]}" env PATH="$VENV/bin:$PATH" IRONICMDNS_FRESH_PYTHON="$FRESH/bin/python" \
    IRONICMDNS_WHEELHOUSE="$FRESH/wheelhouse" IRONICMDNS_IPA_WHEELS="$FRESH/ipa" \
    IRONICMDNS_CONDUCTOR_SITE="$CONDUCTOR_SITE" \
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider python/tests
