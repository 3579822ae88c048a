/*
 * The ingest unit of work. Order matters for crash safety:
 *   1. validate everything (nothing written yet);
 *   2. encrypt each upload to blobs/.tmp-X, fsync, rename to X.dzb,
 *      fsync blobs/ (a crash here leaves blobs no item references: swept
 *      at the next open, and unreadable anyway since their keys were
 *      never stored);
 *   3. one transaction: case, items, audit;
 *   4. unlink the plaintext uploads (a crash before this: the re-run
 *      finds the submission id, acks it as a duplicate and unlinks).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/hex.h"
#include "core/clock.h"
#include "core/config.h"
#include "crypto/blob.h"
#include "crypto/crypt.h"
#include "core/err.h"
#include "work/ingest.h"
#include "media/media.h"
#include "notice/mail.h"
#include "core/record.h"
#include "core/recordcheck.h"
#include "store/spool.h"
#include "store/store.h"
#include "store/storekeycheck.h"
#include "store/storenotice.h"

#define MAX_ID 128
#define MAX_URL 2048
#define MAX_CONTACT_FIELD 254
/*
 * A spool entry's submission.json: 1 MiB for everything but the
 * description, plus the description at its limit written entirely as
 * \u escapes (6 bytes a byte). dz-ingest(1) says so.
 */
#define SPOOL_JSON_BASE (1024 * 1024)
#define SPOOL_JSON_ESCAPE 6
/* Entries in a row whose I/O fails: then the system is failing, not one. */
#define SPOOL_MAX_FAILING 3

struct dz_ingest {
	const struct dz_config *cfg;
	struct dz_store *store;
	uint8_t master[DZ_KEY_BYTES];
	int lock_fd;
	int blobs_fd;
	int swept;
	char *actor;
	json_t *errors;		/* the faults of the record last refused */
};

/* One upload, validated and open. */
struct upload {
	const char *name;
	int fd;
	uint64_t size;
	const char *mime;
};

struct submission {
	const char *id;
	const char *received_at;
	int age;
	const char *language;
	int followup;
	json_t *urls;		/* borrowed */
	json_t *contact;	/* borrowed; NULL if none */
	const char *description;
	size_t nfiles;
	struct upload files[];
};

/*
 * The records dz-ingest takes, member by member (lib/core/recordcheck):
 * a record of one of these types with a member not listed, or of the
 * wrong JSON type, is refused whole, with every fault listed. A new
 * operator record is one entry here and its branch in do_operator().
 */
static const char *const categories[] = { "adult_ncii", "minor", "other",
    "none", NULL };

static const struct dz_recordcheck_member submission_members[] = {
	{ "submission", DZ_RC_STRING, DZ_RC_REQUIRED, NULL },
	{ "age", DZ_RC_INTEGER, DZ_RC_REQUIRED, NULL },
	{ "urls", DZ_RC_STRINGS, 0, NULL },
	{ "files", DZ_RC_STRINGS, 0, NULL },
	{ "description", DZ_RC_STRING, 0, NULL },
	{ "contact", DZ_RC_OBJECT, 0, NULL },
	{ "followup", DZ_RC_BOOLEAN, DZ_RC_NOTNULL, NULL },
	{ "language", DZ_RC_STRING, 0, NULL },
	{ "received_at", DZ_RC_STRING, 0, NULL },
	{ NULL, 0, 0, NULL },
};
static const struct dz_recordcheck_member verdict_members[] = {
	{ "item", DZ_RC_STRING, DZ_RC_REQUIRED, NULL },
	{ "illegal", DZ_RC_BOOLEAN, DZ_RC_REQUIRED, NULL },
	{ "category", DZ_RC_STRING, 0, categories },
	{ "override_minor", DZ_RC_BOOLEAN, 0, NULL },
	{ "by", DZ_RC_STRING, 0, NULL },
	{ NULL, 0, 0, NULL },
};
static const struct dz_recordcheck_member case_members[] = {
	{ "case", DZ_RC_STRING, DZ_RC_REQUIRED, NULL },
	{ "by", DZ_RC_STRING, 0, NULL },
	{ NULL, 0, 0, NULL },
};
static const struct dz_recordcheck_member removed_members[] = {
	{ "item", DZ_RC_STRING, DZ_RC_REQUIRED, NULL },
	{ "by", DZ_RC_STRING, 0, NULL },
	{ NULL, 0, 0, NULL },
};
static const struct dz_recordcheck_member refused_members[] = {
	{ "item", DZ_RC_STRING, DZ_RC_REQUIRED, NULL },
	{ "reason", DZ_RC_STRING, DZ_RC_REQUIRED, NULL },
	{ "by", DZ_RC_STRING, 0, NULL },
	{ NULL, 0, 0, NULL },
};
static const struct dz_recordcheck_member notified_members[] = {
	{ "item", DZ_RC_STRING, DZ_RC_REQUIRED, NULL },
	{ "provider", DZ_RC_STRING, DZ_RC_REQUIRED, NULL },
	{ "by", DZ_RC_STRING, 0, NULL },
	{ NULL, 0, 0, NULL },
};
static const struct dz_recordcheck_type ingest_types[] = {
	{ "submission", submission_members },
	{ "verdict", verdict_members },
	{ "close", case_members },
	{ "withdraw", case_members },
	{ "removed", removed_members },
	{ "notified", notified_members },
	{ "still_online", removed_members },
	{ "refused", refused_members },
	{ NULL, NULL },
};

/*
 * The types of dz-records(5) that dz-ingest does not take: passed
 * through unchanged, so that it can sit in a pipeline. Any other type is
 * a mistake (a typo such as "remove"), refused.
 */
static const char *const passed_types[] = { "hash", "error", "ack", "case",
    "item", "export", "match", "notice", "manual", "unresolved", "purge",
    "stats", "bank", "entry", "withdrawal", "event", "known", "queue",
    "escalation", NULL };

/* ---------- opening ---------- */

static int
sweep_blobs(struct dz_ingest *in, struct dz_err *err)
{
	int fd = dup(in->blobs_fd);
	DIR *d;
	struct dirent *e;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return dz_err_set(err, EX_IOERR, "cannot list blobs: %s",
		    strerror(errno));
	}
	rewinddir(d);
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		size_t len = strlen(n);
		int orphan;

		if (strncmp(n, ".tmp-", 5) == 0) {
			orphan = 1;
		} else if (len > 4 && strcmp(n + len - 4, ".dzb") == 0) {
			int r = dz_store_blob_referenced(in->store, n, err);
			if (r < 0) {
				closedir(d);
				return -1;
			}
			orphan = !r;
		} else {
			continue;
		}
		if (orphan) {
			if (unlinkat(in->blobs_fd, n, 0) != 0 && errno != ENOENT) {
				closedir(d);
				return dz_err_set(err, EX_IOERR,
				    "cannot remove an orphan blob: %s",
				    strerror(errno));
			}
			in->swept++;
		}
	}
	closedir(d);
	if (in->swept && fsync(in->blobs_fd) != 0)
		return dz_err_set(err, EX_IOERR, "cannot sync blobs: %s",
		    strerror(errno));
	return 0;
}

/*
 * The new key's check value (lib/store/storekeycheck). A store that is there
 * already keeps its own key: one with a check value, or with data sealed
 * under another key, refuses the new one, which is then removed again.
 */
static int
init_keycheck(const struct dz_config *cfg, struct dz_store *s,
    struct dz_err *err)
{
	uint8_t master[DZ_KEY_BYTES];
	int rc = -1;

	if (dz_crypt_master_load(cfg->master_key, master, err))
		goto out;
	rc = dz_store_keycheck_load(cfg->store, master, err);
	if (rc == 1)
		rc = dz_store_keycheck_record(s, cfg->store, master, err);
out:
	OPENSSL_cleanse(master, sizeof master);
	return rc;
}

int
dz_ingest_init(const struct dz_config *cfg, struct dz_err *err)
{
	struct dz_store *s;
	int rc;

	if (access(cfg->master_key, F_OK) == 0)
		return dz_err_set(err, EX_CANTCREAT,
		    "a master key file exists already; not replacing it");
	if (dz_crypt_master_create(cfg->master_key, err))
		return -1;
	if (dz_store_open(cfg->store, &s, err)) {
		unlink(cfg->master_key);	/* nothing is sealed under it */
		return -1;
	}
	rc = init_keycheck(cfg, s, err);
	dz_store_close(s);
	if (rc)
		unlink(cfg->master_key);
	return rc;
}

void
dz_ingest_close(struct dz_ingest *in)
{
	if (!in)
		return;
	dz_store_close(in->store);
	if (in->blobs_fd >= 0)
		close(in->blobs_fd);
	if (in->lock_fd >= 0)
		close(in->lock_fd);
	explicit_bzero(in->master, sizeof in->master);
	json_decref(in->errors);
	free(in->actor);
	free(in);
}

struct dz_ingest *
dz_ingest_open(const struct dz_config *cfg, const char *actor,
    struct dz_err *err)
{
	struct dz_ingest *in = calloc(1, sizeof *in);
	char path[4096];
	int check;

	if (!in) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		return NULL;
	}
	in->lock_fd = in->blobs_fd = -1;
	in->cfg = cfg;
	in->actor = strdup(actor ? actor : "dz-ingest");
	if (!in->actor) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		goto fail;
	}
	if (dz_crypt_master_load(cfg->master_key, in->master, err) ||
	    (check = dz_store_keycheck_load(cfg->store, in->master, err)) < 0)
		goto fail;
	if (dz_store_open(cfg->store, &in->store, err))
		goto fail;
	if (check == 1 && dz_store_keycheck_record(in->store, cfg->store,
	    in->master, err))
		goto fail;
	snprintf(path, sizeof path, "%s/lock", cfg->store);
	in->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (in->lock_fd < 0) {
		dz_err_set(err, EX_CANTCREAT, "cannot open the store lock: %s",
		    strerror(errno));
		goto fail;
	}
	if (flock(in->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		dz_err_set(err, EX_TEMPFAIL,
		    "another dz-ingest is using the store; try again later");
		goto fail;
	}
	in->blobs_fd = open(dz_store_blob_dir(in->store),
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (in->blobs_fd < 0) {
		dz_err_set(err, EX_IOERR, "cannot open the blob directory: %s",
		    strerror(errno));
		goto fail;
	}
	if (sweep_blobs(in, err))
		goto fail;
	return in;
fail:
	dz_ingest_close(in);
	return NULL;
}

int
dz_ingest_swept(const struct dz_ingest *in)
{
	return in->swept;
}

/* ---------- validation ---------- */

static int
valid_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > MAX_ID)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("._:-", *s)))
			return 0;
	return 1;
}

/* http(s)://host[:port][/path][?query][#frag], no spaces or controls. */
static int
valid_url(const char *u)
{
	const char *p, *host;
	size_t n = strlen(u);

	if (n > MAX_URL)
		return 0;
	if (strncasecmp(u, "https://", 8) == 0)
		p = u + 8;
	else if (strncasecmp(u, "http://", 7) == 0)
		p = u + 7;
	else
		return 0;
	for (const char *q = u; *q; q++)
		if ((unsigned char)*q <= 0x20 || *q == 0x7f || *q == '\\')
			return 0;
	host = p;
	if (*p == '[') {		/* IPv6 literal */
		p = strchr(p, ']');
		if (!p || p == host + 1)
			return 0;
		p++;
	} else {
		/* letters, digits, '-', '.', or UTF-8 (internationalised) */
		while (*p && *p != ':' && *p != '/' && *p != '?' && *p != '#') {
			unsigned char c = (unsigned char)*p;
			if (!(c >= 0x80 || (c >= 'a' && c <= 'z') ||
			    (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '.'))
				return 0;
			p++;
		}
		if (p == host || host[0] == '.' || host[0] == '-')
			return 0;
	}
	if (*p == ':') {
		int digits = 0;
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits++;
		if (digits == 0 || digits > 5)
			return 0;
	}
	return *p == '\0' || *p == '/' || *p == '?' || *p == '#';
}

/* What lib/notice/mail will write in a To: the very parser it uses. */
static int
valid_email(const char *s)
{
	return dz_mail_address_valid(s);
}

static int
valid_phone(const char *s)
{
	int digits = 0;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			digits++;
		else if (!strchr("+ ().-", *s))
			return 0;
	}
	return digits >= 3 && digits <= 20;
}

static int
valid_language(const char *s)
{
	size_t n = strlen(s), i = 0;

	if (n < 2 || n > 16)
		return 0;
	while (i < n && s[i] >= 'a' && s[i] <= 'z')
		i++;
	if (i < 2 || i > 3)
		return 0;
	for (; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

static void
close_uploads(struct submission *sub)
{
	for (size_t i = 0; i < sub->nfiles; i++)
		if (sub->files[i].fd >= 0)
			close(sub->files[i].fd);
}

/*
 * Whether a failure to open an upload is the submission's fault (a file
 * missing, a directory, a link in a spool, no permission: the input is
 * rejected) or the system's (EIO, EMFILE, ENOMEM...: the run stops and
 * the input is tried again by the next one, never rejected).
 */
static int
upload_errno_is_data(int e)
{
	/*
	 * EAGAIN too: whoever wrote the file can hold a lease on it, and an
	 * open that does not wait then fails for as long as they like.
	 */
	return e == ENOENT || e == ENOTDIR || e == EISDIR || e == ELOOP ||
	    e == EACCES || e == EPERM || e == ENAMETOOLONG || e == ENXIO ||
	    e == EFBIG || e == EOVERFLOW || e == EAGAIN;
}

/* An upload's path: name, relative to base unless absolute. -1 if too long. */
static int
upload_path(char *path, size_t size, const char *base, const char *name)
{
	int n = base && name[0] != '/' ?
	    snprintf(path, size, "%s/%s", base, name) :
	    snprintf(path, size, "%s", name);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* A spool entry's file name: a plain name, not submission.json. */
static int
plain_name(const char *f)
{
	return *f && !strchr(f, '/') && strcmp(f, ".") && strcmp(f, "..") &&
	    strcmp(f, "submission.json");
}

/*
 * Open and check one upload: regular file, size, image or video. In a
 * spool (base_fd >= 0) a plain name in the entry, opened relative to it
 * without following a link; otherwise a path (relative to base). Never
 * blocks: a FIFO or device is opened O_NONBLOCK and refused by fstat.
 */
static int
open_upload(struct dz_ingest *in, const char *base, int base_fd,
    struct upload *u, struct dz_err *err)
{
	uint8_t head[DZ_MEDIA_SNIFF_BYTES];
	struct stat st;
	ssize_t n;
	int fd;

	if (base_fd >= 0) {
		if (!plain_name(u->name))
			return dz_err_set(err, EX_DATAERR,
			    "file names in a spooled submission must be plain names");
		fd = openat(base_fd, u->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
		    O_NONBLOCK | O_NOCTTY);
	} else {
		char path[4096];
		if (upload_path(path, sizeof path, base, u->name))
			return dz_err_set(err, EX_DATAERR, "cannot open: %s",
			    strerror(ENAMETOOLONG));
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	}
	if (fd < 0)
		return dz_err_set(err, upload_errno_is_data(errno) ? EX_DATAERR :
		    EX_IOERR, "cannot open: %s", strerror(errno));
	u->fd = fd;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return dz_err_set(err, EX_DATAERR, "an uploaded file is not a regular file");
	if ((uint64_t)st.st_size > in->cfg->max_upload_bytes)
		return dz_err_set(err, EX_DATAERR,
		    "an uploaded file is too large: %lld bytes, limit %llu",
		    (long long)st.st_size,
		    (unsigned long long)in->cfg->max_upload_bytes);
	if (st.st_size == 0)
		return dz_err_set(err, EX_DATAERR, "an uploaded file is empty");
	u->size = (uint64_t)st.st_size;
	n = pread(fd, head, sizeof head, 0);
	if (n < 0)
		return dz_err_set(err, EX_IOERR, "cannot read an uploaded file: %s",
		    strerror(errno));
	u->mime = dz_media_sniff(head, (size_t)n);
	if (!u->mime)
		return dz_err_set(err, EX_DATAERR,
		    "an uploaded file is neither an image nor a video");
	return 0;
}

/*
 * One fault of a record's values, added to the record's errors. Returns 0,
 * or -1 when out of memory.
 */
static int
fault(struct dz_ingest *in, const char *member, size_t index,
    const char *expected, const char *got, const char *message,
    struct dz_err *err)
{
	return dz_recordcheck_add(&in->errors, member, index, expected, got,
	    message, err);
}

/* Why u is not a URL dz-ingest takes ("has a trailing space"), or NULL. */
static const char *
url_fault(const char *u)
{
	size_t n = strlen(u);

	if (n == 0)
		return "is empty";
	if (n > MAX_URL)
		return "is longer than 2048 bytes";
	if (u[n - 1] == ' ' || u[n - 1] == '\t')
		return "has a trailing space";
	if (u[0] == ' ' || u[0] == '\t')
		return "has a leading space";
	if (strncasecmp(u, "https://", 8) && strncasecmp(u, "http://", 7))
		return "does not start with http:// or https://";
	for (const char *q = u; *q; q++) {
		if (*q == ' ')
			return "has a space in it";
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			return "has a control character in it";
		if (*q == '\\')
			return "has a backslash in it";
	}
	return valid_url(u) ? NULL : "has a host name or port that is not valid";
}

/*
 * Check a submission record's values completely before anything is
 * written, every fault into in->errors (its members' types are checked
 * already). Returns 0; -1 when out of memory or the system failed to
 * open an upload (err set, the record is not at fault). On success *out
 * holds the open uploads (caller closes and frees); faults leave
 * in->errors not empty.
 */
static int
validate(struct dz_ingest *in, const json_t *rec, const char *base,
    int base_fd, struct submission **out, struct dz_err *err)
{
	const struct dz_config *cfg = in->cfg;
	const json_t *urls = json_object_get(rec, "urls");
	const json_t *files = json_object_get(rec, "files");
	const json_t *contact = json_object_get(rec, "contact");
	char m[DZ_ERR_MAX];
	struct submission *sub;
	size_t nurls = json_array_size(urls), nfiles = json_array_size(files);
	json_int_t age;
	time_t t;

	*out = NULL;
	if (nurls == 0 && nfiles == 0 &&
	    fault(in, "urls", 0, "at least one URL or one file", NULL,
	    "urls: a submission needs at least one URL or one file", err))
		return -1;
	if (nurls > (size_t)cfg->max_urls) {
		snprintf(m, sizeof m, "urls: too many URLs (limit %d)",
		    cfg->max_urls);
		if (fault(in, "urls", 0, "fewer URLs", NULL, m, err))
			return -1;
	}
	if (nfiles > (size_t)cfg->max_files) {
		snprintf(m, sizeof m, "files: too many files (limit %d)",
		    cfg->max_files);
		if (fault(in, "files", 0, "fewer files", NULL, m, err))
			return -1;
		nfiles = 0;	/* not opened */
	}
	sub = calloc(1, sizeof *sub + nfiles * sizeof sub->files[0]);
	if (!sub)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	for (size_t i = 0; i < nfiles; i++)
		sub->files[i].fd = -1;
	sub->nfiles = nfiles;
	*out = sub;

	sub->id = json_string_value(json_object_get(rec, "submission"));
	if (!valid_id(sub->id) && fault(in, "submission", 0,
	    "an id of 1-128 letters, digits and ._:-", NULL, "submission: "
	    "must be an id of 1-128 letters, digits and ._:-", err))
		return -1;
	sub->received_at = json_string_value(json_object_get(rec,
	    "received_at"));
	if (sub->received_at && dz_clock_parse(sub->received_at, &t) &&
	    fault(in, "received_at", 0, "an RFC 3339 time", NULL,
	    "received_at: must be an RFC 3339 time", err))
		return -1;
	age = json_integer_value(json_object_get(rec, "age"));
	if ((age < 1 || age > 120) && fault(in, "age", 0, "1-120", NULL,
	    "age: is out of range (1-120)", err))
		return -1;
	sub->age = (int)age;
	for (size_t i = 0; i < nurls; i++) {
		const char *why = url_fault(json_string_value(json_array_get(urls,
		    i)));
		if (!why)
			continue;
		snprintf(m, sizeof m, "urls: URL %zu %s (not a valid http or "
		    "https URL)", i + 1, why);
		if (fault(in, "urls", i + 1, "an http or https URL", why, m, err))
			return -1;
	}
	sub->urls = (json_t *)urls;
	sub->description = json_string_value(json_object_get(rec,
	    "description"));
	if (sub->description &&
	    strlen(sub->description) > (size_t)cfg->max_description_bytes) {
		snprintf(m, sizeof m, "description: is too long (limit %d bytes)",
		    cfg->max_description_bytes);
		if (fault(in, "description", 0, "shorter text", NULL, m, err))
			return -1;
	}
	sub->language = json_string_value(json_object_get(rec, "language"));
	if (sub->language && !valid_language(sub->language) &&
	    fault(in, "language", 0, "a language tag", NULL, "language: must "
	    "be a language tag such as \"fr\"", err))
		return -1;
	if (!sub->language)
		sub->language = "fr";
	sub->followup = json_is_true(json_object_get(rec, "followup"));
	if (json_is_object(contact)) {
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)contact, k, v) {
			const char *s = json_string_value(v);
			int known = !strcmp(k, "email") || !strcmp(k, "phone") ||
			    !strcmp(k, "name");
			const char *why = NULL, *what = "text of at most 254 bytes";

			if (!known)
				why = "contact: unknown contact field (email, "
				    "phone and name are known)";
			else if (!s || strlen(s) > MAX_CONTACT_FIELD) {
				snprintf(m, sizeof m, "contact: %s must be text of "
				    "at most %d bytes", k, MAX_CONTACT_FIELD);
				why = m;
			} else if (strcmp(k, "email") == 0 && !valid_email(s)) {
				why = "contact: email is not an e-mail address";
				what = "an e-mail address";
			} else if (strcmp(k, "phone") == 0 && !valid_phone(s)) {
				why = "contact: phone is not a phone number";
				what = "a phone number";
			}
			if (why && fault(in, known ? (k[0] == 'e' ? "contact.email" :
			    k[0] == 'p' ? "contact.phone" : "contact.name") :
			    "contact", 0, known ? what : "email, phone or name",
			    NULL, why, err))
				return -1;
		}
		if (json_object_size(contact) > 0)
			sub->contact = (json_t *)contact;
	}
	if (sub->followup && !(sub->contact &&
	    (json_object_get(sub->contact, "email") ||
	    json_object_get(sub->contact, "phone"))) &&
	    fault(in, "followup", 0, "a contact email or phone", NULL,
	    "followup: needs a contact email or phone", err))
		return -1;
	if (in->errors)		/* no file is opened for a bad record */
		return 0;

	for (size_t i = 0; i < nfiles; i++) {
		sub->files[i].name = json_string_value(json_array_get(files, i));
		if (open_upload(in, base, base_fd, &sub->files[i], err)) {
			/* say which file without naming it */
			if (err->code != EX_DATAERR)
				return -1;
			snprintf(m, sizeof m, "files: file %zu: %.160s", i + 1,
			    err->msg);
			if (fault(in, "files", i + 1, "an image or video file",
			    NULL, m, err))
				return -1;
		}
	}
	return 0;
}

/* ---------- the unit of work ---------- */

/* Encrypt one upload into blobs/, durable under its final name. */
static int
store_blob(struct dz_ingest *in, struct upload *u, const uint8_t key[DZ_KEY_BYTES],
    char name[64], struct dz_err *err)
{
	uint8_t rnd[16], *buf = NULL;
	char tmp[80];
	struct dz_blob_writer *w = NULL;
	int fd = -1, rc = -1;
	uint64_t total = 0;

	if (dz_crypt_random(rnd, sizeof rnd, err))
		return -1;
	strcpy(dz_hex_put(name, rnd, sizeof rnd), ".dzb");
	snprintf(tmp, sizeof tmp, ".tmp-%s", name);
	fd = openat(in->blobs_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd < 0) {
		dz_err_set(err, EX_CANTCREAT, "cannot create a blob: %s",
		    strerror(errno));
		goto out;
	}
	if (!(buf = malloc(DZ_BLOB_CHUNK))) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		goto out;
	}
	if (!(w = dz_blob_writer_new(fd, key, err)))
		goto out;
	if (lseek(u->fd, 0, SEEK_SET) < 0) {
		dz_err_set(err, EX_IOERR, "cannot read an upload: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t n = read(u->fd, buf, DZ_BLOB_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			dz_err_set(err, EX_IOERR, "cannot read an upload: %s",
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (total > in->cfg->max_upload_bytes) {
			dz_err_set(err, EX_DATAERR, "an uploaded file grew past the limit");
			goto out;
		}
		if (dz_blob_write(w, buf, (size_t)n, err))
			goto out;
	}
	if (dz_blob_writer_finish(w, err))
		goto out;
	if (fsync(fd) != 0) {
		dz_err_set(err, EX_IOERR, "cannot sync a blob: %s", strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		dz_err_set(err, EX_IOERR, "cannot write a blob: %s", strerror(errno));
		goto out;
	}
	fd = -1;
	if (renameat(in->blobs_fd, tmp, in->blobs_fd, name) != 0) {
		dz_err_set(err, EX_IOERR, "cannot rename a blob: %s", strerror(errno));
		goto out;
	}
	u->size = total;
	rc = 0;
out:
	dz_blob_writer_free(w);
	dz_crypt_free_wiped(buf, DZ_BLOB_CHUNK);
	if (fd >= 0)
		close(fd);
	if (rc)
		unlinkat(in->blobs_fd, tmp, 0);
	return rc;
}

/* Seal a text under the case key; *out is malloc'd. */
static int
seal_text(const uint8_t key[DZ_KEY_BYTES], const char *aad_kind,
    const char *case_id, const char *text, uint8_t **out, size_t *len,
    struct dz_err *err)
{
	char aad[DZ_AAD_MAX];
	size_t n = strlen(text);

	dz_crypt_aad(aad, aad_kind, case_id);
	*out = malloc(n + DZ_SEAL_OVERHEAD);
	if (!*out)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	*len = n + DZ_SEAL_OVERHEAD;
	return dz_crypt_seal(key, aad, (const uint8_t *)text, n, *out, err);
}

/*
 * Unlink one checked upload, open as u->fd, if its name still leads to
 * the file that was checked (or, outside a spool, is a link to it): never
 * anything else. 0 when it is gone, -1 when it is left.
 */
static int
unlink_upload(const char *base, int base_fd, const struct upload *u)
{
	struct stat fs, ls;
	char path[4096];

	if (fstat(u->fd, &fs) != 0)
		return -1;
	if (base_fd >= 0) {
		if (fstatat(base_fd, u->name, &ls, AT_SYMLINK_NOFOLLOW) != 0)
			return errno == ENOENT ? 0 : -1;
		if (!S_ISREG(ls.st_mode) || ls.st_dev != fs.st_dev ||
		    ls.st_ino != fs.st_ino)
			return -1;
		return unlinkat(base_fd, u->name, 0) == 0 || errno == ENOENT ?
		    0 : -1;
	}
	if (upload_path(path, sizeof path, base, u->name))
		return -1;
	if (lstat(path, &ls) != 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISLNK(ls.st_mode) && stat(path, &ls) != 0)
		return -1;
	if (!S_ISREG(ls.st_mode) || ls.st_dev != fs.st_dev ||
	    ls.st_ino != fs.st_ino)
		return -1;
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* The plaintext uploads of a submission just stored; how many are left. */
static int
remove_uploads(const struct submission *sub, const char *base, int base_fd)
{
	int left = 0;

	for (size_t i = 0; i < sub->nfiles; i++)
		if (unlink_upload(base, base_fd, &sub->files[i]))
			left++;
	if (base_fd >= 0 && sub->nfiles)
		(void)fsync(base_fd);
	return left;
}

/*
 * The uploads of a submission stored before (a re-run, or the backend
 * sending twice). They are not trusted more than a new one's: each goes
 * through the checks a new upload gets (a regular file of media within
 * the limits, in a spool a plain name not followed through a link), and
 * only what passes is unlinked. What is gone already, or was never an
 * upload, is not counted as left.
 */
static int
remove_known_uploads(struct dz_ingest *in, const json_t *files,
    const char *base, int base_fd)
{
	int left = 0;

	if (!json_is_array(files) ||
	    json_array_size(files) > (size_t)in->cfg->max_files)
		return 0;
	for (size_t i = 0; i < json_array_size(files); i++) {
		struct upload u = { 0 };
		struct dz_err e;

		u.name = json_string_value(json_array_get(files, i));
		u.fd = -1;
		if (!u.name)
			continue;
		if (open_upload(in, base, base_fd, &u, &e) == 0) {
			if (unlink_upload(base, base_fd, &u))
				left++;
		} else if (e.code != EX_DATAERR) {
			left++;
		}
		if (u.fd >= 0)
			close(u.fd);
	}
	if (base_fd >= 0 && json_array_size(files))
		(void)fsync(base_fd);
	return left;
}

/* Forget the faults of the record before. */
static void
forget(struct dz_ingest *in)
{
	json_decref(in->errors);
	in->errors = NULL;
}

/* Refuse the record: EX_DATAERR with its faults as the reason. */
static json_t *
refuse(struct dz_ingest *in, struct dz_err *err)
{
	char r[DZ_ERR_MAX];

	dz_recordcheck_reason(in->errors, r, sizeof r);
	dz_err_set(err, EX_DATAERR, "%s", r);
	return NULL;
}

/*
 * Check rec's members against its type's table; every fault goes into
 * in->errors. 0 when there is none; -1 with err (EX_DATAERR: refused).
 */
static int
checked(struct dz_ingest *in, const json_t *rec, struct dz_err *err)
{
	const struct dz_recordcheck_type *t = dz_recordcheck_find(ingest_types,
	    json_string_value(json_object_get(rec, "type")));
	int n;

	forget(in);
	if (!t)
		return dz_err_set(err, EX_SOFTWARE, "no table for a record type");
	if ((n = dz_recordcheck_run(t, rec, &in->errors, err)) < 0)
		return -1;
	if (n > 0) {
		refuse(in, err);
		return -1;
	}
	return 0;
}

static json_t *
ack(const char *what)
{
	json_t *a = json_object();

	dz_record_put(&a, "type", json_string("ack"));
	dz_record_put(&a, "of", json_string(what));
	return a;
}

static json_t *
do_submission(struct dz_ingest *in, json_t *rec, const char *base, int base_fd,
    int remove_files, struct dz_err *err)
{
	struct submission *sub = NULL;
	struct dz_case c = { 0 };
	uint8_t case_key[DZ_KEY_BYTES];
	uint8_t *contact = NULL, *desc = NULL;
	char now[DZ_TIME_LEN], aad[DZ_AAD_MAX], (*blobs)[64] = NULL;
	struct dz_item *items = NULL;
	json_t *a = NULL, *ids;
	const char *sid;
	size_t nitems = 0;
	int found, in_tx = 0, committed = 0, left = 0;

	if (checked(in, rec, err))
		return NULL;
	if (dz_clock_now(now))
		return dz_err_set(err, EX_CONFIG, "DZ_NOW is not an RFC 3339 time"),
		    NULL;
	/*
	 * Known already (a re-run, or the backend sending twice): ack it and
	 * remove what is left of the uploads, before checking them: a run
	 * killed after its commit may have removed some already.
	 */
	sid = json_string_value(json_object_get(rec, "submission"));
	if (sid && valid_id(sid)) {
		found = dz_store_case_by_submission(in->store, sid, c.id, err);
		if (found < 0)
			return NULL;
		if (found) {
			left = remove_files ? remove_known_uploads(in,
			    json_object_get(rec, "files"), base, base_fd) : 0;
			a = ack("submission");
			dz_record_put(&a, "submission", json_string(sid));
			dz_record_put(&a, "case", json_string(c.id));
			dz_record_put(&a, "duplicate", json_true());
			if (left)
				dz_record_put(&a, "uploads_left", json_integer(left));
			if (!a)
				dz_err_set(err, EX_SOFTWARE, "out of memory");
			return a;
		}
	}
	if (validate(in, rec, base, base_fd, &sub, err))
		goto out;
	if (in->errors) {
		refuse(in, err);
		goto out;
	}

	if (dz_store_new_case_id(in->store, c.id, err) ||
	    dz_crypt_random(case_key, sizeof case_key, err))
		goto out;
	dz_crypt_aad(aad, "case", c.id);
	if (dz_crypt_wrap(in->master, case_key, aad, c.wrapped_key, err))
		goto out;
	if (sub->contact) {
		char *js = json_dumps(sub->contact, JSON_COMPACT | JSON_SORT_KEYS);
		int r = js ? seal_text(case_key, "contact", c.id, js, &contact,
		    &c.contact_len, err) : dz_err_set(err, EX_SOFTWARE, "out of memory");
		if (js)
			dz_crypt_free_wiped(js, strlen(js));
		if (r)
			goto out;
		c.contact = contact;
	}
	if (sub->description && *sub->description) {
		if (seal_text(case_key, "description", c.id, sub->description,
		    &desc, &c.description_len, err))
			goto out;
		c.description = desc;
	}
	c.submission_id = sub->id;
	c.received_at = sub->received_at ? sub->received_at : now;
	c.declared_age = sub->age;
	c.minor = sub->age < 18;
	c.language = sub->language;
	c.followup = sub->followup;

	/* Items: one per URL, one per file (a URL and a file stay separate). */
	nitems = json_array_size(sub->urls) + sub->nfiles;
	items = calloc(nitems, sizeof *items);
	blobs = calloc(sub->nfiles ? sub->nfiles : 1, sizeof *blobs);
	if (!items || !blobs) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nitems; i++) {
		struct dz_item *it = &items[i];
		snprintf(it->id, sizeof it->id, "%.10s-%u", c.id, (unsigned)(i + 1) % 100000u);
		it->case_id = c.id;
		if (i < json_array_size(sub->urls)) {
			it->url = json_string_value(json_array_get(sub->urls, i));
		} else {
			struct upload *u = &sub->files[i - json_array_size(sub->urls)];
			uint8_t item_key[DZ_KEY_BYTES];
			char *bn = blobs[i - json_array_size(sub->urls)];
			int r;

			r = dz_crypt_random(item_key, sizeof item_key, err);
			dz_crypt_aad(aad, "item", it->id);
			if (!r)
				r = dz_crypt_wrap(in->master, item_key, aad,
				    it->wrapped_key, err);
			if (!r)
				r = store_blob(in, u, item_key, bn, err);
			explicit_bzero(item_key, sizeof item_key);
			if (r)
				goto out;
			it->has_media = 1;
			it->media_type = u->mime;
			it->media_size = u->size;
			it->blob = bn;
		}
	}
	if (sub->nfiles && fsync(in->blobs_fd) != 0) {
		dz_err_set(err, EX_IOERR, "cannot sync blobs: %s", strerror(errno));
		goto out;
	}

	if (dz_store_begin(in->store, err))
		goto out;
	in_tx = 1;
	if (dz_store_case_insert(in->store, &c, now, err))
		goto out;
	for (size_t i = 0; i < nitems; i++)
		if (dz_store_item_insert(in->store, &items[i], now, err))
			goto out;
	if (dz_store_commit(in->store, err))
		goto out;
	in_tx = 0;
	committed = 1;

	left = remove_files ? remove_uploads(sub, base, base_fd) : 0;
	/*
	 * The case is stored: from here a failure (no memory for the ack)
	 * must not touch it. The run stops; the next one acks the
	 * submission as a duplicate.
	 */
	a = ack("submission");
	dz_record_put(&a, "submission", json_string(sub->id));
	dz_record_put(&a, "case", json_string(c.id));
	ids = json_array();
	for (size_t i = 0; i < nitems && ids; i++)
		if (json_array_append_new(ids, json_string(items[i].id)) != 0) {
			json_decref(ids);
			ids = NULL;
		}
	dz_record_put(&a, "items", ids);
	dz_record_put(&a, "minor", json_boolean(c.minor));
	dz_record_put(&a, "duplicate", json_false());
	if (left)
		dz_record_put(&a, "uploads_left", json_integer(left));
	if (!a)
		dz_err_set(err, EX_SOFTWARE, "out of memory after storing a "
		    "submission; run again for its ack");
out:
	if (in_tx)
		dz_store_rollback(in->store);
	if (!committed && blobs)	/* failed: this attempt's blobs are orphans */
		for (size_t i = 0; i < sub->nfiles; i++)
			if (blobs[i][0])
				unlinkat(in->blobs_fd, blobs[i], 0);
	explicit_bzero(case_key, sizeof case_key);
	if (contact)
		dz_crypt_free_wiped(contact, c.contact_len);
	if (desc)
		dz_crypt_free_wiped(desc, c.description_len);
	free(items);
	free(blobs);
	if (sub) {
		close_uploads(sub);
		free(sub);
	}
	return a;
}

/*
 * verdict, member override_minor (issue 16): adult_ncii on an item of a
 * case declared under 18 is refused unless the verdict says
 * "override_minor": true (the analyst judged the person shown an adult);
 * the override is audited. Within the verdict's transaction.
 */
static int
verdict_age_check(struct dz_ingest *in, json_t *rec, const char *item,
    enum dz_category c, const char *actor, const char *now,
    struct dz_err *err)
{
	const json_t *ov = json_object_get(rec, "override_minor");
	char case_id[DZ_CASE_ID_LEN + 1];
	const char *dash = strchr(item, '-');
	json_t *row = NULL;
	int k, minor;

	if (ov && !json_is_boolean(ov))
		return dz_err_set(err, EX_DATAERR,
		    "\"override_minor\" must be true or false");
	if (c != DZ_CAT_ADULT_NCII || !dash ||
	    (size_t)(dash - item) != DZ_CASE_ID_LEN)
		return 0;	/* not adult_ncii, or no such item anyway */
	memcpy(case_id, item, DZ_CASE_ID_LEN);
	case_id[DZ_CASE_ID_LEN] = '\0';
	if ((k = dz_store_case_get(in->store, case_id, &row, err)) < 0)
		return -1;
	minor = k == 1 && json_is_true(json_object_get(row, "minor"));
	json_decref(row);
	if (!minor)
		return 0;
	if (!json_is_true(ov))
		return dz_err_set(err, EX_DATAERR, "the case was declared under "
		    "18: a verdict of adult_ncii needs \"override_minor\": "
		    "true (else use the category minor)");
	return dz_store_audit(in->store, actor, "verdict_override", case_id,
	    item, "adult_ncii on a case declared under 18", now, err);
}

/*
 * verdict, removed, notified, still_online, refused, close, withdraw: one
 * transaction each.
 */
static json_t *
do_operator(struct dz_ingest *in, json_t *rec, const char *type,
    struct dz_err *err)
{
	char now[DZ_TIME_LEN];
	const char *by = json_string_value(json_object_get(rec, "by"));
	const char *actor = by && valid_id(by) ? by : in->actor;
	const char *item = json_string_value(json_object_get(rec, "item"));
	const char *cs = json_string_value(json_object_get(rec, "case"));
	json_t *a;
	int r;

	if (dz_clock_now(now))
		return dz_err_set(err, EX_CONFIG, "DZ_NOW is not an RFC 3339 time"),
		    NULL;
	if (strcmp(type, "verdict") == 0) {
		const json_t *il = json_object_get(rec, "illegal");
		const char *cat = json_string_value(json_object_get(rec, "category"));
		enum dz_category c = DZ_CAT_NONE;

		if (!valid_id(item) && fault(in, "item", 0, "an item id", NULL,
		    "item: a verdict needs an \"item\" id", err))
			return NULL;
		if (json_is_true(il) && (!cat || dz_category_parse(cat, &c) ||
		    c == DZ_CAT_NONE) && fault(in, "category", 0,
		    "adult_ncii, minor or other", NULL, "category: an illegal "
		    "verdict needs a \"category\": adult_ncii, minor or other",
		    err))
			return NULL;
		if (in->errors)
			return refuse(in, err);
		if (dz_store_begin(in->store, err))
			return NULL;
		r = verdict_age_check(in, rec, item, c, actor, now, err);
		if (!r)
			r = dz_store_item_verdict(in->store, item,
			    json_is_true(il) ? DZ_VERDICT_ILLEGAL :
			    DZ_VERDICT_NOT_ILLEGAL, c, actor, now, err);
	} else if (strcmp(type, "still_online") == 0) {
		/* still_online (issue 16): an operator saw it still there */
		if (!item || !valid_id(item))
			return dz_err_set(err, EX_DATAERR,
			    "a still_online record needs an \"item\""), NULL;
		if (dz_store_begin(in->store, err))
			return NULL;
		r = dz_store_item_still_online(in->store, item, actor, now, err);
	} else if (strcmp(type, "refused") == 0) {
		/* refused (issue 16): the provider's answer, with its reason */
		const char *why = json_string_value(json_object_get(rec,
		    "reason"));

		if (!item || !valid_id(item))
			return dz_err_set(err, EX_DATAERR,
			    "a refused record needs an \"item\""), NULL;
		if (!why || !*why || strlen(why) > 500 ||
		    strcspn(why, "\n\r\t") != strlen(why))
			return dz_err_set(err, EX_DATAERR, "a refused record "
			    "needs a \"reason\" (the provider's, 1 to 500 "
			    "bytes on one line)"), NULL;
		if (dz_store_begin(in->store, err))
			return NULL;
		r = dz_store_item_refused(in->store, item, why, actor, now, err);
	} else if (strcmp(type, "removed") == 0 ||
	    strcmp(type, "notified") == 0) {
		const char *prov = json_string_value(json_object_get(rec,
		    "provider"));

		char m[DZ_ERR_MAX];

		snprintf(m, sizeof m, "item: a %s record needs an \"item\" id",
		    type);
		if (!valid_id(item) && fault(in, "item", 0, "an item id", NULL, m,
		    err))
			return NULL;
		if (type[0] == 'n' && (!prov || !*prov || strlen(prov) > 100 ||
		    strcspn(prov, "\n\r\t") != strlen(prov)) &&
		    fault(in, "provider", 0, "a name of 1 to 100 bytes", NULL,
		    "provider: a notified record needs a \"provider\" (a name "
		    "of 1 to 100 bytes, no tab or line break)", err))
			return NULL;
		if (in->errors)
			return refuse(in, err);
		if (dz_store_begin(in->store, err))
			return NULL;
		r = type[0] == 'r' ?
		    dz_store_item_removed(in->store, item, actor, now, err) :
		    dz_store_notice_manual(in->store, item, prov, actor, now,
		    err);
	} else {
		json_t *row = NULL;
		const char *state;
		int k;

		char m[DZ_ERR_MAX];

		snprintf(m, sizeof m, "case: a %s needs a \"case\" id", type);
		if (!valid_id(cs)) {
			if (fault(in, "case", 0, "a case id", NULL, m, err))
				return NULL;
			return refuse(in, err);
		}
		if (dz_store_begin(in->store, err))
			return NULL;
		/* closing a closed case again (a re-run): nothing to do */
		k = strcmp(type, "close") == 0 ?
		    dz_store_case_get(in->store, cs, &row, err) : 0;
		if (k < 0) {
			dz_store_rollback(in->store);
			return NULL;
		}
		state = k == 1 ?
		    json_string_value(json_object_get(row, "state")) : NULL;
		if (state && strcmp(state, "closed") == 0) {
			json_decref(row);
			dz_store_rollback(in->store);
			a = ack(type);
			dz_record_put(&a, "case", json_string(cs));
			dz_record_put(&a, "already", json_true());
			if (!a)
				dz_err_set(err, EX_SOFTWARE, "out of memory");
			return a;
		}
		json_decref(row);
		r = strcmp(type, "close") == 0 ?
		    dz_store_case_close(in->store, cs, actor, now, err) :
		    dz_store_case_withdraw(in->store, cs, actor, now, err);
	}
	if (r || dz_store_commit(in->store, err)) {
		dz_store_rollback(in->store);
		return NULL;
	}
	a = ack(type);
	if (item)
		dz_record_put(&a, "item", json_string(item));
	if (cs)
		dz_record_put(&a, "case", json_string(cs));
	if (!a)
		dz_err_set(err, EX_SOFTWARE, "out of memory after storing a %s "
		    "record; run again for its ack", type);
	return a;
}

const json_t *
dz_ingest_errors(const struct dz_ingest *in)
{
	return in->errors;
}

json_t *
dz_ingest_record(struct dz_ingest *in, json_t *rec, const char *base_dir,
    int in_spool, int remove_files, struct dz_err *err)
{
	const json_t *tv = json_object_get(rec, "type");
	const char *type = json_string_value(tv);
	char m[DZ_ERR_MAX];
	json_t *a;
	int fd;

	forget(in);
	if (!type) {
		if (fault(in, "type", 0, "string", tv ?
		    dz_recordcheck_kind_of(tv) : NULL, tv ? NULL :
		    "type: record has no \"type\"", err))
			return NULL;
		return refuse(in, err);
	}
	if (!dz_recordcheck_find(ingest_types, type)) {
		const char *near = dz_recordcheck_suggest(ingest_types, type);
		for (size_t i = 0; passed_types[i]; i++)
			if (strcmp(type, passed_types[i]) == 0)
				return json_incref(rec);
		if (!dz_recordcheck_plain(type))
			snprintf(m, sizeof m, "type: not a record type dz-ingest "
			    "knows");
		else if (near)
			snprintf(m, sizeof m, "type: '%s' is not a record type "
			    "dz-ingest knows (did you mean '%s'?)", type, near);
		else
			snprintf(m, sizeof m, "type: '%s' is not a record type "
			    "dz-ingest knows", type);
		if (fault(in, "type", 0, "a record type", NULL, m, err))
			return NULL;
		return refuse(in, err);
	}
	if (strcmp(type, "submission") == 0 && !in_spool)
		return do_submission(in, rec, base_dir, -1, remove_files, err);
	if (strcmp(type, "submission") == 0) {
		fd = open(base_dir ? base_dir : ".", O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			return dz_err_set(err, errno == ENOENT || errno == ELOOP ||
			    errno == ENOTDIR ? EX_DATAERR : EX_IOERR, "cannot open "
			    "a spool entry: %s", strerror(errno)), NULL;
		a = do_submission(in, rec, base_dir, fd, remove_files, err);
		close(fd);
		return a;
	}
	if (checked(in, rec, err))
		return NULL;
	return do_operator(in, rec, type, err);
}

/* ---------- the spool ---------- */

/* The largest submission.json a spool entry may hold. */
static size_t
spool_json_max(const struct dz_config *cfg)
{
	return SPOOL_JSON_BASE +
	    SPOOL_JSON_ESCAPE * (size_t)cfg->max_description_bytes;
}

/*
 * One entry, open as efd: its submission.json read within the limit and
 * handled. The ack, or NULL with e (EX_DATAERR: reject the entry).
 */
static json_t *
spool_one(struct dz_ingest *in, int efd, struct dz_err *e)
{
	const char *type;
	char *buf;
	size_t len;
	json_t *rec, *out;

	if (dz_spool_read(efd, "submission.json", "submission.json",
	    spool_json_max(in->cfg), &buf, &len, e))
		return NULL;
	rec = dz_record_parse(buf, len, e);
	dz_crypt_free_wiped(buf, len + 1);
	if (!rec) {
		if (e->code == EX_DATAERR)
			dz_err_set(e, EX_DATAERR, "submission.json is not a JSON "
			    "object");
		return NULL;
	}
	type = json_string_value(json_object_get(rec, "type"));
	if (!type) {
		if (json_object_get(rec, "type")) {
			json_decref(rec);
			return dz_err_set(e, EX_DATAERR, "a spool entry must be a "
			    "submission"), NULL;
		}
		if (json_object_set_new(rec, "type", json_string("submission"))) {
			json_decref(rec);
			return dz_err_set(e, EX_SOFTWARE, "out of memory"), NULL;
		}
	} else if (strcmp(type, "submission")) {
		json_decref(rec);
		return dz_err_set(e, EX_DATAERR, "a spool entry must be a "
		    "submission"), NULL;
	}
	out = do_submission(in, rec, NULL, efd, 1, e);
	json_decref(rec);
	return out;
}

/* An error record for the entry name. NULL when out of memory. */
static json_t *
spool_error(const char *name, const char *reason)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "type", "error", "program",
	    "dz-ingest", "spool", name, "reason", reason);
}

int
dz_ingest_spool(struct dz_ingest *in, const char *dir, dz_ingest_emit_fn emit,
    void *ctx, int *bad, struct dz_err *err)
{
	struct dz_spool sp;
	struct dz_err first = { 0 };
	char **names = NULL;
	size_t n = 0, kept = 0;
	int rc = 0, stopped = 0, failing = 0;

	*bad = 0;
	if (dz_spool_open(&sp, dir, 1, err) ||
	    dz_spool_list(sp.new_fd, &names, &n, err)) {
		dz_spool_release(&sp);
		return -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		char moved[NAME_MAX + 16];
		struct dz_err e2, e3;
		json_t *out = NULL, *er;
		int efd;

		/*
		 * Only the entry's own fault rejects it. A failure of the
		 * store or the system leaves the entry for the next run:
		 * an I/O error, which may be this entry's alone (a bad
		 * block under an upload), is reported and the run goes on,
		 * unless SPOOL_MAX_FAILING entries in a row fail so; any
		 * other (the store busy, out of memory) stops the run. A
		 * failure to move or remove this one entry is reported, the
		 * entry left, and the run goes on.
		 */
		forget(in);
		if (dz_spool_entry_open(sp.new_fd, names[i],
		    (size_t)in->cfg->max_files + 1, &efd, &e2) == 0)
			out = spool_one(in, efd, &e2);
		if (efd >= 0)
			close(efd);
		if (out) {
			if (dz_spool_remove(sp.new_fd, names[i], &e3)) {
				if (!kept++)
					dz_err_set(&first, e3.code, "cannot remove a "
					    "stored spool entry: %s", e3.msg);
			} else {
				(void)fsync(sp.new_fd);
			}
			dz_record_put(&out, "spool", json_string(names[i]));
			if (!out) {
				rc = dz_err_set(err, EX_SOFTWARE, "out of memory");
				break;
			}
			failing = 0;
			if (emit(out, ctx)) {
				stopped = 1;
				break;
			}
			continue;
		}
		if (e2.code != EX_DATAERR) {
			if ((e2.code != EX_IOERR && e2.code != EX_CANTCREAT) ||
			    ++failing >= SPOOL_MAX_FAILING) {
				*err = e2;
				rc = -1;
				break;
			}
			if (!kept++)
				first = e2;
			er = spool_error(names[i], e2.msg);
			dz_record_put(&er, "kept", json_true());
			if (!er) {
				rc = dz_err_set(err, EX_SOFTWARE, "out of memory");
				break;
			}
			if (emit(er, ctx)) {
				stopped = 1;
				break;
			}
			continue;
		}
		failing = 0;
		(*bad)++;
		er = spool_error(names[i], e2.msg);
		if (in->errors)
			dz_record_put(&er, "errors", json_incref(in->errors));
		if (dz_spool_reject(&sp, names[i], e2.msg, moved, sizeof moved,
		    &e3)) {
			/* left in new/: said, and the next run tries again */
			if (!kept++)
				dz_err_set(&first, e3.code, "%s", e3.msg);
			dz_record_put(&er, "kept", json_true());
		} else if (strcmp(moved, names[i])) {
			dz_record_put(&er, "rejected", json_string(moved));
		}
		if (!er) {
			rc = dz_err_set(err, EX_SOFTWARE, "out of memory");
			break;
		}
		if (emit(er, ctx)) {
			stopped = 1;
			break;
		}
	}
	dz_spool_names_free(names, n);
	dz_spool_release(&sp);
	if (rc == 0 && !stopped && kept) {
		dz_err_set(err, first.code, "%zu spool entr%s left in new/ for the "
		    "next run: %s", kept, kept == 1 ? "y" : "ies", first.msg);
		rc = -1;
	}
	return rc;
}
