/*
 * lib/work/bankexport: dz-export bank. See the header for the unit of work.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bank/bank.h"
#include "work/bankexport.h"
#include "core/clock.h"
#include "crypto/digest.h"
#include "core/err.h"
#include "core/fdio.h"
#include "core/hex.h"
#include "core/input.h"
#include "core/progress.h"
#include "crypto/sign.h"
#include "store/store.h"
#include "store/storehashes.h"
#include "hash/vpdqsig.h"

#define PATH_MAX_LEN 4000

enum dz_bank_format
dz_bankexport_format_of(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (!dot || strchr(dot, '/'))
		return 0;
	if (!strcmp(dot, ".jsonl") || !strcmp(dot, ".json") ||
	    !strcmp(dot, ".ndjson"))
		return DZ_BANK_JSONL;
	if (!strcmp(dot, ".csv"))
		return DZ_BANK_CSV;
	if (!strcmp(dot, ".dzb"))
		return DZ_BANK_DZB;
	return 0;
}

/* The content digest an export row recorded, as bytes. */
static int
export_digest(const struct dz_store_export *e, uint8_t d[32],
    struct dz_err *err)
{
	if (dz_hex_decode(e->digest, strlen(e->digest), d, 32, DZ_HEX_LOWER))
		return dz_err_set(err, EX_DATAERR, "export %lld has a bad "
		    "digest in the store", (long long)e->seq);
	return 0;
}

/* SHA-256 hex of a whole file. */
static int
file_sha256(const char *path, char out[65], struct dz_err *err)
{
	struct dz_digest d;
	uint8_t *buf;
	size_t len;

	if (dz_file_read(path, 0, &buf, &len, err))
		return -1;
	if (dz_digest_buf(buf, len, &d, err)) {
		free(buf);
		return -1;
	}
	free(buf);
	memcpy(out, d.sha256, 65);
	return 0;
}

static int
tmp_name(char *out, size_t cap, const char *path, const char *suffix)
{
	if ((size_t)snprintf(out, cap, "%s%s", path, suffix) >= cap)
		return -1;
	return 0;
}

/*
 * One output file of a run: its expanded, absolute name (or "-"), where
 * its signature goes, and for "-" the anonymous in-memory file that holds
 * the bank until the export is committed.
 */
struct output {
	char path[PATH_MAX_LEN + 1];
	char sig[PATH_MAX_LEN + 16];
	int memfd;
};

static int
is_stdout(const char *path)
{
	return strcmp(path, "-") == 0;
}

/* An anonymous file in memory (memfd_create), never on a disk. */
static int
mem_file(struct dz_err *err)
{
	int fd = (int)syscall(SYS_memfd_create, "dz-bank", 1u /* CLOEXEC */);

	if (fd < 0)
		dz_err_set(err, EX_SOFTWARE, "cannot make a file in memory: %s",
		    strerror(errno));
	return fd;
}

/* The whole content of fd, from its start, in a malloc'd buffer. */
static int
fd_slurp(int fd, uint8_t **buf, size_t *len, struct dz_err *err)
{
	struct stat st;
	ssize_t n;

	*buf = NULL;
	*len = 0;
	if (fstat(fd, &st) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		return dz_err_set(err, EX_IOERR, "cannot read the bank back: %s",
		    strerror(errno));
	if (!(*buf = malloc(st.st_size ? (size_t)st.st_size : 1)))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	n = dz_fd_read_full(fd, *buf, (size_t)st.st_size);
	if (n != st.st_size) {
		free(*buf);
		*buf = NULL;
		return dz_err_set(err, EX_IOERR, "cannot read the bank back");
	}
	*len = (size_t)n;
	return 0;
}

/*
 * Put a written output in place: FILE.tmp renamed to FILE (or, for "-",
 * the bank copied from memory to standard output), then its signature's
 * temporary file renamed. An unsigned export removes a signature left by
 * an earlier one, which would not match.
 */
static int
publish(const struct output *out, int has_sig, struct dz_err *err)
{
	char a[PATH_MAX_LEN + 32];
	int std = is_stdout(out->path);

	if (std) {
		uint8_t *buf;
		size_t len;
		int rc;

		if (fd_slurp(out->memfd, &buf, &len, err))
			return -1;
		rc = dz_fd_write_full(STDOUT_FILENO, buf, len);
		free(buf);
		if (rc != 0)
			return dz_err_set(err, EX_IOERR, "cannot write the bank "
			    "to standard output: %s", strerror(errno));
	} else {
		if (tmp_name(a, sizeof a, out->path, ".tmp"))
			return dz_err_set(err, EX_CANTCREAT,
			    "file name too long");
		if (rename(a, out->path) != 0)
			return dz_err_set(err, EX_CANTCREAT,
			    "cannot rename '%s': %s", a, strerror(errno));
	}
	if (has_sig) {
		if (tmp_name(a, sizeof a, out->sig, ".tmp"))
			return dz_err_set(err, EX_CANTCREAT,
			    "file name too long");
		if (rename(a, out->sig) != 0)
			return dz_err_set(err, EX_CANTCREAT,
			    "cannot rename '%s': %s", a, strerror(errno));
	} else if (!std && unlink(out->sig) != 0 && errno != ENOENT) {
		return dz_err_set(err, EX_CANTCREAT, "cannot remove '%s': %s",
		    out->sig, strerror(errno));
	}
	if (!std)
		return dz_fd_sync_parent(out->path, "the bank", err);
	return has_sig ? dz_fd_sync_parent(out->sig, "the signature", err) : 0;
}

/* Does the file at path have this SHA-256 (hex)? */
static int
has_sha256(const char *path, const char *want)
{
	struct dz_err ignored;
	char sum[65];

	return want && access(path, F_OK) == 0 &&
	    file_sha256(path, sum, &ignored) == 0 && strcmp(sum, want) == 0;
}

/*
 * Finish the latest recorded export if a crash stopped it before all its
 * files were renamed into place: a FILE.tmp whose digest is the recorded
 * one becomes FILE, and a FILE.minisig.tmp beside a FILE with the
 * recorded digest becomes FILE.minisig. Called inside the transaction,
 * so no other export runs meanwhile. *recovered counts files finished.
 */
static int
recover(struct dz_store *s, int *recovered, struct dz_err *err)
{
	struct dz_store_export last;
	json_t *files, *f;
	char tmp[PATH_MAX_LEN + 32], sig[PATH_MAX_LEN + 32];
	size_t j;
	int rc, ret = 0;

	*recovered = 0;
	rc = dz_store_export_get(s, 0, &last, err);
	if (rc <= 0)
		return rc;
	files = json_loads(last.files, 0, NULL);
	json_array_foreach(files, j, f) {
		const char *p = json_string_value(json_object_get(f, "path"));
		const char *want = json_string_value(json_object_get(f,
		    "sha256"));
		int has_sig = json_is_true(json_object_get(f, "signed"));
		struct output out;

		/* standard output is gone with the run that wrote it */
		if (!p || is_stdout(p) || strlen(p) > PATH_MAX_LEN ||
		    tmp_name(tmp, sizeof tmp, p, ".tmp"))
			continue;
		memset(&out, 0, sizeof out);
		out.memfd = -1;
		snprintf(out.path, sizeof out.path, "%s", p);
		if (tmp_name(out.sig, sizeof out.sig, p, ".minisig") ||
		    tmp_name(sig, sizeof sig, out.sig, ".tmp"))
			continue;
		if (has_sha256(tmp, want)) {
			if (publish(&out, has_sig, err)) {
				ret = -1;
				break;
			}
			(*recovered)++;
		} else if (has_sig && access(sig, F_OK) == 0 &&
		    has_sha256(p, want)) {
			if (rename(sig, out.sig) != 0) {
				ret = dz_err_set(err, EX_CANTCREAT,
				    "cannot rename '%s': %s", sig,
				    strerror(errno));
				break;
			}
			if (dz_fd_sync_parent(p, "the bank", err)) {
				ret = -1;
				break;
			}
			(*recovered)++;
		}
	}
	json_decref(files);
	dz_store_export_release(&last);
	return ret;
}

/*
 * The file name for export seq: every "%n" in the -o name becomes the
 * number ("delta-%n.dzb" → "delta-7.dzb"); "%%" is "%".
 */
static int
expand_name(const char *tpl, uint64_t seq, char *out, size_t cap,
    struct dz_err *err)
{
	size_t o = 0;
	int n;

	for (; *tpl; tpl++) {
		if (tpl[0] == '%' && (tpl[1] == 'n' || tpl[1] == '%')) {
			n = tpl[1] == 'n' ?
			    snprintf(out + o, cap - o, "%llu",
			    (unsigned long long)seq) :
			    snprintf(out + o, cap - o, "%%");
			tpl++;
			if (n < 0 || (size_t)n >= cap - o)
				goto long_;
			o += (size_t)n;
		} else {
			if (o + 1 >= cap)
				goto long_;
			out[o++] = *tpl;
		}
	}
	out[o] = '\0';
	return 0;
long_:
	return dz_err_set(err, EX_CANTCREAT, "file name too long");
}

struct collect {
	struct dz_bank *bank;
	struct dz_err *err;
	int failed;
	struct dz_progress *progress;	/* or NULL */
	uint64_t rows;
};

/*
 * A vpdq row: an entry is one bank row per frame of quality at least the
 * floor (the store's quality is the best frame's, so there is one); a
 * tombstone is its first such frame (or its first frame).
 */
static int
add_vpdq(struct collect *c, const struct dz_store_bank_row *r,
    const uint8_t id[DZ_BANK_ID_BYTES], int cat, uint32_t day)
{
	struct dz_vpdqsig v = { 0 };
	json_t *j = json_loads(r->value, JSON_REJECT_DUPLICATES, NULL);
	size_t i, added = 0, first = 0;
	int rc = 0;

	if (!j || dz_vpdqsig_from_json(j, &v, SIZE_MAX, c->err) || v.n == 0) {
		json_decref(j);
		dz_vpdqsig_release(&v);
		return -1;
	}
	json_decref(j);
	for (i = 0; i < v.n && v.v[i].quality < DZ_BANKEXPORT_MIN_QUALITY; i++)
		;
	first = i < v.n ? i : 0;
	if (r->withdrawn_at) {
		rc = dz_bank_add_tomb_signal(c->bank, id, DZ_BANK_VPDQ,
		    &v.v[first].hash, cat, day, c->err);
	} else {
		for (i = first; i < v.n && rc == 0; i++) {
			if (v.v[i].quality < DZ_BANKEXPORT_MIN_QUALITY)
				continue;
			rc = dz_bank_add_signal(c->bank, id, DZ_BANK_VPDQ,
			    &v.v[i].hash, v.v[i].quality, cat, day, c->err);
			added++;
		}
		if (rc == 0 && added == 0)
			rc = -1;
	}
	dz_vpdqsig_release(&v);
	return rc;
}

static int
add_row(const struct dz_store_bank_row *r, void *arg)
{
	struct collect *c = arg;
	uint8_t id[DZ_BANK_ID_BYTES];
	struct dz_pdq p;
	uint32_t day;
	int cat = dz_bank_category_parse(r->category), sig, rc;

	if (c->progress)
		dz_progress_tick(c->progress, ++c->rows);
	memset(&p, 0, sizeof p);	/* an MD5 fills the first 16 bytes */
	sig = !strcmp(r->signal, "pdq") ? DZ_BANK_PDQ :
	    !strcmp(r->signal, "video_md5") ? DZ_BANK_MD5 :
	    !strcmp(r->signal, "vpdq") ? DZ_BANK_VPDQ : -1;
	if (dz_bank_id_parse(r->entry_id, id) || sig < 0 ||
	    (sig == DZ_BANK_PDQ && dz_pdq_from_hex(r->value, &p)) ||
	    (sig == DZ_BANK_MD5 && dz_digest_md5_parse(r->value,
	    strlen(r->value), (uint8_t *)&p)) ||
	    cat < 0 || dz_bank_day_of(r->withdrawn_at ? r->withdrawn_at :
	    r->added_at, &day))
		goto bad;
	if (sig == DZ_BANK_VPDQ) {
		struct dz_err e = { 0 };
		struct dz_err *keep = c->err;

		c->err = &e;
		rc = add_vpdq(c, r, id, cat, day);
		c->err = keep;
		if (rc && e.code != EX_SOFTWARE)
			goto bad;
		if (rc) {
			*c->err = e;
			c->failed = 1;
			return -1;
		}
		return 0;
	}
	if (r->withdrawn_at ?
	    dz_bank_add_tomb_signal(c->bank, id, sig, &p, cat, day, c->err) :
	    dz_bank_add_signal(c->bank, id, sig, &p, r->quality, cat, day,
	    c->err)) {
		c->failed = 1;
		return -1;
	}
	return 0;
bad:
	c->failed = 1;
	return dz_err_set(c->err, EX_DATAERR, "a hash row of the store is "
	    "malformed (entry %.32s)", r->entry_id);
}

/* Create path for writing, replacing a stale one; -1 with err. */
static int
create_tmp(const char *path, struct dz_err *err)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	if (fd < 0)
		dz_err_set(err, EX_CANTCREAT, "cannot create '%s': %s", path,
		    strerror(errno));
	return fd;
}

/*
 * Write one output (FILE.tmp, or for "-" a file in memory kept open in
 * out->memfd) and its signature (SIG.tmp); add its files[] entry.
 */
static int
write_file(const struct dz_bank *b, struct output *out,
    enum dz_bank_format format, const struct dz_sign_key *key,
    const char *comment, json_t *list, struct dz_err *err)
{
	char tmp[PATH_MAX_LEN + 32], sum[65];
	char *sig = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	struct dz_digest d;
	json_t *ent;
	int fd = -1, std = is_stdout(out->path);

	if (std) {
		if ((fd = out->memfd = mem_file(err)) < 0)
			return -1;
	} else {
		if (tmp_name(tmp, sizeof tmp, out->path, ".tmp"))
			return dz_err_set(err, EX_CANTCREAT,
			    "file name too long");
		if ((fd = create_tmp(tmp, err)) < 0)
			return -1;
	}
	if (dz_bank_write(b, format, fd, err))
		goto fail;
	if (!std && fsync(fd) != 0) {
		dz_err_set(err, EX_IOERR, "cannot sync '%s': %s", tmp,
		    strerror(errno));
		goto fail;
	}
	if (std) {
		if (fd_slurp(fd, &buf, &len, err))
			goto fail;
	} else {
		close(fd);
		if (dz_file_read(tmp, 0, &buf, &len, err))
			goto fail_closed;
	}
	fd = -1;
	if (dz_digest_buf(buf, len, &d, err))
		goto fail_closed;
	memcpy(sum, d.sha256, sizeof sum);
	if (key) {
		if (dz_sign_buf(key, buf, len, comment, &sig, err))
			goto fail_closed;
		if (tmp_name(tmp, sizeof tmp, out->sig, ".tmp")) {
			dz_err_set(err, EX_CANTCREAT, "file name too long");
			goto fail_closed;
		}
		if ((fd = create_tmp(tmp, err)) < 0)
			goto fail_closed;
		if (dz_fd_write_full(fd, sig, strlen(sig)) || fsync(fd) != 0) {
			dz_err_set(err, EX_IOERR, "cannot write '%s': %s", tmp,
			    strerror(errno));
			goto fail;
		}
		close(fd);
		fd = -1;
	}
	free(buf);
	free(sig);
	ent = json_pack("{s:s,s:s,s:s,s:b}", "path", out->path, "format",
	    format == DZ_BANK_DZB ? "dzb" : format == DZ_BANK_CSV ?
	    "csv" : "jsonl", "sha256", sum, "signed", key != NULL);
	if (ent && key && std)
		json_object_set_new(ent, "signature", json_string(out->sig));
	if (!ent || json_array_append_new(list, ent))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	return 0;
fail:
	if (fd >= 0 && fd != out->memfd)
		close(fd);
fail_closed:
	free(buf);
	free(sig);
	return -1;
}

/* Remove what the outputs wrote before a failure; close memory files. */
static void
remove_tmps(struct output *outs, size_t n)
{
	char tmp[PATH_MAX_LEN + 32];
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_stdout(outs[i].path) &&
		    tmp_name(tmp, sizeof tmp, outs[i].path, ".tmp") == 0)
			unlink(tmp);
		if (tmp_name(tmp, sizeof tmp, outs[i].sig, ".tmp") == 0)
			unlink(tmp);
	}
}

static void
close_outputs(struct output *outs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (outs[i].memfd >= 0) {
			close(outs[i].memfd);
			outs[i].memfd = -1;
		}
}

/*
 * The outputs of export seq: names expanded, made absolute (so that a
 * later run recovers them from anywhere) and checked: no name twice, "-"
 * alone and, when signed, with a signature file.
 */
static int
plan_outputs(const struct dz_bankexport_opts *o, uint64_t seq,
    struct output *outs, struct dz_err *err)
{
	char name[PATH_MAX_LEN + 1], cwd[PATH_MAX_LEN + 1];
	size_t i, j;

	if (!getcwd(cwd, sizeof cwd))
		return dz_err_set(err, EX_CANTCREAT, "cannot find the working "
		    "directory: %s", strerror(errno));
	for (i = 0; i < o->nfiles; i++) {
		struct output *out = &outs[i];
		const char *sig = NULL;

		memset(out, 0, sizeof *out);
		out->memfd = -1;
		if (expand_name(o->files[i].path, seq, name, sizeof name, err))
			return -1;
		if (is_stdout(name)) {
			if (o->nfiles != 1)
				return dz_err_set(err, EX_USAGE, "standard "
				    "output ('-') must be the only output");
			if (o->key && !o->signature)
				return dz_err_set(err, EX_USAGE, "a signed bank "
				    "on standard output needs a signature "
				    "file (--signature FILE)");
			strcpy(out->path, "-");
			sig = o->signature;
		} else if ((size_t)snprintf(out->path, sizeof out->path,
		    "%s%s%s", name[0] == '/' ? "" : cwd,
		    name[0] == '/' ? "" : "/", name) >= sizeof out->path) {
			return dz_err_set(err, EX_CANTCREAT,
			    "file name too long");
		}
		if (sig && sig[0] != '/') {
			if ((size_t)snprintf(out->sig, sizeof out->sig,
			    "%s/%s", cwd, sig) >= sizeof out->sig)
				return dz_err_set(err, EX_CANTCREAT,
				    "file name too long");
		} else if (sig) {
			if ((size_t)snprintf(out->sig, sizeof out->sig, "%s",
			    sig) >= sizeof out->sig)
				return dz_err_set(err, EX_CANTCREAT,
				    "file name too long");
		} else if (tmp_name(out->sig, sizeof out->sig, out->path,
		    ".minisig")) {
			return dz_err_set(err, EX_CANTCREAT,
			    "file name too long");
		}
		for (j = 0; j < i; j++)
			if (!strcmp(outs[j].path, out->path) ||
			    !strcmp(outs[j].sig, out->path) ||
			    !strcmp(outs[j].path, out->sig))
				return dz_err_set(err, EX_USAGE, "the file '%s' "
				    "is named twice", out->path);
	}
	return 0;
}

int
dz_bankexport_run(struct dz_store *s, const struct dz_bankexport_opts *o,
    json_t **rec, struct dz_err *err)
{
	struct dz_store_export last, base, row;
	struct dz_bank_meta meta;
	struct dz_bank *bank = NULL;
	struct collect col;
	json_t *files = NULL;
	char now[DZ_TIME_LEN], digest[65], *comment = NULL;
	int64_t rev;
	struct output outs[DZ_BANKEXPORT_MAX_FILES];
	int have_last = 0, have_base = 0, in_tx = 0, recovered = 0, lock;
	size_t i, written = 0, planned = 0;

	*rec = NULL;
	memset(&last, 0, sizeof last);
	memset(&base, 0, sizeof base);
	memset(&row, 0, sizeof row);
	if (o->nfiles == 0)
		return dz_err_set(err, EX_USAGE, "no output file");
	if (dz_clock_now(now))
		return dz_err_set(err, EX_SOFTWARE, "cannot read the clock");
	if (o->nfiles > DZ_BANKEXPORT_MAX_FILES)
		return dz_err_set(err, EX_USAGE, "too many output files");
	if ((lock = dz_store_lock(s, "export.lock", "another dz-export bank "
	    "is running; try again later", err)) < 0)
		return -1;
	if (dz_store_begin(s, err)) {
		close(lock);
		return -1;
	}
	in_tx = 1;
	if (recover(s, &recovered, err))
		goto fail;
	if ((have_last = dz_store_export_get(s, 0, &last, err)) < 0)
		goto fail;
	if (o->since != DZ_BANKEXPORT_FULL) {
		int64_t since = o->since;

		if (since == DZ_BANKEXPORT_LAST)
			since = last.seq;
		else if (since == DZ_BANKEXPORT_LAST_FULL &&
		    dz_store_export_last_full(s, &since, err))
			goto fail;
		if (!have_last) {
			dz_err_set(err, EX_DATAERR, "no earlier export to make "
			    "a delta of: make a full one first");
			goto fail;
		}
		if ((have_base = dz_store_export_get(s, since, &base, err)) < 0)
			goto fail;
		if (!have_base) {
			dz_err_set(err, EX_DATAERR, "there is no export %lld",
			    (long long)since);
			goto fail;
		}
	}
	if (dz_store_hash_rev(s, &rev, err))
		goto fail;

	memset(&meta, 0, sizeof meta);
	meta.seq = have_last ? (uint64_t)last.seq + 1 : 1;
	meta.kind = have_base ? DZ_BANK_DELTA : DZ_BANK_FULL;
	meta.since = have_base ? (uint64_t)base.seq : 0;
	meta.has_prev = have_last;
	meta.has_base = have_base;
	if ((have_last && export_digest(&last, meta.prev, err)) ||
	    (have_base && export_digest(&base, meta.base, err)))
		goto fail;
	snprintf(meta.created, sizeof meta.created, "%s", now);
	snprintf(meta.collab, sizeof meta.collab, "%s",
	    o->collab ? o->collab : "disrupt");

	if (!(bank = dz_bank_new(&meta, err)))
		goto fail;
	col.bank = bank;
	col.err = err;
	col.failed = 0;
	col.progress = o->progress;
	col.rows = 0;
	if (plan_outputs(o, meta.seq, outs, err))
		goto fail;
	planned = o->nfiles;
	if (dz_store_bank_rows(s, have_base ? base.rev : -1, rev,
	    DZ_BANKEXPORT_MIN_QUALITY, add_row, &col, err) || col.failed)
		goto fail;
	if (have_base && bank->n == 0 && bank->ntomb == 0 && !o->allow_empty) {
		dz_store_rollback(s);
		in_tx = 0;
		*rec = json_pack("{s:s,s:b,s:I}", "type", "export", "empty", 1,
		    "since", (json_int_t)base.seq);
		if (*rec && recovered)
			json_object_set_new(*rec, "recovered",
			    json_integer(recovered));
		dz_bank_free(bank);
		dz_store_export_release(&last);
		dz_store_export_release(&base);
		close(lock);
		return *rec ? 0 : dz_err_set(err, EX_SOFTWARE, "out of memory");
	}
	if (dz_bank_finish(bank, err) || dz_bank_comment(bank, &comment, err))
		goto fail;

	if (!(files = json_array())) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		goto fail;
	}
	for (i = 0; i < o->nfiles; i++) {
		written = i + 1;
		if (write_file(bank, &outs[i], o->files[i].format, o->key,
		    comment, files, err))
			goto fail;
	}

	dz_bank_digest_hex(bank->meta.digest, digest);
	row.seq = (int64_t)meta.seq;
	snprintf(row.kind, sizeof row.kind, "%s",
	    have_base ? "delta" : "full");
	row.since = have_base ? base.seq : 0;
	row.rev = rev;
	memcpy(row.digest, digest, sizeof row.digest);
	row.entries = (int64_t)bank->n;
	row.withdrawals = (int64_t)bank->ntomb;
	snprintf(row.created_at, sizeof row.created_at, "%s", now);
	row.min_quality = DZ_BANKEXPORT_MIN_QUALITY;
	if (!(row.files = json_dumps(files, JSON_COMPACT))) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		goto fail;
	}
	if (dz_store_export_insert(s, &row, o->actor, err) ||
	    dz_store_commit(s, err))
		goto fail;
	in_tx = 0;
	written = 0;
	for (i = 0; i < o->nfiles; i++)
		if (publish(&outs[i], o->key != NULL, err))
			goto fail;
	close_outputs(outs, planned);
	close(lock);

	*rec = json_pack("{s:s,s:I,s:s}", "type", "export", "seq",
	    (json_int_t)meta.seq, "kind", have_base ? "delta" : "full");
	if (*rec && have_base)
		json_object_set_new(*rec, "since", json_integer(base.seq));
	if (*rec && (json_object_set_new(*rec, "digest", json_string(digest)) ||
	    json_object_set_new(*rec, "entries", json_integer(row.entries)) ||
	    json_object_set_new(*rec, "withdrawals",
	    json_integer(row.withdrawals)) ||
	    json_object_set_new(*rec, "created", json_string(now)) ||
	    json_object_set(*rec, "files", files) ||
	    json_object_set_new(*rec, "signed", json_boolean(o->key != NULL)) ||
	    (recovered && json_object_set_new(*rec, "recovered",
	    json_integer(recovered))))) {
		json_decref(*rec);
		*rec = NULL;
	}
	json_decref(files);
	free(row.files);
	free(comment);
	dz_bank_free(bank);
	dz_store_export_release(&last);
	dz_store_export_release(&base);
	return *rec ? 0 : dz_err_set(err, EX_SOFTWARE, "out of memory");
fail:
	if (in_tx)
		dz_store_rollback(s);
	if (written)
		remove_tmps(outs, written);
	close_outputs(outs, planned);
	close(lock);
	json_decref(files);
	free(row.files);
	free(comment);
	dz_bank_free(bank);
	dz_store_export_release(&last);
	dz_store_export_release(&base);
	return -1;
}
