#!/usr/bin/env bash
# The Debian packages: build them from a copy of this tree with
# `dpkg-buildpackage -us -uc -b` (offline, crates from the cargo cache),
# run lintian (no error allowed), check what each package holds, install
# them in a throwaway root (an overlay of / in a private mount namespace,
# gone when the check ends), and build the C examples against the installed
# files with pkg-config. Nothing here opens a network socket.
#
# The package build uses DEB_BUILD_OPTIONS="noopt nocheck" to stay within
# CI's time: the release profile without LTO at opt-level 0 (debian/rules),
# and no unit tests (cargo test ran them already). The packaging is the same
# as an optimised build's.
#
# Prints `debian: N passed, M failed`; exits non-zero on a failure.
# IRONICMDNS_DEB_KEEP=1 keeps the scratch directory and says where.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
export PATH="$PATH:/usr/sbin:/sbin"
export LC_ALL=C.UTF-8

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
check() { # check NAME COMMAND...: one row, passed when COMMAND succeeds
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}
finish() {
    echo "debian: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

for tool in dpkg-buildpackage dh lintian dpkg-deb readelf nm cc pkg-config cargo; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        bad "tool $tool is installed (scripts/setup-peers.sh installs it)"
    fi
done
[ "$failed" -eq 0 ] || finish

MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
DEBVER=$(dpkg-parsechangelog -S Version)
SCRATCH=$(mktemp -d /tmp/ironicmdns-deb.XXXXXX)
cleanup() {
    if [ "${IRONICMDNS_DEB_KEEP:-0}" = 1 ]; then
        echo "debian: kept $SCRATCH"
    else
        rm -rf "$SCRATCH"
    fi
}
trap cleanup EXIT

# Names of ironicmdns.symbols, the checked list of exports.
want_symbols=$(grep -v '^#' ironicmdns.symbols | grep . | sort)

# ---- the source ------------------------------------------------------------
check "changelog version $DEBVER is Cargo.toml's $VERSION" \
    test "${DEBVER%-*}" = "$VERSION"
check "debian/libironicmdns0.symbols lists exactly ironicmdns.symbols" \
    test "$(sed -n 's/^ \(zc_[a-z_]*\)@Base .*/\1/p' debian/libironicmdns0.symbols | sort)" = "$want_symbols"
copyright_names() {
    local crate missing=()
    for crate in $(cargo tree --locked --offline -e normal --prefix none --format '{p}' |
        awk '{print $1}' | sort -u | grep -vx ironicmdns); do
        grep -qw -- "$crate" debian/copyright || missing+=("$crate")
    done
    [ ${#missing[@]} -eq 0 ] || { echo "     not in debian/copyright: ${missing[*]}"; return 1; }
}
check "debian/copyright names every linked crate" copyright_names

# ---- build -------------------------------------------------------------------
SRC="$SCRATCH/libironicmdns-$VERSION"
mkdir -p "$SRC"
git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$SRC"
# The cargo and rustc build dependencies are met by the toolchain on PATH
# (rustup on Debian 12, whose own rustc is too old: debian/README.source);
# every other build dependency must be installed.
unmet=$(cd "$SRC" && dpkg-checkbuilddeps 2>&1 | sed -n 's/.*Unmet build dependencies: //p' |
    sed 's/\(cargo\|rustc\):native ([^)]*)//g; s/^ *//; s/ *$//')
check "build dependencies other than cargo/rustc are met${unmet:+ (missing: $unmet)}" test -z "$unmet"
start=$(date +%s)
if (cd "$SRC" && DEB_BUILD_OPTIONS="noopt nocheck parallel=$(nproc)" \
        dpkg-buildpackage -us -uc -b -d) >"$SCRATCH/build.log" 2>&1; then
    ok "dpkg-buildpackage -us -uc -b ($(( $(date +%s) - start )) s)"
else
    bad "dpkg-buildpackage -us -uc -b; its log ends:"
    tail -n 30 "$SCRATCH/build.log"
    finish
fi
if grep -q 'dpkg-gensymbols: warning' "$SCRATCH/build.log"; then
    bad "dpkg-gensymbols agrees with debian/libironicmdns0.symbols"
    grep -A20 'dpkg-gensymbols: warning' "$SCRATCH/build.log" | head -n 30
else
    ok "dpkg-gensymbols agrees with debian/libironicmdns0.symbols"
fi

deb() { echo "$SCRATCH/${1}_${DEBVER}_$(dpkg-architecture -qDEB_HOST_ARCH).deb"; }
for p in libironicmdns0 libironicmdns-dev ironic-mdns; do
    check "package $p is built" test -f "$(deb "$p")"
done

# ---- lintian -----------------------------------------------------------------
start=$(date +%s)
lintian --info "$SCRATCH"/*.changes >"$SCRATCH/lintian.txt" 2>&1
lintian_rc=$?
errors=$(grep -c '^E: ' "$SCRATCH/lintian.txt")
warnings=$(grep -c '^W: ' "$SCRATCH/lintian.txt")
grep -E '^[EW]: ' "$SCRATCH/lintian.txt" | sed 's/^/     /'
check "lintian: $errors errors, $warnings warnings ($(( $(date +%s) - start )) s)" \
    test "$errors" -eq 0 -a "$lintian_rc" -eq 0

# ---- contents ----------------------------------------------------------------
files_of() { dpkg-deb -c "$(deb "$1")" | awk '{print $6}' | sed 's|^\./|/|' | grep -v '/$' | sort; }
expect_files() { # expect_files PACKAGE FILE...: exactly these, besides /usr/share/doc
    local pkg=$1
    shift
    local got want
    got=$(files_of "$pkg" | grep -v "^/usr/share/doc/")
    want=$(printf '%s\n' "$@" | sort)
    [ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got") | sed 's/^/     /'; return 1; }
}
check "libironicmdns0 holds the library and its soname link" expect_files libironicmdns0 \
    "/usr/lib/$MA/libironicmdns.so.$VERSION" "/usr/lib/$MA/libironicmdns.so.0"
check "libironicmdns-dev holds header, .so link, .a, .pc and the C API page" expect_files libironicmdns-dev \
    /usr/include/ironicmdns.h "/usr/lib/$MA/libironicmdns.so" "/usr/lib/$MA/libironicmdns.a" \
    "/usr/lib/$MA/pkgconfig/ironicmdns.pc" /usr/share/man/man3/zc_cancel.3.gz
check "ironic-mdns holds the tool and its man page" expect_files ironic-mdns \
    /usr/bin/ironic-mdns /usr/share/man/man1/ironic-mdns.1.gz
for p in libironicmdns0 libironicmdns-dev ironic-mdns; do
    check "$p has its copyright file" sh -c "dpkg-deb -c '$(deb "$p")' | grep ' ./usr/share/doc/$p/copyright\$' >/dev/null"
done
check "libironicmdns0 is Multi-Arch: same" test "$(dpkg-deb -f "$(deb libironicmdns0)" Multi-Arch)" = same
check "libironicmdns-dev is Multi-Arch: same" test "$(dpkg-deb -f "$(deb libironicmdns-dev)" Multi-Arch)" = same
check "libironicmdns-dev depends on libironicmdns0 (= $DEBVER)" \
    sh -c "dpkg-deb -f '$(deb libironicmdns-dev)' Depends | grep -qF 'libironicmdns0 (= $DEBVER)'"
check "libironicmdns0's shlibs name libironicmdns.so.0" \
    sh -c "dpkg-deb -I '$(deb libironicmdns0)' shlibs | grep -q '^libironicmdns 0 libironicmdns0'"
check "libironicmdns0's symbols file lists exactly ironicmdns.symbols" \
    test "$(dpkg-deb -I "$(deb libironicmdns0)" symbols | sed -n 's/^ \(zc_[a-z_]*\)@Base .*/\1/p' | sort)" = "$want_symbols"

X="$SCRATCH/x"
mkdir -p "$X"
dpkg-deb -x "$(deb libironicmdns0)" "$X"
SO="$X/usr/lib/$MA/libironicmdns.so.$VERSION"
check "the packaged library's soname is libironicmdns.so.0" \
    sh -c "readelf -d '$SO' | grep -q 'Library soname: \[libironicmdns.so.0\]'"
check "the packaged library has no RPATH or RUNPATH" \
    sh -c "! readelf -d '$SO' | grep -qE 'RPATH|RUNPATH'"
check "the packaged library exports exactly ironicmdns.symbols" \
    test "$(nm -D --defined-only "$SO" | awk '{print $3}' | sed 's/@.*//' | sort)" = "$want_symbols"

# ---- install in a throwaway root, build the C examples against it -----------
# An overlay of / in a private mount namespace: dpkg -i sees this system's
# packages (libc6, pkg-config, cc) but writes only to a tmpfs that vanishes
# with the namespace.
# Without root or overlay: the three packages unpacked into one directory,
# the examples built through pkg-config with that directory as sysroot.
unpacked() {
    local U=$SCRATCH/unpacked p ex cflags libs
    mkdir -p "$U" "$SCRATCH/bin"
    for p in libironicmdns0 libironicmdns-dev ironic-mdns; do dpkg-deb -x "$(deb "$p")" "$U"; done
    export PKG_CONFIG_SYSROOT_DIR=$U PKG_CONFIG_LIBDIR=$U/usr/lib/$MA/pkgconfig
    cflags=$(pkg-config --cflags ironicmdns) && libs=$(pkg-config --libs ironicmdns) || {
        bad "pkg-config reads the unpacked ironicmdns.pc"; return; }
    for ex in publish lookup browse; do
        # shellcheck disable=SC2086
        check "examples/c/$ex.c builds against the unpacked packages" \
            cc -std=c99 -Wall -Wextra -o "$SCRATCH/bin/$ex" "examples/c/$ex.c" $cflags $libs
    done
    unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR
    check "the unpacked ironic-mdns runs" sh -c "'$U/usr/bin/ironic-mdns' --version | grep -q '^ironic-mdns '"
}

if [ "$(id -u)" -ne 0 ]; then
    echo "     not root: no install in a throwaway root; checking the unpacked packages instead"
    unpacked
else
    cat >"$SCRATCH/inroot.sh" <<'INROOT'
set -eu
trap 'echo "failed at line $LINENO: $BASH_COMMAND"' ERR
T=$1; MA=$2
# No overlay here (a kernel or container without it): exit 77, the caller
# falls back to unpacked packages.
mount -t tmpfs tmpfs "$T/ovl" || exit 77
mkdir -p "$T/ovl/upper" "$T/ovl/work" "$T/ovl/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$T/ovl/upper,workdir=$T/ovl/work" "$T/ovl/root" || exit 77
R=$T/ovl/root
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mkdir -p "$R/debs" "$R/src"
mount --bind "$T" "$R/debs"
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin LC_ALL=C.UTF-8 "$@"; }
step() { echo "---- $*"; }
step install
in_root sh -c 'dpkg -i /debs/libironicmdns0_*.deb /debs/libironicmdns-dev_*.deb /debs/ironic-mdns_*.deb' >/dev/null
in_root dpkg -s libironicmdns0 libironicmdns-dev ironic-mdns | grep -c '^Status: install ok installed$' | grep -qx 3
step pkg-config
test "$(in_root pkg-config --modversion ironicmdns)" = "$(in_root dpkg-query -W -f '${source:Upstream-Version}' libironicmdns0)"
in_root pkg-config --static --libs ironicmdns | grep -q -- '-lpthread'
step examples
for ex in publish lookup browse; do
    cp "$T/src-examples/$ex.c" "$R/src/"
    in_root sh -c "cc -std=c99 -Wall -Wextra -o /src/$ex /src/$ex.c \$(pkg-config --cflags --libs ironicmdns)"
    in_root ldd "/src/$ex" | grep -Eq "libironicmdns.so.0 => (/usr)?/lib/$MA/libironicmdns.so.0"
    # Static: the archive and pkg-config's Libs.private.
    in_root sh -c "cc -std=c99 -o /src/$ex-static /src/$ex.c \$(pkg-config --cflags ironicmdns) \$(pkg-config --static --libs ironicmdns | sed 's/-lironicmdns /-l:libironicmdns.a /')"
    ! in_root ldd "/src/$ex-static" | grep -q libironicmdns || exit 1
done
step version
cat >"$R/src/version.c" <<'C'
#include <ironicmdns.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    const char *v = zc_version();
    printf("%s\n", v);
    return v != NULL && strcmp(zc_strerror(ZC_OK), "") != 0 ? 0 : 1;
}
C
in_root sh -c 'cc -std=c99 -Wall -Werror -o /src/version /src/version.c $(pkg-config --cflags --libs ironicmdns)'
test "$(in_root /src/version)" = "$(in_root dpkg-query -W -f '${source:Upstream-Version}' libironicmdns0)"
step tool
in_root ironic-mdns --version | grep -q '^ironic-mdns '
in_root ironic-mdns options | grep -q '^\[mdns\]'
in_root sh -c 'MANWIDTH=80 man -P cat ironic-mdns 2>&1' | grep -q 'ironic-mdns - register, look up and browse'
step purge
in_root dpkg --purge ironic-mdns libironicmdns-dev libironicmdns0 >/dev/null
! ls "$R/usr/lib/$MA/"libironicmdns* "$R/usr/include/ironicmdns.h" "$R/usr/bin/ironic-mdns" 2>/dev/null || exit 1
echo "---- all steps passed"
INROOT
    mkdir -p "$SCRATCH/ovl" "$SCRATCH/src-examples"
    cp examples/c/*.c "$SCRATCH/src-examples/"
    unshare -m --propagation private bash "$SCRATCH/inroot.sh" "$SCRATCH" "$MA" >"$SCRATCH/inroot.log" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then
        ok "install, pkg-config, C examples (dynamic and static), tool, man page, purge in a throwaway root"
    elif [ "$rc" -eq 77 ] || ! grep -q '^---- install' "$SCRATCH/inroot.log"; then
        echo "     no overlay of / in a private mount namespace here ($(tail -n 1 "$SCRATCH/inroot.log"));"
        echo "     checking the unpacked packages instead"
        unpacked
    else
        bad "install in a throwaway root; its log ends:"
        tail -n 20 "$SCRATCH/inroot.log" | sed 's/^/     /'
    fi
fi
finish
