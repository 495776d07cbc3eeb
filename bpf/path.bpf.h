/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The two dentry walks: "is this file inside a protected tree?" by inode
 * ancestry, and the absolute path as the kernel resolves it.  Both climb
 * d_parent and, at the root of a mount, continue from the mountpoint in the
 * parent mount, so a tree mounted below a protected directory is inside it
 * and the path is given from the root of the mount namespace.  A mount of
 * another namespace (a container's) would give the container's view: its
 * path is given from the root of the file system instead, flagged, and
 * custosd finds the host mount that shows it.
 */
#ifndef CUSTOS_PATH_BPF_H
#define CUSTOS_PATH_BPF_H

#include "maps.bpf.h"
#include "emit.bpf.h"
#include <bpf/bpf_core_read.h>

#define NAME_MASK 255 /* NAME_MAX: no component is longer */

/* One step up: to the parent dentry, or across to the mountpoint when d is
 * root, the root of its mount.  Returns 0 at the top of the namespace's
 * tree. */
static __always_inline int walk_up_from(struct dentry **d, struct mount **mnt, struct dentry *root)
{
	struct dentry *dentry = *d, *parent;
	struct mount *m = *mnt, *up;

	if (dentry == root) {
		READ_KERN(up, m->mnt_parent);
		if (!up || up == m)
			return 0;
		READ_KERN(*d, m->mnt_mountpoint);
		*mnt = up;
		return 1;
	}
	READ_KERN(parent, dentry->d_parent);
	/* NULL only when the read failed (counted): stop rather than wander. */
	if (!parent || parent == dentry)
		return 0;
	*d = parent;
	return 1;
}

static __always_inline int walk_up(struct dentry **d, struct mount **mnt)
{
	struct dentry *root;

	READ_KERN(root, (*mnt)->mnt.mnt_root);
	return walk_up_from(d, mnt, root);
}

static __always_inline struct mount *real_mount(struct vfsmount *vfsmnt)
{
	return (struct mount *)((char *)vfsmnt - bpf_core_field_offset(struct mount, mnt));
}

/* Both walks run under bpf_loop(): the verifier checks one step once
 * instead of every path through CUSTOS_WALK_MAX unrolled steps. */
struct walk {
	struct dentry *d;
	struct mount *mnt;
	__u32 dataset; /* protected walk: the match */
	__u32 pos;     /* path walk: start of the path in scratch.work */
	__u32 flags;   /* path walk: CUSTOS_PATH_* */
	int done;      /* reached the top of the tree */
	int fsrel;     /* path walk: stay on the file system, up to its root */
};

/* The (dev, ino) the protected maps are keyed by. */
static __always_inline void dentry_key(struct dentry *d, struct custos_inode_key *key)
{
	struct super_block *sb;
	struct inode *inode;

	READ_KERN(inode, d->d_inode);
	READ_KERN(key->ino, inode->i_ino);
	READ_KERN(sb, d->d_sb);
	READ_KERN(key->dev, sb->s_dev);
}

static __always_inline int ino_filtered(__u64 ino)
{
	__u32 h = CUSTOS_INO_FILTER_HASH(ino);

	return (ino_filter[(h >> 6) & (CUSTOS_INO_FILTER_WORDS - 1)] >> (h & 63)) & 1;
}

static __always_inline void ino_filter_set(__u64 ino)
{
	__u32 h = CUSTOS_INO_FILTER_HASH(ino);

	__sync_fetch_and_or(&ino_filter[(h >> 6) & (CUSTOS_INO_FILTER_WORDS - 1)],
			    1ULL << (h & 63));
}

#define GOLDEN_ 0x9E3779B97F4A7C15ULL /* 2^64 / phi: a multiplier that spreads bits */

static __always_inline __u32 dir_verdict_check(const struct dir_verdict *v)
{
	__u64 h =
		(v->dentry ^ v->mnt * 3 ^ v->parent * 5 ^ v->inode * 7 ^ v->gen * 11 ^ v->dataset) *
		GOLDEN_;

	return h >> 32;
}

/* The slot of directory (d, mnt) in dir_verdicts (8192 of them). */
static __always_inline __u32 dir_verdict_slot(struct dentry *d, struct mount *mnt)
{
	return (((__u64)d ^ (__u64)mnt << 7) * GOLDEN_) >> (64 - 13);
}

/* The slot of a description's address in outside (16384 of them). */
static __always_inline __u32 outside_slot(__u64 file)
{
	return (file * GOLDEN_) >> (64 - 14);
}

/* A move or a change of what is protected is done: every verdict made
 * before it is old. */
static __always_inline void verdicts_age(void)
{
	__sync_fetch_and_add(&verdict_gen, 1);
}

/* Whether d is protected itself (a tree's root, or a file or directory
 * named outside its tree): its tree goes to w.  Its inode number first: the
 * device and the map only when the filter says it may be. */
static __always_inline int dentry_protected(struct dentry *d, struct walk *w)
{
	struct custos_inode_key key = {};
	struct custos_protected *p;
	struct super_block *sb;
	struct inode *inode;

	READ_KERN(inode, d->d_inode);
	READ_KERN(key.ino, inode->i_ino);
	if (!ino_filtered(key.ino))
		return 0;
	READ_KERN(sb, d->d_sb);
	READ_KERN(key.dev, sb->s_dev);
	p = bpf_map_lookup_elem(&protected, &key);
	if (p)
		w->dataset = p->dataset;
	return p != NULL;
}

static long protected_step(__u64 i, void *ctx)
{
	struct walk *w = ctx;

	/* w->d through a local: reading through w->d would relocate w too. */
	if (dentry_protected(w->d, w))
		return 1;
	if (!walk_up(&w->d, &w->mnt)) {
		w->done = 1;
		return 1;
	}
	return 0;
}

#define OVERLAYFS_SUPER_MAGIC 0x794c7630

/* Before 6.5 the overlay inode held its lower path itself (6.1 does). */
struct ovl_inode___lowerpath {
	struct ovl_path lowerpath;
} __attribute__((preserve_access_index));

/*
 * A file seen through overlayfs is another dentry on another super block:
 * its ancestry never reaches a protected directory used as a lower layer.
 * The overlay inode names its lower dentry and layer mount (ovl_inode->oe
 * since 6.5, ovl_inode->lowerpath before).  Returns 1 and sets *d, *mnt to
 * the lower one when there is one.
 */
static __always_inline int overlay_lower(struct dentry **d, struct vfsmount **mnt)
{
	struct dentry *lower = NULL;
	struct ovl_layer *layer = NULL;
	struct super_block *sb;
	struct ovl_inode *oi;
	struct ovl_entry *oe;
	struct inode *inode;
	unsigned int n = 0;
	unsigned long magic = 0;

	/* overlayfs is a module: without it loaded its types are unknown, and
	 * no file is on an overlay. */
	if (!bpf_core_field_exists(struct ovl_inode, vfs_inode))
		return 0;
	READ_KERN(sb, (*d)->d_sb);
	READ_KERN(magic, sb->s_magic);
	if (magic != OVERLAYFS_SUPER_MAGIC)
		return 0;
	READ_KERN(inode, (*d)->d_inode);
	oi = (struct ovl_inode *)((char *)inode -
				  bpf_core_field_offset(struct ovl_inode, vfs_inode));
	if (bpf_core_field_exists(struct ovl_inode, oe)) {
		READ_KERN(oe, oi->oe);
		if (!oe)
			return 0;
		READ_KERN(n, oe->__numlower);
		if (!n)
			return 0;
		READ_KERN(lower, oe->__lowerstack[0].dentry);
		READ_KERN(layer, oe->__lowerstack[0].layer);
	} else if (bpf_core_field_exists(struct ovl_inode___lowerpath, lowerpath)) {
		struct ovl_inode___lowerpath *old = (void *)oi;

		READ_KERN(lower, old->lowerpath.dentry);
		READ_KERN(layer, old->lowerpath.layer);
	}
	if (!lower || !layer)
		return 0;
	READ_KERN(*mnt, layer->mnt);
	*d = lower;
	return *mnt != NULL;
}

static __always_inline __u32 ancestry(struct dentry *d, struct vfsmount *vfsmnt);

/* The dataset id of the protected tree that contains d, or 0. */
static __always_inline __u32 protected_dataset(struct dentry *d, struct vfsmount *vfsmnt)
{
	__u32 dataset = ancestry(d, vfsmnt);

	/* Read through an overlay: the lower layer's file may be protected. */
	if (!dataset && overlay_lower(&d, &vfsmnt))
		dataset = ancestry(d, vfsmnt);
	return dataset;
}

/* One step of an alias's walk: up its file system only (an alias's mount
 * is not known), to the first protected ancestor. */
static long alias_step(__u64 i, void *ctx)
{
	struct walk *w = ctx;
	struct dentry *d = w->d, *parent = NULL;

	if (dentry_protected(d, w))
		return 1;
	READ_KERN(parent, d->d_parent);
	if (!parent || parent == d)
		return 1;
	w->d = parent;
	return 0;
}

#define ALIASES_MAX  4 /* other names of a file looked at */
#define S_IFMT_PATH  00170000
#define S_IFREG_PATH 0100000

/* The tree of the first of inode's names (its aliases: the names the
 * kernel has looked up) that is in one, but for the dentry except; 0 for
 * none.  w is the caller's, reused. */
static __always_inline __u32 aliases_tree(struct inode *inode, struct dentry *except,
					  struct walk *w)
{
	struct hlist_node *node = NULL;

	READ_KERN(node, inode->i_dentry.first);
	for (int i = 0; i < ALIASES_MAX && node; i++) {
		struct dentry *alias =
			(struct dentry *)((char *)node - bpf_core_field_offset(struct dentry, d_u));

		if (alias != except) {
			*w = (struct walk){ .d = alias };
			bpf_loop(CUSTOS_WALK_MAX, alias_step, w, 0);
			if (w->dataset)
				return w->dataset;
		}
		READ_KERN(node, node->next);
	}
	return 0;
}

/*
 * A regular file with more than one name, none of them in a tree by the
 * name it was reached through: one of its other names may be (a hard link
 * made outside a tree while custosd ran, before anything remembered it).
 * A link just made was looked up, so its old name is among the aliases.
 */
static __always_inline __u32 alias_dataset(struct dentry *d, struct walk *w)
{
	struct inode *inode = NULL;
	unsigned int nlink = 0;
	umode_t mode = 0;

	READ_KERN(inode, d->d_inode);
	if (!inode)
		return 0;
	READ_KERN(nlink, inode->i_nlink);
	READ_KERN(mode, inode->i_mode);
	if (nlink < 2 || (mode & S_IFMT_PATH) != S_IFREG_PATH)
		return 0;
	return aliases_tree(inode, d, w);
}

/* Remember an inode as protected for good: it has a name outside its tree.
 * What does not fit is counted. */
static __always_inline void protect_inode(struct custos_inode_key *key, __u32 dataset)
{
	struct custos_protected val = { .dataset = dataset };

	/* The bit first: a walk that finds the entry must not skip it. */
	ino_filter_set(key->ino);
	if (bpf_map_update_elem(&protected, key, &val, BPF_ANY))
		stat_inc(CUSTOS_STAT_INODES_FULL);
	verdicts_age();
}

/*
 * The verdict of directory w->d in mount w->mnt (the tree it is in, to
 * w->dataset; w->done once told): from its slot when the slot is this
 * directory's, of this generation, else by the walk, whose answer fills
 * the slot.  A walk cut off by its bound is not kept: it is counted at
 * every open.
 */
static __always_inline void dir_verdict(struct walk *w)
{
	struct dentry *d = w->d, *parent = NULL;
	struct mount *mnt;
	struct inode *inode = NULL;
	__u32 slot = dir_verdict_slot(d, w->mnt);
	__u64 gen = *(volatile __u64 *)&verdict_gen;
	struct dir_verdict *v =
		targ_verdict_cache ? bpf_map_lookup_elem(&dir_verdicts, &slot) : NULL;

	if (!v) {
		bpf_loop(CUSTOS_WALK_MAX, protected_step, w, 0);
		return;
	}
	READ_KERN(parent, d->d_parent);
	READ_KERN(inode, d->d_inode);
	if (v->dentry == (__u64)d && v->mnt == (__u64)w->mnt && v->gen == gen &&
	    v->parent == (__u64)parent && v->inode == (__u64)inode &&
	    v->check == dir_verdict_check(v)) {
		w->dataset = v->dataset;
		w->done = 1;
		return;
	}
	mnt = w->mnt;
	bpf_loop(CUSTOS_WALK_MAX, protected_step, w, 0);
	if (!w->dataset && !w->done)
		return;
	v->dentry = (__u64)d;
	v->mnt = (__u64)mnt;
	v->parent = (__u64)parent;
	v->inode = (__u64)inode;
	v->gen = gen;
	v->dataset = w->dataset;
	v->check = dir_verdict_check(v);
}

static __always_inline __u32 ancestry(struct dentry *d, struct vfsmount *vfsmnt)
{
	struct walk w = { .d = d, .mnt = real_mount(vfsmnt) };
	struct custos_inode_key key = {};
	struct custos_protected *p, seen = {};

	/* The file itself is tested here, with the key already read: the walk
	 * starts at its parent. */
	dentry_key(d, &key);
	/* With the directories' verdicts kept, a file's own is not. */
	p = targ_verdict_cache ? NULL : bpf_map_lookup_elem(&protected_inodes, &key);
	if (p)
		return p->dataset;
	p = ino_filtered(key.ino) ? bpf_map_lookup_elem(&protected, &key) : NULL;
	if (p)
		w.dataset = p->dataset;
	else if (walk_up(&w.d, &w.mnt))
		dir_verdict(&w);
	else
		w.done = 1;
	/* Deeper than the bound: the tree cannot be told.  Recorded all the
	 * same (any tree's, or none's: a file can be moved down a chain of
	 * directories made to be longer than the walk), and counted. */
	if (!w.dataset && !w.done) {
		stat_inc(CUSTOS_STAT_PATH_TRUNCATED);
		return CUSTOS_DATASET_UNKNOWN;
	}
	if (!w.dataset) {
		w.dataset = alias_dataset(d, &w);
		if (w.dataset)
			protect_inode(&key, w.dataset);
	}
	if (w.dataset && !targ_verdict_cache) {
		seen.dataset = w.dataset;
		bpf_map_update_elem(&protected_inodes, &key, &seen, BPF_ANY);
	}
	return w.dataset;
}

/*
 * The path walk, in bpf/path.bpf.c as a global function (the verifier checks
 * it once per program): the absolute path of (d, vfsmnt) is left at the end
 * of scratch.work, and the result is its length (low 16 bits) with the
 * CUSTOS_PATH_* flags it earned above them.
 */
__u32 path_walk(__u64 d, __u64 vfsmnt);
#define PATH_WALK_LEN 0xffff

/* The path of (d, vfsmnt) into out (CUSTOS_PATH_MAX bytes); returns its length. */
static __always_inline __u32 path_build(struct scratch *s, struct dentry *d,
					struct vfsmount *vfsmnt, char *out, __u32 *flags)
{
	__u32 r = path_walk((__u64)d, (__u64)vfsmnt);
	__u32 pos = (CUSTOS_PATH_MAX - (r & PATH_WALK_LEN)) & (CUSTOS_PATH_MAX - 1);

	*flags |= r >> 16;
	bpf_probe_read_kernel(out, CUSTOS_PATH_MAX - pos, &s->work[pos]);
	return CUSTOS_PATH_MAX - pos;
}

/* d_unhashed() and not the root: unlinked while open. */
static __always_inline int dentry_unlinked(struct dentry *d)
{
	struct dentry *parent = NULL;
	void *hashed = NULL;

	READ_KERN(hashed, d->d_hash.pprev);
	READ_KERN(parent, d->d_parent);
	return !hashed && parent != d;
}

static __always_inline int file_unlinked(struct file *file)
{
	struct dentry *d = NULL;

	READ_KERN(d, file->f_path.dentry);
	return d && dentry_unlinked(d);
}

/* Fill ref and path for an open file; returns the path length. */
static __always_inline __u32 file_ref_fill(struct scratch *s, struct custos_file_ref *ref,
					   char *path, struct file *file, __u32 dataset)
{
	struct vfsmount *vfsmnt;
	struct super_block *sb;
	struct inode *inode;
	struct dentry *d;
	__u32 flags = 0;

	READ_KERN(d, file->f_path.dentry);
	READ_KERN(vfsmnt, file->f_path.mnt);
	READ_KERN(inode, file->f_inode);
	READ_KERN(ref->ino, inode->i_ino);
	READ_KERN(sb, inode->i_sb);
	READ_KERN(ref->dev, sb->s_dev);
	READ_KERN(ref->mnt_id, real_mount(vfsmnt)->mnt_id);
	ref->dataset = dataset;
	if (dentry_unlinked(d))
		flags |= CUSTOS_PATH_DELETED;
	ref->path_len = path_build(s, d, vfsmnt, path, &flags);
	ref->path_flags = flags;
	return ref->path_len;
}

#endif /* CUSTOS_PATH_BPF_H */
