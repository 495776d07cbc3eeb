// SPDX-License-Identifier: BSD-2-Clause
/*
 * The canonical record decoder: what a bundle, the central store and a
 * replay hand it.  A record it accepts must encode back to the same bytes
 * (canonical means one encoding per record).
 */
#include <stdio.h>

#include "fuzz.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[RECORD_MAX];
	struct record r;
	int n;

	if (record__decode(&r, data, size))
		return 0;
	n = record__encode(&r, again, sizeof(again));
	if (n != (int)size || memcmp(again, data, size)) {
		fprintf(stderr, "a decoded record encodes to other bytes (%d, %zu)\n", n, size);
		abort();
	}
	return 0;
}
