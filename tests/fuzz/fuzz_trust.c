// SPDX-License-Identifier: BSD-2-Clause
/* A trust file (trust.vkeys), as an auditor hands it to custos verify. */
#include "fuzz.h"
#include "trust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trust t;
	char path[64];
	int fd = fuzz_file(data, size, path, sizeof(path));

	if (fd < 0)
		return 0;
	trust__load(path, &t);
	close(fd);
	return 0;
}
