/*
 * t/unit/test-err: lib/core/err, the error buffer and the one strerror_r
 * wrapper lib/ uses.
 */
#include <errno.h>
#include <string.h>

#include "core/err.h"
#include "tap.h"

int
main(void)
{
	struct dz_err e;
	char buf[128], tiny[4];

	ok(dz_err_set(&e, EX_DATAERR, "bad %s %d", "line", 3) == -1 &&
	    e.code == EX_DATAERR && strcmp(e.msg, "bad line 3") == 0,
	    "set: returns -1, fills the code and the message");
	ok(dz_err_set(NULL, EX_DATAERR, "x") == -1, "set: NULL is allowed");
	dz_err_clear(&e);
	ok(e.code == 0 && e.msg[0] == '\0', "clear: no error left");

	ok(dz_err_strerror(ENOENT, buf, sizeof buf) == buf &&
	    strcmp(buf, strerror(ENOENT)) == 0,
	    "strerror: the C library's text (%s)", buf);
	ok(strcmp(dz_err_strerror(EACCES, buf, sizeof buf),
	    strerror(EACCES)) == 0, "strerror: another errno, another text");
	dz_err_strerror(ENOENT, tiny, sizeof tiny);
	ok(strlen(tiny) < sizeof tiny, "strerror: a short buffer stays a "
	    "string (\"%s\")", tiny);
	return tap_done();
}
