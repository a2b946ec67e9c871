#!/usr/bin/env bash
# Regenerate src/bin/ironic-mdns.order: the functions of the ironic-mdns
# binary that run when it registers a service (probe, announce, answer a
# lookup, goodbyes on SIGTERM) and when it looks one up, as valgrind's
# callgrind saw them. build.rs hands the file to the linker (lld's
# --symbol-ordering-file), which puts those functions next to each other at
# the start of .text. The kernel maps a binary's cached pages in 64 KiB
# windows around each page touched (fault-around), so a process that runs
# code spread over the whole of .text has nearly all of it resident; with
# the code it runs packed together, `ironic-mdns register` holds about
# 0.3-0.6 MiB less (docs/DESIGN.md "Memory").
#
# Run it after changes that rename or add hot functions (a stale list is
# harmless: names it lacks are placed after the listed ones). Everything
# that sends runs inside a private network namespace made here.
#   scripts/symbol-order.sh            (as root, or where unshare -rn works)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
command -v valgrind >/dev/null || { echo "symbol-order: valgrind is needed" >&2; exit 1; }

if [ "${1:-}" != "--inside" ]; then
    cargo build --release --locked --bin ironic-mdns
    # The namespace we start in: the inner run refuses to be in it.
    IRONICMDNS_OUTER_NETNS=$(readlink /proc/self/ns/net)
    export IRONICMDNS_OUTER_NETNS
    if [ "$(id -u)" = 0 ]; then
        exec unshare -n "$0" --inside
    fi
    exec unshare -rn "$0" --inside
fi

# Inside a fresh network namespace (host A), with host B on a veth, both
# families (docs/LAB.md "Two or more hosts"). Fail closed: only in a
# namespace other than the one the outer run recorded (PID 1's namespace is
# not always readable, not even as root).
self_ns=$(readlink /proc/self/ns/net)
if [ -z "${IRONICMDNS_OUTER_NETNS:-}" ] || [ "$IRONICMDNS_OUTER_NETNS" = "$self_ns" ] \
    || [ "$self_ns" = "$(readlink /proc/1/ns/net 2>/dev/null || true)" ]; then
    echo "symbol-order: refusing to run outside the private namespace it makes" >&2
    exit 1
fi
ip link set lo up
unshare -n sleep infinity &
B=$!
while [ "$(readlink /proc/$B/ns/net)" = "$self_ns" ]; do sleep 0.01; done
ip link add va type veth peer name vb
ip link set vb netns "/proc/$B/ns/net"
ip addr add 198.18.0.1/24 dev va
ip -6 addr add fd00:99::1/64 dev va nodad
ip link set va multicast on
ip link set va up
ip route add 224.0.0.0/4 dev va
onb() { nsenter --net="/proc/$B/ns/net" "$@"; }
onb ip link set lo up
onb ip addr add 198.18.0.2/24 dev vb
onb ip -6 addr add fd00:99::2/64 dev vb nodad
onb ip link set vb multicast on
onb ip link set vb up
onb ip route add 224.0.0.0/4 dev vb

BIN="$ROOT/target/release/ironic-mdns"
TMP=$(mktemp -d)
trap 'kill "$B" 2>/dev/null; rm -rf "$TMP"' EXIT
# valgrind itself in the background (not a shell function): $! is its PID,
# and the SIGTERM below reaches the program, which withdraws and exits, so
# callgrind writes its profile.
valgrind --tool=callgrind --demangle=no --callgrind-out-file="$TMP/register.cg" \
    "$BIN" register inspector http://198.18.0.1:5050/v1 \
    >"$TMP/register.out" 2>&1 &
REG=$!
for _ in $(seq 1 200); do
    grep -q '^registered' "$TMP/register.out" 2>/dev/null && break
    sleep 0.1
done
grep -q '^registered' "$TMP/register.out" || { cat "$TMP/register.out" >&2; kill "$REG"; exit 1; }
onb valgrind --tool=callgrind --demangle=no --callgrind-out-file="$TMP/lookup.cg" \
    "$BIN" lookup inspector >"$TMP/lookup.out" 2>&1 || true
grep -q '^http://198.18.0.1:5050/v1' "$TMP/lookup.out" || { cat "$TMP/lookup.out" >&2; kill "$REG"; exit 1; }
kill -TERM "$REG"
wait "$REG" || true

python3 - "$TMP/register.cg" "$TMP/lookup.cg" >"$ROOT/src/bin/ironic-mdns.order" <<'EOF'
import re, sys
# callgrind's compressed names: "ob=(N) path" / "fn=(N) name" define an
# id, later lines reuse "(N)". Keep the functions (fn=) of our binary: the
# registering process's first (it lives on; a lookup is over in a moment),
# then those only a lookup runs.
names = []
for path in sys.argv[1:]:
    seen = set()
    objs, fns, obj = {}, {}, None
    for line in open(path, encoding="utf-8", errors="replace"):
        m = re.match(r"^(c?ob|c?fn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
        if not m:
            continue
        kind, num, text = m.groups()
        table = objs if kind.endswith("ob") else fns
        if text:
            table[num] = text
        if kind == "ob":
            obj = objs.get(num)
        elif kind == "fn" and obj and obj.endswith("/ironic-mdns"):
            seen.add(fns[num])
    names += sorted(seen - set(names))
if len(names) < 100:
    sys.exit("symbol-order: only %d functions seen; is valgrind working?" % len(names))
print("\n".join(names))
EOF
echo "symbol-order: $(wc -l <"$ROOT/src/bin/ironic-mdns.order") functions in src/bin/ironic-mdns.order"
