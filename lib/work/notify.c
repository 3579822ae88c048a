/*
 * lib/work/notify: one dz-notify run. See notify.h for the unit of work.
 *
 * A "job" is one message to write: a notice planned now or a pending one
 * from the store, with the URLs it covers. Planning groups URLs into
 * jobs; delivery renders each job's template with data drawn from the
 * store, formats it and hands it over.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/hex.h"
#include "core/builtin.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/input.h"
#include "core/record.h"
#include "notice/mail.h"
#include "work/notify.h"
#include "notice/provider.h"
#include "store/store.h"
#include "store/storenotice.h"
#include "store/storesecrets.h"
#include "notice/template.h"

#define TEMPLATE_MAX (256u << 10)
#define DEFAULT_FROM "disrupt hotline <notices@hotline.invalid>"
#define DEFAULT_HOTLINE "disrupt hotline"

struct job {
	char id[DZ_NOTICE_ID_LEN + 1];
	char kind[10];			/* provider, reminder, victim */
	char *provider, *recipient;
	char case_id[16];
	char language[8];
	char category[12];		/* provider, reminder: the ground */
	char message_id[DZ_MAIL_MSGID_MAX];
	char *in_reply_to;
	char created_at[DZ_TIME_LEN];
	char *orig_ref, *orig_date;	/* reminders */
	int minor;			/* victims */
	json_t *urls;		/* [{item, case, url, category, key}] */
};

/* A host the directory does not know, looked up once per run. */
struct host {
	char *host;
	int ok;				/* name and addr found */
	char name[DZ_PROVIDER_NAME_MAX + 1], addr[256];
	char reason[DZ_ERR_MAX];
};

struct run {
	struct dz_store *s;
	const struct dz_notify_opts *o;
	dz_notify_emit_fn emit;
	void *emit_ctx;
	struct dz_err *err;
	char now[DZ_TIME_LEN];
	const char *from;
	char domain[DZ_HOST_MAX + 1];	/* of from, for Message-IDs */
	json_t *hotline;		/* in notify.language */
	json_t *hotline_lang[2];	/* in fr, in en (setup) */
	struct job *jobs;
	size_t njobs;
	struct host *hosts;		/* the lookups of this run */
	size_t nhosts;
	int failed, temporary, unsendable, stop;
	/*
	 * The operator's records of the plan, held while the planning
	 * transaction is open: a reader that does not keep up with standard
	 * output must not hold the store's write lock.
	 */
	json_t *held;
};

/* Write the records held during planning, and hold no more. */
static int
release_held(struct run *r)
{
	json_t *held = r->held, *rec;
	size_t i;
	int rc = 0;

	r->held = NULL;
	json_array_foreach(held, i, rec)
		if (!rc && r->emit(json_incref(rec), r->emit_ctx)) {
			r->stop = 1;
			rc = dz_err_set(r->err, EX_IOERR, "cannot write a record");
		}
	json_decref(held);
	return rc;
}

static void
job_release(struct job *j)
{
	free(j->provider);
	free(j->recipient);
	free(j->in_reply_to);
	free(j->orig_ref);
	free(j->orig_date);
	json_decref(j->urls);
	memset(j, 0, sizeof *j);
}

static int
oom(struct run *r)
{
	r->stop = 1;
	return dz_err_set(r->err, EX_SOFTWARE, "out of memory");
}

/* The hotline as a message in lang says it (notify.trusted_flagger, help). */
static json_t *
hotline_for(const struct run *r, const char *lang)
{
	if (strcmp(lang, "fr") == 0 && r->hotline_lang[0])
		return r->hotline_lang[0];
	if (strcmp(lang, "en") == 0 && r->hotline_lang[1])
		return r->hotline_lang[1];
	return r->hotline;
}

static int
emit(struct run *r, json_t *rec)
{
	if (!rec)
		return oom(r);
	if (r->held) {	/* planning: written once the transaction is over */
		if (json_array_append_new(r->held, rec))
			return oom(r);
		return 0;
	}
	if (r->emit(rec, r->emit_ctx)) {
		r->stop = 1;
		return dz_err_set(r->err, EX_IOERR, "cannot write a record");
	}
	return 0;
}

/* ---------- templates ---------- */

int
dz_notify_template(const struct dz_config *cfg, const char *name,
    const char *lang, char **text, size_t *len, struct dz_err *err)
{
	char file[64], path[4200];
	const char *b;
	uint8_t *buf;
	struct dz_err e;

	*text = NULL;
	snprintf(file, sizeof file, "%s.%s.txt", name, lang);
	if (cfg->templates) {
		if ((size_t)snprintf(path, sizeof path, "%s/%s", cfg->templates,
		    file) >= sizeof path)
			return dz_err_set(err, EX_CONFIG, "notify.templates: "
			    "name too long");
		if (dz_file_read(path, TEMPLATE_MAX, &buf, len, &e) == 0) {
			*text = (char *)buf;
			return 0;
		}
		if (access(path, F_OK) == 0 || errno != ENOENT)
			return dz_err_set(err, EX_CONFIG, "template '%s': %s",
			    path, e.msg);
		/* not there: the built-in one */
	}
	snprintf(path, sizeof path, "templates/%s", file);
	if (!(b = dz_builtin(path, len)))
		return dz_err_set(err, EX_CONFIG, "no template %s", file);
	if (!(*text = malloc(*len + 1)))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	memcpy(*text, b, *len);
	(*text)[*len] = '\0';
	return 0;
}

static int
have_template(const struct dz_config *cfg, const char *name,
    const char *lang)
{
	struct dz_err e;
	char *t;
	size_t n;

	if (!lang || strlen(lang) > 5 || strspn(lang,
	    "abcdefghijklmnopqrstuvwxyz") != strlen(lang))
		return 0;
	if (dz_notify_template(cfg, name, lang, &t, &n, &e))
		return 0;
	free(t);
	return 1;
}

/*
 * Render template name.lang with data into a subject and a body (both
 * malloc'd): the first line of the result is "Subject: ...", then an
 * optional empty line, then the body.
 */
static int
render(const struct dz_config *cfg, const char *name, const char *lang,
    json_t *data, char **subject, char **body, struct dz_err *err)
{
	char *tpl, *out, *nl, tname[64];
	size_t len, olen;
	int rc;

	*subject = *body = NULL;
	if (dz_notify_template(cfg, name, lang, &tpl, &len, err))
		return -1;
	snprintf(tname, sizeof tname, "%s.%s.txt", name, lang);
	rc = dz_template_render(tname, tpl, len, data, &out, &olen, err);
	free(tpl);
	if (rc)
		return -1;
	if (strncmp(out, "Subject: ", 9) || !(nl = strchr(out, '\n'))) {
		free(out);
		return dz_err_set(err, EX_CONFIG, "template %s: the first line "
		    "must be 'Subject: ...'", tname);
	}
	*nl = '\0';
	if (!(*subject = strdup(out + 9)) ||
	    !(*body = strdup(nl[1] == '\n' ? nl + 2 : nl + 1))) {
		free(*subject);
		*subject = NULL;
		free(out);
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	}
	free(out);
	return 0;
}

/* "5 December 2026" or "5 décembre 2026" from an RFC 3339 time. */
static void
long_date(const char *rfc3339, const char *lang, char *out, size_t n)
{
	static const char *const en[] = { "January", "February", "March",
	    "April", "May", "June", "July", "August", "September", "October",
	    "November", "December" };
	static const char *const fr[] = { "janvier", "f\u00e9vrier", "mars",
	    "avril", "mai", "juin", "juillet", "ao\u00fbt", "septembre",
	    "octobre", "novembre", "d\u00e9cembre" };
	int y, m, d;
	size_t mi;

	if (!rfc3339 || sscanf(rfc3339, "%4d-%2d-%2d", &y, &m, &d) != 3 ||
	    (mi = (size_t)m - 1) >= 12) {
		snprintf(out, n, "%s", rfc3339 ? rfc3339 : "");
		return;
	}
	snprintf(out, n, "%d%s %s %d", d, !strcmp(lang, "fr") && d == 1 ?
	    "er" : "", !strcmp(lang, "fr") ? fr[mi] : en[mi], y);
}

/* ---------- planning ---------- */

static struct job *
new_job(struct run *r, const char *kind)
{
	struct job *nj, *j;

	if (!(nj = realloc(r->jobs, (r->njobs + 1) * sizeof *nj))) {
		oom(r);
		return NULL;
	}
	r->jobs = nj;
	j = &r->jobs[r->njobs];
	memset(j, 0, sizeof *j);
	snprintf(j->kind, sizeof j->kind, "%s", kind);
	snprintf(j->created_at, sizeof j->created_at, "%s", r->now);
	if (dz_mail_message_id(r->domain, j->message_id, sizeof j->message_id,
	    r->err)) {
		r->stop = 1;
		return NULL;
	}
	/* the Message-ID's random part doubles as the notice id */
	for (size_t i = 0; i < DZ_NOTICE_ID_LEN; i++)
		j->id[i] = j->message_id[1 + i];
	j->id[DZ_NOTICE_ID_LEN] = '\0';
	for (size_t i = 0; i < DZ_NOTICE_ID_LEN; i++)
		if (dz_hex_digit((unsigned char)j->id[i], DZ_HEX_LOWER) < 0)
			j->id[0] = '\0';
	if (!j->id[0]) {
		dz_err_set(r->err, EX_SOFTWARE, "unexpected Message-ID form");
		r->stop = 1;
		return NULL;
	}
	if (!(j->urls = json_array())) {
		oom(r);
		return NULL;
	}
	r->njobs++;
	return j;
}

/* The job of this kind for provider and address (created if none). */
static struct job *
group(struct run *r, const char *kind, const char *provider,
    const char *recipient, const char *lang, const char *category,
    const char *in_reply_to)
{
	struct job *j;

	for (size_t i = 0; i < r->njobs; i++) {
		j = &r->jobs[i];
		if (!strcmp(j->kind, kind) && j->provider &&
		    !strcmp(j->provider, provider) &&
		    !strcmp(j->recipient, recipient) &&
		    !strcmp(j->language, lang) &&
		    !strcmp(j->category, category) &&
		    (!in_reply_to || (j->in_reply_to &&
		    !strcmp(j->in_reply_to, in_reply_to))))
			return j;
	}
	if (!(j = new_job(r, kind)))
		return NULL;
	snprintf(j->language, sizeof j->language, "%s", lang);
	snprintf(j->category, sizeof j->category, "%s", category);
	if (!(j->provider = strdup(provider)) ||
	    !(j->recipient = strdup(recipient)) ||
	    (in_reply_to && !(j->in_reply_to = strdup(in_reply_to)))) {
		oom(r);
		return NULL;
	}
	return j;
}

int
dz_notify_url_key(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://"), *auth, *end, *port = NULL, *frag;
	size_t slen, alen, rlen, k;
	int https, http;

	if (!n)
		return -1;
	frag = strchr(url, '#');
	rlen = frag ? (size_t)(frag - url) : strlen(url);
	if (!p || p > url + rlen || p == url) {	/* not scheme://: as it is */
		if (rlen >= n)
			return -1;
		memcpy(out, url, rlen);
		out[rlen] = '\0';
		return 0;
	}
	slen = (size_t)(p - url);
	auth = p + 3;
	end = auth + strcspn(auth, "/?#");
	for (const char *q = end; q > auth; q--)
		if (q[-1] == ':') {
			port = q - 1;
			break;
		} else if (!isdigit((unsigned char)q[-1])) {
			break;
		}
	http = slen == 4 && !strncasecmp(url, "http", 4);
	https = slen == 5 && !strncasecmp(url, "https", 5);
	alen = (size_t)(end - auth);
	if (port && (end - port == 1 || (http && !strncmp(port, ":80", 3) &&
	    end - port == 3) || (https && !strncmp(port, ":443", 4) &&
	    end - port == 4)))
		alen = (size_t)(port - auth);	/* the default port */
	if (slen + 3 + alen + 1 + (size_t)(url + rlen - end) >= n)
		return -1;
	for (k = 0; k < slen; k++)
		out[k] = (char)tolower((unsigned char)url[k]);
	memcpy(out + k, "://", 3);
	k += 3;
	for (size_t i = 0; i < alen; i++)	/* user info is kept as is */
		out[k++] = memchr(auth, '@', alen) && auth + i <
		    (const char *)memchr(auth, '@', alen) ? auth[i] :
		    (char)tolower((unsigned char)auth[i]);
	if (end == url + rlen || *end != '/')
		out[k++] = '/';		/* an empty path is "/" */
	memcpy(out + k, end, (size_t)(url + rlen - end));
	k += (size_t)(url + rlen - end);
	out[k] = '\0';
	return 0;
}

/* The key of u's URL, into key (the URL itself when it is too long). */
static void
url_key(const char *url, char key[DZ_NOTIFY_KEY_MAX])
{
	if (dz_notify_url_key(url, key, DZ_NOTIFY_KEY_MAX))
		snprintf(key, DZ_NOTIFY_KEY_MAX, "%s", url);
}

static json_t *
url_entry(const struct dz_store_url *u)
{
	char key[DZ_NOTIFY_KEY_MAX];

	url_key(u->url, key);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s?}", "item", u->item_id,
	    "case", u->case_id, "url", u->url, "category", u->category, "key",
	    key, "still_online_at", u->still_online_at);
}

static int
add_url(struct run *r, struct job *j, const struct dz_store_url *u)
{
	json_t *o = url_entry(u);

	if (!o || json_array_append_new(j->urls, o))
		return oom(r);
	return 0;
}

/* Has the job an entry with this key before index before? */
static int
job_has_key(const struct job *j, const char *key, size_t before)
{
	json_t *v;
	size_t i;

	json_array_foreach(j->urls, i, v) {
		if (i >= before)
			break;
		if (!strcmp(json_string_value(json_object_get(v, "key")), key))
			return 1;
	}
	return 0;
}

/* The job's URLs, each once (its items may share one). */
static json_t *
distinct_urls(const struct job *j)
{
	json_t *out = json_array(), *v;
	size_t i;

	if (!out)
		return NULL;
	json_array_foreach(j->urls, i, v)
		if (!job_has_key(j, json_string_value(json_object_get(v,
		    "key")), i) && json_array_append(out, v)) {
			json_decref(out);
			return NULL;
		}
	return out;
}

static int
operator_record(struct run *r, const char *type, const struct dz_store_url *u,
    const char *host, const struct dz_provider *p, const char *reason)
{
	json_t *rec = json_pack("{s:s,s:s,s:s}", "type", type, "item",
	    u->item_id, "case", u->case_id);

	if (rec && host)
		json_object_set_new(rec, "host", json_string(host));
	if (rec && p) {
		json_object_set_new(rec, "provider", json_string(p->name));
		if (p->form)
			json_object_set_new(rec, "form", json_string(p->form));
	}
	if (rec && reason)
		json_object_set_new(rec, "reason", json_string(reason));
	return emit(r, rec);
}

/* ---------- lookups, before any transaction ---------- */

static const struct host *
find_host(const struct run *r, const char *host)
{
	for (size_t i = 0; i < r->nhosts; i++)
		if (!strcmp(r->hosts[i].host, host))
			return &r->hosts[i];
	return NULL;
}

/* A due URL whose host the directory does not know: remember the host. */
static int
collect_host(const struct dz_store_url *u, void *arg)
{
	struct run *r = arg;
	char host[DZ_HOST_MAX + 1];
	struct host *nh;

	if (dz_url_host(u->url, host, sizeof host) ||
	    dz_providers_find(r->o->providers, host) || find_host(r, host))
		return 0;
	if (!(nh = realloc(r->hosts, (r->nhosts + 1) * sizeof *nh)))
		return oom(r), 1;
	r->hosts = nh;
	nh = &r->hosts[r->nhosts];
	memset(nh, 0, sizeof *nh);
	if (!(nh->host = strdup(host)))
		return oom(r), 1;
	r->nhosts++;
	return 0;
}

/*
 * Look up every host the due URLs need, once each (the cache of this
 * run), holding no transaction: a slow DNS or RDAP server must not keep
 * dz-ingest from recording verdicts and reports meanwhile. The list of
 * hosts is read in a read transaction, which takes no write lock, and
 * ended before the first lookup.
 */
static int
look_up_hosts(struct run *r)
{
	const struct dz_notify_opts *o = r->o;

	if (dz_store_read_begin(r->s, r->err))
		return -1;
	if (dz_store_urls_due(r->s, collect_host, r, r->err) || r->stop) {
		dz_store_read_end(r->s);
		return -1;
	}
	dz_store_read_end(r->s);
	for (size_t i = 0; i < r->nhosts; i++) {
		struct host *h = &r->hosts[i];
		struct dz_err e;

		dz_err_clear(&e);
		if (o->resolve(h->host, h->name, sizeof h->name, h->addr,
		    sizeof h->addr, o->resolve_ctx, &e) ||
		    !dz_provider_address_ok(h->addr))
			snprintf(h->reason, sizeof h->reason, "%s", e.msg[0] ?
			    e.msg : "no abuse contact found");
		else
			h->ok = 1;
	}
	return 0;
}

/*
 * One URL, one notice: an item whose URL (its key) a provider notice of
 * this run or of the store already covers joins that notice, which lists
 * the URL once. 1 when shared, 0 when not, -1 on failure.
 */
static int
share_url(struct run *r, const struct dz_store_url *u)
{
	char key[DZ_NOTIFY_KEY_MAX], id[DZ_NOTICE_ID_LEN + 1];
	json_t *rec;
	int found;

	url_key(u->url, key);
	for (size_t i = 0; i < r->njobs; i++) {
		struct job *j = &r->jobs[i];

		if (!strcmp(j->kind, "provider") &&
		    job_has_key(j, key, json_array_size(j->urls)))
			return add_url(r, j, u) ? -1 : 1;
	}
	if ((found = dz_store_notice_of_key(r->s, key, id, r->err)) < 0)
		return r->stop = 1, -1;
	if (!found)
		return 0;
	if (r->o->delivery != DZ_NOTIFY_DRY_RUN && dz_store_notice_share(r->s,
	    id, u->item_id, u->case_id, r->o->actor, r->now, r->err))
		return r->stop = 1, -1;
	rec = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", "notice",
	    "notice", id, "kind", "provider", "state", "shared", "item",
	    u->item_id, "case", u->case_id);
	return emit(r, rec) ? -1 : 1;
}

/* Record every URL's key before planning (dry runs record nothing). */
static int
key_item(const char *item_id, const char *url, void *arg)
{
	json_t *todo = arg, *o;
	char key[DZ_NOTIFY_KEY_MAX];

	url_key(url, key);
	o = json_pack("[s,s]", item_id, key);
	return !o || json_array_append_new(todo, o);
}

static int
record_keys(struct run *r)
{
	json_t *todo = json_array(), *v;
	size_t i;
	int rc = 0;

	if (!todo)
		return oom(r);
	if (dz_store_urls_unkeyed(r->s, key_item, todo, r->err)) {
		json_decref(todo);
		return -1;
	}
	json_array_foreach(todo, i, v) {
		if (!json_is_array(v) || json_array_size(v) != 2) {
			rc = oom(r);
			break;
		}
		if ((rc = dz_store_item_url_key(r->s, json_string_value(
		    json_array_get(v, 0)), json_string_value(json_array_get(v,
		    1)), r->err)))
			break;
	}
	json_decref(todo);
	return rc;
}

/* A URL due a first notice: to its provider's job, or to the operator. */
static int
plan_url(const struct dz_store_url *u, void *arg)
{
	struct run *r = arg;
	const struct dz_notify_opts *o = r->o;
	const struct dz_provider *p;
	char host[DZ_HOST_MAX + 1];
	struct job *j;
	int shared;

	if ((shared = share_url(r, u)))
		return shared < 0;
	if (dz_url_host(u->url, host, sizeof host))
		return operator_record(r, "unresolved", u, NULL, NULL,
		    "the URL has no usable host") ? 1 : 0;
	if ((p = dz_providers_find(o->providers, host))) {
		const char *to = p->abuse ? p->abuse : p->dsa_contact;

		if (!to)
			return operator_record(r, "manual", u, host, p,
			    "the provider takes notices by its form only") ?
			    1 : 0;
		j = group(r, "provider", p->name, to, p->language,
		    u->category, NULL);
	} else if (o->resolve) {
		const struct host *h = find_host(r, host);

		if (!h)		/* due since the lookups began */
			return operator_record(r, "unresolved", u, host, NULL,
			    "reported during this run: looked up on the next") ?
			    1 : 0;
		if (!h->ok)
			return operator_record(r, "unresolved", u, host, NULL,
			    h->reason) ? 1 : 0;
		j = group(r, "provider", h->name, h->addr, "en", u->category,
		    NULL);
	} else {
		return operator_record(r, "unresolved", u, host, NULL,
		    "no provider in the directory") ? 1 : 0;
	}
	if (!j || add_url(r, j, u))
		return 1;
	return 0;
}

/*
 * Reminders ran out (notify.max_reminders): no third one, but the
 * provider's silence recorded (no_answer) and an escalation for the
 * desk's queue.
 */
static int
escalate(struct run *r, const struct dz_store_url *u)
{
	json_t *rec;

	if (r->o->delivery != DZ_NOTIFY_DRY_RUN &&
	    dz_store_escalate(r->s, u, r->o->actor, r->now, r->err))
		return r->stop = 1, 1;
	rec = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:i,s:s}", "type",
	    "escalation", "item", u->item_id, "case", u->case_id, "notice",
	    u->first_notice, "provider", u->provider, "reminders",
	    u->reminders, "reason", "no answer after the reminders: "
	    "escalate to the DSA coordinator");
	return emit(r, rec) ? 1 : 0;
}

static int
plan_reminder(const struct dz_store_url *u, void *arg)
{
	struct run *r = arg;
	struct job *j;

	if (!u->provider || !u->recipient || !u->language ||
	    !u->first_message_id)
		return 0;
	if (u->reminders >= r->o->cfg->max_reminders)
		return escalate(r, u);
	j = group(r, "reminder", u->provider, u->recipient, u->language,
	    u->category, u->first_message_id);
	if (!j)
		return 1;
	if (!j->orig_ref && (!(j->orig_ref = strdup(u->first_notice)) ||
	    !(j->orig_date = strdup(u->first_sent_at))))
		return oom(r), 1;
	return add_url(r, j, u) ? 1 : 0;
}

static int
plan_victim(const char *case_id, const char *language, int minor, void *arg)
{
	struct run *r = arg;
	struct job *j = new_job(r, "victim");

	if (!j)
		return 1;
	snprintf(j->case_id, sizeof j->case_id, "%s", case_id);
	snprintf(j->language, sizeof j->language, "%s",
	    have_template(r->o->cfg, "victim", language) ? language :
	    have_template(r->o->cfg, "victim", r->o->cfg->notice_language) ?
	    r->o->cfg->notice_language : "fr");
	j->minor = minor;
	return 0;
}

static int
record_plan(struct run *r)
{
	for (size_t i = 0; i < r->njobs; i++) {
		struct job *j = &r->jobs[i];
		struct dz_store_notice n;
		const char **items = NULL;
		size_t k, nitems = json_array_size(j->urls);
		int rc;

		memset(&n, 0, sizeof n);
		n.id = j->id;
		n.kind = j->kind;
		n.provider = j->provider;
		n.recipient = j->recipient;
		n.case_id = j->case_id[0] ? j->case_id : NULL;
		n.language = j->language;
		n.message_id = j->message_id;
		n.in_reply_to = j->in_reply_to;
		n.created_at = j->created_at;
		n.category = j->category[0] ? j->category : NULL;
		if (nitems && !(items = calloc(nitems, sizeof *items)))
			return oom(r);
		for (k = 0; k < nitems; k++)
			items[k] = json_string_value(json_object_get(
			    json_array_get(j->urls, k), "item"));
		rc = dz_store_notice_insert(r->s, &n, items, nitems,
		    r->o->actor, r->err);
		free(items);
		if (rc)
			return -1;
	}
	return 0;
}

/* ---------- pending notices from the store ---------- */

static int
url_to_job(const struct dz_store_url *u, void *arg)
{
	struct job *j = arg;
	json_t *o = url_entry(u);

	return !o || json_array_append_new(j->urls, o);
}

static int
orig_of(const struct dz_store_notice *n, void *arg)
{
	struct job *j = arg;

	if (j->orig_ref)
		return 0;	/* planned in this (dry) run */
	j->orig_ref = strdup(n->id);
	j->orig_date = n->sent_at ? strdup(n->sent_at) :
	    strdup(n->created_at);
	return 0;
}

static int
pending_job(const struct dz_store_notice *n, void *arg)
{
	struct run *r = arg;
	struct job *nj, *j;

	if (!(nj = realloc(r->jobs, (r->njobs + 1) * sizeof *nj)))
		return oom(r), 1;
	r->jobs = nj;
	j = &r->jobs[r->njobs++];
	memset(j, 0, sizeof *j);
	snprintf(j->id, sizeof j->id, "%s", n->id);
	snprintf(j->kind, sizeof j->kind, "%s", n->kind);
	snprintf(j->case_id, sizeof j->case_id, "%s",
	    n->case_id ? n->case_id : "");
	snprintf(j->language, sizeof j->language, "%s", n->language);
	snprintf(j->category, sizeof j->category, "%s",
	    n->category ? n->category : "");
	snprintf(j->message_id, sizeof j->message_id, "%s", n->message_id);
	snprintf(j->created_at, sizeof j->created_at, "%s", n->created_at);
	if ((n->provider && !(j->provider = strdup(n->provider))) ||
	    (n->recipient && !(j->recipient = strdup(n->recipient))) ||
	    (n->in_reply_to && !(j->in_reply_to = strdup(n->in_reply_to))) ||
	    !(j->urls = json_array()))
		return oom(r), 1;
	return 0;
}

/* Fill the pending jobs' URLs, originals and victims' flags. */
static int
complete_jobs(struct run *r)
{
	for (size_t i = 0; i < r->njobs; i++) {
		struct job *j = &r->jobs[i];

		if (strcmp(j->kind, "victim")) {
			if (dz_store_notice_urls(r->s, j->id, url_to_job, j,
			    r->err))
				return -1;
		} else {
			json_t *c;

			if (dz_store_case_get(r->s, j->case_id, &c, r->err) < 0)
				return -1;
			j->minor = c && json_is_true(json_object_get(c,
			    "minor"));
			json_decref(c);
		}
		if (j->in_reply_to && dz_store_notice_by_message_id(r->s,
		    j->in_reply_to, orig_of, j, r->err) < 0)
			return -1;
	}
	return 0;
}

/* ---------- the message data ---------- */

struct hashes_ctx {
	json_t *list;
	int oom;
};

/*
 * One hash for a notice's list. A video's vPDQ signature is a JSON list
 * of every frame's hash, far too long for a mail: the notice gives its
 * count of frames ("vpdq_frames 12") beside the video's MD5, and leaves
 * the signature out.
 */
static int
hash_item(const char *signal, const char *value, void *arg)
{
	struct hashes_ctx *h = arg;
	char frames[32];
	size_t i;
	json_t *e;

	if (strcmp(signal, "vpdq") == 0) {
		json_t *sig = json_loads(value, 0, NULL);

		snprintf(frames, sizeof frames, "%zu", json_array_size(sig));
		json_decref(sig);
		signal = "vpdq_frames";
		value = frames;
	} else {
		json_array_foreach(h->list, i, e)
			if (!strcmp(json_string_value(json_object_get(e,
			    "value")), value))
				return 0;
	}
	e = json_pack("{s:s,s:s}", "signal", signal, "value", value);
	if (!e || json_array_append_new(h->list, e)) {
		h->oom = 1;
		return 1;
	}
	return 0;
}

/* The data of a provider notice or reminder. */
static json_t *
provider_data(struct run *r, const struct job *j)
{
	struct hashes_ctx h = { json_array(), 0 };
	json_t *d, *u, *urls = distinct_urls(j);
	int adult = 0, minor = 0, other = 0;
	char date[64], odate[64];
	size_t i;

	if (!urls) {
		json_decref(h.list);
		oom(r);
		return NULL;
	}
	/* "still accessible" only where an operator saw it, since */
	json_array_foreach(urls, i, u) {
		const char *at = json_string_value(json_object_get(u,
		    "still_online_at"));
		int still = at && j->orig_date && strcmp(at, j->orig_date) > 0;
		json_t *c = json_copy(u);

		if (!c || json_array_set_new(urls, i, c)) {
			json_decref(h.list);
			json_decref(urls);
			oom(r);
			return NULL;
		}
		json_object_set_new(c, "still_online", json_boolean(still));
		if (still) {
			long_date(at, j->language, date, sizeof date);
			json_object_set_new(c, "checked", json_string(date));
		}
	}
	json_array_foreach(j->urls, i, u) {
		const char *cat = json_string_value(json_object_get(u,
		    "category"));
		const char *cid = json_string_value(json_object_get(u, "case"));
		size_t k;
		json_t *v;
		int seen = 0;

		adult |= !strcmp(cat, "adult_ncii");
		minor |= !strcmp(cat, "minor");
		other |= !strcmp(cat, "other");
		json_array_foreach(j->urls, k, v) {	/* each case once */
			if (k >= i)
				break;
			if (!strcmp(json_string_value(json_object_get(v,
			    "case")), cid))
				seen = 1;
		}
		if (!seen && h.list && dz_store_case_hashes(r->s, cid,
		    hash_item, &h, r->err)) {
			json_decref(h.list);
			json_decref(urls);
			r->stop = 1;
			return NULL;
		}
	}
	if (!h.list || h.oom) {
		json_decref(h.list);
		json_decref(urls);
		oom(r);
		return NULL;
	}
	long_date(j->created_at, j->language, date, sizeof date);
	long_date(j->orig_date, j->language, odate, sizeof odate);
	d = json_pack("{s:O,s:s,s:s,s:s,s:o,s:b,s:b,s:b,s:o,s:b,s:b}",
	    "hotline", hotline_for(r, j->language), "reference", j->id,
	    "provider", j->provider, "date", date, "urls", urls,
	    "any_adult", adult, "any_minor",
	    minor, "any_other", other, "hashes", h.list, "has_hashes",
	    json_array_size(h.list) > 0, "reminder",
	    !strcmp(j->kind, "reminder"));
	if (d && j->orig_ref) {
		json_object_set_new(d, "original_reference",
		    json_string(j->orig_ref));
		json_object_set_new(d, "original_date", json_string(odate));
	}
	if (!d)
		oom(r);
	return d;
}

/* The data of a victim's answer. */
static json_t *
victim_data(struct run *r, const struct job *j)
{
	struct dz_store_case_summary sum;
	json_t *d, *prov;
	int64_t pending;

	if (dz_store_case_summary(r->s, j->case_id, &sum, r->err)) {
		r->stop = 1;
		return NULL;
	}
	if (!(prov = json_array())) {
		dz_store_case_summary_release(&sum);
		oom(r);
		return NULL;
	}
	for (size_t i = 0; i < sum.nproviders; i++)
		json_array_append_new(prov, json_pack("{s:s}", "name",
		    sum.providers[i]));
	pending = sum.urls - sum.urls_notified - sum.urls_removed;
	if (pending < 0)
		pending = 0;
	d = json_pack("{s:O,s:s,s:b,s:I,s:b,s:I,s:b,s:o,s:I,s:b,s:b,s:i}",
	    "hotline", hotline_for(r, j->language), "reference", j->case_id,
	    "minor", j->minor,
	    "hashed", (json_int_t)sum.hashed, "has_hashed", sum.hashed > 0,
	    "urls_notified", (json_int_t)sum.urls_notified, "notified",
	    sum.urls_notified > 0, "providers", prov, "pending",
	    (json_int_t)pending, "has_pending", pending > 0, "has_actions",
	    sum.hashed > 0 || sum.urls_notified > 0 || pending > 0,
	    "retention_days", r->o->cfg->personal_data_days);
	dz_store_case_summary_release(&sum);
	if (!d)
		oom(r);
	return d;
}

/*
 * The victim's e-mail address, decrypted: malloc'd, or NULL with why and
 * *hard set when it is a failure rather than an answer that cannot be
 * written (purged, or a phone number only).
 */
static char *
victim_address(struct run *r, const struct job *j, const char **why,
    int *hard)
{
	json_t *rec = json_pack("{s:s}", "case", j->case_id), *c;
	const char *email;
	char *out = NULL;
	struct dz_err e;

	*why = "the contact was purged";
	*hard = 1;
	if (!rec) {
		*why = "out of memory";
		return NULL;
	}
	if (!r->o->master) {
		*why = "no master key to open the contact";
	} else if (dz_store_secrets_add(r->s, r->o->master, rec,
	    DZ_SECRETS_CONTACT, &e)) {
		*why = "the contact cannot be decrypted";
	} else if ((c = json_object_get(rec, "contact"))) {
		email = json_string_value(json_object_get(c, "email"));
		*hard = 0;
		if (!email)
			*why = "the contact has no e-mail address: answer by "
			    "phone";
		else if (!(out = strdup(email)))
			*why = "out of memory", *hard = 1;
	} else {
		*hard = 0;	/* purged */
	}
	/* the decrypted contact goes with the record */
	dz_store_secrets_wipe(rec);
	json_decref(rec);
	return out;
}

/* ---------- delivery ---------- */

static json_t *
notice_record(const struct job *j, const char *state)
{
	json_t *rec = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", "notice",
	    "notice", j->id, "kind", j->kind, "language", j->language,
	    "message_id", j->message_id, "state", state);

	if (!rec)
		return NULL;
	if (j->provider)
		json_object_set_new(rec, "provider", json_string(j->provider));
	if (j->recipient)
		json_object_set_new(rec, "to", json_string(j->recipient));
	if (strcmp(j->kind, "victim")) {
		json_t *u = distinct_urls(j);

		json_object_set_new(rec, "urls",
		    json_integer((json_int_t)json_array_size(u)));
		json_decref(u);
		if (j->category[0])
			json_object_set_new(rec, "category",
			    json_string(j->category));
	}
	else
		json_object_set_new(rec, "case", json_string(j->case_id));
	return rec;
}

static int
dry_print(struct run *r, const char *msg)
{
	FILE *f = r->o->dry_out;

	if (fprintf(f, "From dz-notify Thu Jan  1 00:00:00 1970\n%s\n",
	    msg) < 0)
		return dz_err_set(r->err, EX_IOERR, "cannot write the messages");
	return 0;
}

/*
 * What becomes of a message that did not go: RETRY stays pending for the
 * next run; CANCEL can never go and needs nobody (the contact was purged,
 * or is a phone number: the operator's record says so); UNSENDABLE can
 * never go because something is wrong (an address lib/notice/mail refuses, a
 * contact that does not open, a message that cannot be formatted): it is
 * cancelled too, but reported as an error, and the run's exit says so.
 */
enum outcome { RETRY, CANCEL, UNSENDABLE };

/* Record a failed attempt (or a cancellation) and tell the operator. */
static int
failed(struct run *r, const struct job *j, const struct dz_err *why,
    enum outcome what)
{
	json_t *rec;
	struct dz_err e;
	int dry = r->o->delivery == DZ_NOTIFY_DRY_RUN;

	if (!dry && dz_store_notice_failed(r->s, j->id, why->msg, what != RETRY,
	    r->now, r->o->actor, &e)) {
		*r->err = e;
		r->stop = 1;
		return -1;
	}
	if (what == RETRY) {
		r->failed++;
		if (why->code != EX_TEMPFAIL)
			r->temporary = 0;
	}
	if (what == UNSENDABLE) {
		r->unsendable++;
		rec = dz_record_error("dz-notify", why->msg);
		if (rec) {
			json_object_set_new(rec, "notice", json_string(j->id));
			json_object_set_new(rec, "kind", json_string(j->kind));
			if (j->case_id[0])
				json_object_set_new(rec, "case",
				    json_string(j->case_id));
		}
		return emit(r, rec);
	}
	rec = notice_record(j, what == CANCEL ? "cancelled" : "pending");
	if (rec)
		json_object_set_new(rec, "reason", json_string(why->msg));
	return emit(r, rec);
}

static int
deliver(struct run *r, const struct job *j)
{
	const struct dz_notify_opts *o = r->o;
	struct dz_mail m;
	struct dz_err e;
	json_t *data, *rec;
	char *subject = NULL, *body = NULL, *msg = NULL, *victim = NULL;
	const char *to[1], *extra[2], *why = NULL;
	char ref[64], name[DZ_MAIL_NAME_MAX];
	const char *tname = !strcmp(j->kind, "victim") ? "victim" :
	    !strcmp(j->kind, "reminder") ? "reminder" : "notice";
	size_t len;
	int rc = -1, is_victim = !strcmp(j->kind, "victim"), hard;

	if (is_victim) {
		if (!(victim = victim_address(r, j, &why, &hard))) {
			dz_err_set(&e, EX_DATAERR, "%s", why);
			return failed(r, j, &e, hard ? UNSENDABLE : CANCEL);
		}
		to[0] = victim;
		data = victim_data(r, j);
	} else {
		to[0] = j->recipient;
		data = provider_data(r, j);
	}
	if (!data)
		goto out;
	if (render(o->cfg, tname, j->language, data, &subject, &body, r->err)) {
		r->stop = 1;
		goto out;
	}
	snprintf(ref, sizeof ref, "X-DZ-Reference: %s", j->id);
	extra[0] = ref;
	extra[1] = "Auto-Submitted: auto-generated";
	memset(&m, 0, sizeof m);
	m.from = r->from;
	m.to = to;
	m.nto = 1;
	m.subject = subject;
	m.body = body;
	m.message_id = j->message_id;
	m.in_reply_to = j->in_reply_to;
	m.date = j->created_at;
	m.extra = extra;
	m.nextra = is_victim ? 1 : 2;
	if (dz_mail_format(&m, &msg, &len, &e)) {
		rc = failed(r, j, &e, e.code == EX_DATAERR ? UNSENDABLE : RETRY);
		goto out;
	}
	switch (o->delivery) {
	case DZ_NOTIFY_DRY_RUN:
		if (dry_print(r, msg)) {
			r->stop = 1;
			goto out;
		}
		rc = emit(r, notice_record(j, "dry-run"));
		goto out;
	case DZ_NOTIFY_MAILDIR:
		rc = dz_mail_maildir_once(o->maildir, j->message_id, msg, len,
		    name, sizeof name, &e);
		break;
	case DZ_NOTIFY_SENDMAIL:
	default:
		rc = dz_mail_sendmail(o->cfg->mta, msg, len, &e);
		break;
	}
	if (rc) {
		rc = failed(r, j, &e, RETRY);
		goto out;
	}
	if (dz_store_notice_sent(r->s, j->id, o->delivery == DZ_NOTIFY_MAILDIR ?
	    "maildir" : "sendmail", r->now, o->actor, r->err)) {
		r->stop = 1;
		rc = -1;
		goto out;
	}
	rec = notice_record(j, "sent");
	if (rec)
		json_object_set_new(rec, "delivery", json_string(
		    o->delivery == DZ_NOTIFY_MAILDIR ? "maildir" : "sendmail"));
	rc = emit(r, rec);
out:
	json_decref(data);
	free(subject);
	free(body);
	if (msg)
		OPENSSL_cleanse(msg, len);	/* a victim's address is in it */
	free(msg);
	if (victim)
		OPENSSL_cleanse(victim, strlen(victim));
	free(victim);
	return rc;
}

/* ---------- the run ---------- */

/* The addr-spec inside "Name <addr>" or addr alone, into out. */
static int
address_of(const char *from, char *out, size_t n)
{
	const char *lt = strrchr(from, '<'), *gt;

	if (lt && (gt = strchr(lt, '>')) && (size_t)(gt - lt - 1) < n) {
		memcpy(out, lt + 1, (size_t)(gt - lt - 1));
		out[gt - lt - 1] = '\0';
	} else if (strlen(from) < n) {
		strcpy(out, from);
	} else {
		return -1;
	}
	return dz_provider_address_ok(out) ? 0 : -1;
}

static int
setup(struct run *r)
{
	const struct dz_config *cfg = r->o->cfg;
	char addr[256];
	const char *at;

	if (!cfg->notice_from && r->o->delivery == DZ_NOTIFY_SENDMAIL)
		return dz_err_set(r->err, EX_CONFIG, "set notify.from (the "
		    "sender of notices) before sending mail; --maildir and "
		    "--dry-run work without it");
	r->from = cfg->notice_from ? cfg->notice_from : DEFAULT_FROM;
	if (address_of(r->from, addr, sizeof addr))
		return dz_err_set(r->err, EX_CONFIG, "notify.from: not a mail "
		    "address");
	at = strchr(addr, '@');
	snprintf(r->domain, sizeof r->domain, "%s", at + 1);
	if (cfg->notice_contact && !dz_provider_address_ok(cfg->notice_contact))
		return dz_err_set(r->err, EX_CONFIG, "notify.contact: not a "
		    "mail address");
	r->hotline = json_pack("{s:s,s:s}", "name", cfg->hotline ?
	    cfg->hotline : DEFAULT_HOTLINE, "email", cfg->notice_contact ?
	    cfg->notice_contact : addr);
	if (!r->hotline)
		return oom(r);
	if (cfg->hotline_address)
		json_object_set_new(r->hotline, "address",
		    json_string(cfg->hotline_address));
	/*
	 * notify.trusted_flagger and notify.help per language (a string is
	 * every language's): the hotline as a message in fr or en gives it.
	 */
	for (int l = 0; l < 3; l++) {
		const char *lang = l == 0 ? "fr" : l == 1 ? "en" :
		    cfg->notice_language;
		const char *tf = dz_config_text(cfg, "trusted_flagger", lang);
		const char *help = dz_config_text(cfg, "help", lang);
		json_t *h = l < 2 ? json_deep_copy(r->hotline) : r->hotline;

		if (!h || (tf && json_object_set_new(h, "trusted_flagger",
		    json_string(tf))) || (help && json_object_set_new(h, "help",
		    json_string(help)))) {
			if (l < 2)
				json_decref(h);
			return oom(r);
		}
		if (l < 2)
			r->hotline_lang[l] = h;
	}
	/* every template must render before anything is planned */
	{
		static const char *const names[] = { "notice", "reminder",
		    "victim" };
		static const char *const langs[] = { "en", "fr" };
		json_t *empty = json_object();

		if (!empty)
			return oom(r);
		for (size_t i = 0; i < 3; i++)
			for (size_t k = 0; k < 2; k++) {
				char *subject, *body;

				if (render(cfg, names[i], langs[k], empty,
				    &subject, &body, r->err)) {
					json_decref(empty);
					return -1;
				}
				free(subject);
				free(body);
			}
		json_decref(empty);
	}
	return 0;
}

int
dz_notify_run(struct dz_store *s, const struct dz_notify_opts *o,
    dz_notify_emit_fn emit_fn, void *ctx, int *nfailed, int *temporary,
    int *unsendable, struct dz_err *err)
{
	struct run r;
	int lock = -1, rc = -1, dry = o->delivery == DZ_NOTIFY_DRY_RUN;

	memset(&r, 0, sizeof r);
	r.s = s;
	r.o = o;
	r.emit = emit_fn;
	r.emit_ctx = ctx;
	r.err = err;
	r.temporary = 1;
	*nfailed = 0;
	*temporary = 1;
	*unsendable = 0;
	if (dz_clock_now(r.now))
		return dz_err_set(err, EX_SOFTWARE, "cannot read the clock");
	if (setup(&r))
		goto out;
	if ((lock = dz_store_lock(s, "notify.lock", "another dz-notify is "
	    "running; try again later", err)) < 0)
		goto out;

	/* look up, then plan */
	if (o->resolve && look_up_hosts(&r))
		goto out;
	if (!(r.held = json_array())) {
		oom(&r);
		goto out;
	}
	if (!dry && dz_store_begin(s, err)) {
		release_held(&r);
		goto out;
	}
	if ((!dry && record_keys(&r)) ||
	    dz_store_urls_due(s, plan_url, &r, err) || r.stop)
		goto plan_fail;
	if (o->remind_days > 0) {
		char before[DZ_TIME_LEN];

		if (dz_clock_days_before(r.now, o->remind_days, before)) {
			dz_err_set(err, EX_SOFTWARE, "cannot compute a date");
			goto plan_fail;
		}
		if (dz_store_urls_to_remind(s, before, plan_reminder, &r, err) ||
		    r.stop)
			goto plan_fail;
	}
	if (dz_store_cases_to_answer(s, plan_victim, &r, err) || r.stop)
		goto plan_fail;
	if (!dry) {
		if (record_plan(&r) || dz_store_commit(s, err))
			goto plan_fail;
	}
	if (release_held(&r))
		goto out;
	if (!dry) {
		/* deliver from the store: this run's plan and older ones */
		for (size_t i = 0; i < r.njobs; i++)
			job_release(&r.jobs[i]);
		r.njobs = 0;
	}
	if (dz_store_notices_pending(s, pending_job, &r, err) || r.stop ||
	    complete_jobs(&r))
		goto out;

	/* deliver */
	for (size_t i = 0; i < r.njobs && !r.stop; i++)
		if (deliver(&r, &r.jobs[i]) && r.stop)
			break;
	if (r.stop)
		goto out;
	*nfailed = r.failed;
	*temporary = r.temporary;
	*unsendable = r.unsendable;
	rc = 0;
	goto out;
plan_fail:
	if (!dry)
		dz_store_rollback(s);
	if (r.held)
		release_held(&r);
out:
	for (size_t i = 0; i < r.njobs; i++)
		job_release(&r.jobs[i]);
	free(r.jobs);
	for (size_t i = 0; i < r.nhosts; i++)
		free(r.hosts[i].host);
	free(r.hosts);
	json_decref(r.hotline);
	json_decref(r.hotline_lang[0]);
	json_decref(r.hotline_lang[1]);
	if (lock >= 0)
		close(lock);
	return rc;
}
