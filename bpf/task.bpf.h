/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Identity of the current task and its file table. */
#ifndef CUSTOS_TASK_BPF_H
#define CUSTOS_TASK_BPF_H

#include "maps.bpf.h"
#include "emit.bpf.h"
#include <bpf/bpf_tracing.h>

static __always_inline int is_self(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == targ_self_tgid;
}

/* The current task's credentials object: a change of credentials installs
 * a new one, so an unchanged pointer means unchanged ids. */
static __always_inline const struct cred *current_cred(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	const struct cred *cred = NULL;

	READ_KERN(cred, task->cred);
	return cred;
}

/* Credentials are read from the task at the moment of the event, not at
 * exec: a process that changed uid since exec shows its uid of now. */
static __always_inline void task_ids_fill(struct custos_task_ids *t)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct task_struct *parent, *leader;
	struct signal_struct *signal;
	struct tty_struct *tty;
	struct tty_driver *driver;
	struct pid *session;
	const struct cred *cred;
	int major = 0, minor = 0, index = 0;

	t->pid = pid_tgid >> 32;
	t->tid = (__u32)pid_tgid;
	t->cgroup_id = bpf_get_current_cgroup_id();
	READ_KERN(parent, task->real_parent);
	READ_KERN(t->ppid, parent->tgid);
	/* The process is named by its leader's start: a thread's own differs. */
	READ_KERN(leader, task->group_leader);
	READ_KERN(t->start_ns, leader->start_boottime);
	READ_KERN(signal, task->signal);
	READ_KERN(session, signal->pids[PIDTYPE_SID]);
	t->sid = 0;
	if (session)
		READ_KERN(t->sid, session->numbers[0].nr);
	READ_KERN(tty, signal->tty);
	if (tty) {
		READ_KERN(index, tty->index);
		READ_KERN(driver, tty->driver);
		READ_KERN(major, driver->major);
		READ_KERN(minor, driver->minor_start);
	}
	/* The kernel's dev_t (MINORBITS 20), as for files. */
	t->tty = tty ? ((__u32)major << 20 | (__u32)(minor + index)) : 0;
	READ_KERN(cred, task->cred);
	READ_KERN(t->uid, cred->uid.val);
	READ_KERN(t->euid, cred->euid.val);
	READ_KERN(t->fsuid, cred->fsuid.val);
	READ_KERN(t->gid, cred->gid.val);
	READ_KERN(t->egid, cred->egid.val);
	READ_KERN(t->loginuid, task->loginuid.val);
	READ_KERN(t->sessionid, task->sessionid);
	bpf_get_current_comm(t->comm, sizeof(t->comm));
}

/* The registers the current task entered its syscall with: at the
 * syscall's exit they still hold its arguments (an exit program needs no
 * stash from the entry). */
static __always_inline struct pt_regs *syscall_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/* Argument n (0-based) of that syscall. */
static __always_inline long syscall_arg(struct pt_regs *regs, int n)
{
	switch (n) {
	case 0:
		return PT_REGS_PARM1_CORE_SYSCALL(regs);
	case 1:
		return PT_REGS_PARM2_CORE_SYSCALL(regs);
	case 2:
		return PT_REGS_PARM3_CORE_SYSCALL(regs);
	case 3:
		return PT_REGS_PARM4_CORE_SYSCALL(regs);
	default:
		return PT_REGS_PARM5_CORE_SYSCALL(regs);
	}
}

/* The struct file behind fd in the current task, or NULL. */
static __always_inline struct file *fd_file(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct files_struct *files;
	struct file *file = NULL;
	unsigned int max_fds;
	struct fdtable *fdt;
	struct file **fds;

	if (fd < 0)
		return NULL;
	READ_KERN(files, task->files);
	READ_KERN(fdt, files->fdt);
	READ_KERN(max_fds, fdt->max_fds);
	if (fd >= max_fds)
		return NULL;
	READ_KERN(fds, fdt->fd);
	READ_KERN(file, fds[fd]);
	return file;
}

#endif /* CUSTOS_TASK_BPF_H */
