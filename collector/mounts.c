// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mounts.h"
#include "util.h"

struct mount_entry {
	uint32_t kdev;
	char *root;	  /* the file system path this mount shows at its top */
	char *mountpoint; /* where, from the namespace's root */
};

struct mounts {
	struct mount_entry *e;
	size_t n;
	unsigned int gen; /* reads of the table so far */
	int fd;		  /* /proc/self/mountinfo kept open: poll says when it changed (and
			   * forgets it, so the table is read again through another fd) */
};

/* mountinfo writes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	if (!out)
		return NULL;
	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

static void clear(struct mounts *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->e[i].root);
		free(m->e[i].mountpoint);
	}
	free(m->e);
	m->e = NULL;
	m->n = 0;
}

/* "36 35 98:0 /mnt1 /mnt/parent rw ... - ext3 /dev/root rw": fields 3 to 5. */
static int parse_line(struct mounts *m, char *line, size_t *cap)
{
	char *save = NULL, *f[5];
	unsigned int major, minor;
	struct mount_entry *e;
	char *tok = strtok_r(line, " ", &save);

	for (int i = 0; i < 5; i++, tok = strtok_r(NULL, " ", &save)) {
		if (!tok)
			return 0;
		f[i] = tok;
	}
	if (sscanf(f[2], "%u:%u", &major, &minor) != 2)
		return 0;
	if (m->n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 64;

		e = realloc(m->e, ncap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		m->e = e;
		*cap = ncap;
	}
	e = &m->e[m->n];
	e->kdev = major << 20 | minor;
	e->root = unescape(f[3]);
	e->mountpoint = unescape(f[4]);
	if (!e->root || !e->mountpoint) {
		free(e->root);
		free(e->mountpoint);
		return -ENOMEM;
	}
	m->n++;
	return 0;
}

/* Lines that do not parse are skipped: the kernel writes this file. */
static int parse(struct mounts *m, const char *text)
{
	char *copy = strdup(text), *line, *save = NULL;
	size_t cap = 0;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	clear(m);
	for (line = strtok_r(copy, "\n", &save); line && !err; line = strtok_r(NULL, "\n", &save))
		err = parse_line(m, line, &cap);
	free(copy);
	return err;
}

static int reload(struct mounts *m)
{
	char *text = NULL;
	size_t len = 0;
	int err;

	err = util__read_file("/proc/self/mountinfo", 1 << 22, &text, &len);
	if (!err)
		err = parse(m, text);
	m->gen++;
	free(text);
	return err;
}

struct mounts *mounts__open(void)
{
	struct mounts *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return NULL;
	m->fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (m->fd < 0) {
		err = -errno;
		goto fail;
	}
	err = reload(m);
	if (!err)
		return m;
fail:
	mounts__free(m);
	errno = -err;
	return NULL;
}

struct mounts *mounts__from_text(const char *text)
{
	struct mounts *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return NULL;
	m->fd = -1;
	err = parse(m, text);
	if (!err)
		return m;
	mounts__free(m);
	errno = -err;
	return NULL;
}

void mounts__free(struct mounts *m)
{
	if (!m)
		return;
	clear(m);
	if (m->fd >= 0)
		close(m->fd);
	free(m);
}

/* Whether prefix is s or an ancestor of it, component-wise.  Returns the
 * bytes of s it covers (0 for "/", so the rest keeps its slash), or -1. */
static ssize_t covers(const char *prefix, const char *s, size_t len)
{
	size_t pl = strlen(prefix);

	if (pl == 1 && prefix[0] == '/')
		return 0;
	if (pl > len || memcmp(prefix, s, pl) || (pl < len && s[pl] != '/'))
		return -1;
	return pl;
}

/* The mount table changed since it was read: the kernel flags the file. */
unsigned int mounts__refresh(struct mounts *m)
{
	struct pollfd p = { .fd = m->fd, .events = POLLPRI };

	if (m->fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLPRI | POLLERR)))
		reload(m);
	return m->gen;
}

/* out = base + rest, where rest is "" or starts with "/": "/" + "/x" gives
 * "/x", and "/tmp" + "/" gives "/tmp". */
static int join(const char *base, const char *rest, size_t rest_len, char *out, size_t cap)
{
	size_t bl = strlen(base);

	if (bl == 1 && base[0] == '/' && rest_len)
		bl = 0;
	else if (rest_len == 1)
		rest_len = 0;
	if (bl + rest_len > cap)
		return -1;
	memcpy(out, base, bl);
	memcpy(out + bl, rest, rest_len);
	return (int)(bl + rest_len);
}

int mounts__host_path(struct mounts *m, uint32_t kdev, const char *fs_path, size_t len, char *out,
		      size_t cap)
{
	const struct mount_entry *best = NULL;
	ssize_t best_len = -1;

	mounts__refresh(m);
	/* The shortest root wins: the file system mounted whole, where the
	 * host sees it first, rather than a bind mount of a part of it; among
	 * equals, the first (mounted earliest). */
	for (size_t i = 0; i < m->n; i++) {
		ssize_t c;

		if (m->e[i].kdev != kdev)
			continue;
		c = covers(m->e[i].root, fs_path, len);
		if (c >= 0 && (!best || c < best_len)) {
			best = &m->e[i];
			best_len = c;
		}
	}
	if (!best)
		return -1;
	return join(best->mountpoint, fs_path + best_len, len - best_len, out, cap);
}

int mounts__alias(struct mounts *m, size_t *iter, uint32_t kdev, const char *fs_path, char *out,
		  size_t cap)
{
	size_t len = strlen(fs_path);

	if (*iter == 0)
		mounts__refresh(m);
	while (*iter < m->n) {
		const struct mount_entry *e = &m->e[(*iter)++];
		ssize_t c;

		if (e->kdev != kdev)
			continue;
		c = covers(e->root, fs_path, len);
		if (c >= 0)
			return join(e->mountpoint, fs_path + c, len - c, out, cap);
		if (covers(fs_path, e->root, strlen(e->root)) >= 0)
			return join(e->mountpoint, "", 0, out, cap);
	}
	return -1;
}

int mounts__fs_path(struct mounts *m, uint32_t kdev, const char *host_path, char *out, size_t cap)
{
	const struct mount_entry *best = NULL;
	ssize_t best_len = -1;
	size_t len = strlen(host_path);

	mounts__refresh(m);
	/* The last mount on the deepest mountpoint is the one in sight. */
	for (size_t i = 0; i < m->n; i++) {
		ssize_t c;

		if (m->e[i].kdev != kdev)
			continue;
		c = covers(m->e[i].mountpoint, host_path, len);
		if (c >= best_len && c >= 0) {
			best = &m->e[i];
			best_len = c;
		}
	}
	if (!best)
		return -1;
	return join(best->root, host_path + best_len, len - best_len, out, cap);
}
