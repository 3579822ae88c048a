/*
 * Checking a record's members against a table. See recordcheck.h.
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/recordcheck.h"

#define PLAIN_MAX 32

int
dz_recordcheck_plain(const char *s)
{
	size_t n = 0;

	if (!s || !*s)
		return 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (n >= PLAIN_MAX || !((c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

const char *
dz_recordcheck_kind_of(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "real";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	case JSON_NULL: return "null";
	case JSON_ARRAY: return "array";
	case JSON_OBJECT: return "object";
	}
	return "value";
}

static const char *
kind_name(enum dz_recordcheck_kind k)
{
	switch (k) {
	case DZ_RC_STRING: return "string";
	case DZ_RC_INTEGER: return "integer";
	case DZ_RC_BOOLEAN: return "boolean";
	case DZ_RC_OBJECT: return "object";
	case DZ_RC_STRINGS: return "array of strings";
	}
	return "value";
}

/*
 * A kind's name as a message says it: "an integer", "a string"; null,
 * "nothing", a quoted value or a phrase ("one of ...") as they are.
 */
static const char *
with_article(char *buf, size_t size, const char *w)
{
	static const char *const bare[] = { "null", "nothing", "one of",
	    "no such", "another", "'", NULL };

	for (size_t i = 0; bare[i]; i++)
		if (strncmp(w, bare[i], strlen(bare[i])) == 0)
			return snprintf(buf, size, "%s", w), buf;
	snprintf(buf, size, "%s %s", strchr("aeiou", w[0]) ? "an" : "a", w);
	return buf;
}

static int
kind_ok(enum dz_recordcheck_kind k, const json_t *v)
{
	switch (k) {
	case DZ_RC_STRING: return json_is_string(v);
	case DZ_RC_INTEGER: return json_is_integer(v);
	case DZ_RC_BOOLEAN: return json_is_boolean(v);
	case DZ_RC_OBJECT: return json_is_object(v);
	case DZ_RC_STRINGS:
		if (!json_is_array(v))
			return 0;
		for (size_t i = 0; i < json_array_size(v); i++)
			if (!json_is_string(json_array_get(v, i)))
				return 0;
		return 1;
	}
	return 0;
}

const struct dz_recordcheck_type *
dz_recordcheck_find(const struct dz_recordcheck_type *types, const char *name)
{
	if (!name)
		return NULL;
	for (; types->type; types++)
		if (strcmp(types->type, name) == 0)
			return types;
	return NULL;
}

static const struct dz_recordcheck_member *
find_member(const struct dz_recordcheck_type *t, const char *name)
{
	for (const struct dz_recordcheck_member *m = t->members; m->name; m++)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

int
dz_recordcheck_add(json_t **errors, const char *member, size_t index,
    const char *expected, const char *got, const char *message,
    struct dz_err *err)
{
	char m[DZ_ERR_MAX];
	json_t *e;

	if (!message) {
		char a[80], b[80];
		if (got)
			snprintf(m, sizeof m, "%s: expected %s, got %s", member,
			    with_article(a, sizeof a, expected ? expected : "value"),
			    with_article(b, sizeof b, got));
		else
			snprintf(m, sizeof m, "%s: expected %s", member,
			    with_article(a, sizeof a, expected ? expected : "value"));
		message = m;
	}
	if (!*errors && !(*errors = json_array()))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	e = json_object();
	if (!e || json_object_set_new(e, "member", json_string(member)) ||
	    (index && json_object_set_new(e, "index",
	    json_integer((json_int_t)index))) ||
	    (expected && json_object_set_new(e, "expected",
	    json_string(expected))) ||
	    (got && json_object_set_new(e, "got", json_string(got))) ||
	    json_object_set_new(e, "message", json_string(message)) ||
	    json_array_append_new(*errors, e)) {
		json_decref(e);
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	}
	return 0;
}

/* "one of a, b, c" into buf. */
static void
values_text(const char *const *values, char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "one of");

	for (size_t i = 0; values[i] && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s %s", i ? "," : "",
		    values[i]);
}

static int
check_member(const struct dz_recordcheck_member *m, const json_t *v,
    json_t **errors, struct dz_err *err)
{
	char exp[120], got[80];
	const char *k = kind_name(m->kind);

	if (json_is_null(v) && !(m->flags & (DZ_RC_REQUIRED | DZ_RC_NOTNULL)))
		return 0;
	if (!kind_ok(m->kind, v)) {
		const char *g = dz_recordcheck_kind_of(v);
		if (m->kind == DZ_RC_STRINGS && json_is_array(v))
			g = "array holding something else";
		return dz_recordcheck_add(errors, m->name, 0, k, g, NULL, err) ?
		    -1 : 1;
	}
	if (m->kind == DZ_RC_STRING && m->values) {
		const char *s = json_string_value(v);
		for (size_t i = 0; m->values[i]; i++)
			if (strcmp(m->values[i], s) == 0)
				return 0;
		values_text(m->values, exp, sizeof exp);
		if (dz_recordcheck_plain(s))
			snprintf(got, sizeof got, "'%s'", s);
		else
			snprintf(got, sizeof got, "another string");
		return dz_recordcheck_add(errors, m->name, 0, exp, got, NULL, err) ?
		    -1 : 1;
	}
	return 0;
}

int
dz_recordcheck_run(const struct dz_recordcheck_type *t, const json_t *rec,
    json_t **errors, struct dz_err *err)
{
	char msg[DZ_ERR_MAX], exp[40];
	const char *key;
	json_t *v;
	int n = 0, r;

	json_object_foreach((json_t *)rec, key, v) {
		const struct dz_recordcheck_member *m;

		if (strcmp(key, "type") == 0)
			continue;
		if (!(m = find_member(t, key))) {
			int plain = dz_recordcheck_plain(key);
			snprintf(msg, sizeof msg, "%s: not a member of %s %s "
			    "record", plain ? key : "a member with an unusual name",
			    strchr("aeiou", t->type[0]) ? "an" : "a", t->type);
			if (dz_recordcheck_add(errors, plain ? key : "?", 0,
			    "no such member", NULL, msg, err))
				return -1;
			n++;
			continue;
		}
		if ((r = check_member(m, v, errors, err)) < 0)
			return -1;
		n += r;
	}
	for (const struct dz_recordcheck_member *m = t->members; m->name; m++) {
		if (!(m->flags & DZ_RC_REQUIRED))
			continue;
		v = json_object_get(rec, m->name);
		if (v && !json_is_null(v))
			continue;
		if (v)		/* null: told by check_member already */
			continue;
		snprintf(msg, sizeof msg, "%s: missing; %s %s record needs "
		    "%s", m->name, strchr("aeiou", t->type[0]) ? "an" : "a",
		    t->type, with_article(exp, sizeof exp, kind_name(m->kind)));
		if (dz_recordcheck_add(errors, m->name, 0, kind_name(m->kind),
		    "nothing", msg, err))
			return -1;
		n++;
	}
	return n;
}

char *
dz_recordcheck_reason(const json_t *errors, char *buf, size_t size)
{
	size_t n = 0;

	if (!size)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < json_array_size(errors); i++) {
		const char *m = json_string_value(json_object_get(
		    json_array_get(errors, i), "message"));
		size_t len;

		if (!m)
			continue;
		len = strlen(m) + (n ? 2 : 0);
		if (n + len >= size) {
			if (size > 4) {
				size_t at = n + 3 < size ? n : size - 4;
				memcpy(buf + at, "...", 4);
			}
			break;
		}
		n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? "; " : "", m);
	}
	return buf;
}

/* Levenshtein distance of two short words, capped at limit + 1. */
static size_t
distance(const char *a, const char *b, size_t limit)
{
	size_t la = strlen(a), lb = strlen(b), row[PLAIN_MAX + 1];

	if (la > PLAIN_MAX || lb > PLAIN_MAX)
		return limit + 1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb] > limit ? limit + 1 : row[lb];
}

const char *
dz_recordcheck_suggest(const struct dz_recordcheck_type *types,
    const char *name)
{
	const char *best = NULL;
	size_t bd = 3;

	if (!dz_recordcheck_plain(name))
		return NULL;
	for (; types->type; types++) {
		size_t d = distance(name, types->type, 2);
		if (d < bd) {
			bd = d;
			best = types->type;
		}
	}
	return best;
}
