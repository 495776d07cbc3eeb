/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Identity of the current task and its file table. */
#ifndef CUSTOS_TASK_BPF_H
#define CUSTOS_TASK_BPF_H

#include "maps.bpf.h"
#include "emit.bpf.h"
#include <bpf/bpf_tracing.h>

#define TICK_NS 10000000ULL /* 1 / USER_HZ: the clock ticks of /proc/PID/stat */

static __always_inline int is_self(void)
{
	if ((bpf_get_current_pid_tgid() >> 32) != self_tgid)
		return 0;
	return bpf_get_current_task_btf()->group_leader->start_boottime / TICK_NS ==
	       self_start_ticks;
}

/* The current task's credentials object: a change of credentials installs
 * a new one, so an unchanged pointer means unchanged ids. */
static __always_inline const struct cred *current_cred(void)
{
	return bpf_get_current_task_btf()->cred;
}

/* Credentials are read from the task at the moment of the event, not at
 * exec: a process that changed uid since exec shows its uid of now. */
static __always_inline void task_ids_fill(struct custos_task_ids *t)
{
	/* BTF-typed: each field is a plain, fault-safe load, not a helper
	 * call (a task's ids are read for every record). */
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct signal_struct *signal = task->signal;
	const struct cred *cred = task->cred;
	struct tty_struct *tty = signal->tty;
	struct pid *session = signal->pids[PIDTYPE_SID];

	t->pid = pid_tgid >> 32;
	t->tid = (__u32)pid_tgid;
	t->cgroup_id = bpf_get_current_cgroup_id();
	t->ppid = task->real_parent->tgid;
	/* The process is named by its leader's start: a thread's own differs. */
	t->start_ns = task->group_leader->start_boottime;
	t->sid = session ? session->numbers[0].nr : 0;
	/* The kernel's dev_t (MINORBITS 20), as for files. */
	t->tty = tty ? ((__u32)tty->driver->major << 20 |
			(__u32)(tty->driver->minor_start + tty->index))
		     : 0;
	t->uid = cred->uid.val;
	t->euid = cred->euid.val;
	t->fsuid = cred->fsuid.val;
	t->gid = cred->gid.val;
	t->egid = cred->egid.val;
	t->loginuid = task->loginuid.val;
	t->sessionid = task->sessionid;
	bpf_get_current_comm(t->comm, sizeof(t->comm));
}

/* The registers the current task entered its syscall with: at the
 * syscall's exit they still hold its arguments (an exit program needs no
 * stash from the entry). */
static __always_inline struct pt_regs *syscall_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/* Argument n (0-based) of that syscall: plain loads through the BTF-typed
 * registers, no helper call. */
static __always_inline long syscall_arg(struct pt_regs *regs, int n)
{
	switch (n) {
	case 0:
		return PT_REGS_PARM1_SYSCALL(regs);
	case 1:
		return PT_REGS_PARM2_SYSCALL(regs);
	case 2:
		return PT_REGS_PARM3_SYSCALL(regs);
	case 3:
		return PT_REGS_PARM4_SYSCALL(regs);
	default:
		return PT_REGS_PARM5_SYSCALL(regs);
	}
}

/* The struct file behind fd in the current task, or NULL. */
static __always_inline struct file *fd_file(long fd)
{
	/* Through the BTF-typed task the walk is plain loads (fault-safe),
	 * not one helper call per pointer; only the indexed slot needs one. */
	struct task_struct *task = bpf_get_current_task_btf();
	struct files_struct *files = task->files;
	struct file *file = NULL;
	struct fdtable *fdt;

	if (fd < 0 || !files)
		return NULL;
	fdt = files->fdt;
	if (!fdt || fd >= fdt->max_fds)
		return NULL;
	READ_KERN(file, fdt->fd[fd]);
	return file;
}

/* A hook's argument n as a plain number: a global function takes no typed
 * kernel pointer (6.1's verifier: "R1 is not a scalar"). */
static __always_inline __u64 arg_scalar(unsigned long long *ctx, int n)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &ctx[n]);
	return v;
}

#endif /* CUSTOS_TASK_BPF_H */
