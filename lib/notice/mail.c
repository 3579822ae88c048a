#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/hex.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/fdio.h"
#include "notice/mail.h"

#define LINE_MAX_HDR 76		/* RFC 2047 2; RFC 5322 2.1.1 says 78 */
#define LINE_MAX_QP 76		/* encoded body lines (RFC 2045 6.7) */
#define EW_MAX 75		/* one encoded-word (RFC 2047 2) */
#define PLAIN_WORD_MAX 60	/* longer words go into encoded-words */
#define NAME_MAX_BYTES 256	/* display names */
#define EXTRA_MAX 998
#define ARGV_MAX 64

double dz_mail_sendmail_timeout = 120;

/*** A growing buffer; out of memory is remembered and checked once ***/

struct buf {
	char *p;
	size_t len, cap;
	int oom;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *np;

		while (b->len + n + 1 > cap)
			cap *= 2;
		if (!(np = realloc(b->p, cap))) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

static const char hex[] = "0123456789ABCDEF";

static void
buf_hexbyte(struct buf *b, unsigned char c)
{
	char e[3] = { '=', hex[c >> 4], hex[c & 15] };

	buf_add(b, e, 3);
}

/*** Character classes (ASCII only, whatever the locale) ***/

static int
is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* atext of RFC 5322 3.2.3 */
static int
is_atext(int c)
{
	return is_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t k;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		k = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		k = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 4, cp = c & 0x07;
	else
		return 0;
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return k;
}

static int
utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0, k; i < n; i += k)
		if (!(k = utf8_len(p + i, n - i)))
			return 0;
	return 1;
}

/*
 * A header text (subject, display name): valid UTF-8 and no control
 * character. 0, or -1 with err naming the field.
 */
static int
check_text(const char *s, size_t n, const char *field, struct dz_err *err)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' || c == '\r')
			return dz_err_set(err, EX_DATAERR, "line break in %s",
			    field);
		if (c < 0x20 || c == 0x7f)
			return dz_err_set(err, EX_DATAERR,
			    "control character in %s", field);
	}
	if (!utf8_valid(s, n))
		return dz_err_set(err, EX_DATAERR, "%s is not valid UTF-8",
		    field);
	return 0;
}

/* dot-atom-text: atext runs separated by single dots. */
static int
dot_atom(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(is_atext((unsigned char)s[i]) ||
		    (s[i] == '.' && s[i + 1] != '.')))
			return 0;
	return 1;
}

/* A host name: labels of letters, digits and inner hyphens. */
static int
host_name(const char *s, size_t n)
{
	size_t label = 0;

	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return 0;
			label = 0;
		} else if (is_alnum((unsigned char)s[i]) ||
		    (s[i] == '-' && label > 0)) {
			label++;
		} else {
			return 0;
		}
	}
	return 1;
}

static int
addr_spec(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);
	size_t local;

	if (!at || n > 254)
		return 0;
	local = (size_t)(at - s);
	return local <= 64 && dot_atom(s, local) &&
	    host_name(at + 1, n - local - 1);
}

int
dz_mail_address_valid(const char *s)
{
	return addr_spec(s, strlen(s));
}

/* "<left@right>", both dot-atom-text. */
static int
msg_id(const char *s)
{
	size_t n = strlen(s);
	const char *at;

	if (n < 5 || n > 250 || s[0] != '<' || s[n - 1] != '>')
		return 0;
	at = memchr(s, '@', n);
	return at && dot_atom(s + 1, (size_t)(at - s - 1)) &&
	    dot_atom(at + 1, (size_t)(s + n - 1 - at - 1));
}

/*** Header lines with folding ***/

struct hdr {
	struct buf *b;
	size_t col;		/* characters on the current line */
	int words;		/* tokens on the field so far */
};

static void
hdr_begin(struct hdr *h, struct buf *b, const char *name)
{
	h->b = b;
	buf_adds(b, name);
	buf_addc(b, ':');
	h->col = strlen(name) + 1;
	h->words = 0;
}

/*
 * A token after a blank, or after a fold when it would pass the line
 * limit. An empty token never starts a line (that line would be blank).
 */
static void
hdr_put(struct hdr *h, const char *s, size_t n)
{
	if (h->words && n && h->col + 1 + n > LINE_MAX_HDR) {
		buf_add(h->b, "\n ", 2);
		h->col = 1;
	} else {
		buf_addc(h->b, ' ');
		h->col++;
	}
	buf_add(h->b, s, n);
	h->col += n;
	h->words++;
}

static void
hdr_end(struct hdr *h)
{
	buf_addc(h->b, '\n');
}

/* In a Q encoded-word in a phrase, these stand for themselves (5.3). */
static int
q_plain(int c)
{
	return is_alnum(c) || c == '!' || c == '*' || c == '+' || c == '-' ||
	    c == '/';
}

/*
 * s as RFC 2047 Q encoded-words in UTF-8, each as long as the line
 * allows, never cutting a character in two. Whitespace between the words
 * disappears when they are decoded.
 */
static void
hdr_encoded(struct hdr *h, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	do {
		char w[EW_MAX + 1];
		size_t wl = 10, room;

		if (h->words && h->col + 1 + 24 > LINE_MAX_HDR) {
			buf_add(h->b, "\n", 1);
			h->col = 0;
			h->words = 0;
		}
		room = LINE_MAX_HDR - h->col - 1;
		if (room > EW_MAX)
			room = EW_MAX;
		memcpy(w, "=?UTF-8?Q?", 10);
		while (i < n) {
			size_t k = utf8_len(p + i, n - i), need = 0;

			if (k == 0)	/* not reached: the text was checked */
				k = 1;

			for (size_t j = 0; j < k; j++)
				need += q_plain(p[i + j]) || p[i + j] == ' ' ?
				    1 : 3;
			if (wl + need + 2 > room)
				break;
			for (size_t j = 0; j < k; j++, i++) {
				if (p[i] == ' ') {
					w[wl++] = '_';
				} else if (q_plain(p[i])) {
					w[wl++] = (char)p[i];
				} else {
					w[wl++] = '=';
					w[wl++] = hex[p[i] >> 4];
					w[wl++] = hex[p[i] & 15];
				}
			}
		}
		w[wl++] = '?';
		w[wl++] = '=';
		hdr_put(h, w, wl);
	} while (i < n);
}

/*
 * Can s be written as itself: printable ASCII words, single spaces
 * between them, no "=?" that a reader would take for an encoded-word, and
 * (phrase) only atext?
 */
static int
plain_ok(const char *s, size_t n, int phrase)
{
	size_t word = 0;

	if (n == 0 || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ') {
			if (s[i + 1] == ' ')
				return 0;
			word = 0;
			continue;
		}
		if (c < 0x21 || c > 0x7e || (phrase && !is_atext(c)) ||
		    (c == '=' && i + 1 < n && s[i + 1] == '?') ||
		    ++word > PLAIN_WORD_MAX)
			return 0;
	}
	return 1;
}

/* Unstructured text (Subject): plain words, or encoded-words. */
static void
hdr_text(struct hdr *h, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (!plain_ok(s, n, 0)) {
		hdr_encoded(h, s, n);
		return;
	}
	for (size_t i = 0, j; i < n; i = j + 1) {
		for (j = i; j < n && s[j] != ' '; j++)
			;
		hdr_put(h, s + i, j - i);
	}
}

/* A display name: atoms, a quoted-string, or encoded-words. */
static void
hdr_phrase(struct hdr *h, const char *s, size_t n)
{
	char q[PLAIN_WORD_MAX + 3];
	size_t ql = 0;

	if (plain_ok(s, n, 1)) {
		hdr_text(h, s, n);
		return;
	}
	q[ql++] = '"';
	for (size_t i = 0; i < n && ql < PLAIN_WORD_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e)
			break;
		if (c == '"' || c == '\\')
			q[ql++] = '\\';
		q[ql++] = (char)c;
		if (i == n - 1) {
			q[ql++] = '"';
			hdr_put(h, q, ql);
			return;
		}
	}
	hdr_encoded(h, s, n);
}

/*
 * One mailbox, "addr" or "Name <addr>" (Name maybe in double quotes),
 * then sep (",") when another follows. -1 with err naming field.
 */
static int
hdr_mailbox(struct hdr *h, const char *s, const char *sep, const char *field,
    struct dz_err *err)
{
	size_t n = strlen(s), nn = 0;
	const char *addr = s, *lt;
	char tok[260];

	if (n && s[n - 1] == '>' && (lt = strrchr(s, '<'))) {
		addr = lt + 1;
		nn = (size_t)(lt - s);
		n = (size_t)(s + n - 1 - addr);
		while (nn && (s[nn - 1] == ' ' || s[nn - 1] == '\t'))
			nn--;
		while (nn && (*s == ' ' || *s == '\t'))
			s++, nn--;
		if (nn >= 2 && s[0] == '"' && s[nn - 1] == '"')
			s++, nn -= 2;
	}
	if (!addr_spec(addr, n))
		return dz_err_set(err, EX_DATAERR, "invalid address in %s",
		    field);
	if (nn > NAME_MAX_BYTES)
		return dz_err_set(err, EX_DATAERR, "display name too long in %s",
		    field);
	if (check_text(s, nn, "a display name", err))
		return -1;
	if (nn) {
		hdr_phrase(h, s, nn);
		snprintf(tok, sizeof tok, "<%.*s>%s", (int)n, addr, sep);
	} else {
		snprintf(tok, sizeof tok, "%.*s%s", (int)n, addr, sep);
	}
	hdr_put(h, tok, strlen(tok));
	return 0;
}

static int
hdr_mailboxes(struct buf *b, const char *field, const char *const *v,
    size_t n, struct dz_err *err)
{
	struct hdr h;

	if (n == 0)
		return 0;
	if (!v)
		return dz_err_set(err, EX_SOFTWARE, "no %s list", field);
	hdr_begin(&h, b, field);
	for (size_t i = 0; i < n; i++) {
		if (!v[i])
			return dz_err_set(err, EX_SOFTWARE, "no address in %s",
			    field);
		if (hdr_mailbox(&h, v[i], i + 1 < n ? "," : "", field, err))
			return -1;
	}
	hdr_end(&h);
	return 0;
}

/* Header names that dz_mail_format writes or that sendmail -t obeys. */
static int
reserved_name(const char *s, size_t n)
{
	static const char *const names[] = { "date", "from", "sender", "to",
	    "cc", "bcc", "reply-to", "subject", "message-id", "in-reply-to",
	    "references", "mime-version" };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == n && strncasecmp(s, names[i], n) == 0)
			return 1;
	return (n > 8 && strncasecmp(s, "content-", 8) == 0) ||
	    (n > 7 && strncasecmp(s, "resent-", 7) == 0);
}

/* "Name: value": printable ASCII, single blank after the colon. */
static int
hdr_extra(struct buf *b, const char *s, struct dz_err *err)
{
	const char *colon = strchr(s, ':');
	size_t n = strlen(s), nn;
	struct hdr h;
	char name[80];

	for (size_t i = 0; i < n; i++)
		if (s[i] == '\n' || s[i] == '\r')
			return dz_err_set(err, EX_DATAERR,
			    "line break in an extra header");
	if (!colon || colon == s || (nn = (size_t)(colon - s)) >= sizeof name ||
	    colon[1] != ' ' || colon[2] == ' ' || colon[2] == '\0' ||
	    s[n - 1] == ' ' || n > EXTRA_MAX)
		return dz_err_set(err, EX_DATAERR,
		    "extra header is not \"Name: value\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e || (i < nn && c == ' '))
			return dz_err_set(err, EX_DATAERR,
			    "extra header is not printable ASCII");
	}
	if (reserved_name(s, nn))
		return dz_err_set(err, EX_DATAERR,
		    "extra header may not set a standard field");
	memcpy(name, s, nn);
	name[nn] = '\0';
	hdr_begin(&h, b, name);
	for (const char *p = colon + 2, *e; ; p = e + 1) {
		e = strchr(p, ' ');
		if (!e)
			e = s + n;
		hdr_put(&h, p, (size_t)(e - p));
		if (e == s + n)
			break;
	}
	hdr_end(&h);
	return 0;
}

/*** Body: quoted-printable (RFC 2045 6.7) ***/

static void
qp_body(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t col = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		int eol, enc;

		if (c == '\n' || (c == '\r' && i + 1 < n && p[i + 1] == '\n')) {
			if (c == '\r')
				i++;
			buf_addc(b, '\n');
			col = 0;
			continue;
		}
		/* Before a line end, no room is needed for a soft break. */
		eol = i + 1 < n && (p[i + 1] == '\n' ||
		    (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n'));
		for (int pass = 0; pass < 2; pass++) {
			enc = c == '=' || c > 0x7e || (c < 0x20 && c != '\t') ||
			    ((c == ' ' || c == '\t') && (eol || i + 1 == n)) ||
			    (col == 0 && (c == '.' ||
			    (c == 'F' && n - i >= 5 && !memcmp(p + i, "From ", 5))));
			if (col + (enc ? 3 : 1) + (eol ? 0 : 1) <= LINE_MAX_QP)
				break;
			buf_add(b, "=\n", 2);	/* soft line break */
			col = 0;
		}
		if (enc)
			buf_hexbyte(b, c);
		else
			buf_addc(b, (char)c);
		col += enc ? 3 : 1;
	}
	if (n && p[n - 1] != '\n')
		buf_add(b, "=\n", 2);	/* decodes to no line end at all */
}

/*** Date ***/

static int
mail_date(const char *rfc3339, char out[40])
{
	static const char days[][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char months[][4] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	time_t t;

	if (!rfc3339 || dz_clock_parse(rfc3339, &t) || !gmtime_r(&t, &tm))
		return -1;
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return 0;
}

/*** The message ***/

static int
format(const struct dz_mail *m, struct buf *b, struct dz_err *err)
{
	struct hdr h;
	char date[40];
	size_t blen;

	if (!m->from || !m->message_id || !m->date || !m->subject || !m->body)
		return dz_err_set(err, EX_SOFTWARE, "incomplete message");
	if (m->nto == 0)
		return dz_err_set(err, EX_DATAERR, "no recipient in To");
	if (mail_date(m->date, date))
		return dz_err_set(err, EX_DATAERR, "invalid date");
	if (!msg_id(m->message_id))
		return dz_err_set(err, EX_DATAERR, "invalid Message-ID");
	if (m->in_reply_to && !msg_id(m->in_reply_to))
		return dz_err_set(err, EX_DATAERR, "invalid In-Reply-To");
	if (check_text(m->subject, strlen(m->subject), "Subject", err))
		return -1;
	blen = strlen(m->body);
	if (!utf8_valid(m->body, blen))
		return dz_err_set(err, EX_DATAERR, "body is not valid UTF-8");

	buf_adds(b, "Date: ");
	buf_adds(b, date);
	buf_addc(b, '\n');
	hdr_begin(&h, b, "From");
	if (hdr_mailbox(&h, m->from, "", "From", err))
		return -1;
	hdr_end(&h);
	if (hdr_mailboxes(b, "To", m->to, m->nto, err) ||
	    hdr_mailboxes(b, "Cc", m->cc, m->ncc, err) ||
	    (m->reply_to && hdr_mailboxes(b, "Reply-To", &m->reply_to, 1, err)))
		return -1;
	hdr_begin(&h, b, "Subject");
	hdr_text(&h, m->subject, strlen(m->subject));
	hdr_end(&h);
	buf_adds(b, "Message-ID: ");
	buf_adds(b, m->message_id);
	buf_addc(b, '\n');
	if (m->in_reply_to) {
		buf_adds(b, "In-Reply-To: ");
		buf_adds(b, m->in_reply_to);
		buf_adds(b, "\nReferences: ");
		buf_adds(b, m->in_reply_to);
		buf_addc(b, '\n');
	}
	buf_adds(b, "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=UTF-8\n"
	    "Content-Transfer-Encoding: quoted-printable\n");
	if (m->nextra && !m->extra)
		return dz_err_set(err, EX_SOFTWARE, "no extra header list");
	for (size_t i = 0; i < m->nextra; i++)
		if (!m->extra[i] || hdr_extra(b, m->extra[i], err))
			return m->extra[i] ? -1 : dz_err_set(err, EX_SOFTWARE,
			    "no extra header");
	buf_addc(b, '\n');
	qp_body(b, m->body, blen);
	if (b->oom)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	return 0;
}

int
dz_mail_format(const struct dz_mail *m, char **out, size_t *len,
    struct dz_err *err)
{
	struct buf b = { 0 };

	*out = NULL;
	*len = 0;
	if (format(m, &b, err)) {
		free(b.p);
		return -1;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/*** Message-ID ***/

static int
random_bytes(void *p, size_t n)
{
	uint8_t *q = p;

	while (n > 0) {
		ssize_t k = getrandom(q, n, 0);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		q += k;
		n -= (size_t)k;
	}
	return 0;
}

int
dz_mail_message_id(const char *domain, char *out, size_t outsz,
    struct dz_err *err)
{
	uint8_t r[16];
	char h[33];

	if (!domain || !host_name(domain, strlen(domain)))
		return dz_err_set(err, EX_DATAERR,
		    "invalid domain for a Message-ID");
	if (strlen(domain) + 36 > outsz)
		return dz_err_set(err, EX_SOFTWARE, "Message-ID buffer too small");
	if (random_bytes(r, sizeof r))
		return dz_err_set(err, EX_SOFTWARE, "cannot get random bytes: %s",
		    strerror(errno));
	dz_hex_encode(h, r, sizeof r);
	snprintf(out, outsz, "<%s@%s>", h, domain);
	return 0;
}

/*** sendmail ***/

/* fd moved above 2 (never stdin, stdout or stderr), close-on-exec. */
static int
fd_high(int fd)
{
	int n;

	if (fd < 0)
		return -1;
	n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return n;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
child(int in, int devnull, int errfd, char **argv)
{
	struct sigaction sa;
	sigset_t none;
	int e;

	setpgid(0, 0);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in, 0) >= 0 && dup2(devnull, 1) >= 0 && dup2(devnull, 2) >= 0)
		execvp(argv[0], argv);
	e = errno;
	(void)!write(errfd, &e, sizeof e);
	_exit(127);
}

/*
 * Write msg to fd (non-blocking) until done, EPIPE or the deadline.
 * 0 done, 1 the reader is gone, 2 timed out, -1 other error (errno).
 * SIGPIPE is blocked meanwhile; one raised by this write is discarded.
 */
static int
write_msg(int fd, const char *msg, size_t len, double deadline)
{
	sigset_t pipeset, old, pending;
	int rc = 0, was_pending, saved;

	sigemptyset(&pipeset);
	sigaddset(&pipeset, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipeset, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	while (len > 0) {
		ssize_t n = write(fd, msg, len);

		if (n > 0) {
			msg += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			double left = deadline - now();

			if (left <= 0) {
				rc = 2;
				break;
			}
			poll(&pfd, 1, (int)(left * 1000) + 1);
		} else if (n < 0 && errno == EPIPE) {
			rc = 1;
			break;
		} else if (!(n < 0 && errno == EINTR)) {
			rc = -1;
			break;
		}
	}
	saved = errno;
	if (rc == 1 && !was_pending) {
		struct timespec zero = { 0, 0 };

		while (sigtimedwait(&pipeset, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return rc;
}

/* Wait for pid until the deadline: 0 with *status, 1 timed out, -1 error. */
static int
wait_child(pid_t pid, int *status, double deadline)
{
	long us = 1000;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		double left = deadline - now();

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (r < 0)
			continue;
		if (left <= 0)
			return 1;
		if (us > left * 1e6)
			us = (long)(left * 1e6) + 1;
		nanosleep(&(struct timespec){ us / 1000000, us % 1000000 * 1000 },
		    NULL);
		if (us < 20000)
			us *= 2;
	}
}

static int
run(char **argv, const char *msg, size_t len, struct dz_err *err)
{
	double timeout = dz_mail_sendmail_timeout, deadline = now() + timeout;
	int in[2] = { -1, -1 }, ep[2] = { -1, -1 }, devnull, status = 0;
	int e, wr, w;
	ssize_t n;
	pid_t pid;

	if (pipe(in) == 0) {
		in[0] = fd_high(in[0]);
		in[1] = fd_high(in[1]);
	}
	if (pipe(ep) == 0) {
		ep[0] = fd_high(ep[0]);
		ep[1] = fd_high(ep[1]);
	}
	devnull = fd_high(open("/dev/null", O_WRONLY));
	if (in[0] < 0 || in[1] < 0 || ep[0] < 0 || ep[1] < 0 || devnull < 0 ||
	    (pid = fork()) < 0) {
		e = errno;
		for (int fd = 0; fd < 2; fd++) {
			if (in[fd] >= 0)
				close(in[fd]);
			if (ep[fd] >= 0)
				close(ep[fd]);
		}
		if (devnull >= 0)
			close(devnull);
		return dz_err_set(err, EX_TEMPFAIL,
		    "cannot start mail command: %s", strerror(e));
	}
	if (pid == 0)
		child(in[0], devnull, ep[1], argv);
	setpgid(pid, pid);
	close(in[0]);
	close(ep[1]);
	close(devnull);

	/* The exec error, or end of file once the command runs. */
	while ((n = read(ep[0], &e, sizeof e)) < 0 && errno == EINTR)
		;
	close(ep[0]);
	if (n == (ssize_t)sizeof e) {
		close(in[1]);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		return dz_err_set(err, EX_UNAVAILABLE,
		    "cannot run mail command '%.60s': %s", argv[0], strerror(e));
	}

	fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
	wr = write_msg(in[1], msg, len, deadline);
	e = errno;
	close(in[1]);
	w = wr == 2 ? 1 : wr < 0 ? 2 : wait_child(pid, &status, deadline);
	if (w < 0)
		e = errno;
	if (w != 0) {
		kill(-pid, SIGKILL);	/* its process group, helpers included */
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (w == 1)
		return dz_err_set(err, EX_TEMPFAIL,
		    "mail command timed out after %g s", timeout);
	if (w == 2)
		return dz_err_set(err, EX_UNAVAILABLE,
		    "cannot write to mail command: %s", strerror(e));
	if (w < 0)
		return dz_err_set(err, EX_SOFTWARE,
		    "cannot wait for mail command: %s", strerror(e));
	if (WIFSIGNALED(status))
		return dz_err_set(err, EX_UNAVAILABLE,
		    "mail command killed by signal %d", WTERMSIG(status));
	if (WEXITSTATUS(status) == EX_TEMPFAIL)
		return dz_err_set(err, EX_TEMPFAIL,
		    "mail command failed temporarily (exit 75)");
	if (WEXITSTATUS(status) != 0)
		return dz_err_set(err, EX_UNAVAILABLE,
		    "mail command failed (exit %d)", WEXITSTATUS(status));
	if (wr == 1)
		return dz_err_set(err, EX_UNAVAILABLE,
		    "mail command did not read the message");
	return 0;
}

int
dz_mail_sendmail(const char *command, const char *msg, size_t len,
    struct dz_err *err)
{
	char *copy, *argv[ARGV_MAX], *save = NULL;
	int argc = 0, rc;

	if (!command || !(copy = strdup(command)))
		return dz_err_set(err, command ? EX_SOFTWARE : EX_CONFIG,
		    command ? "out of memory" : "no mail command");
	for (char *w = strtok_r(copy, " \t", &save); w;
	    w = strtok_r(NULL, " \t", &save)) {
		if (argc == ARGV_MAX - 1) {
			free(copy);
			return dz_err_set(err, EX_CONFIG,
			    "mail command has too many words");
		}
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	if (argc == 0)
		rc = dz_err_set(err, EX_CONFIG, "empty mail command");
	else
		rc = run(argv, msg, len, err);
	free(copy);
	return rc;
}

/*** Maildir ***/

/* mkdir mode 0700 unless it exists; 1 created, 0 existed, -1 failed. */
static int
make_dir(const char *path)
{
	if (mkdir(path, 0700) == 0)
		return 1;
	return errno == EEXIST ? 0 : -1;
}

static int
unique_name(char *out, size_t outsz)
{
	char host[65] = "localhost";
	struct timespec ts;
	uint64_t r;
	int n;

	if (random_bytes(&r, sizeof r))
		return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (gethostname(host, sizeof host - 1) != 0 || !host[0])
		strcpy(host, "localhost");
	host[sizeof host - 1] = '\0';
	for (char *p = host; *p; p++)
		if (!is_alnum((unsigned char)*p) && *p != '-' && *p != '.')
			*p = '_';
	n = snprintf(out, outsz, "%lld.M%ldP%ldR%016llx.%s",
	    (long long)ts.tv_sec, ts.tv_nsec / 1000, (long)getpid(),
	    (unsigned long long)r, host);
	if (n < 0 || (size_t)n >= outsz)
		return errno = ENAMETOOLONG, -1;
	return 0;
}

/*
 * The name of the message whose Message-ID is key: "dz." and its left
 * part, between "<" and "@" (the 32 random hex digits of
 * dz_mail_message_id), with anything but letters, digits, '-' and '.'
 * replaced by '_' (no '/' and no ':', which Maildir reserves).
 */
static int
keyed_name(const char *key, char *out, size_t outsz)
{
	size_t k = 3, n;

	if (*key == '<')
		key++;
	n = strcspn(key, "@>");
	if (n == 0 || n + k >= outsz)
		return errno = EINVAL, -1;
	memcpy(out, "dz.", 3);
	for (size_t i = 0; i < n; i++)
		out[k++] = is_alnum((unsigned char)key[i]) || key[i] == '-' ||
		    key[i] == '.' ? key[i] : '_';
	out[k] = '\0';
	return 0;
}

/* Whether cur/ holds nm, as it is or with a reader's ":2,FLAGS". */
static int
in_cur(const char *dir, const char *nm)
{
	size_t n = strlen(nm);
	char *cur = malloc(strlen(dir) + 5);
	struct dirent *e;
	DIR *d;
	int found = 0;

	if (!cur)
		return 0;
	sprintf(cur, "%s/cur", dir);
	d = opendir(cur);
	free(cur);
	if (!d)
		return 0;
	while (!found && (e = readdir(d)))
		found = strncmp(e->d_name, nm, n) == 0 &&
		    (e->d_name[n] == '\0' || e->d_name[n] == ':');
	closedir(d);
	return found;
}

int
dz_mail_maildir(const char *dir, const char *msg, size_t len,
    char *name, size_t namesz, struct dz_err *err)
{
	return dz_mail_maildir_once(dir, NULL, msg, len, name, namesz, err);
}

int
dz_mail_maildir_once(const char *dir, const char *key, const char *msg,
    size_t len, char *name, size_t namesz, struct dz_err *err)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	size_t dl = strlen(dir), pl = dl + 5 + DZ_MAIL_NAME_MAX;
	char nm[DZ_MAIL_NAME_MAX], *tmp = NULL, *new = NULL;
	int made = 0, rc = -1, fd, r;
	struct stat st;

	if (key ? keyed_name(key, nm, sizeof nm) : unique_name(nm, sizeof nm))
		return dz_err_set(err, EX_SOFTWARE, "cannot name a message: %s",
		    strerror(errno));
	if (strlen(nm) >= namesz)
		return dz_err_set(err, EX_SOFTWARE,
		    "buffer too small for a maildir name");
	if (!(tmp = malloc(pl)) || !(new = malloc(pl))) {
		free(tmp);
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	}
	if ((r = make_dir(dir)) < 0)
		goto cantcreat;
	made = r;
	for (int i = 0; i < 3; i++) {
		snprintf(tmp, pl, "%s/%s", dir, sub[i]);
		if ((r = make_dir(tmp)) < 0)
			goto cantcreat;
		made |= r << 1;
	}
	/* New directories survive a crash too. */
	if ((made & 1) && dz_fd_sync_parent(dir, "the maildir", err))
		goto out;
	if (made && dz_fd_sync_parent(tmp, "the maildir", err))
		goto out;

	snprintf(tmp, pl, "%s/tmp/%s", dir, nm);
	snprintf(new, pl, "%s/new/%s", dir, nm);
	if (key && (lstat(new, &st) == 0 || in_cur(dir, nm))) {
		/* delivered by a run killed before it could record it */
		unlink(tmp);
		memcpy(name, nm, strlen(nm) + 1);
		rc = 0;
		goto out;
	}
	/* keyed: what a killed delivery left in tmp/ is written over */
	fd = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC |
	    (key ? O_TRUNC | O_NOFOLLOW : O_EXCL), 0600);
	if (fd < 0) {
		dz_err_set(err, EX_CANTCREAT, "cannot create a maildir file: %s",
		    strerror(errno));
		goto out;
	}
	if (dz_fd_write_full(fd, msg, len) || fsync(fd)) {
		dz_err_set(err, EX_IOERR, "cannot write a maildir file: %s",
		    strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd)) {
		dz_err_set(err, EX_IOERR, "cannot write a maildir file: %s",
		    strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (link(tmp, new) != 0) {
		/* File systems without hard links: rename, as atomic. */
		if (key && errno == EEXIST) {
			unlink(tmp);	/* delivered meanwhile */
		} else if ((errno != EPERM && errno != ENOTSUP &&
		    errno != ENOSYS) || rename(tmp, new) != 0) {
			dz_err_set(err, EX_IOERR,
			    "cannot move a message into new/: %s",
			    strerror(errno));
			unlink(tmp);
			goto out;
		}
	} else {
		unlink(tmp);
	}
	if (dz_fd_sync_parent(new, "a new message", err)) {
		unlink(new);	/* not durable: let the caller retry */
		goto out;
	}
	memcpy(name, nm, strlen(nm) + 1);
	rc = 0;
	goto out;
cantcreat:
	dz_err_set(err, EX_CANTCREAT, "cannot create maildir directory: %s",
	    strerror(errno));
out:
	free(tmp);
	free(new);
	return rc;
}
