/*
 * lib/work/export: the read views of the store for operators (dz-export cases,
 * items, media). A case's personal data, opened for --contact, is
 * lib/store/storesecrets'. Partner banks are lib/work/bankexport's, statistics
 * lib/work/stats'.
 *
 * May use: core/ (err, fdio); crypto/ (blob, crypt); store/ (store);
 *   OpenSSL.
 */
#ifndef DZ_EXPORT_H
#define DZ_EXPORT_H

#include "crypto/crypt.h"

struct dz_err;
struct dz_store;

/*
 * Is fd somewhere plaintext media may go? A pipe, a socket or a character
 * device that is not a terminal: yes. A regular file, a terminal or
 * anything else: no (EX_USAGE with the reason), so that decrypted media
 * never lands on disk or on a screen by mistake.
 */
int dz_export_media_sink_ok(int fd, struct dz_err *err);

/*
 * Decrypt the media of item_id to fd, chunk by chunk (never whole in
 * memory). EX_DATAERR: no such item, no media left (destroyed), or the
 * blob fails authentication.
 */
int dz_export_media(struct dz_store *s, const uint8_t master[DZ_KEY_BYTES],
    const char *item_id, int fd, struct dz_err *err);

#endif
