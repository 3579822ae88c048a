/*
 * lib/store/spool: the intake spool on disk, through descriptors, never
 * following a link. See spool.h.
 */
#define _GNU_SOURCE		/* renameat2, RENAME_NOREPLACE */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "core/err.h"
#include "core/fdio.h"
#include "store/spool.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
#define MAX_SUFFIX 1000		/* name.1 ... name.999 in rejected/ */

/*
 * Whether an errno from opening something in the spool is its fault.
 * EAGAIN is: a writer of the spool can hold a lease on its file, so that
 * an open that does not wait fails as long as it likes.
 */
static int
errno_is_data(int e)
{
	return e == ENOENT || e == ENOTDIR || e == EISDIR || e == ELOOP ||
	    e == EACCES || e == EPERM || e == ENAMETOOLONG || e == ENXIO ||
	    e == EFBIG || e == EOVERFLOW || e == EAGAIN;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int
dz_spool_open(struct dz_spool *sp, const char *dir, int want_new,
    struct dz_err *err)
{
	sp->dir_fd = sp->new_fd = sp->rejected_fd = -1;
	sp->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dir_fd < 0) {
		int e = errno;
		dz_err_set(err, EX_NOINPUT, "cannot open the spool: %s",
		    strerror(e));
		errno = e;
		return -1;
	}
	if (!want_new)
		return 0;
	sp->new_fd = openat(sp->dir_fd, "new", DIR_FLAGS);
	if (sp->new_fd < 0)
		return dz_err_set(err, EX_NOINPUT, "cannot open the spool's "
		    "new/: %s", strerror(errno == ELOOP ? ENOTDIR : errno));
	return 0;
}

void
dz_spool_release(struct dz_spool *sp)
{
	close_fd(&sp->dir_fd);
	close_fd(&sp->new_fd);
	close_fd(&sp->rejected_fd);
}

int
dz_spool_rejected_open(struct dz_spool *sp, int create, struct dz_err *err)
{
	if (sp->rejected_fd >= 0)
		return 1;
	sp->rejected_fd = openat(sp->dir_fd, "rejected", DIR_FLAGS);
	if (sp->rejected_fd < 0 && errno == ENOENT) {
		if (!create)
			return 0;
		if (mkdirat(sp->dir_fd, "rejected", 0700) != 0 &&
		    errno != EEXIST)
			return dz_err_set(err, EX_CANTCREAT, "cannot create the "
			    "spool's rejected/: %s", strerror(errno));
		sp->rejected_fd = openat(sp->dir_fd, "rejected", DIR_FLAGS);
	}
	if (sp->rejected_fd < 0)
		return dz_err_set(err, EX_CANTCREAT, "cannot open the spool's "
		    "rejected/: %s", strerror(errno == ELOOP ? ENOTDIR : errno));
	return 1;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
dz_spool_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* fdopendir on a copy of dfd, from the start. */
static DIR *
open_dir(int dfd)
{
	int fd = dup(dfd);
	DIR *d;

	if (fd < 0)
		return NULL;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return NULL;
	}
	rewinddir(d);
	return d;
}

int
dz_spool_list(int dfd, char ***names, size_t *n, struct dz_err *err)
{
	char **v = NULL;
	size_t k = 0, cap = 0;
	struct dirent *e;
	DIR *d;

	*names = NULL;
	*n = 0;
	if (!(d = open_dir(dfd)))
		return dz_err_set(err, errno == ENOMEM ? EX_SOFTWARE : EX_IOERR,
		    "cannot list the spool: %s", strerror(errno));
	for (;;) {
		errno = 0;
		if (!(e = readdir(d))) {
			if (errno) {
				dz_err_set(err, EX_IOERR, "cannot list the spool: "
				    "%s", strerror(errno));
				goto fail;
			}
			break;
		}
		if (e->d_name[0] == '.')
			continue;
		if (k == DZ_SPOOL_MAX_LIST)
			break;
		if (k == cap) {
			size_t nc = cap ? 2 * cap : 64;
			char **nv = realloc(v, nc * sizeof *v);
			if (!nv)
				goto oom;
			v = nv;
			cap = nc;
		}
		if (!(v[k] = strdup(e->d_name)))
			goto oom;
		k++;
	}
	closedir(d);
	if (k)
		qsort(v, k, sizeof *v, cmp_names);
	*names = v;
	*n = k;
	return 0;
oom:
	dz_err_set(err, EX_SOFTWARE, "out of memory");
fail:
	closedir(d);
	dz_spool_names_free(v, k);
	return -1;
}

int
dz_spool_entry_open(int dfd, const char *name, size_t max_names, int *fd,
    struct dz_err *err)
{
	struct dirent *e;
	struct stat st;
	size_t k = 0;
	DIR *d;
	int rc = 0;

	*fd = openat(dfd, name, DIR_FLAGS);
	if (*fd < 0)
		return dz_err_set(err, errno_is_data(errno) ? EX_DATAERR : EX_IOERR,
		    errno == ENOTDIR || errno == ELOOP ? "the spool entry is not "
		    "a directory (a link, a file or a FIFO)" : "cannot open the "
		    "spool entry: %s", strerror(errno));
	if (fstat(*fd, &st) != 0)
		return dz_err_set(err, EX_IOERR, "cannot open the spool entry: %s",
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return dz_err_set(err, EX_DATAERR, "the spool entry is not a "
		    "directory (a link, a file or a FIFO)");
	if (!(d = open_dir(*fd)))
		return dz_err_set(err, errno == ENOMEM ? EX_SOFTWARE : EX_IOERR,
		    "cannot list the spool entry: %s", strerror(errno));
	for (;;) {
		errno = 0;
		if (!(e = readdir(d))) {
			if (errno)
				rc = dz_err_set(err, EX_IOERR, "cannot list the "
				    "spool entry: %s", strerror(errno));
			break;
		}
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (++k > max_names) {
			rc = dz_err_set(err, EX_DATAERR, "the spool entry holds "
			    "too many files (limit %zu)", max_names);
			break;
		}
		if (fstatat(*fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)	/* gone meanwhile */
				continue;
			rc = dz_err_set(err, errno_is_data(errno) ? EX_DATAERR :
			    EX_IOERR, "cannot look at a file in the spool entry: "
			    "%s", strerror(errno));
			break;
		}
		if (S_ISREG(st.st_mode))
			continue;
		rc = dz_err_set(err, EX_DATAERR, "the spool entry holds %s",
		    S_ISDIR(st.st_mode) ? "a subdirectory" : S_ISLNK(st.st_mode) ?
		    "a link" : "a FIFO, a socket or a device");
		break;
	}
	closedir(d);
	return rc;
}

int
dz_spool_read(int dfd, const char *name, const char *what, size_t max,
    char **buf, size_t *len, struct dz_err *err)
{
	struct stat st;
	size_t cap;
	ssize_t n;
	char *b;
	int fd;

	*buf = NULL;
	*len = 0;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
	    O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return dz_err_set(err, EX_DATAERR, "%s is missing", what);
		if (e == ELOOP)
			return dz_err_set(err, EX_DATAERR, "%s is not a regular "
			    "file", what);
		return dz_err_set(err, errno_is_data(e) ? EX_DATAERR : EX_IOERR,
		    "cannot open %s: %s", what, strerror(e));
	}
	if (fstat(fd, &st) != 0) {
		dz_err_set(err, EX_IOERR, "cannot read %s: %s", what,
		    strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		dz_err_set(err, EX_DATAERR, "%s is not a regular file", what);
		goto fail;
	}
	if ((unsigned long long)st.st_size > max) {
		dz_err_set(err, EX_DATAERR, "%s is too large (limit %zu bytes)",
		    what, max);
		goto fail;
	}
	/* one byte more than the limit, to see a file that grew past it */
	cap = (size_t)st.st_size < max ? (size_t)st.st_size + 1 : max + 1;
	if (!(b = malloc(cap + 1))) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		goto fail;
	}
	n = dz_fd_read_full(fd, b, cap);
	if (n < 0) {
		dz_err_set(err, EX_IOERR, "cannot read %s: %s", what,
		    strerror(errno));
		free(b);
		goto fail;
	}
	if ((size_t)n > max) {
		dz_err_set(err, EX_DATAERR, "%s is too large (limit %zu bytes)",
		    what, max);
		free(b);
		goto fail;
	}
	close(fd);
	b[n] = '\0';
	*buf = b;
	*len = (size_t)n;
	return 0;
fail:
	close(fd);
	return -1;
}

/*
 * Empty the directory fd (depth levels below the top): unlink what is
 * not a directory, recurse into what is. Passes until nothing is left or
 * a pass removes nothing. The name last (or NULL) is left for the caller.
 * 0, or -1 with errno.
 */
static int
empty_dir(int fd, int depth, const char *last)
{
	int saved = 0;

	for (int pass = 0; pass < 16; pass++) {
		struct dirent *e;
		int removed = 0, left = 0;
		DIR *d = open_dir(fd);

		if (!d)
			return -1;
		while ((e = readdir(d))) {
			const char *n = e->d_name;
			int sub;

			if (!strcmp(n, ".") || !strcmp(n, "..") ||
			    (last && !strcmp(n, last)))
				continue;
			if (unlinkat(fd, n, 0) == 0 || errno == ENOENT) {
				removed++;
				continue;
			}
			if (errno != EISDIR && errno != EPERM) {
				saved = errno;
				left++;
				continue;
			}
			/* a directory (Linux says EISDIR; POSIX allows EPERM) */
			if (depth >= DZ_SPOOL_MAX_DEPTH) {
				saved = ELOOP;
				left++;
				continue;
			}
			sub = openat(fd, n, DIR_FLAGS);
			if (sub < 0) {
				saved = errno;
				left++;
				continue;
			}
			if (empty_dir(sub, depth + 1, NULL) != 0) {
				saved = errno;
				left++;
			}
			close(sub);
			if (unlinkat(fd, n, AT_REMOVEDIR) == 0 || errno == ENOENT) {
				removed++;
			} else {
				if (!saved)
					saved = errno;
				left++;
			}
		}
		closedir(d);
		if (!left)
			return 0;
		if (!removed)
			break;
	}
	errno = saved ? saved : ENOTEMPTY;
	return -1;
}

int
dz_spool_remove(int dfd, const char *name, struct dz_err *err)
{
	int fd, e = 0;

	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return dz_err_set(err, EX_IOERR, "cannot remove: %s",
		    strerror(errno));
	fd = openat(dfd, name, DIR_FLAGS);
	if (fd < 0)
		return errno == ENOENT ? 0 : dz_err_set(err, EX_IOERR,
		    "cannot remove: %s", strerror(errno));
	/* error.json dates a rejected entry: it goes last, once the rest has */
	if (empty_dir(fd, 1, "error.json") != 0)
		e = errno;
	else if (unlinkat(fd, "error.json", 0) != 0 && errno != ENOENT)
		e = errno;
	if (fsync(fd) != 0 && !e)
		e = errno;
	close(fd);
	if (unlinkat(dfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT && !e)
		e = errno;
	if (e)
		return dz_err_set(err, EX_IOERR, "cannot remove: %s",
		    e == ELOOP ? "directories nested too deep" : strerror(e));
	return 0;
}

/* renameat2 RENAME_NOREPLACE, or where the file system has no such flag,
 * a rename that refuses a name in use (checked just before). */
static int
move_noreplace(int from, const char *name, int to, const char *dest)
{
	struct stat st;

	if (renameat2(from, name, to, dest, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (fstatat(to, dest, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return renameat(from, name, to, dest);
}

/* {"reason":...} into the rejected entry's error.json, never through a link. */
static void
write_reason(int rfd, const char *moved, const char *reason)
{
	int efd, fd = openat(rfd, moved, DIR_FLAGS);
	json_t *j;
	char *s = NULL;

	if (fd < 0)
		return;
	efd = openat(fd, "error.json", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (efd < 0 && errno == EEXIST && unlinkat(fd, "error.json", 0) == 0)
		efd = openat(fd, "error.json", O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (efd >= 0) {
		j = json_pack("{s:s}", "reason", reason);
		if (j)
			s = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		if (s) {
			if (dz_fd_write_full(efd, s, strlen(s)) == 0)
				(void)dz_fd_write_full(efd, "\n", 1);
			free(s);
		}
		close(efd);
	}
	close(fd);
}

int
dz_spool_reject(struct dz_spool *sp, const char *name, const char *reason,
    char *moved, size_t movedsz, struct dz_err *err)
{
	struct stat st;
	int r, isdir;

	if (dz_spool_rejected_open(sp, 1, err) < 0)
		return -1;
	if (fstatat(sp->new_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return dz_err_set(err, EX_IOERR, "cannot move a rejected spool "
		    "entry: %s", strerror(errno));
	isdir = S_ISDIR(st.st_mode);
	for (int i = 0; i < MAX_SUFFIX; i++) {
		if (i == 0)
			r = snprintf(moved, movedsz, "%s", name);
		else
			r = snprintf(moved, movedsz, "%s.%d", name, i);
		if (r < 0 || (size_t)r >= movedsz)
			return dz_err_set(err, EX_SOFTWARE, "spool entry name too "
			    "long");
		if (move_noreplace(sp->new_fd, name, sp->rejected_fd, moved) == 0) {
			(void)fsync(sp->rejected_fd);
			(void)fsync(sp->new_fd);
			if (isdir)
				write_reason(sp->rejected_fd, moved, reason);
			return 0;
		}
		if (errno != EEXIST && errno != ENOTEMPTY)
			return dz_err_set(err, EX_IOERR, "cannot move a rejected "
			    "spool entry: %s", strerror(errno));
	}
	return dz_err_set(err, EX_CANTCREAT, "cannot move a rejected spool "
	    "entry: %d names in use in rejected/", MAX_SUFFIX);
}
