/*
 * lib/core/proc: after dz_proc_harden() the process writes no core dump and is
 * not dumpable, so that no other process of the same user can read the
 * master key or decrypted media out of its memory (/proc/PID/mem, ptrace).
 */
#include <sys/prctl.h>
#include <sys/resource.h>

#include "core/err.h"
#include "core/proc.h"
#include "tap.h"

int
main(void)
{
	struct dz_err err = { 0 };
	struct rlimit rl;

	ok(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1,
	    "before: dumpable, as every process starts (the check can fail)");
	ok(dz_proc_harden(&err) == 0, "dz_proc_harden succeeds");
	ok(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0, "after: not dumpable");
	ok(getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur == 0 &&
	    rl.rlim_max == 0, "after: no core dumps, and no raising the limit");
	return tap_done();
}
