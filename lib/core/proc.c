#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <openssl/crypto.h>

#include "core/err.h"
#include "core/proc.h"

int
dz_proc_harden(struct dz_err *err)
{
	struct rlimit no = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &no) != 0)
		return dz_err_set(err, EX_SOFTWARE, "cannot disable core dumps: %s",
		    strerror(errno));
	/*
	 * Not dumpable: without this, any process of the same user can read
	 * the master key and decrypted media from /proc/PID/mem or attach a
	 * debugger. It also makes /proc/PID/ belong to root.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return dz_err_set(err, EX_SOFTWARE,
		    "cannot make the process undumpable: %s", strerror(errno));
	/*
	 * libcrypto sets up its default context on first use, and OpenSSL
	 * 3.0 then crashes (a NULL lock) in RAND_bytes and every later call
	 * if an allocation failed while it did: set it up now, where that
	 * failure is a clean exit (found by t/0210, malloc faults).
	 */
	if (!OSSL_LIB_CTX_get0_global_default())
		return dz_err_set(err, EX_SOFTWARE,
		    "cannot initialise libcrypto: out of memory");
	return 0;
}
