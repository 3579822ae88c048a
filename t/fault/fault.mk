# t/fault/fault.mk: the LD_PRELOAD fault injector (t/fault/faultinj.c),
# included by the Makefile. make check builds it for t/0210-0213;
# scripts/faults runs the whole walk.
#
# A shared library linked against libc and libdl only. CFLAGS apply (and
# .build-flags rebuilds it when they change), but never the sanitizers:
# the ASan runtime must stay the only malloc, so faultinj-io.so, the build
# without the malloc wrappers, is what a SANITIZE=1 check preloads.
# _FORTIFY_SOURCE is turned off because it makes open() an inline
# function that cannot be redefined.
FAULT_CFLAGS = -std=c11 -fPIC -U_FORTIFY_SOURCE -fno-sanitize=all \
	-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -pthread
ifeq ($(DEVELOPER),1)
FAULT_CFLAGS += -Werror
endif
FAULT_LIBS = t/fault/faultinj.so t/fault/faultinj-io.so

t/fault/faultinj.so: t/fault/faultinj.c .build-flags
	$(CC) $(CFLAGS) $(FAULT_CFLAGS) -shared -o $@ $< -ldl

t/fault/faultinj-io.so: t/fault/faultinj.c .build-flags
	$(CC) $(CFLAGS) $(FAULT_CFLAGS) -DFAULTINJ_NO_MALLOC -shared -o $@ $< -ldl

faults: all $(FAULT_LIBS)
	scripts/faults

CHECK_EXTRA += $(FAULT_LIBS)
CLEAN_EXTRA += $(FAULT_LIBS)
.PHONY: faults
