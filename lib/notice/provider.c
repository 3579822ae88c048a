/*
 * lib/notice/provider: the provider directory. See provider.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/builtin.h"
#include "core/err.h"
#include "core/input.h"
#include "notice/provider.h"
#include "core/yamlev.h"

#define MAX_FILE_BYTES (4u << 20)
#define MAX_PROVIDERS 10000
#define MAX_DOMAINS 1000	/* per provider */
#define MAX_VALUE 2048

struct walk {
	struct dz_yaml y;
	struct dz_providers *p;
	struct dz_err *err;
};

static int
bad(struct walk *w, const char *what)
{
	return dz_err_set(w->err, EX_CONFIG, "%s:%lu: %s", w->y.name,
	    dz_yaml_line(&w->y.ev), what);
}

static int
is_scalar(const struct walk *w)
{
	return w->y.ev.type == YAML_SCALAR_EVENT;
}

static const char *
sval(const struct walk *w, size_t *n)
{
	*n = w->y.ev.data.scalar.length;
	return (const char *)w->y.ev.data.scalar.value;
}

static int
key_is(const struct walk *w, const char *k)
{
	size_t n;
	const char *v = sval(w, &n);

	return n == strlen(k) && memcmp(v, k, n) == 0;
}

/* Printable text without control characters, 1..max bytes, copied. */
static int
text_value(struct walk *w, size_t max, const char *what, char **out)
{
	size_t n, i;
	const char *v;

	if (!is_scalar(w) || dz_yaml_is_null(&w->y.ev))
		return dz_err_set(w->err, EX_CONFIG, "%s:%lu: %s: expected "
		    "text", w->y.name, dz_yaml_line(&w->y.ev), what);
	v = sval(w, &n);
	if (n == 0 || n > max)
		return dz_err_set(w->err, EX_CONFIG, "%s:%lu: %s: 1 to %zu "
		    "bytes", w->y.name, dz_yaml_line(&w->y.ev), what, max);
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] == 0x7f)
			return dz_err_set(w->err, EX_CONFIG, "%s:%lu: %s: "
			    "control character", w->y.name,
			    dz_yaml_line(&w->y.ev), what);
	if (*out)
		return dz_err_set(w->err, EX_CONFIG, "%s:%lu: %s given twice",
		    w->y.name, dz_yaml_line(&w->y.ev), what);
	if (!(*out = strndup(v, n)))
		return dz_err_set(w->err, EX_SOFTWARE, "out of memory");
	return 0;
}

/* A DNS name: labels of [a-z0-9-], not starting or ending with '-'. */
static int
domain_ok(const char *d)
{
	size_t n = strlen(d), label = 0;

	if (n == 0 || n > DZ_HOST_MAX || d[0] == '.' || d[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = d[i];

		if (c == '.') {
			if (label == 0 || d[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-') || (c == '-' && label == 0) || ++label > 63)
			return 0;
	}
	return d[n - 1] != '-';
}

int
dz_provider_address_ok(const char *s)
{
	const char *at = s ? strchr(s, '@') : NULL;
	size_t n;

	if (!at || at == s || strchr(at + 1, '@') || (n = strlen(s)) > 254 ||
	    at - s > 64)
		return 0;
	for (const char *c = s; c < at; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || strchr("!#$%&'*+/=?^_`{|}~.-",
		    *c)))
			return 0;
	if (s[0] == '.' || at[-1] == '.' || strstr(s, ".."))
		return 0;
	{
		char dom[DZ_HOST_MAX + 1];
		size_t dn = strlen(at + 1);

		if (dn > DZ_HOST_MAX || !strchr(at + 1, '.'))
			return 0;
		for (size_t i = 0; i <= dn; i++) {
			char c = at[1 + i];
			dom[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
		}
		return domain_ok(dom);
	}
}

static int
add_domain(struct walk *w, struct dz_provider *pr)
{
	char *d = NULL, **nd;

	if (text_value(w, DZ_HOST_MAX, "domains", &d))
		return -1;
	if (!domain_ok(d)) {
		free(d);
		return bad(w, "domains: not a lowercase domain name");
	}
	if (pr->ndomains >= MAX_DOMAINS) {
		free(d);
		return bad(w, "domains: too many");
	}
	if (!(nd = realloc(pr->domains, (pr->ndomains + 1) * sizeof *nd))) {
		free(d);
		return dz_err_set(w->err, EX_SOFTWARE, "out of memory");
	}
	pr->domains = nd;
	pr->domains[pr->ndomains++] = d;
	return 0;
}

static int
domains(struct walk *w, struct dz_provider *pr)
{
	if (is_scalar(w))	/* one domain, not in a list */
		return add_domain(w, pr);
	if (w->y.ev.type != YAML_SEQUENCE_START_EVENT)
		return bad(w, "domains: expected a list of domain names");
	for (;;) {
		if (dz_yaml_next(&w->y))
			return -1;
		if (w->y.ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (add_domain(w, pr))
			return -1;
	}
}

static int
provider(struct walk *w, struct dz_provider *pr)
{
	char *lang = NULL;
	unsigned long line = dz_yaml_line(&w->y.ev);
	int rc = 0;

	if (w->y.ev.type != YAML_MAPPING_START_EVENT)
		return bad(w, "providers: expected a mapping for each provider");
	strcpy(pr->language, "en");
	for (;;) {
		if (dz_yaml_next(&w->y))
			goto fail;
		if (w->y.ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (!is_scalar(w)) {
			bad(w, "expected a key");
			goto fail;
		}
		if (key_is(w, "name")) {
			if (dz_yaml_next(&w->y) ||
			    text_value(w, DZ_PROVIDER_NAME_MAX, "name",
			    &pr->name))
				goto fail;
		} else if (key_is(w, "domains")) {
			if (pr->domains) {
				bad(w, "domains given twice");
				goto fail;
			}
			if (dz_yaml_next(&w->y) || domains(w, pr))
				goto fail;
		} else if (key_is(w, "abuse") || key_is(w, "dsa_contact")) {
			char **f = key_is(w, "abuse") ? &pr->abuse :
			    &pr->dsa_contact;
			const char *k = f == &pr->abuse ? "abuse" :
			    "dsa_contact";

			if (dz_yaml_next(&w->y) || text_value(w, 254, k, f))
				goto fail;
			if (!dz_provider_address_ok(*f)) {
				bad(w, f == &pr->abuse ? "abuse: not an e-mail "
				    "address" : "dsa_contact: not an e-mail "
				    "address");
				goto fail;
			}
		} else if (key_is(w, "form")) {
			if (dz_yaml_next(&w->y) ||
			    text_value(w, MAX_VALUE, "form", &pr->form))
				goto fail;
			if (strncmp(pr->form, "https://", 8) &&
			    strncmp(pr->form, "http://", 7)) {
				bad(w, "form: expected an http or https URL");
				goto fail;
			}
		} else if (key_is(w, "language")) {
			if (dz_yaml_next(&w->y) ||
			    text_value(w, 2, "language", &lang))
				goto fail;
			if (strcmp(lang, "en") && strcmp(lang, "fr")) {
				bad(w, "language: en or fr");
				goto fail;
			}
			strcpy(pr->language, lang);
		} else {
			bad(w, "unknown key (name, domains, abuse, dsa_contact, "
			    "form and language are known)");
			goto fail;
		}
	}
	if (!pr->name || !pr->ndomains) {
		dz_err_set(w->err, EX_CONFIG, "%s:%lu: a provider needs a name "
		    "and domains", w->y.name, line);
		goto fail;
	}
	goto out;
fail:
	rc = -1;
out:
	free(lang);
	return rc;
}

static void
provider_release(struct dz_provider *pr)
{
	free(pr->name);
	for (size_t i = 0; i < pr->ndomains; i++)
		free(pr->domains[i]);
	free(pr->domains);
	free(pr->abuse);
	free(pr->dsa_contact);
	free(pr->form);
	memset(pr, 0, sizeof *pr);
}

static int
providers(struct walk *w)
{
	struct dz_providers *p = w->p;

	if (w->y.ev.type != YAML_SEQUENCE_START_EVENT)
		return bad(w, "providers: expected a list");
	for (;;) {
		struct dz_provider *nv;

		if (dz_yaml_next(&w->y))
			return -1;
		if (w->y.ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (p->n >= MAX_PROVIDERS)
			return bad(w, "providers: too many");
		if (!(nv = realloc(p->v, (p->n + 1) * sizeof *nv)))
			return dz_err_set(w->err, EX_SOFTWARE, "out of memory");
		p->v = nv;
		memset(&p->v[p->n], 0, sizeof p->v[p->n]);
		p->n++;
		if (provider(w, &p->v[p->n - 1]))
			return -1;
	}
}

static int
walk_top(struct walk *w)
{
	int r = dz_yaml_begin(&w->y), seen_version = 0, seen_list = 0;

	if (r)
		return r < 0 ? -1 : dz_err_set(w->err, EX_CONFIG,
		    "%s: no providers", w->y.name);
	if (w->y.ev.type != YAML_MAPPING_START_EVENT)
		return bad(w, "expected a mapping with version and providers");
	for (;;) {
		if (dz_yaml_next(&w->y))
			return -1;
		if (w->y.ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (!is_scalar(w))
			return bad(w, "expected a key");
		if (key_is(w, "version")) {
			if (seen_version++ || dz_yaml_next(&w->y))
				return seen_version > 1 ?
				    bad(w, "version given twice") : -1;
			if (!is_scalar(w) || !key_is(w, "1"))
				return bad(w, "version: this program reads "
				    "version 1");
		} else if (key_is(w, "providers")) {
			if (seen_list++)
				return bad(w, "providers given twice");
			if (dz_yaml_next(&w->y) || providers(w))
				return -1;
		} else {
			return bad(w, "unknown key (version and providers are "
			    "known)");
		}
	}
	if (!seen_version || !seen_list)
		return dz_err_set(w->err, EX_CONFIG, "%s: version and providers "
		    "are required", w->y.name);
	return dz_yaml_end(&w->y);
}

/* No domain may belong to two providers: which would get the notice? */
static int
check_unique(struct dz_providers *p, const char *name, struct dz_err *err)
{
	for (size_t i = 0; i < p->n; i++)
		for (size_t j = 0; j < p->v[i].ndomains; j++)
			for (size_t k = i; k < p->n; k++)
				for (size_t l = k == i ? j + 1 : 0;
				    l < p->v[k].ndomains; l++)
					if (!strcmp(p->v[i].domains[j],
					    p->v[k].domains[l]))
						return dz_err_set(err,
						    EX_CONFIG, "%s: the domain "
						    "'%s' is listed twice",
						    name, p->v[i].domains[j]);
	return 0;
}

int
dz_providers_parse(struct dz_providers *p, const char *name,
    const char *text, size_t len, struct dz_err *err)
{
	struct walk w;
	int rc;

	memset(p, 0, sizeof *p);
	if (!(p->source = strdup(name)))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	memset(&w, 0, sizeof w);
	w.p = p;
	w.err = err;
	if (dz_yaml_open(&w.y, name, text, len, err))
		rc = -1;
	else
		rc = walk_top(&w);
	dz_yaml_close(&w.y);
	if (!rc)
		rc = check_unique(p, name, err);
	if (rc)
		dz_providers_release(p);
	return rc;
}

int
dz_providers_load(struct dz_providers *p, const char *path,
    struct dz_err *err)
{
	uint8_t *buf;
	size_t len;
	const char *text;
	struct dz_err e;
	int rc;

	memset(p, 0, sizeof *p);
	if (!path) {
		if (!(text = dz_builtin("providers.yaml", &len)))
			return dz_err_set(err, EX_SOFTWARE,
			    "no built-in provider directory");
		return dz_providers_parse(p, "built-in providers.yaml", text,
		    len, err);
	}
	if (dz_file_read(path, MAX_FILE_BYTES, &buf, &len, &e))
		return dz_err_set(err, e.code == EX_DATAERR ? EX_CONFIG :
		    EX_NOINPUT, "provider directory: %s", e.msg);
	rc = dz_providers_parse(p, path, (const char *)buf, len, err);
	free(buf);
	return rc;
}

void
dz_providers_release(struct dz_providers *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		provider_release(&p->v[i]);
	free(p->v);
	free(p->source);
	memset(p, 0, sizeof *p);
}

const struct dz_provider *
dz_providers_find(const struct dz_providers *p, const char *host)
{
	const struct dz_provider *best = NULL;
	size_t best_len = 0, hl = strlen(host);

	for (size_t i = 0; i < p->n; i++)
		for (size_t j = 0; j < p->v[i].ndomains; j++) {
			const char *d = p->v[i].domains[j];
			size_t dl = strlen(d);

			if (dl > hl || dl <= best_len ||
			    strcmp(host + hl - dl, d) != 0 ||
			    (dl < hl && host[hl - dl - 1] != '.'))
				continue;
			best = &p->v[i];
			best_len = dl;
		}
	return best;
}

int
dz_url_host(const char *url, char *host, size_t cap)
{
	const char *s, *e, *at, *h;
	size_t n, i;

	if (!strncmp(url, "https://", 8))
		s = url + 8;
	else if (!strncmp(url, "http://", 7))
		s = url + 7;
	else
		return -1;
	e = s + strcspn(s, "/?#");
	/* the last '@' before the path ends a user part */
	for (at = NULL, h = s; h < e; h++)
		if (*h == '@')
			at = h;
	if (at)
		s = at + 1;
	if (*s == '[') {			/* an IPv6 literal */
		const char *rb = memchr(s, ']', (size_t)(e - s));

		if (!rb || rb == s + 1)
			return -1;
		s++;
		e = rb;
	} else {
		const char *colon = memchr(s, ':', (size_t)(e - s));

		if (colon)
			e = colon;
	}
	n = (size_t)(e - s);
	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n >= cap || n > DZ_HOST_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == ':' || c == '_'))
			return -1;
		host[i] = c;
	}
	host[n] = '\0';
	return 0;
}

/* Does any entry of p list the domain d? */
static int
listed(const struct dz_providers *p, const char *d)
{
	for (size_t i = 0; i < p->n; i++)
		for (size_t j = 0; j < p->v[i].ndomains; j++)
			if (strcmp(p->v[i].domains[j], d) == 0)
				return 1;
	return 0;
}

/* Does any entry of p have the name (compared without case)? */
static int
named(const struct dz_providers *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcasecmp(p->v[i].name, name) == 0)
			return 1;
	return 0;
}

int
dz_providers_open(struct dz_providers *p, const char *path, int replace,
    struct dz_err *err)
{
	struct dz_providers base, over;
	size_t n = 0;

	if (!path || replace)
		return dz_providers_load(p, path, err);
	memset(p, 0, sizeof *p);
	if (dz_providers_load(&base, NULL, err))
		return -1;
	if (dz_providers_load(&over, path, err)) {
		dz_providers_release(&base);
		return -1;
	}
	p->v = calloc(base.n + over.n, sizeof *p->v);
	p->source = strdup(path);
	if (!p->v || !p->source) {
		free(p->v);
		free(p->source);
		memset(p, 0, sizeof *p);
		dz_providers_release(&base);
		dz_providers_release(&over);
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	}
	for (size_t i = 0; i < base.n; i++) {
		struct dz_provider *b = &base.v[i];
		size_t k = 0;

		if (named(&over, b->name)) {
			provider_release(b);
			continue;
		}
		/* a domain the operator gives to an entry of theirs goes there */
		for (size_t j = 0; j < b->ndomains; j++) {
			if (listed(&over, b->domains[j]))
				free(b->domains[j]);
			else
				b->domains[k++] = b->domains[j];
		}
		b->ndomains = k;
		if (k == 0) {
			provider_release(b);
			continue;
		}
		p->v[n++] = *b;
	}
	for (size_t i = 0; i < over.n; i++)
		p->v[n++] = over.v[i];
	p->n = n;
	free(base.v);
	free(base.source);
	free(over.v);
	free(over.source);
	return 0;
}
