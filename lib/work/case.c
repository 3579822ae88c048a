/*
 * lib/work/case: the case file. See case.h.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/err.h"
#include "core/hex.h"
#include "core/out.h"
#include "store/store.h"
#include "store/storecase.h"
#include "work/case.h"

int
dz_case_id_ok(const char *s)
{
	/* Crockford's base32: digits and capitals but I, L, O and U */
	static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

	return s && strlen(s) == DZ_CASE_ID_LEN &&
	    strspn(s, b32) == DZ_CASE_ID_LEN;
}

int
dz_case_entry_ok(const char *s)
{
	size_t i;

	if (!s || strlen(s) != 32)
		return 0;
	for (i = 0; i < 32; i++)
		if (dz_hex_digit((unsigned char)s[i], DZ_HEX_LOWER) < 0)
			return 0;
	return 1;
}

int
dz_case_of_entry(struct dz_store *s, const char *entry_id,
    char case_id[DZ_CASE_ID_LEN + 1], struct dz_err *err)
{
	int k;

	if (!dz_case_entry_ok(entry_id))
		return dz_err_set(err, EX_DATAERR, "not an entry id "
		    "(32 hexadecimal digits)");
	if ((k = dz_store_case_of_entry(s, entry_id, case_id, err)) < 0)
		return -1;
	return k ? 0 : dz_err_set(err, EX_DATAERR, "no case holds this entry");
}

struct file_ctx {
	dz_store_row_fn fn;
	void *ctx;
	int stopped;
};

static int
pass(json_t *row, void *arg)
{
	struct file_ctx *f = arg;

	if (f->fn(row, f->ctx))
		f->stopped = 1;
	return f->stopped;
}

int
dz_case_file(struct dz_store *s, const char *case_id, dz_store_row_fn fn,
    void *ctx, struct dz_err *err)
{
	struct file_ctx f = { fn, ctx, 0 };
	json_t *row = NULL;
	int k, part, rc = -1;

	if (!dz_case_id_ok(case_id))
		return dz_err_set(err, EX_DATAERR, "not a case id (10 "
		    "characters of Crockford's base32)");
	if (dz_store_read_begin(s, err))
		return -1;
	if ((k = dz_store_case_get(s, case_id, &row, err)) <= 0) {
		if (k == 0)
			dz_err_set(err, EX_DATAERR, "no such case");
		goto out;
	}
	if (pass(row, &f))
		goto stopped;
	for (part = 0; part < DZ_CASE_NPARTS; part++) {
		if (dz_store_case_part(s, case_id, (enum dz_case_part)part,
		    pass, &f, err))
			goto out;
		if (f.stopped)
			goto stopped;
	}
	rc = 0;
	goto out;
stopped:
	dz_err_set(err, EX_IOERR, "stopped");
out:
	dz_store_read_end(s);
	return rc;
}

/* ---------- text ---------- */

static const char *
str(const json_t *rec, const char *key)
{
	return json_string_value(json_object_get(rec, key));
}

/* A value for the terminal: control characters become '?'. */
static const char *
safe(const char *v, char *buf, size_t n)
{
	return v ? dz_out_term_name(v, buf, n) : "-";
}

/* " label value" for each field present, in this order. */
static void
fields(FILE *f, const json_t *rec, const char *const *keys)
{
	char buf[512];
	const json_t *v;

	for (; *keys; keys += 2) {
		v = json_object_get(rec, keys[0]);
		if (!v || json_is_null(v))
			continue;
		if (json_is_string(v) && !keys[1][0])
			fprintf(f, "  %s", safe(json_string_value(v), buf,
			    sizeof buf));
		else if (json_is_string(v))
			fprintf(f, "  %s %s", keys[1],
			    safe(json_string_value(v), buf, sizeof buf));
		else if (json_is_integer(v))
			fprintf(f, "  %s %lld", keys[1],
			    (long long)json_integer_value(v));
		else if (json_is_true(v))
			fprintf(f, "  %s", keys[1]);
	}
	fputc('\n', f);
}

static const char *const case_keys[] = {
	"state", "state", "received_at", "received", "minor", "minor",
	"language", "language", "followup", "answer wanted", "items", "items:",
	"closed_at", "closed", "withdrawn_at", "withdrawn",
	"purged_at", "personal data purged", NULL
};
static const char *const item_keys[] = {
	"state", "state", "category", "category", "url", "url",
	"media_type", "media", "media_size", "bytes", "verdict_at", "judged",
	"hashed_at", "hashed", "removed_at", "removed",
	"media_purged_at", "media purged", NULL
};
static const char *const notice_keys[] = {
	"kind", "kind", "provider", "provider", "state", "state",
	"created_at", "planned", "sent_at", "sent", "delivery", "by",
	"message_id", "reference", "in_reply_to", "reminds", "urls", "urls:",
	"items", "items", "attempts", "attempts", "last_error", "last failure",
	NULL
};
static const char *const event_keys[] = {
	"action", "", "item", "item", "detail", "", "actor", "by", NULL
};
static const char *const entry_keys[] = {
	"item", "item", "signal", "signal", "value", "value",
	"quality", "quality",
	"category", "category", "added_at", "added",
	"withdrawn_at", "withdrawn", "shared", "shared with partners", NULL
};
static const char *const known_keys[] = {
	"item", "item", "known", "near entry", "known_case", "of case",
	"known_item", "item", NULL
};

int
dz_case_text(FILE *f, const json_t *rec, struct dz_err *err)
{
	const char *type = str(rec, "type");
	char buf[512];
	const json_t *c;

	if (!type)
		type = "";
	if (!strcmp(type, "case")) {
		fprintf(f, "case %s", safe(str(rec, "case"), buf, sizeof buf));
		fields(f, rec, case_keys);
		if ((c = json_object_get(rec, "contact")) && json_is_object(c)) {
			const char *k;
			json_t *v;

			json_object_foreach((json_t *)c, k, v)
				if (json_is_string(v))
					fprintf(f, "  contact %s: %s\n",
					    safe(k, buf, sizeof buf / 2),
					    safe(json_string_value(v),
					    buf + sizeof buf / 2,
					    sizeof buf / 2));
		}
		if (str(rec, "description"))
			fprintf(f, "  description: %s\n",
			    safe(str(rec, "description"), buf, sizeof buf));
	} else if (!strcmp(type, "item")) {
		fprintf(f, "item %s", safe(str(rec, "item"), buf, sizeof buf));
		fields(f, rec, item_keys);
	} else if (!strcmp(type, "notice")) {
		fprintf(f, "notice %s", safe(str(rec, "notice"), buf,
		    sizeof buf));
		fields(f, rec, notice_keys);
	} else if (!strcmp(type, "event")) {
		fprintf(f, "%s", safe(str(rec, "at"), buf, sizeof buf));
		fields(f, rec, event_keys);
	} else if (!strcmp(type, "entry")) {
		fprintf(f, "entry %s", safe(str(rec, "entry"), buf, sizeof buf));
		fields(f, rec, entry_keys);
	} else if (!strcmp(type, "known")) {
		fprintf(f, "known %s", safe(str(rec, "entry"), buf, sizeof buf));
		fields(f, rec, known_keys);
	} else {
		fprintf(f, "%s\n", safe(type, buf, sizeof buf));
	}
	if (ferror(f))
		return dz_err_set(err, EX_IOERR, "write error");
	return 0;
}
