/*
 * t/unit/tap.h: a tiny TAP producer for C unit tests of lib/ modules.
 * Each test binary calls ok() per check and returns tap_done().
 */
#ifndef DZ_TAP_H
#define DZ_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3), unused)) static int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

__attribute__((format(printf, 1, 2), unused)) static void
diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* rm -rf dir (a name without a quote in it); a comment if that fails. */
__attribute__((unused)) static void
tap_rm_rf(const char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("cannot remove %s", dir);
}

/* A test's scratch directory: removed if every check passed, else kept
 * for inspection and named. */
__attribute__((unused)) static void
tap_scratch_done(const char *dir)
{
	if (!tap_failed)
		tap_rm_rf(dir);
	else
		diag("files left in %s", dir);
}

__attribute__((unused)) static int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
