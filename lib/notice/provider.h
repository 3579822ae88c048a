/*
 * lib/notice/provider: the provider directory, which says whom dz-notify tells
 * about a reported URL: the hosting provider's name, the address its
 * notices go to, its DSA point of contact, its notice form, and the
 * language to write to it in.
 *
 * The directory is a YAML file (share/dz/providers.yaml is built in; the
 * setting notify.providers names a file merged over it entry by entry, or
 * replacing it with notify.providers_replace), documented in dz.yaml(5):
 *
 *	version: 1
 *	providers:
 *	  - name: Discord
 *	    domains: [discord.com, discord.gg, discordapp.com]
 *	    abuse: abuse@discord.example        (optional)
 *	    dsa_contact: dsa@discord.example    (optional)
 *	    form: https://discord.example/report (optional)
 *	    language: en                        (en or fr; default en)
 *
 * A domain matches itself and every name under it; the longest matching
 * domain wins, so "sites.google.com" may belong to another entry than
 * "google.com". Reading is strict: unknown keys, a domain given twice, a
 * malformed address or domain are errors naming the file and the line
 * (EX_CONFIG); the file is the operator's, a mistake in it must not send
 * a notice to the wrong place.
 *
 * May use: core/ (builtin, err, input, yamlev).
 */
#ifndef DZ_PROVIDER_H
#define DZ_PROVIDER_H

#include <stddef.h>

struct dz_err;

#define DZ_PROVIDER_NAME_MAX 100
#define DZ_HOST_MAX 253

struct dz_provider {
	char *name;
	char **domains;
	size_t ndomains;
	char *abuse;			/* NULL when none */
	char *dsa_contact;		/* NULL when none */
	char *form;			/* NULL when none */
	char language[3];		/* "en" or "fr" */
};

/* The directory; every string is owned by it. */
struct dz_providers {
	struct dz_provider *v;
	size_t n;
	char *source;			/* the file read, or "built-in" */
};

/* Parse a directory's text; name is used in messages. */
int dz_providers_parse(struct dz_providers *p, const char *name,
    const char *text, size_t len, struct dz_err *err);
/* Load the file at path, or the built-in directory when path is NULL.
 * EX_NOINPUT when the file cannot be read. */
int dz_providers_load(struct dz_providers *p, const char *path,
    struct dz_err *err);
void dz_providers_release(struct dz_providers *p);

/*
 * The directory the configuration gives (notify.providers, and
 * notify.providers_replace as replace): the built-in one when path is
 * NULL; with replace, the file at path alone; otherwise the built-in one
 * with the file's entries merged over it entry by entry. An entry of the
 * file replaces the built-in entry of the same name (compared without
 * case), whole, and takes over any domain it lists from the other
 * built-in entries (one left with no domain is dropped); the file's other
 * entries are added. Errors as dz_providers_load.
 */
int dz_providers_open(struct dz_providers *p, const char *path, int replace,
    struct dz_err *err);

/* The provider of host (lowercase, no trailing dot), or NULL. */
const struct dz_provider *dz_providers_find(const struct dz_providers *p,
    const char *host);

/*
 * The host of an http or https URL, lowercased, without user, port or
 * trailing dot, into host[cap]: 0, or -1 when the URL has no usable host
 * (another scheme, an empty or over-long host, a character a host name
 * cannot hold). An IP address is returned as it is written (IPv6 without
 * its brackets).
 */
int dz_url_host(const char *url, char *host, size_t cap);

/* Is s a plain e-mail address (addr-spec, ASCII, at most 254 bytes)? */
int dz_provider_address_ok(const char *s);

#endif
