/*
 * t/unit/test-config: lib/core/config, dz.yaml(5).
 *
 * Every error names the file, the line and the key, exits EX_CONFIG (or
 * EX_NOINPUT for a named file that cannot be read), and never shows a
 * value: each bad file below holds SECRET, which no message may contain.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/err.h"
#include "tap.h"
#include "util.h"

#define SECRET "Zq9-s3cret-Xv"

static void
skip(const char *why)
{
	printf("ok %d # skip %s\n", ++tap_n, why);
}

static int
load(struct dz_config *c, const char *text, struct dz_err *err)
{
	dz_err_clear(err);
	return dz_config_load_text(c, "t.yaml", text, strlen(text), err);
}

static int
all_zero(const struct dz_config *c)
{
	static const struct dz_config zero;

	return !memcmp(c, &zero, sizeof zero);
}

/*
 * text must fail with code and a message that starts with "t.yaml:" and
 * holds want, and that does not hold SECRET; c must be left zeroed.
 */
static void
bad(const char *what, const char *text, int code, const char *want)
{
	struct dz_config c;
	struct dz_err err;
	int rc;

	rc = load(&c, text, &err);
	if (!ok(rc == -1 && err.code == code && strstr(err.msg, want) &&
	    !strncmp(err.msg, "t.yaml:", 7),
	    "%s: fails with %d, '%s'", what, code, want))
		diag("rc %d, code %d, message '%s'", rc, err.code, err.msg);
	ok(!strstr(err.msg, SECRET), "%s: message shows no value", what);
	ok(all_zero(&c), "%s: nothing left to release", what);
	dz_config_release(&c);
}

static int
is_default(const struct dz_config *c)
{
	return !strcmp(c->store, "./dz-data") &&
	    !strcmp(c->master_key, "./dz-master.key") &&
	    c->max_upload_bytes == (uint64_t)256 << 20 &&
	    c->max_urls == 100 && c->max_files == 100 &&
	    c->max_description_bytes == 8192 &&
	    c->personal_data_days == 14 && c->unverified_media_days == 30 &&
	    c->pdq_threshold == 31 && c->min_quality == 50 &&
	    !c->notice_from && !strcmp(c->mta, "sendmail -t -oi") &&
	    !c->providers && !c->templates && !c->signing_key &&
	    !c->public_key;
}

static void
test_defaults(void)
{
	static const char *empty[] = {
		"", "\n", "# only a comment\n\n   # another\n", "---\n",
		"---\n...\n", "~\n", "null\n",
	};
	struct dz_config c;
	struct dz_err err;
	size_t i;

	ok(dz_config_default(&c, &err) == 0 && is_default(&c) && !c.path,
	    "dz_config_default: the documented defaults, no path");
	dz_config_release(&c);
	ok(all_zero(&c), "dz_config_release zeroes the structure");
	dz_config_release(&c);
	ok(all_zero(&c), "dz_config_release twice is harmless");

	for (i = 0; i < sizeof empty / sizeof empty[0]; i++) {
		ok(load(&c, empty[i], &err) == 0 && is_default(&c) &&
		    c.path && !strcmp(c.path, "t.yaml"),
		    "empty file %zu: defaults, path recorded", i);
		dz_config_release(&c);
	}

	ok(load(&c, "limits:\nretention: ~\nmatch: {}\nnotify:\n"
	    "export: {}\n", &err) == 0 && is_default(&c),
	    "empty sections: defaults");
	dz_config_release(&c);
}

static const char full[] =
    "# every key\n"
    "store: /srv/dz/store\n"
    "master_key: /etc/dz/master.key\n"
    "limits:\n"
    "  max_upload_bytes: 1099511627776\n"
    "  max_urls: 7\n"
    "  max_files: 10000\n"
    "  max_description_bytes: 1048576\n"
    "retention:\n"
    "  personal_data_days: 3650\n"
    "  unverified_media_days: 1\n"
    "match:\n"
    "  pdq_threshold: 0\n"
    "  min_quality: 100\n"
    "notify:\n"
    "  from: \"Hotline <takedown@hotline.example>\"\n"
    "  mta: /usr/sbin/sendmail -t -oi -f bounce@hotline.example\n"
    "  providers: /etc/dz/providers\n"
    "  templates: '/etc/dz/templates'\n"
    "export:\n"
    "  signing_key: /etc/dz/export.sec\n"
    "  public_key: /etc/dz/export.pub\n";

static void
test_full(void)
{
	struct dz_config c;
	struct dz_err err;

	if (!ok(load(&c, full, &err) == 0, "a file with every key loads")) {
		diag("%s", err.msg);
		return;
	}
	ok(!strcmp(c.store, "/srv/dz/store"), "store");
	ok(!strcmp(c.master_key, "/etc/dz/master.key"), "master_key");
	ok(c.max_upload_bytes == (uint64_t)1 << 40,
	    "limits.max_upload_bytes: 2^40 is allowed");
	ok(c.max_urls == 7, "limits.max_urls");
	ok(c.max_files == 10000, "limits.max_files: 10000 is allowed");
	ok(c.max_description_bytes == 1048576,
	    "limits.max_description_bytes: 1 MiB is allowed");
	ok(c.personal_data_days == 3650,
	    "retention.personal_data_days: 3650 is allowed");
	ok(c.unverified_media_days == 1,
	    "retention.unverified_media_days: 1 is allowed");
	ok(c.pdq_threshold == 0, "match.pdq_threshold: 0 is allowed");
	ok(c.min_quality == 100, "match.min_quality: 100 is allowed");
	ok(!strcmp(c.notice_from, "Hotline <takedown@hotline.example>"),
	    "notify.from (double-quoted)");
	ok(!strcmp(c.mta, "/usr/sbin/sendmail -t -oi -f bounce@hotline.example"),
	    "notify.mta (plain, with spaces)");
	ok(!strcmp(c.providers, "/etc/dz/providers"), "notify.providers");
	ok(!strcmp(c.templates, "/etc/dz/templates"),
	    "notify.templates (single-quoted)");
	ok(!strcmp(c.signing_key, "/etc/dz/export.sec"), "export.signing_key");
	ok(!strcmp(c.public_key, "/etc/dz/export.pub"), "export.public_key");
	dz_config_release(&c);
	ok(all_zero(&c), "release after a full load zeroes");

	ok(load(&c, "match: {pdq_threshold: 256, min_quality: \"0\"}\n"
	    "retention: {personal_data_days: 1}\n", &err) == 0 &&
	    c.pdq_threshold == 256 && c.min_quality == 0 &&
	    c.personal_data_days == 1 && c.unverified_media_days == 30,
	    "flow mappings, a quoted number, other keys keep defaults");
	dz_config_release(&c);

	ok(load(&c, "notify:\n  from: ~\n  providers: null\n", &err) == 0 &&
	    !c.notice_from && !c.providers,
	    "null unsets an optional setting");
	dz_config_release(&c);

	ok(load(&c, "store: dz-data-2\r\nmaster_key: k\r\n", &err) == 0 &&
	    !strcmp(c.store, "dz-data-2") && !strcmp(c.master_key, "k"),
	    "CR LF line ends; relative paths are kept as written");
	dz_config_release(&c);
}

static void
test_unknown(void)
{
	bad("unknown top-level key", "store: /x\nstorage: " SECRET "\n",
	    EX_CONFIG, "t.yaml:2: unknown key 'storage'");
	bad("unknown key in a section",
	    "store: /x\nretention:\n  personal_data_days: 7\n  foo: "
	    SECRET "\n", EX_CONFIG, "t.yaml:4: unknown key 'retention.foo'");
	bad("a key of another section",
	    "limits:\n  pdq_threshold: 3\n", EX_CONFIG,
	    "t.yaml:2: unknown key 'limits.pdq_threshold'");
	bad("a section key at the top level",
	    "\n\nmax_urls: 3\n", EX_CONFIG, "t.yaml:3: unknown key 'max_urls'");
	bad("an unknown key that is not a name is not shown",
	    "limits:\n  \"" SECRET " x\": 1\n", EX_CONFIG,
	    "t.yaml:2: unknown key in limits");
	bad("a long unknown key is not shown",
	    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopZq9s3cretXv: 1\n",
	    EX_CONFIG, "t.yaml:1: unknown key in the top level");
	bad("a key that is not a scalar", "store: /x\n? [a, b]\n: 1\n",
	    EX_CONFIG, "t.yaml:2: expected a key name");
	bad("a key that is not a scalar, in a section",
	    "notify:\n  {a: 1}: 2\n", EX_CONFIG,
	    "t.yaml:2: notify: expected a key name");
}

static void
test_types(void)
{
	bad("mapping where a number is expected",
	    "retention:\n  personal_data_days:\n    a: " SECRET "\n",
	    EX_CONFIG, "t.yaml:2: retention.personal_data_days: "
	    "expected a whole number of days from 1 to 3650");
	bad("text where a number is expected",
	    "retention:\n  unverified_media_days: " SECRET "\n", EX_CONFIG,
	    "t.yaml:2: retention.unverified_media_days: "
	    "expected a whole number of days");
	bad("sequence where a number is expected",
	    "limits:\n  max_urls: [1, 2]\n", EX_CONFIG,
	    "t.yaml:2: limits.max_urls: expected a whole number from 1 to "
	    "10000");
	bad("null where a number is expected", "match:\n  min_quality:\n",
	    EX_CONFIG, "t.yaml:2: match.min_quality: expected a whole number");
	bad("mapping where a path is expected",
	    "store:\n  path: " SECRET "\n", EX_CONFIG,
	    "t.yaml:1: store: expected a directory name");
	bad("sequence where a path is expected",
	    "export:\n  signing_key: [" SECRET "]\n", EX_CONFIG,
	    "t.yaml:2: export.signing_key: expected a file name");
	bad("null for a setting that has no 'none'", "master_key: ~\n",
	    EX_CONFIG, "t.yaml:1: master_key: expected a file name");
	bad("empty string", "notify:\n  mta: \"\"\n", EX_CONFIG,
	    "t.yaml:2: notify.mta: must not be empty");
	bad("empty string for an optional setting", "notify:\n  from: ''\n",
	    EX_CONFIG, "t.yaml:2: notify.from: must not be empty");
	bad("a newline in a mail address (header injection)",
	    "notify:\n  from: \"a@b.example\\nBcc: " SECRET "\"\n", EX_CONFIG,
	    "t.yaml:2: notify.from: must not contain control characters");
	bad("a NUL in a path", "store: \"/srv/" SECRET "\\0x\"\n", EX_CONFIG,
	    "t.yaml:1: store: must not contain control characters");
	bad("section that is a scalar", "store: /x\nlimits: " SECRET "\n",
	    EX_CONFIG, "t.yaml:2: limits: expected a mapping of settings");
	bad("section that is a sequence", "notify:\n  - " SECRET "\n",
	    EX_CONFIG, "t.yaml:1: notify: expected a mapping of settings");
	bad("top level is a sequence", "# x\n- " SECRET "\n- b\n", EX_CONFIG,
	    "t.yaml:2: expected a mapping of settings at the top level");
	bad("top level is a scalar", "\n" SECRET "\n", EX_CONFIG,
	    "t.yaml:2: expected a mapping of settings at the top level");

	{
		size_t n = 5000;
		char *t = malloc(n + 32);

		if (t) {
			memcpy(t, "store: ", 7);
			memset(t + 7, 'a', n);
			strcpy(t + 7 + n, "\n");
			bad("a path longer than 4095 bytes", t, EX_CONFIG,
			    "t.yaml:1: store: longer than 4095 bytes");
			free(t);
		}
	}
}

static void
test_ranges(void)
{
	static const struct {
		const char *text, *want;
	} r[] = {
		{ "retention:\n  personal_data_days: 0\n",
		    "t.yaml:2: retention.personal_data_days: expected a whole "
		    "number of days from 1 to 3650" },
		{ "retention:\n  personal_data_days: 3651\n",
		    "t.yaml:2: retention.personal_data_days" },
		{ "retention:\n  unverified_media_days: 0\n",
		    "t.yaml:2: retention.unverified_media_days" },
		{ "limits:\n  max_upload_bytes: 0\n",
		    "t.yaml:2: limits.max_upload_bytes: expected a whole number "
		    "of bytes from 1 to 1099511627776" },
		{ "limits:\n  max_upload_bytes: 1099511627777\n",
		    "t.yaml:2: limits.max_upload_bytes" },
		{ "limits:\n  max_upload_bytes: 99999999999999999999999999\n",
		    "t.yaml:2: limits.max_upload_bytes" },
		{ "limits:\n  max_urls: 10001\n", "t.yaml:2: limits.max_urls" },
		{ "limits:\n  max_files: 0\n", "t.yaml:2: limits.max_files" },
		{ "limits:\n  max_description_bytes: 1048577\n",
		    "t.yaml:2: limits.max_description_bytes" },
		{ "match:\n  pdq_threshold: 257\n",
		    "t.yaml:2: match.pdq_threshold: expected a whole number of "
		    "bits from 0 to 256" },
		{ "match:\n  min_quality: 101\n",
		    "t.yaml:2: match.min_quality: expected a whole number from "
		    "0 to 100" },
		/* decimal only */
		{ "match:\n  min_quality: -1\n", "t.yaml:2: match.min_quality" },
		{ "match:\n  min_quality: +5\n", "t.yaml:2: match.min_quality" },
		{ "match:\n  min_quality: 010\n", "t.yaml:2: match.min_quality" },
		{ "match:\n  min_quality: 0x10\n", "t.yaml:2: match.min_quality" },
		{ "match:\n  min_quality: 0o10\n", "t.yaml:2: match.min_quality" },
		{ "match:\n  min_quality: 1e1\n", "t.yaml:2: match.min_quality" },
		{ "match:\n  min_quality: 5.0\n", "t.yaml:2: match.min_quality" },
		{ "match:\n  min_quality: 1_0\n", "t.yaml:2: match.min_quality" },
		{ "match:\n  min_quality: \" 5\"\n",
		    "t.yaml:2: match.min_quality" },
		{ "retention:\n  personal_data_days: 14 days\n",
		    "t.yaml:2: retention.personal_data_days" },
	};
	size_t i;

	for (i = 0; i < sizeof r / sizeof r[0]; i++) {
		struct dz_config c;
		struct dz_err err;
		int rc = load(&c, r[i].text, &err);

		if (!ok(rc == -1 && err.code == EX_CONFIG &&
		    strstr(err.msg, r[i].want), "out of range or not decimal "
		    "%zu: '%s'", i, r[i].want))
			diag("rc %d, message '%s'", rc, err.msg);
		dz_config_release(&c);
	}
}

static void
test_duplicates(void)
{
	bad("duplicate top-level key",
	    "store: /a\nmaster_key: /k\nstore: " SECRET "\n", EX_CONFIG,
	    "t.yaml:3: duplicate key 'store'");
	bad("duplicate key in a section",
	    "match:\n  min_quality: 1\n  pdq_threshold: 2\n  min_quality: 3\n",
	    EX_CONFIG, "t.yaml:4: duplicate key 'match.min_quality'");
	bad("duplicate section",
	    "limits:\n  max_urls: 1\nstore: /a\nlimits:\n  max_files: 2\n",
	    EX_CONFIG, "t.yaml:4: duplicate key 'limits'");
	bad("duplicate key in a flow mapping",
	    "export: {signing_key: a, signing_key: " SECRET "}\n", EX_CONFIG,
	    "t.yaml:1: duplicate key 'export.signing_key'");
}

static void
test_yaml(void)
{
	bad("syntax error: bad indentation",
	    "store: /a\nmaster_key: /k\n  bad: " SECRET "\n", EX_CONFIG,
	    "t.yaml:3: YAML syntax error: ");
	bad("syntax error: a tab", "store: a\n\tlimits: " SECRET "\n",
	    EX_CONFIG, "t.yaml:2: YAML syntax error: ");
	bad("syntax error: unclosed flow sequence",
	    "limits: {max_urls: 1\n# " SECRET "\n\n", EX_CONFIG,
	    "YAML syntax error: ");
	bad("syntax error: invalid UTF-8 (a reader error) has its line",
	    "store: a\n\n# " SECRET "\nmaster_key: \xff\n", EX_CONFIG,
	    "t.yaml:4: YAML syntax error: ");
	bad("anchor", "# x\nstore: &a " SECRET "\nmaster_key: *a\n",
	    EX_CONFIG, "t.yaml:2: YAML anchors are not allowed");
	bad("alias", "store: /a\nmaster_key: *a\n", EX_CONFIG,
	    "t.yaml:2: YAML aliases are not allowed");
	bad("billion laughs",
	    "a: &a [\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n", EX_CONFIG,
	    "t.yaml:1: ");
	bad("merge key", "limits: {max_urls: 3}\nmatch:\n  <<: *x\n",
	    EX_CONFIG, "t.yaml:3: ");
	bad("anchor on a section", "limits: &l\n  max_urls: 3\n", EX_CONFIG,
	    "t.yaml:1: YAML anchors are not allowed");
	bad("tag", "limits:\n  max_urls: !!int 3\n", EX_CONFIG,
	    "t.yaml:2: YAML tags are not allowed");
	bad("local tag", "store: !secret " SECRET "\n", EX_CONFIG,
	    "t.yaml:1: YAML tags are not allowed");
	bad("two documents", "store: /a\n---\nstore: " SECRET "\n",
	    EX_CONFIG, "t.yaml:2: more than one YAML document");
}

static void
test_size(void)
{
	size_t n = 1024 * 1024;
	struct dz_config c;
	struct dz_err err;
	char *t = malloc(n + 1);

	if (!t) {
		ok(0, "malloc");
		return;
	}
	memset(t, '#', n);
	memset(t, ' ', 1);
	t[n - 1] = '\n';
	ok(dz_config_load_text(&c, "t.yaml", t, n, &err) == 0 &&
	    is_default(&c), "a file of exactly 1 MiB is read");
	dz_config_release(&c);
	t[n] = '\n';
	ok(dz_config_load_text(&c, "t.yaml", t, n + 1, &err) == -1 &&
	    err.code == EX_CONFIG &&
	    !strcmp(err.msg, "t.yaml: larger than 1048576 bytes") &&
	    all_zero(&c), "a file of 1 MiB and one byte is refused");
	dz_config_release(&c);
	free(t);
}

/* A temporary file holding text; its name in path. */
static int
mkfile(char *path, size_t size, const char *text)
{
	size_t n = strlen(text);
	int fd;

	snprintf(path, size, "%s/dz-test-config.XXXXXX", tmpdir());
	if ((fd = mkstemp(path)) < 0)
		return -1;
	if (write(fd, text, n) != (ssize_t)n) {
		close(fd);
		unlink(path);
		return -1;
	}
	return close(fd);
}

static void
test_files(void)
{
	char a[4096], b[4096], bad_file[4096], big[4096], dir[4096];
	struct dz_config c;
	struct dz_err err;
	int rc, fd;

	if (mkfile(a, sizeof a, "store: /from/a\n") ||
	    mkfile(b, sizeof b, "# b\nstore: /from/b\n") ||
	    mkfile(bad_file, sizeof bad_file,
	    "store: /x\nretention:\n  personal_data_days: " SECRET "\n")) {
		ok(0, "cannot create temporary files: %s", strerror(errno));
		return;
	}

	unsetenv("DZ_CONFIG");
	rc = dz_config_load(&c, a, &err);
	ok(rc == 0 && !strcmp(c.store, "/from/a") && !strcmp(c.path, a) &&
	    c.max_urls == 100, "-c file: read, path recorded, defaults kept");
	dz_config_release(&c);

	setenv("DZ_CONFIG", b, 1);
	rc = dz_config_load(&c, NULL, &err);
	ok(rc == 0 && !strcmp(c.store, "/from/b") && !strcmp(c.path, b),
	    "DZ_CONFIG names the file when there is no -c");
	dz_config_release(&c);

	rc = dz_config_load(&c, a, &err);
	ok(rc == 0 && !strcmp(c.store, "/from/a") && !strcmp(c.path, a),
	    "-c wins over DZ_CONFIG");
	dz_config_release(&c);

	setenv("DZ_CONFIG", "/nonexistent/dz-test/dz.yaml", 1);
	rc = dz_config_load(&c, NULL, &err);
	ok(rc == -1 && err.code == EX_NOINPUT &&
	    strstr(err.msg, "/nonexistent/dz-test/dz.yaml") && all_zero(&c),
	    "DZ_CONFIG naming a missing file: EX_NOINPUT");
	dz_config_release(&c);

	rc = dz_config_load(&c, a, &err);
	ok(rc == 0 && !strcmp(c.store, "/from/a"),
	    "-c wins over a DZ_CONFIG that names a missing file");
	dz_config_release(&c);

	rc = dz_config_load(&c, "/nonexistent/dz-test/c.yaml", &err);
	ok(rc == -1 && err.code == EX_NOINPUT &&
	    strstr(err.msg, "cannot open configuration "
	    "'/nonexistent/dz-test/c.yaml'") &&
	    all_zero(&c), "-c naming a missing file: EX_NOINPUT");
	dz_config_release(&c);

	snprintf(dir, sizeof dir, "%s", tmpdir());
	rc = dz_config_load(&c, dir, &err);
	ok(rc == -1 && err.code == EX_NOINPUT,
	    "-c naming a directory: EX_NOINPUT");
	dz_config_release(&c);

	if (geteuid() == 0)
		skip("an unreadable file (running as root)");
	else {
		chmod(b, 0);
		rc = dz_config_load(&c, b, &err);
		ok(rc == -1 && err.code == EX_NOINPUT,
		    "-c naming an unreadable file: EX_NOINPUT");
		dz_config_release(&c);
		chmod(b, 0600);
	}

	unsetenv("DZ_CONFIG");
	rc = dz_config_load(&c, bad_file, &err);
	{
		char want[4200];

		snprintf(want, sizeof want,
		    "%s:3: retention.personal_data_days: expected", bad_file);
		ok(rc == -1 && err.code == EX_CONFIG &&
		    !strncmp(err.msg, want, strlen(want)) &&
		    !strstr(err.msg, SECRET),
		    "an error in a file names the file and the line, "
		    "not the value");
	}
	dz_config_release(&c);

	/* Larger than 1 MiB: refused, and only about 2 MiB are read. */
	snprintf(big, sizeof big, "%s/dz-test-config.XXXXXX", tmpdir());
	if ((fd = mkstemp(big)) >= 0 && ftruncate(fd, 64 << 20) == 0) {
		close(fd);
		rc = dz_config_load(&c, big, &err);
		ok(rc == -1 && err.code == EX_CONFIG &&
		    strstr(err.msg, "larger than 1048576 bytes"),
		    "a 64 MiB file is refused: EX_CONFIG");
		dz_config_release(&c);
	} else
		ok(0, "cannot create a large file: %s", strerror(errno));
	unlink(big);

	setenv("DZ_CONFIG", "", 1);
	if (access("/etc/dz/dz.yaml", F_OK) == 0) {
		skip("empty DZ_CONFIG (/etc/dz/dz.yaml exists)");
		skip("no configuration (/etc/dz/dz.yaml exists)");
	} else {
		rc = dz_config_load(&c, NULL, &err);
		ok(rc == 0 && is_default(&c) && !c.path,
		    "empty DZ_CONFIG is ignored: defaults, no path");
		dz_config_release(&c);
		unsetenv("DZ_CONFIG");
		rc = dz_config_load(&c, NULL, &err);
		ok(rc == 0 && is_default(&c) && !c.path,
		    "no -c, no DZ_CONFIG, no /etc/dz/dz.yaml: defaults");
		dz_config_release(&c);
	}
	unsetenv("DZ_CONFIG");

	unlink(a);
	unlink(b);
	unlink(bad_file);
}

int
main(void)
{
	test_defaults();
	test_full();
	test_unknown();
	test_types();
	test_ranges();
	test_duplicates();
	test_yaml();
	test_size();
	test_files();
	return tap_done();
}
