/*
 * lib/core/recordcheck: a record checked against its member table, every
 * fault collected, messages that say why and never quote a value.
 */
#include <string.h>

#include <jansson.h>

#include "core/err.h"
#include "core/recordcheck.h"
#include "tap.h"

static const char *const colours[] = { "red", "green", NULL };
static const struct dz_recordcheck_member paint[] = {
	{ "id", DZ_RC_STRING, DZ_RC_REQUIRED, NULL },
	{ "coats", DZ_RC_INTEGER, DZ_RC_REQUIRED, NULL },
	{ "colour", DZ_RC_STRING, 0, colours },
	{ "glossy", DZ_RC_BOOLEAN, DZ_RC_NOTNULL, NULL },
	{ "walls", DZ_RC_STRINGS, 0, NULL },
	{ "where", DZ_RC_OBJECT, 0, NULL },
	{ NULL, 0, 0, NULL },
};
static const struct dz_recordcheck_type types[] = {
	{ "paint", paint },
	{ "removed", paint },
	{ NULL, NULL },
};

/* The faults of one record given as JSON text; -2 if it does not parse. */
static int
run(const char *js, json_t **errors)
{
	struct dz_err err;
	json_t *rec = json_loads(js, 0, NULL);
	int n;

	*errors = NULL;
	if (!rec)
		return -2;
	n = dz_recordcheck_run(&types[0], rec, errors, &err);
	json_decref(rec);
	return n;
}

static const char *
message(const json_t *errors, size_t i)
{
	const char *m = json_string_value(json_object_get(json_array_get(errors,
	    i), "message"));
	return m ? m : "";
}

static const char *
member(const json_t *errors, size_t i)
{
	const char *m = json_string_value(json_object_get(json_array_get(errors,
	    i), "member"));
	return m ? m : "";
}

int
main(void)
{
	struct dz_err err;
	json_t *e = NULL;
	char buf[DZ_ERR_MAX], small[40];
	int n;

	n = run("{\"type\":\"paint\",\"id\":\"a\",\"coats\":2,\"colour\":\"red\","
	    "\"glossy\":false,\"walls\":[\"n\",\"s\"],\"where\":{}}", &e);
	ok(n == 0 && e == NULL, "a good record: no fault, no array");
	n = run("{\"type\":\"paint\",\"id\":\"a\",\"coats\":2,\"colour\":null,"
	    "\"walls\":null,\"where\":null}", &e);
	ok(n == 0, "null is an absent optional member");
	json_decref(e);

	n = run("{\"type\":\"paint\",\"id\":\"a\",\"coats\":\"2\"}", &e);
	ok(n == 1 && strcmp(member(e, 0), "coats") == 0 &&
	    strcmp(message(e, 0), "coats: expected an integer, got a string") == 0,
	    "wrong JSON type: member, expected, got (%s)", message(e, 0));
	ok(strcmp(json_string_value(json_object_get(json_array_get(e, 0),
	    "expected")), "integer") == 0 && strcmp(json_string_value(
	    json_object_get(json_array_get(e, 0), "got")), "string") == 0,
	    "expected and got are members of the entry");
	json_decref(e);

	n = run("{\"type\":\"paint\",\"coats\":1.5,\"colour\":\"blue\","
	    "\"glossy\":null,\"walls\":[\"n\",3],\"shade\":1}", &e);
	ok(n == 6, "every fault of the record is collected (%d)", n);
	ok(strcmp(message(e, 0), "coats: expected an integer, got a real") == 0,
	    "a real for an integer (%s)", message(e, 0));
	ok(strcmp(message(e, 1), "colour: expected one of red, green, got "
	    "'blue'") == 0, "a value not allowed (%s)", message(e, 1));
	ok(strcmp(message(e, 2), "glossy: expected a boolean, got null") == 0,
	    "null refused where it is not absence (%s)", message(e, 2));
	ok(strcmp(message(e, 3), "walls: expected an array of strings, got an "
	    "array holding something else") == 0, "an array holding a number "
	    "(%s)", message(e, 3));
	ok(strcmp(message(e, 4), "shade: not a member of a paint record") == 0,
	    "an unknown member (%s)", message(e, 4));
	ok(strcmp(message(e, 5), "id: missing; a paint record needs a string")
	    == 0, "a required member missing (%s)", message(e, 5));
	dz_recordcheck_reason(e, buf, sizeof buf);
	ok(strncmp(buf, "coats: expected an integer, got a real; colour: ", 48)
	    == 0, "the reason joins the messages (%s)", buf);
	dz_recordcheck_reason(e, small, sizeof small);
	ok(strlen(small) < sizeof small && strstr(small, "..."),
	    "a reason that does not fit is cut with ... (%s)", small);
	json_decref(e);

	n = run("{\"type\":\"paint\",\"id\":\"a\",\"coats\":1,\"colour\":\"a b\","
	    "\"my secret name\":1}", &e);
	ok(n == 2 && !strstr(message(e, 0), "a b") &&
	    strstr(message(e, 0), "another string"),
	    "a value that is not a plain word is not quoted (%s)", message(e, 0));
	ok(!strstr(message(e, 1), "secret") && strcmp(member(e, 1), "?") == 0,
	    "nor a member name (%s)", message(e, 1));
	json_decref(e);

	e = NULL;
	ok(dz_recordcheck_add(&e, "urls", 2, "an http or https URL",
	    "has a trailing space", "urls: URL 2 has a trailing space", &err) == 0
	    && json_integer_value(json_object_get(json_array_get(e, 0),
	    "index")) == 2, "add: a fault of a value, with its index");
	ok(dz_recordcheck_add(&e, "age", 0, "integer", "string", NULL, &err) == 0
	    && strcmp(message(e, 1), "age: expected an integer, got a string") == 0
	    && !json_object_get(json_array_get(e, 1), "index"),
	    "add: the default message, no index when 0 (%s)", message(e, 1));
	json_decref(e);

	ok(dz_recordcheck_find(types, "removed") == &types[1] &&
	    dz_recordcheck_find(types, "remove") == NULL &&
	    dz_recordcheck_find(types, NULL) == NULL, "find: exact names only");
	ok(dz_recordcheck_suggest(types, "remove") &&
	    strcmp(dz_recordcheck_suggest(types, "remove"), "removed") == 0,
	    "suggest: remove -> removed");
	ok(dz_recordcheck_suggest(types, "pant") &&
	    strcmp(dz_recordcheck_suggest(types, "pant"), "paint") == 0 &&
	    dz_recordcheck_suggest(types, "verdict") == NULL &&
	    dz_recordcheck_suggest(types, "a b") == NULL,
	    "suggest: near names only, plain words only");
	ok(dz_recordcheck_plain("age_unknown") && !dz_recordcheck_plain("") &&
	    !dz_recordcheck_plain("a.b") && !dz_recordcheck_plain(
	    "abcdefghijabcdefghijabcdefghijabc"), "plain: letters, digits, _-, "
	    "at most 32 bytes");
	return tap_done();
}
