/*
 * lib/store/spool: owns the intake spool on disk. DIR/new/NAME/ holds one
 * submission from the form backend (submission.json and the uploaded
 * files); DIR/rejected/ holds the entries dz-ingest refused.
 *
 * May use: core/ only (err, fdio); jansson for error.json.
 *
 * Whoever writes into the spool is hostile. So everything here goes
 * through directory descriptors and never follows a link: an entry is
 * opened with O_DIRECTORY|O_NOFOLLOW relative to new/, and must be a real
 * directory holding only regular files (no link, FIFO, socket, device or
 * subdirectory), at most a given number of them; a file is read with
 * O_NOFOLLOW|O_NONBLOCK and checked with fstat before a byte is read, so
 * that a FIFO never blocks, and never past a size limit; removal recurses
 * through descriptors (unlinkat, AT_REMOVEDIR) and never leaves the tree
 * it started in; a rejected entry is moved with RENAME_NOREPLACE under a
 * free name, and its error.json is created with O_CREAT|O_EXCL|O_NOFOLLOW,
 * mode 0600.
 *
 * Errors: -1 with err. EX_DATAERR means the entry is at fault (the reason
 * is a fixed phrase, never a file name or a byte of content); any other
 * code is a failure of the system (EIO, EMFILE, out of memory), and the
 * entry must be left for the next run.
 */
#ifndef DZ_SPOOL_H
#define DZ_SPOOL_H

#include <stddef.h>

struct dz_err;

/* Directories deeper than this under an entry are not removed. */
#define DZ_SPOOL_MAX_DEPTH 64

/* The spool's directories, open; -1 where absent. */
struct dz_spool {
	int dir_fd;		/* DIR */
	int new_fd;		/* DIR/new */
	int rejected_fd;	/* DIR/rejected, opened (or made) on first need */
};

/*
 * Open DIR and, when want_new, DIR/new (neither new/ nor rejected/ may be
 * a link). EX_NOINPUT if either cannot be opened; when DIR itself cannot
 * be, errno says why. Release with dz_spool_release (also after a
 * failure).
 */
int dz_spool_open(struct dz_spool *sp, const char *dir, int want_new,
    struct dz_err *err);
void dz_spool_release(struct dz_spool *sp);

/*
 * Open DIR/rejected, or with create make it (mode 0700) when missing.
 * 1 when open (sp->rejected_fd), 0 when missing and !create, -1 with err.
 */
int dz_spool_rejected_open(struct dz_spool *sp, int create,
    struct dz_err *err);

/* The most names dz_spool_list takes in one call. */
#define DZ_SPOOL_MAX_LIST 10000

/*
 * The names in the directory dfd, sorted, leaving out those that start
 * with '.'; at most DZ_SPOOL_MAX_LIST of them (the first the directory
 * gives: the rest wait for another call, so that a spool flooded with
 * entries costs bounded memory). *names is a malloc'd array of n malloc'd
 * strings; free with dz_spool_names_free.
 */
int dz_spool_list(int dfd, char ***names, size_t *n, struct dz_err *err);
void dz_spool_names_free(char **names, size_t n);

/*
 * Open the entry name in dfd: a directory, not a link, holding only
 * regular files, at most max_names of them. *fd is the entry's directory
 * (the caller closes it), also after an EX_DATAERR refusal when the
 * directory itself could be opened (-1 otherwise). Reasons: "the spool
 * entry is not a directory (a link, a file or a FIFO)", "the spool entry
 * holds a subdirectory", "... holds a link", "... holds a FIFO, a socket
 * or a device", "the spool entry holds too many files (limit N)".
 */
int dz_spool_entry_open(int dfd, const char *name, size_t max_names, int *fd,
    struct dz_err *err);

/*
 * Read the file name in dfd whole: a regular file (not a link) of at most
 * max bytes, opened without blocking. *buf is malloc'd (the caller frees
 * it), NUL-terminated, *len bytes without the NUL. EX_DATAERR reasons
 * "WHAT is missing", "WHAT is not a regular file", "WHAT is too large
 * (limit N bytes)", where WHAT is what (a fixed phrase from the caller).
 */
int dz_spool_read(int dfd, const char *name, const char *what, size_t max,
    char **buf, size_t *len, struct dz_err *err);

/*
 * Remove name in dfd: a file, link, FIFO... is unlinked (a link, never
 * its target); a directory is emptied the same way, depth first through
 * descriptors opened with O_NOFOLLOW (at most DZ_SPOOL_MAX_DEPTH levels),
 * then removed; its error.json goes last, once the rest has, so that an
 * entry that could not be removed whole keeps the date of its rejection.
 * A name already gone is success. Nothing outside the
 * directory named is ever touched. -1 with err (EX_IOERR) when something
 * could not be removed; what could be is removed anyway.
 */
int dz_spool_remove(int dfd, const char *name, struct dz_err *err);

/*
 * Reject the entry new/name: move it into rejected/ (made if missing)
 * under its own name, or name.1, name.2 ... when that is taken (never
 * replacing anything), then, when it is a directory, write
 * {"reason":REASON} into its error.json, created with
 * O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600 (a link or file of that name
 * already there is unlinked first, never followed). A non-directory entry
 * (a link, say) is moved as it is, with no error.json. The name given is
 * copied into moved (movedsz bytes; NAME_MAX + 8 is enough). -1 with err
 * (EX_CANTCREAT, EX_IOERR) when the entry could not be moved; an
 * error.json that cannot be written is not a failure (the entry is out
 * of new/ and its time is the directory's).
 */
int dz_spool_reject(struct dz_spool *sp, const char *name, const char *reason,
    char *moved, size_t movedsz, struct dz_err *err);

#endif
