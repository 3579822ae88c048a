/*
 * t/fuzz/config.c: the YAML files an operator writes, through libyaml
 * and lib/core/yamlev: dz.yaml(5) with dz_config_load (from a file: the
 * input is put in a memory file), and the provider directory with
 * dz_providers_parse, which then answers a lookup or two.
 */
#include <string.h>

#include "core/config.h"
#include "core/err.h"
#include "notice/provider.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dz_config c;
	struct dz_providers p;
	struct dz_err err;
	const char *path = fz_memfile(data, size);

	dz_err_clear(&err);
	if (dz_config_load(&c, path, &err) == 0) {
		if (!c.store || !c.master_key)
			fz_fail("a loaded configuration without a store");
		if (c.pdq_threshold < 0 || c.pdq_threshold > 256 ||
		    c.min_quality < 0 || c.min_quality > 100)
			fz_fail("a match setting out of range");
		dz_config_release(&c);
	} else if (err.code != EX_CONFIG && err.code != EX_SOFTWARE) {
		fz_fail("dz_config_load failed with an unexpected code");
	}

	memset(&p, 0, sizeof p);
	dz_err_clear(&err);
	if (dz_providers_parse(&p, "fuzz.yaml", (const char *)data, size,
	    &err) == 0) {
		for (size_t i = 0; i < p.n && i < 8; i++)
			if (p.v[i].ndomains > 0 &&
			    !dz_providers_find(&p, p.v[i].domains[0]))
				fz_fail("a provider's own domain is not found");
		dz_providers_release(&p);
	}
	return 0;
}
