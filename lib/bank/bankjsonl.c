/*
 * lib/bank/bankjsonl.c: the JSON Lines format (see bank.h): written a
 * record at a time; read by a fast path for the lines exactly as we
 * write them, and by jansson for any other spelling of the same records
 * (which also says what is wrong with a bad line).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "bank/bank.h"
#include "bank/bankint.h"
#include "core/err.h"
#include "core/hex.h"
#include "core/record.h"

/* ---------- writing ---------- */

static char *
put_jstr(char *p, const char *key, const char *val)
{
	*p++ = ',';
	*p++ = '"';
	p = bank_put_str(p, key);
	p = bank_put_str(p, "\":\"");
	p = bank_put_str(p, val);
	*p++ = '"';
	return p;
}

static char *
put_jnum(char *p, const char *key, uint64_t v)
{
	*p++ = ',';
	*p++ = '"';
	p = bank_put_str(p, key);
	*p++ = '"';
	*p++ = ':';
	return bank_put_u64(p, v);
}

static char *
put_jhex(char *p, const char *key, const uint8_t *d, int present)
{
	*p++ = ',';
	*p++ = '"';
	p = bank_put_str(p, key);
	*p++ = '"';
	*p++ = ':';
	if (!present)
		return bank_put_str(p, "null");
	*p++ = '"';
	p = dz_hex_put(p, d, 32);
	*p++ = '"';
	return p;
}

/* An entry or withdrawal line up to its value's closing quote (not put). */
static char *
put_jrow(char *p, const char *type, const uint8_t id[ID], int signal,
    const struct dz_pdq *v)
{
	p = bank_put_str(p, "{\"type\":\"");
	p = bank_put_str(p, type);
	p = bank_put_str(p, "\",\"id\":\"");
	p = dz_hex_put(p, id, ID);
	p = bank_put_str(p, "\",\"signal\":\"");
	p = bank_put_str(p, bank_signal_names[signal]);
	p = bank_put_str(p, "\",\"value\":\"");
	return bank_put_value(p, signal, v);
}

/* A row's end: "category":"<cat>","<key>":"<day>"}, and the newline. */
static char *
put_jtail(char *p, int category, const char *key, uint32_t day)
{
	p = bank_put_str(p, "\"category\":\"");
	p = bank_put_str(p, bank_cat_names[category]);
	p = bank_put_str(p, "\",\"");
	p = bank_put_str(p, key);
	p = bank_put_str(p, "\":\"");
	p = bank_put_day(p, day);
	return bank_put_str(p, "\"}\n");
}

void
bank_jsonl_write(const struct dz_bank *b, struct bank_out *o)
{
	const struct dz_bank_meta *m = &b->meta;
	char *p = bank_out_room(o, 1024);

	p = bank_put_str(p, "{\"type\":\"bank\"");
	p = put_jnum(p, "version", DZ_BANK_VERSION);
	p = put_jnum(p, "seq", m->seq);
	p = put_jstr(p, "kind", bank_kind_name(m->kind));
	p = put_jnum(p, "since", m->since);
	p = put_jhex(p, "digest", m->digest, 1);
	p = put_jhex(p, "prev", m->prev, m->has_prev);
	p = put_jhex(p, "base", m->base, m->has_base);
	p = put_jstr(p, "created", m->created);
	p = put_jstr(p, "collab", m->collab);
	p = put_jnum(p, "entries", b->n);
	p = put_jnum(p, "withdrawals", b->ntomb);
	p = bank_put_str(p, "}\n");
	bank_out_done(o, p);
	for (uint64_t i = 0; i < b->n; i++) {
		const struct dz_bank_attr *a = &b->attr[i];

		p = bank_out_room(o, 256);
		p = put_jrow(p, "entry", b->id[i], a->signal, &b->pdq[i]);
		p = bank_put_str(p, "\",\"quality\":");
		p = bank_put_u64(p, a->quality);
		p = bank_put_str(p, ",");
		p = put_jtail(p, a->category, "added", a->added);
		bank_out_done(o, p);
	}
	for (uint64_t i = 0; i < b->ntomb; i++) {
		const struct dz_bank_tomb *t = &b->tomb[i];

		p = bank_out_room(o, 256);
		p = put_jrow(p, "withdrawal", t->id, t->signal, &t->pdq);
		p = bank_put_str(p, "\",");
		p = put_jtail(p, t->category, "withdrawn", t->withdrawn);
		bank_out_done(o, p);
	}
}

/* ---------- loading ---------- */

/* Hex digits of a signal's value: an MD5 is 32, a PDQ 64. */
static size_t
value_digits(int signal)
{
	return signal == DZ_BANK_MD5 ? 32 : 64;
}

/* A string's characters up to the closing quote (no escapes): [*p, q). */
static int
plain(const char **p, const char *e, const char **s, size_t *len)
{
	const char *q = *p;

	while (q < e && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20 &&
	    (unsigned char)*q < 0x80)
		q++;
	if (q == e || *q != '"')
		return 0;
	*s = *p;
	*len = (size_t)(q - *p);
	*p = q + 1;
	return 1;
}

/*
 * A string of exactly n characters at *p, then its closing quote: [s, s+n).
 * The caller checks the characters (hex digits or a date: no quote, no
 * backslash, nothing to unescape).
 */
static int
fixed(const char **p, const char *e, size_t n, const char **s)
{
	if ((size_t)(e - *p) <= n || (*p)[n] != '"')
		return 0;
	*s = *p;
	*p += n + 1;
	return 1;
}

/*
 * The line exactly as dz_bank_write writes it, valid: 1 and r filled.
 * Anything else (0) goes to the general parser, which accepts the same
 * records in any JSON spelling and says what is wrong.
 */
static int
fast_record(const char *p, size_t len, struct bank_rec *r)
{
	const char *e = p + len, *s;
	size_t n;
	uint64_t q;

	if (bank_lit(&p, e, "{\"type\":\"entry\",\"id\":\""))
		r->type = R_ENTRY;
	else if (bank_lit(&p, e, "{\"type\":\"withdrawal\",\"id\":\""))
		r->type = R_TOMB;
	else
		return 0;
	if (!fixed(&p, e, 2 * ID, &s) || bank_parse_hex(s, 2 * ID, r->id, ID) ||
	    !bank_lit(&p, e, ",\"signal\":\"") || !plain(&p, e, &s, &n) ||
	    (r->signal = bank_signal_parse(bank_signal_names, s, n)) < 0 ||
	    !bank_lit(&p, e, ",\"value\":\"") ||
	    !fixed(&p, e, value_digits(r->signal), &s) ||
	    bank_parse_value(r->signal, s, value_digits(r->signal), &r->pdq))
		return 0;
	if (r->type == R_ENTRY) {
		if (!bank_lit(&p, e, ",\"quality\":"))
			return 0;
		for (s = p; p < e && *p >= '0' && *p <= '9'; p++)
			;
		if (bank_parse_u64(s, (size_t)(p - s), 100, &q))
			return 0;
		r->quality = (int)q;
	}
	if (!bank_lit(&p, e, ",\"category\":\"") || !plain(&p, e, &s, &n) ||
	    (r->category = bank_cat_parse(s, n)) < 0)
		return 0;
	if (!bank_lit(&p, e, r->type == R_ENTRY ? ",\"added\":\"" :
	    ",\"withdrawn\":\"") || !fixed(&p, e, 10, &s) ||
	    bank_parse_date(s, &r->day) || !bank_lit(&p, e, "}"))
		return 0;
	return p == e;
}

/* obj[key] as a string: its bytes, or NULL. */
static const char *
jstr(json_t *obj, const char *key, size_t *len)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return NULL;
	*len = json_string_length(v);
	return json_string_value(v);
}

/* obj[key] as a non-negative integer up to max. */
static int
juint(json_t *obj, const char *key, uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* The general parser for an entry or withdrawal line. */
static int
slow_record(const char *line, size_t len, size_t lineno, struct bank_rec *r,
    struct dz_err *err)
{
	json_t *o;
	const char *s;
	size_t n;
	uint64_t q;
	int rc = -1;

	if (!(o = dz_record_parse(line, len, err))) {
		if (err && err->code == EX_DATAERR) {
			char why[DZ_ERR_MAX];

			snprintf(why, sizeof why, "%s", err->msg);
			return bank_line_err(err, lineno, why);
		}
		return -1;
	}
	if (!(s = jstr(o, "type", &n))) {
		bank_line_err(err, lineno, "missing record type");
		goto out;
	}
	if (n == 5 && !memcmp(s, "entry", 5)) {
		r->type = R_ENTRY;
	} else if (n == 10 && !memcmp(s, "withdrawal", 10)) {
		r->type = R_TOMB;
	} else if (n == 4 && !memcmp(s, "bank", 4)) {
		bank_line_err(err, lineno, "more than one bank line");
		goto out;
	} else {
		bank_line_err(err, lineno, "unknown record type");
		goto out;
	}
	if (!(s = jstr(o, "id", &n)) || bank_parse_hex(s, n, r->id, ID)) {
		bank_line_err(err, lineno, "bad id");
		goto out;
	}
	if (!(s = jstr(o, "signal", &n)) ||
	    (r->signal = bank_signal_parse(bank_signal_names, s, n)) < 0) {
		bank_line_err(err, lineno, "unsupported signal type");
		goto out;
	}
	if (!(s = jstr(o, "value", &n)) || bank_parse_value(r->signal, s, n,
	    &r->pdq)) {
		bank_line_err(err, lineno, r->signal == DZ_BANK_MD5 ?
		    "bad MD5" : "bad PDQ hash");
		goto out;
	}
	if (r->type == R_ENTRY) {
		if (juint(o, "quality", 100, &q)) {
			bank_line_err(err, lineno, "bad quality");
			goto out;
		}
		r->quality = (int)q;
	}
	if (!(s = jstr(o, "category", &n)) ||
	    (r->category = bank_cat_parse(s, n)) < 0) {
		bank_line_err(err, lineno, "unknown category");
		goto out;
	}
	if (!(s = jstr(o, r->type == R_ENTRY ? "added" : "withdrawn", &n)) ||
	    n != 10 || bank_parse_date(s, &r->day)) {
		bank_line_err(err, lineno, "bad date");
		goto out;
	}
	if (json_object_size(o) != (r->type == R_ENTRY ? 7u : 6u)) {
		bank_line_err(err, lineno, "unknown field");
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

/* obj[key]: null (0), 64 lowercase hex digits (1, d filled), else -1. */
static int
jdigest(json_t *obj, const char *key, uint8_t d[32])
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	size_t n;

	if (json_is_null(v))
		return 0;
	if (!(s = jstr(obj, key, &n)) || bank_parse_hex(s, n, d, 32))
		return -1;
	return 1;
}

/* obj[key]: a string of fewer than size bytes, copied to out. */
static int
jtext(json_t *obj, const char *key, char *out, size_t size)
{
	const char *s;
	size_t n;

	if (!(s = jstr(obj, key, &n)) || n >= size || strlen(s) != n)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* The first line's fields: the first one wrong, or NULL. */
static const char *
bank_fields(json_t *o, struct dz_bank_meta *m, uint64_t *nent,
    uint64_t *ntomb)
{
	const char *s;
	size_t n;
	uint64_t x;
	int has;

	if (!(s = jstr(o, "type", &n)) || n != 4 || memcmp(s, "bank", 4))
		return "not a bank line";
	if (juint(o, "version", UINT32_MAX, &x) || x != DZ_BANK_VERSION)
		return "bank version not supported";
	if (juint(o, "seq", SEQ_MAX, &m->seq))
		return "bad seq";
	if (!(s = jstr(o, "kind", &n)))
		return "bad kind";
	if (n == 4 && !memcmp(s, "full", 4))
		m->kind = DZ_BANK_FULL;
	else if (n == 5 && !memcmp(s, "delta", 5))
		m->kind = DZ_BANK_DELTA;
	else
		return "bad kind";
	if (juint(o, "since", SEQ_MAX, &m->since))
		return "bad since";
	if (jdigest(o, "digest", m->digest) != 1)
		return "bad digest";
	if ((has = jdigest(o, "prev", m->prev)) < 0)
		return "bad prev";
	m->has_prev = has;
	if ((has = jdigest(o, "base", m->base)) < 0)
		return "bad base";
	m->has_base = has;
	if (jtext(o, "created", m->created, sizeof m->created))
		return "bad created";
	if (jtext(o, "collab", m->collab, sizeof m->collab))
		return "bad collab";
	if (juint(o, "entries", DZ_BANK_MAX_ENTRIES, nent))
		return "bad entries";
	if (juint(o, "withdrawals", MAX_TOMBS, ntomb))
		return "bad withdrawals";
	if (json_object_size(o) != 12)
		return "unknown field";
	return NULL;
}

/* The bank line: b->meta and the counts. */
static int
bank_line(struct dz_bank *b, const char *line, size_t len, uint64_t *nent,
    uint64_t *ntomb, struct dz_err *err)
{
	struct dz_bank_meta *m = &b->meta;
	const char *bad;
	json_t *o;

	if (!(o = dz_record_parse(line, len, err))) {
		if (err && err->code == EX_DATAERR) {
			char why[DZ_ERR_MAX];

			snprintf(why, sizeof why, "%s", err->msg);
			return bank_line_err(err, 1, why);
		}
		return -1;
	}
	memset(m, 0, sizeof *m);
	bad = bank_fields(o, m, nent, ntomb);
	json_decref(o);
	if (bad)
		return bank_line_err(err, 1, bad);
	if ((bad = bank_meta_bad(m))) {
		char why[64];

		snprintf(why, sizeof why, "bad %s", bad);
		return bank_line_err(err, 1, why);
	}
	return 0;
}

int
bank_jsonl_parse(struct dz_bank *b, const char *buf, size_t len,
    struct dz_err *err)
{
	struct dz_bank_priv *p = b->priv;
	const char *pos = buf, *e = buf + len, *line = buf;
	size_t ll = 0, lineno = 0, records, n = 0, t = 0;
	uint64_t want_n, want_t;
	struct bank_rec r;

	records = len / MIN_RECORD;	/* no more can be valid */
	bank_next_line(&pos, e, &line, &ll);
	lineno = 1;
	if (ll > LINE_MAX_BYTES)
		return bank_line_err(err, 1, "too long");
	if (bank_line(b, line, ll, &want_n, &want_t, err) < 0)
		return -1;
	if (bank_alloc_arrays(p, want_n < records ? want_n : records,
	    want_t < records ? want_t : records) < 0)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	while (bank_next_line(&pos, e, &line, &ll)) {
		lineno++;
		if (ll == 0)
			return bank_line_err(err, lineno, "empty line");
		if (ll > LINE_MAX_BYTES)
			return bank_line_err(err, lineno, "too long");
		memset(&r, 0, sizeof r);
		if (!fast_record(line, ll, &r) &&
		    slow_record(line, ll, lineno, &r, err) < 0)
			return -1;
		if (r.type == R_ENTRY) {
			if (t)
				return bank_line_err(err, lineno,
				    "entry after withdrawals");
			if (n >= p->cap)
				return bank_line_err(err, lineno,
				    "more entries than the bank line says");
			bank_store_entry(p, n, &r);
			if (n && memcmp(p->id[n - 1], r.id, ID) >= 0 &&
			    !bank_same_frames(&p->attr[n - 1], &p->attr[n],
			    p->id[n - 1], r.id))
				return bank_line_err(err, lineno,
				    memcmp(p->id[n - 1], r.id, ID) ?
				    "entries not in ascending id order" :
				    "duplicate entry id");
			n++;
		} else {
			if (t >= p->tcap)
				return bank_line_err(err, lineno,
				    "more withdrawals than the bank line says");
			if (t && memcmp(p->tomb[t - 1].id, r.id, ID) >= 0)
				return bank_line_err(err, lineno,
				    memcmp(p->tomb[t - 1].id, r.id, ID) ?
				    "withdrawals not in ascending id order" :
				    "duplicate withdrawal id");
			bank_store_tomb(p, t++, &r);
		}
	}
	if (n != want_n)
		return dz_err_set(err, EX_DATAERR,
		    "fewer entries than the bank line says");
	if (t != want_t)
		return dz_err_set(err, EX_DATAERR,
		    "fewer withdrawals than the bank line says");
	b->n = n;
	b->ntomb = t;
	bank_expose(b);
	return bank_check_unique(b, err);
}
