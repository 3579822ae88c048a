#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

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
	OPENSSL_cleanse(key, sizeof key);
	dz_blob_reader_free(r);
	if (bfd >= 0)
		close(bfd);
	free(blob);
	return rc;
}
