/*
 * t/unit/util.h: small helpers that several C unit tests (and
 * scripts/bench/match.c) share, written once: a seeded random generator
 * (splitmix64) and random PDQ hashes, allocation that bails out, scratch
 * streams and paths, and reading back what a stream was written.
 *
 * Everything is static inline, so a test that uses only part of it gets
 * no unused-function warnings; the header is not a unit of lib/ and is
 * included only from t/unit/ and scripts/bench/.
 */
#ifndef DZ_TEST_UTIL_H
#define DZ_TEST_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "hash/pdq.h"

/* ---------- random numbers ---------- */

/* One step of splitmix64 on the state *s. */
static inline uint64_t
splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

struct rng {
	uint64_t s;
};

static inline uint64_t
rnd(struct rng *r)
{
	return splitmix64(&r->s);
}

static inline uint32_t
below(struct rng *r, uint32_t n)
{
	return (uint32_t)(rnd(r) % n);
}

static inline void
random_hash(struct rng *r, struct dz_pdq *h)
{
	for (int w = 0; w < 4; w++)
		h->w[w] = rnd(r);
}

/* One step of xorshift64 (13, 7, 17) on the state *s, which is not 0. */
static inline uint64_t
xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* 16 random bytes: a bank entry's id. */
static inline void
random_id(struct rng *r, uint8_t id[16])
{
	uint64_t a = rnd(r), b = rnd(r);

	memcpy(id, &a, 8);
	memcpy(id + 8, &b, 8);
}

/* *out is h with exactly d distinct random bits flipped (0 <= d <= 256). */
static inline void
flip_distinct(struct rng *r, const struct dz_pdq *h, int d, struct dz_pdq *out)
{
	int bits[256];

	*out = *h;
	for (int i = 0; i < 256; i++)
		bits[i] = i;
	for (int i = 0; i < d; i++) {
		int j = i + (int)(rnd(r) % (uint64_t)(256 - i)), t = bits[i];
		bits[i] = bits[j];
		bits[j] = t;
		out->w[bits[i] / 64] ^= 1ull << (bits[i] % 64);
	}
}

/* Flip bits of *h at random until it is exactly d bits from where it was. */
static inline void
flip_to_distance(struct rng *r, struct dz_pdq *h, int d)
{
	struct dz_pdq orig = *h;

	while (dz_pdq_distance(h, &orig) < d) {
		int b = (int)below(r, 256);

		h->w[b / 64] ^= (uint64_t)1 << (b % 64);
		if (dz_pdq_distance(h, &orig) > d)
			h->w[b / 64] ^= (uint64_t)1 << (b % 64);
	}
}

/* ---------- failing loudly ---------- */

/* Stop the TAP run: "Bail out! what: strerror(errno)", exit 1. */
static inline void __attribute__((noreturn))
bail_out(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(1);
}

static inline void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		bail_out("malloc");
	return p;
}

static inline char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		bail_out("strdup");
	return p;
}

/*
 * For the test-*-tool programs: "name: reason" on stderr, and the code to
 * exit with (lib's, or EX_SOFTWARE if it set none).
 */
static inline int
tool_fail(const char *name, const struct dz_err *e)
{
	fprintf(stderr, "%s: %s\n", name, e->msg);
	return e->code ? e->code : EX_SOFTWARE;
}

/* ---------- scratch files and streams ---------- */

/* $TMPDIR, or /tmp if it is unset or empty. */
static inline const char *
tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	return t && *t ? t : "/tmp";
}

/*
 * A new directory $TMPDIR/name.XXXXXX, its name in buf (size bytes);
 * bails out if it cannot be made (buf is then "").
 */
static inline void
scratch_dir(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s.XXXXXX", tmpdir(), name);
	if (!mkdtemp(buf)) {
		int e = errno;

		buf[0] = '\0';
		errno = e;
		bail_out("mkdtemp");
	}
}

/*
 * dir/name in one of 8 static buffers that take turns, so up to 8
 * results may be used at once.
 */
static inline char *
path_in(const char *dir, const char *name)
{
	static char buf[8][4200];
	static int k;

	k = (k + 1) % 8;
	snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
	return buf[k];
}

/*
 * A stream reading data (n bytes) from a temporary file in dir, already
 * removed; NULL on failure.
 */
static inline FILE *
feed_in(const char *dir, const void *data, size_t n)
{
	char path[4200];
	FILE *f;
	int fd;

	snprintf(path, sizeof path, "%s/feed.XXXXXX", dir);
	if ((fd = mkstemp(path)) < 0)
		return NULL;
	unlink(path);
	if ((n && write(fd, data, n) != (ssize_t)n) ||
	    lseek(fd, 0, SEEK_SET) < 0 || !(f = fdopen(fd, "r"))) {
		close(fd);
		return NULL;
	}
	return f;
}

/*
 * How many entries directory d holds, not counting "." and ".." (nor,
 * unless hidden is set, any other name that starts with a dot); -1 if it
 * cannot be read.
 */
static inline int
count_entries_in(const char *d, int hidden)
{
	DIR *dp = opendir(d);
	struct dirent *de;
	int n = 0;

	if (!dp)
		return -1;
	while ((de = readdir(dp)))
		if (de->d_name[0] != '.' || (hidden &&
		    strcmp(de->d_name, ".") && strcmp(de->d_name, "..")))
			n++;
	closedir(dp);
	return n;
}

/*
 * What was written to the read-write stream f since the last call, as a
 * string in buf (at most size - 1 bytes); f is emptied for the next.
 */
static inline char *
drain(FILE *f, char *buf, size_t size)
{
	size_t n;

	fflush(f);
	rewind(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	rewind(f);
	if (ftruncate(fileno(f), 0) != 0)
		buf[0] = '\0';
	return buf;
}

#endif
