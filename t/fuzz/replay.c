/*
 * t/fuzz/replay.c: main() for the replay build of a harness. Runs
 * LLVMFuzzerTestOneInput once on every file named on the command line,
 * and on every regular file in a directory named there (not recursive,
 * in name order). Without libFuzzer, so that the project's own compiler
 * and sanitizers (make check SANITIZE=1) run the saved inputs.
 *
 *	replay-NAME [-v] FILE|DIR...
 *
 * Exits 0 when every input ran (a crash ends the process by a signal, a
 * sanitizer report with its own exit code), 66 when an input cannot be
 * read, 64 on misuse.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int verbose;

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f) {
		fprintf(stderr, "replay: cannot open '%s': %s\n", path,
		    strerror(errno));
		return -1;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 65536;
			if (!(nb = realloc(buf, cap))) {
				fprintf(stderr, "replay: out of memory\n");
				exit(70);
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "replay: cannot read '%s'\n", path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	if (verbose)
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	/* an exact-size copy, so that ASan sees reads past the end */
	{
		uint8_t *in = malloc(len ? len : 1);

		if (!in) {
			fprintf(stderr, "replay: out of memory\n");
			exit(70);
		}
		if (len)
			memcpy(in, buf, len);
		free(buf);
		LLVMFuzzerTestOneInput(in, len);
		free(in);
	}
	return 0;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
run_dir(const char *dir)
{
	struct dirent **names;
	int n, bad = 0;

	if ((n = scandir(dir, &names, NULL, by_name)) < 0) {
		fprintf(stderr, "replay: cannot read directory '%s': %s\n",
		    dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		if (names[i]->d_name[0] != '.' &&
		    (size_t)snprintf(path, sizeof path, "%s/%s", dir,
		    names[i]->d_name) < sizeof path &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    run_file(path))
			bad = 1;
		free(names[i]);
	}
	free(names);
	return bad ? -1 : 0;
}

int
main(int argc, char **argv)
{
	int i = 1, bad = 0;

	if (i < argc && !strcmp(argv[i], "-v")) {
		verbose = 1;
		i++;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: replay-NAME [-v] FILE|DIR...\n");
		return 64;
	}
	for (; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: cannot open '%s': %s\n",
			    argv[i], strerror(errno));
			bad = 1;
		} else if (S_ISDIR(st.st_mode)) {
			bad |= run_dir(argv[i]) != 0;
		} else {
			bad |= run_file(argv[i]) != 0;
		}
	}
	return bad ? 66 : 0;
}
