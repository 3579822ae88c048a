/*
 * lib/store/storenotice: the notices of the store (schema 3), the part of
 * lib/store/store that dz-notify uses: which reported URLs and which victims
 * are due a message, the notices planned and their delivery.
 *
 * A notice is one message: to a hosting provider ("provider"), a
 * reminder to one ("reminder"), or an answer to a victim ("victim"). It
 * is planned (state "pending", with its Message-ID, in one transaction
 * with the items it covers), then delivered and marked "sent", or its
 * failure recorded for the next run to retry; "cancelled" is for one
 * that can never go (the victim's contact is gone). An item is covered
 * by at most one provider notice that is not cancelled, so a URL is
 * never notified twice. A victim's address is never stored with the
 * notice: it is decrypted from the case when the message is written.
 *
 * May use: core/ (err, hex); store/ (store, storeint).
 */
#ifndef DZ_STORENOTICE_H
#define DZ_STORENOTICE_H

#include <stddef.h>
#include <stdint.h>

struct dz_err;
struct dz_store;

#define DZ_NOTICE_ID_LEN 16

/* A notice as stored; strings borrowed for the length of a callback. */
struct dz_store_notice {
	const char *id;			/* 16 hex digits */
	const char *kind;		/* "provider", "reminder", "victim" */
	const char *provider;		/* NULL for a victim's */
	const char *recipient;		/* provider's address; NULL for victim */
	const char *case_id;		/* victim's only */
	const char *language;
	const char *message_id;
	const char *in_reply_to;	/* reminders: the first notice's */
	const char *created_at;
	const char *state;
	int attempts;
	const char *sent_at;
	const char *category;		/* provider, reminder: the legal
					   ground; NULL for a victim's */
};

/* A reported URL, as a notice needs it. */
struct dz_store_url {
	const char *item_id;
	const char *case_id;
	const char *url;
	const char *category;		/* "adult_ncii", "minor", "other" */
	/* when an operator last saw it online (NULL: never); not for due */
	const char *still_online_at;
	/* reminders only: the sent provider notice that first covered it */
	const char *provider, *recipient, *language;
	const char *first_message_id, *first_notice, *first_sent_at;
	int reminders;			/* ... and the reminders sent since */
};

typedef int (*dz_store_url_fn)(const struct dz_store_url *u, void *ctx);
typedef int (*dz_store_notice_fn)(const struct dz_store_notice *n,
    void *ctx);

/*
 * Items due a first notice: a URL judged illegal, not reported removed,
 * in a case not withdrawn, not covered by a provider notice (pending or
 * sent). In insertion order.
 */
int dz_store_urls_due(struct dz_store *s, dz_store_url_fn fn, void *ctx,
    struct dz_err *err);

/*
 * Items due a reminder: as above but covered by a provider notice sent
 * at or before `before`, and by no reminder (not cancelled) planned after
 * `before`; in a case still open, with no outcome (refused, no_answer)
 * and no escalation. The first notice's provider, recipient, language,
 * Message-ID and sending time come with each, and the number of
 * reminders sent for it.
 */
int dz_store_urls_to_remind(struct dz_store *s, const char *before,
    dz_store_url_fn fn, void *ctx, struct dz_err *err);

/*
 * Cases due an answer: closed, the victim asked for one, personal data
 * not purged (a contact is there), not withdrawn, and no victim notice
 * yet. fn gets the case id, its language (or NULL) and minor flag.
 */
typedef int (*dz_store_case_fn)(const char *case_id, const char *language,
    int minor, void *ctx);
int dz_store_cases_to_answer(struct dz_store *s, dz_store_case_fn fn,
    void *ctx, struct dz_err *err);

/*
 * Within a transaction: plan a notice covering items[0..nitems) (none
 * for a victim's). id and message_id are the caller's (fresh, random);
 * n->state is ignored ("pending"). Audited ("notice", kind and id). A
 * provider notice for an item already covered: EX_DATAERR.
 */
int dz_store_notice_insert(struct dz_store *s,
    const struct dz_store_notice *n, const char *const *items,
    size_t nitems, const char *actor, struct dz_err *err);

/* Pending notices, oldest first. */
int dz_store_notices_pending(struct dz_store *s, dz_store_notice_fn fn,
    void *ctx, struct dz_err *err);

/* The notice with this Message-ID: 1 and fn called, or 0. */
int dz_store_notice_by_message_id(struct dz_store *s, const char *msgid,
    dz_store_notice_fn fn, void *ctx, struct dz_err *err);

/* The items a notice covers, with their URL, case and category. */
int dz_store_notice_urls(struct dz_store *s, const char *notice_id,
    dz_store_url_fn fn, void *ctx, struct dz_err *err);

/* Active hashes of a case's items: fn(signal, value, ctx). */
typedef int (*dz_store_hash_fn)(const char *signal, const char *value,
    void *ctx);
int dz_store_case_hashes(struct dz_store *s, const char *case_id,
    dz_store_hash_fn fn, void *ctx, struct dz_err *err);

/* What was done for a case, for the victim's answer. */
struct dz_store_case_summary {
	int64_t hashed;			/* items whose media became hashes */
	int64_t urls;			/* URLs judged illegal */
	int64_t urls_notified;		/* ... covered by a sent notice */
	int64_t urls_removed;		/* ... reported taken down */
	char **providers;		/* names notified, malloc'd */
	size_t nproviders;
};
int dz_store_case_summary(struct dz_store *s, const char *case_id,
    struct dz_store_case_summary *sum, struct dz_err *err);
void dz_store_case_summary_release(struct dz_store_case_summary *sum);

/*
 * Outcomes, each its own transaction (these open and commit it): sent,
 * with the delivery ("sendmail", "maildir"); a failed attempt, with a
 * reason that holds no personal data (attempts counted, the notice stays
 * pending); or cancelled for good.
 */
int dz_store_notice_sent(struct dz_store *s, const char *id,
    const char *delivery, const char *now, const char *actor,
    struct dz_err *err);
int dz_store_notice_failed(struct dz_store *s, const char *id,
    const char *reason, int cancel, const char *now, const char *actor,
    struct dz_err *err);

/*
 * Within a transaction: the operator notified an item's provider by other
 * means (its web form, say): a provider notice, sent, delivery "manual",
 * covers the item, so that it is not reported again and the victim's
 * answer counts it; no reminder is mailed for it. EX_DATAERR for no such
 * item, an item without a URL, or one already covered.
 */
int dz_store_notice_manual(struct dz_store *s, const char *item_id,
    const char *provider, const char *actor, const char *now,
    struct dz_err *err);

/*
 * Within a transaction: the operator says the content at an item's URL
 * is gone (no more reminders). EX_DATAERR for no such item, or an item
 * without a URL. Again on a removed item: changes nothing, audited
 * "again".
 */
int dz_store_item_removed(struct dz_store *s, const char *item_id,
    const char *actor, const char *now, struct dz_err *err);

/*
 * One notice per URL. lib/work/notify normalises each item's URL into a
 * key (items.url_key); the store keeps and compares keys, never
 * normalises. Items with a URL and no key yet: fn(item_id, url, ctx).
 */
typedef int (*dz_store_unkeyed_fn)(const char *item_id, const char *url,
    void *ctx);
int dz_store_urls_unkeyed(struct dz_store *s, dz_store_unkeyed_fn fn,
    void *ctx, struct dz_err *err);

/* Within a transaction: record an item's URL key. */
int dz_store_item_url_key(struct dz_store *s, const char *item_id,
    const char *key, struct dz_err *err);

/*
 * The provider notice (not cancelled) that covers some item whose URL
 * has this key: 1 and its id, or 0.
 */
int dz_store_notice_of_key(struct dz_store *s, const char *key,
    char id[DZ_NOTICE_ID_LEN + 1], struct dz_err *err);

/*
 * Within a transaction: the provider notice notice_id, which covers the
 * same URL for another item, covers item_id too (the case's file shows
 * it; no second notice goes). Audited ("notice", "shared"). EX_DATAERR
 * for an item already covered.
 */
int dz_store_notice_share(struct dz_store *s, const char *notice_id,
    const char *item_id, const char *case_id, const char *actor,
    const char *now, struct dz_err *err);

/*
 * Within a transaction: an operator saw the content at an item's URL
 * still online, now (a reminder then says so). Audited "still_online".
 * EX_DATAERR for no such item or one without a URL.
 */
int dz_store_item_still_online(struct dz_store *s, const char *item_id,
    const char *actor, const char *now, struct dz_err *err);

/*
 * Within a transaction: u (from dz_store_urls_to_remind) had its
 * reminders and no answer: the item's outcome becomes no_answer and an
 * escalation row (table escalations, done_at NULL) waits in the desk's
 * queue. Audited "escalation".
 */
int dz_store_escalate(struct dz_store *s, const struct dz_store_url *u,
    const char *actor, const char *now, struct dz_err *err);

/*
 * Within a transaction: the provider answered that it will not remove
 * the content at an item's URL, for reason (its words, kept with the
 * item, not in the audit log): the outcome becomes refused, and the URL
 * gets no more reminders. Audited "refused". EX_DATAERR for no such
 * item or one without a URL.
 */
int dz_store_item_refused(struct dz_store *s, const char *item_id,
    const char *reason, const char *actor, const char *now,
    struct dz_err *err);

#endif
