#!/usr/bin/env bash
# The benchmark (bench/README.md): installs the peers (scripts/setup-peers.sh),
# builds ours in release mode and the bench driver, then runs bench/bench.py
# as host A inside a fresh network namespace (never the machine's own).
#   bench/run.sh [--quick] [--write BENCHMARKS.md] [bench.py options...]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if [ -x scripts/setup-peers.sh ] && [ -z "${BENCH_NO_SETUP:-}" ]; then
    scripts/setup-peers.sh
fi
export PATH="$PATH:/usr/sbin:/sbin"
cargo build --release --locked --bin ironic-mdns
CARGO_TARGET_DIR="$ROOT/target" cargo build --release --locked \
    --manifest-path bench/rust/Cargo.toml
# the C example lookup (examples/c) for the process row; optional
make examples >/dev/null 2>&1 || echo "bench: C examples not built (make examples failed)" >&2

cmd="bench/run.sh $*"
if [ "$(id -u)" = 0 ]; then
    exec unshare -n python3 bench/bench.py --command "$cmd" "$@"
fi
exec unshare -rn python3 bench/bench.py --command "$cmd" "$@"
