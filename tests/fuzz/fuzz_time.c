// SPDX-License-Identifier: BSD-2-Clause
/* The time and number arguments of custos and custosd (--since, --until,
 * --duration and the other counts): util__parse_time and util__parse_int. */
#include "fuzz.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_text(data, size);
	int64_t v;

	if (!s)
		return 0;
	util__parse_time(s, 1796688000000000000LL, &v);
	util__parse_int(s, INT64_MIN, INT64_MAX, &v);
	util__parse_int(s, 10, 900, &v);
	free(s);
	return 0;
}
