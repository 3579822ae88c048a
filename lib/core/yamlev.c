/*
 * lib/core/yamlev: libyaml events with our refusals. See yamlev.h.
 */
#include <string.h>

#include "core/err.h"
#include "core/yamlev.h"

unsigned long
dz_yaml_line(const yaml_event_t *ev)
{
	return (unsigned long)ev->start_mark.line + 1;
}

/* Line (from 1) of byte off of the text: for reader errors, which have
 * an offset but no mark. */
static unsigned long
offset_line(const char *text, size_t len, size_t off)
{
	unsigned long line = 1;
	size_t i;

	if (off > len)
		off = len;
	for (i = 0; i < off; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

int
dz_yaml_open(struct dz_yaml *y, const char *name, const char *text,
    size_t len, struct dz_err *err)
{
	memset(y, 0, sizeof *y);
	y->name = name;
	y->text = text;
	y->len = len;
	y->err = err;
	if (!yaml_parser_initialize(&y->parser))
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	yaml_parser_set_input_string(&y->parser, (const unsigned char *)text,
	    len);
	return 0;
}

void
dz_yaml_close(struct dz_yaml *y)
{
	if (y->have_ev)
		yaml_event_delete(&y->ev);
	y->have_ev = 0;
	yaml_parser_delete(&y->parser);
}

int
dz_yaml_next(struct dz_yaml *y)
{
	yaml_parser_t *p = &y->parser;
	const char *anchor = NULL, *tag = NULL;

	if (y->have_ev) {
		yaml_event_delete(&y->ev);
		y->have_ev = 0;
	}
	if (!yaml_parser_parse(p, &y->ev)) {
		unsigned long line;

		if (p->error == YAML_MEMORY_ERROR)
			return dz_err_set(y->err, EX_SOFTWARE,
			    "%s: out of memory", y->name);
		if (p->error == YAML_READER_ERROR)
			line = offset_line(y->text, y->len, p->problem_offset);
		else
			line = (unsigned long)p->problem_mark.line + 1;
		/* libyaml's problem texts are fixed strings, not content. */
		return dz_err_set(y->err, EX_CONFIG,
		    "%s:%lu: YAML syntax error: %s", y->name, line,
		    p->problem ? p->problem : "unknown problem");
	}
	y->have_ev = 1;

	switch (y->ev.type) {
	case YAML_ALIAS_EVENT:
		return dz_err_set(y->err, EX_CONFIG,
		    "%s:%lu: YAML aliases are not allowed", y->name,
		    dz_yaml_line(&y->ev));
	case YAML_SCALAR_EVENT:
		anchor = (const char *)y->ev.data.scalar.anchor;
		tag = (const char *)y->ev.data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = (const char *)y->ev.data.sequence_start.anchor;
		tag = (const char *)y->ev.data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = (const char *)y->ev.data.mapping_start.anchor;
		tag = (const char *)y->ev.data.mapping_start.tag;
		break;
	default:
		break;
	}
	if (anchor)
		return dz_err_set(y->err, EX_CONFIG,
		    "%s:%lu: YAML anchors are not allowed", y->name,
		    dz_yaml_line(&y->ev));
	if (tag)
		return dz_err_set(y->err, EX_CONFIG,
		    "%s:%lu: YAML tags are not allowed", y->name,
		    dz_yaml_line(&y->ev));
	return 0;
}

int
dz_yaml_begin(struct dz_yaml *y)
{
	if (dz_yaml_next(y))
		return -1;
	if (y->ev.type != YAML_STREAM_START_EVENT)
		return dz_err_set(y->err, EX_SOFTWARE,
		    "%s: libyaml: no stream start", y->name);
	if (dz_yaml_next(y))
		return -1;
	if (y->ev.type == YAML_STREAM_END_EVENT)	/* empty, or comments */
		return 1;
	if (y->ev.type != YAML_DOCUMENT_START_EVENT)
		return dz_err_set(y->err, EX_SOFTWARE,
		    "%s: libyaml: no document start", y->name);
	return dz_yaml_next(y);
}

int
dz_yaml_end(struct dz_yaml *y)
{
	if (dz_yaml_next(y))				/* document end */
		return -1;
	if (dz_yaml_next(y))
		return -1;
	if (y->ev.type != YAML_STREAM_END_EVENT)
		return dz_err_set(y->err, EX_CONFIG,
		    "%s:%lu: more than one YAML document", y->name,
		    dz_yaml_line(&y->ev));
	return 0;
}

int
dz_yaml_is_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;

	if (ev->type != YAML_SCALAR_EVENT ||
	    ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return n == 0 || (n == 1 && v[0] == '~') ||
	    (n == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) ||
	    !memcmp(v, "NULL", 4)));
}
