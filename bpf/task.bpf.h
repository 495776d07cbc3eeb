/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Identity of the current task and its file table. */
#ifndef CUSTOS_TASK_BPF_H
#define CUSTOS_TASK_BPF_H

#include "maps.bpf.h"
#include <bpf/bpf_core_read.h>

static __always_inline int is_self(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == targ_self_tgid;
}

/* Credentials are read from the task at the moment of the event, not at
 * exec: a process that changed uid since exec shows its uid of now. */
static __always_inline void task_ids_fill(struct custos_task_ids *t)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	const struct cred *cred = BPF_CORE_READ(task, cred);
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	t->pid = pid_tgid >> 32;
	t->tid = (__u32)pid_tgid;
	t->ppid = BPF_CORE_READ(task, real_parent, tgid);
	t->uid = BPF_CORE_READ(cred, uid.val);
	t->euid = BPF_CORE_READ(cred, euid.val);
	t->fsuid = BPF_CORE_READ(cred, fsuid.val);
	t->gid = BPF_CORE_READ(cred, gid.val);
	t->egid = BPF_CORE_READ(cred, egid.val);
	t->loginuid = BPF_CORE_READ(task, loginuid.val);
	t->sessionid = BPF_CORE_READ(task, sessionid);
	bpf_get_current_comm(t->comm, sizeof(t->comm));
}

/* The struct file behind fd in the current task, or NULL. */
static __always_inline struct file *fd_file(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file;
}

#endif /* CUSTOS_TASK_BPF_H */
