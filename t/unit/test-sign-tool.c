/*
 * t/unit/test-sign-tool: lib/crypto/sign from the shell, so t/0041-sign.t can
 * cross-check it with the real minisign tool. Not a test by itself.
 *
 *   test-sign-tool keygen SECKEY PUBKEY [COMMENT]
 *   test-sign-tool sign SECKEY FILE SIGFILE [TRUSTED_COMMENT]
 *   test-sign-tool verify PUBKEY_FILE FILE SIGFILE
 *   test-sign-tool verify-P PUBKEY_BASE64 FILE SIGFILE
 *
 * verify prints the trusted comment on stdout. Failures print
 * "test-sign-tool: <reason>" on stderr and exit with lib's sysexits code.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "crypto/sign.h"
#include "util.h"

static const char usage[] =
    "usage: test-sign-tool keygen SECKEY PUBKEY [COMMENT]\n"
    "       test-sign-tool sign SECKEY FILE SIGFILE [TRUSTED_COMMENT]\n"
    "       test-sign-tool verify PUBKEY_FILE FILE SIGFILE\n"
    "       test-sign-tool verify-P PUBKEY_BASE64 FILE SIGFILE\n";

static int
fail(const struct dz_err *e)
{
	return tool_fail("test-sign-tool", e);
}

/* The whole of file p, malloc'd (at most 64 MiB); NULL with errno. */
static uint8_t *
slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, k;

	if (!f)
		return NULL;
	do {
		if (n == cap) {
			uint8_t *nb;
			cap = cap ? 2 * cap : 65536;
			if (cap > (64u << 20) || !(nb = realloc(buf, cap + 1))) {
				free(buf);
				fclose(f);
				errno = EFBIG;
				return NULL;
			}
			buf = nb;
		}
		k = fread(buf + n, 1, cap - n, f);
		n += k;
	} while (k > 0);
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

static int
cannot(const char *what, const char *p)
{
	fprintf(stderr, "test-sign-tool: cannot %s '%s': %s\n", what, p,
	    strerror(errno));
	return EX_NOINPUT;
}

int
main(int argc, char **argv)
{
	struct dz_err e = { 0 };
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "keygen") && (argc == 4 || argc == 5)) {
		if (dz_sign_keygen(argv[2], argv[3], argc == 5 ? argv[4] : NULL,
		    &e))
			return fail(&e);
		return 0;
	}
	if (!strcmp(cmd, "sign") && (argc == 5 || argc == 6)) {
		struct dz_sign_key key;
		uint8_t *data;
		char *sig = NULL;
		size_t len;
		FILE *out;
		int rc;

		if (dz_sign_key_load(argv[2], &key, &e))
			return fail(&e);
		if (!(data = slurp(argv[3], &len))) {
			dz_sign_key_release(&key);
			return cannot("read", argv[3]);
		}
		rc = dz_sign_buf(&key, data, len, argc == 6 ? argv[5] : NULL,
		    &sig, &e);
		dz_sign_key_release(&key);
		free(data);
		if (rc)
			return fail(&e);
		if (!(out = fopen(argv[4], "w")) || fputs(sig, out) == EOF ||
		    fclose(out) != 0) {
			free(sig);
			return cannot("write", argv[4]);
		}
		free(sig);
		return 0;
	}
	if ((!strcmp(cmd, "verify") || !strcmp(cmd, "verify-P")) &&
	    argc == 5) {
		struct dz_sign_pub pub;
		uint8_t *data, *sig;
		char *tc = NULL;
		size_t len, siglen;
		int rc;

		rc = cmd[6] == '-' ?
		    dz_sign_pub_parse(argv[2], strlen(argv[2]), &pub, &e) :
		    dz_sign_pub_load(argv[2], &pub, &e);
		if (rc)
			return fail(&e);
		if (!(data = slurp(argv[3], &len)))
			return cannot("read", argv[3]);
		if (!(sig = slurp(argv[4], &siglen))) {
			free(data);
			return cannot("read", argv[4]);
		}
		rc = dz_sign_verify(&pub, data, len, (const char *)sig, siglen,
		    &tc, &e);
		free(data);
		free(sig);
		if (rc)
			return fail(&e);
		printf("%s\n", tc);
		free(tc);
		return fflush(stdout) || ferror(stdout) ? EX_IOERR : 0;
	}
	fputs(usage, stderr);
	return EX_USAGE;
}
