/*
 * lib/notice/template: plain-text templates, a small subset of Mustache over a
 * jansson object, for the messages dz-notify writes.
 *
 *	{{name}}		the value of name: a string, or a number;
 *				nothing for null, false or a missing name
 *	{{a.b}}			dotted names look into objects
 *	{{#name}}...{{/name}}	a section: rendered once for true, a
 *				non-empty string or a number, once per
 *				element of an array (an element's members
 *				are names inside, the outer names too),
 *				once inside an object; skipped for false,
 *				null, "", [] or a missing name
 *	{{^name}}...{{/name}}	inverted: rendered exactly when the section
 *				would be skipped
 *	{{! a comment }}
 *
 * A line that holds nothing but one section, inverted, closing or comment
 * tag (and blanks) disappears with its newline, so that templates can put
 * tags on lines of their own. Values are not escaped: the output is plain
 * text. Sections nest at most 16 deep.
 *
 * Errors name the template and the line (EX_CONFIG): an unclosed or
 * mismatched section, a tag that is not closed, an empty name.
 *
 * May use: core/ (err); jansson.
 */
#ifndef DZ_TEMPLATE_H
#define DZ_TEMPLATE_H

#include <stddef.h>

#include <jansson.h>

struct dz_err;

/*
 * Render tpl[0..len) with data; *out is malloc'd and NUL-terminated
 * (owned by the caller), *outlen its length.
 */
int dz_template_render(const char *name, const char *tpl, size_t len,
    json_t *data, char **out, size_t *outlen, struct dz_err *err);

#endif
