/*
 * t/fuzz/record.c: JSON Lines in, as every program reads it: lib/core/record's
 * line reader over the input (a FILE from fmemopen, with '\n' and CR
 * stripping, then with '\0'), dz_record_parse on each line, dz-match's
 * --hashes line parser (dz_match_in_parse: hash records, bare hashes,
 * video records with their vpdq), lib/hash/vpdqsig's dz_vpdqsig_from_json on a
 * record's "vpdq", and writing each parsed record back (dz_record_write),
 * which must give a line that parses to an equal object.
 *
 * lib/core/recordcheck runs on each parsed record against a table with
 * every kind of member: the count it returns is the number of entries,
 * each with a member and a message, and the reason fits its buffer.
 * lib/work/ingest's value checks are not here: they need an open store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/err.h"
#include "work/match.h"
#include "core/reader.h"
#include "core/record.h"
#include "core/recordcheck.h"
#include "hash/vpdqsig.h"

#include "fuzz.h"

/* Small, so that over-long lines happen. */
#define FZ_MAX_LINE 4096

static void
write_back(const json_t *rec)
{
	struct dz_err err;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_t *again;

	if (!f)
		fz_fail("open_memstream failed");
	if (dz_record_write(f, rec, &err) != 0)
		fz_fail("dz_record_write failed on a parsed record");
	if (fclose(f) != 0)
		fz_fail("fclose failed");
	if (len == 0 || buf[len - 1] != '\n' || memchr(buf, '\n', len - 1))
		fz_fail("dz_record_write did not write one line");
	if (!(again = dz_record_parse(buf, len - 1, &err)))
		fz_fail("a written record does not parse");
	if (!json_equal((json_t *)rec, again))
		fz_fail("a written record reads back different");
	json_decref(again);
	free(buf);
}

static const char *const fz_values[] = { "adult_ncii", "minor", NULL };
static const struct dz_recordcheck_member fz_members[] = {
	{ "item", DZ_RC_STRING, DZ_RC_REQUIRED, NULL },
	{ "age", DZ_RC_INTEGER, 0, NULL },
	{ "category", DZ_RC_STRING, 0, fz_values },
	{ "followup", DZ_RC_BOOLEAN, DZ_RC_NOTNULL, NULL },
	{ "urls", DZ_RC_STRINGS, 0, NULL },
	{ "contact", DZ_RC_OBJECT, 0, NULL },
	{ NULL, 0, 0, NULL },
};
static const struct dz_recordcheck_type fz_type = { "verdict", fz_members };

static void
check_members(const json_t *rec)
{
	struct dz_err err;
	json_t *errors = NULL;
	char reason[DZ_ERR_MAX];
	int n = dz_recordcheck_run(&fz_type, rec, &errors, &err);

	if (n < 0) {
		if (err.code != EX_SOFTWARE)
			fz_fail("dz_recordcheck_run failed without running out of memory");
		json_decref(errors);
		return;
	}
	if ((size_t)n != json_array_size(errors) || (n == 0) != (errors == NULL))
		fz_fail("dz_recordcheck_run counted other than it listed");
	for (size_t i = 0; i < json_array_size(errors); i++) {
		const json_t *e = json_array_get(errors, i);
		const char *m = json_string_value(json_object_get(e, "message"));
		if (!json_string_value(json_object_get(e, "member")) || !m || !*m)
			fz_fail("a fault without its member or message");
	}
	if (strlen(dz_recordcheck_reason(errors, reason, sizeof reason)) >=
	    sizeof reason || (n > 0 && !reason[0]))
		fz_fail("a reason that does not fit or says nothing");
	json_decref(errors);
}

static void
one_line(const char *line, size_t len)
{
	struct dz_match_in in;
	struct dz_err err;
	json_t *rec;

	if ((rec = dz_record_parse(line, len, &err)) != NULL) {
		json_t *v = json_object_get(rec, "vpdq");
		struct dz_vpdqsig sig;

		if (!json_is_object(rec))
			fz_fail("dz_record_parse gave a non-object");
		write_back(rec);
		check_members(rec);
		if (v && dz_vpdqsig_from_json(v, &sig, 1000, &err) == 0) {
			json_t *j = dz_vpdqsig_to_json(&sig);

			if (!j)
				fz_fail("dz_vpdqsig_to_json failed");
			if (json_array_size(j) != sig.n)
				fz_fail("vpdq JSON lost frames");
			json_decref(j);
			dz_vpdqsig_release(&sig);
		}
		json_decref(rec);
	} else if (err.code != EX_DATAERR && err.code != EX_SOFTWARE) {
		fz_fail("dz_record_parse failed without a reason");
	}

	if (dz_match_in_parse(line, len, &in, &err) == 0) {
		if (in.kind == DZ_MATCH_IN_VIDEO && (!in.vpdq ||
		    in.vpdq->n == 0))
			fz_fail("a video input without frames");
		if (in.kind == DZ_MATCH_IN_HASH && in.ndihedral != 0 &&
		    in.ndihedral != DZ_PDQ_NDIHEDRAL)
			fz_fail("a hash with a partial set of dihedral hashes");
	} else if (err.code != EX_DATAERR && err.code != EX_SOFTWARE) {
		fz_fail("dz_match_in_parse failed without a reason");
	}
	dz_match_in_release(&in);
}

static void
read_all(const uint8_t *data, size_t size, int delim, unsigned flags)
{
	FILE *f;
	struct dz_reader *r;
	struct dz_err err;
	const char *line;
	size_t len, last = 0;
	int rc;

	/* fmemopen cannot open an empty buffer in every libc version */
	if (size == 0)
		return;
	if (!(f = fmemopen((void *)data, size, "r")))
		fz_fail("fmemopen failed");
	if (!(r = dz_reader_new(f, delim, FZ_MAX_LINE, flags, &err)))
		fz_fail("dz_reader_new failed");
	while ((rc = dz_reader_next(r, &line, &len, &err)) != 0) {
		if (rc == -2)
			fz_fail("read error from memory");
		if (dz_reader_lineno(r) != last + 1)
			fz_fail("line numbers do not follow");
		last = dz_reader_lineno(r);
		if (rc == -1) {
			if (line)
				fz_fail("a bad line has a line");
			continue;
		}
		if (len > FZ_MAX_LINE || line[len] != '\0' ||
		    (delim == '\n' && memchr(line, '\0', len)) ||
		    memchr(line, delim, len))
			fz_fail("a line breaks the reader's promises");
		if (delim == '\n')
			one_line(line, len);
	}
	dz_reader_free(r);
	fclose(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	read_all(data, size, '\n', DZ_READER_STRIP_CR);
	read_all(data, size, '\n', 0);
	read_all(data, size, '\0', 0);
	return 0;
}
