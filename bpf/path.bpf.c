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

/* What a dir_paths slot is keyed by: a directory as it is now. */
struct dir_key {
	__u64 dentry, mnt, parent, inode;
};

/* The slot in dir_paths of the directory d is in, when the path of d can
 * come from it (d is not a mount's root, nor on a foreign mount), with that
 * directory's key in *k; NULL otherwise. */
static __always_inline struct dir_path *dir_path_slot(__u64 d, __u64 vfsmnt, int fsrel,
						      struct dir_key *k)
{
	struct dentry *dent = (struct dentry *)d, *root = NULL, *parent = NULL, *up = NULL;
	struct mount *mnt = real_mount((struct vfsmount *)vfsmnt);
	struct inode *inode = NULL;
	__u32 slot;

	if (!targ_verdict_cache || fsrel)
		return NULL;
	READ_KERN(root, mnt->mnt.mnt_root);
	READ_KERN(parent, dent->d_parent);
	if (dent == root || !parent || parent == dent)
		return NULL;
	READ_KERN(up, parent->d_parent);
	READ_KERN(inode, parent->d_inode);
	k->dentry = (__u64)parent;
	k->mnt = (__u64)mnt;
	k->parent = (__u64)up;
	k->inode = (__u64)inode;
	slot = dir_verdict_slot(parent, mnt) & (DIR_PATH_SLOTS - 1);
	return bpf_map_lookup_elem(&dir_paths, &slot);
}

/* d's name, at the end of the scratch's work, after its directory's path
 * from dp: path_walk()'s answer. */
static __always_inline __u32 path_from_dir(struct scratch *s, struct dentry *d, struct dir_path *dp)
{
	struct qstr name = {};
	__u32 len, pos;

	READ_KERN(name, d->d_name);
	len = name.len & NAME_MASK;
	pos = CUSTOS_PATH_MAX - len;
	if (bpf_probe_read_kernel(&s->work[pos & (CUSTOS_PATH_MAX - 1)], len, name.name))
		stat_inc(CUSTOS_STAT_PROBE_READ);
	pos--;
	s->work[pos & (CUSTOS_PATH_MAX - 1)] = '/';
	len = dp->len & (DIR_PATH_MAX - 1);
	pos -= len;
	bpf_probe_read_kernel(&s->work[pos & (CUSTOS_PATH_MAX - 1)], len, dp->path);
	return (CUSTOS_PATH_MAX - pos) | dp->flags << 16;
}

/* After a walk of d's path (at pos in the work): its directory's path into
 * dp, when it fits. */
static __always_inline void dir_path_keep(struct scratch *s, struct dentry *d, __u32 pos,
					  __u32 flags, struct dir_path *dp)
{
	struct qstr name = {};
	__u32 len;

	READ_KERN(name, d->d_name);
	len = CUSTOS_PATH_MAX - pos - (name.len & NAME_MASK) - 1;
	if (len >= DIR_PATH_MAX || pos >= CUSTOS_PATH_MAX)
		return;
	/* The mask below is for the verifier: the compiler drops it as
	 * redundant unless len is opaque to it here. */
	asm volatile("" : "+r"(len));
	bpf_probe_read_kernel(dp->path, len & (DIR_PATH_MAX - 1),
			      &s->work[pos & (CUSTOS_PATH_MAX - 1)]);
	dp->len = len;
	dp->flags = flags;
}

/* The walk itself, a global function of its own: the verifier checks its
 * loop once, not once for each way path_walk() comes to it. */
__noinline __u32 path_climb(__u64 d, __u64 vfsmnt, __u32 fsrel)
{
	struct walk w = { .d = (struct dentry *)d,
			  .mnt = real_mount((struct vfsmount *)vfsmnt),
			  .pos = CUSTOS_PATH_MAX,
			  .fsrel = fsrel,
			  .flags = fsrel ? CUSTOS_PATH_FSREL : 0 };
	struct scratch *s = scratch_get();
	__u32 pos;

	if (!s)
		return 0;
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

/* d's path from its directory's slot in dir_paths, when that is current;
 * 0 otherwise, and then the slot is keyed for this walk (its dentry left 0
 * until path_cache_keep() fills it: a slot half written is no one's).  Each
 * of these is a function of its own so that path_walk()'s frame, under
 * path_climb()'s, stays small: 6.1's verifier counts the whole chain of
 * frames from sys_exit against 512 bytes. */
__noinline __u32 path_cached(__u64 d, __u64 vfsmnt, int fsrel)
{
	struct scratch *s = scratch_get();
	__u64 gen = *(volatile __u64 *)&verdict_gen;
	struct dir_key k;
	struct dir_path *dp = dir_path_slot(d, vfsmnt, fsrel, &k);

	if (!dp || !s)
		return 0;
	if (dp->dentry == k.dentry && dp->mnt == k.mnt && dp->gen == gen &&
	    dp->parent == k.parent && dp->inode == k.inode)
		return path_from_dir(s, (struct dentry *)d, dp);
	/* The generation before the walk: a change during it leaves the
	 * slot stale, never wrong. */
	dp->dentry = 0;
	dp->mnt = k.mnt;
	dp->parent = k.parent;
	dp->inode = k.inode;
	dp->gen = gen;
	return 0;
}

/* After path_climb() answered r for d: its directory's path into the slot
 * path_cached() keyed, when the slot is still keyed for that directory. */
__noinline int path_cache_keep(__u64 d, __u64 vfsmnt, __u32 r)
{
	struct scratch *s = scratch_get();
	struct dir_key k;
	struct dir_path *dp = dir_path_slot(d, vfsmnt, 0, &k);

	if (!dp || !s || (r >> 16 & CUSTOS_PATH_TRUNCATED))
		return 0;
	if (dp->dentry || dp->mnt != k.mnt || dp->parent != k.parent || dp->inode != k.inode)
		return 0;
	dir_path_keep(s, (struct dentry *)d, CUSTOS_PATH_MAX - (r & 0xffff), r >> 16, dp);
	dp->dentry = k.dentry;
	return 0;
}

__noinline __u32 path_walk(__u64 d, __u64 vfsmnt)
{
	int fsrel = foreign_mount(real_mount((struct vfsmount *)vfsmnt));
	__u32 r;

	r = path_cached(d, vfsmnt, fsrel);
	if (r)
		return r;
	r = path_climb(d, vfsmnt, fsrel);
	if (!fsrel)
		path_cache_keep(d, vfsmnt, r);
	return r;
}
