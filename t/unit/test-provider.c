/*
 * t/unit/test-provider: lib/notice/provider, the provider directory: the
 * built-in file loads and answers for the platforms of the source texts;
 * longest-match lookup; URL hosts; and every malformed directory refused
 * with its line (unknown keys, bad domains and addresses, a domain twice,
 * aliases, over-long values).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "notice/provider.h"
#include "tap.h"

static void
refused(const char *text, const char *part, const char *what)
{
	struct dz_providers p;
	struct dz_err err;
	int rc = dz_providers_parse(&p, "d.yaml", text, strlen(text), &err);

	ok(rc == -1 && err.code == EX_CONFIG && strstr(err.msg, part) &&
	    p.n == 0 && !p.v, "%s: %s", what, rc ? err.msg : "accepted");
	if (!rc)
		dz_providers_release(&p);
}

static const char *
host_of(const char *url)
{
	static char h[300];

	return dz_url_host(url, h, sizeof h) ? NULL : h;
}

static const char *
who(const struct dz_providers *p, const char *url)
{
	const char *h = host_of(url);
	const struct dz_provider *pr = h ? dz_providers_find(p, h) : NULL;

	return pr ? pr->name : "-";
}

int
main(void)
{
	struct dz_providers p;
	struct dz_err err;
	static const char *const platforms[] = { "Bumble", "Discord",
	    "Facebook", "Google", "Instagram", "LinkedIn", "Messenger",
	    "Pinterest", "Snapchat", "TikTok", "Twitch", "WhatsApp",
	    "YouTube" };
	static const char *const urls[] = { "https://bumble.com/x",
	    "https://discord.com/channels/1", "https://www.facebook.com/p",
	    "https://sites.google.com/view/x", "https://www.instagram.com/p/1",
	    "https://www.linkedin.com/in/x", "https://www.messenger.com/t/1",
	    "https://www.pinterest.com/pin/1", "https://www.snapchat.com/add/x",
	    "https://www.tiktok.com/@x/video/1", "https://www.twitch.tv/x",
	    "https://chat.whatsapp.com/x", "https://youtu.be/x" };
	const char *good = "version: 1\nproviders:\n"
	    "  - name: Big\n    domains: [big.example]\n"
	    "    abuse: abuse@big.example\n    language: fr\n"
	    "  - name: Pages of Big\n    domains: pages.big.example\n"
	    "    form: https://big.example/report\n";

	/* the built-in directory */
	memset(&p, 0, sizeof p);
	ok(dz_providers_load(&p, NULL, &err) == 0 && p.n >= 30,
	    "the built-in directory loads");
	diag("%zu providers", p.n);
	for (size_t i = 0; i < sizeof urls / sizeof *urls; i++)
		ok(strstr(who(&p, urls[i]), platforms[i]) != NULL,
		    "%s is %s (%s)", urls[i], platforms[i], who(&p, urls[i]));
	ok(strstr(who(&p, "https://x.com/u/status/1"), "X") &&
	    strcmp(who(&p, "https://x.com/u/status/1"),
	    who(&p, "https://twitter.com/u")) == 0, "x.com and twitter.com: "
	    "one provider (%s)", who(&p, "https://x.com/u"));
	ok(strcmp(who(&p, "https://nobody.example/x"), "-") == 0,
	    "an unknown domain has no provider");
	ok(strcmp(who(&p, "https://notdiscord.com/x"), "-") == 0,
	    "a domain matches itself and names under it, not a suffix");
	dz_providers_release(&p);

	/* lookup */
	ok(dz_providers_parse(&p, "d.yaml", good, strlen(good), &err) == 0 &&
	    p.n == 2, "a small directory parses");
	ok(!strcmp(who(&p, "https://big.example/a"), "Big") &&
	    !strcmp(who(&p, "https://x.y.big.example/a"), "Big") &&
	    !strcmp(who(&p, "https://pages.big.example/a"), "Pages of Big") &&
	    !strcmp(who(&p, "https://a.pages.big.example/a"), "Pages of Big"),
	    "the longest domain wins");
	ok(p.n == 2 && !strcmp(p.v[0].language, "fr") &&
	    !strcmp(p.v[1].language, "en") && !p.v[1].abuse &&
	    p.v[1].form, "language defaults to en; optional fields");
	dz_providers_release(&p);

	/* URL hosts */
	ok(host_of("https://WWW.Example.COM/a") &&
	    !strcmp(host_of("https://WWW.Example.COM/a"), "www.example.com"),
	    "hosts are lowercased");
	ok(!strcmp(host_of("http://u:pw@h.example:8080/x?y#z"), "h.example"),
	    "user, password and port go");
	ok(!strcmp(host_of("https://h.example./"), "h.example"),
	    "a trailing dot goes");
	ok(!strcmp(host_of("https://h.example"), "h.example") &&
	    !strcmp(host_of("https://h.example?q"), "h.example"),
	    "no path");
	ok(!strcmp(host_of("https://[2001:db8::1]:443/x"), "2001:db8::1"),
	    "an IPv6 literal");
	ok(!strcmp(host_of("https://a@b@c.example/"), "c.example"),
	    "the last @ ends the user part");
	ok(!host_of("ftp://h.example/") && !host_of("https:///x") &&
	    !host_of("https://") && !host_of("https://h\xc3\xa9.example/") &&
	    !host_of("https://h%2e.example/") && !host_of("https://[]/") &&
	    !host_of("javascript:alert(1)"),
	    "no usable host: refused");

	/* addresses */
	ok(dz_provider_address_ok("abuse@example.com") &&
	    dz_provider_address_ok("a.b+c@sub.example.org"),
	    "plain addresses");
	ok(!dz_provider_address_ok("abuse") &&
	    !dz_provider_address_ok("@example.com") &&
	    !dz_provider_address_ok("a@b") &&
	    !dz_provider_address_ok("a@@b.example") &&
	    !dz_provider_address_ok("a b@c.example") &&
	    !dz_provider_address_ok("a@c.example\nBcc: x@y.example") &&
	    !dz_provider_address_ok("a..b@c.example") &&
	    !dz_provider_address_ok("Name <a@c.example>"),
	    "malformed addresses");

	/* malformed directories */
	refused("", "no providers", "an empty file");
	refused("version: 2\nproviders: []\n", "version 1", "version 2");
	refused("providers: []\n", "are required", "no version");
	refused("version: 1\nproviders: []\nother: 1\n", "unknown key",
	    "an unknown top-level key");
	refused("version: 1\nproviders:\n  - name: A\n    domains: [a.example]\n"
	    "    fax: 1\n", "d.yaml:5: unknown key", "an unknown provider key");
	refused("version: 1\nproviders:\n  - name: A\n", "needs a name and "
	    "domains", "no domains");
	refused("version: 1\nproviders:\n  - domains: [a.example]\n",
	    "needs a name", "no name");
	refused("version: 1\nproviders:\n  - name: A\n    domains: "
	    "[A.example]\n", "lowercase domain", "an uppercase domain");
	refused("version: 1\nproviders:\n  - name: A\n    domains: "
	    "[a..example]\n", "lowercase domain", "an empty label");
	refused("version: 1\nproviders:\n  - name: A\n    domains: "
	    "[-a.example]\n", "lowercase domain", "a label starting with -");
	refused("version: 1\nproviders:\n  - name: A\n    domains: "
	    "[https://a.example/]\n", "lowercase domain", "a URL as domain");
	refused("version: 1\nproviders:\n  - name: A\n    domains: [a.example]"
	    "\n  - name: B\n    domains: [b.example, a.example]\n",
	    "'a.example' is listed twice", "a domain twice");
	refused("version: 1\nproviders:\n  - name: A\n    domains: [a.example]"
	    "\n    abuse: not-an-address\n", "abuse: not an e-mail",
	    "a bad abuse address");
	refused("version: 1\nproviders:\n  - name: A\n    domains: [a.example]"
	    "\n    dsa_contact: x@y\n", "dsa_contact: not an e-mail",
	    "a bad DSA contact");
	refused("version: 1\nproviders:\n  - name: A\n    domains: [a.example]"
	    "\n    form: javascript:alert(1)\n", "form: expected an http",
	    "a form that is not a web page");
	refused("version: 1\nproviders:\n  - name: A\n    domains: [a.example]"
	    "\n    language: de\n", "language: en or fr", "another language");
	refused("version: 1\nproviders:\n  - name: A\n    name: B\n    "
	    "domains: [a.example]\n", "name given twice", "a key twice");
	refused("version: 1\nproviders:\n  - name: \"A\\nB\"\n    domains: "
	    "[a.example]\n", "control character", "a newline in a name");
	refused("version: 1\nproviders:\n  - &x {name: A, domains: [a.e]}\n"
	    "  - *x\n", "not allowed", "anchors and aliases");
	refused("version: 1\nproviders: {a: 1}\n", "expected a list",
	    "providers not a list");
	refused("version: 1\nproviders:\n  - [a]\n", "expected a mapping",
	    "a provider not a mapping");
	refused("version: 1\nproviders:\n  - name: A\n    domains: {a: b}\n",
	    "expected a list of domain names", "domains not a list");
	refused("version: 1\nproviders: [\n", "YAML syntax error",
	    "a syntax error");
	refused("version: 1\nproviders: []\n---\nversion: 1\n",
	    "more than one YAML document", "two documents");
	{
		char *big = malloc(300);
		char text[600];

		memset(big, 'a', 299);
		big[299] = '\0';
		snprintf(text, sizeof text, "version: 1\nproviders:\n  - name: "
		    "%.120s\n    domains: [a.example]\n", big);
		refused(text, "name: 1 to 100 bytes", "an over-long name");
		snprintf(text, sizeof text, "version: 1\nproviders:\n  - name: "
		    "A\n    domains: [%s.example]\n", big);
		refused(text, "1 to 253 bytes", "an over-long domain");
		free(big);
	}
	ok(dz_providers_load(&p, "/nonexistent/providers.yaml", &err) == -1 &&
	    err.code == EX_NOINPUT, "a missing file: EX_NOINPUT (%s)",
	    err.msg);
	return tap_done();
}
