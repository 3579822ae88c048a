/*
 * t/unit/test-store: lib/store/store keeps the system of record.
 *
 * The test includes lib/store/store.c itself so that it can look at the
 * connection (pragmas in effect, a short busy timeout) and replace the
 * random source; everything else goes through the public interface.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.c"
#include "tap.h"
#include "util.h"

/* ok(), and the store's error message when it fails (err in scope). */
#define OKE(cond, ...) do { \
	if (!ok((cond), __VA_ARGS__)) \
		diag("error: %d %s", err.code, err.msg); \
	dz_err_clear(&err); \
} while (0)

#define NOW "2026-01-15T12:00:00Z"
#define LATER "2026-01-16T09:30:00Z"

static char tmp[] = "/tmp/dz-store-XXXXXX";
static char dir[4096];

/* ---------- helpers ---------- */

static char *
path_of(const char *name)
{
	return path_in(dir, name);
}

/* ok() that got (NULL fails) is want; both shown when it is not. */
static void
same_text(const char *got, const char *want, const char *what)
{
	if (!ok(got && strcmp(got, want) == 0, "%s", what) && got)
		diag("got  %s\n# want %s", got, want);
}

static int
mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static char *
pragma_text(struct dz_store *s, const char *sql)
{
	static char out[64];
	sqlite3_stmt *st;

	out[0] = '\0';
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return out;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, sizeof out, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

static long
count(struct dz_store *s, const char *sql)
{
	return atol(pragma_text(s, sql));
}

/* The text of the audit detail of the latest entry with this action. */
static char *
last_detail(struct dz_store *s, const char *action)
{
	static char out[128];
	sqlite3_stmt *st;

	snprintf(out, sizeof out, "(none)");
	if (sqlite3_prepare_v2(s->db, "SELECT coalesce(detail, '(null)')"
	    " FROM audit WHERE action = ?1 ORDER BY seq DESC LIMIT 1", -1, &st,
	    NULL) != SQLITE_OK)
		return out;
	sqlite3_bind_text(st, 1, action, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, sizeof out, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

static int
file_has(const char *path, const void *needle, size_t n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	size_t len = 0, cap = 1 << 16, r;
	int found;

	if (!f)
		return 0;
	buf = malloc(cap);
	while (buf && (r = fread(buf + len, 1, cap - len, f)) > 0) {
		len += r;
		if (len == cap) {
			unsigned char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (!buf)
		return -1;
	found = 0;
	for (size_t i = 0; n && i + n <= len && !found; i++)
		found = memcmp(buf + i, needle, n) == 0;
	free(buf);
	return found;
}

static long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

struct rows {
	int n, stop_after;
	char first[1024];
	char last[1024];
};

static int
collect(json_t *row, void *arg)
{
	struct rows *r = arg;
	char *js = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (js) {
		if (r->n == 0)
			snprintf(r->first, sizeof r->first, "%s", js);
		snprintf(r->last, sizeof r->last, "%s", js);
	}
	free(js);
	json_decref(row);
	r->n++;
	return r->stop_after && r->n >= r->stop_after;
}

static int
ncases(struct dz_store *s, const char *state)
{
	struct rows r = { 0 };
	struct dz_err err;

	return dz_store_list_cases(s, state, collect, &r, &err) ? -1 : r.n;
}

static int
nitems(struct dz_store *s, const char *state)
{
	struct rows r = { 0 };
	struct dz_err err;

	return dz_store_list_items(s, state, collect, &r, &err) ? -1 : r.n;
}

/* Personal data the store must never leak. */
static char contact[64], description[6000];
static uint8_t case_key[DZ_WRAPPED_KEY_BYTES], item_key[DZ_WRAPPED_KEY_BYTES];
#define CONTACT_MARK "CONTACT-SECRET"
#define DESC_MARK "DESCRIPTION-SECRET"

static void
make_secrets(void)
{
	size_t n = 0;

	memset(contact, '.', sizeof contact);
	memcpy(contact, CONTACT_MARK "-jane@example.org-+33612345678",
	    sizeof CONTACT_MARK "-jane@example.org-+33612345678" - 1);
	while (n + 32 < sizeof description)
		n += (size_t)snprintf(description + n, sizeof description - n,
		    DESC_MARK "-%05zu|", n);
	for (size_t i = 0; i < sizeof case_key; i++) {
		case_key[i] = (uint8_t)(0xc5 ^ (i * 7));
		item_key[i] = (uint8_t)(0x3a ^ (i * 11));
	}
}

static void
fill_case(struct dz_case *c, const char *id, const char *sub)
{
	memset(c, 0, sizeof *c);
	snprintf(c->id, sizeof c->id, "%s", id);
	c->submission_id = sub;
	c->received_at = "2026-01-15T11:58:00Z";
	c->declared_age = 16;
	c->minor = 1;
	c->language = "fr";
	c->followup = 1;
	memset(c->wrapped_key, 0x11, sizeof c->wrapped_key);
}

static void
fill_item(struct dz_item *it, const char *case_id, int n, const char *url,
    const char *blob)
{
	memset(it, 0, sizeof *it);
	snprintf(it->id, sizeof it->id, "%s-%d", case_id, n);
	it->case_id = case_id;
	it->url = url;
	if (blob) {
		it->has_media = 1;
		it->media_type = "image/jpeg";
		it->media_size = 123456;
		memcpy(it->wrapped_key, item_key, sizeof it->wrapped_key);
		it->blob = blob;
	}
}

/* Fake random sources for the retry test. */
static int fake_calls;

static int
fake_zero_then_ones(unsigned char *buf, int n)
{
	memset(buf, fake_calls++ == 0 ? 0x00 : 0xff, (size_t)n);
	return 1;
}

static int
fake_zero(unsigned char *buf, int n)
{
	fake_calls++;
	memset(buf, 0, (size_t)n);
	return 1;
}

static int
fake_fail(unsigned char *buf, int n)
{
	(void)buf;
	(void)n;
	return 0;
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* ---------- tests ---------- */

static void
test_open(struct dz_store **sp)
{
	struct dz_err err = { 0, "" };
	struct dz_store *s;

	umask(022);		/* the store must not rely on the caller's umask */
	OKE(dz_store_open(dir, sp, &err) == 0, "open creates a store");
	s = *sp;
	if (!s) {
		diag("cannot go on without a store");
		exit(tap_done() | 1);
	}
	OKE(dz_store_schema_version(s) == 5, "schema version is 5");
	OKE(mode_of(dir) == 0700, "store directory is 0700 (%o)", mode_of(dir));
	OKE(mode_of(path_of("blobs")) == 0700, "blobs/ is 0700 (%o)",
	    mode_of(path_of("blobs")));
	OKE(strcmp(dz_store_blob_dir(s), path_of("blobs")) == 0,
	    "dz_store_blob_dir is the blobs/ directory");
	OKE(mode_of(path_of("store.db")) == 0600, "store.db is 0600 (%o)",
	    mode_of(path_of("store.db")));
	OKE(mode_of(path_of("store.db-wal")) == 0600, "store.db-wal is 0600 (%o)",
	    mode_of(path_of("store.db-wal")));
	OKE(mode_of(path_of("store.db-shm")) == 0600, "store.db-shm is 0600 (%o)",
	    mode_of(path_of("store.db-shm")));
	OKE((umask(022) & 0777) == 022, "the caller's umask is restored");

	OKE(strcmp(pragma_text(s, "PRAGMA journal_mode"), "wal") == 0,
	    "journal_mode is wal");
	OKE(strcmp(pragma_text(s, "PRAGMA synchronous"), "2") == 0,
	    "synchronous is FULL");
	OKE(strcmp(pragma_text(s, "PRAGMA secure_delete"), "1") == 0,
	    "secure_delete is on");
	OKE(strcmp(pragma_text(s, "PRAGMA foreign_keys"), "1") == 0,
	    "foreign_keys is on");
	OKE(strcmp(pragma_text(s, "PRAGMA trusted_schema"), "0") == 0,
	    "trusted_schema is off");
	OKE(strcmp(pragma_text(s, "PRAGMA busy_timeout"), "10000") == 0,
	    "busy timeout is 10 s");
	OKE(count(s, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
	    " AND name IN ('cases', 'items', 'audit')") == 3,
	    "schema v1 has cases, items and audit");
}

static void
test_ids(struct dz_store *s)
{
	static char ids[1000][DZ_CASE_ID_LEN + 1];
	struct dz_err err = { 0, "" };
	struct dz_case c;
	char id[DZ_CASE_ID_LEN + 1];
	int bad = 0, dup = 0, fails = 0, r;

	for (int i = 0; i < 1000; i++) {
		if (dz_store_new_case_id(s, ids[i], &err))
			fails++;
		if (strlen(ids[i]) != DZ_CASE_ID_LEN ||
		    strspn(ids[i], crockford) != DZ_CASE_ID_LEN)
			bad++;
	}
	qsort(ids, 1000, sizeof ids[0], cmp_id);
	for (int i = 1; i < 1000; i++)
		dup += strcmp(ids[i - 1], ids[i]) == 0;
	OKE(!fails && !bad, "1000 case ids: 10 Crockford base32 characters");
	OKE(!dup, "1000 case ids are distinct");

	/* a taken id is drawn again */
	fill_case(&c, "0000000000", "sub-zero");
	OKE(dz_store_begin(s, &err) == 0 &&
	    dz_store_case_insert(s, &c, NOW, &err) == 0 &&
	    dz_store_commit(s, &err) == 0, "insert a case with id 0000000000");
	store_random = fake_zero_then_ones;
	fake_calls = 0;
	r = dz_store_new_case_id(s, id, &err);
	OKE(r == 0 && strcmp(id, "ZZZZZZZZZZ") == 0 && fake_calls == 2,
	    "a taken id is drawn again (%s after %d draws)", id, fake_calls);
	store_random = fake_zero;
	fake_calls = 0;
	r = dz_store_new_case_id(s, id, &err);
	OKE(r == -1 && err.code == EX_SOFTWARE && fake_calls == NEW_ID_TRIES,
	    "gives up after %d draws: %s", fake_calls, err.msg);
	store_random = fake_fail;
	OKE(dz_store_new_case_id(s, id, &err) == -1 && err.code == EX_SOFTWARE,
	    "no randomness, no id: %s", err.msg);
	store_random = RAND_bytes;
}

static char case_a[DZ_CASE_ID_LEN + 1], case_b[DZ_CASE_ID_LEN + 1];

static void
test_insert(struct dz_store *s)
{
	struct dz_err err = { 0, "" };
	struct dz_case c;
	struct dz_item it;
	char id[DZ_CASE_ID_LEN + 1], cid[DZ_CASE_ID_LEN + 1], *blob;
	uint8_t key[DZ_WRAPPED_KEY_BYTES];
	long audits;
	json_t *row;

	dz_store_new_case_id(s, case_a, &err);
	fill_case(&c, case_a, "form-0001");
	memcpy(c.wrapped_key, case_key, sizeof case_key);
	c.contact = (const uint8_t *)contact;
	c.contact_len = sizeof contact;
	c.description = (const uint8_t *)description;
	c.description_len = sizeof description;

	OKE(dz_store_case_insert(s, &c, NOW, &err) == -1 &&
	    err.code == EX_SOFTWARE, "a write outside a transaction is refused");
	audits = count(s, "SELECT count(*) FROM audit");

	OKE(dz_store_begin(s, &err) == 0, "begin");
	OKE(dz_store_begin(s, &err) == -1 && err.code == EX_SOFTWARE,
	    "begin twice is refused");
	OKE(dz_store_case_insert(s, &c, NOW, &err) == 0, "insert case");
	fill_item(&it, case_a, 1, "https://host.example/a", NULL);
	OKE(dz_store_item_insert(s, &it, NOW, &err) == 0, "insert a URL item");
	fill_item(&it, case_a, 2, NULL, "0123abcd.dzb");
	OKE(dz_store_item_insert(s, &it, NOW, &err) == 0,
	    "insert a media item");
	OKE(dz_store_commit(s, &err) == 0, "commit");
	OKE(dz_store_commit(s, &err) == -1 && err.code == EX_SOFTWARE,
	    "commit without a transaction is refused");
	OKE(count(s, "SELECT count(*) FROM audit") == audits + 3,
	    "ingest and two items are audited");
	OKE(strcmp(last_detail(s, "item"), "media") == 0,
	    "the item audit says media or url");

	OKE(dz_store_case_by_submission(s, "form-0001", id, &err) == 1 &&
	    strcmp(id, case_a) == 0, "by_submission finds the case");
	OKE(dz_store_case_by_submission(s, "form-9999", id, &err) == 0,
	    "by_submission: unknown submission is 0");

	/* the same submission again, under a new id */
	dz_store_new_case_id(s, cid, &err);
	fill_case(&c, cid, "form-0001");
	dz_store_begin(s, &err);
	OKE(dz_store_case_insert(s, &c, NOW, &err) == -1 &&
	    err.code == EX_DATAERR, "a second insert of a submission fails: %s",
	    err.msg);
	OKE(!strstr(err.msg, "form-0001") && !strstr(err.msg, cid),
	    "the error quotes no value");
	dz_store_rollback(s);
	OKE(dz_store_case_by_submission(s, "form-0001", id, &err) == 1 &&
	    strcmp(id, case_a) == 0, "the first case still owns the submission");

	/* rollback leaves nothing */
	audits = count(s, "SELECT count(*) FROM audit");
	fill_case(&c, cid, "form-rolled-back");
	fill_item(&it, cid, 1, "https://host.example/r", "rolled.dzb");
	OKE(dz_store_begin(s, &err) == 0 &&
	    dz_store_case_insert(s, &c, NOW, &err) == 0 &&
	    dz_store_item_insert(s, &it, NOW, &err) == 0,
	    "insert a case and an item, then roll back");
	dz_store_rollback(s);
	OKE(dz_store_case_by_submission(s, "form-rolled-back", id, &err) == 0 &&
	    dz_store_case_get(s, cid, &row, &err) == 0 &&
	    dz_store_blob_referenced(s, "rolled.dzb", &err) == 0 &&
	    dz_store_item_media(s, it.id, key, &blob, &err) == -1 &&
	    strcmp(err.msg, "no such item") == 0 &&
	    count(s, "SELECT count(*) FROM audit") == audits,
	    "rollback left no case, item, blob reference or audit entry");
	OKE(sqlite3_get_autocommit(s->db), "no transaction is left open");
	dz_store_rollback(s);	/* harmless without a transaction */

	/* a second case, no personal data, one item */
	dz_store_new_case_id(s, case_b, &err);
	fill_case(&c, case_b, "form-0002");
	c.declared_age = 30;
	c.minor = 0;
	c.language = NULL;
	c.followup = 0;
	fill_item(&it, case_b, 1, "https://other.example/x", "feedbeef.dzb");
	OKE(dz_store_begin(s, &err) == 0 &&
	    dz_store_case_insert(s, &c, NOW, &err) == 0 &&
	    dz_store_item_insert(s, &it, NOW, &err) == 0 &&
	    dz_store_commit(s, &err) == 0, "insert a second case");

	/* malformed or dangling items */
	dz_store_begin(s, &err);
	fill_item(&it, case_a, 3, "https://host.example/c", NULL);
	snprintf(it.id, sizeof it.id, "%s-03", case_a);
	OKE(dz_store_item_insert(s, &it, NOW, &err) == -1 &&
	    err.code == EX_DATAERR, "item id with a leading zero: %s", err.msg);
	snprintf(it.id, sizeof it.id, "%s-3", case_b);
	OKE(dz_store_item_insert(s, &it, NOW, &err) == -1 &&
	    err.code == EX_DATAERR, "item id of another case: %s", err.msg);
	fill_item(&it, "0000000001", 1, "https://host.example/c", NULL);
	OKE(dz_store_item_insert(s, &it, NOW, &err) == -1 &&
	    err.code == EX_DATAERR && strstr(err.msg, "no such case"),
	    "item of a missing case: %s", err.msg);
	fill_item(&it, case_a, 1, "https://host.example/dup", NULL);
	OKE(dz_store_item_insert(s, &it, NOW, &err) == -1 &&
	    err.code == EX_DATAERR, "item id taken: %s", err.msg);
	fill_item(&it, case_a, 3, NULL, "0123abcd.dzb");
	OKE(dz_store_item_insert(s, &it, NOW, &err) == -1 &&
	    err.code == EX_DATAERR, "blob name taken: %s", err.msg);
	fill_item(&it, case_a, 3, NULL, "../escape.dzb");
	OKE(dz_store_item_insert(s, &it, NOW, &err) == -1 &&
	    err.code == EX_DATAERR, "blob name with a path: %s", err.msg);
	fill_item(&it, case_a, 3, "https://host.example/c", NULL);
	OKE(dz_store_item_insert(s, &it, NULL, &err) == -1 &&
	    err.code == EX_SOFTWARE, "no time: %s", err.msg);
	fill_case(&c, "not-an-id!", "form-0003");
	OKE(dz_store_case_insert(s, &c, NOW, &err) == -1 &&
	    err.code == EX_DATAERR, "malformed case id: %s", err.msg);
	dz_store_rollback(s);
	OKE(nitems(s, NULL) == 3, "three items in all");
}

static void
test_read(struct dz_store *s)
{
	struct dz_err err = { 0, "" };
	struct rows r = { 0 };
	uint8_t key[DZ_WRAPPED_KEY_BYTES], *ct, *ds;
	size_t clen, dlen;
	char want[1024], *blob, *js;
	json_t *row;

	OKE(dz_store_list_cases(s, "open", collect, &r, &err) == 0 && r.n == 3,
	    "three open cases (%d)", r.n);
	snprintf(want, sizeof want, "{\"type\":\"case\",\"case\":\"%s\","
	    "\"submission\":\"form-0001\",\"state\":\"open\","
	    "\"received_at\":\"2026-01-15T11:58:00Z\",\"minor\":true,"
	    "\"language\":\"fr\",\"followup\":true,\"items\":2,"
	    "\"closed_at\":null,\"withdrawn_at\":null,\"purged_at\":null}",
	    case_a);
	OKE(dz_store_case_get(s, case_a, &row, &err) == 1,
	    "case_get finds the case");
	js = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER);
	same_text(js, want, "case record");
	free(js);
	json_decref(row);
	OKE(dz_store_case_get(s, "ZZZZZZZZZY", &row, &err) == 0 && !row,
	    "case_get: no such case is 0");
	OKE(ncases(s, "closed") == 0, "no closed case");

	memset(&r, 0, sizeof r);
	OKE(dz_store_list_items(s, "review", collect, &r, &err) == 0 && r.n == 3,
	    "three items in review");
	snprintf(want, sizeof want, "{\"type\":\"item\",\"item\":\"%s-1\","
	    "\"case\":\"%s\",\"state\":\"review\","
	    "\"url\":\"https://host.example/a\",\"media_type\":null,"
	    "\"media_size\":null,\"has_media\":false,\"category\":null,"
	    "\"verdict_at\":null}", case_a, case_a);
	same_text(r.first, want, "URL item record");
	snprintf(want, sizeof want, "{\"type\":\"item\",\"item\":\"%s-1\","
	    "\"case\":\"%s\",\"state\":\"review\","
	    "\"url\":\"https://other.example/x\",\"media_type\":\"image/jpeg\","
	    "\"media_size\":123456,\"has_media\":true,\"category\":null,"
	    "\"verdict_at\":null}", case_b, case_b);
	same_text(r.last, want, "media item record");

	memset(&r, 0, sizeof r);
	r.stop_after = 1;
	OKE(dz_store_list_items(s, NULL, collect, &r, &err) == 0 && r.n == 1,
	    "a callback stops the list");

	OKE(dz_store_case_secrets(s, case_a, key, &ct, &clen, &ds, &dlen,
	    &err) == 0 && ct && ds && clen == sizeof contact &&
	    dlen == sizeof description && !memcmp(ct, contact, clen) &&
	    !memcmp(ds, description, dlen) && !memcmp(key, case_key, sizeof key),
	    "case_secrets gives back the sealed bytes and the wrapped key");
	free(ct);
	free(ds);
	OKE(dz_store_case_secrets(s, case_b, key, &ct, &clen, &ds, &dlen,
	    &err) == 0 && !ct && !ds && clen == 0 && dlen == 0,
	    "case_secrets: no contact, no description");
	OKE(dz_store_case_secrets(s, "ZZZZZZZZZY", key, &ct, &clen, &ds, &dlen,
	    &err) == -1 && err.code == EX_DATAERR, "case_secrets: %s", err.msg);

	snprintf(want, sizeof want, "%s-2", case_a);
	OKE(dz_store_item_media(s, want, key, &blob, &err) == 0 && blob &&
	    strcmp(blob, "0123abcd.dzb") == 0 && !memcmp(key, item_key, sizeof key),
	    "item_media gives the wrapped key and blob name");
	free(blob);
	snprintf(want, sizeof want, "%s-1", case_a);
	OKE(dz_store_item_media(s, want, key, &blob, &err) == -1 &&
	    err.code == EX_DATAERR && !blob, "item_media, URL item: %s", err.msg);
	OKE(dz_store_item_media(s, "ZZZZZZZZZY-1", key, &blob, &err) == -1 &&
	    err.code == EX_DATAERR, "item_media, no item: %s", err.msg);

	OKE(dz_store_blob_referenced(s, "0123abcd.dzb", &err) == 1,
	    "a live blob is referenced");
	OKE(dz_store_blob_referenced(s, "orphan.dzb", &err) == 0,
	    "an unknown blob is not");
}

static void
test_states(struct dz_store *s)
{
	struct dz_err err = { 0, "" };
	char a1[DZ_ITEM_ID_MAX], a2[DZ_ITEM_ID_MAX], b1[DZ_ITEM_ID_MAX];
	struct rows r = { 0 };
	json_t *row;
	enum dz_category cat;

	snprintf(a1, sizeof a1, "%s-1", case_a);
	snprintf(a2, sizeof a2, "%s-2", case_a);
	snprintf(b1, sizeof b1, "%s-1", case_b);

	OKE(dz_store_item_verdict(s, a1, DZ_VERDICT_ILLEGAL, DZ_CAT_ADULT_NCII,
	    "ana", NOW, &err) == -1 && err.code == EX_SOFTWARE,
	    "a verdict outside a transaction is refused");
	dz_store_begin(s, &err);
	OKE(dz_store_item_verdict(s, a1, DZ_VERDICT_ILLEGAL, DZ_CAT_NONE, "ana",
	    NOW, &err) == -1 && err.code == EX_DATAERR,
	    "illegal without a category: %s", err.msg);
	OKE(dz_store_item_verdict(s, "ZZZZZZZZZY-1", DZ_VERDICT_NOT_ILLEGAL,
	    DZ_CAT_NONE, "ana", NOW, &err) == -1 && err.code == EX_DATAERR,
	    "verdict on a missing item: %s", err.msg);
	OKE(dz_store_item_verdict(s, a1, DZ_VERDICT_ILLEGAL, DZ_CAT_ADULT_NCII,
	    "ana", NOW, &err) == 0, "verdict illegal, adult_ncii");
	OKE(strcmp(last_detail(s, "verdict"), "illegal adult_ncii") == 0,
	    "audited: %s", last_detail(s, "verdict"));
	OKE(dz_store_commit(s, &err) == 0, "commit");
	OKE(nitems(s, "illegal") == 1 && nitems(s, "review") == 2 &&
	    nitems(s, "not_illegal") == 0, "items listed by state");
	memset(&r, 0, sizeof r);
	dz_store_list_items(s, "illegal", collect, &r, &err);
	OKE(strstr(r.first, "\"category\":\"adult_ncii\",\"verdict_at\":\""
	    NOW "\"") != NULL, "the item has its category and verdict time");

	dz_store_begin(s, &err);
	OKE(dz_store_item_verdict(s, a1, DZ_VERDICT_ILLEGAL, DZ_CAT_ADULT_NCII,
	    "ana", NOW, &err) == 0 &&
	    strcmp(last_detail(s, "verdict"), "illegal adult_ncii; again") == 0,
	    "the same verdict again: %s", last_detail(s, "verdict"));
	OKE(dz_store_item_verdict(s, a1, DZ_VERDICT_NOT_ILLEGAL, DZ_CAT_NONE,
	    "bo", LATER, &err) == 0 && strcmp(last_detail(s, "verdict"),
	    "not_illegal; replaces illegal adult_ncii") == 0,
	    "a new verdict replaces it: %s", last_detail(s, "verdict"));
	dz_store_commit(s, &err);
	memset(&r, 0, sizeof r);
	dz_store_list_items(s, "not_illegal", collect, &r, &err);
	OKE(r.n == 1 && strstr(r.first, "\"category\":null,\"verdict_at\":\""
	    LATER "\""), "not_illegal keeps no category");

	/* close */
	dz_store_begin(s, &err);
	OKE(dz_store_case_close(s, case_a, "ana", LATER, &err) == 0,
	    "close an open case");
	OKE(dz_store_case_close(s, case_a, "ana", LATER, &err) == -1 &&
	    err.code == EX_DATAERR &&
	    strcmp(err.msg, "case is already closed") == 0,
	    "close it again: %s", err.msg);
	OKE(dz_store_case_close(s, "ZZZZZZZZZY", "ana", LATER, &err) == -1 &&
	    err.code == EX_DATAERR, "close a missing case: %s", err.msg);
	OKE(dz_store_item_verdict(s, a2, DZ_VERDICT_ILLEGAL, DZ_CAT_MINOR, "ana",
	    LATER, &err) == 0, "a verdict on an item of a closed case is fine");
	OKE(dz_store_commit(s, &err) == 0, "commit");
	OKE(dz_store_case_get(s, case_a, &row, &err) == 1 &&
	    strcmp(json_string_value(json_object_get(row, "state")),
	    "closed") == 0 && strcmp(json_string_value(json_object_get(row,
	    "closed_at")), LATER) == 0, "the case is closed, with its time");
	json_decref(row);
	OKE(ncases(s, "closed") == 1 && ncases(s, "open") == 2,
	    "cases listed by state");

	/* withdraw */
	dz_store_begin(s, &err);
	OKE(dz_store_case_withdraw(s, case_b, "victim", LATER, &err) == 0 &&
	    strcmp(last_detail(s, "withdraw"), "(null)") == 0,
	    "withdraw a case");
	OKE(dz_store_case_withdraw(s, case_b, "victim", LATER, &err) == 0 &&
	    strcmp(last_detail(s, "withdraw"), "again") == 0,
	    "withdraw it again: fine, audited as again");
	OKE(dz_store_case_withdraw(s, "ZZZZZZZZZY", "victim", LATER, &err) == -1 &&
	    err.code == EX_DATAERR, "withdraw a missing case: %s", err.msg);
	OKE(dz_store_item_verdict(s, b1, DZ_VERDICT_ILLEGAL, DZ_CAT_OTHER, "ana",
	    LATER, &err) == -1 && err.code == EX_DATAERR,
	    "no verdict on a withdrawn case: %s", err.msg);
	OKE(dz_store_commit(s, &err) == 0, "commit");
	OKE(dz_store_case_get(s, case_b, &row, &err) == 1 &&
	    json_is_string(json_object_get(row, "withdrawn_at")) &&
	    strcmp(json_string_value(json_object_get(row, "state")), "open") == 0,
	    "the withdrawn case stays open, with its withdrawal time");
	json_decref(row);

	OKE(dz_store_audit(s, "cron", "purge-run", NULL, NULL, "0 cases", LATER,
	    &err) == 0, "a free-form audit entry outside a transaction");
	OKE(dz_store_audit(s, "cron", NULL, NULL, NULL, NULL, LATER, &err) == -1,
	    "an audit entry needs an action");

	OKE(dz_category_parse("minor", &cat) == 0 && cat == DZ_CAT_MINOR &&
	    dz_category_parse("none", &cat) == 0 && cat == DZ_CAT_NONE &&
	    dz_category_parse("bogus", &cat) == -1 &&
	    strcmp(dz_category_name(DZ_CAT_ADULT_NCII), "adult_ncii") == 0 &&
	    strcmp(dz_category_name(DZ_CAT_OTHER), "other") == 0 &&
	    strcmp(dz_verdict_name(DZ_VERDICT_NOT_ILLEGAL), "not_illegal") == 0,
	    "category and verdict names");
}

static void
test_audit_clean(struct dz_store *s)
{
	sqlite3_stmt *st;
	int rows = 0, leaks = 0;

	sqlite3_prepare_v2(s->db, "SELECT coalesce(actor, '') ||"
	    " coalesce(action, '') || coalesce(case_id, '') ||"
	    " coalesce(item_id, '') || coalesce(detail, '') || at FROM audit",
	    -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		rows++;
		if (strstr(v, CONTACT_MARK) || strstr(v, DESC_MARK) ||
		    strstr(v, "jane") || strstr(v, "3361234"))
			leaks++;
	}
	sqlite3_finalize(st);
	ok(rows > 10 && leaks == 0, "%d audit rows, none with personal data",
	    rows);
}

static void
test_purge(struct dz_store *s)
{
	struct dz_err err = { 0, "" };
	uint8_t key[DZ_WRAPPED_KEY_BYTES], *ct, *ds;
	size_t clen, dlen;
	json_t *row;

	/* control: the secrets are in the files before the purge */
	OKE(dz_store_checkpoint(s, &err) == 0, "checkpoint");
	OKE(file_has(path_of("store.db"), CONTACT_MARK, strlen(CONTACT_MARK)) &&
	    file_has(path_of("store.db"), DESC_MARK, strlen(DESC_MARK)) &&
	    file_has(path_of("store.db"), case_key, sizeof case_key),
	    "before the purge, store.db holds contact, description and key");

	OKE(dz_store_case_purge_personal(s, case_a, "dz-purge", LATER, &err) ==
	    -1 && err.code == EX_SOFTWARE, "purge outside a transaction is refused");
	dz_store_begin(s, &err);
	OKE(dz_store_checkpoint(s, &err) == -1 && err.code == EX_SOFTWARE,
	    "no checkpoint inside a transaction");
	OKE(dz_store_case_purge_personal(s, case_a, "dz-purge", LATER, &err) == 0,
	    "purge the personal data of a case");
	OKE(dz_store_case_purge_personal(s, "ZZZZZZZZZY", "dz-purge", LATER,
	    &err) == -1 && err.code == EX_DATAERR, "purge a missing case: %s",
	    err.msg);
	OKE(dz_store_commit(s, &err) == 0, "commit");
	/* the WAL now holds the old page images too: the checkpoint goes */
	OKE(file_has(path_of("store.db-wal"), CONTACT_MARK,
	    strlen(CONTACT_MARK)) == 0, "the new WAL frames hold no contact");
	OKE(dz_store_checkpoint(s, &err) == 0, "checkpoint");
	OKE(file_size(path_of("store.db-wal")) == 0, "the WAL is truncated");
	OKE(!file_has(path_of("store.db"), CONTACT_MARK, strlen(CONTACT_MARK)),
	    "store.db no longer holds the contact");
	OKE(!file_has(path_of("store.db"), DESC_MARK, strlen(DESC_MARK)),
	    "store.db no longer holds the description (overflow pages)");
	OKE(!file_has(path_of("store.db"), case_key, sizeof case_key),
	    "store.db no longer holds the wrapped case key");
	OKE(!file_has(path_of("store.db-wal"), CONTACT_MARK,
	    strlen(CONTACT_MARK)) && !file_has(path_of("store.db-wal"),
	    DESC_MARK, strlen(DESC_MARK)), "nor does store.db-wal");

	OKE(dz_store_case_secrets(s, case_a, key, &ct, &clen, &ds, &dlen,
	    &err) == 0 && !ct && !ds && key[0] == 0 && key[59] == 0,
	    "case_secrets after the purge: nothing");
	OKE(dz_store_case_get(s, case_a, &row, &err) == 1 &&
	    json_is_string(json_object_get(row, "purged_at")),
	    "the case record says when it was purged");
	json_decref(row);
	dz_store_begin(s, &err);
	OKE(dz_store_case_purge_personal(s, case_a, "dz-purge", LATER, &err) == 0 &&
	    strcmp(last_detail(s, "purge"), "again") == 0,
	    "purge it again: fine, audited as again");
	dz_store_commit(s, &err);
	OKE(dz_store_check(s, &err) == 0, "integrity and foreign key check");
}

static void
test_reopen(struct dz_store **sp)
{
	struct dz_err err = { 0, "" };
	struct dz_store *s2 = NULL;
	char id[DZ_CASE_ID_LEN + 1];
	long audits = count(*sp, "SELECT count(*) FROM audit");
	sqlite3 *raw;

	dz_store_close(*sp);
	*sp = NULL;
	dz_store_close(NULL);
	OKE(dz_store_open(dir, sp, &err) == 0, "reopen");
	if (!*sp)
		exit(tap_done() | 1);
	OKE(dz_store_schema_version(*sp) == 5, "still schema version 5");
	OKE(dz_store_case_by_submission(*sp, "form-0002", id, &err) == 1 &&
	    strcmp(id, case_b) == 0 && ncases(*sp, NULL) == 3 &&
	    nitems(*sp, NULL) == 3 &&
	    count(*sp, "SELECT count(*) FROM audit") == audits,
	    "cases, items and audit log survive");

	/* a second connection waits for the writer, then gives up */
	OKE(dz_store_open(dir, &s2, &err) == 0, "a second connection");
	if (s2) {
		sqlite3_busy_timeout(s2->db, 50);
		dz_store_begin(*sp, &err);
		OKE(dz_store_begin(s2, &err) == -1 && err.code == EX_TEMPFAIL,
		    "a second writer gets EX_TEMPFAIL: %s", err.msg);
		dz_store_rollback(*sp);
		OKE(dz_store_begin(s2, &err) == 0, "and gets in once it is free");
		dz_store_rollback(s2);
		dz_store_close(s2);
	}

	/* a store from the future is refused */
	dz_store_close(*sp);
	*sp = NULL;
	if (sqlite3_open(path_of("store.db"), &raw) == SQLITE_OK) {
		sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL, NULL);
		sqlite3_close(raw);
	}
	OKE(dz_store_open(dir, &s2, &err) == -1 && err.code == EX_CONFIG && !s2,
	    "a newer schema is refused: %s", err.msg);
	if (sqlite3_open(path_of("store.db"), &raw) == SQLITE_OK) {
		sqlite3_exec(raw, "PRAGMA user_version = 5", NULL, NULL, NULL);
		sqlite3_close(raw);
	}
	OKE(dz_store_open(dir, sp, &err) == 0, "and opens again at version 5");

	/* a version 3 store (no video signals) keeps its hashes */
	dz_store_close(*sp);
	*sp = NULL;
	if (sqlite3_open(path_of("store.db"), &raw) == SQLITE_OK) {
		OKE(sqlite3_exec(raw, "INSERT INTO hashes (entry_id, item_id,"
		    " signal, value, quality, category, added_at, withdrawn_at,"
		    " rev, shared, purged_at) VALUES"
		    " ('00000000000000000000000000000001', NULL, 'pdq', 'ab',"
		    " 90, 'minor', '2026-01-01T00:00:00Z',"
		    " '2026-01-02T00:00:00Z', 7, 1, '2026-01-03T00:00:00Z');"
		    "DROP INDEX items_url_key;"
		    "ALTER TABLE items DROP COLUMN url_key;"
		    "ALTER TABLE notices DROP COLUMN category;"
		    "ALTER TABLE items DROP COLUMN still_online_at;"
		    "ALTER TABLE items DROP COLUMN outcome;"
		    "ALTER TABLE items DROP COLUMN outcome_reason;"
		    "ALTER TABLE items DROP COLUMN outcome_at;"
		    "DROP TABLE escalations;"
		    "PRAGMA user_version = 3", NULL, NULL, NULL) == SQLITE_OK,
		    "a hash row in a version 3 store");
		sqlite3_close(raw);
	}
	OKE(dz_store_open(dir, sp, &err) == 0 &&
	    dz_store_schema_version(*sp) == 5 &&
	    count(*sp, "SELECT count(*) FROM items WHERE url_key IS NULL") ==
	    nitems(*sp, NULL) &&
	    count(*sp, "SELECT count(*) FROM notices WHERE category IS NOT NULL")
	    == 0 &&
	    count(*sp, "SELECT count(*) FROM hashes WHERE entry_id ="
	    " '00000000000000000000000000000001' AND rev = 7 AND shared = 1"
	    " AND quality = 90 AND purged_at IS NOT NULL") == 1 &&
	    dz_store_check(*sp, &err) == 0,
	    "upgraded to version 5, the row kept whole, url_key and notices'"
	    " category added (%s)", err.msg);
	OKE(sqlite3_exec((*sp)->db, "INSERT INTO hashes (entry_id, item_id,"
	    " signal, value, quality, category, added_at, rev, purged_at,"
	    " withdrawn_at) VALUES ('00000000000000000000000000000002', NULL,"
	    " 'vpdq', '[]', 50, 'other', 'x', 8, 'x', 'x');"
	    "INSERT INTO hashes (entry_id, item_id, signal, value, quality,"
	    " category, added_at, rev, purged_at, withdrawn_at) VALUES"
	    " ('00000000000000000000000000000003', NULL, 'video_md5', 'ab',"
	    " NULL, 'other', 'x', 9, 'x', 'x');"
	    "DELETE FROM hashes;", NULL, NULL, NULL) == SQLITE_OK,
	    "version 4 takes vpdq and video_md5 rows");
	OKE(sqlite3_exec((*sp)->db, "INSERT INTO hashes (entry_id, item_id,"
	    " signal, value, quality, category, added_at, rev, purged_at,"
	    " withdrawn_at) VALUES ('00000000000000000000000000000002', NULL,"
	    " 'tmk', '[]', 50, 'other', 'x', 8, 'x', 'x');", NULL, NULL,
	    NULL) != SQLITE_OK, "and no other signal");

	/* a version 1 store (before hashes and exports) is upgraded */
	dz_store_close(*sp);
	*sp = NULL;
	if (sqlite3_open(path_of("store.db"), &raw) == SQLITE_OK) {
		sqlite3_exec(raw, "DROP TABLE notice_items; DROP TABLE notices;"
		    "ALTER TABLE items DROP COLUMN removed_at;"
		    "ALTER TABLE items DROP COLUMN media_purged_at;"
		    "DROP TABLE hashes; DROP TABLE exports;"
		    "ALTER TABLE items DROP COLUMN hashed_at;"
		    "DROP INDEX items_url_key;"
		    "ALTER TABLE items DROP COLUMN url_key;"
		    "ALTER TABLE items DROP COLUMN still_online_at;"
		    "ALTER TABLE items DROP COLUMN outcome;"
		    "ALTER TABLE items DROP COLUMN outcome_reason;"
		    "ALTER TABLE items DROP COLUMN outcome_at;"
		    "DROP TABLE escalations;"
		    "PRAGMA user_version = 1", NULL, NULL, NULL);
		sqlite3_close(raw);
	}
	OKE(dz_store_open(dir, sp, &err) == 0 && *sp &&
	    dz_store_schema_version(*sp) == 5 &&
	    count(*sp, "SELECT count(*) FROM hashes") == 0 &&
	    count(*sp, "SELECT count(*) FROM items WHERE hashed_at IS NULL") ==
	    nitems(*sp, NULL) && dz_store_check(*sp, &err) == 0,
	    "a version 1 store is upgraded to version 5 (%s)", err.msg);
}

static void
test_bad_paths(void)
{
	struct dz_err err = { 0, "" };
	struct dz_store *s = NULL;
	char p[4200];
	int fd;

	snprintf(p, sizeof p, "%s/plain-file", tmp);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0)
		close(fd);
	OKE(dz_store_open(p, &s, &err) == -1 && err.code == EX_CANTCREAT && !s,
	    "a store path that is a file: %s", err.msg);

	snprintf(p, sizeof p, "%s/no/such/parent", tmp);
	OKE(dz_store_open(p, &s, &err) == -1 && err.code == EX_CANTCREAT,
	    "a store path without a parent: %s", err.msg);

	snprintf(p, sizeof p, "%s/garbage", tmp);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/garbage/store.db", tmp);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		char junk[4096];
		memset(junk, 'x', sizeof junk);
		if (write(fd, junk, sizeof junk) != (ssize_t)sizeof junk)
			diag("short write");
		close(fd);
	}
	snprintf(p, sizeof p, "%s/garbage", tmp);
	OKE(dz_store_open(p, &s, &err) == -1 && err.code == EX_DATAERR,
	    "a file that is not a database: %s", err.msg);

	snprintf(p, sizeof p, "%s/link", tmp);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/link/store.db", tmp);
	if (symlink("/dev/null", p) != 0)
		diag("symlink: %s", strerror(errno));
	snprintf(p, sizeof p, "%s/link", tmp);
	OKE(dz_store_open(p, &s, &err) == -1 && !s,
	    "store.db as a symlink is refused: %s", err.msg);
}

int
main(void)
{
	struct dz_store *s = NULL;

	if (!mkdtemp(tmp)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(dir, sizeof dir, "%s/store", tmp);
	make_secrets();

	test_open(&s);
	test_ids(s);
	test_insert(s);
	test_read(s);
	test_states(s);
	test_audit_clean(s);
	test_purge(s);
	test_reopen(&s);
	dz_store_close(s);
	test_bad_paths();

	tap_scratch_done(tmp);
	return tap_done();
}
