# mk/install.mk — `make install` and `make uninstall` (included by the Makefile).
#
# Installs what a third party builds against or runs: the public headers
# (include/virtiosim/*.h, the only headers a plugin may include), the library
# (libvirtiosim.a and .so), the virtio-sim CLI, and a pkg-config file,
# virtiosim.pc, generated from mk/virtiosim.pc.in; and the data the CLI reads
# (the scenarios, the suite manifest, the normative index) under
# PREFIX/share/virtio-sim.
#
#   make install                          into /usr/local
#   make install PREFIX=$HOME/.local      anywhere
#   make install DESTDIR=/tmp/stage       staged (packaging): files go under
#                                         DESTDIR, virtiosim.pc still says PREFIX
#
# Plugins use only `pkg-config --cflags virtiosim` (see "writing a plugin" in
# include/virtiosim/backend.h); `--libs` is for programs that embed the engine.

PREFIX       ?= /usr/local
BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DATADIR      ?= $(PREFIX)/share/virtio-sim
INSTALL      ?= install

# The one version number lives in the public header.
VSIM_PC_VERSION = $(shell sed -n 's/^\#define VSIM_VERSION "\(.*\)"/\1/p' include/virtiosim/virtiosim.h)

.PHONY: install uninstall

install: all mk/virtiosim.pc.in
	$(INSTALL) -d '$(DESTDIR)$(INCLUDEDIR)/virtiosim' '$(DESTDIR)$(LIBDIR)' \
	  '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(PKGCONFIGDIR)'
	$(INSTALL) -m 644 include/virtiosim/*.h '$(DESTDIR)$(INCLUDEDIR)/virtiosim/'
	$(INSTALL) -m 644 $(BUILD)/libvirtiosim.a '$(DESTDIR)$(LIBDIR)/'
	$(INSTALL) -m 755 $(BUILD)/libvirtiosim.so '$(DESTDIR)$(LIBDIR)/'
	$(INSTALL) -m 755 $(BUILD)/virtio-sim '$(DESTDIR)$(BINDIR)/'
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	  -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VSIM_PC_VERSION)|g' \
	  mk/virtiosim.pc.in > '$(DESTDIR)$(PKGCONFIGDIR)/virtiosim.pc'
	chmod 644 '$(DESTDIR)$(PKGCONFIGDIR)/virtiosim.pc'
	@# what `virtio-sim conform` and `coverage` read (sim/datafile.h finds
	@# PREFIX/share/virtio-sim from PREFIX/bin/virtio-sim)
	$(INSTALL) -d '$(DESTDIR)$(DATADIR)/conformance'
	$(INSTALL) -m 644 conformance/suites.json conformance/normative-index.json '$(DESTDIR)$(DATADIR)/conformance/'
	cp -R scenarios '$(DESTDIR)$(DATADIR)/'

uninstall:
	rm -f '$(DESTDIR)$(BINDIR)/virtio-sim' '$(DESTDIR)$(LIBDIR)/libvirtiosim.a' \
	  '$(DESTDIR)$(LIBDIR)/libvirtiosim.so' '$(DESTDIR)$(PKGCONFIGDIR)/virtiosim.pc'
	rm -f $(patsubst include/virtiosim/%,'$(DESTDIR)$(INCLUDEDIR)/virtiosim/%',$(wildcard include/virtiosim/*.h))
	-rmdir '$(DESTDIR)$(INCLUDEDIR)/virtiosim' 2>/dev/null
	rm -rf '$(DESTDIR)$(DATADIR)'
