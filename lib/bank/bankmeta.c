/*
 * lib/bank/bankmeta.c: a bank's metadata (struct dz_bank_meta) and the
 * trusted comment of its signature: the rules every copy of the
 * metadata keeps, the comment written and parsed, and the check that the
 * file and its signature agree (see bank.h).
 */
#include <string.h>

#include "bank/bank.h"
#include "bank/bankint.h"
#include "core/err.h"
#include "core/hex.h"

/* ---------- metadata ---------- */

int
bank_valid_collab(const char *s, size_t len)
{
	if (len < 1 || len > DZ_BANK_COLLAB_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

const char *
bank_meta_bad(const struct dz_bank_meta *m)
{
	uint32_t day;
	size_t len;

	if (m->seq < 1 || m->seq > SEQ_MAX)
		return "seq";
	if (m->kind != DZ_BANK_FULL && m->kind != DZ_BANK_DELTA)
		return "kind";
	if (m->kind == DZ_BANK_FULL ? m->since != 0 :
	    m->since < 1 || m->since >= m->seq)
		return "since";
	if (!m->has_prev != (m->seq == 1))
		return "prev";
	if (!m->has_base != (m->kind == DZ_BANK_FULL))
		return "base";
	len = strnlen(m->created, sizeof m->created);
	if (len == sizeof m->created || bank_parse_time(m->created, len, &day))
		return "created";
	len = strnlen(m->collab, sizeof m->collab);
	if (len == sizeof m->collab || !bank_valid_collab(m->collab, len))
		return "collab";
	return NULL;
}

void
bank_meta_norm(struct dz_bank_meta *dst, const struct dz_bank_meta *src)
{
	struct dz_bank_meta m;

	memset(&m, 0, sizeof m);
	m.seq = src->seq;
	m.kind = src->kind;
	m.since = src->since;
	memcpy(m.digest, src->digest, 32);
	m.has_prev = !!src->has_prev;
	if (m.has_prev)
		memcpy(m.prev, src->prev, 32);
	m.has_base = !!src->has_base;
	if (m.has_base)
		memcpy(m.base, src->base, 32);
	memcpy(m.created, src->created,
	    strnlen(src->created, sizeof m.created - 1));
	memcpy(m.collab, src->collab,
	    strnlen(src->collab, sizeof m.collab - 1));
	*dst = m;
}

const char *
bank_kind_name(enum dz_bank_kind k)
{
	return k == DZ_BANK_DELTA ? "delta" : "full";
}

/* ---------- the signed comment ---------- */

int
dz_bank_comment(const struct dz_bank *b, char **out, struct dz_err *err)
{
	char buf[1024], *p = buf;

	if (!b || !out)
		return dz_err_set(err, EX_SOFTWARE,
		    "dz_bank_comment: bad arguments");
	*out = NULL;
	if (!b->priv->ready)
		return dz_err_set(err, EX_SOFTWARE, "bank not finished");
	if (!b->priv->has_meta)
		return dz_err_set(err, EX_SOFTWARE, "bank has no metadata");
	p = bank_put_str(p, "disrupt-bank v1 seq=");
	p = bank_put_u64(p, b->meta.seq);
	p = bank_put_str(p, " kind=");
	p = bank_put_str(p, bank_kind_name(b->meta.kind));
	p = bank_put_str(p, " since=");
	p = bank_put_u64(p, b->meta.since);
	p = bank_put_str(p, " digest=");
	p = dz_hex_put(p, b->meta.digest, 32);
	p = bank_put_str(p, " prev=");
	p = b->meta.has_prev ? dz_hex_put(p, b->meta.prev, 32) :
	    bank_put_str(p, "-");
	p = bank_put_str(p, " base=");
	p = b->meta.has_base ? dz_hex_put(p, b->meta.base, 32) :
	    bank_put_str(p, "-");
	p = bank_put_str(p, " created=");
	p = bank_put_str(p, b->meta.created);
	p = bank_put_str(p, " collab=");
	p = bank_put_str(p, b->meta.collab);
	p = bank_put_str(p, " entries=");
	p = bank_put_u64(p, b->n);
	p = bank_put_str(p, " withdrawals=");
	p = bank_put_u64(p, b->ntomb);
	*p = '\0';
	if (!(*out = strdup(buf)))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	return 0;
}

/* The value of "key=VALUE" at *s, up to the next space or the end. */
static int
field(const char **s, const char *key, const char **v, size_t *len)
{
	const char *p = *s, *e;
	size_t kl = strlen(key);

	if (strncmp(p, key, kl) || p[kl] != '=')
		return -1;
	p += kl + 1;
	for (e = p; *e && *e != ' '; e++)
		;
	*v = p;
	*len = (size_t)(e - p);
	if (*e == ' ') {
		if (e[1] == '\0' || e[1] == ' ')
			return -1;
		e++;
	}
	*s = e;
	return 0;
}

/* "key=HEX" (64 digits: *has set) or "key=-" (*has left 0). */
static int
digest_field(const char **s, const char *key, uint8_t d[32], int *has)
{
	const char *v;
	size_t len;

	if (field(s, key, &v, &len))
		return -1;
	if (len == 1 && v[0] == '-')
		return 0;
	if (bank_parse_hex(v, len, d, 32))
		return -1;
	*has = 1;
	return 0;
}

static int
malformed(struct dz_err *err, const char *what)
{
	return dz_err_set(err, EX_DATAERR, "malformed bank metadata: %s", what);
}

int
dz_bank_comment_parse(const char *comment, struct dz_bank_meta *meta,
    uint64_t *entries, uint64_t *withdrawals, struct dz_err *err)
{
	static const char prefix[] = "disrupt-bank ";
	struct dz_bank_meta m;
	const char *s = comment, *v, *bad;
	size_t len;
	uint64_t ne, nt;

	if (!comment || !meta || !entries || !withdrawals)
		return dz_err_set(err, EX_SOFTWARE,
		    "dz_bank_comment_parse: bad arguments");
	if (strncmp(s, prefix, sizeof prefix - 1))
		return dz_err_set(err, EX_DATAERR,
		    "not a disrupt bank signature");
	s += sizeof prefix - 1;
	if (strncmp(s, "v1 ", 3))
		return malformed(err, "version");
	s += 3;
	memset(&m, 0, sizeof m);
	if (field(&s, "seq", &v, &len) ||
	    bank_parse_u64(v, len, SEQ_MAX, &m.seq))
		return malformed(err, "seq");
	if (field(&s, "kind", &v, &len))
		return malformed(err, "kind");
	if (len == 4 && !memcmp(v, "full", 4))
		m.kind = DZ_BANK_FULL;
	else if (len == 5 && !memcmp(v, "delta", 5))
		m.kind = DZ_BANK_DELTA;
	else
		return malformed(err, "kind");
	if (field(&s, "since", &v, &len) ||
	    bank_parse_u64(v, len, SEQ_MAX, &m.since))
		return malformed(err, "since");
	if (field(&s, "digest", &v, &len) ||
	    bank_parse_hex(v, len, m.digest, 32))
		return malformed(err, "digest");
	if (digest_field(&s, "prev", m.prev, &m.has_prev))
		return malformed(err, "prev");
	if (digest_field(&s, "base", m.base, &m.has_base))
		return malformed(err, "base");
	if (field(&s, "created", &v, &len) || len >= sizeof m.created)
		return malformed(err, "created");
	memcpy(m.created, v, len);
	if (field(&s, "collab", &v, &len) || len >= sizeof m.collab)
		return malformed(err, "collab");
	memcpy(m.collab, v, len);
	if (field(&s, "entries", &v, &len) ||
	    bank_parse_u64(v, len, DZ_BANK_MAX_ENTRIES, &ne))
		return malformed(err, "entries");
	if (field(&s, "withdrawals", &v, &len) ||
	    bank_parse_u64(v, len, MAX_TOMBS, &nt))
		return malformed(err, "withdrawals");
	if (*s)
		return malformed(err, "trailing text");
	if ((bad = bank_meta_bad(&m)))
		return malformed(err, bad);
	*meta = m;
	*entries = ne;
	*withdrawals = nt;
	return 0;
}

static int
disagree(struct dz_err *err, const char *what)
{
	return dz_err_set(err, EX_DATAERR,
	    "bank file and signature disagree on %s", what);
}

int
dz_bank_meta_check(struct dz_bank *b, const struct dz_bank_meta *meta,
    uint64_t entries, uint64_t withdrawals, struct dz_err *err)
{
	struct dz_bank_meta m;
	const struct dz_bank_meta *f;
	const char *bad;

	if (!b || !meta)
		return dz_err_set(err, EX_SOFTWARE,
		    "dz_bank_meta_check: bad arguments");
	if ((bad = bank_meta_bad(meta)))
		return malformed(err, bad);
	bank_meta_norm(&m, meta);
	f = &b->meta;
	if (entries != b->n)
		return disagree(err, "entries");
	if (withdrawals != b->ntomb)
		return disagree(err, "withdrawals");
	if (!b->priv->has_meta) {
		/* a CSV file: only its rows' collab to compare */
		if (f->collab[0] && strcmp(f->collab, m.collab))
			return disagree(err, "collab");
		b->meta = m;
		b->priv->has_meta = 1;
		return 0;
	}
	if (f->seq != m.seq)
		return disagree(err, "seq");
	if (f->kind != m.kind)
		return disagree(err, "kind");
	if (f->since != m.since)
		return disagree(err, "since");
	if (memcmp(f->digest, m.digest, 32))
		return disagree(err, "digest");
	if (!f->has_prev != !m.has_prev || memcmp(f->prev, m.prev, 32))
		return disagree(err, "prev");
	if (!f->has_base != !m.has_base || memcmp(f->base, m.base, 32))
		return disagree(err, "base");
	if (strcmp(f->created, m.created))
		return disagree(err, "created");
	if (strcmp(f->collab, m.collab))
		return disagree(err, "collab");
	return 0;
}
