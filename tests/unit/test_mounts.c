// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of collector/mounts.c: mountinfo text to host paths and back. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "mounts.h"
#include "test.h"

/* Root fs 8:1 at /, with /srv/data bound at /mnt/data and /srv at
 * "/mnt/my srv" (a space, escaped); a tmpfs 0:40 at /tmp; an overlay 0:50
 * that no host mount shows at its root (only a subdirectory). */
static const char table[] = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
			    "30 22 0:40 / /tmp rw shared:2 - tmpfs tmpfs rw\n"
			    "31 22 8:1 /srv/data /mnt/data rw shared:1 - ext4 /dev/sda1 rw\n"
			    "32 22 8:1 /srv /mnt/my\\040srv rw shared:1 - ext4 /dev/sda1 rw\n"
			    "33 22 0:50 /x /ovx rw - overlay ovl rw\n"
			    "garbage line\n";

#define KDEV(ma, mi) ((uint32_t)(ma) << 20 | (mi))

static const char *host(struct mounts *m, uint32_t kdev, const char *p)
{
	static char out[4096];
	int n = mounts__host_path(m, kdev, p, strlen(p), out, sizeof(out) - 1);

	if (n < 0)
		return "(none)";
	out[n] = '\0';
	return out;
}

TEST(host_path_prefers_the_whole_file_system)
{
	struct mounts *m = mounts__from_text(table);

	ASSERT_TRUE(m);
	ASSERT_STREQ(host(m, KDEV(8, 1), "/srv/data/f"), "/srv/data/f");
	ASSERT_STREQ(host(m, KDEV(8, 1), "/"), "/");
	ASSERT_STREQ(host(m, KDEV(0, 40), "/a/b"), "/tmp/a/b");
	ASSERT_STREQ(host(m, KDEV(0, 40), "/"), "/tmp");
	mounts__free(m);
	return true;
}

TEST(host_path_through_a_bind_mount_of_a_part)
{
	struct mounts *m = mounts__from_text(table);

	ASSERT_TRUE(m);
	ASSERT_STREQ(host(m, KDEV(0, 50), "/x/y"), "/ovx/y");
	ASSERT_STREQ(host(m, KDEV(0, 50), "/x"), "/ovx");
	/* "/xy" is not below "/x": component-wise. */
	ASSERT_STREQ(host(m, KDEV(0, 50), "/xy"), "(none)");
	ASSERT_STREQ(host(m, KDEV(0, 50), "/z"), "(none)");
	ASSERT_STREQ(host(m, KDEV(9, 9), "/a"), "(none)");
	mounts__free(m);
	return true;
}

TEST(alias_lists_every_place_a_tree_is_seen)
{
	struct mounts *m = mounts__from_text(table);
	char out[4096], seen[4 * 4096] = "";
	size_t it = 0;
	int n;

	ASSERT_TRUE(m);
	while ((n = mounts__alias(m, &it, KDEV(8, 1), "/srv/data", out, sizeof(out) - 1)) >= 0) {
		out[n] = '\0';
		strcat(seen, out);
		strcat(seen, ";");
	}
	ASSERT_STREQ(seen, "/srv/data;/mnt/data;/mnt/my srv/data;");
	/* A mount of a directory inside the tree is in it, whole. */
	it = 0;
	n = mounts__alias(m, &it, KDEV(0, 50), "/", out, sizeof(out) - 1);
	ASSERT_EQ(n, 4);
	ASSERT_TRUE(!memcmp(out, "/ovx", 4));
	ASSERT_EQ(mounts__alias(m, &it, KDEV(0, 50), "/", out, sizeof(out) - 1), -1);
	mounts__free(m);
	return true;
}

TEST(fs_path_is_the_inverse)
{
	struct mounts *m = mounts__from_text(table);
	char out[4096];
	int n;

	ASSERT_TRUE(m);
	n = mounts__fs_path(m, KDEV(8, 1), "/mnt/my srv/data/f", out, sizeof(out) - 1);
	ASSERT_TRUE(n > 0);
	out[n] = '\0';
	ASSERT_STREQ(out, "/srv/data/f");
	n = mounts__fs_path(m, KDEV(0, 40), "/tmp", out, sizeof(out) - 1);
	ASSERT_TRUE(n > 0);
	out[n] = '\0';
	ASSERT_STREQ(out, "/");
	ASSERT_EQ(mounts__fs_path(m, KDEV(9, 9), "/tmp", out, sizeof(out)), -1);
	mounts__free(m);
	return true;
}

TEST(a_result_that_does_not_fit_is_refused)
{
	struct mounts *m = mounts__from_text(table);
	char out[8];

	ASSERT_TRUE(m);
	ASSERT_EQ(mounts__host_path(m, KDEV(0, 40), "/abcdef", 7, out, sizeof(out)), -1);
	mounts__free(m);
	return true;
}

TEST(the_live_table_shows_the_root)
{
	struct mounts *m = mounts__open();
	struct stat st;
	char out[4096];
	int n;

	ASSERT_TRUE(m);
	ASSERT_TRUE(mounts__refresh(m) >= 1);
	ASSERT_EQ(stat("/", &st), 0);
	/* "/" is on some mount of its own file system: its path there maps
	 * back to "/". */
	n = mounts__fs_path(m, major(st.st_dev) << 20 | minor(st.st_dev), "/", out,
			    sizeof(out) - 1);
	ASSERT_TRUE(n >= 1);
	ASSERT_STREQ(host(m, major(st.st_dev) << 20 | minor(st.st_dev), (out[n] = '\0', out)), "/");
	mounts__free(m);
	return true;
}

RUN_TESTS(T(host_path_prefers_the_whole_file_system), T(host_path_through_a_bind_mount_of_a_part),
	  T(alias_lists_every_place_a_tree_is_seen), T(fs_path_is_the_inverse),
	  T(a_result_that_does_not_fit_is_refused), T(the_live_table_shows_the_root))
