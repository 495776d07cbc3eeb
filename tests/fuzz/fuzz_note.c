// SPDX-License-Identifier: BSD-2-Clause
/*
 * Signed notes and the checkpoints in them: what witnesses, proofs and the
 * central store hand the verifier.  The key is one the fuzzer cannot sign
 * with, so this is the parsing of an outsider's note; the checkpoint text
 * is parsed as note__open would pass it on.
 */
#include "fuzz.h"
#include "note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pub[32] = { 1, 2, 3 };
	struct note_verifier v;
	char origin[NOTE_NAME_MAX + 1];
	uint8_t root[32];
	uint64_t n;
	size_t text_len;
	int verified = 0;

	if (note__verifier_init("fuzz.example/custos", pub, &v))
		return 0;
	note__open((const char *)data, size, &v, 1, &text_len, &verified);
	checkpoint__parse((const char *)data, size, origin, sizeof(origin), &n, root);
	return 0;
}
