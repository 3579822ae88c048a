#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "err.h"
#include "proc.h"

int
dz_proc_harden(struct dz_err *err)
{
	struct rlimit no = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &no) != 0)
		return dz_err_set(err, EX_SOFTWARE, "cannot disable core dumps: %s",
		    strerror(errno));
	return 0;
}
