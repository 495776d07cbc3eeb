// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The process table's feed: every new process, every program it runs, and
 * its end.  custosd keeps the table and names each access's lineage from
 * it; these events are not records of their own.  tp_btf: the tracepoints'
 * task and binprm pointers are read directly (no perf event, no tracefs).
 */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "path.bpf.h"
#include "session.bpf.h"
#include "task.bpf.h"
#include "open.bpf.h"
#include "syscall.bpf.h"
#include <bpf/bpf_tracing.h>

/* The exec event: the new program's path and arguments (the global
 * function keeps its stack out of the open's chain of calls below). */
__noinline int exec_record(__u64 task_addr, __u64 file)
{
	struct task_struct *task = (struct task_struct *)task_addr;
	struct custos_exec_event *ev;
	struct scratch *s = scratch_get();
	struct mm_struct *mm;
	unsigned long start = 0, end = 0;
	__u32 len;

	if (!s)
		return 0;
	ev = &s->exec;
	task_ids_fill(&ev->task);
	/* The new program's arguments are in place in its memory by now. */
	READ_KERN(mm, task->mm);
	if (mm) {
		READ_KERN(start, mm->arg_start);
		READ_KERN(end, mm->arg_end);
	}
	len = end > start ? end - start : 0;
	if (len > CUSTOS_ARGS_MAX)
		len = CUSTOS_ARGS_MAX;
	ev->args_len = 0;
	/* The compiler knows len <= CUSTOS_ARGS_MAX and would drop the mask the
	 * verifier needs: hide len from it first. */
	asm volatile("" : "+r"(len));
	len &= CUSTOS_ARGS_MAX * 2 - 1;
	if (len > CUSTOS_ARGS_MAX)
		len = CUSTOS_ARGS_MAX;
	if (len && bpf_probe_read_user(ev->args, len, (void *)start))
		stat_inc(CUSTOS_STAT_PROBE_READ);
	else
		ev->args_len = len;
	len = file_ref_fill(s, &ev->file, ev->path, (struct file *)file, 0);
	emit(&ev->hdr, CUSTOS_EV_EXEC, offsetof(struct custos_exec_event, path) + len);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(process_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u64 file = 0;

	/* Plain numbers for the global functions (6.1's verifier). */
	bpf_probe_read_kernel(&file, sizeof(file), &bprm->file);
	exec_record(arg_scalar(ctx, 0), file);
	/* A program run from a protected tree: the kernel opened it, no
	 * syscall did (the hooks see that open at file_open). */
	if (!targ_hooks && file)
		open_success(file, 0, bprm->file->f_flags, open_mode(OPEN_SEEN, current_abi()));
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(process_fork, struct task_struct *parent, struct task_struct *child)
{
	struct custos_fork_event ev = {};

	/* A new thread is not a new process. */
	if (child->pid != child->tgid)
		return 0;
	ev.parent_pid = parent->tgid;
	ev.parent_start_ns = parent->group_leader->start_boottime;
	ev.child_pid = child->pid;
	ev.child_start_ns = child->start_boottime;
	bpf_probe_read_kernel_str(ev.comm, sizeof(ev.comm), child->comm);
	emit(&ev.hdr, CUSTOS_EV_FORK, sizeof(ev));
	return 0;
}

/* The fd table walk at exit, one descriptor per step (under bpf_loop). */
struct fd_walk {
	struct file **fds;
};

#define EXIT_FDS_MAX 4096 /* descriptors looked at when a process exits */

static long exit_fd_step(__u64 i, void *ctx)
{
	struct fd_walk *w = ctx;
	struct file **fds = w->fds; /* a local: reading through w->fds would relocate w */
	struct file *file = NULL;

	bpf_probe_read_kernel(&file, sizeof(file), &fds[i]);
	if (file)
		session_end(file);
	return 0;
}

/*
 * A process that exits with files open never calls close(2): its table is
 * dropped after this tracepoint.  When this task holds the last reference
 * to the table, every session whose last reference is in it ends now.
 * Descriptors past EXIT_FDS_MAX are not walked here: the sweep
 * (session.bpf.c) finds those sessions once their files are gone.
 */
static __always_inline void end_sessions_at_exit(struct task_struct *task)
{
	struct files_struct *files = task->files;
	struct fd_walk w = {};
	unsigned int max;
	struct fdtable *fdt;

	if (!files || files->count.counter != 1)
		return;
	fdt = files->fdt;
	w.fds = fdt->fd;
	max = fdt->max_fds;
	if (max > EXIT_FDS_MAX)
		max = EXIT_FDS_MAX;
	bpf_loop(max, exit_fd_step, &w, 0);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(process_exit, struct task_struct *task)
{
	struct custos_exit_event ev = {};

	/* The hook backend sees each file's last reference go (__fput). */
	if (!targ_hooks)
		end_sessions_at_exit(task);
	/* The process ends with its leader; other threads' exits say nothing. */
	if (task->pid != task->tgid)
		return 0;
	ev.pid = task->tgid;
	ev.start_ns = task->start_boottime;
	emit(&ev.hdr, CUSTOS_EV_EXIT, sizeof(ev));
	return 0;
}
