/*
 * lib/store/storesecrets: a case's personal data, opened. See storesecrets.h.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "core/err.h"
#include "crypto/crypt.h"
#include "store/store.h"
#include "store/storesecrets.h"

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
		free(out);	/* dz_crypt_open wiped it */
		return NULL;
	}
	out[len - DZ_SEAL_OVERHEAD] = '\0';
	return out;
}

int
dz_store_secrets_add(struct dz_store *s, const uint8_t master[DZ_KEY_BYTES],
    json_t *rec, int which, struct dz_err *err)
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
	if (!(which & DZ_SECRETS_CONTACT) && contact) {
		free(contact);
		contact = NULL;
	}
	if (!(which & DZ_SECRETS_DESCRIPTION) && desc) {
		free(desc);
		desc = NULL;
	}
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
		dz_crypt_free_wiped(text, clen - DZ_SEAL_OVERHEAD + 1);
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
		dz_crypt_free_wiped(text, dlen - DZ_SEAL_OVERHEAD + 1);
	}
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof key);
	free(contact);
	free(desc);
	return rc;
}

/* Zero the bytes of a string value that jansson owns. */
static void
wipe_string(json_t *v)
{
	if (json_is_string(v))
		OPENSSL_cleanse((char *)json_string_value(v),
		    json_string_length(v));
}

void
dz_store_secrets_wipe(json_t *rec)
{
	json_t *c = json_object_get(rec, "contact"), *v;
	const char *k;

	json_object_foreach(c, k, v)
		wipe_string(v);
	wipe_string(json_object_get(rec, "description"));
}
