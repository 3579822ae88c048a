# t/fuzz/fuzz.mk: fuzz harnesses, included by the Makefile.  See
# CONTRIBUTING.md, "Fuzzing", and t/fuzz/fuzz.h.
#
#   make fuzz [FUZZ_SECONDS=300] [FUZZ=NAME...]   run the fuzzers (scripts/fuzz)
#   make fuzz-build                                build them only
#   make fuzz-clean                                also forget corpora, findings
#
# Each harness t/fuzz/NAME.c is built twice:
#   t/fuzz/bin/fuzz-NAME    clang, libFuzzer, ASan + UBSan, over lib/ built
#                           again into t/fuzz/obj/ (when clang can link
#                           libFuzzer; scripts/deps installs it)
#   t/fuzz/bin/replay-NAME  the project's compiler and flags (SANITIZE=1
#                           gives ASan) with t/fuzz/replay.c and
#                           lib/libdz.a: runs saved inputs, for make check

FUZZ_NAMES = jpeg png avimage video record config bank blob rdap
FUZZ_IMAGE_NAMES = jpeg png avimage
FUZZ_SECONDS ?= 300
FUZZ ?= $(FUZZ_NAMES)

FUZZ_CC ?= clang
FUZZ_CFLAGS ?= -g -O1 -fno-omit-frame-pointer
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined
# DZ_CFLAGS without SANITIZE=1's flags: the fuzz build has its own.
FUZZ_DZ_CFLAGS = $(filter-out -fsanitize=% -fno-sanitize-recover=% \
	-fno-omit-frame-pointer,$(DZ_CFLAGS))
FUZZ_COMPILE = $(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
	$(FUZZ_SAN) $(FUZZ_DZ_CFLAGS) $(PKG_CFLAGS)
FUZZ_LINK = $(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) -pthread
FUZZ_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS_ALL)) -lm

FUZZ_LIB_OBJ = $(LIB_SRC:lib/%.c=t/fuzz/obj/lib/%.o)
FUZZ_BIN = $(FUZZ_NAMES:%=t/fuzz/bin/fuzz-%)
FUZZ_REPLAY = $(FUZZ_NAMES:%=t/fuzz/bin/replay-%)
FUZZ_HDR = t/fuzz/fuzz.h t/fuzz/fzimage.h

# Can clang build and link a libFuzzer binary? Asked only when a goal
# needs to know (half a second).
ifneq ($(filter check fuzz fuzz-build,$(MAKECMDGOALS)),)
FUZZ_HAVE := $(shell printf '%s\n' \
	'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);' \
	'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)' \
	'{ (void)d; (void)n; return 0; }' | \
	$(FUZZ_CC) -x c -fsanitize=fuzzer,address,undefined -o /dev/null - \
	>/dev/null 2>&1 && echo 1)
endif

CHECK_EXTRA += $(FUZZ_REPLAY) t/fuzz/bin/seedtool
ifeq ($(FUZZ_HAVE),1)
CHECK_EXTRA += $(FUZZ_BIN)
endif
CLEAN_EXTRA += $(FUZZ_BIN) $(FUZZ_REPLAY) t/fuzz/bin/seedtool \
	$(FUZZ_LIB_OBJ) $(FUZZ_NAMES:%=t/fuzz/obj/%.o) t/fuzz/obj/util.o \
	t/fuzz/obj/fzimage.o t/fuzz/obj/libdz-fuzz.a t/fuzz/obj/.flags
clean: fuzz-clean-build

# Rebuild the clang objects when their flags change.
FUZZ_FLAGS_NOW = $(FUZZ_COMPILE) | $(FUZZ_LINK)
t/fuzz/obj/.flags: FORCE
	@mkdir -p $(sort $(dir $(FUZZ_LIB_OBJ))) t/fuzz/bin
	@echo '$(FUZZ_FLAGS_NOW)' | cmp -s - $@ || echo '$(FUZZ_FLAGS_NOW)' > $@

t/fuzz/obj/lib/%.o: lib/%.c $(LIB_HDR) t/fuzz/obj/.flags
	$(FUZZ_COMPILE) -c -o $@ $<

t/fuzz/obj/%.o: t/fuzz/%.c $(FUZZ_HDR) $(LIB_HDR) t/fuzz/obj/.flags
	$(FUZZ_COMPILE) -c -o $@ $<

t/fuzz/obj/libdz-fuzz.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(FUZZ_LIB_OBJ)

# (kept: made through a pattern, they would count as intermediate)
.SECONDARY: $(FUZZ_NAMES:%=t/fuzz/obj/%.o) t/fuzz/obj/util.o \
	t/fuzz/obj/fzimage.o
$(FUZZ_IMAGE_NAMES:%=t/fuzz/bin/fuzz-%): t/fuzz/obj/fzimage.o
t/fuzz/bin/fuzz-%: t/fuzz/obj/%.o t/fuzz/obj/util.o t/fuzz/obj/libdz-fuzz.a
	$(FUZZ_LINK) -o $@ $(filter %.o,$^) t/fuzz/obj/libdz-fuzz.a \
		$(FUZZ_LIBS)

# The replay build: the project's compiler, flags and library.
$(FUZZ_IMAGE_NAMES:%=t/fuzz/bin/replay-%): t/fuzz/fzimage.c
t/fuzz/bin/replay-%: t/fuzz/%.c t/fuzz/replay.c t/fuzz/util.c $(FUZZ_HDR) \
		lib/libdz.a .build-flags
	@mkdir -p t/fuzz/bin
	$(CC) $(CFLAGS) $(DZ_CFLAGS) $(PKG_CFLAGS) -o $@ $(filter %.c,$^) \
		lib/libdz.a $(LDFLAGS) $(DZ_LDFLAGS) \
		$(shell $(PKG_CONFIG) --libs $(PKGS_ALL)) -lm

t/fuzz/bin/seedtool: t/fuzz/seedtool.c t/fuzz/util.c $(FUZZ_HDR) \
		lib/libdz.a .build-flags
	@mkdir -p t/fuzz/bin
	$(CC) $(CFLAGS) $(DZ_CFLAGS) $(PKG_CFLAGS) -o $@ $(filter %.c,$^) \
		lib/libdz.a $(LDFLAGS) $(DZ_LDFLAGS) \
		$(shell $(PKG_CONFIG) --libs $(PKGS_ALL)) -lm

fuzz-build: $(FUZZ_BIN) $(FUZZ_REPLAY) t/fuzz/bin/seedtool

fuzz: fuzz-build
	scripts/fuzz -s $(FUZZ_SECONDS) $(FUZZ)

fuzz-clean-build:
	rm -rf t/fuzz/bin t/fuzz/obj t/fuzz/corpus t/fuzz/corpus.lock

# Also the working corpora and the findings of past runs.
fuzz-clean: fuzz-clean-build
	rm -rf t/fuzz/work t/fuzz/findings

.PHONY: fuzz fuzz-build fuzz-clean fuzz-clean-build
