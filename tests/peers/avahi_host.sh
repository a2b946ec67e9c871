#!/usr/bin/env bash
# One Avahi host (docs/LAB.md recipe) inside the CURRENT network namespace, which
# must be a private one (the script refuses the machine's own).
#
#   avahi_host.sh run   DIR IFACE [NAME [FAMILY]]
#       start, print READY, stay until SIGTERM/SIGINT, then stop both
#       daemons (what the tests use)
#   avahi_host.sh start DIR IFACE [NAME [FAMILY]]
#       start in the background, print READY
#   avahi_host.sh stop  DIR
#       stop what `start` started
# NAME: Avahi's host name (default avahi-IFACE), published as NAME.local.
# FAMILY: v4, v6 or both (default): the IP versions Avahi uses and publishes.
# AVAHI_WIDE_AREA=DOMAIN (environment): wide-area (unicast DNS-SD) browsing
# of DOMAIN, asking the nameservers of DIR/resolv.conf (bind-mounted over
# /etc/resolv.conf in Avahi's private mount namespace); tests/dns_net.rs.
#
# DIR (created) holds the private D-Bus system bus socket, the configs, the
# logs and pid files. Clients then run with
#   DBUS_SYSTEM_BUS_ADDRESS=unix:path=DIR/system_bus_socket
# e.g. avahi-publish-service -s baremetal _openstack._tcp 6385 path=/baremetal
#      avahi-browse -rtp _openstack._tcp
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

cmd=${1:?usage: avahi_host.sh run|start|stop DIR [IFACE [NAME [FAMILY]]]}
DIR=${2:?DIR}
IFACE=${3:-}
HOSTNAME_=${4:-avahi-$IFACE}
FAMILY=${5:-both}
case "$FAMILY" in
    v4) USE4=yes; USE6=no ;;
    v6) USE4=no; USE6=yes ;;
    *) USE4=yes; USE6=yes ;;
esac

die() { echo "avahi_host: $*" >&2; exit 1; }

own_network() {
    # Fail closed: a private host only when the namespace is not the one the
    # lab (IRONICMDNS_LAB_INNER) or a launcher (IRONICMDNS_OUTER_NETNS)
    # recorded before `unshare`, nor PID 1's when that is readable (it is
    # not always, not even as root).
    local one self outer
    self=$(readlink /proc/self/ns/net)
    outer=${IRONICMDNS_LAB_INNER:-${IRONICMDNS_OUTER_NETNS:-}}
    [ -z "$outer" ] && return 0
    # the lab records the inode number, a launcher the link text: compare digits
    [ "${outer//[^0-9]/}" = "${self//[^0-9]/}" ] && return 0
    one=$(readlink /proc/1/ns/net 2>/dev/null || true)
    [ -n "$one" ] && [ "$one" = "$self" ]
}

stop() {
    local f pid
    for f in "$DIR/avahi.pid" "$DIR/dbus.pid"; do
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$f"
    done
}

start() {
    [ -n "$IFACE" ] || die "IFACE missing"
    own_network && die "refusing to start Avahi in the machine's own network namespace"
    command -v avahi-daemon >/dev/null || die "avahi-daemon not installed (scripts/setup-peers.sh)"
    command -v dbus-daemon >/dev/null || die "dbus-daemon not installed (scripts/setup-peers.sh)"
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
    local sock="$DIR/system_bus_socket"
    rm -f "$sock"
    cat > "$DIR/dbus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
CONF
    local wide=no browse=""
    if [ -n "${AVAHI_WIDE_AREA:-}" ]; then
        wide=yes
        browse="browse-domains=$AVAHI_WIDE_AREA"
        [ -f "$DIR/resolv.conf" ] || die "AVAHI_WIDE_AREA needs DIR/resolv.conf"
    fi
    cat > "$DIR/avahi-daemon.conf" <<CONF
[server]
$browse
host-name=$HOSTNAME_
use-ipv4=$USE4
use-ipv6=$USE6
allow-interfaces=$IFACE
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000

[wide-area]
enable-wide-area=$wide

[publish]
publish-workstation=no
publish-hinfo=no
publish-addresses=yes
publish-aaaa-on-ipv4=$USE6

[reflector]
enable-reflector=no

[rlimits]
CONF
    dbus-daemon --config-file="$DIR/dbus.conf" --nofork --nopidfile \
        >"$DIR/dbus.log" 2>&1 &
    echo $! > "$DIR/dbus.pid"
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
    [ -S "$sock" ] || { cat "$DIR/dbus.log" >&2; stop; die "dbus-daemon did not start"; }

    # avahi-daemon insists on /run/avahi-daemon: give it a private /run.
    DBUS_SYSTEM_BUS_ADDRESS="unix:path=$sock" \
        unshare -m --propagation private sh -c '
            mount -t tmpfs tmpfs /run || exit 1
            if [ -n "$2" ]; then mount --bind "$2" /etc/resolv.conf || exit 1; fi
            exec avahi-daemon --no-drop-root \
                --no-chroot --no-rlimits --no-proc-title -f "$1"' \
            sh "$DIR/avahi-daemon.conf" "${AVAHI_WIDE_AREA:+$DIR/resolv.conf}" \
            >"$DIR/avahi.log" 2>&1 &
    echo $! > "$DIR/avahi.pid"
    for _ in $(seq 100); do
        grep -q "Server startup complete" "$DIR/avahi.log" 2>/dev/null && break
        kill -0 "$(cat "$DIR/avahi.pid")" 2>/dev/null || break
        sleep 0.05
    done
    if ! grep -q "Server startup complete" "$DIR/avahi.log"; then
        cat "$DIR/avahi.log" >&2
        stop
        die "avahi-daemon did not start"
    fi
    echo "READY DBUS_SYSTEM_BUS_ADDRESS=unix:path=$sock"
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    run)
        trap 'stop; exit 0' TERM INT
        trap 'stop' EXIT
        start
        while true; do sleep 0.2 & wait $! || true; done ;;
    *) die "unknown command $cmd" ;;
esac
