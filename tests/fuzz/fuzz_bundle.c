// SPDX-License-Identifier: BSD-2-Clause
/* An evidence bundle (zlib), as custos verify --bundle reads it: its
 * checkpoints, then every record until the end or the first refusal. */
#include "bundle.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *bytes;
	struct record r;
	struct bundle *b;
	char path[64];
	size_t len;
	int fd = fuzz_file(data, size, path, sizeof(path));

	if (fd < 0)
		return 0;
	b = bundle__open(path);
	while (b && bundle__next(b, &r, &bytes, &len) == 1)
		;
	bundle__close(b);
	close(fd);
	return 0;
}
