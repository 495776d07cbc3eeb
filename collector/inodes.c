// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inodes.h"
#include "log.h"

int inodes__scan(const struct watch *w, int n, inodes_fn fn, void *ctx, struct inodes_stats *st)
{
	int err = 0;

	memset(st, 0, sizeof(*st));
	for (int i = 0; i < n && !err; i++) {
		char *roots[] = { (char *)w[i].real, NULL };
		/* Physical: a symlink is not followed (what it points to is not
		 * in the tree by being pointed to); mounts below are crossed,
		 * as the kernel's ancestry walk crosses them. */
		FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
		FTSENT *e = NULL;

		if (!fts) {
			err = -errno;
			log_warn("failed to walk %s", w[i].real);
			break;
		}
		while (!err && (e = fts_read(fts))) {
			switch (e->fts_info) {
			case FTS_F:
				st->files++;
				if (e->fts_statp->st_nlink > 1) {
					st->linked++;
					err = fn(ctx, e->fts_statp->st_dev, e->fts_statp->st_ino,
						 w[i].dataset);
				}
				break;
			case FTS_DNR:
			case FTS_ERR:
			case FTS_NS:
				st->failed++;
				log_debug("failed to read %s: %s", e->fts_path,
					  strerror(e->fts_errno));
				break;
			}
		}
		if (!err && errno && !e) {
			err = -errno;
			log_warn("failed to walk %s", w[i].real);
		}
		fts_close(fts);
	}
	return err;
}

uint32_t inodes__tree_of_dir(const char *dir, const struct watch *w, int n)
{
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	uint32_t dataset = 0;
	struct stat st, up;

	/* Up to the root of custosd's view, where ".." is the directory itself. */
	while (fd >= 0 && !fstat(fd, &st)) {
		int parent;

		for (int i = 0; i < n && !dataset; i++)
			if (st.st_dev == w[i].dev && st.st_ino == w[i].ino)
				dataset = w[i].dataset;
		if (dataset)
			break;
		parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (parent < 0 || fstat(parent, &up) ||
		    (up.st_dev == st.st_dev && up.st_ino == st.st_ino)) {
			if (parent >= 0)
				close(parent);
			break;
		}
		close(fd);
		fd = parent;
	}
	if (fd >= 0)
		close(fd);
	return dataset;
}
