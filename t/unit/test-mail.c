/*
 * t/unit/test-mail: lib/mail. Messages are decoded here again (unfolding,
 * RFC 2047 Q words, quoted-printable) and compared with what went in;
 * injections and bad UTF-8 are refused; Maildir delivery; the sendmail
 * pipe against fake commands (exit codes, missing, not reading, hanging).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "core/err.h"
#include "notice/mail.h"
#include "tap.h"
#include "util.h"

static char dir[4096];		/* scratch directory */

/*** Decoding, independent of lib/notice/mail ***/

/* The unfolded value of the first header name in msg (malloc'd), or NULL. */
static char *
header(const char *msg, const char *name)
{
	size_t nl = strlen(name);
	const char *p = msg;

	while (*p && *p != '\n') {
		const char *e = p;

		if (!strncasecmp(p, name, nl) && p[nl] == ':') {
			char *v = malloc(strlen(p) + 1), *q = v;

			p += nl + 1;
			if (*p == ' ')
				p++;
			for (;; p++) {
				if (*p == '\n' && (p[1] == ' ' || p[1] == '\t'))
					continue;
				if (*p == '\n' || !*p)
					break;
				*q++ = *p;
			}
			*q = '\0';
			return v;
		}
		while (*e && !(*e == '\n' && e[1] != ' ' && e[1] != '\t'))
			e++;
		p = *e ? e + 1 : e;
	}
	return NULL;
}

static int
count_headers(const char *msg, const char *name)
{
	size_t nl = strlen(name);
	int n = 0;

	for (const char *p = msg; *p && *p != '\n'; p = strchr(p, '\n') + 1)
		if (!strncasecmp(p, name, nl) && p[nl] == ':')
			n++;
	return n;
}

static int
hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ?
	    c - 'A' + 10 : -1;
}

static int
utf8_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 :
		    (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;

		if (!k || i + k > n)
			return 0;
		for (size_t j = 1; j < k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
		i += k;
	}
	return 1;
}

/* Set when a decoded encoded-word alone is not valid UTF-8. */
static int split_char;

/*
 * RFC 2047 decoding of an unfolded value: =?UTF-8?Q?...?= words (only Q,
 * only UTF-8: all lib/notice/mail writes), blanks between two words dropped.
 * NULL on a malformed word.
 */
static char *
decode_words(const char *v)
{
	char *out = malloc(strlen(v) + 1), *q = out;
	const char *p = v;
	int prev_word = 0;

	for (;;) {
		const char *sp = p, *end;
		int word;

		while (*p == ' ')
			p++;
		for (end = p; *end && *end != ' '; end++)
			;
		word = end - p >= 12 && !strncasecmp(p, "=?UTF-8?Q?", 10) &&
		    end[-2] == '?' && end[-1] == '=';
		if (!(word && prev_word)) {	/* blanks between words vanish */
			memcpy(q, sp, (size_t)(p - sp));
			q += p - sp;
		}
		if (!*p)
			break;
		if (word) {
			char *start = q;

			for (const char *c = p + 10; c < end - 2; c++) {
				int h, l;

				if (*c == '_') {
					*q++ = ' ';
				} else if (*c == '=') {
					h = hexval(c[1]);
					l = h < 0 ? -1 : hexval(c[2]);
					if (l < 0) {
						free(out);
						return NULL;
					}
					*q++ = (char)(h * 16 + l);
					c += 2;
				} else if (*c == '?') {
					free(out);
					return NULL;
				} else {
					*q++ = *c;
				}
			}
			if (!utf8_ok((unsigned char *)start, (size_t)(q - start)))
				split_char = 1;
		} else {
			memcpy(q, p, (size_t)(end - p));
			q += end - p;
		}
		prev_word = word;
		p = end;
	}
	*q = '\0';
	return out;
}

/* The display name of a mailbox value ("" without one), decoded. */
static char *
decode_name(const char *v)
{
	const char *lt = strrchr(v, '<');
	size_t n;
	char *name, *out;

	if (!lt || v[strlen(v) - 1] != '>')
		return strdup("");
	n = (size_t)(lt - v);
	while (n && v[n - 1] == ' ')
		n--;
	name = strndup(v, n);
	if (n >= 2 && name[0] == '"' && name[n - 1] == '"') {
		char *q = out = malloc(n);

		for (size_t i = 1; i + 1 < n; i++) {
			if (name[i] == '\\')
				i++;
			*q++ = name[i];
		}
		*q = '\0';
	} else {
		out = decode_words(name);
	}
	free(name);
	return out;
}

/* Quoted-printable body to bytes; NULL on a malformed escape. */
static char *
qp_decode(const char *s)
{
	char *out = malloc(strlen(s) + 1), *q = out;

	while (*s) {
		const char *e = strchr(s, '\n');
		int soft;

		if (!e)
			e = s + strlen(s);
		soft = e > s && e[-1] == '=';
		for (const char *c = s; c < e - soft; c++) {
			if (*c == '=') {
				int h = hexval(c[1]), l = h < 0 ? -1 :
				    hexval(c[2]);

				if (l < 0 || c + 2 >= e) {
					free(out);
					return NULL;
				}
				*q++ = (char)(h * 16 + l);
				c += 2;
			} else {
				*q++ = *c;
			}
		}
		if (!soft && *e)
			*q++ = '\n';
		s = *e ? e + 1 : e;
	}
	*q = '\0';
	return out;
}

/* The body of a message (after the first empty line). */
static const char *
body_of(const char *msg)
{
	const char *p = strstr(msg, "\n\n");

	return p ? p + 2 : "";
}

/*
 * Every line: at most 76 characters, no CR, no trailing blank; in the
 * body, not starting with '.' or "From ". Returns a reason or NULL.
 */
static const char *
bad_lines(const char *msg)
{
	const char *body = body_of(msg);

	for (const char *p = msg; *p;) {
		const char *e = strchr(p, '\n');

		if (!e)
			return "no final newline";
		if (e - p > 76)
			return "line longer than 76";
		if (memchr(p, '\r', (size_t)(e - p)))
			return "CR in a line";
		if (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			return "trailing blank";
		if (p >= body && (*p == '.' || !strncmp(p, "From ", 5)))
			return "body line starts with '.' or 'From '";
		if (p < body && e + 1 < body && (e[1] == ' ' || e[1] == '\t') &&
		    (e[2] == ' ' || e[2] == '\t' || e[2] == '\n'))
			return "blank continuation line";
		p = e + 1;
	}
	return NULL;
}

/*** Messages ***/

static const char *const one_to[] = { "abuse@host.example" };

static struct dz_mail
base(void)
{
	struct dz_mail m = {
		.from = "Hotline <notices@hotline.example>",
		.to = one_to, .nto = 1,
		.subject = "Takedown notice",
		.body = "Hello,\n\nplease remove it.\n",
		.message_id = "<abc.123@hotline.example>",
		.date = "2026-12-05T10:00:00Z",
	};
	return m;
}

/* Format m; the message (malloc'd) or NULL with err. */
static char *
fmt(const struct dz_mail *m, struct dz_err *err)
{
	char *out = (char *)1;
	size_t len = 99;

	dz_err_clear(err);
	if (dz_mail_format(m, &out, &len, err)) {
		if (out != NULL || len != 0)
			diag("failure left out/len set");
		return NULL;
	}
	if (strlen(out) != len)
		diag("length %zu, strlen %zu", len, strlen(out));
	return out;
}

/* The subject survives a round trip through encoded-words. */
static int
subject_trip(const char *subject)
{
	struct dz_mail m = base();
	struct dz_err err;
	char *msg, *v, *d;
	const char *why;
	int good;

	m.subject = subject;
	if (!(msg = fmt(&m, &err))) {
		diag("refused: %s", err.msg);
		return 0;
	}
	split_char = 0;
	v = header(msg, "Subject");
	d = v ? decode_words(v) : NULL;
	why = bad_lines(msg);
	good = d && !strcmp(d, subject) && !split_char && !why;
	if (!good)
		diag("subject '%s': got '%s'%s %s", subject, d ? d : "(null)",
		    split_char ? " (split character)" : "", why ? why : "");
	free(d);
	free(v);
	free(msg);
	return good;
}

/* The body survives a round trip through quoted-printable. */
static int
body_trip(const char *body, const char *want)
{
	struct dz_mail m = base();
	struct dz_err err;
	char *msg, *d;
	const char *why;
	int good;

	m.body = body;
	if (!(msg = fmt(&m, &err))) {
		diag("refused: %s", err.msg);
		return 0;
	}
	d = qp_decode(body_of(msg));
	why = bad_lines(msg);
	good = d && !strcmp(d, want ? want : body) && !why;
	if (!good)
		diag("body: %s; decoded %s", why ? why : "lines fine",
		    d && !strcmp(d, want ? want : body) ? "equal" : "different");
	free(d);
	free(msg);
	return good;
}

/* The From display name survives a round trip. */
static int
name_trip(const char *name)
{
	struct dz_mail m = base();
	struct dz_err err;
	char from[1024], *msg, *v, *d;
	const char *why;
	int good;

	snprintf(from, sizeof from, "%s <notices@hotline.example>", name);
	m.from = from;
	if (!(msg = fmt(&m, &err))) {
		diag("refused: %s", err.msg);
		return 0;
	}
	split_char = 0;
	v = header(msg, "From");
	d = v ? decode_name(v) : NULL;
	why = bad_lines(msg);
	good = d && !strcmp(d, name) && !split_char && !why &&
	    strstr(v, "<notices@hotline.example>");
	if (!good)
		diag("name '%s': got '%s' %s", name, d ? d : "(null)",
		    why ? why : "");
	free(d);
	free(v);
	free(msg);
	return good;
}

/* Refused with EX_DATAERR, a reason without "@" or the bad bytes. */
static int
refused(const struct dz_mail *m, const char *what)
{
	struct dz_err err;
	char *msg = fmt(m, &err);

	if (msg) {
		diag("%s: accepted:\n%s", what, msg);
		free(msg);
		return 0;
	}
	if (err.code != EX_DATAERR || strchr(err.msg, '@') ||
	    strstr(err.msg, "Bcc: ") || strstr(err.msg, "evil")) {
		diag("%s: code %d, '%s'", what, err.code, err.msg);
		return 0;
	}
	return 1;
}

/* A pseudo-random generator with a fixed seed: the same run every time. */
static uint32_t rng = 12345;

static uint32_t
lcg_below(uint32_t n)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 8) % n;
}

static void
random_text(char *out, size_t max, const char *const *pieces, size_t np)
{
	size_t n = 0, len = lcg_below((uint32_t)max / 8);

	out[0] = '\0';
	while (n < len) {
		const char *p = pieces[lcg_below((uint32_t)np)];
		size_t k = strlen(p);

		if (n + k >= max)
			break;
		memcpy(out + n, p, k + 1);
		n += k;
	}
}

static void
test_format(void)
{
	struct dz_mail m = base();
	struct dz_err err;
	char *msg;
	const char *want =
	    "Date: Sat, 05 Dec 2026 10:00:00 +0000\n"
	    "From: Hotline <notices@hotline.example>\n"
	    "To: abuse@host.example\n"
	    "Subject: Takedown notice\n"
	    "Message-ID: <abc.123@hotline.example>\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=UTF-8\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "\n"
	    "Hello,\n\nplease remove it.\n";

	msg = fmt(&m, &err);
	ok(msg && !strcmp(msg, want), "a plain message, byte for byte");
	if (msg && strcmp(msg, want))
		diag("got:\n%s", msg);
	free(msg);

	m.date = "2024-02-29T23:59:59Z";
	msg = fmt(&m, &err);
	ok(msg && !strncmp(msg, "Date: Thu, 29 Feb 2024 23:59:59 +0000\n", 38),
	    "leap day date");
	free(msg);
	m.date = "2026-12-05T11:30:00+01:30";
	msg = fmt(&m, &err);
	ok(msg && !strncmp(msg, "Date: Sat, 05 Dec 2026 10:00:00 +0000\n", 38),
	    "a date with an offset is written in UTC");
	free(msg);
	m.date = "5 Dec 2026";
	ok(refused(&m, "date"), "a malformed date is refused");

	m = base();
	{
		const char *const to[] = { "a@x.example", "B <b@y.example>" };
		const char *const cc[] = { "c@z.example" };
		const char *const extra[] = { "Auto-Submitted: auto-generated",
		    "X-DZ-Reference: 3K7Q-2B9F" };

		m.to = to;
		m.nto = 2;
		m.cc = cc;
		m.ncc = 1;
		m.reply_to = "Case desk <desk@hotline.example>";
		m.in_reply_to = "<earlier@hotline.example>";
		m.extra = extra;
		m.nextra = 2;
		msg = fmt(&m, &err);
		ok(msg && strstr(msg, "\nTo: a@x.example, B <b@y.example>\n") &&
		    strstr(msg, "\nCc: c@z.example\n") &&
		    strstr(msg, "\nReply-To: Case desk <desk@hotline.example>\n"),
		    "To, Cc and Reply-To");
		ok(msg && strstr(msg, "\nIn-Reply-To: <earlier@hotline.example>\n"
		    "References: <earlier@hotline.example>\n"),
		    "In-Reply-To sets References");
		ok(msg && strstr(msg, "quoted-printable\n"
		    "Auto-Submitted: auto-generated\n"
		    "X-DZ-Reference: 3K7Q-2B9F\n\n"),
		    "extra headers after the MIME ones, as given");
		ok(msg && count_headers(msg, "Bcc") == 0 &&
		    count_headers(msg, "Subject") == 1,
		    "no Bcc, one Subject");
		free(msg);
	}

	m = base();
	m.subject = "";
	msg = fmt(&m, &err);
	ok(msg && strstr(msg, "\nSubject:\n"), "empty subject: empty field");
	free(msg);
}

static void
test_subjects(void)
{
	static char long_word[79];	/* more than a header line holds */
	const char *const pieces[] = { "a", " ", "  ", "=?", "?=", "_",
	    "=", "?", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "word",
	    "\"", "\\", long_word };
	char s[600];
	int bad = 0;
	struct dz_mail m = base();
	struct dz_err err;
	char *msg;

	memset(long_word, 'x', sizeof long_word - 1);
	ok(subject_trip("Signalement de contenu illicite \xe2\x80\x93 "
	    "r\xc3\xa9" "f\xc3\xa9rence 3K7Q"), "French subject round trip");
	m.subject = "Signalement de contenu illicite \xe2\x80\x93 r\xc3\xa9"
	    "f\xc3\xa9rence 3K7Q";
	msg = fmt(&m, &err);
	ok(msg && strstr(msg, "\nSubject: =?UTF-8?Q?Signalement_de_"),
	    "non-ASCII subject as Q encoded-words");
	free(msg);
	ok(subject_trip("Takedown notice for 3K7Q"), "ASCII subject as is");
	ok(subject_trip("A long ASCII subject that goes on and on well past "
	    "the seventy-eight characters a header line should have, and "
	    "then some more words"), "long ASCII subject folded at blanks");
	ok(subject_trip("=?UTF-8?Q?not_an_encoded_word?="),
	    "a subject that looks like an encoded-word");
	ok(subject_trip("  two  blanks and trailing  "), "odd blanks kept");
	ok(subject_trip("x_y=z?w"), "_ = ? in a subject");

	/* 4-byte characters at every possible fold position. */
	for (int k = 0; k < 80 && !bad; k++) {
		memset(s, 'a', (size_t)k);
		s[k] = '\0';
		for (int j = 0; j < 20; j++)
			strcat(s, "\xf0\x9f\x98\x80");
		bad += !subject_trip(s);
		memset(s, 'a', (size_t)k);
		s[k] = '\0';
		for (int j = 0; j < 20; j++)
			strcat(s, j % 2 ? "\xc3\xa9" : "\xe2\x82\xac b");
		bad += !subject_trip(s);
	}
	ok(!bad, "2-, 3- and 4-byte characters at each fold position");

	bad = 0;
	for (int i = 0; i < 400 && !bad; i++) {
		random_text(s, sizeof s, pieces, sizeof pieces / sizeof *pieces);
		bad += !subject_trip(s);
	}
	ok(!bad, "400 random subjects round trip, lines within 76");
}

static void
test_names(void)
{
	char s[300];
	int bad = 0;

	ok(name_trip("Hotline"), "one-word name");
	ok(name_trip("Hotline e.V."), "name with dots: quoted");
	ok(name_trip("The \"Best\" Hotline, Inc. \\o/"),
	    "quotes and backslashes escaped");
	ok(name_trip("\xc3\x89quipe de signalement"), "UTF-8 name");
	ok(name_trip("=?UTF-8?Q?fake?="), "name looking like an encoded-word");
	for (int k = 0; k < 70 && !bad; k++) {
		memset(s, 'n', (size_t)k);
		s[k] = '\0';
		for (int j = 0; j < 12; j++)
			strcat(s, "\xf0\x9f\x92\x9c ");
		strcat(s, "end");
		bad += !name_trip(s);
	}
	ok(!bad, "long UTF-8 names fold between whole characters");
	{
		struct dz_mail m = base();
		struct dz_err err;
		char *msg, *v;

		m.from = "  \"Hotline\"   <notices@hotline.example>";
		msg = fmt(&m, &err);
		v = msg ? header(msg, "From") : NULL;
		ok(v && !strcmp(v, "Hotline <notices@hotline.example>"),
		    "quotes and blanks around a name are tidied");
		free(v);
		free(msg);
		m.from = "notices@hotline.example";
		msg = fmt(&m, &err);
		ok(msg && strstr(msg, "\nFrom: notices@hotline.example\n"),
		    "bare address");
		free(msg);
	}
	{
		const char *to[12];
		char buf[12][64];
		struct dz_mail m = base();
		struct dz_err err;
		char *msg, *v;
		int found = 0;

		for (int i = 0; i < 12; i++) {
			snprintf(buf[i], sizeof buf[i],
			    "R\xc3\xa9" "cipient %d <rcpt%d@host%d.example>",
			    i, i, i);
			to[i] = buf[i];
		}
		m.to = to;
		m.nto = 12;
		msg = fmt(&m, &err);
		v = msg ? header(msg, "To") : NULL;
		for (int i = 0; v && i < 12; i++) {
			char a[40];

			snprintf(a, sizeof a, "<rcpt%d@host%d.example>", i, i);
			found += strstr(v, a) != NULL;
		}
		ok(found == 12 && !bad_lines(msg), "12 recipients, folded");
		free(v);
		free(msg);
	}
}

static void
test_bodies(void)
{
	static const char *const pieces[] = { "a", " ", "\t", "=", ".", "From ",
	    "\n", "\n.", "\nFrom ", "\xc3\xa9", "\xe2\x82\xac",
	    "\xf0\x9f\x98\x80", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", " \n",
	    "=\n", "\x01", "\rx", "~" };
	char s[4000];
	int bad = 0;

	ok(body_trip("", NULL), "empty body");
	{
		struct dz_mail m = base();
		struct dz_err err;
		char *msg;

		m.body = "";
		msg = fmt(&m, &err);
		ok(msg && !strcmp(body_of(msg), ""), "empty body: nothing after "
		    "the blank line");
		free(msg);
	}
	ok(body_trip("no final newline", NULL), "no final newline");
	ok(body_trip("From me\n.\n..\n.x\nFrom\nFrom \n", NULL),
	    "lines starting with From and dots");
	ok(body_trip("trailing blanks  \nand tab\t\n \n\t\n", NULL),
	    "trailing blanks and tabs");
	ok(body_trip("a=b\n==\n=\n", NULL), "equal signs");
	ok(body_trip("crlf\r\nlines\r\n", "crlf\nlines\n"),
	    "CRLF line ends become LF");
	ok(body_trip("lone\rcr\n", NULL), "a lone CR is kept");

	for (int k = 0; k < 200 && !bad; k++) {
		memset(s, 'x', (size_t)k);
		s[k] = '\0';
		bad += !body_trip(s, NULL);
		strcat(s, "\n");
		bad += !body_trip(s, NULL);
	}
	ok(!bad, "lines of 0 to 199 characters");

	bad = 0;
	for (int k = 60; k < 80 && !bad; k++) {
		static const char *const chars[] = { "\xf0\x9f\x98\x80", " ",
		    "=", "\xc3\xa9", ".", "\t" };

		for (size_t c = 0; c < sizeof chars / sizeof *chars; c++) {
			memset(s, 'y', (size_t)k);
			s[k] = '\0';
			for (int j = 0; j < 30; j++)
				strcat(s, chars[c]);
			strcat(s, "\n");
			bad += !body_trip(s, NULL);
		}
	}
	ok(!bad, "escapes, blanks and 4-byte characters at the soft break");

	bad = 0;
	for (int i = 0; i < 500 && !bad; i++) {
		random_text(s, sizeof s, pieces, sizeof pieces / sizeof *pieces);
		bad += !body_trip(s, NULL);
	}
	ok(!bad, "500 random bodies round trip");
}

static void
test_refusals(void)
{
	struct dz_mail m;
	const char *const evil_to[] = { "abuse@host.example\nBcc: evil@x.example" };
	const char *const two_to[] = { "abuse@host.example", NULL };
	static const char *const bad_addr[] = {
		"abuse@host.example\r\nBcc: evil@x.example",
		"Name <abuse@host.example>\nBcc: evil@x.example",
		"Name\n <abuse@host.example>", "abuse @host.example",
		"abuse@@host.example", "a@b@host.example", "abuse.host.example",
		"\"ab use\"@host.example", "abuse@[127.0.0.1]", ".abuse@host.example",
		"ab..use@host.example", "abuse@host..example", "abuse@-host.example",
		"abuse@host_name.example", "abuse@", "@host.example", "",
		"Name <abuse@host.example", "Name abuse@host.example>",
		"abuse@host.example (comment)", "Na\x01me <abuse@host.example>",
		"N\xc3 <abuse@host.example>", "abuse\xc3\xa9@host.example",
	};
	static const char *const bad_extra[] = {
		"X-Evil: 1\nBcc: evil@x.example", "X-Evil: a\rb", "Bcc: evil@x.example",
		"bcc: evil@x.example", "To: evil@x.example", "Content-Type: text/html",
		"Resent-To: evil@x.example", "Subject: evil", "Message-ID: <evil@x>",
		"X-No-Blank:evil", "X-Empty: ", "No Name: evil", ": evil", "X-Evil",
		"X-Tab: a\tb", "X-Utf8: \xc3\xa9vil", "X-Trailing: evil ",
	};
	static const char *const bad_utf8[] = { "\xc0\x80", "\xed\xa0\x80",
	    "\xf0\x9f\x98", "\xff", "\xf4\x90\x80\x80", "\xe0\x80\xaf", "\x80",
	    "ok \xc3" };
	int good = 1;

	m = base();
	m.subject = "Hello\nBcc: evil@x.example";
	ok(refused(&m, "subject LF"), "subject with \\nBcc: refused");
	m.subject = "Hello\r\nBcc: evil@x.example";
	ok(refused(&m, "subject CRLF"), "subject with \\r\\nBcc: refused");
	m.subject = "Hello\rBcc: evil@x.example";
	ok(refused(&m, "subject CR"), "subject with a lone CR refused");
	m.subject = "Hello\tthere\x1b[2J";
	ok(refused(&m, "subject controls"), "control characters refused");

	m = base();
	m.to = evil_to;
	ok(refused(&m, "To injection"), "To with \\nBcc: refused");
	m.to = two_to;
	m.nto = 2;
	{
		struct dz_err err;
		char *msg = fmt(&m, &err);

		ok(!msg && err.code == EX_SOFTWARE, "NULL in To: EX_SOFTWARE");
		free(msg);
	}
	m.nto = 0;
	ok(refused(&m, "no To"), "no recipient refused");

	for (size_t i = 0; i < sizeof bad_addr / sizeof *bad_addr; i++) {
		const char *const one[] = { bad_addr[i] };

		m = base();
		m.to = one;
		good &= refused(&m, bad_addr[i]);
		m = base();
		m.from = bad_addr[i];
		good &= refused(&m, bad_addr[i]);
		m = base();
		m.cc = one;
		m.ncc = 1;
		good &= refused(&m, bad_addr[i]);
		m = base();
		m.reply_to = bad_addr[i];
		good &= refused(&m, bad_addr[i]);
	}
	ok(good, "%zu bad addresses refused in From, To, Cc and Reply-To",
	    sizeof bad_addr / sizeof *bad_addr);

	good = 1;
	for (size_t i = 0; i < sizeof bad_extra / sizeof *bad_extra; i++) {
		const char *const one[] = { bad_extra[i] };

		m = base();
		m.extra = one;
		m.nextra = 1;
		good &= refused(&m, bad_extra[i]);
	}
	ok(good, "%zu bad extra headers refused",
	    sizeof bad_extra / sizeof *bad_extra);

	m = base();
	m.message_id = "<abc@hotline.example>\nBcc: evil@x.example";
	ok(refused(&m, "msgid"), "Message-ID with a line break refused");
	m.message_id = "abc@hotline.example";
	ok(refused(&m, "msgid2"), "Message-ID without <> refused");
	m = base();
	m.in_reply_to = "<a b@hotline.example>";
	ok(refused(&m, "irt"), "bad In-Reply-To refused");

	good = 1;
	for (size_t i = 0; i < sizeof bad_utf8 / sizeof *bad_utf8; i++) {
		char s[64], from[80];
		struct dz_err err;

		m = base();
		snprintf(s, sizeof s, "body %s end\n", bad_utf8[i]);
		m.body = s;
		good &= refused(&m, "utf8 body");
		dz_err_clear(&err);
		free(fmt(&m, &err));
		good &= !strcmp(err.msg, "body is not valid UTF-8");
		m = base();
		m.subject = s + 5;
		s[strlen(s) - 1] = '\0';
		good &= refused(&m, "utf8 subject");
		m = base();
		snprintf(from, sizeof from, "N%s <a@b.example>", bad_utf8[i]);
		m.from = from;
		good &= refused(&m, "utf8 name");
	}
	ok(good, "bad UTF-8 refused in body, subject and names (EX_DATAERR)");
}

static void
test_message_id(void)
{
	char a[DZ_MAIL_MSGID_MAX], b[DZ_MAIL_MSGID_MAX], small[20];
	struct dz_err err;
	struct dz_mail m = base();
	char *msg;

	ok(dz_mail_message_id("hotline.example", a, sizeof a, &err) == 0 &&
	    strlen(a) == 1 + 32 + 1 + 15 + 1 && a[0] == '<' && a[33] == '@' &&
	    strspn(a + 1, "0123456789abcdef") == 32 &&
	    !strcmp(a + 33, "@hotline.example>"), "message id: %s", a);
	ok(dz_mail_message_id("hotline.example", b, sizeof b, &err) == 0 &&
	    strcmp(a, b) != 0, "two message ids differ");
	m.message_id = a;
	msg = fmt(&m, &err);
	ok(msg != NULL, "a generated message id is accepted by format");
	free(msg);
	ok(dz_mail_message_id("bad domain", a, sizeof a, &err) == -1 &&
	    err.code == EX_DATAERR, "bad domain refused");
	ok(dz_mail_message_id("hotline.example", small, sizeof small, &err) ==
	    -1 && err.code == EX_SOFTWARE, "small buffer refused");
}

/*** Maildir ***/

static int
count_files(const char *d)
{
	return count_entries_in(d, 0);
}

static char *
read_file(const char *path)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n >= 0 ? buf : NULL;
}

static void
test_maildir(void)
{
	char md[4200], p[4400], n1[DZ_MAIL_NAME_MAX], n2[DZ_MAIL_NAME_MAX];
	char tiny[8];
	const char *msg = "Subject: x\n\nbody\n";
	struct dz_err err;
	struct stat st;
	int fd, good = 1;

	snprintf(md, sizeof md, "%s/Maildir", dir);
	ok(dz_mail_maildir(md, msg, strlen(msg), n1, sizeof n1, &err) == 0,
	    "deliver into a new maildir");
	ok(dz_mail_maildir(md, msg, strlen(msg), n2, sizeof n2, &err) == 0 &&
	    strcmp(n1, n2) != 0, "a second delivery has another name");
	for (int i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s%s", md, (const char *[]){ "", "/tmp",
		    "/new", "/cur" }[i]);
		good &= stat(p, &st) == 0 && S_ISDIR(st.st_mode) &&
		    (st.st_mode & 07777) == 0700;
	}
	ok(good, "maildir, tmp, new and cur made with mode 0700");
	snprintf(p, sizeof p, "%s/new/%s", md, n1);
	ok(stat(p, &st) == 0 && (st.st_mode & 07777) == 0600 &&
	    st.st_nlink == 1, "file in new/ with mode 0600, one link");
	ok(read_file(p) && !strcmp(read_file(p), msg), "content intact");
	snprintf(p, sizeof p, "%s/tmp", md);
	ok(count_files(p) == 0, "nothing left in tmp/");
	snprintf(p, sizeof p, "%s/new", md);
	ok(count_files(p) == 2, "two files in new/");
	{
		char *dot = strchr(n1, '.');

		ok(dot && strchr(dot + 1, '.') && dot[1] == 'M' &&
		    strchr(dot, 'P') && strchr(dot, 'R') && !strchr(n1, '/') &&
		    !strchr(n1, ':'), "name like time.MusecPpidRrandom.host: %s",
		    n1);
	}
	ok(dz_mail_maildir(md, msg, strlen(msg), tiny, sizeof tiny, &err) ==
	    -1 && err.code == EX_SOFTWARE && count_files(p) == 2,
	    "small name buffer: refused, nothing delivered");

	snprintf(p, sizeof p, "%s/plainfile", dir);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	close(fd);
	snprintf(md, sizeof md, "%s/plainfile/Maildir", dir);
	ok(dz_mail_maildir(md, msg, strlen(msg), n1, sizeof n1, &err) == -1 &&
	    err.code == EX_CANTCREAT, "maildir under a file: EX_CANTCREAT (%s)",
	    err.msg);
	snprintf(md, sizeof md, "%s/plainfile", dir);
	ok(dz_mail_maildir(md, msg, strlen(msg), n1, sizeof n1, &err) == -1 &&
	    err.code == EX_CANTCREAT, "maildir that is a file: EX_CANTCREAT");
	ok(dz_mail_maildir(dir, "", 0, n1, sizeof n1, &err) == 0,
	    "empty message delivered");
}

/* Exactly once per Message-ID, across a crash on either side of the link. */
static void
test_maildir_once(void)
{
	const char *id = "<0123456789abcdef0123456789abcdef@hotline.example>";
	const char *msg = "Subject: y\n\nbody\n";
	char md[4200], p[4400], q[4400], n1[DZ_MAIL_NAME_MAX];
	char n2[DZ_MAIL_NAME_MAX];
	struct dz_err err;
	int fd;

	snprintf(md, sizeof md, "%s/Once", dir);
	ok(dz_mail_maildir_once(md, id, msg, strlen(msg), n1, sizeof n1,
	    &err) == 0 && !strcmp(n1, "dz.0123456789abcdef0123456789abcdef"),
	    "once: named after the Message-ID (%s)", n1);
	ok(dz_mail_maildir_once(md, id, msg, strlen(msg), n2, sizeof n2,
	    &err) == 0 && !strcmp(n1, n2), "once: delivered again, same name");
	snprintf(p, sizeof p, "%s/new", md);
	ok(count_files(p) == 1, "once: one file in new/");
	/* a reader moved it to cur/ and flagged it seen */
	snprintf(p, sizeof p, "%s/new/%s", md, n1);
	snprintf(q, sizeof q, "%s/cur/%s:2,S", md, n1);
	ok(rename(p, q) == 0, "once: moved to cur/");
	ok(dz_mail_maildir_once(md, id, msg, strlen(msg), n2, sizeof n2,
	    &err) == 0, "once: delivered again after a reader took it");
	snprintf(p, sizeof p, "%s/new", md);
	ok(count_files(p) == 0, "once: nothing new in new/");
	/* a killed delivery left a partial file in tmp/ */
	id = "<fedcba9876543210fedcba9876543210@hotline.example>";
	snprintf(p, sizeof p, "%s/tmp/dz.fedcba9876543210fedcba9876543210", md);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	ok(fd >= 0 && write(fd, "Subj", 4) == 4 && close(fd) == 0,
	    "once: a partial file in tmp/");
	ok(dz_mail_maildir_once(md, id, msg, strlen(msg), n1, sizeof n1,
	    &err) == 0, "once: delivered over it");
	snprintf(p, sizeof p, "%s/tmp", md);
	ok(count_files(p) == 0, "once: nothing left in tmp/");
	snprintf(p, sizeof p, "%s/new/%s", md, n1);
	ok(read_file(p) && !strcmp(read_file(p), msg), "once: content whole");
	ok(dz_mail_maildir_once(md, "<@x>", msg, strlen(msg), n1, sizeof n1,
	    &err) == -1 && err.code == EX_SOFTWARE, "once: an empty key refused");
}

/*** sendmail ***/

static char script_dir[4200];

static void
script(const char *name, const char *text)
{
	char p[4400];
	int fd;

	snprintf(p, sizeof p, "%s/%s", script_dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0700);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		printf("Bail out! cannot write %s\n", p);
		exit(1);
	}
	close(fd);
}

/* dz_mail_sendmail("DIR/cmd args"): its return; err filled. */
static int
send_to(const char *cmd, const char *msg, size_t len, struct dz_err *err)
{
	char c[4600];

	snprintf(c, sizeof c, "%s/%s", script_dir, cmd);
	dz_err_clear(err);
	return dz_mail_sendmail(c, msg, len, err);
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
test_sendmail(void)
{
	const char *msg = "To: abuse@host.example\nSubject: x\n\nbody\n";
	size_t big_len = 4u << 20;
	char *big = malloc(big_len), out[4400], cmd[4600];
	struct dz_err err;
	struct sigaction sa;
	sigset_t mask;
	double t0;
	int rc, saved1, saved2, fd;

	memset(big, 'x', big_len);
	snprintf(script_dir, sizeof script_dir, "%s/bin", dir);
	mkdir(script_dir, 0700);
	script("copy", "#!/bin/sh\n[ \"$1\" = -t ] && [ \"$2\" = -i ] || exit 9\n"
	    "cat >\"$3\"\n");
	script("tempfail", "#!/bin/sh\ncat >/dev/null\nexit 75\n");
	script("fail", "#!/bin/sh\ncat >/dev/null\nexit 1\n");
	script("noread0", "#!/bin/sh\nexit 0\n");
	script("noread1", "#!/bin/sh\nexit 1\n");
	script("noisy", "#!/bin/sh\ncat\necho abuse@host.example >&2\n");
	script("hang", "#!/bin/sh\ncat >/dev/null\nsleep 30\n");
	script("hangnoread", "#!/bin/sh\nsleep 30\n");
	script("killed", "#!/bin/sh\ncat >/dev/null\nkill -9 $$\n");

	snprintf(out, sizeof out, "%s/copied", dir);
	snprintf(cmd, sizeof cmd, "copy  -t\t-i %s", out);
	rc = send_to(cmd, msg, strlen(msg), &err);
	ok(rc == 0 && read_file(out) && !strcmp(read_file(out), msg),
	    "exit 0: message piped whole, argv split on blanks (%s)", err.msg);
	snprintf(cmd, sizeof cmd, "copy -t -i %s", out);
	rc = send_to(cmd, big, big_len, &err);
	{
		struct stat st;

		ok(rc == 0 && stat(out, &st) == 0 && st.st_size ==
		    (off_t)big_len, "a 4 MiB message piped whole");
	}
	snprintf(cmd, sizeof cmd, "copy -t -i %s/sub;touch/x", dir);
	ok(send_to(cmd, msg, strlen(msg), &err) == -1 &&
	    err.code == EX_UNAVAILABLE, "no shell: ';' is only a character");

	rc = send_to("tempfail", msg, strlen(msg), &err);
	ok(rc == -1 && err.code == EX_TEMPFAIL &&
	    !strcmp(err.msg, "mail command failed temporarily (exit 75)"),
	    "exit 75: EX_TEMPFAIL '%s'", err.msg);
	rc = send_to("fail", msg, strlen(msg), &err);
	ok(rc == -1 && err.code == EX_UNAVAILABLE &&
	    !strcmp(err.msg, "mail command failed (exit 1)"),
	    "exit 1: EX_UNAVAILABLE '%s'", err.msg);
	rc = send_to("killed", msg, strlen(msg), &err);
	ok(rc == -1 && err.code == EX_UNAVAILABLE &&
	    !strcmp(err.msg, "mail command killed by signal 9"),
	    "killed: EX_UNAVAILABLE '%s'", err.msg);

	dz_err_clear(&err);
	rc = dz_mail_sendmail("no-such-sendmail-dz -t", msg, strlen(msg), &err);
	ok(rc == -1 && err.code == EX_UNAVAILABLE &&
	    !strncmp(err.msg, "cannot run mail command 'no-such-sendmail-dz': ",
	    47), "missing binary: '%s'", err.msg);
	rc = dz_mail_sendmail("/nonexistent/sendmail", msg, strlen(msg), &err);
	ok(rc == -1 && err.code == EX_UNAVAILABLE &&
	    strstr(err.msg, "'/nonexistent/sendmail'"), "missing path: '%s'",
	    err.msg);
	rc = dz_mail_sendmail(" \t ", msg, strlen(msg), &err);
	ok(rc == -1 && err.code == EX_CONFIG, "blank command: EX_CONFIG");

	/* Not reading: SIGPIPE must not kill us, and is restored after. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	rc = send_to("noread0", big, big_len, &err);
	ok(rc == -1 && err.code == EX_UNAVAILABLE &&
	    !strcmp(err.msg, "mail command did not read the message"),
	    "exit 0 without reading 4 MiB: '%s'", err.msg);
	rc = send_to("noread1", big, big_len, &err);
	ok(rc == -1 && err.code == EX_UNAVAILABLE &&
	    !strcmp(err.msg, "mail command failed (exit 1)"),
	    "exit 1 without reading: '%s'", err.msg);
	/* Whether the write beats the exit is a race: either answer is fine. */
	rc = send_to("noread0", msg, strlen(msg), &err);
	ok(rc == 0 || !strcmp(err.msg, "mail command did not read the message"),
	    "exit 0 without reading a message that fits the pipe: no signal");
	sigaction(SIGPIPE, NULL, &sa);
	sigprocmask(SIG_BLOCK, NULL, &mask);
	{
		sigset_t pend;

		sigpending(&pend);
		ok(sa.sa_handler == SIG_DFL && !sigismember(&mask, SIGPIPE) &&
		    !sigismember(&pend, SIGPIPE),
		    "SIGPIPE default, unblocked, not pending afterwards");
	}

	/* The command's stdout and stderr go to /dev/null. */
	snprintf(out, sizeof out, "%s/ours", dir);
	fflush(stdout);
	saved1 = dup(1);
	saved2 = dup(2);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	rc = send_to("noisy", msg, strlen(msg), &err);
	dup2(saved1, 1);
	dup2(saved2, 2);
	close(saved1);
	close(saved2);
	ok(rc == 0 && read_file(out) && !strcmp(read_file(out), ""),
	    "the command's stdout and stderr do not reach ours");

	dz_mail_sendmail_timeout = 0.5;
	t0 = mono();
	rc = send_to("hang", msg, strlen(msg), &err);
	ok(rc == -1 && err.code == EX_TEMPFAIL &&
	    !strcmp(err.msg, "mail command timed out after 0.5 s") &&
	    mono() - t0 < 5, "hanging command killed: '%s' after %.2f s",
	    err.msg, mono() - t0);
	t0 = mono();
	rc = send_to("hangnoread", big, big_len, &err);
	ok(rc == -1 && err.code == EX_TEMPFAIL && mono() - t0 < 5,
	    "hanging while we write: EX_TEMPFAIL after %.2f s", mono() - t0);
	dz_mail_sendmail_timeout = 120;
	free(big);
}

int
main(void)
{
	scratch_dir(dir, sizeof dir, "dz-test-mail");
	test_format();
	test_subjects();
	test_names();
	test_bodies();
	test_refusals();
	test_message_id();
	test_maildir();
	test_maildir_once();
	test_sendmail();
	tap_rm_rf(dir);
	return tap_done();
}
