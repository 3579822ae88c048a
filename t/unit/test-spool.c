/*
 * Unit tests of lib/store/spool: entries that are links, hold links, FIFOs or
 * subdirectories, too many or too large files; removal that never leaves
 * its tree; rejection that never replaces or follows anything.
 * Run in a scratch directory (t/0035-spool.t).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "store/spool.h"
#include "tap.h"

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void
ln(const char *to, const char *path)
{
	if (symlink(to, path) != 0)
		diag("cannot make the link %s: %s", path, strerror(errno));
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int
has(const struct dz_err *e, const char *what)
{
	return strstr(e->msg, what) != NULL;
}

static int
entry(struct dz_spool *sp, const char *name, size_t max, struct dz_err *e)
{
	int fd, rc = dz_spool_entry_open(sp->new_fd, name, max, &fd, e);

	if (fd >= 0)
		close(fd);
	return rc;
}

int
main(void)
{
	struct dz_spool sp;
	struct dz_err e;
	char **names, *buf, moved[300];
	size_t n, len;
	int rc;

	mkdir("sp", 0700);
	mkdir("sp/new", 0700);
	mkdir("outside", 0700);
	put("outside/keep", "keep\n");
	put("target", "target\n");

	ok(dz_spool_open(&sp, "sp", 1, &e) == 0, "open a spool");

	mkdir("sp/new/good", 0700);
	put("sp/new/good/submission.json", "{}\n");
	put("sp/new/good/a.jpg", "x");
	ok(entry(&sp, "good", 3, &e) == 0, "an entry of regular files opens");
	ok(entry(&sp, "good", 1, &e) == -1 && e.code == EX_DATAERR &&
	    has(&e, "too many files (limit 1)"), "more names than the limit: refused");

	ln("../../outside", "sp/new/link");
	ok(entry(&sp, "link", 10, &e) == -1 && e.code == EX_DATAERR &&
	    has(&e, "not a directory"), "an entry that is a link to a directory: refused");
	put("sp/new/file", "x");
	ok(entry(&sp, "file", 10, &e) == -1 && e.code == EX_DATAERR &&
	    has(&e, "not a directory"), "an entry that is a file: refused");
	mkfifo("sp/new/fifo", 0600);
	ok(entry(&sp, "fifo", 10, &e) == -1 && e.code == EX_DATAERR,
	    "an entry that is a FIFO: refused without blocking");

	mkdir("sp/new/sub", 0700);
	mkdir("sp/new/sub/d", 0700);
	put("sp/new/sub/d/x.png", "x");
	ok(entry(&sp, "sub", 10, &e) == -1 && has(&e, "a subdirectory"),
	    "an entry holding a subdirectory: refused");
	mkdir("sp/new/lnk", 0700);
	ln("../../../target", "sp/new/lnk/error.json");
	ok(entry(&sp, "lnk", 10, &e) == -1 && has(&e, "a link"),
	    "an entry holding a link: refused");
	mkdir("sp/new/ff", 0700);
	mkfifo("sp/new/ff/submission.json", 0600);
	ok(entry(&sp, "ff", 10, &e) == -1 && has(&e, "FIFO"),
	    "an entry holding a FIFO: refused");

	ok(dz_spool_list(sp.new_fd, &names, &n, &e) == 0 && n == 7 &&
	    !strcmp(names[0], "ff") && !strcmp(names[6], "sub"),
	    "the entries are listed in name order");
	dz_spool_names_free(names, n);

	{
		char p[64];
		int fd;
		mkdir("many", 0700);
		for (int i = 0; i <= DZ_SPOOL_MAX_LIST; i++) {
			snprintf(p, sizeof p, "many/%05d", i);
			put(p, "");
		}
		fd = open(".", O_RDONLY | O_DIRECTORY);
		rc = open("many", O_RDONLY | O_DIRECTORY);
		ok(dz_spool_list(rc, &names, &n, &e) == 0 && n == DZ_SPOOL_MAX_LIST,
		    "at most DZ_SPOOL_MAX_LIST names are listed");
		dz_spool_names_free(names, n);
		close(rc);
		ok(dz_spool_remove(fd, "many", &e) == 0 && !exists("many"),
		    "a crowded directory is removed whole");
		close(fd);
	}
	{
		int fd = open("sp/new/ff", O_RDONLY | O_DIRECTORY);
		ok(dz_spool_read(fd, "submission.json", "submission.json", 100,
		    &buf, &len, &e) == -1 && e.code == EX_DATAERR &&
		    has(&e, "not a regular file"), "reading a FIFO: refused at once");
		close(fd);
		fd = open("sp/new/lnk", O_RDONLY | O_DIRECTORY);
		ok(dz_spool_read(fd, "error.json", "it", 100, &buf, &len, &e) == -1 &&
		    e.code == EX_DATAERR, "reading a link: refused");
		ok(dz_spool_read(fd, "none", "it", 100, &buf, &len, &e) == -1 &&
		    has(&e, "it is missing"), "reading a missing file: its reason");
		close(fd);
		fd = open("sp/new/good", O_RDONLY | O_DIRECTORY);
		ok(dz_spool_read(fd, "submission.json", "it", 3, &buf, &len, &e) == 0 &&
		    len == 3 && !strcmp(buf, "{}\n"), "a file at the limit is read whole");
		free(buf);
		ok(dz_spool_read(fd, "submission.json", "it", 2, &buf, &len, &e) == -1 &&
		    has(&e, "too large (limit 2 bytes)"), "a file past the limit: refused");
		close(fd);
	}

	/* removal */
	ok(dz_spool_remove(sp.new_fd, "link", &e) == 0 && !exists("sp/new/link") &&
	    exists("outside/keep"), "removing a link entry removes the link only");
	mkdir("sp/new/deep", 0700);
	mkdir("sp/new/deep/a", 0700);
	mkdir("sp/new/deep/a/b", 0700);
	put("sp/new/deep/a/b/c", "x");
	ln("../../../../outside", "sp/new/deep/a/out");
	mkfifo("sp/new/deep/a/f", 0600);
	ok(dz_spool_remove(sp.new_fd, "deep", &e) == 0 && !exists("sp/new/deep") &&
	    exists("outside/keep"), "a tree is removed whole, links not followed");
	ok(dz_spool_remove(sp.new_fd, "deep", &e) == 0, "a name gone already: success");
	{
		char p[4096] = "sp/new/toodeep";
		size_t k = strlen(p);
		mkdir(p, 0700);
		for (int i = 0; i < DZ_SPOOL_MAX_DEPTH + 2 && k + 3 < sizeof p; i++) {
			memcpy(p + k, "/d", 3);
			k += 2;
			mkdir(p, 0700);
		}
		rc = dz_spool_remove(sp.new_fd, "toodeep", &e);
		ok(rc == -1 && e.code == EX_IOERR && has(&e, "too deep") &&
		    exists("sp/new/toodeep"), "a tree nested too deep: an error, not a crash");
	}

	/* rejection */
	put("sp/new/lnk/submission.json", "{}\n");
	mkdir("sp/rejected", 0700);
	mkdir("sp/rejected/lnk", 0700);
	put("sp/rejected/lnk/error.json", "old\n");
	ok(dz_spool_reject(&sp, "lnk", "a reason", moved, sizeof moved, &e) == 0 &&
	    !strcmp(moved, "lnk.1") && !exists("sp/new/lnk") &&
	    exists("sp/rejected/lnk.1/submission.json"),
	    "a name taken in rejected/ gets a suffix");
	{
		int fd = open("sp/rejected/lnk.1", O_RDONLY | O_DIRECTORY);
		struct stat st;
		rc = dz_spool_read(fd, "error.json", "it", 100, &buf, &len, &e);
		ok(rc == 0 && !strcmp(buf, "{\"reason\":\"a reason\"}\n") &&
		    lstat("sp/rejected/lnk.1/error.json", &st) == 0 &&
		    (st.st_mode & 0777) == 0600,
		    "error.json replaces the link, mode 0600");
		if (rc == 0)
			free(buf);
		close(fd);
	}
	{
		FILE *f = fopen("target", "r");
		char line[32] = "";
		if (f) {
			if (!fgets(line, sizeof line, f))
				line[0] = '\0';
			fclose(f);
		}
		ok(!strcmp(line, "target\n"), "the file the link pointed to is untouched");
	}
	mkdir("sp/new/lnk", 0700);
	ln("../../../created-by-link", "sp/new/lnk/error.json");
	ok(dz_spool_reject(&sp, "lnk", "r", moved, sizeof moved, &e) == 0 &&
	    !strcmp(moved, "lnk.2") && !exists("created-by-link"),
	    "a dangling error.json link creates nothing");
	ln("../../outside", "sp/new/link2");
	ok(dz_spool_reject(&sp, "link2", "r", moved, sizeof moved, &e) == 0 &&
	    !exists("outside/error.json") && exists("sp/rejected/link2"),
	    "a link entry is moved as it is, nothing written through it");
	ok(dz_spool_remove(sp.rejected_fd, "link2", &e) == 0 &&
	    exists("outside/keep"), "and removing it leaves its target");
	dz_spool_release(&sp);

	rename("sp/rejected", "sp/rej");
	ln("../outside", "sp/rejected");
	ok(dz_spool_open(&sp, "sp", 1, &e) == 0 &&
	    dz_spool_rejected_open(&sp, 1, &e) == -1,
	    "rejected/ that is a link is refused");
	dz_spool_release(&sp);
	return tap_done();
}
