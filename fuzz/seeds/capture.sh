#!/usr/bin/env bash
# Capture real mDNS traffic of the reference (ironic_lib on python-zeroconf),
# Avahi, mdns-sd and our own stack between two private hosts
# (tests/peers/twohosts.sh: fresh network namespaces, never the machine's
# own network), into OUT.pcap, for seeding the fuzz corpora
# (fuzz/seeds/pcap_to_corpus.py). Not run by CI: the corpus is committed.
#
#   fuzz/seeds/capture.sh OUT.pcap [MDNS_BENCH]
# MDNS_BENCH: the bench driver (bench/rust, `mdns-bench`) for mdns-sd and
# our stack; without it only the reference and Avahi are captured.
# Needs root (or unshare -r), tcpdump, the .venv of scripts/setup-peers.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=$(realpath -m "${1:?usage: capture.sh OUT.pcap [MDNS_BENCH]}")
BENCH=${2:-}
PY="$ROOT/.venv/bin/python"
[ -x "$PY" ] || { echo "capture: no $PY (run scripts/setup-peers.sh)" >&2; exit 1; }
export ROOT OUT BENCH PY
exec "$ROOT/tests/peers/twohosts.sh" '
set -u
P=$ROOT/tests/peers
W=$(mktemp -d)
tcpdump -i va -U -s 0 -w "$OUT" udp port 5353 2>"$W/tcpdump.log" & TD=$!
sleep 1
# 1. the reference publishes on A, looks up on B; goodbyes on close
"$PY" "$P/ironic_publish.py" baremetal http://198.18.0.1:6385/baremetal ipa_debug=1 foo >"$W/pub.out" 2>&1 & PUB=$!
for _ in $(seq 100); do grep -q READY "$W/pub.out" && break; sleep 0.1; done
onb "$PY" "$P/ironic_lookup.py" baremetal || true
onb "$PY" "$P/ironic_lookup.py" nosuch --option lookup_attempts=1 || true
kill -INT $PUB; wait $PUB || true
# 2. Avahi publishes on B; the reference and Avahi look up and browse
onb bash "$P/avahi_host.sh" start "$W/avahi" vb avahi-b >/dev/null
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$W/avahi/system_bus_socket
onb avahi-publish-service -s baremetal _openstack._tcp 6385 path=/baremetal protocol=http & AP=$!
sleep 2
"$PY" "$P/ironic_lookup.py" baremetal || true
onb timeout 3 avahi-browse -rtp _openstack._tcp || true
onb timeout 3 avahi-resolve -n nosuch.local || true
kill $AP || true
sleep 1
onb bash "$P/avahi_host.sh" stop "$W/avahi" || true
# 3. mdns-sd and ours, each publishing on A and looking up from B
if [ -n "$BENCH" ]; then
  "$BENCH" register sd ironic 198.18.0.1 6385 path=/baremetal protocol=http >"$W/sd.out" 2>&1 & SD=$!
  sleep 1
  onb "$BENCH" lookup sd ironic --timeout 3 || true
  "$PY" "$P/ironic_lookup.py" ironic || true
  kill -INT $SD; wait $SD || true
  "$BENCH" register ours conductor http://198.18.0.1:6385/baremetal >"$W/ours.out" 2>&1 & OU=$!
  sleep 2
  onb "$BENCH" lookup ours conductor --timeout 3 || true
  onb "$BENCH" lookup sd conductor --timeout 3 || true
  kill -INT $OU; wait $OU || true
fi
sleep 1
kill -INT $TD; wait $TD || true
cat "$W/tcpdump.log" >&2
rm -rf "$W"
'
