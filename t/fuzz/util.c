/*
 * t/fuzz/util.c: helpers for the harnesses, see fuzz.h.
 */
#define _GNU_SOURCE		/* memfd_create */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "crypto/sign.h"

#include "fuzz.h"

const uint8_t fz_test_key[FZ_KEY_BYTES] = {
	0x64, 0x7a, 0x2d, 0x66, 0x75, 0x7a, 0x7a, 0x2d,
	0x74, 0x65, 0x73, 0x74, 0x2d, 0x6b, 0x65, 0x79,
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};

/* The Ed25519 seed of the test signing key, and its key id. */
static const uint8_t sign_seed[32] = {
	0x64, 0x7a, 0x2d, 0x66, 0x75, 0x7a, 0x7a, 0x2d,
	0x73, 0x69, 0x67, 0x6e, 0x2d, 0x6b, 0x65, 0x79,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};
static const uint8_t sign_id[DZ_SIGN_KEYID_BYTES] = {
	0xf0, 0x22, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01
};

void
fz_test_sign_key(struct dz_sign_key *key)
{
	size_t len = DZ_SIGN_PUBLIC_BYTES;

	memset(key, 0, sizeof *key);
	key->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
	    sign_seed, sizeof sign_seed);
	if (!key->pkey || EVP_PKEY_get_raw_public_key(key->pkey,
	    key->pub.pk, &len) != 1 || len != DZ_SIGN_PUBLIC_BYTES)
		fz_fail("cannot make the test signing key");
	memcpy(key->pub.id, sign_id, sizeof sign_id);
}

void
fz_test_sign_pub(struct dz_sign_pub *pub)
{
	struct dz_sign_key key;

	fz_test_sign_key(&key);
	*pub = key.pub;
	dz_sign_key_release(&key);
}

static int memfd = -1;
static char mempath[64];

void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz harness: %s\n", what);
	abort();
}

const char *
fz_memfile(const uint8_t *data, size_t size)
{
	size_t off = 0;

	if (memfd < 0) {
		if ((memfd = memfd_create("dz-fuzz", MFD_CLOEXEC)) < 0)
			fz_fail("memfd_create failed");
		snprintf(mempath, sizeof mempath, "/proc/self/fd/%d", memfd);
	}
	if (ftruncate(memfd, 0) != 0)
		fz_fail("ftruncate failed");
	while (off < size) {
		ssize_t n = pwrite(memfd, data + off, size - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fz_fail("cannot write the memory file");
		off += (size_t)n;
	}
	if (lseek(memfd, 0, SEEK_SET) != 0)
		fz_fail("lseek failed");
	return mempath;
}

int
fz_memfile_fd(void)
{
	if (memfd < 0 || lseek(memfd, 0, SEEK_SET) != 0)
		fz_fail("no memory file");
	return memfd;
}

char *
fz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		fz_fail("out of memory");
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}
