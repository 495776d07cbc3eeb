/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The process table: every process custosd has seen start (fork, exec) or
 * found running in /proc, keyed by (pid, start time) so that a reused pid
 * never inherits another process's history.  An access names its process
 * by that key; the table gives its program, arguments and lineage.
 */
#ifndef CUSTOS_PROCTAB_H
#define CUSTOS_PROCTAB_H

#include <stddef.h>
#include <stdint.h>

#include "custos/abi.h"

#define PROC_LINEAGE_MAX   1024
#define PROC_LINEAGE_DEPTH 12

struct proctab;

/* What the table says about one process; the strings live in the table
 * until the next proctab__* call. */
struct proc_desc {
	const char *exe; /* NULL when unknown */
	size_t exe_len;
	const char *args; /* NUL-separated, NULL when unknown */
	size_t args_len;
	char lineage[PROC_LINEAGE_MAX]; /* "sshd→bash→sudo→bash→cat", oldest first */
	size_t lineage_len;
	int known; /* the process itself was in the table */
};

/* NULL with errno set. */
struct proctab *proctab__new(void);
void proctab__free(struct proctab *t);

/* Fill the table from /proc: processes that were running before custosd.
 * Returns the number found, or -errno. */
int proctab__bootstrap(struct proctab *t);

/* exe: the program's path as the host sees it (e's own, or mapped). */
void proctab__exec(struct proctab *t, const struct custos_exec_event *e, const char *exe,
		   size_t exe_len);
void proctab__fork(struct proctab *t, const struct custos_fork_event *e);
/* Exited processes stay a while (now + linger): an access read from the
 * ring after the exit, from another CPU, still finds them. */
void proctab__exit(struct proctab *t, const struct custos_exit_event *e, int64_t now_ns);
void proctab__expire(struct proctab *t, int64_t now_ns);

/* Describe the process (pid, start_ns, boot clock) an access came from.  A
 * process not in the table is looked up in /proc once (it may have started
 * between the bootstrap and the first events). */
void proctab__describe(struct proctab *t, uint32_t pid, uint64_t start_ns, const char *comm,
		       struct proc_desc *out);

/*
 * The container a cgroup path belongs to: the 64-hex-digit id that docker,
 * containerd, CRI-O and podman put in their cgroup names
 * ("docker-<id>.scope", "cri-containerd-<id>.scope", ".../crio-<id>",
 * "libpod-<id>", or a path component that is the id itself).  Writes it to
 * out (65 bytes) and returns its length, or 0 when the path names none.
 */
size_t proctab__container_of(const char *cgroup_path, char *out);

/* The container of a process, by cgroup id (cached; the first time read
 * from /proc/PID/cgroup).  Returns its length in out (65 bytes), or 0. */
size_t proctab__container(struct proctab *t, uint64_t cgroup_id, uint32_t pid, char *out);

/* Processes in the table now. */
size_t proctab__size(const struct proctab *t);

#endif /* CUSTOS_PROCTAB_H */
