// SPDX-License-Identifier: BSD-2-Clause
/* The protected files the kernel is told about by inode: the hard-linked
 * files of the trees, found at start, and the tree of a directory by its
 * ancestry.  Real files in a temporary directory; no root needed. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inodes.h"
#include "test.h"

static char base[64];

static const char *at(const char *rel)
{
	static char buf[4][512];
	static int i;
	char *p = buf[i++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", base, rel);
	return p;
}

static void touch(const char *rel)
{
	int fd = open(at(rel), O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd >= 0)
		close(fd);
}

static void watch_of(struct watch *w, const char *rel, uint32_t dataset)
{
	struct stat st;

	memset(w, 0, sizeof(*w));
	snprintf(w->real, sizeof(w->real), "%s", at(rel));
	w->dir = w->real;
	w->label = rel;
	w->dataset = dataset;
	if (!stat(w->real, &st)) {
		w->dev = st.st_dev;
		w->ino = st.st_ino;
	}
}

/* The trees: t1 (dataset 1) and t2 (2); out is in none. */
static void make_trees(struct watch w[2])
{
	snprintf(base, sizeof(base), "/tmp/custos-inodes.XXXXXX");
	if (!mkdtemp(base))
		abort();
	mkdir(at("t1"), 0755);
	mkdir(at("t1/sub"), 0755);
	mkdir(at("t2"), 0755);
	mkdir(at("out"), 0755);
	touch("t1/single");
	touch("t1/sub/linked");
	touch("t2/inside");
	touch("out/plain");
	/* A hard link outside the tree, one inside the other tree, and a
	 * symlink into a tree (not a name of the file). */
	link(at("t1/sub/linked"), at("out/linked-here"));
	link(at("t2/inside"), at("t2/inside-again"));
	symlink(at("t1/single"), at("out/symlink"));
	watch_of(&w[0], "t1", 1);
	watch_of(&w[1], "t2", 2);
}

static void remove_trees(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	if (system(cmd))
		fprintf(stderr, "  failed to remove %s\n", base);
}

struct found {
	int n;
	ino_t ino[8];
	uint32_t dataset[8];
};

static int note(void *ctx, dev_t dev, ino_t ino, uint32_t dataset)
{
	struct found *f = ctx;

	(void)dev;
	if (f->n < 8) {
		f->ino[f->n] = ino;
		f->dataset[f->n] = dataset;
	}
	f->n++;
	return 0;
}

static ino_t ino_of(const char *rel)
{
	struct stat st;

	return lstat(at(rel), &st) ? 0 : st.st_ino;
}

TEST(the_scan_finds_each_file_with_more_than_one_name)
{
	struct watch w[2];
	struct inodes_stats st;
	struct found f = { 0 };
	int err;

	make_trees(w);
	err = inodes__scan(w, 2, note, &f, &st);
	ASSERT_EQ(err, 0);
	/* t1: single, sub/linked; t2: inside and inside-again (one inode,
	 * two names: met twice, told twice, harmless). */
	ASSERT_EQ(st.files, 4);
	ASSERT_EQ(st.linked, 3);
	ASSERT_EQ(f.n, 3);
	ASSERT_EQ(f.ino[0], ino_of("t1/sub/linked"));
	ASSERT_EQ(f.dataset[0], 1);
	ASSERT_EQ(f.ino[1], ino_of("t2/inside"));
	ASSERT_EQ(f.dataset[1], 2);
	ASSERT_EQ(f.ino[2], ino_of("t2/inside"));
	ASSERT_EQ(st.failed, 0);
	remove_trees();
	return true;
}

static int stop_at_first(void *ctx, dev_t dev, ino_t ino, uint32_t dataset)
{
	(void)ctx, (void)dev, (void)ino, (void)dataset;
	return -E2BIG;
}

TEST(the_callback_can_stop_the_scan)
{
	struct watch w[2];
	struct inodes_stats st;

	make_trees(w);
	ASSERT_EQ(inodes__scan(w, 2, stop_at_first, NULL, &st), -E2BIG);
	ASSERT_EQ(st.linked, 1);
	remove_trees();
	return true;
}

TEST(a_tree_that_cannot_be_read_is_counted)
{
	struct watch w[2];
	struct inodes_stats st;
	struct found f = { 0 };

	make_trees(w);
	snprintf(w[1].real, sizeof(w[1].real), "%s", at("gone"));
	ASSERT_EQ(inodes__scan(w, 2, note, &f, &st), 0);
	ASSERT_EQ(st.failed, 1);
	ASSERT_EQ(f.n, 1);
	remove_trees();
	return true;
}

TEST(a_directory_is_placed_by_its_ancestry)
{
	struct watch w[2];

	make_trees(w);
	ASSERT_EQ(inodes__tree_of_dir(at("t1"), w, 2), 1);
	ASSERT_EQ(inodes__tree_of_dir(at("t1/sub"), w, 2), 1);
	ASSERT_EQ(inodes__tree_of_dir(at("t2"), w, 2), 2);
	ASSERT_EQ(inodes__tree_of_dir(at("out"), w, 2), 0);
	ASSERT_EQ(inodes__tree_of_dir(base, w, 2), 0);
	ASSERT_EQ(inodes__tree_of_dir("/", w, 2), 0);
	/* By what it is, not how it is spelled: "..", a symlink to a tree. */
	ASSERT_EQ(inodes__tree_of_dir(at("out/../t1/sub/.."), w, 2), 1);
	symlink(at("t2"), at("out/to-t2"));
	ASSERT_EQ(inodes__tree_of_dir(at("out/to-t2"), w, 2), 2);
	/* Not a directory, or not there: in none. */
	ASSERT_EQ(inodes__tree_of_dir(at("t1/single"), w, 2), 0);
	ASSERT_EQ(inodes__tree_of_dir(at("nowhere"), w, 2), 0);
	remove_trees();
	return true;
}

RUN_TESTS(T(the_scan_finds_each_file_with_more_than_one_name), T(the_callback_can_stop_the_scan),
	  T(a_tree_that_cannot_be_read_is_counted), T(a_directory_is_placed_by_its_ancestry))
