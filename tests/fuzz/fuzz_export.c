// SPDX-License-Identifier: BSD-2-Clause
/* An --export SPEC, as custosd's command line gives it. */
#include "export.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_text(data, size), why[256];
	struct export_spec spec;

	if (!s)
		return 0;
	export__parse(s, &spec, why, sizeof(why));
	free(s);
	return 0;
}
