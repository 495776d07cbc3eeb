// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of collector/opens.c: the paths of recent opens, by file. */
#include <errno.h>
#include <string.h>

#include "opens.h"
#include "test.h"

static const char *get(struct opens *o, uint64_t dev, uint64_t ino, uint32_t mnt, uint32_t *flags)
{
	static char buf[256];
	size_t len = 0;
	const void *p = opens__get(o, dev, ino, mnt, &len, flags);

	if (!p)
		return "(none)";
	memcpy(buf, p, len);
	buf[len] = '\0';
	return buf;
}

TEST(a_file_is_known_by_dev_ino_and_mount)
{
	struct opens *o = opens__new(1024);
	uint32_t flags = 0;

	ASSERT_TRUE(o);
	ASSERT_STREQ(get(o, 1, 2, 3, &flags), "(none)");
	ASSERT_EQ(opens__put(o, 1, 2, 3, "/srv/a", 6, 1), 0);
	ASSERT_STREQ(get(o, 1, 2, 3, &flags), "/srv/a");
	ASSERT_EQ(flags, 1);
	/* The same inode through another mount, or on another device: not it. */
	ASSERT_STREQ(get(o, 1, 2, 4, &flags), "(none)");
	ASSERT_STREQ(get(o, 9, 2, 3, &flags), "(none)");
	/* A later open of the file replaces its path (a rename). */
	ASSERT_EQ(opens__put(o, 1, 2, 3, "/srv/b-longer", 13, 0), 0);
	ASSERT_STREQ(get(o, 1, 2, 3, &flags), "/srv/b-longer");
	ASSERT_EQ(flags, 0);
	opens__free(o);
	return true;
}

TEST(a_bounded_cache_forgets_rather_than_lies)
{
	struct opens *o = opens__new(4);
	uint32_t flags;
	char path[32];
	int known = 0;

	ASSERT_TRUE(o);
	for (uint64_t ino = 0; ino < 64; ino++) {
		snprintf(path, sizeof(path), "/f%llu", (unsigned long long)ino);
		ASSERT_EQ(opens__put(o, 1, ino, 1, path, strlen(path), 0), 0);
	}
	/* At most 4 remembered, and each one right. */
	for (uint64_t ino = 0; ino < 64; ino++) {
		const char *p = get(o, 1, ino, 1, &flags);

		snprintf(path, sizeof(path), "/f%llu", (unsigned long long)ino);
		if (strcmp(p, "(none)")) {
			ASSERT_STREQ(p, path);
			known++;
		}
	}
	ASSERT_TRUE(known >= 1 && known <= 4);
	opens__free(o);
	return true;
}

TEST(sizes_must_be_powers_of_two)
{
	ASSERT_TRUE(opens__new(3) == NULL);
	ASSERT_EQ(errno, EINVAL);
	ASSERT_TRUE(opens__new(0) == NULL);
	return true;
}

RUN_TESTS(T(a_file_is_known_by_dev_ino_and_mount), T(a_bounded_cache_forgets_rather_than_lies),
	  T(sizes_must_be_powers_of_two))
