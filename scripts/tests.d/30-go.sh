#!/usr/bin/env bash
# The Go package (go/): the library built from this tree, an ironicmdns.pc
# for it (target/go-lab/), go vet, then `go test` (which re-runs itself in
# private network namespaces: go/lab_test.go): the whole suite once,
# dynamic and under the race detector (finalizer, call path, log
# callback), then a part linked static (-tags ironicmdns_static). Prints
# go test's lines and a count.
#
# For `cd go && go test ./...` by hand after this script ran once:
#   export PKG_CONFIG_PATH=$PWD/target/go-lab LD_LIBRARY_PATH=$PWD/target/go-lab/lib
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
if ! command -v go >/dev/null; then
    echo "go: no go toolchain (scripts/setup-peers.sh installs golang-go): 0 passed, 1 failed"
    exit 1
fi
cargo build --locked --quiet   # the library and ironic-mdns (host B's peer)
LAB="$ROOT/target/go-lab"
mkdir -p "$LAB/lib"
ln -sfn ../../debug/libironicmdns.so "$LAB/lib/libironicmdns.so.0"
ln -sfn libironicmdns.so.0 "$LAB/lib/libironicmdns.so"
ln -sfn ../../debug/libironicmdns.a "$LAB/lib/libironicmdns.a"
cat > "$LAB/ironicmdns.pc" <<PC
prefix=$ROOT
libdir=\${prefix}/target/go-lab/lib
includedir=\${prefix}/include

Name: ironicmdns
Description: libironicmdns of the source tree (tests)
Version: $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
Libs: -L\${libdir} -lironicmdns
Libs.private: -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
Cflags: -I\${includedir}
PC
export PKG_CONFIG_PATH="$LAB" LD_LIBRARY_PATH="$LAB/lib" CGO_ENABLED=1 GOPROXY=off GOFLAGS=-mod=mod
cd go
go vet ./...
go vet -tags ironicmdns_static ./...
LOG=$(mktemp /tmp/ironicmdns-go.XXXXXX)
trap 'rm -f "$LOG"' EXIT
rc=0
go test -count=1 -race -v ./... >"$LOG" 2>&1 || rc=$?
# static: the test binary must not need libironicmdns.so
env -u LD_LIBRARY_PATH go test -count=1 -v -tags ironicmdns_static \
    -run 'TestVersionAndSample|TestManyGoroutinesOnOneHandle' ./... >>"$LOG" 2>&1 || rc=$?
grep -E '^(--- FAIL|FAIL|ok|panic)|network test skipped' "$LOG" || true
[ $rc -eq 0 ] || grep -B2 -A20 -- '--- FAIL' "$LOG" | head -60 || true
echo "go: $(grep -c -- '--- PASS' "$LOG") passed, $(grep -c -- '--- FAIL' "$LOG") failed, $(grep -c -- '--- SKIP' "$LOG") skipped (vet clean)"
exit $rc
