#!/usr/bin/env bash
# The project's one test command (README, `make test`, .ci/run):
# installs the peers (scripts/setup-peers.sh), then runs every test with
# `cargo test --locked`: unit, integration, C ABI, and the interop suite
# against the reference (ironic_lib) and Avahi (tests/peers.rs).
#
# Environment honoured (also read by the tests themselves):
#   IRONICMDNS_REQUIRE_NETNS=1  no private network namespace is a failure
#   IRONICMDNS_REQUIRE_PEERS=1  a missing peer (Avahi, ironic_lib) is a failure
#   IRONICMDNS_SKIP_SETUP=1     do not run scripts/setup-peers.sh
# Extra arguments go to `cargo test` (e.g. `scripts/test.sh --test peers`).
#
# After cargo test, every scripts/tests.d/*.sh runs in name order (the lint,
# the Python and Go packages, the Debian package, ...). Each prints its own
# runner's summary line and exits non-zero on a failure; any failure makes
# this script fail. With extra arguments (a partial cargo run) they are
# skipped; IRONICMDNS_SKIP_SUITES=1 skips them too.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="$PATH:/usr/sbin:/sbin"
[ -f "$HOME/.cargo/env" ] && ! command -v cargo >/dev/null && . "$HOME/.cargo/env"

if [ "${IRONICMDNS_SKIP_SETUP:-0}" != 1 ]; then
    bash "$ROOT/scripts/setup-peers.sh"
fi

echo "test.sh: IRONICMDNS_REQUIRE_NETNS=${IRONICMDNS_REQUIRE_NETNS:-0} IRONICMDNS_REQUIRE_PEERS=${IRONICMDNS_REQUIRE_PEERS:-0}"
LOG=$(mktemp /tmp/ironicmdns-test.XXXXXX)
trap 'rm -f "$LOG"' EXIT
start=$(date +%s)
set +e
cargo test --locked --no-fail-fast "$@" 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
set -e

# The runners' summary lines, then one total. A test binary's own result is
# its last "test result:" line before the next "Running"/"Doc-tests" header
# (the lab relays its inner runs' lines in a failed test's output).
awk -v secs="$(( $(date +%s) - start ))" '
    function flush() {
        if (pending != "") {
            print name; print "  " pending
            n = split(pending, w, /[ ;]+/)
            for (i = 2; i <= n; i++) {
                if (w[i] == "passed")  p += w[i-1]
                if (w[i] == "failed")  f += w[i-1]
                if (w[i] == "ignored") s += w[i-1]
            }
        }
        pending = ""
    }
    BEGIN { print ""; print "==== summary (" secs " s) ====" }
    /^ *(Running|Doc-tests) / { flush(); name = $0; sub(/^ */, "", name); next }
    /^test result:/ { pending = $0 }
    END { flush(); printf "total: %d passed, %d failed, %d skipped\n", p, f, s }
' "$LOG"
if [ "$rc" -ne 0 ]; then
    echo "test.sh: cargo test failed (exit $rc)"
fi

failed_suites=()
if [ $# -eq 0 ] && [ "${IRONICMDNS_SKIP_SUITES:-0}" != 1 ]; then
    for suite in "$ROOT"/scripts/tests.d/*.sh; do
        [ -e "$suite" ] || continue
        echo
        echo "==== suite $(basename "$suite") ===="
        if ! bash "$suite"; then
            failed_suites+=("$(basename "$suite")")
        fi
    done
fi
if [ ${#failed_suites[@]} -ne 0 ]; then
    echo "test.sh: failed suites: ${failed_suites[*]}"
    [ "$rc" -ne 0 ] || rc=1
fi
exit "$rc"
