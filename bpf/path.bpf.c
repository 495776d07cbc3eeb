// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The path walk, once for all programs (see path.bpf.h). */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "path.bpf.h"

static long path_step(__u64 i, void *ctx)
{
	struct walk *w = ctx;
	struct dentry *child = w->d, *parent;
	struct mount *mnt = w->mnt;
	struct scratch *s = scratch_get();
	struct dentry *root;
	struct qstr name;
	__u32 len, pos;

	if (!s)
		return 1;
	if (!w->fsrel) {
		READ_KERN(root, mnt->mnt.mnt_root);
		if (child == root) {
			/* A mount root has no name of its own: cross to the mountpoint. */
			if (!walk_up_from(&w->d, &w->mnt, root)) {
				w->done = 1;
				return 1;
			}
			return 0;
		}
	}
	READ_KERN(name, child->d_name);
	if (w->fsrel) {
		READ_KERN(parent, child->d_parent);
		if (!parent || parent == child) {
			w->done = 1;
			return 1;
		}
		w->d = parent;
	} else if (!walk_up_from(&w->d, &w->mnt, root)) {
		w->done = 1;
		return 1;
	}
	len = name.len & NAME_MASK;
	pos = w->pos;
	if (len + 1 > pos) {
		w->flags |= CUSTOS_PATH_TRUNCATED;
		return 1;
	}
	pos -= len + 1;
	if (bpf_probe_read_kernel(&s->work[(pos + 1) & (CUSTOS_PATH_MAX - 1)], len, name.name))
		stat_inc(CUSTOS_STAT_PROBE_READ);
	s->work[pos & (CUSTOS_PATH_MAX - 1)] = '/';
	w->pos = pos;
	return 0;
}

/* Whether a mount belongs to a namespace other than custosd's (or none). */
static __always_inline int foreign_mount(struct mount *mnt)
{
	struct mnt_namespace *ns = NULL;
	unsigned int inum = 0;

	if (!targ_host_mnt_ns)
		return 0;
	READ_KERN(ns, mnt->mnt_ns);
	if (ns)
		READ_KERN(inum, ns->ns.inum);
	return inum != targ_host_mnt_ns;
}

__noinline __u32 path_walk(__u64 d, __u64 vfsmnt)
{
	struct walk w = { .d = (struct dentry *)d,
			  .mnt = real_mount((struct vfsmount *)vfsmnt),
			  .pos = CUSTOS_PATH_MAX };
	struct scratch *s = scratch_get();
	__u32 pos;

	if (!s)
		return 0;
	if (foreign_mount(w.mnt)) {
		w.fsrel = 1;
		w.flags |= CUSTOS_PATH_FSREL;
	}
	bpf_loop(CUSTOS_WALK_MAX, path_step, &w, 0);
	if (!w.done)
		w.flags |= CUSTOS_PATH_TRUNCATED;
	if (w.flags & CUSTOS_PATH_TRUNCATED)
		stat_inc(CUSTOS_STAT_PATH_TRUNCATED);
	/* Nothing above the start: the root itself, "/". */
	pos = w.pos;
	if (pos >= CUSTOS_PATH_MAX) {
		pos = CUSTOS_PATH_MAX - 1;
		s->work[pos] = '/';
	}
	return (CUSTOS_PATH_MAX - pos) | w.flags << 16;
}
