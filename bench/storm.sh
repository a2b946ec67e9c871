#!/usr/bin/env bash
# Boot storm and query flood at full size, the
# benchmark behind BENCHMARKS.md's "Boot storm" and "Query flood" sections:
#   bench/storm.sh [--agents N] [--runs R] [--before PATH]
# Installs the peers (scripts/setup-peers.sh; BENCH_NO_SETUP=1 skips it),
# builds ours in release mode, then runs bench/storm.py (private network
# namespaces only) for the harness floor, ours, the reference and Avahi,
# pinned and shared, R runs each (default 3), and the flood (10,000
# queries/s for 10 s). --before PATH adds another ironic-mdns build as a
# responder ("ours (before)") to compare within the same run.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
agents=200 runs=3 before=""
while [ $# -gt 0 ]; do
    case "$1" in
        --agents) agents=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --before) before=",ours@$(realpath "$2")"; shift 2 ;;
        *) echo "usage: bench/storm.sh [--agents N] [--runs R] [--before PATH]" >&2; exit 64 ;;
    esac
done
if [ -x scripts/setup-peers.sh ] && [ -z "${BENCH_NO_SETUP:-}" ]; then
    scripts/setup-peers.sh
fi
export PATH="$PATH:/usr/sbin:/sbin"
cargo build --release --locked --bin ironic-mdns
echo "## Boot storm: $agents agents, $runs runs, $(date -u '+%Y-%m-%d %H:%M UTC'), nproc $(nproc)"
python3 bench/storm.py storm --agents "$agents" --runs "$runs" \
    --responders "floor${before},ours,ref,avahi" --placements pinned,shared
echo
echo "## Query flood: 10,000 queries/s for 10 s"
python3 bench/storm.py flood --rate 10000 --seconds 10 --check
