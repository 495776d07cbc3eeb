// SPDX-License-Identifier: BSD-2-Clause
/* The kernel's events into ledger records (decode.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "decode.h"
#include "inodes.h"
#include "ledger.h"
#include "loader.h"
#include "log.h"
#include "mounts.h"
#include "opens.h"
#include "util.h"

static const char *dataset_label(struct decoder *d, uint32_t id)
{
	if (id >= 1 && id <= (uint32_t)d->n_watch)
		return d->watch[id - 1].label;
	return "";
}

/* Per access, from the process table: program, arguments, lineage, and
 * container.  The strings live in the decoder until the next event. */
static void describe_process(struct decoder *d, struct rec_access *a,
			     const struct custos_task_ids *t)
{
	struct proc_desc *p = &d->buf.proc;
	size_t n;

	proctab__describe(d->procs, t->pid, t->start_ns, t->comm, p);
	a->exe = record__bytes(p->exe, p->exe ? p->exe_len : 0);
	a->args = record__bytes(p->args, p->args ? p->args_len : 0);
	a->lineage = record__bytes(p->lineage, p->lineage_len);
	n = t->cgroup_id ? proctab__container(d->procs, t->cgroup_id, t->pid, d->buf.container) : 0;
	a->container = record__bytes(d->buf.container, n);
}

/* Who: the resolution rule of staff.h, with the directory in force. */
static void attribute(struct decoder *d, struct rec_access *a)
{
	struct staff_attribution *at = &d->buf.who;
	const char *method;

	staff__resolve(d->staff, a->loginuid, a->uid, at);
	method = staff__method_name(at->method);
	a->attribution = record__bytes(method, strlen(method));
	if (at->person) {
		a->person = record__bytes(at->person->id, strlen(at->person->id));
		a->team = record__bytes(at->person->team,
					at->person->team ? strlen(at->person->team) : 0);
		a->role = record__bytes(at->person->role,
					at->person->role ? strlen(at->person->role) : 0);
		a->staff_flags = at->person->left ? RECORD_STAFF_LEFT : 0;
	} else if (at->method == STAFF_SERVICE) {
		snprintf(d->buf.service, sizeof(d->buf.service), "service:%s", at->service);
		a->person = record__bytes(d->buf.service, strlen(d->buf.service));
	}
	if (d->staff)
		a->directory = record__bytes(staff__version(d->staff), STAFF_VERSION_LEN);
}

static void access_from_event(struct decoder *d, struct rec_access *a,
			      const struct custos_event_hdr *h, const struct custos_task_ids *t,
			      const struct custos_file_ref *f, const char *path)
{
	const char *label = dataset_label(d, f->dataset);

	a->pid = t->pid;
	a->tid = t->tid;
	a->ppid = t->ppid;
	a->uid = t->uid;
	a->euid = t->euid;
	a->fsuid = t->fsuid;
	a->gid = t->gid;
	a->egid = t->egid;
	a->loginuid = t->loginuid;
	a->sessionid = t->sessionid;
	a->comm = record__bytes(t->comm, strnlen(t->comm, sizeof(t->comm)));
	a->dev = makedev(f->dev >> 20, f->dev & 0xfffff);
	a->ino = f->ino;
	a->mnt_id = f->mnt_id;
	a->path_flags = f->path_flags;
	a->path = record__bytes(path, f->path_len);
	a->dataset = record__bytes(label, strlen(label));
	a->bpf_cpu = h->cpu;
	a->bpf_seq = h->seq;
	a->event_ns = h->ktime_ns + d->clock_off;
	a->sid = t->sid;
	a->tty = t->tty ? makedev(t->tty >> 20, t->tty & 0xfffff) : 0;
	a->start_ns = t->start_ns + d->clock_off;
	a->cgroup_id = t->cgroup_id;
	describe_process(d, a, t);
	attribute(d, a);
}

/*
 * A failed open's path is the name the caller gave, joined to its start
 * directory, matched with a root as a string before "." and ".." were
 * folded.  The record keeps the folded name (flagged unresolved).  One that
 * folds out of the tree is still recorded: the kernel counted it, and an
 * attempt with ".." games is worth an auditor's look.
 */
static void failed_open_path(struct decoder *d, struct rec_access *a,
			     const struct custos_open_event *e)
{
	char *path = d->buf.path;
	size_t len = e->file.path_len;

	memcpy(path, e->path, len);
	a->path = record__bytes(path, util__path_fold(path, len));
	a->dev = 0;
	a->ino = 0;
}

/* A path from the root of its file system (a mount of another namespace)
 * as the host sees it, into dst (CUSTOS_PATH_MAX bytes at least).  When no
 * host mount shows the file, it stays as it is, flagged. */
static void host_path(struct decoder *d, struct bytes *path, uint32_t *flags, uint32_t kdev,
		      char *dst)
{
	int len;

	if (!(*flags & CUSTOS_PATH_FSREL))
		return;
	len = mounts__host_path(d->mounts, kdev, (const char *)path->p, path->len, d->buf.host,
				sizeof(d->buf.host));
	if (len < 0)
		return;
	memcpy(dst, d->buf.host, (size_t)len);
	*path = record__bytes(dst, (size_t)len);
	*flags &= ~CUSTOS_PATH_FSREL;
}

/* The flags a path keeps from its open: how it was built. */
#define OPEN_PATH_FLAGS (CUSTOS_PATH_TRUNCATED | CUSTOS_PATH_FSREL)

/*
 * A read session's record has no path of its own (CUSTOS_PATH_OF_OPEN): the
 * one its file's open was recorded with, from the cache of recent opens,
 * else the ledger's last for that file.  None (custosd restarted in
 * between): the record keeps the inode, no path and the flag.
 */
static void open_path(struct decoder *d, struct rec_access *a)
{
	char *buf = d->buf.path;
	const void *p;
	uint32_t flags = 0;
	size_t len = 0;
	int n;

	if (!(a->path_flags & CUSTOS_PATH_OF_OPEN))
		return;
	p = opens__get(d->opens, a->dev, a->ino, a->mnt_id, &len, &flags);
	if (p) {
		a->path = record__bytes(p, len);
		a->path_flags = (a->path_flags & ~CUSTOS_PATH_OF_OPEN) | flags;
		return;
	}
	n = ledger__file_path(d->ledger, a->dev, a->ino, a->mnt_id, buf, sizeof(d->buf.path));
	if (n >= 0) {
		a->path = record__bytes(buf, n);
		a->path_flags &= ~CUSTOS_PATH_OF_OPEN;
	}
}

/* The kernel is told that a file is protected wherever it is named; one
 * that does not fit is counted (a LOSS record). */
void decode__protect(struct decoder *d, dev_t dev, ino_t ino, uint32_t dataset)
{
	int err = loader__protect(d->loader, dev, ino, dataset);

	if (err == -E2BIG)
		d->inodes_lost++;
	else if (err)
		log_warnx("failed to remember protected file %u:%u:%lu: %s", major(dev), minor(dev),
			  (unsigned long)ino, strerror(-err));
}

/* Whether (dev, ino) is a watched tree's own directory. */
static int is_watched(const struct decoder *d, dev_t dev, ino_t ino)
{
	for (int i = 0; i < d->n_watch; i++)
		if (d->watch[i].dev == dev && d->watch[i].ino == ino)
			return 1;
	return 0;
}

/* A name the kernel sent for a link or rename, as a record keeps it: the
 * joined name folded (tracepoints), from the host's root. */
static struct bytes link_name(struct decoder *d, char *buf, const char *p, size_t len,
			      uint32_t *flags, uint32_t kdev)
{
	struct bytes b;

	memcpy(buf, p, len);
	if (*flags & CUSTOS_PATH_UNRESOLVED)
		len = util__path_fold(buf, len);
	b = record__bytes(buf, len);
	host_path(d, &b, flags, kdev, buf);
	return b;
}

/*
 * A protected file got a name outside its tree (struct custos_link_event):
 * the record names both.  From the hooks the kernel knew the file and
 * remembered it already.  From the syscall exit it knew only the names:
 * the new one is looked up here, and its inode remembered unless it is in
 * the same tree after all (an absolute name, "..": the kernel could not
 * tell), which is recorded too.
 */
static void link_event(struct decoder *d, struct rec_access *a, const struct custos_link_event *e)
{
	char *old = d->buf.path, *target = d->buf.target, *dir = d->buf.dir;
	uint32_t flags = e->file.path_flags, tflags = e->target_flags, there = 0;
	struct stat st;
	char *slash;

	a->op = e->op == CUSTOS_LINK_RENAME ? OP_RENAME : OP_LINK;
	a->result = e->result;
	a->open_flags = e->flags;
	a->abi = e->abi;
	a->path = link_name(d, old, e->path, e->file.path_len, &flags, e->file.dev);
	a->path_flags = flags;
	/* Both names are on one file system: link and rename do not cross. */
	a->target = link_name(d, target, e->path + e->file.path_len, e->target_len, &tflags,
			      e->file.dev);
	a->target_flags = tflags;
	if (e->file.ino)
		return;
	target[a->target.len] = '\0';
	memcpy(dir, target, a->target.len + 1);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if (slash)
		there = inodes__tree_of_dir(dir, d->watch, d->n_watch);
	if (there == e->file.dataset) {
		/* Moved within its tree after all: the kernel may have remembered
		 * it on the way (a rename's ctime); its ancestry says enough.
		 * Not a file with other names, which stays remembered.  Recorded
		 * all the same: the event has its place in the kernel's sequence,
		 * and a record dropped here would be a hole custos verify reports
		 * as loss. */
		if (!lstat(target, &st) && (S_ISDIR(st.st_mode) || st.st_nlink == 1) &&
		    !is_watched(d, st.st_dev, st.st_ino))
			loader__unprotect(d->loader, st.st_dev, st.st_ino);
	}
	if (lstat(target, &st)) {
		/* Gone again already: the record says where it went. */
		a->dev = 0;
		a->ino = 0;
		return;
	}
	a->dev = st.st_dev;
	a->ino = st.st_ino;
	/* Into another tree, or within its own, its ancestry says so. */
	if (!there)
		decode__protect(d, st.st_dev, st.st_ino, e->file.dataset);
}

/* Well-formed: the fixed part is all there and the path ends the record. */
static int ends_with_path(size_t len, size_t path_off, const struct custos_file_ref *f)
{
	return len >= path_off && len == path_off + f->path_len;
}

/* Each kind of event: 1 for a record made, 0 for none, -EBADMSG for an
 * event that does not parse.  data is len bytes, its header checked. */
static int open_record(struct decoder *d, const void *data, size_t len, struct record *r)
{
	const struct custos_open_event *e = data;
	struct rec_access *a = &r->access;

	if (!ends_with_path(len, offsetof(struct custos_open_event, path), &e->file))
		return -EBADMSG;
	record__init(r, REC_FILE_ACCESS);
	access_from_event(d, a, &e->hdr, &e->task, &e->file, e->path);
	a->op = e->hdr.type == CUSTOS_EV_OPEN ? OP_OPEN : OP_MMAP;
	if (e->file.path_flags & CUSTOS_PATH_UNRESOLVED)
		failed_open_path(d, a, e);
	host_path(d, &a->path, &a->path_flags, e->file.dev, d->buf.path);
	/* A cache, not evidence: a path it cannot keep is found again in the ledger. */
	if (e->result >= 0 && !(e->file.path_flags & CUSTOS_PATH_UNRESOLVED))
		opens__put(d->opens, a->dev, a->ino, a->mnt_id, a->path.p, a->path.len,
			   a->path_flags & OPEN_PATH_FLAGS);
	a->open_flags = e->flags;
	a->result = e->result;
	a->abi = e->abi;
	a->session = e->session;
	if (e->how == CUSTOS_OPEN_DISCOVERED)
		a->access_flags |= RECORD_ACCESS_DISCOVERED;
	return 1;
}

static int link_record(struct decoder *d, const void *data, size_t len, struct record *r)
{
	const struct custos_link_event *e = data;
	size_t off = offsetof(struct custos_link_event, path);

	if (len < off || len != off + e->file.path_len + e->target_len)
		return -EBADMSG;
	record__init(r, REC_FILE_ACCESS);
	access_from_event(d, &r->access, &e->hdr, &e->task, &e->file, e->path);
	link_event(d, &r->access, e);
	return 1;
}

static int read_record(struct decoder *d, const void *data, size_t len, struct record *r)
{
	const struct custos_read_event *e = data;
	struct rec_access *a = &r->access;

	if (!ends_with_path(len, offsetof(struct custos_read_event, path), &e->file))
		return -EBADMSG;
	record__init(r, REC_FILE_ACCESS);
	access_from_event(d, a, &e->hdr, &e->task, &e->file, e->path);
	open_path(d, a);
	/* A single call (--fine-reads) is its own action, not a session. */
	a->op = e->partial == 2 ? OP_READ_CALL : OP_READ;
	a->bytes = e->bytes;
	a->reads = e->reads;
	a->first_ns = e->first_ns + d->clock_off;
	a->last_ns = e->last_ns + d->clock_off;
	a->read_paths = e->read_paths;
	a->partial = e->partial == 1;
	a->min_offset = e->min_offset;
	a->max_offset = e->max_offset;
	a->abi = e->abi;
	a->session = e->session;
	return 1;
}

/* The process table's events make no record. */
static int process_event(struct decoder *d, const void *data, size_t len)
{
	const struct custos_event_hdr *h = data;
	const struct custos_exec_event *e = data;
	struct bytes exe;
	uint32_t flags;

	switch (h->type) {
	case CUSTOS_EV_EXEC:
		if (!ends_with_path(len, offsetof(struct custos_exec_event, path), &e->file) ||
		    e->args_len > CUSTOS_ARGS_MAX)
			return -EBADMSG;
		exe = record__bytes(e->path, e->file.path_len);
		flags = e->file.path_flags;
		host_path(d, &exe, &flags, e->file.dev, d->buf.path);
		proctab__exec(d->procs, e, (const char *)exe.p, exe.len);
		return 0;
	case CUSTOS_EV_FORK:
		if (len != sizeof(struct custos_fork_event))
			return -EBADMSG;
		proctab__fork(d->procs, data);
		return 0;
	default: /* CUSTOS_EV_EXIT */
		if (len != sizeof(struct custos_exit_event))
			return -EBADMSG;
		proctab__exit(d->procs, data, util__boottime_ns());
		return 0;
	}
}

int decode__event(struct decoder *d, const void *data, size_t len, struct record *r)
{
	const struct custos_event_hdr *h = data;
	int made = -EBADMSG;

	if (len >= sizeof(*h) && h->size == len) {
		switch (h->type) {
		case CUSTOS_EV_OPEN:
		case CUSTOS_EV_MMAP:
			made = open_record(d, data, len, r);
			break;
		case CUSTOS_EV_LINK:
			made = link_record(d, data, len, r);
			break;
		case CUSTOS_EV_READ_SESSION:
			made = read_record(d, data, len, r);
			break;
		case CUSTOS_EV_EXEC:
		case CUSTOS_EV_FORK:
		case CUSTOS_EV_EXIT:
			made = process_event(d, data, len);
			break;
		}
	}
	/* Counted (a LOSS record at the next commit), never trusted. */
	if (made < 0)
		d->malformed++;
	return made > 0;
}
