// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A protected file that gets a name outside its tree: a hard link made
 * there, or a rename that moves it (or a directory of it) out.  Its ancestry
 * no longer leads to the tree, so its inode is remembered as protected (the
 * protected map), and the new name is a record of its own.
 *
 * The hook backend sees both at the kernel's path checks, with the dentries:
 * exact, and the inode is remembered before the call returns.  The syscall
 * exit sees only the names the caller gave: each is placed as a failed
 * open's is (name_place), and custosd looks the new name up and remembers
 * its inode; until it has, a file linked there is still found through its
 * other names (alias_dataset).  A file moved there is remembered by the
 * kernel where 6.13's timestamp tracepoints fire (the file system sets the
 * moved inode's ctime while its name is still in the tree); before 6.13,
 * only by custosd.
 */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "path.bpf.h"
#include "task.bpf.h"
#include "open.bpf.h"
#include "syscall.bpf.h"
#include <bpf/bpf_tracing.h>

#define LINK_PATH_AT  offsetof(struct scratch, link.path)
#define AT_FDCWD_LINK (-100)

/*
 * A link or rename (s->names) of the current task returned 0: recorded
 * when the old name lies in a tree and the new one is not certainly in the
 * same tree (only a plain name in a directory of that tree is: any other
 * may leave it by "..", a symlink or a mount).  custosd decides the rest.
 * A global function, checked once by the verifier.
 */
__noinline int link_done(long ret)
{
	struct scratch *s = scratch_get();
	struct custos_link_event *ev;
	__u32 dataset, old_len, old_flags, new_len;

	__u32 tid = bpf_get_current_pid_tgid(), *moved;

	if (!s || ret)
		return 0;
	dataset = name_place(s->names.olddfd, s->names.oldname, 0, LINK_PATH_AT);
	/* The kernel saw the moved file's own name in a tree (inode_renamed). */
	moved = bpf_map_lookup_elem(&renames, &tid);
	if (moved) {
		if (!dataset)
			dataset = *moved;
		bpf_map_delete_elem(&renames, &tid);
	}
	if (!dataset)
		return 0;
	old_len = s->placed.len & (CUSTOS_PATH_MAX - 1);
	old_flags = s->placed.flags;
	if (name_place(s->names.newdfd, s->names.newname, PLACE_PLAIN, LINK_PATH_AT + old_len) ==
	    dataset)
		return 0;
	new_len = s->placed.len & (CUSTOS_PATH_MAX - 1);
	ev = &s->link;
	task_ids_fill(&ev->task);
	ev->result = ret;
	ev->flags = s->names.flags;
	ev->abi = current_abi();
	ev->op = s->names.op;
	ev->file = (struct custos_file_ref){ .dev = s->placed.dev,
					     .dataset = dataset,
					     .path_len = old_len,
					     .path_flags = old_flags };
	ev->target_flags = s->placed.flags;
	ev->target_dataset = 0;
	ev->target_len = new_len;
	emit(&ev->hdr, CUSTOS_EV_LINK,
	     offsetof(struct custos_link_event, path) + old_len + new_len);
	return 0;
}

/*
 * The hooks: old (on mount mnt) gets the new name new in directory dir
 * (dir_mnt).  When old is protected and dir is not in the same tree, its
 * inode is remembered and the event sent, the paths walked from the
 * dentries.  The hook runs before the call is done: result 0.
 */
__noinline int link_hooked(__u64 old, __u64 mnt, __u64 dir, __u64 new, __u32 op)
{
	struct dentry *d = (struct dentry *)old;
	struct custos_inode_key key = {};
	struct custos_link_event *ev;
	struct scratch *s;
	__u32 dataset, old_len, new_len, flags = 0;

	__u32 there;

	dataset = tree_of(old, mnt);
	if (!dataset)
		return 0;
	there = tree_of(dir, mnt);
	if (there == dataset)
		return 0;
	dentry_key(d, &key);
	/* Into another tree, its ancestry says so. */
	if (!there)
		protect_inode(&key, dataset);
	s = scratch_get();
	if (!s)
		return 0;
	ev = &s->link;
	task_ids_fill(&ev->task);
	ev->result = 0;
	ev->flags = 0;
	ev->abi = current_abi();
	ev->op = op;
	old_len =
		path_build(s, d, (struct vfsmount *)mnt, ev->path, &flags) & (CUSTOS_PATH_MAX - 1);
	ev->file = (struct custos_file_ref){ .ino = key.ino,
					     .dev = key.dev,
					     .dataset = dataset,
					     .path_len = old_len,
					     .path_flags = flags };
	flags = 0;
	new_len = path_build(s, (struct dentry *)new, (struct vfsmount *)mnt, &ev->path[old_len],
			     &flags) &
		  (CUSTOS_PATH_MAX - 1);
	ev->target_flags = flags;
	ev->target_dataset = there;
	ev->target_len = new_len;
	emit(&ev->hdr, CUSTOS_EV_LINK,
	     offsetof(struct custos_link_event, path) + old_len + new_len);
	return 0;
}

/* A path hook's names: arguments old_arg (the dentry given a new name),
 * dir_arg (the directory it goes to: a struct path) and new_arg (the new
 * dentry), as plain numbers for the global function. */
static __always_inline void link_hook(unsigned long long *ctx, int old_arg, int dir_arg,
				      int new_arg, __u32 op)
{
	struct path dir = {};

	if (bpf_probe_read_kernel(&dir, sizeof(dir), (void *)arg_scalar(ctx, dir_arg)))
		return;
	/* A link or rename stays on its mount: old's is dir's. */
	link_hooked(arg_scalar(ctx, old_arg), (__u64)dir.mnt, (__u64)dir.dentry,
		    arg_scalar(ctx, new_arg), op);
}

SEC("lsm/path_link")
int BPF_PROG(hook_path_link, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry, int ret)
{
	if (ret || is_self())
		return ret;
	link_hook(ctx, 0, 1, 2, CUSTOS_LINK_LINK);
	return 0;
}

SEC("lsm/path_rename")
int BPF_PROG(hook_path_rename, const struct path *old_dir, struct dentry *old_dentry,
	     const struct path *new_dir, struct dentry *new_dentry, unsigned int flags, int ret)
{
	if (ret || is_self())
		return ret;
	link_hook(ctx, 1, 2, 3, CUSTOS_LINK_RENAME);
	return 0;
}

/* Whether the current task is renaming something: a rename call of any
 * ABI, or an io_uring request (its workers run with io_uring_enter's
 * registers). */
static __always_inline int renaming(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	__u32 abi;

	switch (sc_current(regs, &abi)) {
	case SC_RENAME:
	case SC_RENAMEAT:
	case SC_RENAMEAT2:
	case SC_IO_URING_ENTER:
		return 1;
	default:
		return 0;
	}
}

/*
 * A rename sets the ctime of the inode it moves, before the kernel moves its
 * name: if that name is in a tree, the inode is remembered as protected,
 * wherever it goes, race-free (custosd would be a few milliseconds late,
 * and lose a file renamed twice at once).  Unless the new name is a plain
 * one in a directory of the same tree, where it stays protected anyway.
 * A global function, checked once by the verifier.
 */
__noinline int inode_renamed(__u64 inode_addr)
{
	struct inode *inode = (struct inode *)inode_addr;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	struct custos_inode_key key = {};
	struct super_block *sb = NULL;
	__u32 dataset, abi, tid = bpf_get_current_pid_tgid();
	struct walk w;
	enum sc sc;

	dataset = aliases_tree(inode, NULL, &w);
	if (!dataset)
		return 0;
	sc = sc_current(regs, &abi);
	if (sc == SC_RENAME &&
	    name_place(AT_FDCWD_LINK, sc_arg(regs, abi, 1), PLACE_PLAIN, LINK_PATH_AT) == dataset)
		return 0;
	if ((sc == SC_RENAMEAT || sc == SC_RENAMEAT2) &&
	    name_place(sc_int(regs, abi, 2), sc_arg(regs, abi, 3), PLACE_PLAIN, LINK_PATH_AT) ==
		    dataset)
		return 0;
	READ_KERN(key.ino, inode->i_ino);
	READ_KERN(sb, inode->i_sb);
	if (sb)
		READ_KERN(key.dev, sb->s_dev);
	protect_inode(&key, dataset);
	bpf_map_update_elem(&renames, &tid, &dataset, BPF_ANY);
	return 0;
}

/* The three ways 6.13 and later set an inode's ctime to now (a multigrain
 * file system's exchange, or its skip when the time is the same; any other
 * file system's plain set); each passes the inode first.  custosd loads
 * them where the kernel has them, for the tracepoint backend. */
SEC("tp_btf/ctime_ns_xchg")
int BPF_PROG(ctime_xchg, struct inode *inode)
{
	if (renaming())
		inode_renamed(arg_scalar(ctx, 0));
	return 0;
}

SEC("tp_btf/ctime_xchg_skip")
int BPF_PROG(ctime_skip, struct inode *inode)
{
	if (renaming())
		inode_renamed(arg_scalar(ctx, 0));
	return 0;
}

SEC("tp_btf/inode_set_ctime_to_ts")
int BPF_PROG(ctime_set, struct inode *inode)
{
	if (renaming())
		inode_renamed(arg_scalar(ctx, 0));
	return 0;
}
