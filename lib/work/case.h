/*
 * lib/work/case: the case file (dz-export case): the whole history of
 * one case, as records for jq or as text for a person. The SQL is
 * lib/store/storecase's; a case's personal data, opened for --contact,
 * is lib/store/storesecrets' (the program adds it to the case record).
 *
 * May use: core/ (err, hex, out); store/ (store, storecase); jansson.
 */
#ifndef DZ_CASE_H
#define DZ_CASE_H

#include <stdio.h>

#include <jansson.h>

#include "store/store.h"

struct dz_err;
struct dz_store;

/*
 * Is s a case id (10 Crockford base32 characters)? An entry id (32
 * lowercase hex digits)? 1 or 0; anything else is refused before the
 * store is asked.
 */
int dz_case_id_ok(const char *s);
int dz_case_entry_ok(const char *s);

/*
 * The case an entry id belongs to, into case_id: 0, or -1 with
 * EX_DATAERR when no case holds that entry (or its item was purged).
 */
int dz_case_of_entry(struct dz_store *s, const char *entry_id,
    char case_id[DZ_CASE_ID_LEN + 1], struct dz_err *err);

/*
 * The file of case_id, one record at a time to fn (which owns it): the
 * case record first, as dz-export cases lists it, then its items,
 * notices, events in order, hash entries and known matches
 * (lib/store/storecase.h), all read in one snapshot. EX_DATAERR when
 * there is no such case. A nonzero from fn stops, and is returned as -1
 * with err left to fn's caller.
 */
int dz_case_file(struct dz_store *s, const char *case_id,
    dz_store_row_fn fn, void *ctx, struct dz_err *err);

/*
 * One record of a case file as lines of text for a person; control
 * characters in values are shown as '?'. 0, or -1 with EX_IOERR.
 */
int dz_case_text(FILE *f, const json_t *rec, struct dz_err *err);

#endif
