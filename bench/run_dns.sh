#!/usr/bin/env bash
# The unicast DNS-SD benchmark rows (bench/dns_bench.py, docs/DNS.md): builds
# ours in release mode and the bench driver, then runs dns_bench.py as host A
# inside a fresh network namespace (never the machine's own); BIND runs on a
# private host B, started and stopped by PID.
#   bench/run_dns.sh [--runs N] [--write FILE]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if [ -x scripts/setup-peers.sh ] && [ -z "${BENCH_NO_SETUP:-}" ]; then
    scripts/setup-peers.sh
fi
export PATH="$PATH:/usr/sbin:/sbin"
cargo build --release --locked --bin ironic-mdns
# The driver builds in a target directory of its own: built into ours, it
# leaves artifacts that change the library's symbol names in the next
# build of ironic-mdns, and the linker's symbol order (build.rs) would then
# miss them. target/release/mdns-bench links to it.
CARGO_TARGET_DIR="$ROOT/target/bench" cargo build --release --locked \
    --manifest-path bench/rust/Cargo.toml
ln -sfn ../bench/release/mdns-bench "$ROOT/target/release/mdns-bench"
cmd="bench/run_dns.sh $*"
# The namespace we start in: the inner run refuses to be in it.
IRONICMDNS_OUTER_NETNS=$(readlink /proc/self/ns/net)
export IRONICMDNS_OUTER_NETNS
if [ "$(id -u)" = 0 ]; then
    exec unshare -n python3 bench/dns_bench.py --command "$cmd" "$@"
fi
exec unshare -rn python3 bench/dns_bench.py --command "$cmd" "$@"
