// SPDX-License-Identifier: BSD-2-Clause
/*
 * A proof file, as an auditor hands it to custos verify-proof, checked
 * against the trust file of the log the seeds were made from
 * (tests/fuzz/corpus/trust/seed1): so a mutation that keeps a signature
 * reaches the proof's own checks.
 */
#include "fuzz.h"
#include "proof.h"
#include "trust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct trust t;
	static int loaded = -1;
	FILE *out = fopen("/dev/null", "w");
	char path[64];
	int fd;

	if (loaded < 0)
		loaded = trust__load("tests/fuzz/corpus/trust/seed1", &t) == 0;
	fd = fuzz_file(data, size, path, sizeof(path));
	if (fd >= 0 && out && loaded)
		proof__verify(&t, path, out);
	if (out)
		fclose(out);
	if (fd >= 0)
		close(fd);
	return 0;
}
