#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "crypto/blob.h"
#include "work/export.h"
#include "core/fdio.h"
#include "store/store.h"

int
dz_export_media_sink_ok(int fd, struct dz_err *err)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return dz_err_set(err, EX_IOERR, "cannot inspect the output: %s",
		    strerror(errno));
	if (isatty(fd))
		return dz_err_set(err, EX_USAGE, "refusing to write media to a "
		    "terminal; pipe it to a viewer");
	if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode))
		return 0;
	if (S_ISREG(st.st_mode))
		return dz_err_set(err, EX_USAGE, "refusing to write media to a "
		    "file: plaintext media must not touch the disk");
	return dz_err_set(err, EX_USAGE, "refusing to write media there; "
	    "pipe it to a viewer");
}

int
dz_export_media(struct dz_store *s, const uint8_t master[DZ_KEY_BYTES],
    const char *item_id, int fd, struct dz_err *err)
{
	uint8_t wrapped[DZ_WRAPPED_KEY_BYTES], key[DZ_KEY_BYTES];
	char *blob = NULL, path[4096], aad[DZ_AAD_MAX];
	struct dz_blob_reader *r = NULL;
	const uint8_t *buf;
	size_t len;
	int bfd = -1, rc = -1, k;

	if (dz_store_item_media(s, item_id, wrapped, &blob, err))
		return -1;
	dz_crypt_aad(aad, "item", item_id);
	if (dz_crypt_unwrap(master, wrapped, aad, key, err))
		goto out;
	snprintf(path, sizeof path, "%s/%s", dz_store_blob_dir(s), blob);
	bfd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (bfd < 0) {
		dz_err_set(err, EX_DATAERR, "the item's blob is missing: %s",
		    strerror(errno));
		goto out;
	}
	if (!(r = dz_blob_reader_new(bfd, key, err)))
		goto out;
	while ((k = dz_blob_read(r, &buf, &len, err)) == 1)
		if (dz_fd_write_full(fd, buf, len) != 0) {
			dz_err_set(err, EX_IOERR, "write error: %s", strerror(errno));
			goto out;
		}
	if (k < 0)
		goto out;
	rc = 0;
out:
	explicit_bzero(key, sizeof key);
	dz_blob_reader_free(r);
	if (bfd >= 0)
		close(bfd);
	free(blob);
	return rc;
}

/* Open a sealed value into a NUL-terminated malloc'd string. */
static char *
open_text(const uint8_t key[DZ_KEY_BYTES], const char *kind, const char *id,
    const uint8_t *in, size_t len, struct dz_err *err)
{
	char aad[DZ_AAD_MAX], *out;

	if (len < DZ_SEAL_OVERHEAD) {
		dz_err_set(err, EX_DATAERR, "sealed %s is corrupt", kind);
		return NULL;
	}
	dz_crypt_aad(aad, kind, id);
	if (!(out = malloc(len - DZ_SEAL_OVERHEAD + 1))) {
		dz_err_set(err, EX_SOFTWARE, "out of memory");
		return NULL;
	}
	if (dz_crypt_open(key, aad, in, len, (uint8_t *)out, err)) {
		free(out);
		return NULL;
	}
	out[len - DZ_SEAL_OVERHEAD] = '\0';
	return out;
}

int
dz_export_add_secrets(struct dz_store *s, const uint8_t master[DZ_KEY_BYTES],
    json_t *rec, struct dz_err *err)
{
	const char *id = json_string_value(json_object_get(rec, "case"));
	uint8_t wrapped[DZ_WRAPPED_KEY_BYTES], key[DZ_KEY_BYTES];
	uint8_t *contact = NULL, *desc = NULL;
	size_t clen = 0, dlen = 0;
	char aad[DZ_AAD_MAX], *text;
	int rc = -1;

	if (!id)
		return dz_err_set(err, EX_SOFTWARE, "case record without an id");
	if (dz_store_case_secrets(s, id, wrapped, &contact, &clen, &desc, &dlen,
	    err))
		return -1;
	if (!contact && !desc) {	/* none given, or purged */
		rc = 0;
		goto out;
	}
	dz_crypt_aad(aad, "case", id);
	if (dz_crypt_unwrap(master, wrapped, aad, key, err))
		goto out;
	if (contact) {
		json_error_t je;
		json_t *c;
		if (!(text = open_text(key, "contact", id, contact, clen, err)))
			goto out;
		c = json_loads(text, 0, &je);
		dz_crypt_free_wiped(text, strlen(text));
		if (!c) {
			dz_err_set(err, EX_DATAERR, "sealed contact is corrupt");
			goto out;
		}
		json_object_set_new(rec, "contact", c);
	}
	if (desc) {
		if (!(text = open_text(key, "description", id, desc, dlen, err)))
			goto out;
		json_object_set_new(rec, "description", json_string(text));
		dz_crypt_free_wiped(text, strlen(text));
	}
	rc = 0;
out:
	explicit_bzero(key, sizeof key);
	free(contact);
	free(desc);
	return rc;
}
