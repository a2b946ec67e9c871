#!/usr/bin/env bash
# Manual checks between two private hosts (LAB.md recipe), never on the
# machine's own network:
#   tests/peers/twohosts.sh 'COMMANDS'
# runs COMMANDS with bash on host A (198.18.0.1, fd00:99::1, iface va) in a
# fresh network namespace; `onb CMD...` runs a command on host B
# (198.18.0.2, fd00:99::2, iface vb). Both namespaces vanish at the end.
set -euo pipefail
if [ "${TWOHOSTS_INNER:-}" != 1 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        exec env TWOHOSTS_INNER=1 unshare -n bash "$0" "$@"
    else
        exec env TWOHOSTS_INNER=1 unshare -rn bash "$0" "$@"
    fi
fi
ip link set lo up
ip link set lo multicast on
unshare -n sleep infinity &
B=$!
trap 'kill $B 2>/dev/null || true' EXIT
sleep 0.1
ip link add va type veth peer name vb
ip link set vb netns /proc/$B/ns/net
ip addr add 198.18.0.1/24 dev va
ip -6 addr add fd00:99::1/64 dev va nodad
ip link set va multicast on
ip link set va up
ip route add 224.0.0.0/4 dev va
nsenter --net=/proc/$B/ns/net sh -c '
  ip link set lo up; ip addr add 198.18.0.2/24 dev vb
  ip -6 addr add fd00:99::2/64 dev vb nodad
  ip link set vb multicast on; ip link set vb up
  ip route add 224.0.0.0/4 dev vb'
export NSB=/proc/$B/ns/net
onb() { nsenter --net="$NSB" "$@"; }
export -f onb
sleep 0.5   # link-local addresses settle
bash -c "$1"
