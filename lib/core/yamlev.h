/*
 * lib/core/yamlev: walking a YAML text event by event with libyaml, for the
 * small files of fixed shape we read (dz.yaml, the provider directory).
 *
 * Walking events rather than loading a document lets a reader refuse
 * anchors, aliases and tags before libyaml resolves them (an alias bomb
 * never expands) and stop at the first thing it does not expect.
 * Messages name the file and the line, never a value.
 *
 * May use: core/ (err); libyaml.
 */
#ifndef DZ_YAMLEV_H
#define DZ_YAMLEV_H

#include <stddef.h>

#include <yaml.h>

struct dz_err;

struct dz_yaml {
	yaml_parser_t parser;
	yaml_event_t ev;		/* the current event */
	int have_ev;			/* ev must be deleted */
	const char *name;		/* the file, for messages */
	const char *text;		/* for the line of a reader error */
	size_t len;
	struct dz_err *err;
};

/*
 * Start walking text[0..len) (not copied: it must outlive the walk).
 * 0, or -1 with EX_SOFTWARE when out of memory. Always dz_yaml_close.
 */
int dz_yaml_open(struct dz_yaml *y, const char *name, const char *text,
    size_t len, struct dz_err *err);
void dz_yaml_close(struct dz_yaml *y);

/*
 * The next event into y->ev. -1 with EX_CONFIG "NAME:LINE: YAML syntax
 * error: ..." or "... YAML aliases (anchors, tags) are not allowed".
 */
int dz_yaml_next(struct dz_yaml *y);

/*
 * The stream and document starts: 1 when the text holds no document
 * (empty, or comments only), 0 with y->ev the document's first node.
 */
int dz_yaml_begin(struct dz_yaml *y);
/* After the document's node: its end and the stream's (EX_CONFIG "more
 * than one YAML document"). */
int dz_yaml_end(struct dz_yaml *y);

/* A plain empty, "~" or "null" scalar: YAML's null. */
int dz_yaml_is_null(const yaml_event_t *ev);
/* The line (from 1) where ev starts. */
unsigned long dz_yaml_line(const yaml_event_t *ev);

#endif
