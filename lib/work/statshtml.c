/*
 * lib/work/statshtml: the statistics as an HTML page. See statshtml.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "work/stats.h"
#include "work/statshtml.h"

#define CSP "default-src 'none'; style-src 'unsafe-inline'"

/* The charts' geometry, in pixels. */
#define LABEL_W 190
#define BAR_W 300
#define ROW_H 22

static const char style[] =
"body{font:15px/1.45 system-ui,sans-serif;color:#1d1d1d;background:#fff;"
"max-width:54em;margin:2em auto;padding:0 1em}\n"
"h1{font-size:1.5em;margin-bottom:.2em}\n"
"h2{font-size:1.15em;margin-top:2.2em;border-bottom:1px solid #bbb}\n"
"table{border-collapse:collapse;margin:.6em 0}\n"
"th,td{padding:.2em .7em;border-bottom:1px solid #e4e4e4;text-align:left;"
"vertical-align:top}\n"
"thead th{border-bottom:1px solid #999}\n"
"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\n"
"p.note{color:#555;font-size:.9em}\n"
"svg{display:block;margin:.6em 0;max-width:100%}\n"
"svg text{font:13px system-ui,sans-serif;fill:#1d1d1d}\n"
".key span{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 .9em;"
"vertical-align:-.1em}\n"
"footer{margin-top:3em;color:#555;font-size:.85em}\n";

/* Colours: verdicts, outcomes, plain bars. */
#define C_ILLEGAL "#b2432f"
#define C_NOT "#8a8f98"
#define C_REVIEW "#d9a032"
#define C_BAR "#3b6ea8"

/* Escape text for an element or an attribute value. */
static void
esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			/* no control character reaches the page */
			if ((unsigned char)*s < 0x20 && *s != '\t')
				fputc(' ', f);
			else
				fputc(*s, f);
		}
	}
}

static void
num(FILE *f, int64_t v)
{
	fprintf(f, "%lld", (long long)v);
}

/* A figure's cell, with an id for tests when id is not NULL. */
static void
cell(FILE *f, int64_t v, const char *id)
{
	if (id)
		fprintf(f, "<td class=\"n\" id=\"%s\">", id);
	else
		fputs("<td class=\"n\">", f);
	num(f, v);
	fputs("</td>", f);
}

/* A row of a two-column table: label, figure (with an id for tests). */
static void
row(FILE *f, const char *id, const char *label, int64_t v)
{
	fprintf(f, "<tr><th scope=\"row\">%s</th>", label);
	cell(f, v, id);
	fputs("</tr>\n", f);
}

/* Tenths of a day as "1.5"; "-" with no figure. */
static void
days(FILE *f, const char *id, int64_t tenths, int have)
{
	fprintf(f, "<td class=\"n\" id=\"%s\">", id);
	if (have)
		fprintf(f, "%lld.%lld", (long long)(tenths / 10),
		    (long long)(tenths % 10));
	else
		fputs("&#8211;", f);
	fputs("</td>", f);
}

/* Bar length for v against the largest value max. */
static int
bar_len(int64_t v, int64_t max)
{
	int w;

	if (v <= 0 || max <= 0)
		return 0;
	w = (int)(v * BAR_W / max);
	return w ? w : 1;
}

struct bar {
	const char *label;	/* escaped when drawn */
	int64_t v;
};

/* A horizontal bar chart of n bars, the longest for max. */
static void
chart_begin(FILE *f, const char *title, size_t n)
{
	int h = (int)n * ROW_H + 6;

	fprintf(f, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	    "role=\"img\" aria-label=\"", LABEL_W + BAR_W + 70, h,
	    LABEL_W + BAR_W + 70, h);
	esc(f, title);
	fputs("\">\n", f);
}

/* Bar i: its label, the bar, its value after it. */
static void
chart_bar(FILE *f, size_t i, const char *label, int64_t v, int64_t max)
{
	int y = (int)i * ROW_H + 3, w = bar_len(v, max);

	fprintf(f, "<text x=\"0\" y=\"%d\">", y + 15);
	esc(f, label);
	fprintf(f, "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" "
	    "height=\"16\" fill=\"" C_BAR "\"/><text x=\"%d\" y=\"%d\">",
	    LABEL_W, y + 2, w, LABEL_W + w + 6, y + 15);
	num(f, v);
	fputs("</text>\n", f);
}

static void
chart(FILE *f, const char *title, const struct bar *b, size_t n)
{
	int64_t max = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i].v > max)
			max = b[i].v;
	chart_begin(f, title, n);
	for (i = 0; i < n; i++)
		chart_bar(f, i, b[i].label, b[i].v, max);
	fputs("</svg>\n", f);
}

static const char *const kind_label[DZ_STATS_KINDS] = {
	"Images", "Videos", "URLs"
};
static const char *const cat_label[DZ_STATS_CATS] = {
	"Intimate images of adults", "Minors", "Other illegal content"
};
static const char *const outcome_label[DZ_STATS_OUTCOMES] = {
	"Removed", "Report withdrawn", "Notified, not removed yet",
	"Notice due", "Provider's form, by hand", "No provider known"
};

/* The items by kind, one bar each, split by verdict. */
static void
items_chart(FILE *f, const struct dz_stats *st)
{
	static const int order[DZ_STATS_STATES] = {
		DZ_STATS_ILLEGAL, DZ_STATS_NOT_ILLEGAL, DZ_STATS_REVIEW
	};
	static const char *const colour[DZ_STATS_STATES] = {
		C_ILLEGAL, C_NOT, C_REVIEW
	};
	int64_t tot[DZ_STATS_KINDS], max = 0;
	int k, i, x, y, w, h = DZ_STATS_KINDS * ROW_H + 6;

	for (k = 0; k < DZ_STATS_KINDS; k++) {
		tot[k] = 0;
		for (i = 0; i < DZ_STATS_STATES; i++)
			tot[k] += st->items[k][i];
		if (tot[k] > max)
			max = tot[k];
	}
	fprintf(f, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	    "role=\"img\" aria-label=\"Items by kind and verdict\">\n",
	    LABEL_W + BAR_W + 70, h, LABEL_W + BAR_W + 70, h);
	for (k = 0; k < DZ_STATS_KINDS; k++) {
		y = k * ROW_H + 3;
		fprintf(f, "<text x=\"0\" y=\"%d\">%s</text>", y + 15,
		    kind_label[k]);
		x = LABEL_W;
		for (i = 0; i < DZ_STATS_STATES; i++) {
			/* segments scaled on the whole, so bars compare */
			w = bar_len(st->items[k][order[i]], max);
			if (!w)
				continue;
			fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" "
			    "height=\"16\" fill=\"%s\"/>", x, y + 2, w,
			    colour[i]);
			x += w;
		}
		fprintf(f, "<text x=\"%d\" y=\"%d\">", x + 6, y + 15);
		num(f, tot[k]);
		fputs("</text>\n", f);
	}
	fputs("</svg>\n<p class=\"key\"><span style=\"background:" C_ILLEGAL
	    "\"></span>illegal<span style=\"background:" C_NOT
	    "\"></span>not illegal<span style=\"background:" C_REVIEW
	    "\"></span>awaiting a verdict</p>\n", f);
}

static void
head(FILE *f, const struct dz_stats *st, const char *hotline)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"" CSP
	    "\">\n<meta name=\"referrer\" content=\"no-referrer\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n<title>", f);
	if (hotline) {
		esc(f, hotline);
		fputs(": ", f);
	}
	fprintf(f, "statistics %s to %s</title>\n<style>\n%s</style>\n"
	    "</head>\n<body>\n<h1>", st->from[0] ? st->from : "start",
	    st->to, style);
	if (hotline) {
		esc(f, hotline);
		fputs(": statistics", f);
	} else {
		fputs("Statistics of the hotline", f);
	}
	fputs("</h1>\n<p>Period: ", f);
	if (st->from[0])
		fprintf(f, "from <time id=\"from\">%s</time> ", st->from);
	else
		fputs("from the first report ", f);
	fprintf(f, "to <time id=\"to\">%s</time>, this instant excluded. "
	    "Figures as of <time id=\"made\">%s</time>.</p>\n", st->to,
	    st->made);
}

static void
reports(FILE *f, const struct dz_stats *st)
{
	struct bar age[3] = {
		{ "Under 18", st->minor }, { "18 or over", st->adult },
		{ "Age not given", st->age_unknown }
	};

	fputs("<h2>Reports received in the period</h2>\n<table>\n", f);
	row(f, "reports", "Reports", st->reports);
	row(f, "withdrawn", "Withdrawn since by their author", st->withdrawn);
	row(f, "minor", "Declared age under 18", st->minor);
	row(f, "adult", "Declared age 18 or over", st->adult);
	/* the schema allows no age; dz-ingest does not */
	if (st->age_unknown)
		row(f, "age-unknown", "Age not given", st->age_unknown);
	row(f, "followup", "Asked for an answer", st->followup);
	fputs("</table>\n", f);
	chart(f, "Reports by declared age", age, st->age_unknown ? 3 : 2);
}

static void
items(FILE *f, const struct dz_stats *st)
{
	char id[64];
	int k, i;

	fputs("<h2>Items of these reports, and the verdicts</h2>\n"
	    "<p>Each uploaded image or video, and each reported URL, is an "
	    "item; its verdict is the latest an analyst gave.</p>\n"
	    "<table>\n<thead><tr><th></th><th class=\"n\">Items</th>"
	    "<th class=\"n\">Illegal</th><th class=\"n\">Not illegal</th>"
	    "<th class=\"n\">Awaiting a verdict</th></tr></thead>\n<tbody>\n",
	    f);
	for (k = 0; k < DZ_STATS_KINDS; k++) {
		int64_t tot = 0;

		for (i = 0; i < DZ_STATS_STATES; i++)
			tot += st->items[k][i];
		fprintf(f, "<tr><th scope=\"row\">%s</th>", kind_label[k]);
		snprintf(id, sizeof id, "items-%s", dz_stats_kind_name(k));
		cell(f, tot, id);
		for (i = 0; i < DZ_STATS_STATES; i++) {
			static const int order[] = { DZ_STATS_ILLEGAL,
			    DZ_STATS_NOT_ILLEGAL, DZ_STATS_REVIEW };

			snprintf(id, sizeof id, "items-%s-%s",
			    dz_stats_kind_name(k),
			    dz_stats_state_name(order[i]));
			cell(f, st->items[k][order[i]], id);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
	items_chart(f, st);

	fputs("<h2>Content judged illegal, by category</h2>\n<table>\n"
	    "<thead><tr><th></th><th class=\"n\">Items</th>"
	    "<th class=\"n\">Images</th><th class=\"n\">Videos</th>"
	    "<th class=\"n\">URLs</th></tr></thead>\n<tbody>\n", f);
	for (i = 0; i < DZ_STATS_CATS; i++) {
		int64_t tot = 0;

		for (k = 0; k < DZ_STATS_KINDS; k++)
			tot += st->illegal[i][k];
		fprintf(f, "<tr><th scope=\"row\">%s</th>", cat_label[i]);
		snprintf(id, sizeof id, "illegal-%s", dz_stats_cat_name(i));
		cell(f, tot, id);
		for (k = 0; k < DZ_STATS_KINDS; k++) {
			snprintf(id, sizeof id, "illegal-%s-%s",
			    dz_stats_cat_name(i), dz_stats_kind_name(k));
			cell(f, st->illegal[i][k], id);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
}

static void
notices(FILE *f, const struct dz_stats *st)
{
	struct bar b[DZ_STATS_CATS];
	char id[64];
	size_t p;
	int i;

	fputs("<h2>Notices to hosting providers</h2>\n"
	    "<p>The notices the hotline sent in the period, as a trusted "
	    "flagger (Digital Services Act, Article 22(3)): by provider, by "
	    "type of content, and what the providers did.</p>\n<table>\n", f);
	row(f, "notices", "Notices sent by mail", st->notices);
	row(f, "manual", "Notices sent by hand (provider's form)", st->manual);
	row(f, "reminders", "Reminders", st->reminders);
	row(f, "urls", "URLs named in the notices", st->urls);
	row(f, "removed", "&#8230; reported removed since", st->removed);
	row(f, "providers", "Providers notified", st->providers);
	fputs("</table>\n", f);
	if (st->nprovider) {
		int64_t max = 0;

		fputs("<table>\n<thead><tr><th>Provider</th>"
		    "<th class=\"n\">Notices</th><th class=\"n\">By hand</th>"
		    "<th class=\"n\">Reminders</th><th class=\"n\">URLs</th>"
		    "<th class=\"n\">Removed</th></tr></thead>\n<tbody>\n", f);
		for (p = 0; p < st->nprovider; p++) {
			const struct dz_stats_provider *g = &st->provider[p];

			fputs("<tr class=\"provider\"><th scope=\"row\">", f);
			if (g->name)
				esc(f, g->name);
			else
				fputs("<i>Providers not in the directory</i>",
				    f);
			fputs("</th>", f);
			cell(f, g->notices, NULL);
			cell(f, g->manual, NULL);
			cell(f, g->reminders, NULL);
			cell(f, g->urls, NULL);
			cell(f, g->removed, NULL);
			fputs("</tr>\n", f);
			if (g->urls > max)
				max = g->urls;
		}
		fputs("</tbody>\n</table>\n", f);
		chart_begin(f, "URLs notified, by provider", st->nprovider);
		for (p = 0; p < st->nprovider; p++)
			chart_bar(f, p, st->provider[p].name ?
			    st->provider[p].name : "Not in the directory",
			    st->provider[p].urls, max);
		fputs("</svg>\n", f);
	}

	fputs("<h3>By type of content</h3>\n<table>\n<thead><tr><th></th>"
	    "<th class=\"n\">Notices</th><th class=\"n\">URLs</th>"
	    "<th class=\"n\">Removed</th></tr></thead>\n<tbody>\n", f);
	for (i = 0; i < DZ_STATS_CATS; i++) {
		const char *c = dz_stats_cat_name(i);

		fprintf(f, "<tr><th scope=\"row\">%s</th>", cat_label[i]);
		snprintf(id, sizeof id, "notice-%s", c);
		cell(f, st->cat_notices[i], id);
		snprintf(id, sizeof id, "notice-%s-urls", c);
		cell(f, st->cat_urls[i], id);
		snprintf(id, sizeof id, "notice-%s-removed", c);
		cell(f, st->cat_removed[i], id);
		fputs("</tr>\n", f);
		b[i].label = cat_label[i];
		b[i].v = st->cat_urls[i];
	}
	fputs("</tbody>\n</table>\n", f);
	chart(f, "URLs notified, by type of content", b, DZ_STATS_CATS);
}

static void
outcomes(FILE *f, const struct dz_stats *st)
{
	struct bar b[DZ_STATS_OUTCOMES];
	int64_t tot = 0;
	int i;

	for (i = 0; i < DZ_STATS_OUTCOMES; i++)
		tot += st->outcome[i];
	fputs("<h2>What became of the illegal URLs of the period's "
	    "reports</h2>\n<table>\n", f);
	row(f, "outcome-urls", "URLs judged illegal", tot);
	for (i = 0; i < DZ_STATS_OUTCOMES; i++) {
		char id[40];

		snprintf(id, sizeof id, "outcome-%s", dz_stats_outcome_name(i));
		row(f, id, outcome_label[i], st->outcome[i]);
		b[i].label = outcome_label[i];
		b[i].v = st->outcome[i];
	}
	fputs("</table>\n", f);
	chart(f, "Illegal URLs by outcome", b, DZ_STATS_OUTCOMES);
}

static void
delays(FILE *f, const struct dz_stats *st)
{
	fputs("<h2>Delays, in days</h2>\n<table>\n<thead><tr><th></th>"
	    "<th class=\"n\">Measured</th><th class=\"n\">Median</th>"
	    "<th class=\"n\">90th percentile</th></tr></thead>\n<tbody>\n"
	    "<tr><th scope=\"row\">From the report to the verdict</th>", f);
	cell(f, st->verdict.count, "delay-verdict");
	days(f, "delay-verdict-median", st->verdict.median_tenths,
	    st->verdict.count > 0);
	days(f, "delay-verdict-p90", st->verdict.p90_tenths,
	    st->verdict.count > 0);
	fputs("</tr>\n<tr><th scope=\"row\">From the notice to the removal"
	    "</th>", f);
	cell(f, st->removal.count, "delay-removal");
	days(f, "delay-removal-median", st->removal.median_tenths,
	    st->removal.count > 0);
	days(f, "delay-removal-p90", st->removal.p90_tenths,
	    st->removal.count > 0);
	fputs("</tr>\n</tbody>\n</table>\n", f);
}

static void
hashes(FILE *f, const struct dz_stats *st)
{
	fputs("<h2>Hashes and partners</h2>\n<p>The media is destroyed once "
	    "hashed; partner platforms receive the hashes only.</p>\n"
	    "<table>\n", f);
	row(f, "hashed-images", "Images hashed", st->hashed[DZ_STATS_IMAGE]);
	row(f, "hashed-videos", "Videos hashed", st->hashed[DZ_STATS_VIDEO]);
	row(f, "shared", "Hashes given to partners", st->shared);
	row(f, "shared-withdrawn", "&#8230; withdrawn since",
	    st->shared_withdrawn);
	row(f, "exports-full", "Full bank exports", st->exports_full);
	row(f, "exports-delta", "Bank updates (deltas)", st->exports_delta);
	fputs("</table>\n<h2>Answers to the people who reported</h2>\n"
	    "<table>\n", f);
	row(f, "answers-sent", "Answers sent", st->answers_sent);
	row(f, "answers-cancelled", "Answers that could not be sent",
	    st->answers_cancelled);
	fputs("</table>\n", f);
}

int
dz_statshtml_write(FILE *out, const struct dz_stats *st,
    const char *hotline, struct dz_err *err)
{
	head(out, st, hotline);
	reports(out, st);
	items(out, st);
	notices(out, st);
	outcomes(out, st);
	delays(out, st);
	hashes(out, st);
	fputs("<footer>Made by dz-export stats from the hotline's store. "
	    "Counts and delays only: no person, report, address or link is "
	    "named, only the providers.</footer>\n</body>\n</html>\n", out);
	if (ferror(out))
		return dz_err_set(err, EX_IOERR, "cannot write the page");
	return 0;
}
