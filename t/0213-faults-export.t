#!/bin/bash
# Fault injection on dz-export bank, a full export and a delta: every call site of write,
# fsync, rename and open, and one in ${DZ_FAULT_MALLOC_EVERY:-5} call sites of malloc,
# made to fail in turn (t/fault/faultinj.so). Each time: no death by a
# signal, a non-zero exit with one clear message (or a complete result),
# the store consistent, no acknowledged record lost, no plaintext left,
# and a clean re-run ends where a run without faults does. See
# t/fault/walk.sh; scripts/faults walks every call and every site.
# slow: fault walk (make check-quick leaves it out)
. "$(dirname "$0")/lib.sh"

FW_WORK=$TRASH
FW_IO_MODE=sites
FW_MALLOC_EVERY=${DZ_FAULT_MALLOC_EVERY:-5}
. "$TOP/t/fault/walk.sh"
fw_tap export-full export-delta
test_done
