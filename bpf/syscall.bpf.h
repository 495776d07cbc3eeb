/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which system call the current task is in, through which of x86-64's three
 * ABIs, and its arguments.  A 32-bit program (or int 0x80 from a 64-bit one)
 * makes i386 calls, with their own numbers and registers; the per-syscall
 * trace events never fire for them (ARCH_TRACE_IGNORE_COMPAT_SYSCALLS), the
 * raw sys_exit tracepoint does.  The numbers are those of the kernel's
 * syscall_64.tbl and syscall_32.tbl (asm/unistd_64.h, unistd_32.h,
 * unistd_x32.h).
 */
#ifndef CUSTOS_SYSCALL_BPF_H
#define CUSTOS_SYSCALL_BPF_H

#include "maps.bpf.h"
#include <bpf/bpf_tracing.h>

#define TS_COMPAT_	 0x0002	    /* thread_info.status: in an i386 syscall */
#define X32_SYSCALL_BIT_ 0x40000000 /* x32 calls are the 64-bit numbers with it */
#define PF_KTHREAD_	 0x00200000
#define PF_IO_WORKER_	 0x00000010

/* The calls custos handles, whatever their number in each ABI. */
enum sc {
	SC_NONE = 0,
	SC_OPEN,
	SC_OPENAT,
	SC_CREAT,
	SC_OPENAT2,
	SC_OPEN_BY_HANDLE,
	SC_READ,
	SC_PREAD64,
	SC_READV,
	SC_PREADV,
	SC_PREADV2,
	SC_SENDFILE,   /* the offset pointer is to a 64-bit loff_t */
	SC_SENDFILE32, /* i386 sendfile: to a 32-bit compat_off_t */
	SC_SPLICE,
	SC_COPY_FILE_RANGE,
	SC_MMAP,     /* (addr, len, prot, flags, fd, off): x86-64's mmap, i386's mmap2 */
	SC_OLD_MMAP, /* i386 mmap: one pointer to struct mmap_arg_struct32 */
	SC_CLOSE,
	SC_LINK,
	SC_LINKAT,
	SC_RENAME,
	SC_RENAMEAT,
	SC_RENAMEAT2,
	SC_IO_URING_ENTER,
	SC_IO_SUBMIT,
	SC_MOUNTS, /* a call that changes the mount tree (mount, umount, move_mount, ...) */
	SC_CLONE,  /* clone and unshare: (flags, ...); with CLONE_NEWNS, mounts copied */
	SC_CLONE3, /* (struct clone_args *, size): the flags are its first field */
};

/* The ABI of the call the current task is making; 0 for a kernel thread
 * or an io_uring worker (no call of its own). */
static __always_inline __u32 current_abi(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs;

	if (task->flags & (PF_KTHREAD_ | PF_IO_WORKER_))
		return 0;
	if (task->thread_info.status & TS_COMPAT_)
		return CUSTOS_ABI_I386;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	return regs->orig_ax & X32_SYSCALL_BIT_ ? CUSTOS_ABI_X32 : CUSTOS_ABI_X86_64;
}

/*
 * The call nr of abi (x32: with its bit cleared).  Closes count only where
 * the per-syscall close event does not fire (i386, x32); dup2, dup3 and
 * close_range, which drop descriptors too, are left to the sweep.
 */
static __always_inline enum sc sc_of(__u32 abi, long nr)
{
	if (abi == CUSTOS_ABI_I386) {
		switch (nr) {
		case 3:
			return SC_READ;
		case 5:
			return SC_OPEN;
		case 6:
			return SC_CLOSE;
		case 21:  /* mount */
		case 22:  /* umount */
		case 52:  /* umount2 */
		case 217: /* pivot_root */
		case 428: /* open_tree */
		case 429: /* move_mount */
		case 432: /* fsmount */
		case 442: /* mount_setattr */
			return SC_MOUNTS;
		case 120: /* clone */
		case 310: /* unshare */
			return SC_CLONE;
		case 435:
			return SC_CLONE3;
		case 8:
			return SC_CREAT;
		case 9:
			return SC_LINK;
		case 38:
			return SC_RENAME;
		case 90:
			return SC_OLD_MMAP;
		case 145:
			return SC_READV;
		case 180:
			return SC_PREAD64;
		case 187:
			return SC_SENDFILE32;
		case 192:
			return SC_MMAP; /* mmap2: its offset is in pages */
		case 239:
			return SC_SENDFILE; /* sendfile64 */
		case 248:
			return SC_IO_SUBMIT;
		case 295:
			return SC_OPENAT;
		case 302:
			return SC_RENAMEAT;
		case 303:
			return SC_LINKAT;
		case 313:
			return SC_SPLICE;
		case 333:
			return SC_PREADV;
		case 342:
			return SC_OPEN_BY_HANDLE;
		case 353:
			return SC_RENAMEAT2;
		case 377:
			return SC_COPY_FILE_RANGE;
		case 378:
			return SC_PREADV2;
		case 426:
			return SC_IO_URING_ENTER;
		case 437:
			return SC_OPENAT2;
		}
		return SC_NONE;
	}
	switch (nr) {
	case 0:
		return SC_READ;
	case 2:
		return SC_OPEN;
	case 3:
		return abi == CUSTOS_ABI_X32 ? SC_CLOSE : SC_NONE;
	case 9:
		return SC_MMAP;
	case 155: /* pivot_root */
	case 165: /* mount */
	case 166: /* umount2 */
	case 428: /* open_tree */
	case 429: /* move_mount */
	case 432: /* fsmount */
	case 442: /* mount_setattr */
		return SC_MOUNTS;
	case 56:  /* clone */
	case 272: /* unshare */
		return SC_CLONE;
	case 435:
		return SC_CLONE3;
	case 17:
		return SC_PREAD64;
	case 19:
		return abi == CUSTOS_ABI_X32 ? SC_NONE : SC_READV;
	case 40:
		return SC_SENDFILE;
	case 82:
		return SC_RENAME;
	case 209:
		return abi == CUSTOS_ABI_X32 ? SC_NONE : SC_IO_SUBMIT;
	case 85:
		return SC_CREAT;
	case 86:
		return SC_LINK;
	case 257:
		return SC_OPENAT;
	case 264:
		return SC_RENAMEAT;
	case 265:
		return SC_LINKAT;
	case 275:
		return SC_SPLICE;
	case 295:
		return abi == CUSTOS_ABI_X32 ? SC_NONE : SC_PREADV;
	case 304:
		return SC_OPEN_BY_HANDLE;
	case 316:
		return SC_RENAMEAT2;
	case 326:
		return SC_COPY_FILE_RANGE;
	case 327:
		return abi == CUSTOS_ABI_X32 ? SC_NONE : SC_PREADV2;
	case 426:
		return SC_IO_URING_ENTER;
	case 437:
		return SC_OPENAT2;
	/* x32 has readv and the preadvs of its own (compat iovecs) */
	case 515:
		return abi == CUSTOS_ABI_X32 ? SC_READV : SC_NONE;
	case 534:
		return abi == CUSTOS_ABI_X32 ? SC_PREADV : SC_NONE;
	case 544:
		return abi == CUSTOS_ABI_X32 ? SC_IO_SUBMIT : SC_NONE;
	case 546:
		return abi == CUSTOS_ABI_X32 ? SC_PREADV2 : SC_NONE;
	}
	return SC_NONE;
}

/* The ABI and the call of the syscall regs belongs to (at its exit: in a
 * syscall, so never a kernel thread's). */
static __always_inline enum sc sc_current(struct pt_regs *regs, __u32 *abi)
{
	struct task_struct *task = bpf_get_current_task_btf();
	long nr = regs->orig_ax;

	if (task->thread_info.status & TS_COMPAT_)
		*abi = CUSTOS_ABI_I386;
	else if (nr & X32_SYSCALL_BIT_) {
		*abi = CUSTOS_ABI_X32;
		nr &= ~(long)X32_SYSCALL_BIT_;
	} else
		*abi = CUSTOS_ABI_X86_64;
	return sc_of(*abi, nr);
}

/* Argument n (0-based) as the call passed it: x86-64 and x32 pass them in
 * rdi, rsi, rdx, r10, r8, r9, i386 in ebx, ecx, edx, esi, edi, ebp (32
 * bits, zero-extended: sc_int() for the signed ones).  Plain loads through
 * the BTF-typed registers. */
static __always_inline unsigned long sc_arg(struct pt_regs *regs, __u32 abi, int n)
{
	if (abi == CUSTOS_ABI_I386) {
		switch (n) {
		case 0:
			return (__u32)regs->bx;
		case 1:
			return (__u32)regs->cx;
		case 2:
			return (__u32)regs->dx;
		case 3:
			return (__u32)regs->si;
		case 4:
			return (__u32)regs->di;
		default:
			return (__u32)regs->bp;
		}
	}
	switch (n) {
	case 0:
		return regs->di;
	case 1:
		return regs->si;
	case 2:
		return regs->dx;
	case 3:
		return regs->r10;
	case 4:
		return regs->r8;
	default:
		return regs->r9;
	}
}

/* A signed int argument (a descriptor, AT_FDCWD). */
static __always_inline long sc_int(struct pt_regs *regs, __u32 abi, int n)
{
	return (int)sc_arg(regs, abi, n);
}

/* A 64-bit offset argument: i386 splits it over two registers, low first. */
static __always_inline long sc_off64(struct pt_regs *regs, __u32 abi, int n)
{
	if (abi == CUSTOS_ABI_I386)
		return (long)(sc_arg(regs, abi, n) | sc_arg(regs, abi, n + 1) << 32);
	return sc_arg(regs, abi, n);
}

#endif /* CUSTOS_SYSCALL_BPF_H */
