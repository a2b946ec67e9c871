#!/usr/bin/env bash
# Manual checks between two private hosts (docs/LAB.md recipe), never on the
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
# At the end, stop whatever still runs in either private namespace (only
# processes whose network namespace is A's or B's), then B itself.
cleanup() {
    local nsa nsb pid ns victims=()
    nsa=$(readlink /proc/$$/ns/net)
    nsb=$(readlink /proc/$B/ns/net 2>/dev/null || true)
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        [ "$pid" = $$ ] && continue
        ns=$(readlink "$d/ns/net" 2>/dev/null || true)
        if [ -n "$ns" ] && { [ "$ns" = "$nsa" ] || [ "$ns" = "$nsb" ]; }; then
            victims+=("$pid")
        fi
    done
    [ ${#victims[@]} -gt 0 ] || return 0
    kill "${victims[@]}" 2>/dev/null || true
    for _ in $(seq 50); do
        local alive=0
        for pid in "${victims[@]}"; do [ -d /proc/$pid ] && alive=1; done
        [ $alive -eq 0 ] && return 0
        sleep 0.1
    done
    kill -9 "${victims[@]}" 2>/dev/null || true
}
trap cleanup EXIT
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
