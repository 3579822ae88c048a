#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/record.h"

/*** Line reader ***/

enum { RD_OK, RD_EOF, RD_FAILED };

struct dz_reader {
	FILE *f;
	int delim;
	unsigned flags;
	size_t max;		/* longest line accepted */
	char *buf;
	size_t cap;
	size_t lineno;
	int state;
	struct dz_err fail;	/* repeated by every call after RD_FAILED */
};

static const char *
errstr(int e, char *buf, size_t n)
{
	if (strerror_r(e, buf, n) != 0)
		snprintf(buf, n, "error %d", e);
	return buf;
}

struct dz_reader *
dz_reader_new(FILE *f, int delim, size_t max_line, unsigned flags,
    struct dz_err *err)
{
	struct dz_reader *r;

	if (!f || (delim != '\n' && delim != '\0') ||
	    (flags & ~(unsigned)DZ_READER_STRIP_CR)) {
		dz_err_set(err, EX_SOFTWARE, "dz_reader_new: bad arguments");
		return NULL;
	}
	if (max_line == 0)
		max_line = DZ_READER_MAX_DEFAULT;
	if (max_line > SIZE_MAX / 2) {
		dz_err_set(err, EX_SOFTWARE, "dz_reader_new: line limit too large");
		return NULL;
	}
	if (!(r = calloc(1, sizeof *r))) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		return NULL;
	}
	r->f = f;
	r->delim = delim;
	r->flags = delim == '\n' ? flags : 0;
	r->max = max_line;
	return r;
}

/* Make room for at least need bytes (need <= r->max + 2). */
static int
reader_grow(struct dz_reader *r, size_t need)
{
	size_t cap = r->cap ? r->cap : 256;
	char *p;

	while (cap < need)
		cap *= 2;
	if (cap > r->max + 2)
		cap = r->max + 2;
	if (!(p = realloc(r->buf, cap)))
		return -1;
	r->buf = p;
	r->cap = cap;
	return 0;
}

static int
reader_fail(struct dz_reader *r, struct dz_err *err, int code,
    const char *what, int e)
{
	char eb[128];

	r->state = RD_FAILED;
	if (e)
		dz_err_set(&r->fail, code, "%s: %s", what, errstr(e, eb, sizeof eb));
	else
		dz_err_set(&r->fail, code, "%s", what);
	if (err)
		*err = r->fail;
	return -2;
}

int
dz_reader_next(struct dz_reader *r, const char **line, size_t *len,
    struct dz_err *err)
{
	const char *noun = r->delim == '\n' ? "line" : "entry";
	int strip = r->flags & DZ_READER_STRIP_CR;
	/* Room for one more byte that may be the CR we strip. */
	size_t limit = r->max + (strip ? 1 : 0);
	size_t n = 0;
	int c, any = 0, too_long = 0, nul = 0, oom = 0;

	*line = NULL;
	*len = 0;
	if (r->state == RD_EOF)
		return 0;
	if (r->state == RD_FAILED) {
		if (err)
			*err = r->fail;
		return -2;
	}

	flockfile(r->f);
	while ((c = getc_unlocked(r->f)) != EOF) {
		any = 1;
		if (c == r->delim)
			break;
		if (c == '\0')
			nul = 1;
		if (too_long || oom)
			continue;	/* skip to the delimiter, storing nothing */
		if (n == limit) {
			too_long = 1;
			continue;
		}
		if (n + 1 >= r->cap && reader_grow(r, n + 2) < 0) {
			oom = 1;
			continue;
		}
		r->buf[n++] = (char)c;
	}
	if (c == EOF && ferror(r->f)) {
		int e = errno;

		funlockfile(r->f);
		return reader_fail(r, err, EX_IOERR, "read error", e);
	}
	funlockfile(r->f);
	if (c == EOF) {
		r->state = RD_EOF;
		if (!any)
			return 0;
	}
	if (oom)
		return reader_fail(r, err, EX_SOFTWARE, "out of memory", 0);
	r->lineno++;
	if (!too_long && strip && n > 0 && r->buf[n - 1] == '\r')
		n--;
	if (!too_long && n > r->max)
		too_long = 1;
	if (too_long) {
		dz_err_set(err, EX_DATAERR, "%s %zu: too long (more than %zu bytes)",
		    noun, r->lineno, r->max);
		return -1;
	}
	if (nul && r->delim == '\n') {
		dz_err_set(err, EX_DATAERR, "%s %zu: contains a NUL byte", noun,
		    r->lineno);
		return -1;
	}
	if (!r->buf && reader_grow(r, 1) < 0)
		return reader_fail(r, err, EX_SOFTWARE, "out of memory", 0);
	r->buf[n] = '\0';
	*line = r->buf;
	*len = n;
	return 1;
}

size_t
dz_reader_lineno(const struct dz_reader *r)
{
	return r->lineno;
}

void
dz_reader_free(struct dz_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}

/*** Records ***/

/*
 * Length of the valid UTF-8 sequence at s (n bytes available), or 0. The
 * same strictness as jansson: no overlong forms, no surrogates, nothing
 * above U+10FFFF.
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp, min;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2)
		return 0;
	if (s[0] < 0xe0) {
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if (s[0] < 0xf0) {
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if (s[0] < 0xf5) {
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static int
utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		if (!(k = utf8_len(p + i, n - i)))
			return 0;
		i += k;
	}
	return 1;
}

/* s as a JSON string, invalid bytes replaced by U+FFFD. */
static json_t *
string_lossy(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, o = 0, k;
	json_t *j;
	char *t;

	if (utf8_valid(s, n))
		return json_stringn(s, n);
	if (n > (SIZE_MAX - 1) / 3 || !(t = malloc(3 * n + 1)))
		return NULL;
	while (i < n) {
		if ((k = utf8_len(p + i, n - i))) {
			memcpy(t + o, p + i, k);
			o += k;
			i += k;
		} else {
			memcpy(t + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	j = json_stringn(t, o);
	free(t);
	return j;
}

/* What went wrong, in words that never quote the input. */
static const char *
json_reason(const json_error_t *je)
{
	static const char *const fixed[] = {
		"invalid token", "unexpected token", "string or '}' expected",
		"':' expected", "'}' expected", "']' expected",
		"'[' or '{' expected", "invalid escape", "unexpected newline",
		"premature end of input",
	};
	size_t i, n;

	switch (json_error_code(je)) {
	case json_error_invalid_utf8:
		return "invalid UTF-8";
	case json_error_premature_end_of_input:
		return "premature end of input";
	case json_error_end_of_input_expected:
		return "trailing data after the object";
	case json_error_null_character:
		return "\\u0000 in a string";
	case json_error_null_byte_in_key:
		return "\\u0000 in an object key";
	case json_error_duplicate_key:
		return "duplicate object key";
	case json_error_numeric_overflow:
		return "number out of range";
	case json_error_stack_overflow:
		return "nested too deeply";
	case json_error_invalid_syntax:
		/* jansson appends " near '<input>'": keep only known texts. */
		for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
			n = strlen(fixed[i]);
			if (strncmp(je->text, fixed[i], n) == 0 &&
			    (je->text[n] == '\0' || je->text[n] == ' '))
				return fixed[i];
		}
		if (strncmp(je->text, "control character", 17) == 0)
			return "control character in a string";
		if (strncmp(je->text, "invalid Unicode", 15) == 0)
			return "invalid Unicode escape";
		return "syntax error";
	default:
		return "syntax error";
	}
}

/*
 * jansson cannot tell a failed allocation from bad input: in places it
 * drops what it could not store and reports a syntax error, in others
 * nothing at all. Its allocations go through this wrapper, which notes a
 * failure for the thread, so that a parse that failed because memory
 * ran out is never taken for the input's fault (and the input rejected
 * for good).
 */
static _Thread_local int json_alloc_failed;
static pthread_once_t json_alloc_once = PTHREAD_ONCE_INIT;

static void *
json_alloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		json_alloc_failed = 1;
	return p;
}

static void
json_alloc_install(void)
{
	json_set_alloc_funcs(json_alloc, free);
}

static json_t *
json_parse(const char *buf, size_t len, FILE *f, json_error_t *je,
    int *oom)
{
	json_t *j;

	pthread_once(&json_alloc_once, json_alloc_install);
	memset(je, 0, sizeof *je);
	json_alloc_failed = 0;
	j = f ? json_loadf(f, JSON_REJECT_DUPLICATES, je) :
	    json_loadb(buf, len, JSON_REJECT_DUPLICATES, je);
	*oom = !j && (json_alloc_failed ||
	    json_error_code(je) == json_error_out_of_memory);
	return j;
}

json_t *
dz_json_loadf(FILE *f, json_error_t *je, int *oom)
{
	return json_parse(NULL, 0, f, je, oom);
}

json_t *
dz_record_parse(const char *line, size_t len, struct dz_err *err)
{
	json_error_t je;
	json_t *j;
	int oom;

	j = json_parse(line, len, NULL, &je, &oom);
	if (!j) {
		if (oom)
			dz_err_set(err, EX_SOFTWARE, "out of memory");
		else
			dz_err_set(err, EX_DATAERR, "invalid JSON: %s at byte %d",
			    json_reason(&je), je.position);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		dz_err_set(err, EX_DATAERR, "record is not a JSON object");
		return NULL;
	}
	return j;
}

/* A shallow copy of rec with "type" moved first. */
static json_t *
type_first(json_t *rec, json_t *type)
{
	json_t *o = json_object();
	void *it;

	if (!o || json_object_set(o, "type", type) < 0)
		goto fail;
	for (it = json_object_iter(rec); it; it = json_object_iter_next(rec, it)) {
		const char *k = json_object_iter_key(it);
		size_t klen = json_object_iter_key_len(it);

		if (klen == 4 && memcmp(k, "type", 4) == 0)
			continue;
		if (json_object_setn_nocheck(o, k, klen,
		    json_object_iter_value(it)) < 0)
			goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

int
dz_record_write(FILE *out, const json_t *rec, struct dz_err *err)
{
	/* jansson's iterators take a non-const object; we only read it. */
	json_t *obj = (json_t *)rec, *copy = NULL, *type;
	char eb[128];
	int rc;

	if (!json_is_object(rec))
		return dz_err_set(err, EX_SOFTWARE, "record is not a JSON object");
	type = json_object_get(rec, "type");
	if (type && strcmp(json_object_iter_key(json_object_iter(obj)),
	    "type") != 0) {
		if (!(copy = type_first(obj, type)))
			return dz_err_set(err, EX_SOFTWARE, "out of memory");
		obj = copy;
	}
	errno = 0;
	rc = json_dumpf(obj, out, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(12));
	if (rc == 0 && putc('\n', out) == EOF)
		rc = -1;
	json_decref(copy);
	if (rc == 0)
		return 0;
	if (ferror(out))
		return dz_err_set(err, EX_IOERR, "write error: %s",
		    errstr(errno ? errno : EIO, eb, sizeof eb));
	return dz_err_set(err, EX_SOFTWARE, "cannot encode record");
}

json_t *
dz_record_new(const char *type)
{
	json_t *o = json_object();

	if (o && json_object_set_new(o, "type", string_lossy(type)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void
dz_record_put(json_t **rec, const char *key, json_t *v)
{
	if (*rec && (!v || json_object_set_new(*rec, key, v) != 0)) {
		json_decref(*rec);
		*rec = NULL;
	} else if (!*rec) {
		json_decref(v);
	}
}

int
dz_record_set_path(json_t *rec, const char *key, const char *path)
{
	static const char hex[] = "0123456789abcdef";
	size_t klen = strlen(key), n = strlen(path), i;
	char *hkey, *h;
	int rc = -1;

	if (!json_is_object(rec))
		return -1;
	if (!(hkey = malloc(klen + sizeof "_hex")))
		return -1;
	memcpy(hkey, key, klen);
	memcpy(hkey + klen, "_hex", sizeof "_hex");
	if (utf8_valid(path, n)) {
		if (json_object_set_new(rec, key, json_stringn(path, n)) == 0) {
			json_object_del(rec, hkey);	/* fails if absent: fine */
			rc = 0;
		}
		free(hkey);
		return rc;
	}
	if (n > (SIZE_MAX - 1) / 2 || !(h = malloc(2 * n + 1))) {
		free(hkey);
		return -1;
	}
	for (i = 0; i < n; i++) {
		h[2 * i] = hex[(unsigned char)path[i] >> 4];
		h[2 * i + 1] = hex[(unsigned char)path[i] & 0xf];
	}
	h[2 * n] = '\0';
	if (json_object_set_new(rec, key, string_lossy(path)) == 0 &&
	    json_object_set_new(rec, hkey, json_stringn(h, 2 * n)) == 0)
		rc = 0;
	free(h);
	free(hkey);
	return rc;
}

json_t *
dz_record_error(const char *program, const char *reason)
{
	json_t *o = dz_record_new("error");

	if (!o)
		return NULL;
	if (json_object_set_new(o, "program", string_lossy(program)) < 0 ||
	    json_object_set_new(o, "reason", string_lossy(reason)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*** Output stream policy ***/

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
		    errstr(e, eb, sizeof eb));
	return dz_err_set(err, EX_IOERR, "write error");
}

const char *
dz_term_name(const char *name, char *out, size_t n)
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
	fputs(a, out);
	if (b)
		fputs(b, out);
	return dz_out_close(out, err);
}
