/*
 * lib/notice/provider: notify.providers merged over the built-in
 * directory entry by entry, or replacing it (notify.providers_replace).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "notice/provider.h"
#include "tap.h"

static const char *
who(const struct dz_providers *p, const char *host)
{
	const struct dz_provider *pr = dz_providers_find(p, host);
	return pr ? pr->name : "-";
}

int
main(void)
{
	struct dz_providers b, m, r;
	struct dz_err err;
	char path[] = "/tmp/dz-provmerge-XXXXXX";
	const struct dz_provider *pr;
	const char *text = "version: 1\nproviders:\n"
	    "  - name: discord\n    domains: [discord.com]\n"
	    "    abuse: legal@discord.example\n    language: fr\n"
	    "  - name: Local host\n    domains: [local.example, youtu.be]\n"
	    "    abuse: abuse@local.example\n";
	int fd = mkstemp(path);
	size_t nb;

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return 1;
	close(fd);

	ok(dz_providers_load(&b, NULL, &err) == 0, "the built-in directory");
	nb = b.n;
	ok(strcmp(who(&b, "discord.gg"), "Discord") == 0 &&
	    strcmp(who(&b, "youtu.be"), "-") != 0, "built in: discord.gg is "
	    "Discord, youtu.be someone (%s)", who(&b, "youtu.be"));

	ok(dz_providers_open(&m, path, 0, &err) == 0, "merged: loads (%s)",
	    m.n ? "" : err.msg);
	ok(strcmp(who(&m, "local.example"), "Local host") == 0,
	    "merged: a new entry is added");
	ok(strcmp(who(&m, "www.instagram.com"), who(&b, "www.instagram.com"))
	    == 0 && strcmp(who(&m, "www.instagram.com"), "-") != 0,
	    "merged: the built-in entries stay (%s)", who(&m, "www.instagram.com"));
	pr = dz_providers_find(&m, "discord.com");
	ok(pr && strcmp(pr->name, "discord") == 0 && pr->abuse &&
	    strcmp(pr->abuse, "legal@discord.example") == 0 &&
	    strcmp(pr->language, "fr") == 0, "merged: an entry of the same name "
	    "(without case) replaces the built-in one");
	ok(strcmp(who(&m, "discord.gg"), "-") == 0, "merged: whole, domains "
	    "included (discord.gg is %s)", who(&m, "discord.gg"));
	ok(strcmp(who(&m, "youtu.be"), "Local host") == 0 &&
	    strcmp(who(&m, "www.youtube.com"), who(&b, "www.youtube.com")) == 0,
	    "merged: a domain given to another entry moves, its old entry "
	    "keeps the rest (%s)", who(&m, "www.youtube.com"));
	ok(m.n == nb + 1, "merged: one entry replaced, one added (%zu, %zu)",
	    m.n, nb);

	ok(dz_providers_open(&r, path, 1, &err) == 0 && r.n == 2 &&
	    strcmp(who(&r, "www.instagram.com"), "-") == 0,
	    "providers_replace: the file alone");
	dz_providers_release(&r);
	ok(dz_providers_open(&r, NULL, 0, &err) == 0 && r.n == nb,
	    "no file: the built-in directory");
	dz_providers_release(&r);
	ok(dz_providers_open(&r, "/nonexistent/p.yaml", 0, &err) == -1 &&
	    err.code == EX_NOINPUT && r.n == 0, "a missing file is an error, "
	    "not the built-in directory alone");

	dz_providers_release(&b);
	dz_providers_release(&m);
	unlink(path);
	return tap_done();
}
