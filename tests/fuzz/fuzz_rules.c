// SPDX-License-Identifier: BSD-2-Clause
/* An alert rules file (YAML), as --rules and SIGHUP load it. */
#include "fuzz.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct rules *rs = rules__parse((const char *)data, size, err, sizeof(err));

	rules__free(rs);
	return 0;
}
