/*
 * lib/core/record: JSON Lines records.
 *
 * A record is one UTF-8 JSON object on one line, "type" first (see
 * dz-records(5)). dz_record_parse() turns one line (from lib/core/reader)
 * into a jansson object; dz_record_write() writes one to a stdio stream
 * prepared by lib/core/out. Between the two: building records, file names
 * as "path"/"path_hex", error records.
 *
 * Nothing here prints or exits; failures fill a struct dz_err whose
 * message never quotes input content.
 *
 * May use: core/ (err, hex); jansson.
 */
#ifndef DZ_RECORD_H
#define DZ_RECORD_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

struct dz_err;

/*
 * Parse one line as a JSON object: strict UTF-8, no duplicate keys, no
 * \u0000, nothing after the object. Returns a new reference (the caller
 * json_decref()s it), or NULL with err: EX_DATAERR "invalid JSON: <what>
 * at byte N" (never quoting the input) or "record is not a JSON object";
 * EX_SOFTWARE "out of memory".
 */
json_t *dz_record_parse(const char *line, size_t len, struct dz_err *err);

/*
 * Parse a whole file as one JSON value (no duplicate keys). NULL on
 * failure, with *oom set when memory ran out (jansson's error then says
 * nothing true of the input) and je describing the input's fault
 * otherwise.
 */
json_t *dz_record_loadf(FILE *f, json_error_t *je, int *oom);

/*
 * Write rec to out as one compact line: "type" first when present, then
 * the other keys in insertion order; UTF-8 as is (no \u escapes except
 * for control characters); a newline. rec is not modified or consumed.
 * Integers print as integers, reals with 17 significant digits (store
 * counts as json_integer). Returns 0, or -1 with EX_IOERR "write error:
 * ..." (EX_SOFTWARE when out of memory, EX_SOFTWARE when rec is not an
 * object). With stdio buffering a failure may only show at dz_out_close()
 * (lib/core/out.h).
 */
int dz_record_write(FILE *out, const json_t *rec, struct dz_err *err);

/* A new object {"type": type}; the caller owns it. NULL: out of memory. */
json_t *dz_record_new(const char *type);

/*
 * Set (*rec)[key] to v, taking v (which may be NULL: an allocation that
 * failed). If v is NULL or the member cannot be added, *rec is released
 * and set to NULL, so that a record is whole or absent: never printed
 * without one of its members. With *rec already NULL, v is released.
 * Build a record with a run of these, then test it once.
 */
void dz_record_put(json_t **rec, const char *key, json_t *v);

/*
 * Set rec[key] to a file name, which is bytes and not always UTF-8.
 * A valid UTF-8 path is stored as is, and any stale key "_hex" member is
 * removed. Otherwise rec[key] gets the path with every byte that is not
 * part of a valid UTF-8 sequence replaced by U+FFFD (one per byte), and
 * rec[key "_hex"] gets the raw bytes in lowercase hex, so that the exact
 * name can be recovered: {"path":"caf\ufffd.jpg","path_hex":"636166e92e6a7067"}.
 * Returns 0, or -1 when out of memory or rec is not an object.
 */
int dz_record_set_path(json_t *rec, const char *key, const char *path);

/*
 * {"type":"error","program":program,"reason":reason}, a new object the
 * caller owns; the caller adds "path" (dz_record_set_path) or "line"
 * (json_integer). Invalid UTF-8 in the arguments is replaced by U+FFFD.
 * NULL: out of memory.
 */
json_t *dz_record_error(const char *program, const char *reason);

#endif
