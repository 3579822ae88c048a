/*
 * t/fuzz/seedtool: makes the seeds of the blob and bank harnesses that
 * need the fixed test keys of t/fuzz/util.c. Used by scripts/fuzz-seeds;
 * not a test.
 *
 *   seedtool blob OUT < PLAINTEXT	a blob under the test key (lib/crypto/crypt)
 *   seedtool seal OUT < PLAINTEXT	a sealed field under the test key
 *   seedtool sign FILE OUT COMMENT	OUT: FILE's minisign signature by the
 *					test signing key, with that trusted
 *					comment
 *   seedtool comment BANK		the trusted comment of a bank file
 *
 * Failures print "seedtool: <reason>" and exit 1.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bank/bank.h"
#include "crypto/blob.h"
#include "crypto/crypt.h"
#include "core/err.h"
#include "core/fdio.h"
#include "core/input.h"
#include "crypto/sign.h"

#include "fuzz.h"

static int
die(const char *what, const struct dz_err *err)
{
	fprintf(stderr, "seedtool: %s%s%s\n", what, err ? ": " : "",
	    err ? err->msg : "");
	return 1;
}

static int
slurp(const char *path, uint8_t **buf, size_t *len, struct dz_err *err)
{
	return dz_file_read(path, 1u << 26, buf, len, err);
}

static int
out_open(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

static int
blob(const char *out)
{
	struct dz_err err;
	struct dz_blob_writer *w;
	uint8_t *buf;
	size_t len;
	int fd;

	if (slurp("-", &buf, &len, &err))
		return die("cannot read stdin", &err);
	if ((fd = out_open(out)) < 0)
		return die("cannot create the blob", NULL);
	if (!(w = dz_blob_writer_new(fd, fz_test_key, &err)) ||
	    dz_blob_write(w, buf, len, &err) ||
	    dz_blob_writer_finish(w, &err))
		return die("cannot write the blob", &err);
	dz_blob_writer_free(w);
	free(buf);
	return close(fd) ? die("cannot write the blob", NULL) : 0;
}

static int
seal(const char *out)
{
	struct dz_err err;
	char aad[DZ_AAD_MAX];
	uint8_t *buf, *sealed;
	size_t len;
	int fd;

	if (slurp("-", &buf, &len, &err))
		return die("cannot read stdin", &err);
	if (!(sealed = malloc(len + DZ_SEAL_OVERHEAD)))
		return die("out of memory", NULL);
	dz_crypt_aad(aad, "contact", "00000000000000000000000000000001");
	if (dz_crypt_seal(fz_test_key, aad, buf, len, sealed, &err))
		return die("cannot seal", &err);
	if ((fd = out_open(out)) < 0 ||
	    dz_fd_write_full(fd, sealed, len + DZ_SEAL_OVERHEAD) ||
	    close(fd))
		return die("cannot write the sealed field", NULL);
	free(sealed);
	free(buf);
	return 0;
}

static int
sign(const char *file, const char *out, const char *comment)
{
	struct dz_sign_key key;
	struct dz_err err;
	uint8_t *buf;
	size_t len;
	char *sig;
	int fd;

	if (slurp(file, &buf, &len, &err))
		return die("cannot read the file to sign", &err);
	fz_test_sign_key(&key);
	if (dz_sign_buf(&key, buf, len, comment, &sig, &err))
		return die("cannot sign", &err);
	if ((fd = out_open(out)) < 0 ||
	    dz_fd_write_full(fd, sig, strlen(sig)) || close(fd))
		return die("cannot write the signature", NULL);
	dz_sign_key_release(&key);
	free(sig);
	free(buf);
	return 0;
}

static int
comment(const char *path)
{
	struct dz_bank *b;
	struct dz_err err;
	char *c;

	if (dz_bank_load(path, 0, &b, &err) || dz_bank_comment(b, &c, &err))
		return die("cannot read the bank", &err);
	printf("%s\n", c);
	free(c);
	dz_bank_free(b);
	return fflush(stdout) || ferror(stdout) ?
	    die("cannot write", NULL) : 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "blob"))
		return blob(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "seal"))
		return seal(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "sign"))
		return sign(argv[2], argv[3], argv[4]);
	if (argc == 3 && !strcmp(argv[1], "comment"))
		return comment(argv[2]);
	fprintf(stderr, "usage: seedtool blob|seal OUT < PLAINTEXT\n"
	    "       seedtool sign FILE OUT COMMENT\n"
	    "       seedtool comment BANK\n");
	return 64;
}
