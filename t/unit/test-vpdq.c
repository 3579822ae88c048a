/*
 * t/unit/test-vpdq: lib/hash/vpdq without a video: the JSON form both ways,
 * every malformed signature refused, and the reference's matching rule
 * (shares of query and bank frames within the distance, low-quality
 * frames left out).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "tap.h"
#include "hash/vpdq.h"

/* unrelated hashes: splitmix64 of the seed */
static uint64_t
mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static struct dz_pdq
h(uint64_t a)
{
	struct dz_pdq p = { { mix(4 * a), mix(4 * a + 1), mix(4 * a + 2),
	    mix(4 * a + 3) } };

	return p;
}

/* p with the lowest k bits of word 0 flipped */
static struct dz_pdq
near(struct dz_pdq p, int k)
{
	for (int i = 0; i < k; i++)
		p.w[0] ^= 1ULL << i;
	return p;
}

static void
add(struct dz_vpdqsig *v, int64_t frame, int q, struct dz_pdq p)
{
	struct dz_vpdqsig_frame f = { frame, (double)frame / 30, q, p };

	if (dz_vpdqsig_add(v, &f))
		exit(1);
}

static void
refused(const char *text, const char *what)
{
	struct dz_vpdqsig v;
	struct dz_err err;
	json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
	int rc = j ? dz_vpdqsig_from_json(j, &v, 1000, &err) : -2;

	ok(rc == -1 && err.code == EX_DATAERR && !v.v &&
	    strstr(err.msg, "malformed vpdq"), "%s: %s", what,
	    rc == -1 ? err.msg : "accepted");
	if (rc == 0)
		dz_vpdqsig_release(&v);
	json_decref(j);
}

int
main(void)
{
	struct dz_vpdqsig a = { 0 }, b = { 0 }, c;
	struct dz_err err;
	double qp, bp;
	int m;
	json_t *j;
	char *s;

	for (int i = 0; i < 10; i++)
		add(&a, i * 30, 100, h((uint64_t)i + 1));
	j = dz_vpdqsig_to_json(&a);
	s = json_dumps(j, JSON_COMPACT);
	ok(j && json_array_size(j) == 10 && s &&
	    !strncmp(s, "[[0,0.0,100,\"", 13), "to JSON: %.40s...", s);
	ok(dz_vpdqsig_from_json(j, &c, 1000, &err) == 0 && c.n == 10 &&
	    !memcmp(&c.v[3].hash, &a.v[3].hash, sizeof c.v[3].hash) &&
	    c.v[3].frame == 90 && c.v[3].quality == 100 && c.v[3].t == 3.0,
	    "and back");
	dz_vpdqsig_release(&c);
	ok(dz_vpdqsig_from_json(j, &c, 9, &err) == -1 &&
	    strstr(err.msg, "too many"), "more frames than allowed: refused");
	free(s);
	json_decref(j);

	refused("[]", "an empty signature");
	refused("{}", "an object");
	refused("[[0,0.0,100]]", "three members");
	refused("[[0,0.0,100,\"00\"]]", "a short hash");
	refused("[[-1,0.0,100,\"" "0000000000000000000000000000000000000000"
	    "000000000000000000000000\"]]", "a negative frame");
	refused("[[0,-1,100,\"" "0000000000000000000000000000000000000000"
	    "000000000000000000000000\"]]", "a negative time");
	refused("[[0,0,101,\"" "0000000000000000000000000000000000000000"
	    "000000000000000000000000\"]]", "quality 101");
	refused("[[0,0,\"100\",\"" "0000000000000000000000000000000000000000"
	    "000000000000000000000000\"]]", "quality as text");
	refused("[[0,0,100,\"" "000000000000000000000000000000000000000000"
	    "00000000000000000000000g\"]]", "a hash that is not hex");

	/* matching: b holds 8 of a's 10 frames, a few bits off */

	for (int i = 0; i < 8; i++)
		add(&b, i * 30, 100, near(a.v[i].hash, 10));
	m = dz_vpdqsig_match(&a, &b, 31, 50, 80, 0, &qp, &bp);
	ok(m == 1 && qp == 80 && bp == 100, "8 of 10 query frames: a match "
	    "at 80%% (%.0f%%, %.0f%%)", qp, bp);
	m = dz_vpdqsig_match(&a, &b, 31, 50, 81, 0, &qp, &bp);
	ok(m == 0, "not at 81%%");
	m = dz_vpdqsig_match(&a, &b, 9, 50, 80, 0, &qp, &bp);
	ok(m == 0 && qp == 0, "not within 9 bits");
	m = dz_vpdqsig_match(&b, &a, 31, 50, 80, 100, &qp, &bp);
	ok(m == 0 && qp == 100 && bp == 80, "the other way, with the bank "
	    "share at 100%%: no (%.0f%%, %.0f%%)", qp, bp);
	a.v[8].quality = a.v[9].quality = 10;
	m = dz_vpdqsig_match(&a, &b, 31, 50, 100, 0, &qp, &bp);
	ok(m == 1 && qp == 100, "low-quality query frames are left out");
	for (size_t i = 0; i < a.n; i++)
		a.v[i].quality = 0;
	m = dz_vpdqsig_match(&a, &b, 31, 50, 0, 0, &qp, &bp);
	ok(m == 0, "no query frame of quality: never a match");
	dz_vpdqsig_release(&a);
	dz_vpdqsig_release(&b);
	return tap_done();
}
