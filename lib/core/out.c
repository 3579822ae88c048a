#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/out.h"

void
dz_out_init(FILE *out)
{
	struct stat st;
	int fd = fileno(out), e = errno;

	if (fd < 0)
		return;
	if (isatty(fd) || (fstat(fd, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))))
		setvbuf(out, NULL, _IOLBF, 0);
	errno = e;	/* isatty() sets ENOTTY: not an error */
}

int
dz_out_close(FILE *out, struct dz_err *err)
{
	char eb[128];
	int e = 0, failed = 0;

	errno = 0;
	if (fflush(out) == EOF) {
		failed = 1;
		e = errno;
	}
	if (ferror(out))
		failed = 1;
	errno = 0;
	if (fclose(out) == EOF && !failed) {
		failed = 1;
		e = errno;
	}
	if (!failed)
		return 0;
	if (e)
		return dz_err_set(err, EX_IOERR, "write error: %s",
		    dz_err_strerror(e, eb, sizeof eb));
	return dz_err_set(err, EX_IOERR, "write error");
}

const char *
dz_out_term_name(const char *name, char *out, size_t n)
{
	size_t i;

	if (!n)
		return out;
	for (i = 0; name[i] && i + 1 < n; i++)
		out[i] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ?
		    '?' : name[i];
	out[i] = '\0';
	return out;
}

int
dz_out_text(FILE *out, const char *a, const char *b, struct dz_err *err)
{
	char eb[128];
	int e = 0;

	/*
	 * A text longer than stdio's buffer fails in fputs, not in the
	 * flush: keep that errno, or the reason is lost.
	 */
	errno = 0;
	if (fputs(a, out) == EOF || (b && fputs(b, out) == EOF))
		e = errno;
	if (dz_out_close(out, err) == 0 && !e)
		return 0;
	if (e)
		return dz_err_set(err, EX_IOERR, "write error: %s",
		    dz_err_strerror(e, eb, sizeof eb));
	return -1;
}
