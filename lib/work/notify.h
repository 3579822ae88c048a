/*
 * lib/work/notify: one dz-notify run, the messages the hotline promised.
 *
 *   1. Take the store's notify.lock (EX_TEMPFAIL when another run has it).
 *   2. With a resolver, look up the hosts of the due URLs that the
 *      directory does not know, once per host, outside any transaction
 *      (a slow server holds up no other program).
 *   3. Plan, in one transaction: every reported URL judged illegal and
 *      not yet notified is given to its provider (lib/notice/provider; with a
 *      resolver, the abuse contact step 2 found), one notice per
 *      provider and address grouping its URLs;
 *      every closed case whose victim asked for an answer gets one; with
 *      remind_days, every URL still reported that many days after its
 *      notice gets a reminder, grouped the same way. Each notice is
 *      recorded "pending" with a fresh Message-ID before anything is sent.
 *   4. Deliver every pending notice (this run's and those a failed run
 *      left), each rendered from the store and the templates (lib/
 *      template), formatted (lib/notice/mail) and handed to the mail command or
 *      a Maildir; the outcome recorded in its own transaction.
 * A URL whose provider has no address, or that no provider claims, gets
 * an operator record each run until the directory knows better.
 *
 * Killed after a message was handed over but before it was marked sent,
 * the next run sends it again under the same Message-ID (receivers drop
 * the copy): a notice is never lost, and never planned twice. A victim's
 * address is decrypted only to write their message, never stored with
 * the notice, never in a record.
 *
 * With dry_run, nothing is planned in the store or sent: the messages
 * that would go are written to dry_out as an mbox.
 *
 * May use: core/ (builtin, clock, config, err, input, record); crypto/
 *   (crypt); store/ (store, storenotice, storesecrets); notice/ (mail,
 *   provider, template); OpenSSL, jansson.
 */
#ifndef DZ_NOTIFY_H
#define DZ_NOTIFY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "crypto/crypt.h"

struct dz_config;
struct dz_err;
struct dz_providers;
struct dz_store;

enum dz_notify_delivery {
	DZ_NOTIFY_SENDMAIL = 1,		/* cfg->mta */
	DZ_NOTIFY_MAILDIR,		/* o->maildir */
	DZ_NOTIFY_DRY_RUN		/* o->dry_out, nothing recorded */
};

/*
 * Find who to notify for host, beyond the directory: fill name (an
 * organisation, or the host) and address; 0, or -1 with err (the URL is
 * then reported unresolved, with err's reason).
 */
typedef int (*dz_notify_resolve_fn)(const char *host, char *name,
    size_t name_size, char *address, size_t address_size, void *ctx,
    struct dz_err *err);

struct dz_notify_opts {
	const struct dz_config *cfg;
	const struct dz_providers *providers;
	const uint8_t *master;		/* DZ_KEY_BYTES: victims' contacts */
	enum dz_notify_delivery delivery;
	const char *maildir;
	FILE *dry_out;
	int remind_days;		/* 0: no reminders */
	dz_notify_resolve_fn resolve;	/* NULL: no resolving */
	void *resolve_ctx;
	const char *actor;
};

/*
 * Records go to emit (which owns them): one "notice" record per message
 * (sent, failed or cancelled), "unresolved" and "manual" records for the
 * operator (see dz-records(5)); none carries personal data. A message
 * that can never be written (an address lib/notice/mail refuses, a victim's
 * contact that does not open, formatting that fails) is cancelled and
 * reported by an "error" record instead, never silently. Returns 0 with
 * *failed the number of messages that could not be delivered (they stay
 * pending), *temporary whether all those failures were temporary and
 * *unsendable the number of error records; -1 with err when the run
 * itself failed (store, lock, templates, configuration).
 */
typedef int (*dz_notify_emit_fn)(json_t *rec, void *ctx);
int dz_notify_run(struct dz_store *s, const struct dz_notify_opts *o,
    dz_notify_emit_fn emit, void *ctx, int *failed, int *temporary,
    int *unsendable, struct dz_err *err);

/* The built-in or configured template NAME.LANG.txt ("notice", "fr"). */
int dz_notify_template(const struct dz_config *cfg, const char *name,
    const char *lang, char **text, size_t *len, struct dz_err *err);

/*
 * The key under which a URL is notified once: scheme and host in lower
 * case, the default port (80 for http, 443 for https) and the fragment
 * dropped, an empty path made "/"; the rest kept as it is. A string
 * without "scheme://" is kept but for its fragment. -1 when out (n
 * bytes) is too small.
 */
#define DZ_NOTIFY_KEY_MAX 4200
int dz_notify_url_key(const char *url, char *out, size_t n);

#endif
