// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "opens.h"

struct slot {
	uint64_t dev, ino;
	uint32_t mnt_id, flags;
	size_t len, cap;
	char *path; /* NULL: empty */
};

struct opens {
	struct slot *slot;
	size_t mask;
};

struct opens *opens__new(size_t slots)
{
	struct opens *o;

	if (!slots || (slots & (slots - 1))) {
		errno = EINVAL;
		return NULL;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		errno = ENOMEM;
		return NULL;
	}
	o->slot = calloc(slots, sizeof(*o->slot));
	if (!o->slot) {
		free(o);
		errno = ENOMEM;
		return NULL;
	}
	o->mask = slots - 1;
	return o;
}

void opens__free(struct opens *o)
{
	if (!o)
		return;
	for (size_t i = 0; i <= o->mask; i++)
		free(o->slot[i].path);
	free(o->slot);
	free(o);
}

/* Direct-mapped: the inode number spreads files well; dev and mount mix in. */
static struct slot *slot_of(const struct opens *o, uint64_t dev, uint64_t ino, uint32_t mnt_id)
{
	uint64_t h = (ino ^ (dev << 17) ^ ((uint64_t)mnt_id << 29)) * 0x9e3779b97f4a7c15ULL;

	return &o->slot[(h >> 32) & o->mask];
}

int opens__put(struct opens *o, uint64_t dev, uint64_t ino, uint32_t mnt_id, const void *path,
	       size_t len, uint32_t flags)
{
	struct slot *s = slot_of(o, dev, ino, mnt_id);

	/* The buffer is kept and grown: a put is a copy, rarely an allocation. */
	if (len + 1 > s->cap) {
		char *p = realloc(s->path, len + 1);

		if (!p)
			return -ENOMEM;
		s->path = p;
		s->cap = len + 1;
	}
	memcpy(s->path, path, len);
	s->path[len] = '\0';
	s->len = len;
	s->dev = dev;
	s->ino = ino;
	s->mnt_id = mnt_id;
	s->flags = flags;
	return 0;
}

const void *opens__get(const struct opens *o, uint64_t dev, uint64_t ino, uint32_t mnt_id,
		       size_t *len, uint32_t *flags)
{
	const struct slot *s = slot_of(o, dev, ino, mnt_id);

	if (!s->path || s->dev != dev || s->ino != ino || s->mnt_id != mnt_id)
		return NULL;
	*len = s->len;
	*flags = s->flags;
	return s->path;
}
