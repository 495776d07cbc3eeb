// SPDX-License-Identifier: BSD-2-Clause
/* The staff directory (JSON), as --staff and SIGHUP load it. */
#include "fuzz.h"
#include "staff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	int fd = fuzz_file(data, size, path, sizeof(path));

	if (fd < 0)
		return 0;
	staff__free(staff__load(path, err, sizeof(err)));
	close(fd);
	return 0;
}
