/*
 * lib/bank/bankcsv.c: the ThreatExchange CSV layout (see bank.h): a
 * header row, then one row per entry frame or withdrawal, our fields in
 * dz: tags. The file has no metadata of its own.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bank/bank.h"
#include "bank/bankint.h"
#include "core/err.h"
#include "core/hex.h"

/* Signals by their CSV names (ThreatExchange's). */
static const char *const csv_signal_names[] = { NULL, "pdq", "video_md5",
	"vpdq" };

static const char csv_header[] = "signal_type,signal_str,collab,category,tags";

/* ---------- writing ---------- */

/* A row up to its dz:id tag: the columns, the category tag, the id. */
static char *
put_row(char *p, int signal, const struct dz_pdq *v, const char *collab,
    const char *opinion, int category, const uint8_t id[ID])
{
	p = bank_put_str(p, csv_signal_names[signal]);
	*p++ = ',';
	p = bank_put_value(p, signal, v);
	*p++ = ',';
	p = bank_put_str(p, collab);
	*p++ = ',';
	p = bank_put_str(p, opinion);
	p = bank_put_str(p, bank_cat_names[category]);
	p = bank_put_str(p, " dz:id=");
	return dz_hex_put(p, id, ID);
}

void
bank_csv_write(const struct dz_bank *b, struct bank_out *o)
{
	const char *collab = b->meta.collab;
	char *p = bank_out_room(o, 64);

	p = bank_put_str(p, csv_header);
	*p++ = '\n';
	bank_out_done(o, p);
	for (uint64_t i = 0; i < b->n; i++) {
		const struct dz_bank_attr *a = &b->attr[i];

		p = bank_out_room(o, 256);
		p = put_row(p, a->signal, &b->pdq[i], collab, "POSITIVE_CLASS,",
		    a->category, b->id[i]);
		p = bank_put_str(p, " dz:quality=");
		p = bank_put_u64(p, a->quality);
		p = bank_put_str(p, " dz:added=");
		p = bank_put_day(p, a->added);
		*p++ = '\n';
		bank_out_done(o, p);
	}
	for (uint64_t i = 0; i < b->ntomb; i++) {
		const struct dz_bank_tomb *t = &b->tomb[i];

		p = bank_out_room(o, 256);
		p = put_row(p, t->signal, &t->pdq, collab, "NEGATIVE_CLASS,",
		    t->category, t->id);
		p = bank_put_str(p, " dz:withdrawn=");
		p = bank_put_day(p, t->withdrawn);
		*p++ = '\n';
		bank_out_done(o, p);
	}
}

/* ---------- loading ---------- */

static int
parse_date10(const char *s, size_t len, uint32_t *day)
{
	return len == 10 ? bank_parse_date(s, day) : -1;
}

/* Lines in buf: newlines, and one more for a last unterminated line. */
static size_t
count_lines(const uint8_t *buf, size_t len)
{
	size_t n = 0;
	const uint8_t *p = buf, *e = buf + len, *q;

	while (p < e && (q = memchr(p, '\n', (size_t)(e - p)))) {
		n++;
		p = q + 1;
	}
	return n + (p < e);
}

/* The tags of one row. */
static int
csv_tags(const char *s, size_t len, struct bank_rec *r)
{
	const char *e = s + len;
	int have_id = 0, have_q = 0, have_added = 0, have_wd = 0, have_cat = 0;
	uint64_t q;

	if (!len)
		return -1;
	while (s < e) {
		const char *sp = memchr(s, ' ', (size_t)(e - s));
		const char *te = sp ? sp : e;
		int cat;

		if (sp && sp + 1 == e)
			return -1;	/* a trailing space */
		if ((cat = bank_cat_parse(s, (size_t)(te - s))) >= 0) {
			if (have_cat++)
				return -1;
			r->category = cat;
		} else if (bank_lit(&s, te, "dz:id=")) {
			if (have_id++ ||
			    bank_parse_hex(s, (size_t)(te - s), r->id, ID))
				return -1;
		} else if (bank_lit(&s, te, "dz:quality=")) {
			if (have_q++ ||
			    bank_parse_u64(s, (size_t)(te - s), 100, &q))
				return -1;
			r->quality = (int)q;
		} else if (bank_lit(&s, te, "dz:added=")) {
			if (have_added++ || have_wd || parse_date10(s,
			    (size_t)(te - s), &r->day))
				return -1;
		} else if (bank_lit(&s, te, "dz:withdrawn=")) {
			if (have_wd++ || have_added || parse_date10(s,
			    (size_t)(te - s), &r->day))
				return -1;
		} else {
			return -1;
		}
		s = sp ? sp + 1 : e;
	}
	if (!have_id || !have_cat)
		return -1;
	if (have_wd) {
		if (have_q)
			return -1;
		r->type = R_TOMB;
	} else {
		if (!have_q || !have_added)
			return -1;
		r->type = R_ENTRY;
	}
	return 0;
}

int
bank_csv_parse(struct dz_bank *b, const char *buf, size_t len,
    struct dz_err *err)
{
	struct dz_bank_priv *p = b->priv;
	const char *pos = buf, *e = buf + len, *line = buf;
	size_t ll = 0, lineno = 1, rows, n = 0, t = 0, collab_len = 0;
	struct bank_rec r;

	rows = count_lines((const uint8_t *)buf, len) - 1;
	if (rows > len / MIN_RECORD)
		rows = len / MIN_RECORD;	/* the rest cannot be valid */
	bank_next_line(&pos, e, &line, &ll);
	if (ll && line[ll - 1] == '\r')
		ll--;
	if (ll != strlen(csv_header) || memcmp(line, csv_header, ll))
		return bank_line_err(err, 1, "bad CSV header");
	if (rows > DZ_BANK_MAX_ENTRIES)
		rows = DZ_BANK_MAX_ENTRIES;
	if (bank_alloc_arrays(p, rows, 0) < 0)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	memset(&b->meta, 0, sizeof b->meta);
	while (bank_next_line(&pos, e, &line, &ll)) {
		const char *f[5], *c;
		size_t fl[5];
		int nf = 0, positive;

		lineno++;
		if (ll > LINE_MAX_BYTES)
			return bank_line_err(err, lineno, "too long");
		if (ll && line[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			return bank_line_err(err, lineno, "empty line");
		if (memchr(line, '"', ll))
			return bank_line_err(err, lineno,
			    "quoted fields not supported");
		for (c = line; nf < 5;) {
			const char *comma = memchr(c, ',',
			    (size_t)(line + ll - c));

			f[nf] = c;
			fl[nf] = (size_t)((comma ? comma : line + ll) - c);
			nf++;
			if (!comma)
				break;
			c = comma + 1;
		}
		if (nf != 5 || f[4] + fl[4] != line + ll)
			return bank_line_err(err, lineno, "not 5 fields");
		memset(&r, 0, sizeof r);
		r.signal = bank_signal_parse(csv_signal_names, f[0], fl[0]);
		if (r.signal < 0)
			return bank_line_err(err, lineno,
			    "unsupported signal type");
		if (bank_parse_value(r.signal, f[1], fl[1], &r.pdq))
			return bank_line_err(err, lineno,
			    r.signal == DZ_BANK_MD5 ? "bad MD5" :
			    "bad PDQ hash");
		if (!bank_valid_collab(f[2], fl[2]))
			return bank_line_err(err, lineno, "bad collab");
		if (!collab_len) {
			memcpy(b->meta.collab, f[2], fl[2]);
			collab_len = fl[2];
		} else if (fl[2] != collab_len ||
		    memcmp(f[2], b->meta.collab, collab_len)) {
			return bank_line_err(err, lineno,
			    "collab differs from the first row");
		}
		/* ThreatExchange's opinion: a withdrawal is a negative one */
		if (fl[3] == 14 && !memcmp(f[3], "POSITIVE_CLASS", 14))
			positive = 1;
		else if (fl[3] == 14 && !memcmp(f[3], "NEGATIVE_CLASS", 14))
			positive = 0;
		else
			return bank_line_err(err, lineno, "unknown category");
		if (csv_tags(f[4], fl[4], &r) < 0)
			return bank_line_err(err, lineno, "bad tags");
		if (positive != (r.type == R_ENTRY))
			return bank_line_err(err, lineno,
			    "category does not fit the tags");
		if (n + t >= rows)
			return bank_line_err(err, lineno, "too many rows");
		if (r.type == R_ENTRY) {
			bank_store_entry(p, n++, &r);
		} else {
			if (bank_grow_tombs(p, t) < 0)
				return dz_err_set(err, EX_SOFTWARE,
				    "out of memory");
			bank_store_tomb(p, t++, &r);
		}
	}
	b->n = n;
	b->ntomb = t;
	if (n < p->cap) {	/* give back what the tombstones took */
		void *q;

		if (n == 0) {
			free(p->pdq);
			free(p->id);
			free(p->attr);
			p->pdq = NULL;
			p->id = NULL;
			p->attr = NULL;
		} else {
			if ((q = realloc(p->pdq, n * sizeof *p->pdq)))
				p->pdq = q;
			if ((q = realloc(p->id, n * sizeof *p->id)))
				p->id = q;
			if ((q = realloc(p->attr, n * sizeof *p->attr)))
				p->attr = q;
		}
		p->cap = n;
	}
	bank_expose(b);
	if (bank_sort(b) < 0)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	return bank_check_unique(b, err);
}
