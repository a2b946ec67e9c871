#!/usr/bin/env bash
# Boot storm and query flood at CI size (bench/storm.py --check; the full
# size is a benchmark, see bench/README.md): 24 agents released at once
# against `ironic-mdns register`, responder pinned and sharing the CPUs:
# every agent finds it, every first query is answered, no receive-buffer
# drop on the responder's host; then 10,000 queries/s for 2 s from one
# host: bounded memory, no amplification, nothing to an off-link source, a
# legitimate lookup from another host within 1 s. All in private network
# namespaces; none available: skipped, or failed with
# IRONICMDNS_REQUIRE_NETNS=1.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export PATH="$PATH:/usr/sbin:/sbin"
BIN=target/debug/ironic-mdns
cargo build --locked -q --bin ironic-mdns || exit 1
if ! unshare -rn true 2>/dev/null && ! unshare -n true 2>/dev/null || ! command -v tcpdump >/dev/null; then
    if [ "${IRONICMDNS_REQUIRE_NETNS:-0}" = 1 ]; then
        echo "storm: no private network namespace or no tcpdump, and IRONICMDNS_REQUIRE_NETNS=1"
        echo "storm: 0 passed, 1 failed"
        exit 1
    fi
    echo "storm: skipped (no private network namespace or no tcpdump)"
    echo "storm: 0 passed, 0 failed, 2 skipped"
    exit 0
fi
passed=0 failed=0
run() {
    if python3 bench/storm.py "$@" --bin "$BIN" --check; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
}
run storm --agents 24 --responders ours --placements pinned,shared
run flood --rate 10000 --seconds 2
echo "storm: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
