/*
 * lib/store/storekeycheck: is this the store's master key? The part of
 * lib/store/store that every program loading the master key uses, before it
 * seals or opens anything.
 *
 * May use: core/ (err, fdio), crypto/ (check values, unwrapping), store/
 * (the store's listings and wrapped keys).
 *
 * The check value (lib/crypto's dz_crypt_check_make) is the file
 * master-key.check in the store directory, mode 0600, written at
 * dz-ingest --init. A key that does not open it is refused (EX_CONFIG,
 * "wrong master key").
 *
 * A store made before check values existed has none. The first program
 * that opens it with a key records one, after proving the key against
 * the store's own data: the wrapped key of the first case that still has
 * one, else of the first item whose media is still there. A key that
 * opens it is recorded; one that does not is refused and nothing is
 * recorded. A store with nothing sealed left (empty, or everything
 * purged and hashed) has nothing a key could fail to open: the key is
 * recorded and is the store's from then on. A program that may not write
 * in the store directory (a read-only operator account) proves the key
 * the same way on every run and records nothing.
 */
#ifndef DZ_STOREKEYCHECK_H
#define DZ_STOREKEYCHECK_H

#include <stdint.h>

#include "crypto/crypt.h"

struct dz_err;
struct dz_store;

#define DZ_KEYCHECK_FILE "master-key.check"

/*
 * Before the store is opened: 0 when dir's check value opens under
 * master, 1 when dir has none (a new or an older store: call
 * dz_store_keycheck_record once it is open), -1 with err: EX_CONFIG
 * "wrong master key: ..." or a malformed check file, EX_IOERR.
 */
int dz_store_keycheck_load(const char *dir, const uint8_t master[DZ_KEY_BYTES],
    struct dz_err *err);

/*
 * For a store without a check value, open as s: prove master against
 * its sealed data as above, then write the check value. 0, or -1 with
 * err (EX_CONFIG "wrong master key: ..."; EX_IOERR).
 */
int dz_store_keycheck_record(struct dz_store *s, const char *dir,
    const uint8_t master[DZ_KEY_BYTES], struct dz_err *err);

/* Write dir's check value for master (dz-ingest --init). */
int dz_store_keycheck_create(const char *dir,
    const uint8_t master[DZ_KEY_BYTES], struct dz_err *err);

#endif
