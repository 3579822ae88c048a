/*
 * t/unit/test-progress: lib/core/progress draws on stderr only when enabled,
 * at most four times a second (but at once after a clear), with the total
 * and the errors when it has them, and ends its line only if it drew one.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/progress.h"
#include "tap.h"
#include "util.h"

static char path[4096];
static int saved_stderr = -1;

/* Send stderr to a fresh temporary file. */
static void
capture(void)
{
	int fd;

	snprintf(path, sizeof path, "%s/dz-test-progress.XXXXXX", tmpdir());
	fd = mkstemp(path);
	if (fd < 0) {
		printf("Bail out! mkstemp failed\n");
		exit(1);
	}
	fflush(stderr);
	if (saved_stderr < 0)
		saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
}

/* Restore stderr and return what was written to it (static buffer). */
static const char *
captured(void)
{
	static char buf[4096];
	ssize_t n;
	int fd;

	fflush(stderr);
	dup2(saved_stderr, 2);
	fd = open(path, O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	unlink(path);
	return buf;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * head ("\rdz-test: 5 files, "), a rate, tail ("/s" or "/s\n"); spaces
 * padding over a longer line before the tail's newline are allowed.
 */
static int
looks_like(const char *s, const char *head, const char *tail)
{
	size_t h = strlen(head), t = strlen(tail), n = strlen(s);
	char buf[512];

	if (n >= sizeof buf)
		return 0;
	memcpy(buf, s, n + 1);
	if (t && tail[t - 1] == '\n') {
		if (!n || buf[n - 1] != '\n')
			return 0;
		buf[--n] = '\0';
		t--;
	}
	while (n && buf[n - 1] == ' ')
		buf[--n] = '\0';
	return n >= h + t + 1 && strncmp(buf, head, h) == 0 &&
	    buf[h] >= '0' && buf[h] <= '9' && strncmp(buf + n - t, tail, t) == 0;
}

int
main(void)
{
	struct dz_progress p;
	const char *out;

	/* Automatic, no tty, no force: silent. */
	unsetenv("DZ_PROGRESS_FORCE");
	capture();
	dz_progress_init(&p, "dz-test", "files", -1);
	pause_ms(300);
	dz_progress_tick(&p, 1);
	dz_progress_end(&p);
	ok(strcmp(captured(), "") == 0, "auto without a tty: nothing drawn");

	setenv("DZ_PROGRESS_FORCE", "1", 1);
	capture();
	dz_progress_init(&p, "dz-test", "files", 0);
	pause_ms(300);
	dz_progress_tick(&p, 1);
	dz_progress_end(&p);
	ok(strcmp(captured(), "") == 0, "enabled 0 beats DZ_PROGRESS_FORCE");

	/* No tick: nothing, not even at the end. */
	capture();
	dz_progress_init(&p, "dz-test", "files", -1);
	dz_progress_end(&p);
	ok(strcmp(captured(), "") == 0, "no tick: nothing drawn");

	/* The first tick draws; the next ones only 250 ms later. */
	capture();
	dz_progress_init(&p, "dz-test", "files", -1);
	dz_progress_tick(&p, 1);
	dz_progress_tick(&p, 2);	/* too soon: not drawn */
	out = captured();
	ok(strcmp(out, "\rdz-test: 1 files") == 0,
	    "forced: first tick drawn at once, no rate yet: '%s'", out + 1);
	ok(strchr(out, '\n') == NULL && strstr(out, "2 files") == NULL,
	    "forced: no newline, second tick too soon");
	capture();
	pause_ms(300);
	dz_progress_tick(&p, 5);
	out = captured();
	ok(looks_like(out, "\rdz-test: 5 files, ", "/s"),
	    "forced: redrawn with a rate after 250 ms: '%s'", out + 1);

	capture();
	pause_ms(300);
	dz_progress_tick(&p, 1000000);
	pause_ms(300);
	dz_progress_tick(&p, 1);
	out = strchr(captured() + 1, '\r');
	ok(out && looks_like(out, "\rdz-test: 1 files, ", "/s") &&
	    out[strlen(out) - 1] == ' ',
	    "a shorter line is padded over the longer one");

	capture();
	dz_progress_clear(&p);
	out = captured();
	ok(out[0] == '\r' && out[strlen(out) - 1] == '\r' &&
	    strspn(out + 1, " ") == strlen(out) - 2,
	    "clear: the line is blanked");

	capture();
	dz_progress_clear(&p);	/* nothing visible: nothing written */
	pause_ms(300);
	dz_progress_tick(&p, 1234);
	dz_progress_end(&p);
	dz_progress_tick(&p, 2000);	/* after end: nothing */
	out = captured();
	ok(strncmp(out, "\rdz-test: 1234 files, ", 22) == 0 &&
	    looks_like(strchr(out + 1, '\r'), "\rdz-test: 1234 files, ", "/s\n"),
	    "end: final line with a newline");
	ok(strstr(out, "2000") == NULL, "no drawing after end");

	/* The total when known, the errors once there is one. */
	capture();
	dz_progress_init(&p, "dz-test", "files", -1);
	dz_progress_total(&p, 40);
	dz_progress_errors(&p, 0);
	dz_progress_tick(&p, 1);
	out = captured();
	ok(strcmp(out, "\rdz-test: 1/40 files") == 0,
	    "total: done/total, no errors shown while there are none: '%s'",
	    out + 1);
	capture();
	dz_progress_errors(&p, 1);
	pause_ms(300);
	dz_progress_tick(&p, 2);
	out = captured();
	ok(looks_like(out, "\rdz-test: 2/40 files, 1 error, ", "/s"),
	    "one error: '%s'", out + 1);
	capture();
	dz_progress_errors(&p, 3);
	pause_ms(300);
	dz_progress_tick(&p, 40);
	dz_progress_end(&p);
	out = strrchr(captured(), '\r');
	ok(out && looks_like(out, "\rdz-test: 40/40 files, 3 errors, ", "/s\n"),
	    "errors, plural, and the final line: '%s'", out ? out + 1 : "");

	/* A line cleared for a diagnostic comes back with the next tick. */
	capture();
	dz_progress_init(&p, "dz-test", "files", -1);
	dz_progress_tick(&p, 1);
	dz_progress_clear(&p);
	dz_progress_tick(&p, 2);
	dz_progress_tick(&p, 3);	/* visible again, too soon: not drawn */
	dz_progress_end(&p);
	out = captured();
	ok(strstr(out, "\rdz-test: 2 files") != NULL &&
	    strstr(out, "3 files") == strstr(strrchr(out, '\r'), "3 files") &&
	    out[strlen(out) - 1] == '\n',
	    "after a clear, the next tick draws at once, the one after waits");
	return tap_done();
}
