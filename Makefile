# disrupt: build, test, install.  See CONTRIBUTING.md.
#
#   make deps            install build and test dependencies (Debian, as root)
#   make                 build lib/libdz.a and the programs in cmd/
#   make check           run the test suite with prove
#   make check-quick     the same without the slow tests (fault walks, crash
#                        trials, fuzzing, valgrind): the edit-test loop
#   make check SANITIZE=1   the same under ASan + UBSan
#   make bench           speed figures (scripts/bench/)
#   make install PREFIX=/usr/local DESTDIR=   (and make uninstall)

# The one place the version is written: every program's --version.
VERSION = 0.1.0

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/dz
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

CC ?= cc
AR ?= ar
PKG_CONFIG ?= pkg-config
PROVE ?= prove

# Hardening defaults; override CFLAGS freely, the warnings below stay on.
CFLAGS ?= -O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
LDFLAGS ?= -pie -Wl,-z,relro,-z,now

# PDQ must agree bit for bit with the reference: no fused multiply-add, no
# fast-math reassociation, whatever CFLAGS says.
DZ_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
	-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-ffp-contract=off -fno-fast-math -pthread -Ilib \
	-DDZ_VERSION=\"$(VERSION)\"
DZ_LDFLAGS = -pthread

ifeq ($(DEVELOPER),1)
DZ_CFLAGS += -Werror
endif
ifeq ($(SANITIZE),1)
DZ_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
DZ_LDFLAGS += -fsanitize=address,undefined
endif

# Libraries each program links, found with pkg-config.
PKGS_IMAGE = libjpeg libpng libavformat libavcodec libavutil libswscale
PKGS_dz-hash = $(PKGS_IMAGE) libcrypto jansson yaml-0.1 sqlite3
PKGS_dz-ingest = libcrypto jansson yaml-0.1 sqlite3
PKGS_dz-export = libcrypto jansson yaml-0.1 sqlite3
PKGS_dz-purge = libcrypto jansson yaml-0.1 sqlite3
PKGS_dz-match = $(PKGS_IMAGE) libcrypto jansson yaml-0.1
PKGS_dz-notify = libssl libcrypto jansson yaml-0.1 sqlite3
PKGS_ALL = $(PKGS_IMAGE) libssl libcrypto jansson yaml-0.1 sqlite3

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS_ALL) 2>/dev/null)

# share/dz/ (provider directory, templates) compiled in: lib/core/builtin.c.
DATA = $(sort $(wildcard share/dz/*.yaml share/dz/templates/*.txt))
LIB_SRC = $(sort $(wildcard lib/*/*.c) lib/core/builtin.c)
LIB_OBJ = $(LIB_SRC:.c=.o)
LIB_HDR = $(wildcard lib/*/*.h)
PROGS = dz-hash dz-ingest dz-export dz-match dz-notify dz-purge
PROG_BIN = $(addprefix cmd/,$(PROGS))
UNIT_SRC = $(sort $(wildcard t/unit/*.c))
UNIT_BIN = $(UNIT_SRC:.c=)
MANS = $(sort $(wildcard man/*.[1-8]))

# Robustness (issue 7): fuzzing, fault injection. Each part keeps its
# rules beside its sources and adds what `make check` needs built to
# CHECK_EXTRA, and what `make clean` removes to CLEAN_EXTRA.
.DEFAULT_GOAL := all
CHECK_EXTRA =
CLEAN_EXTRA =
-include t/fuzz/fuzz.mk
-include t/fault/fault.mk

all: $(PROG_BIN)

# Rebuild everything when the flags change (SANITIZE=1 after a plain build).
BUILD_FLAGS_NOW = $(CC) $(CFLAGS) $(DZ_CFLAGS) $(LDFLAGS) $(DZ_LDFLAGS)
.build-flags: FORCE
	@echo '$(BUILD_FLAGS_NOW)' | cmp -s - $@ || echo '$(BUILD_FLAGS_NOW)' > $@

lib/core/builtin.c: scripts/embed $(DATA)
	sh scripts/embed share/dz $(DATA:share/dz/%=%) > $@.tmp && mv $@.tmp $@

lib/%.o: lib/%.c $(LIB_HDR) .build-flags
	$(CC) $(CFLAGS) $(DZ_OPT) $(DZ_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

# The PDQ filter is the hot loop: let the compiler vectorise it.
lib/hash/pdq.o: DZ_OPT = -O3

lib/libdz.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

cmd/%: cmd/%.c lib/libdz.a .build-flags
	$(CC) $(CFLAGS) $(DZ_CFLAGS) $(PKG_CFLAGS) -o $@ $< lib/libdz.a \
		$(LDFLAGS) $(DZ_LDFLAGS) \
		$(shell $(PKG_CONFIG) --libs $(PKGS_$(notdir $@))) -lm

t/unit/%: t/unit/%.c t/unit/tap.h t/unit/util.h lib/libdz.a .build-flags
	$(CC) $(CFLAGS) $(DZ_CFLAGS) $(PKG_CFLAGS) -It/unit -o $@ $< lib/libdz.a \
		$(LDFLAGS) $(DZ_LDFLAGS) $(shell $(PKG_CONFIG) --libs $(PKGS_ALL)) -lm

check: all $(UNIT_BIN) $(CHECK_EXTRA)
	LC_ALL=C TZ=UTC DZ_SANITIZE=$(SANITIZE) $(PROVE) -j2 -e /bin/bash t/

# The edit-test loop: every test but those marked "# slow:" (fault walks,
# crash trials, fuzzing, valgrind), which make check and CI still run.
QUICK_TESTS = $(shell grep -L '^\# slow:' t/*.t)
check-quick: all $(UNIT_BIN)
	LC_ALL=C TZ=UTC DZ_SANITIZE=$(SANITIZE) $(PROVE) -j2 -e /bin/bash $(QUICK_TESTS)

# Every C file compiled with gcc and with clang, warnings as errors,
# nothing written (t/0101-warnings.t; `make warnings` by hand).
WARN_SRC = $(LIB_SRC) $(wildcard cmd/*.c) $(UNIT_SRC)
WARN_CC = gcc clang
warnings: lib/core/builtin.c
	@for c in $(WARN_CC); do \
		printf '%s\n' $(WARN_SRC) | xargs -P2 -I{} $$c -O2 \
			-D_FORTIFY_SOURCE=2 -fPIE -c -o /dev/null $(DZ_CFLAGS) \
			-Werror $(PKG_CFLAGS) -It/unit {} || exit 1; \
		echo "warnings: $$c: clean ($(words $(WARN_SRC)) files)"; \
	done

# lib/bank/mih's figures: scripts/bench/match runs it after scripts/bench/run.
scripts/bench/matchbench: scripts/bench/match.c t/unit/util.h lib/libdz.a .build-flags
	$(CC) $(CFLAGS) $(DZ_CFLAGS) $(PKG_CFLAGS) -o $@ $< lib/libdz.a \
		$(LDFLAGS) $(DZ_LDFLAGS) $(shell $(PKG_CONFIG) --libs $(PKGS_ALL)) -lm

scripts/bench/mkbank: scripts/bench/mkbank.c lib/libdz.a .build-flags
	$(CC) $(CFLAGS) $(DZ_CFLAGS) $(PKG_CFLAGS) -o $@ $< lib/libdz.a \
		$(LDFLAGS) $(DZ_LDFLAGS) $(shell $(PKG_CONFIG) --libs $(PKGS_ALL)) -lm

bench: all scripts/bench/matchbench scripts/bench/mkbank t/unit/test-vpdq-tool
	scripts/bench/run
	scripts/bench/match
	scripts/bench/matchfile
	scripts/bench/video

# Debian packages for building, testing and benchmarking: scripts/deps.
deps:
	sh scripts/deps

# make install: the programs, the pages, share/dz/ (the provider directory
# and the notice templates, copies of what lib/core/builtin.c compiles into the
# programs, for operators to copy and change: see notify.providers and
# notify.templates in dz.yaml(5)), and the bash completion, as one file and
# a link to it per program (bash-completion looks the file up by command).
COMPLETION = share/bash-completion/dz

install: all
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(BASHCOMPDIR)"
	install -m 755 $(PROG_BIN) "$(DESTDIR)$(BINDIR)/"
	for m in $(MANS); do \
		s=$${m##*.}; \
		install -d "$(DESTDIR)$(MANDIR)/man$$s" && \
		install -m 644 $$m "$(DESTDIR)$(MANDIR)/man$$s/" || exit 1; \
	done
	for f in $(DATA:share/dz/%=%); do \
		install -d "$(DESTDIR)$(DATADIR)/$$(dirname $$f)" && \
		install -m 644 share/dz/$$f "$(DESTDIR)$(DATADIR)/$$f" || exit 1; \
	done
	install -m 644 $(COMPLETION) "$(DESTDIR)$(BASHCOMPDIR)/dz"
	for p in $(PROGS); do \
		ln -sf dz "$(DESTDIR)$(BASHCOMPDIR)/$$p" || exit 1; \
	done

# Removes what install put, and share/dz/'s directories if they are empty;
# the standard directories (bin, man1...) stay.
uninstall:
	for p in $(PROGS); do \
		rm -f "$(DESTDIR)$(BINDIR)/$$p" "$(DESTDIR)$(BASHCOMPDIR)/$$p"; \
	done
	rm -f "$(DESTDIR)$(BASHCOMPDIR)/dz"
	for m in $(MANS); do \
		rm -f "$(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}"; \
	done
	for f in $(DATA:share/dz/%=%); do \
		rm -f "$(DESTDIR)$(DATADIR)/$$f"; \
	done
	for d in $(sort $(dir $(DATA:share/dz/%=%))); do \
		[ "$$d" = ./ ] || rmdir "$(DESTDIR)$(DATADIR)/$$d" 2>/dev/null || :; \
	done
	rmdir "$(DESTDIR)$(DATADIR)" 2>/dev/null || :

clean:
	rm -f lib/*/*.o lib/libdz.a lib/core/builtin.c $(PROG_BIN) $(UNIT_BIN) .build-flags \
		scripts/bench/matchbench scripts/bench/mkbank $(CLEAN_EXTRA)
	rm -rf t/trash.*

.PHONY: all check check-quick bench deps install uninstall clean warnings FORCE
.DELETE_ON_ERROR:
