/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the libFuzzer targets share (make fuzz): the entry point, and the
 * input as a NUL-terminated copy for the parsers that take text.
 */
#ifndef CUSTOS_FUZZ_H
#define CUSTOS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data as a C string (a NUL inside ends it early, as it would for the
 * parser's real callers); the caller frees it. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

/*
 * data as a file, for the parsers that take a path (a staff directory, a
 * trust file, a bundle): an anonymous memory file, named by its
 * /proc/self/fd path in path.  Returns its descriptor (the caller closes
 * it), or -1.
 */
static inline int fuzz_file(const uint8_t *data, size_t size, char *path, size_t cap)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return -1;
	}
	snprintf(path, cap, "/proc/self/fd/%d", fd);
	return fd;
}

#endif /* CUSTOS_FUZZ_H */
