/*
 * lib/notice/mail: RFC 5322 messages and their delivery, for dz-notify.
 *
 * dz_mail_format() builds one text/plain UTF-8 message, body in
 * quoted-printable, non-ASCII subjects and display names as RFC 2047
 * encoded-words, every line ending in LF (what sendmail -t and a Maildir
 * want). It validates everything it writes: a header injection ("\nBcc:")
 * is refused, not escaped. dz_mail_sendmail() hands a message to a
 * sendmail-compatible command; dz_mail_maildir() delivers it into a
 * Maildir instead.
 *
 * Nothing here prints or exits. Failures return -1 and fill a struct
 * dz_err (lib/core/err.h) whose reason never holds an address, a subject or
 * any other part of the message: it names the field ("invalid address in
 * To") instead.
 *
 * May use: core/ (clock, err, fdio).
 */
#ifndef DZ_MAIL_H
#define DZ_MAIL_H

#include <stddef.h>

struct dz_err;

/*
 * A message to format. Every pointer is borrowed: dz_mail_format() only
 * reads them. Strings are NUL-terminated.
 *
 * Addresses (from, to[], cc[], reply_to) are "addr@domain" or
 * "Display Name <addr@domain>"; the name may be UTF-8 and may be in double
 * quotes. The addr-spec must be a plain dot-atom local part and a host
 * name (letters, digits, '-', dots): no quoted local parts, no domain
 * literals, no comments, at most 254 bytes.
 */
struct dz_mail {
	const char *from;		/* required */
	const char *const *to;		/* at least one */
	size_t nto;
	const char *const *cc;		/* may be NULL when ncc is 0 */
	size_t ncc;
	const char *reply_to;		/* optional (NULL) */
	const char *subject;		/* UTF-8, one line, may be "" */
	const char *body;		/* UTF-8 text, LF (or CRLF) line ends */
	const char *message_id;		/* "<local@domain>", required */
	const char *in_reply_to;	/* optional: sets In-Reply-To and References */
	const char *date;		/* RFC 3339 UTC ("2026-12-05T10:00:00Z") */
	const char *const *extra;	/* "Name: value", printable ASCII */
	size_t nextra;
};

/*
 * Whether s is an addr-spec dz_mail_format() accepts in a From, To, Cc or
 * Reply-To (the rules above, without a display name): 1 or 0. For
 * checking an address where it comes in (dz-ingest), with the very parser
 * the mailer uses.
 */
int dz_mail_address_valid(const char *s);

/*
 * Build the message. On success *out is a malloc'd, NUL-terminated text
 * the caller frees, *len its length without the NUL, and 0 is returned.
 *
 * Headers, in this order: Date (as "Sat, 05 Dec 2026 10:00:00 +0000"),
 * From, To, Cc, Reply-To, Subject, Message-ID, In-Reply-To, References,
 * MIME-Version, Content-Type (text/plain; charset=UTF-8),
 * Content-Transfer-Encoding (quoted-printable), then the extra lines.
 * Header lines are folded at 76 characters (RFC 2047's limit for lines
 * with encoded-words, within RFC 5322's 78); only a single address or
 * message id longer than that is left whole (RFC 5322 allows 998). Plain
 * ASCII subjects and names stay readable as they are; others become
 * encoded-words ("=?UTF-8?Q?...?="), each cut between whole characters.
 *
 * The body is quoted-printable: lines of at most 76 characters with soft
 * breaks, '=' and trailing blanks encoded, and an output line never starts
 * with '.' or "From " (a lone "." would end the message for a sendmail
 * run without -i; "From " is mangled by mbox). A body that does not end in
 * a newline ends in a soft break, so it decodes to exactly the input.
 *
 * -1 with EX_DATAERR when a field is invalid: a bad address, CR/LF or
 * another control character in a header value, a body or subject that is
 * not valid UTF-8, a malformed date or message id, an extra header that is
 * not "Name: value" or that names a header written here (or Bcc).
 * EX_SOFTWARE when out of memory.
 */
int dz_mail_format(const struct dz_mail *m, char **out, size_t *len,
    struct dz_err *err);

/* Room for a message id from dz_mail_message_id(): "<" 32 ">" "@" 253. */
#define DZ_MAIL_MSGID_MAX 292

/*
 * A fresh, random Message-ID "<32 hex digits@domain>" (128 random bits
 * from getrandom(2)) into out. -1 with EX_DATAERR if domain is not a host
 * name, EX_SOFTWARE if outsz is too small or no random bytes come.
 */
int dz_mail_message_id(const char *domain, char *out, size_t outsz,
    struct dz_err *err);

/*
 * Seconds dz_mail_sendmail() waits for the command, message written and
 * exit included, before it kills the command's process group. 120 by
 * default; tests lower it. Set it once, before any thread sends mail.
 */
extern double dz_mail_sendmail_timeout;

/*
 * Pipe msg (len bytes) to a sendmail-compatible command and wait for it.
 *
 * command is split on blanks (spaces and tabs) into an argument vector
 * and run with execvp(3): no shell is involved, so no quoting, no
 * variables, no redirection, and nothing in the message can reach the
 * command line. Addresses are never passed as arguments either: the
 * command must take the recipients from the message, so give it -t, and
 * -i (or -oi) so that it does not treat a line with a lone "." as the end
 * (dz_mail_format never writes one, but other input might):
 * "/usr/sbin/sendmail -t -i".
 *
 * The command runs in its own process group with the default signal mask
 * and dispositions; its stdout and stderr go to /dev/null, because an
 * MTA's messages may hold a recipient's address. SIGPIPE is blocked in the
 * calling thread while the message is written, then restored (and a
 * SIGPIPE raised by this write discarded), so a command that exits
 * without reading cannot kill the caller.
 *
 * Returns 0 when the command exited 0 after reading the whole message.
 * Otherwise -1 and err:
 *   EX_CONFIG       empty command, or more than 63 words
 *   EX_UNAVAILABLE  "cannot run mail command 'NAME': REASON" (exec failed),
 *                   "mail command failed (exit N)", "mail command killed
 *                   by signal N", "mail command did not read the message"
 *   EX_TEMPFAIL     "mail command failed temporarily (exit 75)",
 *                   "mail command timed out after N s" (it was killed), or
 *                   "cannot start mail command: REASON" (pipe or fork)
 * Messages name the command's first word, never the message.
 */
int dz_mail_sendmail(const char *command, const char *msg, size_t len,
    struct dz_err *err);

/* Room for a Maildir file name from dz_mail_maildir(). */
#define DZ_MAIL_NAME_MAX 160

/*
 * Deliver msg into the Maildir dir, creating dir and its tmp/, new/ and
 * cur/ (mode 0700) when missing. The message is written to tmp/NAME (mode
 * 0600, O_EXCL), fsync'ed, linked to new/NAME (renamed where the file
 * system has no hard links), tmp/NAME removed, and new/ fsync'ed: once 0
 * is returned, the message survives a crash. NAME, copied into name
 * (namesz bytes, DZ_MAIL_NAME_MAX is enough), is unique as the Maildir
 * specification asks: "SECONDS.MMICROSECONDSPPIDRRANDOM.HOST", with 64
 * random bits, and HOST with anything but letters, digits, '-' and '.'
 * replaced by '_'.
 *
 * -1 with EX_CANTCREAT (a directory or the file cannot be created),
 * EX_IOERR (write, fsync or link failed; nothing is left in tmp/ or
 * new/), EX_SOFTWARE (namesz too small, no random bytes).
 */
int dz_mail_maildir(const char *dir, const char *msg, size_t len,
    char *name, size_t namesz, struct dz_err *err);

/*
 * The same, exactly once per key (the message's Message-ID): NAME is
 * "dz." and the key's left part (between "<" and "@"), with anything but
 * letters, digits, '-' and '.' replaced by '_'. When new/NAME, cur/NAME or cur/NAME:FLAGS is there
 * already (a run killed after the delivery but before recording it),
 * nothing is written and 0 is returned; what a killed delivery left in
 * tmp/NAME is written over. A run that delivers the same message again
 * after a crash therefore leaves one copy.
 */
int dz_mail_maildir_once(const char *dir, const char *key, const char *msg,
    size_t len, char *name, size_t namesz, struct dz_err *err);

#endif
