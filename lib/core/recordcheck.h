/*
 * lib/core/recordcheck: checking a record's members against a table.
 *
 * A reader that takes records as orders (dz-ingest) describes each type
 * it takes as a table of members: name, JSON type, required or optional,
 * and for a string the values allowed. dz_recordcheck_run() checks one
 * record against its table and collects every fault, not only the first,
 * into one JSON array of error entries:
 *
 *   {"member":"age","expected":"integer","got":"string",
 *    "message":"age: expected an integer, got a string"}
 *
 * The reader adds its own checks of values to the same array with
 * dz_recordcheck_add(), and dz_recordcheck_reason() joins the messages
 * into one readable reason. A message never quotes a member's value;
 * a member's name or a type is quoted only when it is a plain word
 * (letters, digits and _-, at most 32 bytes).
 *
 * May use: core/ (err); jansson.
 */
#ifndef DZ_RECORDCHECK_H
#define DZ_RECORDCHECK_H

#include <stddef.h>

#include <jansson.h>

struct dz_err;

enum dz_recordcheck_kind {
	DZ_RC_STRING,
	DZ_RC_INTEGER,
	DZ_RC_BOOLEAN,
	DZ_RC_OBJECT,
	DZ_RC_STRINGS		/* an array of strings */
};

/* flags */
#define DZ_RC_REQUIRED	1	/* must be present and not null */
#define DZ_RC_NOTNULL	2	/* optional, but null is not taken as absent */

struct dz_recordcheck_member {
	const char *name;		/* NULL ends a table */
	enum dz_recordcheck_kind kind;
	unsigned flags;
	const char *const *values;	/* a string's allowed values, NULL-ended;
					 * NULL: any string */
};

struct dz_recordcheck_type {
	const char *type;		/* NULL ends a list of types */
	const struct dz_recordcheck_member *members;	/* "type" implied */
};

/* The entry of types for name, or NULL when it is not among them. */
const struct dz_recordcheck_type *dz_recordcheck_find(
    const struct dz_recordcheck_type *types, const char *name);

/*
 * The type among types nearest to name (at most two letters added,
 * removed or changed: "remove" for "removed"), or NULL.
 */
const char *dz_recordcheck_suggest(const struct dz_recordcheck_type *types,
    const char *name);

/*
 * Check rec against t: every member of rec must be "type" or in the
 * table, of its kind (null counts as absent for an optional member
 * without DZ_RC_NOTNULL), a string among its values; every required
 * member present. Faults are appended to *errors (created when NULL).
 * Returns the number of faults found, or -1 with EX_SOFTWARE when out of
 * memory.
 */
int dz_recordcheck_run(const struct dz_recordcheck_type *t, const json_t *rec,
    json_t **errors, struct dz_err *err);

/*
 * Append one fault to *errors (created when NULL): member (quoted as is:
 * a name the caller knows), index (1-based place in a list, or 0),
 * expected and got (each may be NULL), and message: when NULL,
 * "MEMBER: expected EXPECTED, got GOT". Returns 0, or -1 with
 * EX_SOFTWARE when out of memory.
 */
int dz_recordcheck_add(json_t **errors, const char *member, size_t index,
    const char *expected, const char *got, const char *message,
    struct dz_err *err);

/* "string", "integer", "real", "boolean", "null", "array" or "object". */
const char *dz_recordcheck_kind_of(const json_t *v);

/*
 * The messages of errors joined with "; " into buf (cut, with "...", when
 * they do not fit). Returns buf.
 */
char *dz_recordcheck_reason(const json_t *errors, char *buf, size_t size);

/* Whether s is a plain word that a message may quote. */
int dz_recordcheck_plain(const char *s);

#endif
