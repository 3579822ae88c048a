/*
 * lib/store/storekeycheck: the master key's check value in the store
 * directory. See storekeycheck.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include <openssl/crypto.h>

#include "core/err.h"
#include "core/fdio.h"
#include "crypto/crypt.h"
#include "store/store.h"
#include "store/storekeycheck.h"

#define CHECK_PATH_MAX 4096

static int
check_path(char out[CHECK_PATH_MAX], const char *dir, const char *name,
    struct dz_err *err)
{
	if ((size_t)snprintf(out, CHECK_PATH_MAX, "%s/%s", dir, name) >= CHECK_PATH_MAX)
		return dz_err_set(err, EX_CONFIG, "store path too long");
	return 0;
}

int
dz_store_keycheck_load(const char *dir, const uint8_t master[DZ_KEY_BYTES],
    struct dz_err *err)
{
	uint8_t buf[DZ_KEYCHECK_BYTES + 1];	/* one byte more than allowed */
	char path[CHECK_PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd, rc;

	if (check_path(path, dir, DZ_KEYCHECK_FILE, err))
		return -1;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
	    O_NOCTTY);
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return 1;
	if (fd < 0)
		return dz_err_set(err, errno == ELOOP ? EX_CONFIG : EX_IOERR,
		    "cannot open the store's key check value: %s",
		    strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return dz_err_set(err, EX_CONFIG, "the store's key check value "
		    "is not a regular file");
	}
	n = dz_fd_read_full(fd, buf, sizeof buf);
	close(fd);
	if (n < 0)
		return dz_err_set(err, EX_IOERR, "cannot read the store's key "
		    "check value: %s", strerror(errno));
	if (n != DZ_KEYCHECK_BYTES)
		return dz_err_set(err, EX_CONFIG, "the store's key check value "
		    "is malformed");
	rc = dz_crypt_check_open(master, buf, err);
	return rc ? -1 : 0;
}

int
dz_store_keycheck_create(const char *dir, const uint8_t master[DZ_KEY_BYTES],
    struct dz_err *err)
{
	uint8_t check[DZ_KEYCHECK_BYTES];
	char path[CHECK_PATH_MAX], tmp[CHECK_PATH_MAX];
	int fd;

	if (check_path(path, dir, DZ_KEYCHECK_FILE, err) ||
	    check_path(tmp, dir, ".tmp-" DZ_KEYCHECK_FILE, err) ||
	    dz_crypt_check_make(master, check, err))
		return -1;
	unlink(tmp);	/* left by a killed run */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY, 0600);
	if (fd < 0)
		return dz_err_set(err, errno == EACCES || errno == EPERM ||
		    errno == EROFS ? EX_NOPERM : EX_CANTCREAT, "cannot write the "
		    "store's key check value: %s", strerror(errno));
	if (dz_fd_write_full(fd, check, sizeof check) != 0 || fsync(fd) != 0) {
		dz_err_set(err, EX_IOERR, "cannot write the store's key check "
		    "value: %s", strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		dz_err_set(err, EX_IOERR, "cannot write the store's key check "
		    "value: %s", strerror(errno));
		unlink(tmp);
		return -1;
	}
	return dz_fd_sync_parent(path, "the store's key check value", err);
}

/* Proving a key against the store's own sealed data. */
struct proof {
	struct dz_store *s;
	const uint8_t *master;
	int found;		/* 1 opened, -1 did not open, 0 none tried */
	struct dz_err *err;
	int failed;		/* a store error, in err */
};

static int
zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* Try one wrapped key: sets p->found; nonzero stops the listing. */
static int
try_wrapped(struct proof *p, const uint8_t wrapped[DZ_WRAPPED_KEY_BYTES],
    const char *kind, const char *id)
{
	uint8_t key[DZ_KEY_BYTES];
	char aad[DZ_AAD_MAX];
	struct dz_err e;

	if (zero(wrapped, DZ_WRAPPED_KEY_BYTES))
		return 0;	/* purged or destroyed */
	dz_crypt_aad(aad, kind, id);
	p->found = dz_crypt_unwrap(p->master, wrapped, aad, key, &e) ? -1 : 1;
	OPENSSL_cleanse(key, sizeof key);
	return 1;
}

static int
try_case(json_t *row, void *arg)
{
	struct proof *p = arg;
	const char *id = json_string_value(json_object_get(row, "case"));
	uint8_t wrapped[DZ_WRAPPED_KEY_BYTES];
	uint8_t *contact = NULL, *desc = NULL;
	size_t clen, dlen;
	int rc = 0;

	if (id && dz_store_case_secrets(p->s, id, wrapped, &contact, &clen,
	    &desc, &dlen, p->err)) {
		p->failed = 1;
		rc = 1;
	} else if (id) {
		rc = try_wrapped(p, wrapped, "case", id);
	}
	free(contact);
	free(desc);
	json_decref(row);
	return rc;
}

static int
try_item(json_t *row, void *arg)
{
	struct proof *p = arg;
	const char *id = json_string_value(json_object_get(row, "item"));
	uint8_t wrapped[DZ_WRAPPED_KEY_BYTES];
	char *blob = NULL;
	struct dz_err e;
	int rc = 0;

	/* an item without live media is an EX_DATAERR: skip it */
	if (id && json_is_true(json_object_get(row, "has_media")) &&
	    dz_store_item_media(p->s, id, wrapped, &blob, &e) == 0)
		rc = try_wrapped(p, wrapped, "item", id);
	free(blob);
	json_decref(row);
	return rc;
}

int
dz_store_keycheck_record(struct dz_store *s, const char *dir,
    const uint8_t master[DZ_KEY_BYTES], struct dz_err *err)
{
	struct proof p = { s, master, 0, err, 0 };
	struct dz_err e;

	if (dz_store_list_cases(s, NULL, try_case, &p, err) || p.failed)
		return -1;
	if (!p.found && dz_store_list_items(s, NULL, try_item, &p, err))
		return -1;
	if (p.found < 0)
		return dz_err_set(err, EX_CONFIG, "wrong master key: it does "
		    "not open the store's wrapped keys");
	if (dz_store_keycheck_create(dir, master, &e)) {
		if (e.code == EX_NOPERM)
			return 0;	/* proven; a writer records it */
		*err = e;
		return -1;
	}
	return 0;
}
