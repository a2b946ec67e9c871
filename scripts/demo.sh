#!/usr/bin/env bash
# The demo: build the CLI, then on two private hosts joined by a veth
# (network namespaces made here and removed at the end; never the machine's
# own network), register `baremetal` on host B and look it up from host A,
# over IPv4 and then IPv6.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${IRONICMDNS_DEMO_INNER:-}" ]; then
  cargo build --release --locked --bin ironic-mdns
  export IRONICMDNS_DEMO_INNER=1
  # The namespace we start in: the inner run refuses to be in it.
  IRONICMDNS_OUTER_NETNS=$(readlink /proc/self/ns/net)
  export IRONICMDNS_OUTER_NETNS
  # Host A is a fresh network namespace; as a user, inside a user namespace.
  if [ "$(id -u)" = 0 ]; then exec unshare -n "$0" "$@"; fi
  exec unshare -rn "$0" "$@"
fi

bin=$PWD/target/release/ironic-mdns
self_ns=$(readlink /proc/self/ns/net)
# Fail closed: PID 1's namespace is not always readable (not even as root).
if [ -z "${IRONICMDNS_OUTER_NETNS:-}" ] || [ "$IRONICMDNS_OUTER_NETNS" = "$self_ns" ] \
  || [ "$self_ns" = "$(readlink /proc/1/ns/net 2>/dev/null || true)" ]; then
  echo "demo: refusing to run in the machine's own network namespace" >&2; exit 1
fi

ip link set lo up
unshare -n sleep infinity & B=$!
pub=
cleanup() { [ -n "$pub" ] && kill "$pub" 2>/dev/null; kill "$B" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT
while [ "$(readlink /proc/$B/ns/net)" = "$self_ns" ]; do sleep 0.01; done
onb() { nsenter --net=/proc/$B/ns/net "$@"; }

ip link add va type veth peer name vb netns "/proc/$B/ns/net" 2>/dev/null ||
  { ip link add va type veth peer name vb; ip link set vb netns "$B"; }
ip addr add 198.18.0.1/24 dev va; ip -6 addr add fd00:99::1/64 dev va nodad
ip link set va multicast on; ip link set va up; ip route add 224.0.0.0/4 dev va
onb sh -c 'ip link set lo up; ip addr add 198.18.0.2/24 dev vb
  ip -6 addr add fd00:99::2/64 dev vb nodad
  ip link set vb multicast on; ip link set vb up; ip route add 224.0.0.0/4 dev vb'

for fam in 4 6; do
  if [ $fam = 4 ]; then url=http://198.18.0.2:6385/baremetal; a=198.18.0.1; b=198.18.0.2
  else url=http://[fd00:99::2]:6385/baremetal; a=fd00:99::1; b=fd00:99::2; fi
  echo "== IPv$fam: host B ($b) registers baremetal -> $url"
  fifo=$(mktemp -u); mkfifo "$fifo"
  nsenter --net=/proc/$B/ns/net "$bin" register --interface "$b" baremetal "$url" ipa_debug=1 >"$fifo" &
  pub=$!
  read -r line <"$fifo"; rm -f "$fifo"; echo "host B: $line"
  echo "== host A ($a): ironic-mdns lookup baremetal"
  "$bin" lookup --interface "$a" baremetal
  kill -TERM "$pub"; wait "$pub"; pub=
done
