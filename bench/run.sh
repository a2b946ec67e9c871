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
cargo build --release --locked --lib --bin ironic-mdns
# The driver builds in a target directory of its own: built into ours, it
# leaves artifacts that change the library's symbol names in the next
# build of ironic-mdns, and the linker's symbol order (build.rs) would then
# miss them. target/release/mdns-bench links to it.
CARGO_TARGET_DIR="$ROOT/target/bench" cargo build --release --locked \
    --manifest-path bench/rust/Cargo.toml
ln -sfn ../bench/release/mdns-bench "$ROOT/target/release/mdns-bench"
# The RSS row depends on the symbol order matching this build (DESIGN.md
# "Memory"): say so when it does not.
if command -v nm >/dev/null; then
    have=$(nm target/release/ironic-mdns | awk '{print $NF}' | sort -u \
        | comm -12 - <(sort -u src/bin/ironic-mdns.order) | wc -l)
    want=$(sort -u src/bin/ironic-mdns.order | wc -l)
    if [ $((have * 10)) -lt $((want * 9)) ]; then
        echo "bench: only $have of the $want functions in src/bin/ironic-mdns.order are in" \
             "this build (stale? scripts/symbol-order.sh regenerates it)" >&2
    fi
fi
# the Python package (python/) in the peers' venv, bundling the release
# library, and the Go package's lookup command, for the bindings rows
VENV_PY="${BENCH_VENV:-$ROOT/.venv}/bin/python"
IRONICMDNS_PREBUILT="$ROOT/target/release/libironicmdns.so" "$VENV_PY" -m pip install \
    --quiet --disable-pip-version-check --force-reinstall --no-deps ./python \
    || echo "bench: Python package not installed" >&2
if command -v go >/dev/null; then
    GB="$ROOT/target/go-bench"
    mkdir -p "$GB/lib"
    ln -sfn ../../release/libironicmdns.so "$GB/lib/libironicmdns.so.0"
    ln -sfn libironicmdns.so.0 "$GB/lib/libironicmdns.so"
    printf 'libdir=%s\nincludedir=%s\n\nName: ironicmdns\nDescription: bench\nVersion: 0\nLibs: -L${libdir} -lironicmdns\nCflags: -I${includedir}\n' \
        "$GB/lib" "$ROOT/include" > "$GB/ironicmdns.pc"
    (cd go && PKG_CONFIG_PATH="$GB" GOPROXY=off go build -o "$GB/mdns-lookup" ./cmd/mdns-lookup) \
        || echo "bench: Go lookup not built" >&2
fi
# the C example lookup (examples/c) for the process row; optional
make examples >/dev/null 2>&1 || echo "bench: C examples not built (make examples failed)" >&2

cmd="bench/run.sh $*"
# The namespace we start in: the inner run refuses to be in it.
IRONICMDNS_OUTER_NETNS=$(readlink /proc/self/ns/net)
export IRONICMDNS_OUTER_NETNS
if [ "$(id -u)" = 0 ]; then
    exec unshare -n python3 bench/bench.py --command "$cmd" "$@"
fi
exec unshare -rn python3 bench/bench.py --command "$cmd" "$@"
