/*
 * t/unit/test-mail-tool: lib/notice/mail from the shell, so that
 * t/0051-mail-smtp.t can send real mail through a real SMTP server. Not a
 * test by itself.
 *
 *   test-mail-tool format < SPEC           print the message
 *   test-mail-tool send COMMAND < SPEC     dz_mail_sendmail(COMMAND)
 *   test-mail-tool maildir DIR < SPEC      dz_mail_maildir(DIR), prints NAME
 *   test-mail-tool msgid DOMAIN            print a fresh Message-ID
 *
 * SPEC is "field: value" lines (from, to, cc, reply-to, subject,
 * message-id, in-reply-to, date, extra; to, cc and extra may repeat), an
 * empty line, then the body. In a value, "\n" and "\r" stand for LF and CR
 * (to try header injections). date defaults to the clock (DZ_NOW).
 * TEST_MAIL_TIMEOUT sets dz_mail_sendmail_timeout. Failures print
 * "test-mail-tool: <reason>" on stderr and exit with lib's sysexits code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "notice/mail.h"
#include "util.h"

#define MAXLIST 64

static const char usage[] =
    "usage: test-mail-tool format < SPEC\n"
    "       test-mail-tool send COMMAND < SPEC\n"
    "       test-mail-tool maildir DIR < SPEC\n"
    "       test-mail-tool msgid DOMAIN\n";

static int
fail(const struct dz_err *e)
{
	return tool_fail("test-mail-tool", e);
}

/* Read the whole of stdin (NUL-terminated); NULL on error. */
static char *
slurp(void)
{
	size_t cap = 65536, n = 0, k;
	char *buf = malloc(cap + 1), *nb;

	while (buf && (k = fread(buf + n, 1, cap - n, stdin)) > 0) {
		n += k;
		if (n == cap) {
			if (!(nb = realloc(buf, 2 * cap + 1))) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (!buf || ferror(stdin)) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* "\n" and "\r" in s become LF and CR, in place. */
static void
unescape(char *s)
{
	char *q = s;

	for (; *s; s++) {
		if (s[0] == '\\' && (s[1] == 'n' || s[1] == 'r'))
			*q++ = *++s == 'n' ? '\n' : '\r';
		else
			*q++ = *s;
	}
	*q = '\0';
}

/* Fill m from spec (modified in place); -1 on a malformed spec. */
static int
parse_spec(char *spec, struct dz_mail *m, const char **to, const char **cc,
    const char **extra, char *date)
{
	char *line = spec, *next, *v;

	memset(m, 0, sizeof *m);
	m->to = to;
	m->cc = cc;
	m->extra = extra;
	for (;; line = next) {
		if (!(next = strchr(line, '\n')))
			return -1;
		*next++ = '\0';
		if (!*line)
			break;
		if (!(v = strstr(line, ": ")))
			return -1;
		*v = '\0';
		v += 2;
		unescape(v);
		if (!strcmp(line, "from"))
			m->from = v;
		else if (!strcmp(line, "to") && m->nto < MAXLIST)
			to[m->nto++] = v;
		else if (!strcmp(line, "cc") && m->ncc < MAXLIST)
			cc[m->ncc++] = v;
		else if (!strcmp(line, "extra") && m->nextra < MAXLIST)
			extra[m->nextra++] = v;
		else if (!strcmp(line, "reply-to"))
			m->reply_to = v;
		else if (!strcmp(line, "subject"))
			m->subject = v;
		else if (!strcmp(line, "message-id"))
			m->message_id = v;
		else if (!strcmp(line, "in-reply-to"))
			m->in_reply_to = v;
		else if (!strcmp(line, "date"))
			m->date = v;
		else
			return -1;
	}
	m->body = next;
	if (!m->subject)
		m->subject = "";
	if (!m->date) {
		if (dz_clock_now(date))
			return -1;
		m->date = date;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *to[MAXLIST], *cc[MAXLIST], *extra[MAXLIST], *t;
	char date[DZ_TIME_LEN], id[DZ_MAIL_MSGID_MAX], name[DZ_MAIL_NAME_MAX];
	struct dz_err err = { 0 };
	struct dz_mail m;
	char *spec, *msg;
	size_t len;
	int rc = 0;

	if (argc == 3 && !strcmp(argv[1], "msgid")) {
		if (dz_mail_message_id(argv[2], id, sizeof id, &err))
			return fail(&err);
		puts(id);
		return 0;
	}
	if (!((argc == 2 && !strcmp(argv[1], "format")) ||
	    (argc == 3 && !strcmp(argv[1], "send")) ||
	    (argc == 3 && !strcmp(argv[1], "maildir")))) {
		fputs(usage, stderr);
		return EX_USAGE;
	}
	if ((t = getenv("TEST_MAIL_TIMEOUT")))
		dz_mail_sendmail_timeout = atof(t);
	if (!(spec = slurp()) || parse_spec(spec, &m, to, cc, extra, date)) {
		fprintf(stderr, "test-mail-tool: cannot read the spec\n");
		free(spec);
		return EX_DATAERR;
	}
	if (dz_mail_format(&m, &msg, &len, &err)) {
		free(spec);
		return fail(&err);
	}
	if (!strcmp(argv[1], "format"))
		rc = fwrite(msg, 1, len, stdout) == len ? 0 : EX_IOERR;
	else if (!strcmp(argv[1], "send"))
		rc = dz_mail_sendmail(argv[2], msg, len, &err) ? fail(&err) : 0;
	else if (dz_mail_maildir(argv[2], msg, len, name, sizeof name, &err))
		rc = fail(&err);
	else
		puts(name);
	free(msg);
	free(spec);
	if (fflush(stdout) != 0)
		rc = EX_IOERR;
	return rc;
}
