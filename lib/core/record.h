/*
 * lib/record: JSON Lines in and out.
 *
 * A record is one UTF-8 JSON object on one line, "type" first (see
 * dz-records(5)). Reading is split in two: struct dz_reader cuts a stream
 * into lines (or NUL-terminated entries) with one reusable, bounded buffer,
 * and dz_record_parse() turns one line into a jansson object. Writing is
 * dz_record_write() on a stdio stream prepared with dz_out_init() and
 * closed with dz_out_close().
 *
 * Nothing here prints or exits; failures fill a struct dz_err (lib/err.h)
 * whose message never quotes input content.
 */
#ifndef DZ_RECORD_H
#define DZ_RECORD_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

struct dz_err;

/*** Line reader ***/

/* Strip one CR before the LF ("\r\n" line ends); only with delim '\n'. */
#define DZ_READER_STRIP_CR 0x1

/* Longest record line accepted when dz_reader_new() is given 0. */
#define DZ_READER_MAX_DEFAULT (16u * 1024 * 1024)

struct dz_reader;

/*
 * Read f (not owned: the caller closes it) as lines ending in delim, '\n'
 * or '\0'. Lines longer than max_line bytes (delimiter excluded; 0 means
 * DZ_READER_MAX_DEFAULT) are skipped, never stored: memory stays bounded
 * by max_line whatever the input. flags: DZ_READER_STRIP_CR or 0.
 * Returns NULL with err filled on bad arguments (EX_SOFTWARE) or when out
 * of memory (EX_SOFTWARE). Free with dz_reader_free().
 *
 * The reader takes bytes from f with getc_unlocked() and returns a line
 * as soon as its delimiter arrives: it never waits for more input than
 * that, so records from a pipe are processed as they come.
 */
struct dz_reader *dz_reader_new(FILE *f, int delim, size_t max_line,
    unsigned flags, struct dz_err *err);

/*
 * The next line.
 *   1  *line is the line without its delimiter (and without the CR with
 *      DZ_READER_STRIP_CR), NUL-terminated, *len bytes long (0 for an empty
 *      line). The buffer belongs to the reader and is valid until the next
 *      call or dz_reader_free().
 *   0  end of input. A last line without a delimiter is still returned
 *      (as 1) first; empty input gives 0 at once. Later calls return 0.
 *  -1  a bad line was read and skipped; err (EX_DATAERR) says why:
 *      "line 12: too long (more than 16 bytes)" or, with delim '\n',
 *      "line 12: contains a NUL byte" ("entry 12: ..." with delim '\0').
 *      *line is NULL. Call again for the next line.
 *  -2  fatal: read error (EX_IOERR "read error: ...") or out of memory
 *      (EX_SOFTWARE). Later calls return -2 again.
 */
int dz_reader_next(struct dz_reader *r, const char **line, size_t *len,
    struct dz_err *err);

/* 1-based number of the line last returned (bad lines count); 0 before. */
size_t dz_reader_lineno(const struct dz_reader *r);

/* Free r and its buffer (not the FILE). NULL is fine. */
void dz_reader_free(struct dz_reader *r);

/*** Records ***/

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
json_t *dz_json_loadf(FILE *f, json_error_t *je, int *oom);

/*
 * Write rec to out as one compact line: "type" first when present, then
 * the other keys in insertion order; UTF-8 as is (no \u escapes except
 * for control characters); a newline. rec is not modified or consumed.
 * Integers print as integers, reals with 17 significant digits (store
 * counts as json_integer). Returns 0, or -1 with EX_IOERR "write error:
 * ..." (EX_SOFTWARE when out of memory, EX_SOFTWARE when rec is not an
 * object). With stdio buffering a failure may only show at dz_out_close().
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

/*
 * A file name fit for a terminal, into out[n]: every control character
 * (and DEL) becomes '?', so that a name cannot move the cursor or change
 * colours on the operator's screen; cut at n - 1 bytes. Returns out.
 */
const char *dz_term_name(const char *name, char *out, size_t n);

/*
 * Write the texts a and b (b may be NULL) to out and close it, as -h and
 * -V do: 0, or -1 with EX_IOERR when the writing failed (>/dev/full).
 */
int dz_out_text(FILE *out, const char *a, const char *b, struct dz_err *err);

/*** Output stream policy ***/

/*
 * Call before the first write to out: when out is a pipe, a socket or a
 * terminal, make it line buffered so that each record reaches the next
 * stage at once; a regular file keeps full buffering.
 */
void dz_out_init(FILE *out);

/*
 * Flush and close out, reporting any write error seen on it, now or
 * earlier: returns 0, or -1 with EX_IOERR "write error: No space left on
 * device". out is closed in both cases.
 */
int dz_out_close(FILE *out, struct dz_err *err);

#endif
