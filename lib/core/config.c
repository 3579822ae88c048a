/*
 * lib/core/config: dz.yaml(5), read with libyaml's event parser.
 *
 * The file is small and its shape is fixed: a mapping of top-level keys,
 * some of which are one-level mappings ("sections"). So rather than build
 * a document tree, we walk the events and stop at the first problem. That
 * also lets us refuse anchors and aliases before libyaml resolves them
 * (its document loader would hide them), and never descend into nesting
 * we do not expect.
 *
 * Messages name the file, the line and the key, never a value: a value
 * may be a secret, and it is the operator's own file anyway. Unknown key
 * names are shown only when they look like key names (see show_key).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "core/config.h"
#include "core/err.h"
#include "core/yamlev.h"

#define SYSTEM_CONFIG "/etc/dz/dz.yaml"
#define MAX_FILE_BYTES (1024 * 1024)	/* dz.yaml(5) says 1 MiB */
#define MAX_STRING 4095			/* bytes in a string value */
#define MAX_KEY 64			/* longer keys are unknown anyway */

enum kind {
	K_SECTION,	/* a mapping of the keys whose section is this name */
	K_STR,		/* text that must be given when the key is present */
	K_OPTSTR,	/* text, or null for "none" */
	K_INT,		/* int field */
	K_U64,		/* uint64_t field */
	K_BOOL,		/* int field, 0 or 1: true or false */
	K_LANGTEXT,	/* text or null, or a mapping of fr and en to text
			 * (its fields: langtext_fields) */
};

struct key {
	const char *section;	/* NULL at the top level */
	const char *name;
	enum kind kind;
	size_t off;		/* into struct dz_config */
	uint64_t min, max;	/* K_INT, K_U64 */
	const char *what;	/* "a whole number of days" */
};

#define F(m) offsetof(struct dz_config, m)

static const struct key keys[] = {
	{ NULL, "store", K_STR, F(store), 0, 0, "a directory name" },
	{ NULL, "master_key", K_STR, F(master_key), 0, 0, "a file name" },
	{ NULL, "limits", K_SECTION, 0, 0, 0, "a mapping of settings" },
	{ NULL, "retention", K_SECTION, 0, 0, 0, "a mapping of settings" },
	{ NULL, "match", K_SECTION, 0, 0, 0, "a mapping of settings" },
	{ NULL, "notify", K_SECTION, 0, 0, 0, "a mapping of settings" },
	{ NULL, "export", K_SECTION, 0, 0, 0, "a mapping of settings" },

	{ "limits", "max_upload_bytes", K_U64, F(max_upload_bytes),
	    1, (uint64_t)1 << 40, "a whole number of bytes" },
	{ "limits", "max_urls", K_INT, F(max_urls), 1, 10000,
	    "a whole number" },
	{ "limits", "max_files", K_INT, F(max_files), 1, 10000,
	    "a whole number" },
	{ "limits", "max_description_bytes", K_INT, F(max_description_bytes),
	    1, 1024 * 1024, "a whole number of bytes" },

	{ "retention", "personal_data_days", K_INT, F(personal_data_days),
	    1, 3650, "a whole number of days" },
	{ "retention", "unverified_media_days", K_INT,
	    F(unverified_media_days), 1, 3650, "a whole number of days" },
	{ "retention", "withdrawn_hash_days", K_INT, F(withdrawn_hash_days),
	    0, 3650, "a whole number of days" },
	{ "retention", "rejected_days", K_INT, F(rejected_days), 0, 3650,
	    "a whole number of days" },

	{ "match", "pdq_threshold", K_INT, F(pdq_threshold), 0, 256,
	    "a whole number of bits" },
	{ "match", "min_quality", K_INT, F(min_quality), 0, 100,
	    "a whole number" },
	{ "match", "public_key", K_OPTSTR, F(match_public_key), 0, 0,
	    "a file name" },
	{ "match", "state", K_OPTSTR, F(match_state), 0, 0,
	    "a file name" },

	{ "notify", "from", K_OPTSTR, F(notice_from), 0, 0, "a mail address" },
	{ "notify", "mta", K_STR, F(mta), 0, 0, "a command" },
	{ "notify", "providers", K_OPTSTR, F(providers), 0, 0,
	    "a file name" },
	{ "notify", "providers_replace", K_BOOL, F(providers_replace), 0, 0,
	    "true or false" },
	{ "notify", "hotline", K_OPTSTR, F(hotline), 0, 0, "a name" },
	{ "notify", "contact", K_OPTSTR, F(notice_contact), 0, 0,
	    "a mail address" },
	{ "notify", "address", K_OPTSTR, F(hotline_address), 0, 0,
	    "a postal address" },
	{ "notify", "trusted_flagger", K_LANGTEXT, F(trusted_flagger), 0, 0,
	    "a sentence, or a mapping of fr and en to sentences" },
	{ "notify", "help", K_LANGTEXT, F(victim_help), 0, 0,
	    "a sentence, or a mapping of fr and en to sentences" },
	{ "notify", "language", K_STR, F(notice_language), 0, 0,
	    "a language code (fr or en)" },
	{ "notify", "rdap", K_STR, F(rdap), 0, 0, "an RDAP service URL" },
	{ "notify", "rdap_timeout", K_INT, F(rdap_timeout), 1, 300,
	    "a whole number of seconds" },
	{ "notify", "rdap_allow_loopback", K_BOOL, F(rdap_allow_loopback),
	    0, 0, "true or false" },
	{ "notify", "templates", K_OPTSTR, F(templates), 0, 0,
	    "a directory name" },
	{ "notify", "max_reminders", K_INT, F(max_reminders), 0, 100,
	    "a whole number from 0 to 100" },

	{ "export", "signing_key", K_OPTSTR, F(signing_key), 0, 0,
	    "a file name" },
	{ "export", "public_key", K_OPTSTR, F(public_key), 0, 0,
	    "a file name" },
};

#define NKEYS (sizeof keys / sizeof keys[0])

/* The walk over the events of one file. */
struct walk {
	struct dz_yaml y;
	struct dz_config *c;
	struct dz_err *err;
	unsigned char seen[NKEYS];
};

static char **
str_field(struct dz_config *c, const struct key *k)
{
	return (char **)((char *)c + k->off);
}

/*
 * Whether an unknown key may be quoted in a message: it looks like a key
 * name (letters, digits, '_', '-', at most 40 bytes). Anything else might
 * be a value typed in the wrong place, perhaps a secret, and is not shown.
 */
static int
show_key(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 40)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return 0;
	}
	return 1;
}

static const struct key *
find_key(const char *section, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];

		if ((section == NULL) != (k->section == NULL))
			continue;
		if (section && strcmp(section, k->section))
			continue;
		if (strlen(k->name) == n && !memcmp(k->name, name, n))
			return k;
	}
	return NULL;
}

/* "retention.personal_data_days" or "store", into buf. */
static const char *
key_path(char *buf, size_t size, const struct key *k)
{
	if (k->section)
		snprintf(buf, size, "%s.%s", k->section, k->name);
	else
		snprintf(buf, size, "%s", k->name);
	return buf;
}

/* Decimal digits without sign, spaces or leading zeros; saturates. */
static int
parse_decimal(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (x > (UINT64_MAX - 9) / 10)
			x = UINT64_MAX;
		else
			x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return 0;
}

static int set_value(struct walk *w, const struct key *k, unsigned long line);

/* A K_LANGTEXT's fields for fr and en, beside the one for every language. */
static size_t
langtext_field(const struct key *k, int fr)
{
	if (k->off == F(trusted_flagger))
		return fr ? F(trusted_flagger_fr) : F(trusted_flagger_en);
	return fr ? F(victim_help_fr) : F(victim_help_en);
}

/* A K_LANGTEXT given as a mapping: fr and en, each text, each once. */
static int
set_langtext(struct walk *w, const struct key *k, unsigned long line)
{
	char kp[MAX_KEY * 2 + 2];

	key_path(kp, sizeof kp, k);
	for (;;) {
		struct key one = *k;
		const char *name;
		unsigned long l;

		if (dz_yaml_next(&w->y))
			return -1;
		if (w->y.ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		l = dz_yaml_line(&w->y.ev);
		name = (const char *)w->y.ev.data.scalar.value;
		if (w->y.ev.type != YAML_SCALAR_EVENT ||
		    (strcmp(name, "fr") && strcmp(name, "en")))
			return dz_err_set(w->err, EX_CONFIG, "%s:%lu: %s: expected "
			    "the language fr or en", w->y.name, l, kp);
		one.kind = K_OPTSTR;
		one.off = langtext_field(k, name[0] == 'f');
		if (*str_field(w->c, &one))
			return dz_err_set(w->err, EX_CONFIG, "%s:%lu: %s: %s "
			    "given twice", w->y.name, l, kp, name);
		if (dz_yaml_next(&w->y) || set_value(w, &one, line))
			return -1;
	}
}

/* Set k from the current event, the value of the key on line line. */
static int
set_value(struct walk *w, const struct key *k, unsigned long line)
{
	const yaml_event_t *ev = &w->y.ev;
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length, i;
	char kp[MAX_KEY * 2 + 2];
	uint64_t x;
	char *s, **field;

	key_path(kp, sizeof kp, k);

	if (k->kind == K_INT || k->kind == K_U64) {
		if (ev->type != YAML_SCALAR_EVENT ||
		    parse_decimal(v, n, &x) || x < k->min || x > k->max)
			return dz_err_set(w->err, EX_CONFIG,
			    "%s:%lu: %s: expected %s from %llu to %llu",
			    w->y.name, line, kp, k->what,
			    (unsigned long long)k->min,
			    (unsigned long long)k->max);
		if (k->kind == K_INT)
			*(int *)((char *)w->c + k->off) = (int)x;
		else
			*(uint64_t *)((char *)w->c + k->off) = x;
		return 0;
	}

	if (k->kind == K_BOOL) {
		int b = n == 4 && !memcmp(v, "true", 4) ? 1 :
		    n == 5 && !memcmp(v, "false", 5) ? 0 : -1;

		if (ev->type != YAML_SCALAR_EVENT || b < 0)
			return dz_err_set(w->err, EX_CONFIG,
			    "%s:%lu: %s: expected %s", w->y.name, line, kp,
			    k->what);
		*(int *)((char *)w->c + k->off) = b;
		return 0;
	}

	if (k->kind == K_LANGTEXT && ev->type == YAML_MAPPING_START_EVENT)
		return set_langtext(w, k, line);

	/* K_STR, K_OPTSTR, K_LANGTEXT's string */
	field = str_field(w->c, k);
	if (ev->type != YAML_SCALAR_EVENT || (k->kind == K_STR && dz_yaml_is_null(ev)))
		return dz_err_set(w->err, EX_CONFIG, "%s:%lu: %s: expected %s",
		    w->y.name, line, kp, k->what);
	if (dz_yaml_is_null(ev)) {
		free(*field);
		*field = NULL;
		return 0;
	}
	if (n == 0)
		return dz_err_set(w->err, EX_CONFIG,
		    "%s:%lu: %s: must not be empty", w->y.name, line, kp);
	if (n > MAX_STRING)
		return dz_err_set(w->err, EX_CONFIG,
		    "%s:%lu: %s: longer than %d bytes", w->y.name, line, kp,
		    MAX_STRING);
	/* Control characters (NUL, newline...) have no business in a path,
	 * a command or a mail header, where they could do harm. */
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] == 0x7f)
			return dz_err_set(w->err, EX_CONFIG,
			    "%s:%lu: %s: must not contain control characters",
			    w->y.name, line, kp);
	if (!(s = malloc(n + 1)))
		return dz_err_set(w->err, EX_SOFTWARE, "out of memory");
	memcpy(s, v, n);
	s[n] = '\0';
	free(*field);
	*field = s;
	return 0;
}

/*
 * The current event starts a mapping (or is a null scalar, an empty
 * mapping); read its keys, which belong to section (NULL: top level).
 */
static int
walk_mapping(struct walk *w, const char *section)
{
	if (w->y.ev.type == YAML_SCALAR_EVENT)	/* null: no settings */
		return 0;

	for (;;) {
		const struct key *k;
		const char *name;
		unsigned long line;
		size_t n;

		if (dz_yaml_next(&w->y))
			return -1;
		if (w->y.ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		line = dz_yaml_line(&w->y.ev);
		if (w->y.ev.type != YAML_SCALAR_EVENT) {
			if (section)
				return dz_err_set(w->err, EX_CONFIG,
				    "%s:%lu: %s: expected a key name", w->y.name,
				    line, section);
			return dz_err_set(w->err, EX_CONFIG,
			    "%s:%lu: expected a key name", w->y.name, line);
		}
		name = (const char *)w->y.ev.data.scalar.value;
		n = w->y.ev.data.scalar.length;
		if (!(k = find_key(section, name, n))) {
			if (!show_key(name, n))
				return dz_err_set(w->err, EX_CONFIG,
				    "%s:%lu: unknown key in %s", w->y.name, line,
				    section ? section : "the top level");
			return dz_err_set(w->err, EX_CONFIG,
			    "%s:%lu: unknown key '%s%s%.*s'", w->y.name, line,
			    section ? section : "", section ? "." : "",
			    (int)n, name);
		}
		if (w->seen[k - keys]++) {
			char kp[MAX_KEY * 2 + 2];

			return dz_err_set(w->err, EX_CONFIG,
			    "%s:%lu: duplicate key '%s'", w->y.name, line,
			    key_path(kp, sizeof kp, k));
		}

		if (dz_yaml_next(&w->y))
			return -1;
		if (k->kind == K_SECTION) {
			if (w->y.ev.type != YAML_MAPPING_START_EVENT &&
			    !dz_yaml_is_null(&w->y.ev))
				return dz_err_set(w->err, EX_CONFIG,
				    "%s:%lu: %s: expected %s", w->y.name, line,
				    k->name, k->what);
			if (walk_mapping(w, k->name))
				return -1;
		} else if (set_value(w, k, line))
			return -1;
	}
}

static int
walk_stream(struct walk *w)
{
	int r = dz_yaml_begin(&w->y);

	if (r)
		return r < 0 ? -1 : 0;	/* empty, or comments: defaults */
	if (w->y.ev.type != YAML_MAPPING_START_EVENT &&
	    !dz_yaml_is_null(&w->y.ev))
		return dz_err_set(w->err, EX_CONFIG,
		    "%s:%lu: expected a mapping of settings at the top level",
		    w->y.name, dz_yaml_line(&w->y.ev));
	if (walk_mapping(w, NULL))
		return -1;
	return dz_yaml_end(&w->y);
}

int
dz_config_default(struct dz_config *c, struct dz_err *err)
{
	memset(c, 0, sizeof *c);
	c->max_upload_bytes = (uint64_t)256 << 20;
	c->max_urls = 100;
	c->max_files = 100;
	c->max_description_bytes = 8192;
	c->personal_data_days = 14;
	c->max_reminders = 2;
	c->unverified_media_days = 30;
	c->withdrawn_hash_days = 30;
	c->rejected_days = 7;
	c->pdq_threshold = 31;
	c->min_quality = 50;
	c->rdap_timeout = 10;
	if (!(c->store = strdup("./dz-data")) ||
	    !(c->master_key = strdup("./dz-master.key")) ||
	    !(c->mta = strdup("sendmail -t -oi")) ||
	    !(c->notice_language = strdup("fr")) ||
	    !(c->rdap = strdup("https://rdap.org"))) {
		dz_config_release(c);
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	}
	return 0;
}

int
dz_config_load_text(struct dz_config *c, const char *name, const char *text,
    size_t len, struct dz_err *err)
{
	struct walk w;
	int rc;

	if (!name)
		name = "(config)";
	if (dz_config_default(c, err))
		return -1;
	if (len > MAX_FILE_BYTES) {
		dz_config_release(c);
		return dz_err_set(err, EX_CONFIG,
		    "%s: larger than %d bytes", name, MAX_FILE_BYTES);
	}
	if (!(c->path = strdup(name))) {
		dz_config_release(c);
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	}

	memset(&w, 0, sizeof w);
	w.c = c;
	w.err = err;
	if (dz_yaml_open(&w.y, name, text, len, err)) {
		dz_yaml_close(&w.y);
		dz_config_release(c);
		return -1;
	}
	rc = walk_stream(&w);
	dz_yaml_close(&w.y);
	if (rc)
		dz_config_release(c);
	return rc;
}

/* Read at most MAX_FILE_BYTES + 1 bytes of path into *buf. */
static int
read_file(const char *path, char **buf, size_t *len, struct dz_err *err)
{
	size_t cap = 8192, n = 0;
	struct stat st;
	char *b, *nb;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return dz_err_set(err, EX_NOINPUT,
		    "cannot open configuration '%s': %s", path,
		    strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return dz_err_set(err, EX_NOINPUT,
		    "cannot read configuration '%s': %s", path,
		    strerror(EISDIR));
	}
	if (!(b = malloc(cap))) {
		close(fd);
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	}
	for (;;) {
		if (n == cap) {
			if (cap > MAX_FILE_BYTES)
				break;		/* already too large */
			cap *= 2;
			if (!(nb = realloc(b, cap))) {
				free(b);
				close(fd);
				return dz_err_set(err, EX_SOFTWARE,
				    "out of memory");
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(b);
			close(fd);
			return dz_err_set(err, EX_NOINPUT,
			    "cannot read configuration '%s': %s", path,
			    strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*buf = b;
	*len = n;
	return 0;
}

int
dz_config_load(struct dz_config *c, const char *opt_path, struct dz_err *err)
{
	const char *path = opt_path, *env;
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(c, 0, sizeof *c);
	if (!path && (env = getenv("DZ_CONFIG")) && *env)
		path = env;
	if (!path && access(SYSTEM_CONFIG, F_OK) == 0)
		path = SYSTEM_CONFIG;
	if (!path)
		return dz_config_default(c, err);

	if (read_file(path, &text, &len, err))
		return -1;
	rc = dz_config_load_text(c, path, text, len, err);
	free(text);
	return rc;
}

const char *
dz_config_text(const struct dz_config *c, const char *name, const char *lang)
{
	int help = strcmp(name, "help") == 0;
	const char *own = !lang ? NULL : strcmp(lang, "fr") == 0 ?
	    (help ? c->victim_help_fr : c->trusted_flagger_fr) :
	    strcmp(lang, "en") == 0 ?
	    (help ? c->victim_help_en : c->trusted_flagger_en) : NULL;

	return own ? own : help ? c->victim_help : c->trusted_flagger;
}

void
dz_config_release(struct dz_config *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->store);
	free(c->master_key);
	free(c->notice_from);
	free(c->mta);
	free(c->providers);
	free(c->templates);
	free(c->hotline);
	free(c->notice_contact);
	free(c->hotline_address);
	free(c->trusted_flagger);
	free(c->trusted_flagger_fr);
	free(c->trusted_flagger_en);
	free(c->victim_help);
	free(c->victim_help_fr);
	free(c->victim_help_en);
	free(c->notice_language);
	free(c->rdap);
	free(c->signing_key);
	free(c->public_key);
	free(c->match_public_key);
	free(c->match_state);
	memset(c, 0, sizeof *c);
}
