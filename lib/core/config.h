/*
 * lib/core/config: the one configuration file, dz.yaml(5), read with libyaml.
 *
 * Where it comes from: the path given with -c, else $DZ_CONFIG, else
 * /etc/dz/dz.yaml if it exists, else built-in defaults (store under
 * ./dz-data), so the demo runs with no file at all. Unknown keys, wrong
 * types and out-of-range values are errors naming the file, line and key
 * (EX_CONFIG). Every setting has a safe default.
 *
 * May use: core/ (err, yamlev); libyaml.
 */
#ifndef DZ_CONFIG_H
#define DZ_CONFIG_H

#include <stdint.h>

struct dz_err;

struct dz_config {
	char *path;			/* file read, or NULL for defaults */

	char *store;			/* store: directory ("./dz-data") */
	char *master_key;		/* master_key: key file ("./dz-master.key") */

	uint64_t max_upload_bytes;	/* limits.max_upload_bytes (256 MiB) */
	int max_urls;			/* limits.max_urls (100) */
	int max_files;			/* limits.max_files (100) */
	int max_description_bytes;	/* limits.max_description_bytes (8192) */

	int personal_data_days;		/* retention.personal_data_days (14) */
	int max_reminders;		/* notify.max_reminders (2) */
	int unverified_media_days;	/* retention.unverified_media_days (30) */
	int withdrawn_hash_days;	/* retention.withdrawn_hash_days (30) */
	int rejected_days;		/* retention.rejected_days (7) */

	int pdq_threshold;		/* match.pdq_threshold (31, 0-256) */
	int min_quality;		/* match.min_quality (50, 0-100) */
	char *match_public_key;		/* match.public_key (NULL) */
	char *match_state;		/* match.state (NULL: dz-match's default) */

	/* dz-notify */
	char *notice_from;		/* notify.from (NULL) */
	char *mta;			/* notify.mta ("sendmail -t -oi") */
	char *providers;		/* notify.providers (NULL: built in) */
	int providers_replace;		/* notify.providers_replace (false) */
	char *templates;		/* notify.templates (NULL: built in) */
	char *hotline;			/* notify.hotline (NULL) */
	char *notice_contact;		/* notify.contact (NULL: from's) */
	char *hotline_address;		/* notify.address (NULL) */
	/*
	 * notify.trusted_flagger and notify.help: a string for every
	 * language, or a mapping of fr and en; read them with
	 * dz_config_text().
	 */
	char *trusted_flagger;		/* the string (NULL) */
	char *trusted_flagger_fr;	/* its fr (NULL) */
	char *trusted_flagger_en;	/* its en (NULL) */
	char *victim_help;		/* notify.help: the string (NULL) */
	char *victim_help_fr;
	char *victim_help_en;
	char *notice_language;		/* notify.language ("fr") */
	char *rdap;			/* notify.rdap ("https://rdap.org") */
	int rdap_timeout;		/* notify.rdap_timeout (10 s, 1-300) */
	int rdap_allow_loopback;	/* notify.rdap_allow_loopback (false) */
	char *signing_key;		/* export.signing_key (NULL) */
	char *public_key;		/* export.public_key (NULL) */
};

/* Fill c with the built-in defaults (strings are malloc'd, owned by c). */
int dz_config_default(struct dz_config *c, struct dz_err *err);

/*
 * Load the configuration: opt_path is the -c argument or NULL. Returns 0,
 * or -1 with err (EX_CONFIG: bad file; EX_NOINPUT: a named file that
 * cannot be read). On success c owns its strings; dz_config_release frees.
 */
int dz_config_load(struct dz_config *c, const char *opt_path,
    struct dz_err *err);

/* Load from a YAML text in memory (tests); name is used in messages. */
int dz_config_load_text(struct dz_config *c, const char *name,
    const char *text, size_t len, struct dz_err *err);

void dz_config_release(struct dz_config *c);

/*
 * A text of the configuration given for every language or per language
 * (notify.trusted_flagger, notify.help), in language lang ("fr", "en"):
 * its own value for lang, else the one for every language, else NULL.
 * "trusted_flagger" or "help" name it. Borrowed from c.
 */
const char *dz_config_text(const struct dz_config *c, const char *name,
    const char *lang);

#endif
