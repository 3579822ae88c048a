/*
 * lib/core/err: how lib/ reports failure to cmd/.
 *
 * lib/ never prints and never exits. A function that can fail takes a
 * struct dz_err * as its last argument, returns -1 (or NULL) on failure and
 * fills the buffer with a sysexits(3) code and a short lowercase reason
 * ("truncated PNG data"). The reason never holds file content or personal
 * data; the caller adds the subject (a file name) when it prints.
 *
 * May use: the C library only.
 */
#ifndef DZ_ERR_H
#define DZ_ERR_H

#include <stddef.h>
#include <sysexits.h>

#define DZ_ERR_MAX 200

struct dz_err {
	int code;		/* EX_DATAERR, EX_NOINPUT, EX_SOFTWARE, ... */
	char msg[DZ_ERR_MAX];
};

/* Fill e (if not NULL) and return -1. */
int dz_err_set(struct dz_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reset e to "no error". */
void dz_err_clear(struct dz_err *e);

/*
 * The text of errno value e in buf (n bytes, n > 0): strerror_r's, or
 * "error <e>" where it has none. Returns buf. Thread-safe, unlike
 * strerror.
 */
const char *dz_err_strerror(int e, char *buf, size_t n);

#endif
