/*
 * t/unit/test-sign: lib/crypto/sign writes what minisign reads and refuses
 * anything it should not believe: round trips, the file formats checked
 * with OpenSSL's own base64 and Ed25519/BLAKE2b (not lib/crypto/sign's code),
 * every kind of tampering, malformed input at every truncation and under
 * random mutation, legacy "Ed" signatures, and the secret key file's
 * rules. t/0041-sign.t cross-checks with the real minisign tool.
 * Scratch files live in a mkdtemp directory under $TMPDIR, removed at
 * the end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/err.h"
#include "crypto/sign.h"
#include "tap.h"
#include "util.h"

static char dir[4096];

/* dir/name in a buffer of the caller's. */
static const char *
path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
	return buf;
}

/* A whole file, NUL-terminated (NULL if it cannot be read). */
static char *
slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	buf = xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = (size_t)n;
	return buf;
}

static int
spew(const char *p, const char *text, size_t len, mode_t mode)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	int rc;

	if (fd < 0)
		return -1;
	rc = write(fd, text, len) == (ssize_t)len ? 0 : -1;
	if (fchmod(fd, mode) != 0)
		rc = -1;
	return close(fd) || rc;
}

static int
count_entries(void)
{
	return count_entries_in(dir, 1);
}

static void
cleanup(void)
{
	DIR *d;
	struct dirent *de;
	char p[8300];

	if (!dir[0] || !(d = opendir(dir)))
		return;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
			if (unlink(p) != 0)
				rmdir(p);
		}
	closedir(d);
	if (rmdir(dir) != 0)
		printf("# cannot remove %s: %s\n", dir, strerror(errno));
	dir[0] = '\0';
}

/* ---------- an independent view of the formats (OpenSSL's code) ---------- */

/* Decode one base64 line with OpenSSL; returns the byte count or -1. */
static int
ossl_b64(const char *s, size_t n, uint8_t *out, size_t cap)
{
	uint8_t tmp[256];
	int k, pad = 0;

	if (n == 0 || n % 4 || n / 4 * 3 > sizeof tmp)
		return -1;
	k = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
	if (k < 0)
		return -1;
	pad = (s[n - 1] == '=') + (s[n - 2] == '=');
	k -= pad;
	if ((size_t)k > cap)
		return -1;
	memcpy(out, tmp, (size_t)k);
	return k;
}

static void
ossl_b64_encode(const uint8_t *in, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* The n-th line (from 0) of text, without "\n", into buf. */
static int
nth_line(const char *text, int n, char *buf, size_t size)
{
	const char *p = text, *e;

	for (; n > 0; n--) {
		if (!(p = strchr(p, '\n')))
			return -1;
		p++;
	}
	e = strchr(p, '\n');
	if (!e)
		e = p + strlen(p);
	if ((size_t)(e - p) >= size)
		return -1;
	memcpy(buf, p, (size_t)(e - p));
	buf[e - p] = '\0';
	return 0;
}

static int
ossl_verify(const uint8_t pk[32], const uint8_t *m, size_t n,
    const uint8_t sig[64])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk,
	    32);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok;

	ok = k && c && EVP_DigestVerifyInit(c, NULL, NULL, NULL, k) == 1 &&
	    EVP_DigestVerify(c, sig, 64, m, n) == 1;
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	return ok;
}

static int
ossl_sign(EVP_PKEY *k, const uint8_t *m, size_t n, uint8_t sig[64])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t len = 64;
	int ok;

	ok = c && EVP_DigestSignInit(c, NULL, NULL, NULL, k) == 1 &&
	    EVP_DigestSign(c, sig, &len, m, n) == 1 && len == 64;
	EVP_MD_CTX_free(c);
	return ok;
}

static void
ossl_blake2b(const uint8_t *m, size_t n, uint8_t out[64])
{
	unsigned int len = 0;

	if (EVP_Digest(m, n, out, &len, EVP_blake2b512(), NULL) != 1 ||
	    len != 64)
		bail_out("EVP_Digest BLAKE2b-512");
}

/*
 * A signature file built by hand: alg over msg (raw data for "Ed", its
 * BLAKE2b-512 for "ED"), trusted comment tc. Caller frees.
 */
static char *
handmade_sig(EVP_PKEY *k, const uint8_t id[8], const char alg[2],
    const uint8_t *data, size_t len, const char *tc)
{
	uint8_t blob[74], h[64], *gm;
	char b1[101], b2[89], *out;
	size_t tclen = strlen(tc), size;

	memcpy(blob, alg, 2);
	memcpy(blob + 2, id, 8);
	if (alg[1] == 'D') {
		ossl_blake2b(data, len, h);
		if (!ossl_sign(k, h, 64, blob + 10))
			bail_out("sign");
	} else if (!ossl_sign(k, data, len, blob + 10)) {
		bail_out("sign");
	}
	gm = xmalloc(64 + tclen);
	memcpy(gm, blob + 10, 64);
	memcpy(gm + 64, tc, tclen);
	uint8_t gsig[64];
	if (!ossl_sign(k, gm, 64 + tclen, gsig))
		bail_out("sign");
	free(gm);
	ossl_b64_encode(blob, sizeof blob, b1);
	ossl_b64_encode(gsig, sizeof gsig, b2);
	size = 100 + tclen + 300;
	out = xmalloc(size);
	snprintf(out, size, "untrusted comment: made by hand\n%s\n"
	    "trusted comment: %s\n%s\n", b1, tc, b2);
	return out;
}

/* ---------- the tests ---------- */

static struct dz_sign_key key1, key2;
static struct dz_sign_pub pub1, pub2;
static const uint8_t bank[] = "pdq,0123456789abcdef\npdq,fedcba9876543210\n";
#define BANK_LEN (sizeof bank - 1)

static int
verify_text(const struct dz_sign_pub *p, const uint8_t *d, size_t n,
    const char *sig, struct dz_err *e)
{
	return dz_sign_verify(p, d, n, sig, strlen(sig), NULL, e);
}

/* Fails with EX_DATAERR and a message starting with want. */
static int
fails_with(int rc, const struct dz_err *e, const char *want)
{
	return rc == -1 && e->code == EX_DATAERR &&
	    strncmp(e->msg, want, strlen(want)) == 0;
}

static void
test_keyid_hex(void)
{
	static const uint8_t id[8] = { 1, 2, 3, 4, 5, 6, 0xab, 0xcd };
	char hex[17];

	dz_sign_keyid_hex(id, hex);
	ok(strcmp(hex, "CDAB060504030201") == 0,
	    "key id printed as minisign prints it (little-endian, upper "
	    "case): %s", hex);
	{
		static const uint8_t z[8] = { 1, 2, 3, 4, 5, 6, 7, 0 };
		static const uint8_t zero[8] = { 0 };

		dz_sign_keyid_hex(z, hex);
		ok(strcmp(hex, "7060504030201") == 0,
		    "key id with a zero top byte: no leading zeros, as %%PRIX64 "
		    "(%s)", hex);
		dz_sign_keyid_hex(zero, hex);
		ok(strcmp(hex, "0") == 0, "key id 0 prints as 0");
	}
}

static void
test_keygen(void)
{
	char sk[4200], pk[4200], pk2[4200], sk2[4200], p3[4200], line[200];
	struct dz_err e;
	struct stat st;
	uint8_t blob[80];
	char *text, hex[17];
	size_t len;
	int n;

	path(sk, sizeof sk, "a.key");
	path(pk, sizeof pk, "a.pub");
	ok(dz_sign_keygen(sk, pk, NULL, &e) == 0, "keygen: makes a key pair%s%s",
	    e.msg[0] ? ": " : "", e.msg);
	ok(stat(sk, &st) == 0 && (st.st_mode & 07777) == 0600,
	    "keygen: secret key file has mode 0600");
	ok(stat(pk, &st) == 0 && (st.st_mode & 07777) == 0644,
	    "keygen: public key file has mode 0644");
	ok(count_entries() == 2, "keygen: no temporary files left");

	ok(dz_sign_key_load(sk, &key1, &e) == 0, "key load: accepts it%s%s",
	    e.code ? ": " : "", e.code ? e.msg : "");
	ok(dz_sign_pub_load(pk, &pub1, &e) == 0, "pub load: accepts it");
	ok(memcmp(&pub1, &key1.pub, sizeof pub1) == 0,
	    "the public key file holds the secret key's public half and id");

	/* The public key file, read with OpenSSL's base64. */
	text = slurp(pk, &len);
	dz_sign_keyid_hex(pub1.id, hex);
	snprintf(line, sizeof line, "untrusted comment: disrupt public key "
	    "%s", hex);
	ok(text && nth_line(text, 0, sk2, sizeof sk2) == 0 &&
	    strcmp(sk2, line) == 0,
	    "pub file: line 1 is the untrusted comment with the key id");
	n = text && nth_line(text, 1, sk2, sizeof sk2) == 0 ?
	    ossl_b64(sk2, strlen(sk2), blob, sizeof blob) : -1;
	ok(n == 42 && memcmp(blob, "Ed", 2) == 0 &&
	    memcmp(blob + 2, pub1.id, 8) == 0 &&
	    memcmp(blob + 10, pub1.pk, 32) == 0 && strlen(sk2) == 56,
	    "pub file: line 2 is base64(\"Ed\" | key id | public key)");
	ok(text && len == strlen(line) + 1 + 56 + 1 && text[len - 1] == '\n',
	    "pub file: nothing else");
	free(text);

	/* The secret key file. */
	text = slurp(sk, &len);
	n = text && nth_line(text, 1, sk2, sizeof sk2) == 0 ?
	    ossl_b64(sk2, strlen(sk2), blob, sizeof blob) : -1;
	ok(text && strncmp(text, "disrupt-signing-key-v1\n", 23) == 0 &&
	    len == 23 + 96 + 1 && n == 72 && memcmp(blob, pub1.id, 8) == 0 &&
	    memcmp(blob + 40, pub1.pk, 32) == 0,
	    "secret key file: magic line, base64(id | seed | public key)");
	if (n == 72) {
		EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519,
		    NULL, blob + 8, 32);
		uint8_t raw[32];
		size_t rl = 32;
		ok(k && EVP_PKEY_get_raw_public_key(k, raw, &rl) == 1 &&
		    memcmp(raw, pub1.pk, 32) == 0,
		    "secret key file: the seed makes the public key");
		EVP_PKEY_free(k);
	} else {
		ok(0, "secret key file: the seed makes the public key");
	}
	free(text);

	/* Never replaces anything. */
	ok(dz_sign_keygen(sk, path(pk2, sizeof pk2, "b.pub"), NULL, &e) ==
	    -1 && e.code == EX_CANTCREAT && access(pk2, F_OK) != 0,
	    "keygen: refuses an existing secret key file (%s)", e.msg);
	ok(dz_sign_keygen(path(sk2, sizeof sk2, "b.key"), pk, NULL, &e) ==
	    -1 && e.code == EX_CANTCREAT && access(sk2, F_OK) != 0,
	    "keygen: refuses an existing public key file, leaves no secret "
	    "key (%s)", e.msg);
	ok(dz_sign_keygen(sk2, sk2, NULL, &e) == -1 &&
	    access(sk2, F_OK) != 0 && count_entries() == 2,
	    "keygen: the same name twice fails and leaves nothing");
	path(pk2, sizeof pk2, "dangling.key");
	ok(symlink("nowhere", pk2) == 0 &&
	    dz_sign_keygen(pk2, path(p3, sizeof p3, "c.pub"), NULL,
	    &e) == -1 && e.code == EX_CANTCREAT &&
	    access(path(p3, sizeof p3, "nowhere"), F_OK) != 0,
	    "keygen: does not write through a dangling symlink");
	unlink(pk2);
	ok(dz_sign_keygen(path(sk2, sizeof sk2, "no/dir.key"),
	    path(pk2, sizeof pk2, "no/dir.pub"), NULL, &e) == -1 &&
	    e.code == EX_CANTCREAT && count_entries() == 2,
	    "keygen: a missing directory fails cleanly (%s)", e.msg);
	ok(dz_sign_keygen(path(sk2, sizeof sk2, "c.key"),
	    path(pk2, sizeof pk2, "c.pub"), "two\nlines", &e) == -1 &&
	    e.code == EX_DATAERR && count_entries() == 2,
	    "keygen: refuses a comment with a newline (%s)", e.msg);

	/* A second pair with a comment of our choosing. */
	ok(dz_sign_keygen(path(sk2, sizeof sk2, "b.key"),
	    path(pk2, sizeof pk2, "b.pub"), "partner test key", &e) == 0 &&
	    dz_sign_key_load(sk2, &key2, &e) == 0 &&
	    dz_sign_pub_load(pk2, &pub2, &e) == 0,
	    "keygen: a second key pair");
	text = slurp(pk2, NULL);
	ok(text && strncmp(text, "untrusted comment: partner test key\n",
	    36) == 0, "keygen: the comment goes in the public key file");
	free(text);
	ok(memcmp(pub1.id, pub2.id, 8) != 0 && memcmp(pub1.pk, pub2.pk, 32),
	    "two key pairs differ in id and key");
}

/* dz_sign_sig_keyid: the id a signature names, and what it refuses. */
static void
test_sig_keyid(void)
{
	/* base64("ED" 01..08 "xy"), base64("Ed" 01..08 "xy"): 16 chars. */
	static const char ed[] = "c\nRUQBAgMEBQYHCHh5rest\n";
	static const char legacy[] = "c\nRWQBAgMEBQYHCHh5\n";
	static const uint8_t want[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t id[8], zero[8] = { 0 };
	char *sig = NULL;
	struct dz_err e;

	ok(dz_sign_sig_keyid(ed, strlen(ed), id) == 0 &&
	    memcmp(id, want, 8) == 0, "sig keyid: read from an \"ED\" line");
	ok(dz_sign_sig_keyid(legacy, strlen(legacy), id) == 0 &&
	    memcmp(id, want, 8) == 0, "sig keyid: read from an \"Ed\" line");
	ok(dz_sign_sig_keyid("c\nRUQBAgMEBQYHCHh", 18, id) == -1,
	    "sig keyid: fewer than 16 characters on the second line: -1");
	ok(dz_sign_sig_keyid("RUQBAgMEBQYHCHh5", 16, id) == -1,
	    "sig keyid: no second line: -1");
	ok(dz_sign_sig_keyid("c\nRUQBAgMEBQYH*Hh5\n", 20, id) == -1,
	    "sig keyid: a character outside base64: -1");
	ok(dz_sign_sig_keyid("c\nRVgBAgMEBQYHCHh5\n", 20, id) == -1,
	    "sig keyid: bytes that do not start with ED or Ed: -1");
	if (dz_sign_buf(&key1, zero, sizeof zero, NULL, &sig, &e) == 0) {
		ok(dz_sign_sig_keyid(sig, strlen(sig), id) == 0 &&
		    memcmp(id, pub1.id, 8) == 0,
		    "sig keyid: a signature of ours names our key's id");
		free(sig);
	} else {
		ok(0, "sig keyid: sign a buffer: %s", e.msg);
	}
}

static void
test_roundtrip(void)
{
	struct dz_err e;
	char *sig = NULL, *sig2 = NULL, *tc = NULL, l[300], hex[17];
	uint8_t blob[80], h[64], *gm;
	int n;

	ok(dz_sign_buf(&key1, bank, BANK_LEN, "bank 2026-01-15\tv1", &sig,
	    &e) == 0 && sig, "sign: a hash bank");
	if (!sig)
		return;
	ok(dz_sign_verify(&pub1, bank, BANK_LEN, sig, strlen(sig), &tc,
	    &e) == 0 && tc && strcmp(tc, "bank 2026-01-15\tv1") == 0,
	    "verify: accepts it and returns the trusted comment");
	free(tc);
	ok(dz_sign_buf(&key1, bank, BANK_LEN, "bank 2026-01-15\tv1", &sig2,
	    &e) == 0 && strcmp(sig, sig2) == 0,
	    "sign: Ed25519 is deterministic, the same text twice");
	free(sig2);

	/* The format, checked with OpenSSL's base64, BLAKE2b and Ed25519. */
	dz_sign_keyid_hex(pub1.id, hex);
	ok(nth_line(sig, 0, l, sizeof l) == 0 &&
	    strncmp(l, "untrusted comment: signature from disrupt key ",
	    46) == 0 && strcmp(l + 46, hex) == 0,
	    "sig file: line 1 is the untrusted comment, with the key id");
	n = nth_line(sig, 1, l, sizeof l) == 0 ?
	    ossl_b64(l, strlen(l), blob, sizeof blob) : -1;
	ossl_blake2b(bank, BANK_LEN, h);
	ok(n == 74 && strlen(l) == 100 && memcmp(blob, "ED", 2) == 0 &&
	    memcmp(blob + 2, pub1.id, 8) == 0 &&
	    ossl_verify(pub1.pk, h, 64, blob + 10),
	    "sig file: line 2 is base64(\"ED\" | key id | "
	    "Ed25519(BLAKE2b-512(data)))");
	ok(nth_line(sig, 2, l, sizeof l) == 0 &&
	    strcmp(l, "trusted comment: bank 2026-01-15\tv1") == 0,
	    "sig file: line 3 is the trusted comment");
	gm = xmalloc(64 + 18);
	memcpy(gm, blob + 10, 64);
	memcpy(gm + 64, "bank 2026-01-15\tv1", 18);
	n = nth_line(sig, 3, l, sizeof l) == 0 ?
	    ossl_b64(l, strlen(l), blob, sizeof blob) : -1;
	ok(n == 64 && strlen(l) == 88 && ossl_verify(pub1.pk, gm, 82, blob),
	    "sig file: line 4 is base64(Ed25519(sig | trusted comment))");
	free(gm);
	ok(nth_line(sig, 4, l, sizeof l) == 0 && l[0] == '\0' &&
	    sig[strlen(sig) - 1] == '\n',
	    "sig file: four lines, each ending in a newline");
	free(sig);

	/* Empty data, empty and NULL comments, a tab, the longest comment. */
	ok(dz_sign_buf(&key1, NULL, 0, NULL, &sig, &e) == 0 &&
	    dz_sign_verify(&pub1, NULL, 0, sig, strlen(sig), &tc, &e) == 0 &&
	    tc && tc[0] == '\0' && strstr(sig, "\ntrusted comment: \n"),
	    "empty data with a NULL trusted comment round-trips");
	free(tc);
	ok(verify_text(&pub1, (const uint8_t *)"x", 1, sig, &e) == -1,
	    "a signature of empty data does not verify one byte");
	free(sig);
	{
		char *big = xmalloc(DZ_SIGN_TRUSTED_MAX + 2);
		memset(big, 'c', DZ_SIGN_TRUSTED_MAX);
		big[DZ_SIGN_TRUSTED_MAX] = '\0';
		ok(dz_sign_buf(&key1, bank, BANK_LEN, big, &sig, &e) == 0 &&
		    dz_sign_verify(&pub1, bank, BANK_LEN, sig, strlen(sig),
		    &tc, &e) == 0 && tc && strcmp(tc, big) == 0,
		    "a trusted comment of %d bytes round-trips",
		    DZ_SIGN_TRUSTED_MAX);
		free(tc);
		free(sig);
		big[DZ_SIGN_TRUSTED_MAX] = 'c';
		big[DZ_SIGN_TRUSTED_MAX + 1] = '\0';
		ok(dz_sign_buf(&key1, bank, BANK_LEN, big, &sig, &e) == -1 &&
		    e.code == EX_DATAERR && sig == NULL,
		    "sign: refuses a longer trusted comment (%s)", e.msg);
		free(big);
	}
	ok(dz_sign_buf(&key1, bank, BANK_LEN, "a\nb", &sig, &e) == -1 &&
	    e.code == EX_DATAERR && sig == NULL &&
	    strstr(e.msg, "single line"),
	    "sign: refuses a trusted comment with a newline (%s)", e.msg);
	ok(dz_sign_buf(&key1, bank, BANK_LEN, "a\rb", &sig, &e) == -1 &&
	    e.code == EX_DATAERR && sig == NULL,
	    "sign: refuses a trusted comment with a carriage return");
	{
		struct dz_sign_key none = { 0 };
		ok(dz_sign_buf(&none, bank, BANK_LEN, "x", &sig, &e) == -1 &&
		    sig == NULL, "sign: refuses a key that was not loaded");
	}

	/* A large buffer. */
	{
		size_t big = 3u << 20;
		uint8_t *d = xmalloc(big);
		for (size_t i = 0; i < big; i++)
			d[i] = (uint8_t)(i * 2654435761u >> 13);
		ok(dz_sign_buf(&key2, d, big, "3 MiB", &sig, &e) == 0 &&
		    verify_text(&pub2, d, big, sig, &e) == 0,
		    "3 MiB of data round-trips");
		d[big - 1] ^= 1;
		ok(fails_with(verify_text(&pub2, d, big, sig, &e), &e,
		    "signature does not match the data"),
		    "3 MiB of data with its last bit flipped fails");
		free(sig);
		free(d);
	}
}

/* Replace line k (0..3) of sig with repl; returns a malloc'd copy. */
static char *
with_line(const char *sig, int k, const char *repl)
{
	char *out = xmalloc(strlen(sig) + strlen(repl) + 2), l[9000];
	size_t o = 0;

	for (int i = 0; i < 4; i++) {
		const char *s = i == k ? repl : (nth_line(sig, i, l, sizeof l),
		    l);
		memcpy(out + o, s, strlen(s));
		o += strlen(s);
		out[o++] = '\n';
	}
	out[o] = '\0';
	return out;
}

/* l gets a line of n bytes: prefix, then c repeated, and a NUL. */
static void
long_line(char *l, const char *prefix, char c, size_t n)
{
	memset(l, c, n);
	memcpy(l, prefix, strlen(prefix));
	l[n] = '\0';
}

/*
 * sig with its line k replaced by line is refused (under pub1, for the
 * bank) with a message starting with want, left in *e.
 */
static int
line_refused(const char *sig, int k, const char *line, struct dz_err *e,
    const char *want)
{
	char *bad = with_line(sig, k, line);
	int r = fails_with(verify_text(&pub1, bank, BANK_LEN, bad, e), e,
	    want);

	free(bad);
	return r;
}

/* sig with the bytes of its line 2 changed by f and re-encoded. */
static char *
with_blob(const char *sig, void (*f)(uint8_t *))
{
	char l[200], b[101];
	uint8_t blob[80];

	if (nth_line(sig, 1, l, sizeof l) ||
	    ossl_b64(l, strlen(l), blob, sizeof blob) != 74)
		bail_out("with_blob");
	f(blob);
	ossl_b64_encode(blob, 74, b);
	return with_line(sig, 1, b);
}

static void flip_sig(uint8_t *b) { b[10 + 17] ^= 0x20; }
static void flip_id(uint8_t *b) { b[2] ^= 1; }
static void alg_ex(uint8_t *b) { b[1] = 'x'; }
static void alg_legacy(uint8_t *b) { b[1] = 'd'; }

static void
test_tamper(void)
{
	struct dz_err e;
	char *sig, *bad, l[200];
	uint8_t d[BANK_LEN];

	if (dz_sign_buf(&key1, bank, BANK_LEN, "bank v1", &sig, &e))
		bail_out("sign");

	/* The data. */
	for (size_t i = 0; i < BANK_LEN; i += BANK_LEN / 3) {
		memcpy(d, bank, BANK_LEN);
		d[i] ^= 1;
		ok(fails_with(verify_text(&pub1, d, BANK_LEN, sig, &e), &e,
		    "signature does not match the data"),
		    "tampered data (byte %zu) fails: %s", i, e.msg);
	}
	memcpy(d, bank, BANK_LEN);
	d[BANK_LEN - 1] ^= 0x80;
	ok(fails_with(verify_text(&pub1, d, BANK_LEN, sig, &e), &e,
	    "signature does not match the data"), "tampered last byte fails");
	ok(fails_with(verify_text(&pub1, bank, BANK_LEN - 1, sig, &e), &e,
	    "signature does not match the data"), "truncated data fails");
	ok(fails_with(verify_text(&pub1, bank, BANK_LEN + 1, sig, &e), &e,
	    "signature does not match the data"),
	    "data with a byte appended fails");

	/* The signature. */
	bad = with_blob(sig, flip_sig);
	ok(fails_with(verify_text(&pub1, bank, BANK_LEN, bad, &e), &e,
	    "signature does not match the data"),
	    "tampered signature fails: %s", e.msg);
	free(bad);
	nth_line(sig, 3, l, sizeof l);
	l[10] = l[10] == 'A' ? 'B' : 'A';
	ok(line_refused(sig, 3, l, &e,
	    "trusted comment was tampered with"),
	    "tampered global signature fails: %s", e.msg);

	/* The trusted comment. */
	bad = with_line(sig, 2, "trusted comment: bank v2");
	ok(fails_with(verify_text(&pub1, bank, BANK_LEN, bad, &e), &e,
	    "trusted comment was tampered with"),
	    "tampered trusted comment fails: %s", e.msg);
	free(bad);
	bad = with_line(sig, 2, "trusted comment: bank v1 ");
	ok(fails_with(verify_text(&pub1, bank, BANK_LEN, bad, &e), &e,
	    "trusted comment was tampered with"),
	    "trusted comment with a space appended fails");
	free(bad);
	bad = with_line(sig, 2, "trusted comment: ");
	ok(fails_with(verify_text(&pub1, bank, BANK_LEN, bad, &e), &e,
	    "trusted comment was tampered with"),
	    "emptied trusted comment fails");
	free(bad);

	/* The untrusted comment is not signed: changing it is fine. */
	bad = with_line(sig, 0, "untrusted comment: anything at all");
	ok(verify_text(&pub1, bank, BANK_LEN, bad, &e) == 0,
	    "the untrusted comment is not covered (as in minisign)");
	free(bad);

	/* Keys. */
	ok(fails_with(verify_text(&pub2, bank, BANK_LEN, sig, &e), &e,
	    "signature was made with another key (key id "),
	    "another key pair: refused by key id: %s", e.msg);
	{
		char a[17], b[17], want[120];
		dz_sign_keyid_hex(pub1.id, a);
		dz_sign_keyid_hex(pub2.id, b);
		snprintf(want, sizeof want, "signature was made with another "
		    "key (key id %s, expected %s)", a, b);
		ok(strcmp(e.msg, want) == 0, "the message names both key ids");
	}
	{
		struct dz_sign_pub same_id = pub2;
		memcpy(same_id.id, pub1.id, 8);
		ok(fails_with(verify_text(&same_id, bank, BANK_LEN, sig, &e),
		    &e, "signature does not match the data"),
		    "another public key under the same key id fails the "
		    "signature: %s", e.msg);
	}
	bad = with_blob(sig, flip_id);
	ok(fails_with(verify_text(&pub1, bank, BANK_LEN, bad, &e), &e,
	    "signature was made with another key"),
	    "key id in the signature changed: refused");
	free(bad);

	/* Algorithm confusion: an "ED" signature relabelled "Ed". */
	bad = with_blob(sig, alg_legacy);
	ok(fails_with(verify_text(&pub1, bank, BANK_LEN, bad, &e), &e,
	    "signature does not match the data"),
	    "a prehashed signature relabelled legacy fails");
	free(bad);
	bad = with_blob(sig, alg_ex);
	ok(fails_with(verify_text(&pub1, bank, BANK_LEN, bad, &e), &e,
	    "malformed signature file: unsupported signature algorithm"),
	    "an unknown algorithm is refused: %s", e.msg);
	free(bad);
	free(sig);
}

/* dz_sign_verify_comment: the checks of dz_sign_verify but the data's. */
static void
test_comment_only(void)
{
	struct dz_err e;
	char *sig, *bad, *tc = NULL, l[200];

	if (dz_sign_buf(&key1, bank, BANK_LEN, "bank v1", &sig, &e))
		bail_out("sign");
	ok(dz_sign_verify_comment(&pub1, sig, strlen(sig), &tc, &e) == 0 &&
	    tc && strcmp(tc, "bank v1") == 0,
	    "comment only: a good signature gives its trusted comment");
	free(tc);
	tc = NULL;
	bad = with_blob(sig, flip_sig);
	ok(fails_with(dz_sign_verify_comment(&pub1, bad, strlen(bad), &tc,
	    &e), &e, "trusted comment was tampered with") && !tc,
	    "comment only: the data signature is covered by the global one: "
	    "%s", e.msg);
	free(bad);
	bad = with_line(sig, 2, "trusted comment: bank v2");
	ok(fails_with(dz_sign_verify_comment(&pub1, bad, strlen(bad), &tc,
	    &e), &e, "trusted comment was tampered with") && !tc,
	    "comment only: a tampered trusted comment fails");
	free(bad);
	nth_line(sig, 3, l, sizeof l);
	l[10] = l[10] == 'A' ? 'B' : 'A';
	bad = with_line(sig, 3, l);
	ok(fails_with(dz_sign_verify_comment(&pub1, bad, strlen(bad), NULL,
	    &e), &e, "trusted comment was tampered with"),
	    "comment only: a tampered global signature fails");
	free(bad);
	ok(fails_with(dz_sign_verify_comment(&pub2, sig, strlen(sig), NULL,
	    &e), &e, "signature was made with another key (key id "),
	    "comment only: another key is refused by key id");
	ok(fails_with(dz_sign_verify_comment(&pub1, sig, 20, NULL, &e), &e,
	    "malformed signature file: "),
	    "comment only: a truncated signature file is malformed: %s",
	    e.msg);
	free(sig);
}

static void
test_legacy(void)
{
	struct dz_err e;
	char *sig, *tc = NULL, *bad;
	uint8_t d[BANK_LEN];

	sig = handmade_sig(key1.pkey, pub1.id, "Ed", bank, BANK_LEN,
	    "legacy bank");
	ok(dz_sign_verify(&pub1, bank, BANK_LEN, sig, strlen(sig), &tc,
	    &e) == 0 && tc && strcmp(tc, "legacy bank") == 0,
	    "legacy \"Ed\" signature over the raw data verifies");
	free(tc);
	memcpy(d, bank, BANK_LEN);
	d[5] ^= 4;
	ok(fails_with(verify_text(&pub1, d, BANK_LEN, sig, &e), &e,
	    "signature does not match the data"),
	    "legacy signature: tampered data fails");
	bad = with_line(sig, 2, "trusted comment: legacy bank!");
	ok(fails_with(verify_text(&pub1, bank, BANK_LEN, bad, &e), &e,
	    "trusted comment was tampered with"),
	    "legacy signature: tampered trusted comment fails");
	free(bad);
	{
		/* "Ed" relabelled "ED" must not pass either. */
		char l[200], b[101];
		uint8_t blob[80];
		nth_line(sig, 1, l, sizeof l);
		ossl_b64(l, strlen(l), blob, sizeof blob);
		blob[1] = 'D';
		ossl_b64_encode(blob, 74, b);
		ok(line_refused(sig, 1, b, &e,
		    "signature does not match the data"),
		    "a legacy signature relabelled prehashed fails");
	}
	free(sig);

	/* A hand-made "ED" signature agrees with ours byte for byte. */
	sig = handmade_sig(key1.pkey, pub1.id, "ED", bank, BANK_LEN, "v");
	{
		char *ours = NULL, a[200], b[200];
		int same = dz_sign_buf(&key1, bank, BANK_LEN, "v", &ours,
		    &e) == 0;
		for (int i = 1; i < 4 && same; i++)
			same = nth_line(sig, i, a, sizeof a) == 0 &&
			    nth_line(ours, i, b, sizeof b) == 0 &&
			    strcmp(a, b) == 0;
		ok(same, "lines 2-4 equal an independently built signature");
		free(ours);
	}
	free(sig);
}

static void
test_malformed(void)
{
	struct dz_err e;
	char *sig, *bad, l[9000];
	size_t len;
	int all = 1, crash_free = 1;

	if (dz_sign_buf(&key1, bank, BANK_LEN, "bank v1", &sig, &e))
		bail_out("sign");
	len = strlen(sig);

	/* Every truncation fails, except dropping the very last newline. */
	for (size_t n = 0; n + 1 < len; n++) {
		char *cut = xmalloc(n + 1);	/* exact size: ASan sees overruns */
		memcpy(cut, sig, n);
		if (dz_sign_verify(&pub1, bank, BANK_LEN, cut, n, NULL, &e) !=
		    -1 || e.code != EX_DATAERR)
			all = 0;
		free(cut);
	}
	ok(all, "every truncation of the signature file is refused");
	ok(dz_sign_verify(&pub1, bank, BANK_LEN, sig, len - 1, NULL, &e) == 0,
	    "a missing final newline is accepted (as in minisign)");
	ok(fails_with(dz_sign_verify(&pub1, bank, BANK_LEN, NULL, 0, NULL, &e),
	    &e, "malformed signature file: empty"), "NULL text is refused");

	/* CRLF line ends (a file through a Windows mail client). */
	{
		char *crlf = xmalloc(2 * len + 1);
		size_t o = 0;
		for (size_t i = 0; i < len; i++) {
			if (sig[i] == '\n')
				crlf[o++] = '\r';
			crlf[o++] = sig[i];
		}
		char *tc = NULL;
		ok(dz_sign_verify(&pub1, bank, BANK_LEN, crlf, o, &tc,
		    &e) == 0 && tc && strcmp(tc, "bank v1") == 0,
		    "CRLF line ends are accepted, the CR is not in the comment");
		free(tc);
		free(crlf);
	}

	/* Extra lines. */
	{
		static const char *tails[] = { "\n", "extra\n", "x", " ",
			"untrusted comment: again\n" };
		for (size_t i = 0; i < sizeof tails / sizeof *tails; i++) {
			bad = xmalloc(len + strlen(tails[i]) + 1);
			memcpy(bad, sig, len);
			strcpy(bad + len, tails[i]);
			ok(fails_with(verify_text(&pub1, bank, BANK_LEN, bad,
			    &e), &e, "malformed signature file: "),
			    "extra data after the signature is refused (%zu): "
			    "%s", i, e.msg);
			free(bad);
		}
		bad = xmalloc(2 * len + 1);
		memcpy(bad, sig, len);
		memcpy(bad + len, sig, len + 1);
		ok(fails_with(verify_text(&pub1, bank, BANK_LEN, bad, &e), &e,
		    "malformed signature file: extra data"),
		    "two signatures in one file are refused");
		free(bad);
	}

	/* Bad base64 and wrong prefixes. */
	{
		struct { int line; const char *text, *what; } cases[] = {
			{ 0, "untrusted comment:no space", "no untrusted "
			    "comment prefix" },
			{ 0, "Untrusted comment: x", "capitalised prefix" },
			{ 2, "trusted comment:bank v1", "no trusted comment "
			    "prefix" },
			{ 2, "untrusted comment: bank v1", "an untrusted line "
			    "for the trusted one" },
			{ 1, "", "empty signature line" },
			{ 3, "", "empty global signature line" },
			{ 1, "RUQ=", "short signature line" },
		};
		for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
			bad = with_line(sig, cases[i].line, cases[i].text);
			ok(fails_with(verify_text(&pub1, bank, BANK_LEN, bad,
			    &e), &e, "malformed signature file: "),
			    "refused: %s (%s)", cases[i].what, e.msg);
			free(bad);
		}
	}
	{
		/* Base64 damage on line 2 (100 chars, one '='). */
		char orig[200];
		nth_line(sig, 1, orig, sizeof orig);
		struct { int pos; char c; const char *what; } dmg[] = {
			{ 0, '*', "a character outside the alphabet" },
			{ 50, ' ', "a space" },
			{ 50, '-', "the URL-safe alphabet" },
			{ 99, 'A', "padding replaced" },
			{ 98, '=', "too much padding" },
		};
		for (size_t i = 0; i < sizeof dmg / sizeof *dmg; i++) {
			snprintf(l, sizeof l, "%s", orig);
			l[dmg[i].pos] = dmg[i].c;
			bad = with_line(sig, 1, l);
			ok(fails_with(verify_text(&pub1, bank, BANK_LEN, bad,
			    &e), &e, "malformed signature file: bad "
			    "signature line"), "refused: %s", dmg[i].what);
			free(bad);
		}
		/* 74 bytes: the last quantum holds 2 bytes, 2 spare bits. */
		snprintf(l, sizeof l, "%s", orig);
		{
			static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz0123456789+/";
			size_t v = (size_t)(strchr(abc, l[98]) - abc);
			l[98] = abc[v ^ 1];	/* flip a spare bit only */
		}
		{
			uint8_t a[80], b[80];
			int same = ossl_b64(l, 100, a, 80) == 74 &&
			    ossl_b64(orig, 100, b, 80) == 74 &&
			    memcmp(a, b, 74) == 0;
			bad = with_line(sig, 1, l);
			ok(same && fails_with(verify_text(&pub1, bank, BANK_LEN,
			    bad, &e), &e, "malformed signature file: bad "
			    "signature line"), "refused: non-canonical "
			    "base64 that decodes to the same bytes");
			free(bad);
		}
		snprintf(l, sizeof l, "%s", orig);
		l[99] = '\0';
		ok(line_refused(sig, 1, l, &e,
		    "malformed signature file: bad signature line"),
		    "refused: padding dropped");
		snprintf(l, sizeof l, "%sAAAA", orig);
		ok(line_refused(sig, 1, l, &e,
		    "malformed signature file: "),
		    "refused: too long");
	}

	/* NUL and CR inside, over-long lines. */
	{
		char *tc = strstr(sig, "bank v1");
		bad = xstrdup(sig);
		bad[tc - sig + 4] = '\0';
		ok(fails_with(dz_sign_verify(&pub1, bank, BANK_LEN, bad, len,
		    NULL, &e), &e, "malformed signature file: NUL byte"),
		    "refused: a NUL byte in the trusted comment");
		bad[tc - sig + 4] = '\r';
		ok(fails_with(verify_text(&pub1, bank, BANK_LEN, bad, &e), &e,
		    "malformed signature file: "),
		    "refused: a CR inside the trusted comment");
		free(bad);
	}
	long_line(l, "untrusted comment: ", 'u', 1100);
	ok(line_refused(sig, 0, l, &e,
	    "malformed signature file: untrusted comment too long"),
	    "refused: an untrusted comment minisign would not read");
	l[1022] = '\0';
	bad = with_line(sig, 0, l);
	ok(verify_text(&pub1, bank, BANK_LEN, bad, &e) == 0,
	    "accepted: an untrusted comment line of 1022 bytes");
	free(bad);
	long_line(l, "trusted comment: ", 't', 8900);
	ok(line_refused(sig, 2, l, &e,
	    "malformed signature file: trusted comment too long"),
	    "refused: an over-long trusted comment");

	/* Random damage never crashes and never passes outside line 1. */
	{
		uint32_t x = 2463534242u;
		size_t line1 = strchr(sig, '\n') - sig;
		int passed_bad = 0;
		for (int i = 0; i < 20000; i++) {
			char *m = xmalloc(len);
			memcpy(m, sig, len);
			int k = 1 + i % 3;
			size_t lowest = len;
			for (int j = 0; j < k; j++) {
				x ^= x << 13; x ^= x >> 17; x ^= x << 5;
				size_t p = x % len;
				char c = (char)(x >> 24);
				if (m[p] == c)
					continue;
				m[p] = c;
				if (p < lowest)
					lowest = p;
			}
			int rc = dz_sign_verify(&pub1, bank, BANK_LEN, m, len,
			    NULL, &e);
			if (rc == -1 && e.code != EX_DATAERR)
				crash_free = 0;
			/* changed somewhere past line 1 and still accepted */
			if (rc == 0 && lowest < len) {
				int only_line1 = 1;
				for (size_t q = line1; q < len; q++)
					if (m[q] != sig[q])
						only_line1 = 0;
				if (!only_line1)
					passed_bad++;
			}
			free(m);
		}
		ok(crash_free, "20000 random mutations: every refusal is "
		    "EX_DATAERR");
		ok(passed_bad == 0, "20000 random mutations: none outside the "
		    "untrusted comment is accepted (%d were)", passed_bad);
	}
	free(sig);
}

static void
test_pub_parse(void)
{
	struct dz_err e;
	struct dz_sign_pub p;
	char *text, line[200], *t2;
	size_t len;
	char pk[4200];

	text = slurp(path(pk, sizeof pk, "a.pub"), &len);
	if (!text)
		bail_out("slurp a.pub");
	nth_line(text, 1, line, sizeof line);
	ok(dz_sign_pub_parse(line, strlen(line), &p, &e) == 0 &&
	    memcmp(&p, &pub1, sizeof p) == 0,
	    "pub: a bare base64 line (minisign -P) parses");
	strcat(line, "\n");
	ok(dz_sign_pub_parse(line, strlen(line), &p, &e) == 0,
	    "pub: a bare line with a newline parses");
	line[strlen(line) - 1] = '\0';
	strcat(line, "\r\n");
	ok(dz_sign_pub_parse(line, strlen(line), &p, &e) == 0,
	    "pub: a bare line with CRLF parses");
	ok(dz_sign_pub_parse(text, len - 1, &p, &e) == 0,
	    "pub: a file without its final newline parses");
	{
		char *two = xmalloc(2 * len + 1);
		memcpy(two, text, len);
		memcpy(two + len, text, len + 1);
		ok(fails_with(dz_sign_pub_parse(two, 2 * len, &p, &e), &e,
		    "malformed public key: extra data"),
		    "pub: two keys in one file are refused");
		free(two);
	}
	ok(fails_with(dz_sign_pub_parse(text, strchr(text, '\n') - text + 1,
	    &p, &e), &e, "malformed public key: no key"),
	    "pub: a comment without a key is refused");
	ok(fails_with(dz_sign_pub_parse("", 0, &p, &e), &e,
	    "malformed public key: empty"), "pub: empty text is refused");
	ok(fails_with(dz_sign_pub_parse("comment\nRWQ=\n", 13, &p, &e), &e,
	    "malformed public key: "), "pub: a first line that is not a "
	    "comment is refused (%s)", e.msg);
	nth_line(text, 1, line, sizeof line);
	line[55] = '\0';
	ok(fails_with(dz_sign_pub_parse(line, 55, &p, &e), &e,
	    "malformed public key: bad key line"),
	    "pub: a key line one character short is refused");
	nth_line(text, 1, line, sizeof line);
	{
		uint8_t b[64];
		char enc[80];
		ossl_b64(line, 56, b, sizeof b);
		b[0] = 'E';
		b[1] = 'D';
		ossl_b64_encode(b, 42, enc);
		ok(fails_with(dz_sign_pub_parse(enc, 56, &p, &e), &e,
		    "malformed public key: unsupported signature algorithm"),
		    "pub: an algorithm other than \"Ed\" is refused");
	}
	line[20] = '!';
	ok(fails_with(dz_sign_pub_parse(line, 56, &p, &e), &e,
	    "malformed public key: bad key line"),
	    "pub: bad base64 is refused");
	{
		char nul[60];
		nth_line(text, 1, nul, sizeof nul);
		nul[10] = '\0';
		ok(fails_with(dz_sign_pub_parse(nul, 56, &p, &e), &e,
		    "malformed public key: NUL"),
		    "pub: a NUL byte is refused");
	}
	/* Every truncation of the file but the last newline is refused. */
	{
		int all = 1;
		for (size_t n = 0; n + 1 < len; n++) {
			char *cut = xmalloc(n + 1);
			memcpy(cut, text, n);
			if (dz_sign_pub_parse(cut, n, &p, &e) != -1)
				all = 0;
			free(cut);
		}
		ok(all, "pub: every truncation of the file is refused");
	}
	ok(dz_sign_pub_format(&pub1, "a\nb", &t2, &e) == -1 && t2 == NULL,
	    "pub format: refuses a two-line comment");
	ok(dz_sign_pub_format(&pub1, "for partner X", &t2, &e) == 0 &&
	    strncmp(t2, "untrusted comment: for partner X\n", 33) == 0 &&
	    dz_sign_pub_parse(t2, strlen(t2), &p, &e) == 0 &&
	    memcmp(&p, &pub1, sizeof p) == 0,
	    "pub format: a comment of our own, parses back");
	free(t2);
	free(text);

	/* Loading: missing, not a regular file, too big. */
	ok(dz_sign_pub_load(path(pk, sizeof pk, "none.pub"), &p, &e) == -1 &&
	    e.code == EX_NOINPUT, "pub load: a missing file is EX_NOINPUT");
	ok(dz_sign_pub_load(dir, &p, &e) == -1 && e.code == EX_DATAERR,
	    "pub load: a directory is refused");
	{
		char *big = xmalloc(5000);
		memset(big, 'a', 5000);
		spew(path(pk, sizeof pk, "big.pub"), big, 5000, 0644);
		ok(fails_with(dz_sign_pub_load(pk, &p, &e), &e,
		    "malformed public key: "), "pub load: a big file is "
		    "refused");
		unlink(pk);
		free(big);
	}
}

static void
test_key_file(void)
{
	struct dz_err e;
	struct dz_sign_key k;
	char sk[4200], p[4200], *text;
	size_t len;

	path(sk, sizeof sk, "a.key");
	text = slurp(sk, &len);
	if (!text)
		bail_out("slurp a.key");

	ok(chmod(sk, 0644) == 0 && dz_sign_key_load(sk, &k, &e) == -1 &&
	    e.code == EX_CONFIG && k.pkey == NULL,
	    "key load: mode 0644 refused (%s)", e.msg);
	ok(chmod(sk, 0640) == 0 && dz_sign_key_load(sk, &k, &e) == -1 &&
	    e.code == EX_CONFIG, "key load: mode 0640 refused");
	ok(chmod(sk, 0602) == 0 && dz_sign_key_load(sk, &k, &e) == -1 &&
	    e.code == EX_CONFIG, "key load: mode 0602 refused");
	ok(chmod(sk, 0400) == 0 && dz_sign_key_load(sk, &k, &e) == 0,
	    "key load: mode 0400 accepted");
	dz_sign_key_release(&k);
	dz_sign_key_release(&k);
	ok(k.pkey == NULL, "key release: twice is harmless");
	chmod(sk, 0600);

	ok(symlink("a.key", path(p, sizeof p, "link.key")) == 0 &&
	    dz_sign_key_load(p, &k, &e) == -1 && e.code == EX_CONFIG &&
	    strstr(e.msg, "symlink"), "key load: a symlink refused (%s)",
	    e.msg);
	unlink(p);
	ok(dz_sign_key_load(path(p, sizeof p, "none.key"), &k, &e) == -1 &&
	    e.code == EX_NOINPUT, "key load: a missing file is EX_NOINPUT");
	ok(dz_sign_key_load(dir, &k, &e) == -1 && e.code == EX_CONFIG,
	    "key load: a directory refused");
	ok(mkfifo(path(p, sizeof p, "fifo.key"), 0600) == 0 &&
	    dz_sign_key_load(p, &k, &e) == -1 && e.code == EX_CONFIG,
	    "key load: a FIFO refused without waiting");
	unlink(p);

	/* Content. */
	struct { const char *what; char *text; size_t len; } bad[8];
	int nb = 0;
	bad[nb].what = "empty";
	bad[nb].text = xstrdup("");
	bad[nb++].len = 0;
	bad[nb].what = "truncated";
	bad[nb].text = xstrdup(text);
	bad[nb++].len = len - 10;
	bad[nb].what = "trailing garbage";
	bad[nb].text = xmalloc(len + 2);
	memcpy(bad[nb].text, text, len);
	memcpy(bad[nb].text + len, "x", 2);
	bad[nb++].len = len + 1;
	bad[nb].what = "another magic";
	bad[nb].text = xstrdup(text);
	bad[nb].text[20] = '2';
	bad[nb++].len = len;
	bad[nb].what = "bad base64";
	bad[nb].text = xstrdup(text);
	bad[nb].text[40] = '*';
	bad[nb++].len = len;
	bad[nb].what = "a minisign secret key";
	bad[nb].text = xstrdup("untrusted comment: minisign secret key\n");
	bad[nb].len = strlen(bad[nb].text);
	nb++;
	{
		/* A public key that is not the seed's: flip a bit and re-encode. */
		uint8_t blob[80];
		char enc[100];
		ossl_b64(text + 23, 96, blob, sizeof blob);
		blob[71] ^= 1;
		ossl_b64_encode(blob, 72, enc);
		bad[nb].what = "public key not the seed's";
		bad[nb].text = xmalloc(len + 1);
		memcpy(bad[nb].text, text, 23);
		memcpy(bad[nb].text + 23, enc, 96);
		memcpy(bad[nb].text + 119, "\n", 2);
		bad[nb++].len = len;
	}
	for (int i = 0; i < nb; i++) {
		path(p, sizeof p, "bad.key");
		spew(p, bad[i].text, bad[i].len, 0600);
		ok(dz_sign_key_load(p, &k, &e) == -1 && e.code == EX_CONFIG &&
		    k.pkey == NULL, "key load: refused: %s (%s)", bad[i].what,
		    e.msg);
		unlink(p);
		free(bad[i].text);
	}
	spew(p, text, len - 1, 0600);
	ok(dz_sign_key_load(p, &k, &e) == 0 &&
	    memcmp(&k.pub, &pub1, sizeof pub1) == 0,
	    "key load: accepted without its final newline");
	dz_sign_key_release(&k);
	unlink(p);
	free(text);
}

int
main(void)
{
	scratch_dir(dir, sizeof dir, "dz-sign");
	atexit(cleanup);

	test_keyid_hex();
	test_keygen();
	if (!key1.pkey || !key2.pkey) {
		printf("Bail out! no keys to test with\n");
		return 1;
	}
	test_roundtrip();
	test_sig_keyid();
	test_tamper();
	test_comment_only();
	test_legacy();
	test_malformed();
	test_pub_parse();
	test_key_file();

	dz_sign_key_release(&key1);
	dz_sign_key_release(&key2);
	cleanup();
	return tap_done();
}
