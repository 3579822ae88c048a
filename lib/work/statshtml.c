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

/*
 * The page's words, in English and in French. Labels are HTML already
 * (entities for the ellipsis); none comes from outside the code.
 */
struct words {
	const char *lang;
	const char *months[12];
	const char *first_day;	/* after the day number 1: "er" in French */
	const char *kind[DZ_STATS_KINDS];
	const char *cat[DZ_STATS_CATS];
	const char *outcome[DZ_STATS_OUTCOMES];
	const char *illegal, *not_illegal, *review, *items_by_kind;
	const char *statistics, *stats_of, *title_stats, *start;
	const char *period, *from, *from_first, *to, *excluded, *as_of;
	const char *reports_h, *reports, *withdrawn, *minor, *adult,
	    *age_unknown, *followup, *by_age, *under18, *over18, *no_age;
	const char *items_h, *items_note, *items, *illegal_col, *not_col,
	    *review_col, *cat_h, *images, *videos, *urls;
	const char *notices_h, *notices_note, *notices, *manual, *reminders,
	    *urls_named, *removed_since, *providers, *provider, *notices_col,
	    *by_hand,
	    *removed, *not_listed, *not_listed_bar, *urls_by_provider,
	    *by_type, *urls_by_type;
	const char *outcomes_h, *urls_illegal, *by_outcome;
	const char *delays_h, *measured, *median, *p90, *to_verdict,
	    *to_removal;
	const char *hashes_h, *hashes_note, *hashed_images, *hashed_videos,
	    *shared, *shared_withdrawn, *exports_full, *exports_delta;
	const char *answers_h, *answers_sent, *answers_cancelled;
	const char *footer;
};

static const struct words en = {
	"en",
	{ "January", "February", "March", "April", "May", "June", "July",
	  "August", "September", "October", "November", "December" }, "",
	{ "Images", "Videos", "URLs" },
	{ "Intimate images of adults", "Minors", "Other illegal content" },
	{ "Removed", "Report withdrawn", "Notified, not removed yet",
	  "Notice due", "Provider's form, by hand", "No provider known" },
	"illegal", "not illegal", "awaiting a verdict",
	"Items by kind and verdict",
	": statistics", "Statistics of the hotline", "statistics %s to %s",
	"start",
	"Period: ", "from ", "from the first report ", "to ",
	", this instant excluded. ", "Figures as of ",
	"Reports received in the period", "Reports",
	"Withdrawn since by their author", "Declared age under 18",
	"Declared age 18 or over", "Age not given", "Asked for an answer",
	"Reports by declared age", "Under 18", "18 or over", "Age not given",
	"Items of these reports, and the verdicts",
	"Each uploaded image or video, and each reported URL, is an item; "
	"its verdict is the latest an analyst gave.",
	"Items", "Illegal", "Not illegal", "Awaiting a verdict",
	"Content judged illegal, by category", "Images", "Videos", "URLs",
	"Notices to hosting providers",
	"The notices the hotline sent in the period, as a trusted flagger "
	"(Digital Services Act, Article 22(3)): by provider, by type of "
	"content, and what the providers did.",
	"Notices sent by mail", "Notices sent by hand (provider's form)",
	"Reminders", "URLs named in the notices",
	"&#8230; reported removed since", "Providers notified", "Provider",
	"Notices",
	"By hand", "Removed", "Providers not in the directory",
	"Not in the directory", "URLs notified, by provider",
	"By type of content", "URLs notified, by type of content",
	"What became of the illegal URLs of the period's reports",
	"URLs judged illegal", "Illegal URLs by outcome",
	"Delays, in days", "Measured", "Median", "90th percentile",
	"From the report to the verdict", "From the notice to the removal",
	"Hashes and partners",
	"The media is destroyed once hashed; partner platforms receive the "
	"hashes only.",
	"Images hashed", "Videos hashed", "Hashes given to partners",
	"&#8230; withdrawn since", "Full bank exports",
	"Bank updates (deltas)",
	"Answers to the people who reported", "Answers sent",
	"Answers that could not be sent",
	"Made by dz-export stats from the hotline's store. Counts and delays "
	"only: no person, report, address or link is named, only the "
	"providers.",
};

static const struct words fr = {
	"fr",
	{ "janvier", "f\u00e9vrier", "mars", "avril", "mai", "juin",
	  "juillet", "ao\u00fbt", "septembre", "octobre", "novembre",
	  "d\u00e9cembre" }, "er",
	{ "Images", "Vid\u00e9os", "URL" },
	{ "Images intimes d'adultes", "Mineurs", "Autres contenus illicites" },
	{ "Retir\u00e9es", "Signalement retir\u00e9",
	  "Notifi\u00e9es, pas encore retir\u00e9es", "Notification \u00e0 faire",
	  "Formulaire de l'h\u00e9bergeur, \u00e0 la main",
	  "H\u00e9bergeur inconnu" },
	"illicite", "non illicite", "en attente d'avis",
	"\u00c9l\u00e9ments par type et par avis",
	" : statistiques", "Statistiques du service de signalement",
	"statistiques du %s au %s", "d\u00e9but",
	"P\u00e9riode : ", "du ", "du premier signalement ", "au ",
	", cet instant exclu. ", "Chiffres arr\u00eat\u00e9s au ",
	"Signalements re\u00e7us dans la p\u00e9riode", "Signalements",
	"Retir\u00e9s depuis par leur auteur",
	"\u00c2ge d\u00e9clar\u00e9 de moins de 18 ans",
	"\u00c2ge d\u00e9clar\u00e9 de 18 ans ou plus", "\u00c2ge non indiqu\u00e9",
	"R\u00e9ponse demand\u00e9e", "Signalements par \u00e2ge d\u00e9clar\u00e9",
	"Moins de 18 ans", "18 ans ou plus", "\u00c2ge non indiqu\u00e9",
	"\u00c9l\u00e9ments de ces signalements, et les avis",
	"Chaque image ou vid\u00e9o envoy\u00e9e, et chaque URL signal\u00e9e, "
	"est un \u00e9l\u00e9ment ; son avis est le dernier donn\u00e9 par un "
	"analyste.",
	"\u00c9l\u00e9ments", "Illicites", "Non illicites",
	"En attente d'avis",
	"Contenus jug\u00e9s illicites, par cat\u00e9gorie", "Images",
	"Vid\u00e9os", "URL",
	"Notifications aux h\u00e9bergeurs",
	"Les notifications envoy\u00e9es dans la p\u00e9riode, en qualit\u00e9 "
	"de signaleur de confiance (r\u00e8glement sur les services "
	"num\u00e9riques, article 22, paragraphe 3) : par h\u00e9bergeur, par "
	"type de contenu, et la suite donn\u00e9e.",
	"Notifications envoy\u00e9es par courriel",
	"Notifications faites \u00e0 la main (formulaire de l'h\u00e9bergeur)",
	"Relances", "URL nomm\u00e9es dans les notifications",
	"&#8230; signal\u00e9es retir\u00e9es depuis", "H\u00e9bergeurs notifi\u00e9s",
	"H\u00e9bergeur", "Notifications", "\u00c0 la main", "Retir\u00e9es",
	"H\u00e9bergeurs absents de l'annuaire", "Absents de l'annuaire",
	"URL notifi\u00e9es, par h\u00e9bergeur", "Par type de contenu",
	"URL notifi\u00e9es, par type de contenu",
	"Ce que sont devenues les URL illicites des signalements de la "
	"p\u00e9riode",
	"URL jug\u00e9es illicites", "URL illicites selon la suite donn\u00e9e",
	"D\u00e9lais, en jours", "Mesur\u00e9s", "M\u00e9diane",
	"90e centile", "Du signalement \u00e0 l'avis",
	"De la notification au retrait",
	"Empreintes et partenaires",
	"Les m\u00e9dias sont d\u00e9truits une fois leurs empreintes "
	"calcul\u00e9es ; les plateformes partenaires ne re\u00e7oivent que "
	"les empreintes.",
	"Images trait\u00e9es", "Vid\u00e9os trait\u00e9es",
	"Empreintes transmises aux partenaires", "&#8230; retir\u00e9es depuis",
	"Exports complets de la base", "Mises \u00e0 jour de la base (deltas)",
	"R\u00e9ponses aux personnes qui ont signal\u00e9",
	"R\u00e9ponses envoy\u00e9es", "R\u00e9ponses qui n'ont pu \u00eatre "
	"envoy\u00e9es",
	"Page faite par dz-export stats \u00e0 partir des donn\u00e9es du "
	"service. Des nombres et des d\u00e9lais seulement : aucune "
	"personne, aucun signalement, aucune adresse ni aucun lien n'y est "
	"nomm\u00e9, seulement les h\u00e9bergeurs.",
};

/* An RFC 3339 time as a date written out ("7 December 2026"); as is if
 * it is not one. */
static void
long_date(FILE *f, const struct words *w, const char *id, const char *t)
{
	int y, m, d;

	fprintf(f, "<time id=\"%s\" datetime=\"", id);
	esc(f, t);
	fputs("\">", f);
	if (sscanf(t, "%4d-%2d-%2d", &y, &m, &d) == 3 && m >= 1 && m <= 12 &&
	    d >= 1 && d <= 31)
		fprintf(f, "%d%s %s %d", d, d == 1 ? w->first_day : "",
		    w->months[m - 1], y);
	else
		esc(f, t);
	fputs("</time>", f);
}

/* The items by kind, one bar each, split by verdict. */
static void
items_chart(FILE *f, const struct dz_stats *st, const struct words *wd)
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
	    "role=\"img\" aria-label=\"%s\">\n", LABEL_W + BAR_W + 70, h,
	    LABEL_W + BAR_W + 70, h, wd->items_by_kind);
	for (k = 0; k < DZ_STATS_KINDS; k++) {
		y = k * ROW_H + 3;
		fprintf(f, "<text x=\"0\" y=\"%d\">%s</text>", y + 15,
		    wd->kind[k]);
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
	fprintf(f, "</svg>\n<p class=\"key\"><span style=\"background:"
	    C_ILLEGAL "\"></span>%s<span style=\"background:" C_NOT
	    "\"></span>%s<span style=\"background:" C_REVIEW
	    "\"></span>%s</p>\n", wd->illegal, wd->not_illegal, wd->review);
}

static void
head(FILE *f, const struct dz_stats *st, const char *hotline,
    const struct words *w)
{
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"" CSP
	    "\">\n<meta name=\"referrer\" content=\"no-referrer\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n<title>", w->lang);
	if (hotline) {
		esc(f, hotline);
		fputs(": ", f);
	}
	fprintf(f, w->title_stats, st->from[0] ? st->from : w->start, st->to);
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>",
	    style);
	if (hotline) {
		esc(f, hotline);
		fputs(w->statistics, f);
	} else {
		fputs(w->stats_of, f);
	}
	fprintf(f, "</h1>\n<p>%s", w->period);
	if (st->from[0]) {
		fputs(w->from, f);
		long_date(f, w, "from", st->from);
		fputc(' ', f);
	} else {
		fputs(w->from_first, f);
	}
	fputs(w->to, f);
	long_date(f, w, "to", st->to);
	fprintf(f, "%s%s", w->excluded, w->as_of);
	long_date(f, w, "made", st->made);
	fputs(".</p>\n", f);
}

static void
reports(FILE *f, const struct dz_stats *st, const struct words *w)
{
	struct bar age[3] = {
		{ w->under18, st->minor }, { w->over18, st->adult },
		{ w->no_age, st->age_unknown }
	};

	fprintf(f, "<h2>%s</h2>\n<table>\n", w->reports_h);
	row(f, "reports", w->reports, st->reports);
	row(f, "withdrawn", w->withdrawn, st->withdrawn);
	row(f, "minor", w->minor, st->minor);
	row(f, "adult", w->adult, st->adult);
	/* the schema allows no age; dz-ingest does not */
	if (st->age_unknown)
		row(f, "age-unknown", w->age_unknown, st->age_unknown);
	row(f, "followup", w->followup, st->followup);
	fputs("</table>\n", f);
	chart(f, w->by_age, age, st->age_unknown ? 3 : 2);
}

static void
items(FILE *f, const struct dz_stats *st, const struct words *w)
{
	char id[64];
	int k, i;

	fprintf(f, "<h2>%s</h2>\n<p>%s</p>\n"
	    "<table>\n<thead><tr><th></th><th class=\"n\">%s</th>"
	    "<th class=\"n\">%s</th><th class=\"n\">%s</th>"
	    "<th class=\"n\">%s</th></tr></thead>\n<tbody>\n", w->items_h,
	    w->items_note, w->items, w->illegal_col, w->not_col,
	    w->review_col);
	for (k = 0; k < DZ_STATS_KINDS; k++) {
		int64_t tot = 0;

		for (i = 0; i < DZ_STATS_STATES; i++)
			tot += st->items[k][i];
		fprintf(f, "<tr><th scope=\"row\">%s</th>", w->kind[k]);
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
	items_chart(f, st, w);

	fprintf(f, "<h2>%s</h2>\n<table>\n"
	    "<thead><tr><th></th><th class=\"n\">%s</th>"
	    "<th class=\"n\">%s</th><th class=\"n\">%s</th>"
	    "<th class=\"n\">%s</th></tr></thead>\n<tbody>\n", w->cat_h,
	    w->items, w->images, w->videos, w->urls);
	for (i = 0; i < DZ_STATS_CATS; i++) {
		int64_t tot = 0;

		for (k = 0; k < DZ_STATS_KINDS; k++)
			tot += st->illegal[i][k];
		fprintf(f, "<tr><th scope=\"row\">%s</th>", w->cat[i]);
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
notices(FILE *f, const struct dz_stats *st, const struct words *w)
{
	struct bar b[DZ_STATS_CATS];
	char id[64];
	size_t p;
	int i;

	fprintf(f, "<h2>%s</h2>\n<p>%s</p>\n<table>\n", w->notices_h,
	    w->notices_note);
	row(f, "notices", w->notices, st->notices);
	row(f, "manual", w->manual, st->manual);
	row(f, "reminders", w->reminders, st->reminders);
	row(f, "urls", w->urls_named, st->urls);
	row(f, "removed", w->removed_since, st->removed);
	row(f, "providers", w->providers, st->providers);
	fputs("</table>\n", f);
	if (st->nprovider) {
		int64_t max = 0;

		fprintf(f, "<table>\n<thead><tr><th>%s</th>"
		    "<th class=\"n\">%s</th><th class=\"n\">%s</th>"
		    "<th class=\"n\">%s</th><th class=\"n\">%s</th>"
		    "<th class=\"n\">%s</th></tr></thead>\n<tbody>\n",
		    w->provider, w->notices_col, w->by_hand, w->reminders, w->urls,
		    w->removed);
		for (p = 0; p < st->nprovider; p++) {
			const struct dz_stats_provider *g = &st->provider[p];

			fputs("<tr class=\"provider\"><th scope=\"row\">", f);
			if (g->name)
				esc(f, g->name);
			else
				fprintf(f, "<i>%s</i>", w->not_listed);
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
		chart_begin(f, w->urls_by_provider, st->nprovider);
		for (p = 0; p < st->nprovider; p++)
			chart_bar(f, p, st->provider[p].name ?
			    st->provider[p].name : w->not_listed_bar,
			    st->provider[p].urls, max);
		fputs("</svg>\n", f);
	}

	fprintf(f, "<h3>%s</h3>\n<table>\n<thead><tr><th></th>"
	    "<th class=\"n\">%s</th><th class=\"n\">%s</th>"
	    "<th class=\"n\">%s</th></tr></thead>\n<tbody>\n", w->by_type,
	    w->notices_col, w->urls, w->removed);
	for (i = 0; i < DZ_STATS_CATS; i++) {
		const char *c = dz_stats_cat_name(i);

		fprintf(f, "<tr><th scope=\"row\">%s</th>", w->cat[i]);
		snprintf(id, sizeof id, "notice-%s", c);
		cell(f, st->cat_notices[i], id);
		snprintf(id, sizeof id, "notice-%s-urls", c);
		cell(f, st->cat_urls[i], id);
		snprintf(id, sizeof id, "notice-%s-removed", c);
		cell(f, st->cat_removed[i], id);
		fputs("</tr>\n", f);
		b[i].label = w->cat[i];
		b[i].v = st->cat_urls[i];
	}
	fputs("</tbody>\n</table>\n", f);
	chart(f, w->urls_by_type, b, DZ_STATS_CATS);
}

static void
outcomes(FILE *f, const struct dz_stats *st, const struct words *w)
{
	struct bar b[DZ_STATS_OUTCOMES];
	int64_t tot = 0;
	int i;

	for (i = 0; i < DZ_STATS_OUTCOMES; i++)
		tot += st->outcome[i];
	fprintf(f, "<h2>%s</h2>\n<table>\n", w->outcomes_h);
	row(f, "outcome-urls", w->urls_illegal, tot);
	for (i = 0; i < DZ_STATS_OUTCOMES; i++) {
		char id[40];

		snprintf(id, sizeof id, "outcome-%s", dz_stats_outcome_name(i));
		row(f, id, w->outcome[i], st->outcome[i]);
		b[i].label = w->outcome[i];
		b[i].v = st->outcome[i];
	}
	fputs("</table>\n", f);
	chart(f, w->by_outcome, b, DZ_STATS_OUTCOMES);
}

static void
delays(FILE *f, const struct dz_stats *st, const struct words *w)
{
	fprintf(f, "<h2>%s</h2>\n<table>\n<thead><tr><th></th>"
	    "<th class=\"n\">%s</th><th class=\"n\">%s</th>"
	    "<th class=\"n\">%s</th></tr></thead>\n<tbody>\n"
	    "<tr><th scope=\"row\">%s</th>", w->delays_h, w->measured,
	    w->median, w->p90, w->to_verdict);
	cell(f, st->verdict.count, "delay-verdict");
	days(f, "delay-verdict-median", st->verdict.median_tenths,
	    st->verdict.count > 0);
	days(f, "delay-verdict-p90", st->verdict.p90_tenths,
	    st->verdict.count > 0);
	fprintf(f, "</tr>\n<tr><th scope=\"row\">%s</th>", w->to_removal);
	cell(f, st->removal.count, "delay-removal");
	days(f, "delay-removal-median", st->removal.median_tenths,
	    st->removal.count > 0);
	days(f, "delay-removal-p90", st->removal.p90_tenths,
	    st->removal.count > 0);
	fputs("</tr>\n</tbody>\n</table>\n", f);
}

static void
hashes(FILE *f, const struct dz_stats *st, const struct words *w)
{
	fprintf(f, "<h2>%s</h2>\n<p>%s</p>\n<table>\n", w->hashes_h,
	    w->hashes_note);
	row(f, "hashed-images", w->hashed_images, st->hashed[DZ_STATS_IMAGE]);
	row(f, "hashed-videos", w->hashed_videos, st->hashed[DZ_STATS_VIDEO]);
	row(f, "shared", w->shared, st->shared);
	row(f, "shared-withdrawn", w->shared_withdrawn, st->shared_withdrawn);
	row(f, "exports-full", w->exports_full, st->exports_full);
	row(f, "exports-delta", w->exports_delta, st->exports_delta);
	fprintf(f, "</table>\n<h2>%s</h2>\n<table>\n", w->answers_h);
	row(f, "answers-sent", w->answers_sent, st->answers_sent);
	row(f, "answers-cancelled", w->answers_cancelled,
	    st->answers_cancelled);
	fputs("</table>\n", f);
}

int
dz_statshtml_write(FILE *out, const struct dz_stats *st,
    const char *hotline, const char *lang, struct dz_err *err)
{
	const struct words *w = lang && strcmp(lang, "fr") == 0 ? &fr : &en;

	if (lang && strcmp(lang, "fr") && strcmp(lang, "en"))
		return dz_err_set(err, EX_USAGE, "the page is in fr or en");
	head(out, st, hotline, w);
	reports(out, st, w);
	items(out, st, w);
	notices(out, st, w);
	outcomes(out, st, w);
	delays(out, st, w);
	hashes(out, st, w);
	fprintf(out, "<footer>%s</footer>\n</body>\n</html>\n", w->footer);
	if (ferror(out))
		return dz_err_set(err, EX_IOERR, "cannot write the page");
	return 0;
}
