// SPDX-License-Identifier: BSD-2-Clause
/* The process table: lineage from fork and exec events, pid reuse, and
 * container ids from cgroup paths. */
#include <stdlib.h>
#include <unistd.h>

#include "proctab.h"
#include "test.h"

#define ID  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SEC 1000000000ULL

static void exec_ev(struct proctab *t, uint32_t pid, uint64_t start, uint32_t ppid,
		    const char *comm, const char *exe)
{
	static struct custos_exec_event e;

	memset(&e, 0, sizeof(e));
	e.task.pid = pid;
	e.task.ppid = ppid;
	e.task.start_ns = start;
	memcpy(e.task.comm, comm, strnlen(comm, sizeof(e.task.comm)));
	e.file.path_len = strlen(exe);
	memcpy(e.path, exe, strlen(exe));
	memcpy(e.args, comm, strlen(comm) + 1);
	e.args_len = strlen(comm) + 1;
	proctab__exec(t, &e, exe, strlen(exe));
}

static void fork_ev(struct proctab *t, uint32_t parent, uint64_t pstart, uint32_t child,
		    uint64_t cstart, const char *comm)
{
	struct custos_fork_event e = { .parent_pid = parent,
				       .child_pid = child,
				       .parent_start_ns = pstart,
				       .child_start_ns = cstart };

	memcpy(e.comm, comm, strnlen(comm, sizeof(e.comm)));
	proctab__fork(t, &e);
}

TEST(lineage_follows_fork_and_exec)
{
	struct proctab *t = proctab__new();
	struct proc_desc d;

	ASSERT_TRUE(t != NULL);
	exec_ev(t, 9000, 1 * SEC, 1, "sshd", "/usr/sbin/sshd");
	fork_ev(t, 9000, 1 * SEC, 9001, 2 * SEC, "sshd");
	exec_ev(t, 9001, 2 * SEC, 9000, "bash", "/usr/bin/bash");
	fork_ev(t, 9001, 2 * SEC, 9002, 3 * SEC, "bash");
	exec_ev(t, 9002, 3 * SEC, 9001, "sudo", "/usr/bin/sudo");
	fork_ev(t, 9002, 3 * SEC, 9003, 4 * SEC, "sudo");
	exec_ev(t, 9003, 4 * SEC, 9002, "cat", "/usr/bin/cat");
	proctab__describe(t, 9003, 4 * SEC, "cat", &d);
	ASSERT_TRUE(d.known);
	ASSERT_EQ(d.exe_len, strlen("/usr/bin/cat"));
	ASSERT_TRUE(!memcmp(d.exe, "/usr/bin/cat", d.exe_len));
	d.lineage[d.lineage_len] = '\0';
	ASSERT_STREQ(d.lineage, "sshd→bash→sudo→cat");
	proctab__free(t);
	return true;
}

TEST(a_reused_pid_is_another_process)
{
	struct proctab *t = proctab__new();
	struct custos_exit_event gone = { .pid = 9100, .start_ns = 5 * SEC };
	struct proc_desc d;

	ASSERT_TRUE(t != NULL);
	exec_ev(t, 9100, 5 * SEC, 1, "first", "/opt/first");
	proctab__exit(t, &gone, 0);
	exec_ev(t, 9100, 9 * SEC, 1, "second", "/opt/second");
	proctab__describe(t, 9100, 9 * SEC, "second", &d);
	ASSERT_TRUE(!memcmp(d.exe, "/opt/second", d.exe_len));
	proctab__describe(t, 9100, 5 * SEC, "first", &d);
	ASSERT_TRUE(!memcmp(d.exe, "/opt/first", d.exe_len));
	/* Past its linger, the ended one is gone: only its comm is known. */
	proctab__expire(t, 3600 * (int64_t)SEC);
	proctab__describe(t, 9100, 5 * SEC, "first", &d);
	ASSERT_TRUE(!d.known);
	d.lineage[d.lineage_len] = '\0';
	ASSERT_STREQ(d.lineage, "first");
	proctab__free(t);
	return true;
}

TEST(bootstrap_finds_this_process)
{
	struct proctab *t = proctab__new();

	ASSERT_TRUE(t != NULL);
	ASSERT_TRUE(proctab__bootstrap(t) > 0);
	ASSERT_TRUE(proctab__size(t) > 0);
	proctab__free(t);
	return true;
}

TEST(container_ids_from_cgroup_paths)
{
	char out[65];

	ASSERT_EQ(proctab__container_of("/system.slice/docker-" ID ".scope", out), 64);
	ASSERT_STREQ(out, ID);
	ASSERT_EQ(proctab__container_of(
			  "/kubepods.slice/kubepods-pod1.slice/cri-containerd-" ID ".scope", out),
		  64);
	ASSERT_EQ(proctab__container_of("/machine.slice/libpod-" ID ".scope/container", out), 64);
	ASSERT_EQ(proctab__container_of("/kubepods/besteffort/pod12/crio-" ID, out), 64);
	ASSERT_EQ(proctab__container_of("/docker/" ID, out), 64);
	ASSERT_EQ(proctab__container_of("/user.slice/user-1000.slice/session-3.scope", out), 0);
	ASSERT_STREQ(out, "");
	/* 63 or 65 digits, or capitals, are not an id. */
	ASSERT_EQ(proctab__container_of("/docker/" ID "0", out), 0);
	ASSERT_EQ(proctab__container_of("/docker-0123456789ABCDEF0123456789abcdef0123456789abcdef"
					"0123456789abcdef.scope",
					out),
		  0);
	return true;
}

RUN_TESTS(T(lineage_follows_fork_and_exec), T(a_reused_pid_is_another_process),
	  T(bootstrap_finds_this_process), T(container_ids_from_cgroup_paths))
