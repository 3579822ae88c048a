/*
 * lib/bank/trust: the trust state file of dz-match; see trust.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bank/trust.h"
#include "core/err.h"
#include "core/fdio.h"
#include "core/hex.h"
#include "crypto/sign.h"

static const char header[] = "disrupt-match-state v1";

/* ---------- small conversions ---------- */

/* The key id as dz_sign_keyid_hex prints it: %PRIX64, 1-16 digits. */
static int
keyid_parse(const char *s, size_t n, uint8_t id[DZ_TRUST_KEYID_BYTES])
{
	uint64_t v = 0;
	char want[17];

	if (n == 0 || n > 16)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int d = dz_hex_digit((unsigned char)s[i], DZ_HEX_UPPER);

		if (d < 0)
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	for (int i = 0; i < DZ_TRUST_KEYID_BYTES; i++)
		id[i] = (uint8_t)(v >> (8 * i));
	/* One spelling only: no leading zeros, as minisign prints it. */
	dz_sign_keyid_hex(id, want);
	if (strlen(want) != n || memcmp(want, s, n) != 0)
		return -1;
	return 0;
}

/* A decimal u64 without sign, leading zeros (except "0") or overflow. */
static int
u64_parse(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* "SECONDS.NNNNNNNNN", seconds possibly negative. */
static int
time_parse(const char *s, size_t n, int64_t *sec, long *nsec)
{
	const char *dot = memchr(s, '.', n);
	uint64_t v, ns;
	int neg = n > 0 && s[0] == '-';

	if (!dot || (size_t)(s + n - dot) != 10)
		return -1;
	if (u64_parse(s + neg, (size_t)(dot - s) - (size_t)neg, &v) ||
	    v > INT64_MAX || (neg && v == 0))
		return -1;
	for (int i = 1; i < 10; i++)
		if (dot[i] < '0' || dot[i] > '9')
			return -1;
	/* nine digits, leading zeros allowed here */
	ns = 0;
	for (int i = 1; i < 10; i++)
		ns = ns * 10 + (uint64_t)(dot[i] - '0');
	*sec = neg ? -(int64_t)v : (int64_t)v;
	*nsec = (long)ns;
	return 0;
}

/* ---------- the state in memory ---------- */

void
dz_trust_release(struct dz_trust *t)
{
	if (!t)
		return;
	free(t->iss);
	free(t->files);
	memset(t, 0, sizeof *t);
}

const struct dz_trust_issuer *
dz_trust_issuer(const struct dz_trust *t,
    const uint8_t keyid[DZ_TRUST_KEYID_BYTES])
{
	for (size_t i = 0; i < t->niss; i++)
		if (memcmp(t->iss[i].keyid, keyid, DZ_TRUST_KEYID_BYTES) == 0)
			return &t->iss[i];
	return NULL;
}

int
dz_trust_check(const struct dz_trust *t,
    const uint8_t keyid[DZ_TRUST_KEYID_BYTES], uint64_t seq,
    const uint8_t digest[32], struct dz_err *err)
{
	const struct dz_trust_issuer *is = dz_trust_issuer(t, keyid);

	if (!is || seq > is->seq)
		return 0;
	if (seq < is->seq)
		return dz_err_set(err, EX_DATAERR, "bank seq %" PRIu64 " is "
		    "older than seq %" PRIu64 " already accepted (rollback)",
		    seq, is->seq);
	if (memcmp(digest, is->digest, 32) != 0)
		return dz_err_set(err, EX_DATAERR, "bank seq %" PRIu64
		    " differs from the seq %" PRIu64 " already accepted "
		    "(replay or forgery)", seq, is->seq);
	return 0;
}

int
dz_trust_accept(struct dz_trust *t,
    const uint8_t keyid[DZ_TRUST_KEYID_BYTES], uint64_t seq,
    const uint8_t digest[32], struct dz_err *err)
{
	struct dz_trust_issuer *is =
	    (struct dz_trust_issuer *)dz_trust_issuer(t, keyid);

	if (is) {
		if (seq <= is->seq)
			return 0;
	} else {
		struct dz_trust_issuer *n = realloc(t->iss,
		    (t->niss + 1) * sizeof *n);
		if (!n)
			return dz_err_set(err, EX_SOFTWARE, "out of memory");
		t->iss = n;
		is = &t->iss[t->niss++];
		memcpy(is->keyid, keyid, DZ_TRUST_KEYID_BYTES);
	}
	is->seq = seq;
	memcpy(is->digest, digest, 32);
	return 1;
}

void
dz_trust_file_from_stat(struct dz_trust_file *f, const struct stat *st)
{
	f->dev = (uint64_t)st->st_dev;
	f->ino = (uint64_t)st->st_ino;
	f->size = (uint64_t)st->st_size;
	f->mtime_sec = (int64_t)st->st_mtim.tv_sec;
	f->mtime_nsec = st->st_mtim.tv_nsec;
	f->ctime_sec = (int64_t)st->st_ctim.tv_sec;
	f->ctime_nsec = st->st_ctim.tv_nsec;
}

static int
file_same(const struct dz_trust_file *a, const struct dz_trust_file *b)
{
	return memcmp(a->keyid, b->keyid, DZ_TRUST_KEYID_BYTES) == 0 &&
	    a->seq == b->seq && memcmp(a->digest, b->digest, 32) == 0 &&
	    a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
	    a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec;
}

int
dz_trust_cached(const struct dz_trust *t, const struct dz_trust_file *f)
{
	for (size_t i = 0; i < t->nfiles; i++)
		if (file_same(&t->files[i], f))
			return 1;
	return 0;
}

int
dz_trust_cache_put(struct dz_trust *t, const struct dz_trust_file *f,
    struct dz_err *err)
{
	size_t i;

	if (dz_trust_cached(t, f))
		return 0;
	/* The same file seen before under other figures: forget that. */
	for (i = 0; i < t->nfiles; i++)
		if (t->files[i].dev == f->dev && t->files[i].ino == f->ino) {
			memmove(&t->files[i], &t->files[i + 1],
			    (t->nfiles - i - 1) * sizeof *t->files);
			t->nfiles--;
			break;
		}
	if (t->nfiles >= DZ_TRUST_CACHE_MAX) {
		size_t drop = t->nfiles - DZ_TRUST_CACHE_MAX + 1;
		memmove(t->files, t->files + drop,
		    (t->nfiles - drop) * sizeof *t->files);
		t->nfiles -= drop;
	} else {
		struct dz_trust_file *n = realloc(t->files,
		    (t->nfiles + 1) * sizeof *n);
		if (!n)
			return dz_err_set(err, EX_SOFTWARE, "out of memory");
		t->files = n;
	}
	t->files[t->nfiles++] = *f;
	return 1;
}

/* ---------- text ---------- */

#define MAXF 10

/* Split line[0..n) at single spaces into at most MAXF fields. */
static int
split(const char *line, size_t n, const char *f[MAXF], size_t fl[MAXF])
{
	int k = 0;
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && line[i] != ' ')
			continue;
		if (k == MAXF || i == start)
			return -1;	/* too many, or an empty field */
		f[k] = line + start;
		fl[k] = i - start;
		k++;
		start = i + 1;
	}
	return k;
}

static int
field_is(const char *f, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(f, word, n) == 0;
}

static int
bad(struct dz_err *err, size_t lineno, const char *what)
{
	return dz_err_set(err, EX_CONFIG, "line %zu: %s", lineno, what);
}

int
dz_trust_parse(const char *text, size_t len, struct dz_trust *t,
    struct dz_err *err)
{
	size_t pos = 0, lineno = 0;

	memset(t, 0, sizeof *t);
	if (len == 0)
		return 0;
	while (pos < len) {
		const char *line = text + pos, *nl, *f[MAXF];
		size_t n, fl[MAXF];
		int k;

		nl = memchr(line, '\n', len - pos);
		lineno++;
		if (!nl) {
			bad(err, lineno, "no newline at the end");
			goto fail;
		}
		n = (size_t)(nl - line);
		pos += n + 1;
		if (memchr(line, '\0', n)) {
			bad(err, lineno, "NUL byte");
			goto fail;
		}
		if (lineno == 1) {
			if (n != strlen(header) || memcmp(line, header, n)) {
				bad(err, lineno, "not a dz-match state file");
				goto fail;
			}
			continue;
		}
		k = split(line, n, f, fl);
		if (k == 4 && field_is(f[0], fl[0], "issuer")) {
			struct dz_trust_issuer is;

			if (keyid_parse(f[1], fl[1], is.keyid) ||
			    u64_parse(f[2], fl[2], &is.seq) ||
			    dz_hex_decode(f[3], fl[3], is.digest, 32,
			    DZ_HEX_LOWER)) {
				bad(err, lineno, "malformed issuer line");
				goto fail;
			}
			if (dz_trust_issuer(t, is.keyid)) {
				bad(err, lineno, "issuer given twice");
				goto fail;
			}
			if (dz_trust_accept(t, is.keyid, is.seq, is.digest,
			    err) < 0)
				goto fail;
		} else if (k == 9 && field_is(f[0], fl[0], "verified")) {
			struct dz_trust_file vf;

			memset(&vf, 0, sizeof vf);
			if (keyid_parse(f[1], fl[1], vf.keyid) ||
			    u64_parse(f[2], fl[2], &vf.seq) ||
			    dz_hex_decode(f[3], fl[3], vf.digest, 32,
			    DZ_HEX_LOWER) ||
			    u64_parse(f[4], fl[4], &vf.dev) ||
			    u64_parse(f[5], fl[5], &vf.ino) ||
			    u64_parse(f[6], fl[6], &vf.size) ||
			    time_parse(f[7], fl[7], &vf.mtime_sec,
			    &vf.mtime_nsec) ||
			    time_parse(f[8], fl[8], &vf.ctime_sec,
			    &vf.ctime_nsec)) {
				bad(err, lineno, "malformed verified line");
				goto fail;
			}
			if (dz_trust_cache_put(t, &vf, err) < 0)
				goto fail;
		} else {
			bad(err, lineno, "unknown line");
			goto fail;
		}
	}
	return 0;
fail:
	dz_trust_release(t);
	return -1;
}

static int
fmt_time(char *out, size_t n, int64_t sec, long nsec)
{
	return snprintf(out, n, "%" PRId64 ".%09ld", sec, nsec);
}

int
dz_trust_format(const struct dz_trust *t, char **out, struct dz_err *err)
{
	/* issuer: 7 + 16 + 20 + 64 + 4; verified: 9 + 16 + 20 + 64 + 3 * 20
	 * + 2 * 31 + 9 */
	size_t cap = sizeof header + 1 + t->niss * 128 + t->nfiles * 256;
	char *buf = malloc(cap), id[17], dg[65], mt[40], ct[40];
	size_t len = 0;
	int n;

	*out = NULL;
	if (!buf)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	n = snprintf(buf, cap, "%s\n", header);
	len += (size_t)n;
	for (size_t i = 0; i < t->niss; i++) {
		dz_sign_keyid_hex(t->iss[i].keyid, id);
		dz_hex_encode(dg, t->iss[i].digest, 32);
		n = snprintf(buf + len, cap - len, "issuer %s %" PRIu64 " %s\n",
		    id, t->iss[i].seq, dg);
		if (n < 0 || (size_t)n >= cap - len)
			goto overflow;
		len += (size_t)n;
	}
	for (size_t i = 0; i < t->nfiles; i++) {
		const struct dz_trust_file *f = &t->files[i];

		dz_sign_keyid_hex(f->keyid, id);
		dz_hex_encode(dg, f->digest, 32);
		fmt_time(mt, sizeof mt, f->mtime_sec, f->mtime_nsec);
		fmt_time(ct, sizeof ct, f->ctime_sec, f->ctime_nsec);
		n = snprintf(buf + len, cap - len, "verified %s %" PRIu64
		    " %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %s %s\n", id,
		    f->seq, dg, f->dev, f->ino, f->size, mt, ct);
		if (n < 0 || (size_t)n >= cap - len)
			goto overflow;
		len += (size_t)n;
	}
	*out = buf;
	return 0;
overflow:
	free(buf);
	return dz_err_set(err, EX_SOFTWARE, "state file text too long");
}

/* ---------- files ---------- */

int
dz_trust_default_path(char **out, struct dz_err *err)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	const char *base, *rest;
	size_t n;

	*out = NULL;
	if (xdg && xdg[0] == '/') {
		base = xdg;
		rest = "/dz/match.state";
	} else if (home && home[0] == '/') {
		base = home;
		rest = "/.local/state/dz/match.state";
	} else
		return dz_err_set(err, EX_CONFIG, "no state file: neither "
		    "XDG_STATE_HOME nor HOME is set");
	n = strlen(base) + strlen(rest) + 1;
	if (!(*out = malloc(n)))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	snprintf(*out, n, "%s%s", base, rest);
	return 0;
}

int
dz_trust_mkdir_parent(const char *path, struct dz_err *err)
{
	char *dir = strdup(path), *slash, *p;
	int rc = 0;

	if (!dir)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	slash = strrchr(dir, '/');
	if (!slash || slash == dir) {
		free(dir);
		return 0;
	}
	*slash = '\0';
	/* Each component in turn, from the root down. */
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char save = *p;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			rc = dz_err_set(err, EX_CANTCREAT, "cannot create the "
			    "state directory: %s", strerror(errno));
			break;
		}
		*p = save;
		if (save == '\0')
			break;
	}
	free(dir);
	return rc;
}

/* Read path (at most DZ_TRUST_MAX_BYTES) into a malloc'd buffer. */
static int
slurp(const char *path, char **buf, size_t *len, struct dz_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	ssize_t n;

	*buf = NULL;
	*len = 0;
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		return dz_err_set(err, EX_CONFIG, "cannot open the state "
		    "file: %s", strerror(errno));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return dz_err_set(err, EX_CONFIG, "the state file is not a "
		    "regular file");
	}
	if (!(*buf = malloc(DZ_TRUST_MAX_BYTES + 1))) {
		close(fd);
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	}
	n = dz_fd_read_full(fd, *buf, DZ_TRUST_MAX_BYTES + 1);
	close(fd);
	if (n < 0 || n > DZ_TRUST_MAX_BYTES) {
		free(*buf);
		*buf = NULL;
		if (n < 0)
			return dz_err_set(err, EX_IOERR, "cannot read the "
			    "state file: %s", strerror(errno));
		return dz_err_set(err, EX_CONFIG, "the state file is too "
		    "large");
	}
	*len = (size_t)n;
	return 0;
}

int
dz_trust_read(const char *path, struct dz_trust *t, struct dz_err *err)
{
	char *buf;
	size_t len;
	int rc;

	memset(t, 0, sizeof *t);
	rc = slurp(path, &buf, &len, err);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return 0;
	rc = dz_trust_parse(buf, len, t, err);
	free(buf);
	return rc;
}

static int
write_atomic(const char *path, const char *text, struct dz_err *err)
{
	size_t n = strlen(path) + 8;
	char *tmp = malloc(n);
	int fd, e;

	if (!tmp)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	snprintf(tmp, n, "%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0) {
		e = errno;
		free(tmp);
		return dz_err_set(err, EX_CANTCREAT, "cannot write the state "
		    "file: %s", strerror(e));
	}
	if (fchmod(fd, 0600) != 0 ||
	    dz_fd_write_full(fd, text, strlen(text)) != 0 || fsync(fd) != 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		free(tmp);
		return dz_err_set(err, EX_IOERR, "cannot write the state "
		    "file: %s", strerror(e));
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		e = errno;
		unlink(tmp);
		free(tmp);
		return dz_err_set(err, EX_IOERR, "cannot write the state "
		    "file: %s", strerror(e));
	}
	free(tmp);
	return dz_fd_sync_parent(path, "the state file", err);
}

int
dz_trust_update(const char *path, dz_trust_apply_fn apply, void *ctx,
    struct dz_err *err)
{
	size_t n = strlen(path) + 6;
	char *lock = malloc(n), *text = NULL;
	struct dz_trust t;
	int fd, rc, e = 0;

	if (!lock)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	snprintf(lock, n, "%s.lock", path);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		e = errno;
		/* A read-only directory: an existing lock file still locks. */
		fd = open(lock, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	}
	free(lock);
	if (fd >= 0) {
		while ((rc = flock(fd, LOCK_EX)) != 0 && errno == EINTR)
			;
		if (rc != 0) {
			e = errno;
			close(fd);
			return dz_err_set(err, EX_IOERR, "cannot lock the "
			    "state file: %s", strerror(e));
		}
	}
	if (dz_trust_read(path, &t, err)) {
		rc = -1;
		goto out;
	}
	rc = apply(&t, ctx, err);
	if (rc == 1) {
		if (fd < 0)
			rc = dz_err_set(err, EX_CANTCREAT, "cannot write the "
			    "state file: cannot create its lock file: %s",
			    strerror(e));
		else if (dz_trust_format(&t, &text, err) ||
		    write_atomic(path, text, err))
			rc = -1;
		else
			rc = 0;
	}
	free(text);
	dz_trust_release(&t);
out:
	if (fd >= 0)
		close(fd);	/* releases the lock */
	return rc < 0 ? -1 : 0;
}
