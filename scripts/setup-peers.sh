#!/usr/bin/env bash
# Install what the test suite needs: Debian packages (Avahi, D-Bus, iproute2,
# valgrind, pkg-config, Go) and a Python venv (.venv) with the reference
# peer ironic_lib.mdns and python-zeroconf, pinned in
# tests/peers/requirements.txt.
#
# Idempotent and quick when everything is there. Run as root on a possibly
# new Debian machine (as another user it only builds the venv).
#
# Never lets a daemon start on the machine's own network: policy-rc.d
# forbids service starts during the install, and afterwards no avahi-daemon
# may run in this network namespace (our tests start their own, inside
# private namespaces; see tests/peers/avahi_host.sh and docs/PEERS.md).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REQ="$ROOT/tests/peers/requirements.txt"
REQ_NODEPS="$ROOT/tests/peers/requirements-nodeps.txt"
VENV="$ROOT/.venv"
PACKAGES=(avahi-daemon avahi-utils dbus dbus-daemon iproute2 valgrind pkg-config golang-go tcpdump)
# The Debian package check (scripts/tests.d/40-debian.sh) and the man page test.
PACKAGES+=(build-essential debhelper dpkg-dev fakeroot lintian man-db)
# Unicast DNS-SD peers (tests/dns_net.rs, tests/dns_signed.rs): BIND and
# Knot with their clients; signed zones also use dnssec-dsfromkey
# (bind9-utils), delv (bind9-dnsutils) and keymgr (knot).
PACKAGES+=(bind9 bind9-utils bind9-dnsutils knot knot-dnsutils)

say() { printf 'setup-peers: %s\n' "$*"; }

is_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

# ---- Debian packages -------------------------------------------------------
install_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        is_installed "$p" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say "Debian packages already installed: ${PACKAGES[*]}"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        say "WARNING: not root, cannot install: ${missing[*]}"
        return 0
    fi
    # apt-get update only when a missing package has no candidate (no lists,
    # or stale lists).
    local need_update=0
    for p in "${missing[@]}"; do
        local policy
        policy=$(apt-cache policy "$p" 2>/dev/null || true)
        case "$policy" in
            *"Candidate: (none)"* | "") need_update=1 ;;
        esac
    done
    if [ $need_update -eq 1 ]; then
        say "apt-get update"
        apt-get update -qq
    fi

    # No service may start on the machine's own network during the install.
    local saved_policy=""
    if [ -e /usr/sbin/policy-rc.d ]; then
        saved_policy=$(mktemp)
        cp -p /usr/sbin/policy-rc.d "$saved_policy"
    fi
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    restore_policy() {
        if [ -n "$saved_policy" ]; then
            mv -f "$saved_policy" /usr/sbin/policy-rc.d
        else
            rm -f /usr/sbin/policy-rc.d
        fi
    }
    trap restore_policy EXIT

    say "apt-get install ${missing[*]}"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/tmp/setup-peers-apt.log 2>&1; then
        say "install failed; retrying after apt-get update"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/tmp/setup-peers-apt.log 2>&1 || {
            tail -20 /tmp/setup-peers-apt.log; exit 1; }
    fi
    restore_policy
    trap - EXIT
    say "installed: ${missing[*]}"
}

# ---- no avahi-daemon on the machine's own network --------------------------
quiet_host_avahi() {
    local self_ns pid ns
    self_ns=$(readlink /proc/self/ns/net)
    for pid in $(pgrep -x avahi-daemon || true); do
        ns=$(readlink "/proc/$pid/ns/net" 2>/dev/null || true)
        # Only a daemon in OUR network namespace; the tests' own daemons live
        # in private namespaces and are not touched.
        if [ "$ns" = "$self_ns" ]; then
            say "stopping avahi-daemon pid $pid in the host network namespace"
            kill "$pid" 2>/dev/null || true
        fi
    done
    if [ "$(id -u)" -eq 0 ] && is_installed avahi-daemon && [ -d /etc/systemd/system ]; then
        local unit changed=0
        for unit in avahi-daemon.service avahi-daemon.socket; do
            if [ "$(readlink "/etc/systemd/system/$unit" 2>/dev/null)" != /dev/null ]; then
                if [ -d /run/systemd/system ]; then
                    systemctl disable --now "$unit" >/dev/null 2>&1 || true
                    systemctl mask "$unit" >/dev/null 2>&1 || true
                fi
                # mask by hand too (works without a running systemd)
                ln -sfn /dev/null "/etc/systemd/system/$unit"
                changed=1
            fi
        done
        [ $changed -eq 1 ] && say "masked avahi-daemon.service and avahi-daemon.socket"
    fi
    # A second look: a daemon started by a unit or D-Bus activation above.
    for pid in $(pgrep -x avahi-daemon || true); do
        ns=$(readlink "/proc/$pid/ns/net" 2>/dev/null || true)
        if [ "$ns" = "$self_ns" ]; then
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
    return 0
}

# ---- Python venv with the reference peer -----------------------------------
setup_venv() {
    local stamp="$VENV/.requirements.sha256" want
    want=$(cat "$REQ" "$REQ_NODEPS" | sha256sum | cut -d' ' -f1)
    if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] &&
        "$VENV/bin/python" -c 'import ironic_lib.mdns, zeroconf' 2>/dev/null; then
        say "venv up to date: $VENV"
        return 0
    fi
    local py
    py=$(command -v python3)
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating venv $VENV with $py"
        "$py" -m venv "$VENV"
    fi
    say "pip install -r tests/peers/requirements.txt"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -r "$REQ_NODEPS"
    "$VENV/bin/python" -c 'import ironic_lib.mdns, zeroconf; print("setup-peers: zeroconf", zeroconf.__version__)'
    echo "$want" > "$stamp"
}

install_packages
quiet_host_avahi
setup_venv
for tool in avahi-daemon avahi-publish-service avahi-browse dbus-daemon; do
    command -v "$tool" >/dev/null || PATH="$PATH:/usr/sbin"
done
say "peers: $(command -v avahi-daemon || echo 'no avahi-daemon'), $(command -v avahi-browse || echo 'no avahi-browse'), $("$VENV/bin/python" -c 'import ironic_lib.mdns' 2>/dev/null && echo 'ironic_lib ok' || echo 'no ironic_lib')"
PATH="$PATH:/usr/sbin:/sbin"
say "dns peers: $(for t in named knotd dig kdig nsupdate knsupdate; do command -v "$t" >/dev/null || echo -n "no $t, "; done)$("$VENV/bin/python" -c 'import dns.tsig, dns.version; print("dnspython", dns.version.version)' 2>/dev/null || echo 'no dnspython')"
