/*
 * t/unit/test-template: lib/notice/template, the Mustache subset of dz-notify's
 * messages: variables, dotted names, sections over booleans, strings,
 * objects and arrays, inverted sections, standalone tag lines, and every
 * malformed template refused with its line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "tap.h"
#include "notice/template.h"

static json_t *data;

/* Render tpl; compare with want (NULL: must fail with a message that
 * contains err_part). */
static void
check(const char *tpl, const char *want, const char *err_part,
    const char *what)
{
	struct dz_err err;
	char *out = NULL;
	size_t len = 0;
	int rc = dz_template_render("t", tpl, strlen(tpl), data, &out, &len,
	    &err);

	if (want) {
		ok(rc == 0 && out && strcmp(out, want) == 0 &&
		    len == strlen(want), "%s", what);
		if (rc || strcmp(out, want))
			diag("got [%s] (%s)", rc ? "" : out,
			    rc ? err.msg : "");
	} else {
		ok(rc == -1 && err.code == EX_CONFIG && !out &&
		    strstr(err.msg, err_part), "%s: %s", what,
		    rc ? err.msg : "rendered");
	}
	free(out);
}

/* depth {{#yes}} sections around inner, in buf (room for 17 and "ok"). */
static const char *
nested(char *buf, int depth, const char *inner)
{
	size_t o = 0;

	for (int i = 0; i < depth; i++)
		o += (size_t)sprintf(buf + o, "{{#yes}}");
	o += (size_t)sprintf(buf + o, "%s", inner);
	for (int i = 0; i < depth; i++)
		o += (size_t)sprintf(buf + o, "{{/yes}}");
	return buf;
}

/* Templates and what they render to (want), or, if want is NULL, the
 * part of the error message they fail with. */
static const struct {
	const char *tpl, *want, *err_part, *what;
} cases[] = {
	{ "plain text\n", "plain text\n", NULL, "text passes through" },
	{ "", "", NULL, "an empty template renders empty" },
	{ "Dear {{name}} team", "Dear Discord team", NULL, "a variable" },
	{ "{{ name }}", "Discord", NULL, "blanks inside a tag" },
	{ "{{n}} urls", "3 urls", NULL, "a number" },
	{ "[{{missing}}{{nul}}{{no}}]", "[]", NULL,
	    "missing, null and false render nothing" },
	{ "{{hotline.name}} {{hotline.addr.city}}", "PdC Paris", NULL,
	    "dotted names" },
	{ "{{hotline.nothing.deeper}}.", ".", NULL,
	    "a dotted name that leads nowhere" },
	{ "{{#yes}}Y{{/yes}}{{#no}}N{{/no}}", "Y", NULL,
	    "sections on booleans" },
	{ "{{^no}}not{{/no}}{{^yes}}X{{/yes}}", "not", NULL,
	    "inverted sections" },
	{ "{{#empty}}E{{/empty}}{{^empty}}e{{/empty}}"
	    "{{#none}}A{{/none}}{{^none}}a{{/none}}"
	    "{{#missing}}M{{/missing}}{{^missing}}m{{/missing}}", "eam", NULL,
	    "empty string, empty list and missing names are false" },
	{ "{{#urls}}- {{url}}{{#minor}} (minor){{/minor}} [{{name}}]\n"
	    "{{/urls}}", "- https://a.example/1 (minor) [Discord]\n"
	    "- https://b.example/2 [Discord]\n", NULL,
	    "a list: elements' names and outer names" },
	{ "{{#hotline}}{{name}}/{{addr.city}}{{/hotline}}", "PdC/Paris",
	    NULL, "an object section opens its names" },
	{ "a\n{{#yes}}\nin\n{{/yes}}\nb\n", "a\nin\nb\n", NULL,
	    "standalone section lines disappear" },
	{ "a\n  {{#no}}  \nin\n  {{/no}}\nb\n", "a\nb\n", NULL,
	    "standalone lines with blanks disappear" },
	{ "a\n{{! a comment }}\nb", "a\nb", NULL,
	    "a standalone comment disappears" },
	{ "{{! a comment\n  over lines }}\nb {{name}}", "b Discord",
	    NULL, "a comment over lines" },
	{ "{{! two\nlines }}\n{{#yes}}\n{{/no}}\n", NULL,
	    "line 4: the close does not match the section of line 3",
	    "lines are counted through a comment" },
	{ "x {{#yes}}y{{/yes}} z\n", "x y z\n", NULL,
	    "tags inside a line stay inline" },
	{ "{{#yes}}{{/yes}}\nnext", "\nnext", NULL,
	    "two tags on one line are not standalone" },
	{ "{{#urls}}\n{{url}}\n{{/urls}}", "https://a.example/1\n"
	    "https://b.example/2\n", NULL, "a standalone list" },
	/* malformed templates */
	{ "a\n{{#yes}}\nb\n", NULL, "line 2: a section is not closed",
	    "an unclosed section" },
	{ "{{#yes}}{{/no}}", NULL, "does not match",
	    "a mismatched close" },
	{ "a\nb {{/yes}}", NULL, "line 2: a close without a section",
	    "a close without a section" },
	{ "x {{name", NULL, "line 1: a tag is not closed",
	    "a tag not closed" },
	{ "x {{name\n}}", NULL, "not closed on its line",
	    "a tag across lines" },
	{ "{{}}", NULL, "a tag needs a name", "an empty tag" },
	{ "{{#}}{{/}}", NULL, "a tag needs a name", "an empty section" },
	{ "{{na me}}", NULL, "a name is letters", "a blank in a name" },
	{ "{{&name}}", NULL, "a name is letters", "unknown tag kinds" },
};

int
main(void)
{
	char deep[17 * 16 + 64];
	json_error_t je;

	data = json_loads("{\"name\":\"Discord\",\"n\":3,\"yes\":true,"
	    "\"no\":false,\"nul\":null,\"empty\":\"\",\"none\":[],"
	    "\"hotline\":{\"name\":\"PdC\",\"addr\":{\"city\":\"Paris\"}},"
	    "\"urls\":[{\"url\":\"https://a.example/1\",\"minor\":true},"
	    "{\"url\":\"https://b.example/2\",\"minor\":false}]}", 0, &je);
	if (!data) {
		diag("bad test data: %s", je.text);
		return 1;
	}
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check(cases[i].tpl, cases[i].want, cases[i].err_part,
		    cases[i].what);
	check(nested(deep, 17, ""), NULL, "nest too deep",
	    "17 nested sections");
	check(nested(deep, 16, "ok"), "ok", NULL, "16 nested sections render");
	json_decref(data);
	return tap_done();
}
