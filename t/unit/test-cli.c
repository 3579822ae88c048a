/*
 * t/unit/test-cli: lib/core/cli parses numbers strictly and shapes every
 * message as "PROG: cannot VERB 'SUBJECT': REASON".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cli.h"
#include "core/err.h"
#include "tap.h"
#include "util.h"

static FILE *msgs;

/* What the helpers wrote since the last call. */
static const char *
said(void)
{
	static char buf[4096];

	return drain(msgs, buf, sizeof buf);
}

static int
uint_ok(const char *s, uint64_t min, uint64_t max, uint64_t want)
{
	struct dz_err err;
	uint64_t v = 12345;

	return dz_cli_parse_uint(s, min, max, &v, &err) == 0 && v == want;
}

static int
uint_refused(const char *s, uint64_t min, uint64_t max)
{
	struct dz_err err;
	uint64_t v = 12345;

	return dz_cli_parse_uint(s, min, max, &v, &err) == -1 &&
	    err.code == EX_USAGE && v == 12345;
}

static int
pct_ok(const char *s, double want)
{
	struct dz_err err;
	double v = -1;

	return dz_cli_parse_pct(s, &v, &err) == 0 && v == want;
}

static int
pct_refused(const char *s)
{
	struct dz_err err;
	double v = -1;

	return dz_cli_parse_pct(s, &v, &err) == -1 && err.code == EX_USAGE &&
	    v == -1 && !strcmp(err.msg, "expected a percentage from 0 to 100");
}

static void
numbers(void)
{
	struct dz_err err;
	uint64_t v;
	int i = 0;

	ok(uint_ok("1", 1, 256, 1), "1 in 1..256");
	ok(uint_ok("256", 1, 256, 256), "256 in 1..256");
	ok(uint_ok("007", 1, 256, 7), "leading zeros are decimal");
	ok(uint_ok("0", 0, 100, 0), "0 when 0 is allowed");
	ok(uint_refused("0", 1, 256), "0 below the minimum");
	ok(uint_refused("257", 1, 256), "257 above the maximum");
	ok(uint_refused("", 1, 256), "empty refused");
	ok(uint_refused("-1", 0, 256), "negative refused");
	ok(uint_refused("+1", 0, 256), "a plus sign refused");
	ok(uint_refused(" 1", 0, 256), "leading space refused");
	ok(uint_refused("1 ", 0, 256), "trailing space refused");
	ok(uint_refused("1x", 0, 256), "trailing junk refused");
	ok(uint_refused("0x10", 0, 256), "hexadecimal refused");
	ok(uint_refused("1e3", 0, 10000), "exponent refused");
	ok(uint_refused("abc", 1, 256), "letters refused");
	ok(uint_ok("18446744073709551615", 1, UINT64_MAX, UINT64_MAX),
	    "UINT64_MAX itself");
	ok(uint_refused("18446744073709551616", 1, UINT64_MAX),
	    "UINT64_MAX + 1 overflows: refused, not clamped");
	ok(uint_refused("99999999999999999999999", 1, UINT64_MAX),
	    "a long overflow refused");
	ok(dz_cli_parse_uint("x", 1, 256, &v, &err) == -1 &&
	    !strcmp(err.msg, "expected a whole number from 1 to 256"),
	    "reason names the range: %s", err.msg);
	ok(dz_cli_parse_uint("x", 1, UINT64_MAX, &v, &err) == -1 &&
	    !strcmp(err.msg, "expected a whole number from 1 or more"),
	    "no upper bound: %s", err.msg);

	ok(pct_ok("80", 80), "80%%");
	ok(pct_ok("0", 0), "0%%");
	ok(pct_ok("100", 100), "100%%");
	ok(pct_ok("12.5", 12.5), "12.5%%");
	ok(pct_ok("100.0", 100), "100.0%%");
	ok(pct_refused("100.5"), "100.5%% refused");
	ok(pct_refused("101"), "101%% refused");
	ok(pct_refused("-1"), "negative refused");
	ok(pct_refused(".5"), "no leading digit refused");
	ok(pct_refused("5."), "a bare point refused");
	ok(pct_refused("1e1"), "exponent refused");
	ok(pct_refused("0x10"), "hexadecimal refused");
	ok(pct_refused("inf"), "inf refused");
	ok(pct_refused("nan"), "nan refused");
	ok(pct_refused(""), "empty refused");
	ok(pct_refused("50%"), "a percent sign refused");

	ok(dz_cli_int("-t", "31", 0, 256, &i) == 0 && i == 31, "int option");
	ok(!strcmp(said(), ""), "a good value says nothing");
	ok(dz_cli_int("-t", "257", 0, 256, &i) == EX_USAGE && i == 31,
	    "int option out of range: EX_USAGE, value untouched");
	ok(!strcmp(said(), "dz-test: invalid value for -t: '257': expected a "
	    "whole number from 0 to 256\nusage: dz-test [-h]\n"),
	    "the invalid-value message and the usage");
}

static void
messages(void)
{
	ok(dz_cli_fail(EX_NOINPUT, "open", "/x", "No such file or directory")
	    == EX_NOINPUT, "fail returns its code");
	ok(!strcmp(said(), "dz-test: cannot open '/x': No such file or "
	    "directory\n"), "cannot VERB 'SUBJECT': REASON");
	dz_cli_fail(EX_IOERR, "write output", NULL, "write error");
	ok(!strcmp(said(), "dz-test: cannot write output: write error\n"),
	    "no subject: cannot VERB: REASON");
	dz_cli_fail(EX_DATAERR, "hash", "a\033[2Jb\n.png", "bad");
	ok(!strcmp(said(), "dz-test: cannot hash 'a?[2Jb?.png': bad\n"),
	    "control characters in a subject are neutralised");
	ok(dz_cli_operand("x") == EX_USAGE, "operand: EX_USAGE");
	ok(!strcmp(said(), "dz-test: unexpected operand 'x'\nusage: dz-test "
	    "[-h]\n"), "unexpected operand and the usage");
	ok(dz_cli_usage("--a and --b do not go together") == EX_USAGE,
	    "usage: EX_USAGE");
	ok(!strcmp(said(), "dz-test: --a and --b do not go together\nusage: "
	    "dz-test [-h]\n"), "a usage error: reason then usage");
	ok(dz_cli_misuse() == EX_USAGE && !strcmp(said(), "usage: dz-test "
	    "[-h]\n"), "misuse: the usage alone");
	dz_cli_invalid("--format", "xml", "expected json or csv");
	ok(!strcmp(said(), "dz-test: invalid value for --format: 'xml': "
	    "expected json or csv\nusage: dz-test [-h]\n"),
	    "invalid value for OPT: 'VALUE': REASON");
	dz_cli_warn("%d banks are not signed", 2);
	ok(!strcmp(said(), "dz-test: warning: 2 banks are not signed\n"),
	    "warning");
	ok(dz_cli_error(EX_CONFIG, "no key") == EX_CONFIG &&
	    !strcmp(said(), "dz-test: no key\n"), "a plain message");
	ok(!strcmp(dz_cli_prog(), "dz-test"), "the program name");
}

int
main(void)
{
	if (!(msgs = tmpfile())) {
		perror("tmpfile");
		return 2;
	}
	dz_cli_init("dz-test", "usage: dz-test [-h]\n", "\nhelp\n");
	dz_cli_set_stream(msgs);
	numbers();
	messages();
	return tap_done();
}
