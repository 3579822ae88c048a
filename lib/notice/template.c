/*
 * lib/notice/template: a Mustache subset. See template.h.
 *
 * The text is cut into tokens first (text, variable, section, inverted,
 * close, comment), with standalone tag lines trimmed; rendering then
 * walks the tokens recursively with a stack of contexts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "notice/template.h"

#define MAX_DEPTH 16
#define MAX_NAME 64
#define MAX_OUT (16u << 20)

enum tok_type { T_TEXT, T_VAR, T_SECTION, T_INVERTED, T_CLOSE, T_COMMENT };

struct tok {
	enum tok_type type;
	const char *s;		/* text, or the name */
	size_t n;
	size_t end;		/* T_SECTION/T_INVERTED: index of its close */
	unsigned long line;
};

struct tpl {
	const char *name;
	struct tok *t;
	size_t n, cap;
	struct dz_err *err;
	char *out;
	size_t olen, ocap;
};

static int
push_tok(struct tpl *p, enum tok_type type, const char *s, size_t n,
    unsigned long line)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct tok *nt = realloc(p->t, cap * sizeof *nt);

		if (!nt)
			return dz_err_set(p->err, EX_SOFTWARE, "out of memory");
		p->t = nt;
		p->cap = cap;
	}
	p->t[p->n++] = (struct tok){ type, s, n, 0, line };
	return 0;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static unsigned long
lines_in(const char *a, const char *b)
{
	unsigned long n = 0;

	for (; a < b; a++)
		n += *a == '\n';
	return n;
}

/* Cut the text into tokens; trim standalone tag lines. */
static int
tokenize(struct tpl *p, const char *s, size_t len)
{
	const char *e = s + len, *pos = s;
	unsigned long line = 1;

	while (pos < e) {
		const char *open = NULL, *close, *name, *ne;
		enum tok_type type;

		for (const char *q = pos; q + 1 < e; q++)
			if (q[0] == '{' && q[1] == '{') {
				open = q;
				break;
			}
		if (!open) {
			if (push_tok(p, T_TEXT, pos, (size_t)(e - pos), line))
				return -1;
			break;
		}
		close = NULL;
		/* a comment may run over lines; any other tag may not */
		for (const char *q = open + 2; q + 1 < e; q++) {
			if (*q == '\n' && open[2] != '!')
				break;
			if (q[0] == '}' && q[1] == '}') {
				close = q;
				break;
			}
		}
		for (const char *q = pos; q < open; q++)
			if (*q == '\n')
				line++;
		if (!close)
			return dz_err_set(p->err, EX_CONFIG, "template %s: line "
			    "%lu: a tag is not closed on its line", p->name,
			    line);
		name = open + 2;
		switch (*name) {
		case '#': type = T_SECTION; name++; break;
		case '^': type = T_INVERTED; name++; break;
		case '/': type = T_CLOSE; name++; break;
		case '!': type = T_COMMENT; break;
		default: type = T_VAR; break;
		}
		ne = close;
		while (name < ne && is_blank(*name))
			name++;
		while (ne > name && is_blank(ne[-1]))
			ne--;
		if (type != T_COMMENT) {
			if (ne == name || ne - name > MAX_NAME)
				return dz_err_set(p->err, EX_CONFIG, "template "
				    "%s: line %lu: a tag needs a name", p->name,
				    line);
			for (const char *q = name; q < ne; q++)
				if (!((*q >= 'a' && *q <= 'z') ||
				    (*q >= 'A' && *q <= 'Z') ||
				    (*q >= '0' && *q <= '9') || *q == '_' ||
				    *q == '.'))
					return dz_err_set(p->err, EX_CONFIG,
					    "template %s: line %lu: a name is "
					    "letters, digits, '_' and '.'",
					    p->name, line);
		}

		/* standalone: blanks, the tag, blanks, a newline or the end */
		{
			const char *ls = open, *le = close + 2;
			int standalone = type != T_VAR;

			while (ls > pos && is_blank(ls[-1]))
				ls--;
			if (ls > s && ls[-1] != '\n')
				standalone = 0;
			if (ls == pos && pos > s && pos[-1] != '\n')
				standalone = 0;	/* a tag just before on the line */
			while (le < e && is_blank(*le))
				le++;
			if (le < e && *le != '\n')
				standalone = 0;
			if (standalone) {
				if (ls > pos && push_tok(p, T_TEXT, pos,
				    (size_t)(ls - pos), line))
					return -1;
				if (push_tok(p, type, name, (size_t)(ne - name),
				    line))
					return -1;
				line += lines_in(open, close) + 1;
				pos = le < e ? le + 1 : e;
				continue;
			}
		}
		if (open > pos && push_tok(p, T_TEXT, pos, (size_t)(open - pos),
		    line))
			return -1;
		if (push_tok(p, type, name, (size_t)(ne - name), line))
			return -1;
		line += lines_in(open, close);
		pos = close + 2;
	}
	return 0;
}

/* Pair each section with its close; check the nesting. */
static int
match_sections(struct tpl *p)
{
	size_t stack[MAX_DEPTH], depth = 0;

	for (size_t i = 0; i < p->n; i++) {
		struct tok *t = &p->t[i];

		if (t->type == T_SECTION || t->type == T_INVERTED) {
			if (depth == MAX_DEPTH)
				return dz_err_set(p->err, EX_CONFIG, "template "
				    "%s: line %lu: sections nest too deep",
				    p->name, t->line);
			stack[depth++] = i;
		} else if (t->type == T_CLOSE) {
			struct tok *o;

			if (!depth)
				return dz_err_set(p->err, EX_CONFIG, "template "
				    "%s: line %lu: a close without a section",
				    p->name, t->line);
			o = &p->t[stack[--depth]];
			if (o->n != t->n || memcmp(o->s, t->s, t->n))
				return dz_err_set(p->err, EX_CONFIG, "template "
				    "%s: line %lu: the close does not match "
				    "the section of line %lu", p->name,
				    t->line, o->line);
			o->end = i;
		}
	}
	if (depth)
		return dz_err_set(p->err, EX_CONFIG, "template %s: line %lu: "
		    "a section is not closed", p->name,
		    p->t[stack[depth - 1]].line);
	return 0;
}

static int
emit(struct tpl *p, const char *s, size_t n)
{
	if (p->olen + n + 1 > p->ocap) {
		size_t cap = p->ocap ? p->ocap : 1024;
		char *no;

		while (p->olen + n + 1 > cap)
			cap *= 2;
		if (cap > MAX_OUT)
			return dz_err_set(p->err, EX_DATAERR, "template %s: "
			    "the text grows too large", p->name);
		if (!(no = realloc(p->out, cap)))
			return dz_err_set(p->err, EX_SOFTWARE, "out of memory");
		p->out = no;
		p->ocap = cap;
	}
	memcpy(p->out + p->olen, s, n);
	p->olen += n;
	p->out[p->olen] = '\0';
	return 0;
}

/* Look name up in the innermost context that has its first part. */
static json_t *
lookup(json_t **ctx, size_t nctx, const char *name, size_t n)
{
	const char *dot = memchr(name, '.', n);
	size_t first = dot ? (size_t)(dot - name) : n;
	char key[MAX_NAME + 1];
	json_t *v = NULL;

	memcpy(key, name, first);
	key[first] = '\0';
	for (size_t i = nctx; i-- > 0;)
		if (json_is_object(ctx[i]) &&
		    (v = json_object_get(ctx[i], key)))
			break;
	while (v && dot) {
		const char *rest = dot + 1;
		size_t rn = n - (size_t)(rest - name);

		dot = memchr(rest, '.', rn);
		first = dot ? (size_t)(dot - rest) : rn;
		memcpy(key, rest, first);
		key[first] = '\0';
		v = json_is_object(v) ? json_object_get(v, key) : NULL;
	}
	return v;
}

static int
truthy(json_t *v)
{
	if (!v || json_is_null(v) || json_is_false(v))
		return 0;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	return 1;
}

static int render(struct tpl *p, size_t from, size_t to, json_t **ctx,
    size_t nctx);

static int
section(struct tpl *p, size_t i, json_t **ctx, size_t nctx)
{
	struct tok *t = &p->t[i];
	json_t *v = lookup(ctx, nctx, t->s, t->n);
	size_t k;

	if (t->type == T_INVERTED)
		return truthy(v) ? 0 : render(p, i + 1, t->end, ctx, nctx);
	if (!truthy(v))
		return 0;
	if (nctx >= MAX_DEPTH + 1)
		return dz_err_set(p->err, EX_CONFIG, "template %s: too deep",
		    p->name);
	if (json_is_array(v)) {
		json_t *el;

		json_array_foreach(v, k, el) {
			ctx[nctx] = el;
			if (render(p, i + 1, t->end, ctx, nctx + 1))
				return -1;
		}
		return 0;
	}
	ctx[nctx] = v;
	return render(p, i + 1, t->end, ctx, nctx + 1);
}

static int
render(struct tpl *p, size_t from, size_t to, json_t **ctx, size_t nctx)
{
	for (size_t i = from; i < to; i++) {
		struct tok *t = &p->t[i];

		switch (t->type) {
		case T_TEXT:
			if (emit(p, t->s, t->n))
				return -1;
			break;
		case T_VAR: {
			json_t *v = lookup(ctx, nctx, t->s, t->n);
			char num[32];

			if (json_is_string(v)) {
				if (emit(p, json_string_value(v),
				    json_string_length(v)))
					return -1;
			} else if (json_is_integer(v)) {
				snprintf(num, sizeof num, "%lld",
				    (long long)json_integer_value(v));
				if (emit(p, num, strlen(num)))
					return -1;
			} else if (json_is_true(v)) {
				if (emit(p, "true", 4))
					return -1;
			}
			break;
		}
		case T_SECTION:
		case T_INVERTED:
			if (section(p, i, ctx, nctx))
				return -1;
			i = t->end;
			break;
		case T_CLOSE:
		case T_COMMENT:
			break;
		}
	}
	return 0;
}

int
dz_template_render(const char *name, const char *tpl, size_t len,
    json_t *data, char **out, size_t *outlen, struct dz_err *err)
{
	struct tpl p;
	json_t *ctx[MAX_DEPTH + 2];
	int rc;

	*out = NULL;
	*outlen = 0;
	memset(&p, 0, sizeof p);
	p.name = name;
	p.err = err;
	ctx[0] = data;
	rc = tokenize(&p, tpl, len) || match_sections(&p) ||
	    emit(&p, "", 0) || render(&p, 0, p.n, ctx, 1) ? -1 : 0;
	free(p.t);
	if (rc) {
		free(p.out);
		return -1;
	}
	*out = p.out;
	*outlen = p.olen;
	return 0;
}
