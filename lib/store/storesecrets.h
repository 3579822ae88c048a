/*
 * lib/store/storesecrets: a case's personal data, opened: the sealed contact and
 * description of lib/store/store, decrypted with the case key that the master
 * key unwraps. For dz-export cases --contact and dz-notify's answers to
 * victims.
 *
 * May use: core/ (err), crypto/ (unwrapping, opening sealed fields),
 * store/ (the sealed fields); jansson.
 */
#ifndef DZ_STORESECRETS_H
#define DZ_STORESECRETS_H

#include <stdint.h>

#include <jansson.h>

#include "crypto/crypt.h"

struct dz_err;
struct dz_store;

#define DZ_SECRETS_CONTACT 1
#define DZ_SECRETS_DESCRIPTION 2

/*
 * Add the decrypted personal data of a case to its record case_rec (which
 * has its "case" id), only what which asks for: "contact" (object,
 * DZ_SECRETS_CONTACT) and "description" (text, DZ_SECRETS_DESCRIPTION),
 * when present and not yet purged. EX_DATAERR when a sealed value does
 * not open. Call dz_store_secrets_wipe before case_rec is freed.
 */
int dz_store_secrets_add(struct dz_store *s,
    const uint8_t master[DZ_KEY_BYTES], json_t *case_rec, int which,
    struct dz_err *err);

/* Zero the decrypted strings in case_rec (jansson frees without wiping). */
void dz_store_secrets_wipe(json_t *case_rec);

#endif
