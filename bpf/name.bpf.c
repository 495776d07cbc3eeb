// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Where a name given to a call lies, when no file was reached to tell: a
 * failed open, the two names of a link or rename.  By the start directory's
 * ancestry, or by the joined path against the places the trees are seen
 * (the roots map).
 */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "path.bpf.h"
#include "task.bpf.h"
#include "open.bpf.h"
#include "syscall.bpf.h"

#define AT_FDCWD_ (-100)

struct root_match {
	__u32 at;    /* the candidate path: at this offset in the scratch */
	__u32 len;   /* its length */
	__u32 dev;   /* the start directory's file system, when fsrel */
	__u32 fsrel; /* the candidate is a file system path (CUSTOS_PATH_FSREL) */
	__u32 dataset;
};

/* Where a joined path may be built: anywhere a whole path fits in the
 * scratch's event area. */
#define PLACE_AT_MAX (offsetof(struct scratch, placed) - CUSTOS_PATH_MAX)

/* Does the candidate start with root i, on a component boundary? */
static long root_step(__u64 i, void *ctx)
{
	struct root_match *m = ctx;
	struct scratch *s = scratch_get();
	__u32 key = i, rl, len = m->len, at = m->at;
	struct custos_root *root = bpf_map_lookup_elem(&roots, &key);
	char *cand, *rp;

	if (!s || !root || at > PLACE_AT_MAX)
		return 1;
	cand = (char *)s + at;
	rl = m->fsrel ? root->fs_len : root->len;
	rp = m->fsrel ? root->fs_path : root->path;
	if (m->fsrel && root->dev != m->dev)
		return 0;
	if (!rl || rl > CUSTOS_ROOT_MAX || rl > len)
		return 0;
	for (int j = 0; j < CUSTOS_ROOT_MAX; j++) {
		if (j >= rl)
			break;
		if (cand[j] != rp[j])
			return 0;
	}
	if (rl == len || rl == 1 || cand[rl & (CUSTOS_PATH_MAX - 1)] == '/') {
		m->dataset = root->dataset;
		return 1;
	}
	return 0;
}

/* Where the kernel starts looking up the name: the root (the chroot's,
 * when there is one) for an absolute name, else the working directory or
 * the directory fd. */
static __always_inline int lookup_start(long dfd, char first, struct dentry **d,
					struct vfsmount **mnt)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fs_struct *fs;
	struct file *dir;

	if (first == '/' || dfd == AT_FDCWD_) {
		READ_KERN(fs, task->fs);
		if (!fs)
			return 0;
		if (first == '/') {
			READ_KERN(*d, fs->root.dentry);
			READ_KERN(*mnt, fs->root.mnt);
		} else {
			READ_KERN(*d, fs->pwd.dentry);
			READ_KERN(*mnt, fs->pwd.mnt);
		}
	} else {
		dir = fd_file(dfd);
		if (!dir)
			return 0;
		READ_KERN(*d, dir->f_path.dentry);
		READ_KERN(*mnt, dir->f_path.mnt);
	}
	return *d && *mnt;
}

/*
 * Where a name given to a call lies, when no file was reached to tell (a
 * failed open, the names of a link or rename): in the tree that holds its
 * start directory (by inode ancestry: a chroot into a tree, a bind mount,
 * another namespace), or else below a root path (roots map) once joined to
 * that directory's kernel path.  The joined path is written at offset at
 * of the scratch; its length, flags and file system go to s->placed.
 * Returns the dataset, 0 for none.  ctl: PLACE_KNAME when the name is
 * kernel memory, PLACE_PLAIN when the tree is only wanted if the name is a
 * plain component (no '/').  A global function: the verifier checks it once.
 */
__noinline __u32 name_place(long dfd, __u64 filename, __u32 ctl, __u64 at)
{
	struct root_match m = { .at = at };
	struct scratch *s = scratch_get();
	struct dentry *d = NULL;
	struct vfsmount *mnt = NULL;
	struct super_block *sb;
	__u32 base, pflags = 0, kname = ctl & PLACE_KNAME;
	char first = 0, *out;
	long n;

	if (!s || at > PLACE_AT_MAX)
		return 0;
	s->placed.len = 0;
	if (!filename)
		return 0;
	out = (char *)s + at;
	if (kname ? bpf_probe_read_kernel(&first, 1, (void *)filename)
		  : bpf_probe_read_user(&first, 1, (void *)filename))
		return 0;
	if (!lookup_start(dfd, first, &d, &mnt))
		return 0;
	m.dataset = tree_of((__u64)d, (__u64)mnt);
	if (!m.dataset && !roots_used)
		return 0;
	base = path_build(s, d, mnt, out, &pflags);
	/* The root's "/" is the name's own first byte, or its separator. */
	if (base == 1)
		base = 0;
	if (first != '/') {
		if (base >= CUSTOS_PATH_MAX - 1)
			return 0;
		out[base & (CUSTOS_PATH_MAX - 1)] = '/';
		base++;
	}
	base &= CUSTOS_PATH_MAX - 1;
	n = kname ? bpf_probe_read_kernel_str(&out[base], CUSTOS_PATH_MAX - base, (void *)filename)
		  : bpf_probe_read_user_str(&out[base], CUSTOS_PATH_MAX - base, (void *)filename);
	if (n <= 0)
		return 0;
	/* A name that fills the buffer was cut: flag it, keep what fits. */
	if (base + n - 1 >= CUSTOS_PATH_MAX - 1) {
		pflags |= CUSTOS_PATH_TRUNCATED;
		stat_inc(CUSTOS_STAT_PATH_TRUNCATED);
	}
	m.len = (base + n - 1) & (CUSTOS_PATH_MAX - 1);
	READ_KERN(sb, d->d_sb);
	READ_KERN(m.dev, sb->s_dev);
	m.fsrel = pflags & CUSTOS_PATH_FSREL;
	s->placed.len = m.len;
	s->placed.dev = m.dev;
	s->placed.flags = pflags | CUSTOS_PATH_UNRESOLVED;
	if (ctl & PLACE_PLAIN) {
		/* A plain name stays in its start directory; anything else may
		 * leave it by "..", a symlink or a mount. */
		for (int j = 0; j < 256; j++) {
			if (base + j >= m.len)
				break;
			if (out[(base + j) & (CUSTOS_PATH_MAX - 1)] == '/')
				return 0;
		}
		return m.dataset;
	}
	if (!m.dataset)
		bpf_loop(roots_used, root_step, &m, 0);
	return m.dataset;
}

/* An open of the name filename failed with ret: recorded when the name lies
 * in a protected tree (name_place).  custosd folds "." and ".." in the
 * path.  A global function, checked once by the verifier. */
__noinline int failed_open(__u32 flags, long dfd, __u64 filename, long ret, __u32 kname)
{
	struct custos_open_event *ev;
	struct scratch *s = scratch_get();
	__u32 dataset, len;

	if (!s)
		return 0;
	dataset = name_place(dfd, filename, kname ? PLACE_KNAME : 0,
			     offsetof(struct scratch, open.path));
	if (!dataset)
		return 0;
	ev = &s->open;
	task_ids_fill(&ev->task);
	ev->result = ret;
	ev->flags = flags;
	ev->abi = current_abi();
	ev->how = CUSTOS_OPEN_SEEN;
	ev->session = 0;
	/* Masked again where it is used: the bound does not survive the stack. */
	len = s->placed.len & (CUSTOS_PATH_MAX - 1);
	/* dev: which file system a path from its root (fsrel) is on. */
	ev->file = (struct custos_file_ref){ .dev = s->placed.dev,
					     .dataset = dataset,
					     .path_len = len,
					     .path_flags = s->placed.flags };
	emit(&ev->hdr, CUSTOS_EV_OPEN, offsetof(struct custos_open_event, path) + len);
	return 0;
}
