#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/hex.h"
#include "core/record.h"

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
dz_record_loadf(FILE *f, json_error_t *je, int *oom)
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
		    dz_err_strerror(errno ? errno : EIO, eb, sizeof eb));
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
	size_t klen = strlen(key), n = strlen(path);
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
	dz_hex_encode(h, path, n);
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
