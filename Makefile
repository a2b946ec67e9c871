# libironicmdns: build and install the C library and the ironic-mdns tool.
# cargo-c's `cargo cinstall`, described by [package.metadata.capi] in
# Cargo.toml, installs the same library files.
#
#   make                  cargo build --release --locked
#   make install          PREFIX=/usr/local LIBDIR=$(PREFIX)/lib
#                         INCLUDEDIR=$(PREFIX)/include BINDIR=$(PREFIX)/bin
#                         MANDIR=$(PREFIX)/share/man DESTDIR=
#   make header           regenerate include/ironicmdns.h (pinned cbindgen)
#   make examples         build examples/c against the uninstalled tree
#   make demo / make test run ./scripts/demo.sh / ./scripts/test.sh

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
# PROFILE=dev builds faster (tests use it); installs the same files.
PROFILE ?= release
CARGO ?= cargo
CC ?= cc
INSTALL ?= install

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
MAJOR := $(word 1,$(subst ., ,$(VERSION)))
# cargo's target directory (CARGO_TARGET_DIR when set, as cargo does).
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
OUT := $(TARGET_DIR)/$(if $(filter dev,$(PROFILE)),debug,$(PROFILE))
SONAME := libironicmdns.so.$(MAJOR)
REALNAME := libironicmdns.so.$(VERSION)

# What a program linking libironicmdns.a needs besides it, as rustc says.
NATIVE_LIBS := $(TARGET_DIR)/native-static-libs.txt

.PHONY: all build install uninstall header examples demo test

all: build

build:
	$(CARGO) build --profile $(PROFILE) --locked

# Asked once per target directory, in the profile of the build (only this
# crate is compiled again, not its dependencies). cargo-c asks the same
# question of its own build.
$(NATIVE_LIBS): Cargo.toml Cargo.lock
	$(CARGO) rustc --profile $(PROFILE) --locked --lib -- --print native-static-libs 2>&1 \
	  | sed -n 's/.*native-static-libs: //p' | tail -n 1 > $@.$$$$.tmp; \
	test -s $@.$$$$.tmp && mv $@.$$$$.tmp $@

# ${prefix}-relative paths when under PREFIX, so pkg-config --define-prefix works.
PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|' \
	    -e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|' \
	    -e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))|' \
	    -e 's|@VERSION@|$(VERSION)|' \
	    -e "s|@LIBS_PRIVATE@|$$(cat $(NATIVE_LIBS))|"

install: build $(NATIVE_LIBS)
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	  $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	$(INSTALL) -m 0755 $(OUT)/libironicmdns.so $(DESTDIR)$(LIBDIR)/$(REALNAME)
	ln -sf $(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libironicmdns.so
	$(INSTALL) -m 0644 $(OUT)/libironicmdns.a $(DESTDIR)$(LIBDIR)/libironicmdns.a
	$(INSTALL) -m 0644 include/ironicmdns.h $(DESTDIR)$(INCLUDEDIR)/ironicmdns.h
	$(PC_SED) pkgconfig/ironicmdns.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/ironicmdns.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/ironicmdns.pc
	$(INSTALL) -m 0755 $(OUT)/ironic-mdns $(DESTDIR)$(BINDIR)/ironic-mdns
	$(INSTALL) -m 0644 man/ironic-mdns.1 $(DESTDIR)$(MANDIR)/man1/ironic-mdns.1
	$(INSTALL) -m 0644 man/zc_cancel.3 $(DESTDIR)$(MANDIR)/man3/zc_cancel.3

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	      $(DESTDIR)$(LIBDIR)/libironicmdns.so $(DESTDIR)$(LIBDIR)/libironicmdns.a \
	      $(DESTDIR)$(INCLUDEDIR)/ironicmdns.h $(DESTDIR)$(PKGCONFIGDIR)/ironicmdns.pc \
	      $(DESTDIR)$(BINDIR)/ironic-mdns $(DESTDIR)$(MANDIR)/man1/ironic-mdns.1 \
	      $(DESTDIR)$(MANDIR)/man3/zc_cancel.3

header:
	IRONICMDNS_BLESS=1 $(CARGO) test --locked --test capi_header

# Against the uninstalled tree; run with LD_LIBRARY_PATH=target/release (or target/debug with PROFILE=dev),
# and only inside a private network namespace (see docs/LAB.md).
examples: build
	$(CC) -std=c99 -Wall -Wextra -O2 -Iinclude -o target/publish examples/c/publish.c -L$(OUT) -lironicmdns
	$(CC) -std=c99 -Wall -Wextra -O2 -Iinclude -o target/lookup examples/c/lookup.c -L$(OUT) -lironicmdns
	$(CC) -std=c99 -Wall -Wextra -O2 -Iinclude -o target/browse examples/c/browse.c -L$(OUT) -lironicmdns

demo:
	./scripts/demo.sh

test:
	./scripts/test.sh
