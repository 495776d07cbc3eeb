// SPDX-License-Identifier: BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proctab.h"

#define BUCKETS	  8192
#define LINGER_NS (30 * 1000000000LL)

/*
 * /proc gives a process's start in clock ticks, the kernel events in ns:
 * entries are keyed at tick granularity so both meet.  A pid reused within
 * one tick (10 ms) is not a thing a kernel does.
 */
static uint64_t ns_per_tick;

struct proc {
	uint32_t pid, ppid;
	uint64_t tick, parent_tick; /* start times, in ticks */
	char comm[CUSTOS_COMM_LEN + 1];
	char *exe, *args;
	size_t exe_len, args_len;
	int64_t gone_at; /* boot ns after which it may be dropped; 0 while alive */
	struct proc *next;
};

#define CGROUP_SLOTS 1024

/* Containers by cgroup id: a cgroup's path does not change, so one look. */
struct cgroup_slot {
	uint64_t id;
	char container[65];
	int known;
};

#define MISS_SLOTS 256

/* A process /proc could not describe stays undescribable (it is gone, or
 * its pid now names another): remember it, so its further accesses do not
 * each cost four /proc reads. */
struct miss_slot {
	uint32_t pid;
	uint64_t tick;
};

struct proctab {
	struct proc *bucket[BUCKETS];
	size_t size;
	struct cgroup_slot cgroups[CGROUP_SLOTS];
	struct miss_slot misses[MISS_SLOTS];
};

static uint64_t tick_of(uint64_t ns)
{
	return ns / ns_per_tick;
}

struct proctab *proctab__new(void)
{
	long hz = sysconf(_SC_CLK_TCK);

	ns_per_tick = 1000000000ULL / (uint64_t)(hz > 0 ? hz : 100);
	return calloc(1, sizeof(struct proctab));
}

static void proc_free(struct proc *p)
{
	free(p->exe);
	free(p->args);
	free(p);
}

void proctab__free(struct proctab *t)
{
	if (!t)
		return;
	for (int b = 0; b < BUCKETS; b++)
		while (t->bucket[b]) {
			struct proc *p = t->bucket[b];

			t->bucket[b] = p->next;
			proc_free(p);
		}
	free(t);
}

size_t proctab__size(const struct proctab *t)
{
	return t->size;
}

static struct proc *find(struct proctab *t, uint32_t pid, uint64_t tick)
{
	for (struct proc *p = t->bucket[pid % BUCKETS]; p; p = p->next)
		if (p->pid == pid && p->tick == tick)
			return p;
	return NULL;
}

static struct proc *get(struct proctab *t, uint32_t pid, uint64_t tick)
{
	struct proc *p = find(t, pid, tick);

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->tick = tick;
	p->next = t->bucket[pid % BUCKETS];
	t->bucket[pid % BUCKETS] = p;
	t->size++;
	return p;
}

static void set_bytes(char **dst, size_t *dst_len, const char *src, size_t len)
{
	char *copy = malloc(len + 1);

	if (!copy)
		return; /* keep what was known */
	memcpy(copy, src, len);
	copy[len] = '\0';
	free(*dst);
	*dst = copy;
	*dst_len = len;
}

static void set_comm(struct proc *p, const char *comm)
{
	memcpy(p->comm, comm, CUSTOS_COMM_LEN);
	p->comm[CUSTOS_COMM_LEN] = '\0';
}

void proctab__exec(struct proctab *t, const struct custos_exec_event *e, const char *exe,
		   size_t exe_len)
{
	struct proc *p = get(t, e->task.pid, tick_of(e->task.start_ns));

	if (!p)
		return;
	p->ppid = e->task.ppid;
	set_comm(p, e->task.comm);
	set_bytes(&p->exe, &p->exe_len, exe, exe_len);
	set_bytes(&p->args, &p->args_len, e->args, e->args_len);
}

void proctab__fork(struct proctab *t, const struct custos_fork_event *e)
{
	struct proc *parent = find(t, e->parent_pid, tick_of(e->parent_start_ns));
	struct proc *p = get(t, e->child_pid, tick_of(e->child_start_ns));

	if (!p)
		return;
	p->ppid = e->parent_pid;
	p->parent_tick = tick_of(e->parent_start_ns);
	set_comm(p, e->comm);
	/* Until it runs a program of its own, a child runs its parent's. */
	if (parent && parent->exe && !p->exe)
		set_bytes(&p->exe, &p->exe_len, parent->exe, parent->exe_len);
	if (parent && parent->args && !p->args)
		set_bytes(&p->args, &p->args_len, parent->args, parent->args_len);
}

void proctab__exit(struct proctab *t, const struct custos_exit_event *e, int64_t now_ns)
{
	struct proc *p = find(t, e->pid, tick_of(e->start_ns));

	if (p)
		p->gone_at = now_ns + LINGER_NS;
}

void proctab__expire(struct proctab *t, int64_t now_ns)
{
	for (int b = 0; b < BUCKETS; b++) {
		struct proc **pp = &t->bucket[b];

		while (*pp) {
			struct proc *p = *pp;

			if (p->gone_at && p->gone_at < now_ns) {
				*pp = p->next;
				proc_free(p);
				t->size--;
			} else {
				pp = &p->next;
			}
		}
	}
}

/* Read a small /proc file whole; returns its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap);
	close(fd);
	return n;
}

/*
 * One process from /proc/PID: its stat (comm, ppid, start), exe and
 * cmdline.  The comm may hold spaces and parentheses: the fields after it
 * start at the last ')'.  Returns the entry, or NULL if it is gone.
 */
static struct proc *from_proc(struct proctab *t, uint32_t pid)
{
	char path[64], buf[4096], exe[4096], *close_paren, *open_paren;
	unsigned long long start = 0;
	unsigned int ppid = 0;
	struct proc *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	n = read_small(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren ||
	    sscanf(close_paren + 2,
		   "%*c %u %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d"
		   " %*d %*d %*d %llu",
		   &ppid, &start) != 2)
		return NULL;
	p = get(t, pid, start);
	if (!p)
		return NULL;
	p->ppid = ppid;
	*close_paren = '\0';
	memset(p->comm, 0, sizeof(p->comm));
	strncpy(p->comm, open_paren + 1, CUSTOS_COMM_LEN);
	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, exe, sizeof(exe));
	if (n > 0 && !p->exe)
		set_bytes(&p->exe, &p->exe_len, exe, (size_t)n);
	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	n = read_small(path, buf, CUSTOS_ARGS_MAX);
	if (n > 0 && !p->args)
		set_bytes(&p->args, &p->args_len, buf, (size_t)n);
	return p;
}

int proctab__bootstrap(struct proctab *t)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int found = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (*end || !pid || pid > UINT32_MAX)
			continue;
		if (from_proc(t, (uint32_t)pid))
			found++;
	}
	closedir(d);
	/* Now every parent is in: link each process to its parent's start. */
	for (int b = 0; b < BUCKETS; b++)
		for (struct proc *p = t->bucket[b]; p; p = p->next) {
			if (p->parent_tick)
				continue;
			for (struct proc *q = t->bucket[p->ppid % BUCKETS]; q; q = q->next)
				if (q->pid == p->ppid && !q->gone_at && q->tick <= p->tick)
					p->parent_tick = q->tick;
		}
	return found;
}

/* The name a lineage shows: the program's file name, else the comm. */
static const char *short_name(const struct proc *p, size_t *len)
{
	if (p->exe) {
		const char *slash = memrchr(p->exe, '/', p->exe_len);
		const char *base = slash ? slash + 1 : p->exe;

		*len = p->exe_len - (size_t)(base - p->exe);
		return base;
	}
	*len = strlen(p->comm);
	return p->comm;
}

void proctab__describe(struct proctab *t, uint32_t pid, uint64_t start_ns, const char *comm,
		       struct proc_desc *out)
{
	static const char arrow[] = "\xe2\x86\x92"; /* U+2192 */
	const struct proc *chain[PROC_LINEAGE_DEPTH];
	uint64_t tick = tick_of(start_ns);
	struct proc *p = find(t, pid, tick);
	int depth = 0;
	size_t off = 0;

	/* Every field but the lineage's bytes, which lineage_len bounds: the
	 * memset of the whole kilobyte was a tenth of describing, per event. */
	out->exe = NULL;
	out->exe_len = 0;
	out->args = NULL;
	out->args_len = 0;
	out->lineage_len = 0;
	out->known = 0;
	if (!p) {
		/* Started between the bootstrap and its first event: look once. */
		struct miss_slot *m = &t->misses[pid % MISS_SLOTS];

		if (!(m->pid == pid && m->tick == tick))
			p = from_proc(t, pid);
		if (p && p->tick != tick)
			p = NULL;
		if (!p)
			*m = (struct miss_slot){ .pid = pid, .tick = tick };
	}
	if (!p) {
		size_t n = strnlen(comm, CUSTOS_COMM_LEN);

		memcpy(out->lineage, comm, n);
		out->lineage_len = n;
		return;
	}
	out->known = 1;
	out->exe = p->exe;
	out->exe_len = p->exe_len;
	out->args = p->args;
	out->args_len = p->args_len;
	for (const struct proc *q = p; q && depth < PROC_LINEAGE_DEPTH;
	     q = q->ppid ? find(t, q->ppid, q->parent_tick) : NULL)
		chain[depth++] = q;
	/* Oldest first, as a person reads it: sshd→bash→sudo→cat. */
	while (depth-- > 0) {
		size_t len;
		const char *name = short_name(chain[depth], &len);

		if (off + len + sizeof(arrow) > sizeof(out->lineage))
			break;
		memcpy(out->lineage + off, name, len);
		off += len;
		if (depth) {
			memcpy(out->lineage + off, arrow, sizeof(arrow) - 1);
			off += sizeof(arrow) - 1;
		}
	}
	out->lineage_len = off;
}

static int is_hex64(const char *p)
{
	for (int i = 0; i < 64; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

size_t proctab__container_of(const char *cgroup_path, char *out)
{
	static const char *const prefixes[] = { "docker-", "cri-containerd-", "crio-", "libpod-",
						"" };
	const char *comp = cgroup_path;

	/* Each path component: a known prefix, then exactly 64 hex digits,
	 * then the end of the component or ".scope". */
	while (comp && *comp) {
		const char *end = strchr(comp, '/');
		size_t len = end ? (size_t)(end - comp) : strlen(comp);

		for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
			size_t pl = strlen(prefixes[i]);
			const char *id = comp + pl;

			if (len < pl + 64 || strncmp(comp, prefixes[i], pl) || !is_hex64(id))
				continue;
			if (len == pl + 64 ||
			    (len == pl + 64 + 6 && !strncmp(id + 64, ".scope", 6))) {
				memcpy(out, id, 64);
				out[64] = '\0';
				return 64;
			}
		}
		comp = end ? end + 1 : NULL;
	}
	out[0] = '\0';
	return 0;
}

size_t proctab__container(struct proctab *t, uint64_t cgroup_id, uint32_t pid, char *out)
{
	struct cgroup_slot *slot = &t->cgroups[cgroup_id % CGROUP_SLOTS];
	char path[64], buf[4096], *line, *save = NULL;
	ssize_t n;

	if (slot->known && slot->id == cgroup_id) {
		strcpy(out, slot->container);
		return strlen(out);
	}
	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	n = read_small(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0; /* gone: try again with the next process of this cgroup */
	buf[n] = '\0';
	/* cgroup v2: "0::/path"; a v1 hierarchy line is "N:controllers:/path". */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = strchr(line, ':');

		p = p ? strchr(p + 1, ':') : NULL;
		if (p && proctab__container_of(p + 1, out))
			break;
	}
	slot->id = cgroup_id;
	slot->known = 1;
	strcpy(slot->container, out);
	return strlen(out);
}
