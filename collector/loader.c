// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "custos.skel.h"
#include "loader.h"
#include "log.h"
#include "mounts.h"

#define TRACEFS_MAGIC	 0x74726163
#define BPF_FS_MAGIC	 0xcafe4a11
#define SECURITYFS_MAGIC 0x73636673

struct loader {
	struct custos_bpf *skel;
	int ncpus;
	int uring; /* io_uring completions are watched */
	enum backend backend;
};

/* While auto probes the hook backend: its refusal is expected, not news. */
static int quiet_libbpf;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (quiet_libbpf && log_verbose() < 2)
		return 0;
	if (level == LIBBPF_DEBUG && log_verbose() < 2)
		return 0;
	if (level == LIBBPF_INFO && log_verbose() < 1)
		return 0;
	/* As libbpf writes it: a verifier log is one message of many lines,
	 * and a cut one hides the line that says why. */
	fputs("custosd: libbpf: ", stderr);
	vfprintf(stderr, fmt, ap);
	return 0;
}

static int mount_if_missing(const char *dir, const char *type, long magic)
{
	struct statfs sfs;

	if (statfs(dir, &sfs) == 0 && sfs.f_type == magic)
		return 0;
	if (mount(type, dir, type, 0, NULL)) {
		int err = -errno;

		log_warn("failed to mount %s on %s", type, dir);
		return err;
	}
	log_info("mounted %s on %s", type, dir);
	return 0;
}

int loader__mount_fs(void)
{
	int err = mount_if_missing("/sys/kernel/tracing", "tracefs", TRACEFS_MAGIC);

	return err ? err : mount_if_missing("/sys/fs/bpf", "bpf", BPF_FS_MAGIC);
}

/* The kernel keys the protected map by its internal dev_t (MINORBITS = 20),
 * which is what super_block.s_dev holds; stat(2) gives the user encoding. */
static __u32 kernel_dev(dev_t dev)
{
	return (__u32)(major(dev) << 20 | minor(dev));
}

/* One row of the roots map; 0 when it does not fit (said once, by the caller). */
static int root_put(struct loader *l, __u32 *k, const struct watch *w, const char *path,
		    const char *fs_path, int fs_len)
{
	struct custos_root root = { .len = strlen(path),
				    .dataset = w->dataset,
				    .dev = kernel_dev(w->dev) };

	if (root.len > CUSTOS_ROOT_MAX || *k >= CUSTOS_MAX_ROOTS)
		return 0;
	memcpy(root.path, path, root.len);
	if (fs_len > 0 && fs_len <= CUSTOS_ROOT_MAX) {
		root.fs_len = fs_len;
		memcpy(root.fs_path, fs_path, fs_len);
	}
	if (bpf_map__update_elem(l->skel->maps.roots, k, sizeof(*k), &root, sizeof(root), BPF_ANY))
		return -errno;
	(*k)++;
	return 1;
}

int loader__set_roots(struct loader *l, const struct watch *w, int n, struct mounts *mounts)
{
	char fs_path[CUSTOS_ROOT_MAX + 1], alias[CUSTOS_ROOT_MAX + 1];
	__u32 k = 0;
	int err = 0;

	for (int i = 0; i < n && !err; i++) {
		int fs_len = mounts__fs_path(mounts, kernel_dev(w[i].dev), w[i].real, fs_path,
					     CUSTOS_ROOT_MAX);
		size_t it = 0;
		int len, put;

		put = root_put(l, &k, &w[i], w[i].real, fs_path, fs_len);
		while (put > 0 && fs_len > 0) {
			fs_path[fs_len] = '\0';
			len = mounts__alias(mounts, &it, kernel_dev(w[i].dev), fs_path, alias,
					    CUSTOS_ROOT_MAX);
			if (len < 0)
				break;
			alias[len] = '\0';
			if (strcmp(alias, w[i].real))
				put = root_put(l, &k, &w[i], alias, fs_path, fs_len);
		}
		if (put < 0)
			err = put;
		else if (!put)
			log_warnx("failed opens below %s (or one of its bind mounts) are not"
				  " recorded: more than %d places or a path over %d bytes",
				  w[i].dir, CUSTOS_MAX_ROOTS, CUSTOS_ROOT_MAX);
	}
	if (err) {
		log_warnx("failed to install the roots of failed opens: %s", strerror(-err));
		return err;
	}
	/* Rows past the new end stop matching once the count says so. */
	l->skel->bss->roots_used = k;
	return 0;
}

static int fill_protected(struct loader *l, const struct watch *w, int n)
{
	for (int i = 0; i < n; i++) {
		struct custos_inode_key key = { .ino = w[i].ino, .dev = kernel_dev(w[i].dev) };
		struct custos_protected val = { .dataset = w[i].dataset };

		if (bpf_map__update_elem(l->skel->maps.protected, &key, sizeof(key), &val,
					 sizeof(val), BPF_ANY)) {
			int err = -errno;

			log_warn("failed to protect %s", w[i].dir);
			return err;
		}
	}
	return 0;
}

/* The vmlinux BTF, loaded once per start for the probes below. */
static struct btf *vmlinux_btf(void)
{
	struct btf *btf = btf__load_vmlinux_btf();

	return libbpf_get_error(btf) ? NULL : btf;
}

/*
 * Feature probing, by what the kernel's BTF says and never by its version:
 * io_uring_complete is (ring, req, cqe) on kernels after 6.1, and 6.1
 * passes (ctx, req, user_data, res, cflags, extra1, extra2).  Returns the
 * number of arguments of the tracepoint (with its leading __data), 0 if none.
 */
static int uring_complete_args(const struct btf *btf)
{
	const struct btf_type *t;
	int id;

	id = btf__find_by_name_kind(btf, "btf_trace_io_uring_complete", BTF_KIND_TYPEDEF);
	t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	if (t)
		t = btf__type_by_id(btf, t->type); /* the pointer */
	if (t && btf_is_ptr(t))
		t = btf__type_by_id(btf, t->type); /* the prototype */
	return t && btf_is_func_proto(t) ? btf_vlen(t) : 0;
}

/* The inode of custosd's mount namespace; 0 (no path mapping) when unknown. */
static __u32 host_mnt_ns(void)
{
	struct stat st;

	if (stat("/proc/self/ns/mnt", &st)) {
		log_warn("failed to read the mount namespace; paths in other namespaces are "
			 "given as their namespace shows them");
		return 0;
	}
	return (__u32)st.st_ino;
}

/* Whether BPF LSM programs run: without "bpf" in the active LSM list they
 * load and attach, and are never called. */
static int bpf_lsm_active(void)
{
	char buf[512] = "";
	FILE *f;
	size_t n;

	mount_if_missing("/sys/kernel/security", "securityfs", SECURITYFS_MAGIC);
	f = fopen("/sys/kernel/security/lsm", "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (char *tok = strtok(buf, ",\n"); tok; tok = strtok(NULL, ",\n"))
		if (!strcmp(tok, "bpf"))
			return 1;
	return 0;
}

/* A kernel function renamed or split over the versions: where a kernel has
 * an earlier name of a row, the later ones are not hooked (they call it, or
 * it replaced them), so that no read is counted twice. */
static const char *const renamed[][3] = {
	{ "do_splice_read", "vfs_splice_read", "do_splice_to" },
};

/* Whether fn is hooked on a kernel whose functions btf lists. */
static int hookable(const struct btf *btf, const char *fn)
{
	if (btf__find_by_name_kind(btf, fn, BTF_KIND_FUNC) < 0)
		return 0;
	for (size_t r = 0; r < sizeof(renamed) / sizeof(renamed[0]); r++) {
		size_t at = 0;

		while (at < 3 && strcmp(renamed[r][at], fn))
			at++;
		/* Not in this row (at == 3): nothing before it to prefer. */
		for (size_t i = 0; at < 3 && i < at; i++)
			if (btf__find_by_name_kind(btf, renamed[r][i], BTF_KIND_FUNC) >= 0)
				return 0;
	}
	return 1;
}

static int has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/*
 * Which programs load: the backend's own, and those both share (process
 * events, io_uring completions, the sweep).  A hook whose kernel function
 * this kernel lacks is left out (its twin under another name is not).
 */
static void choose_programs(struct loader *l, const struct btf *btf, enum backend b)
{
	struct bpf_program *p;
	int uring_args = btf ? uring_complete_args(btf) : 0;

	bpf_object__for_each_program(p, l->skel->obj)
	{
		const char *sec = bpf_program__section_name(p);
		int hook = has_prefix(sec, "lsm/") || has_prefix(sec, "fentry/") ||
			   has_prefix(sec, "fexit/");
		int load = hook ? b == BACKEND_HOOKS
				: !(has_prefix(sec, "tp/syscalls/") && b == BACKEND_HOOKS);

		if (load && !has_prefix(sec, "lsm/") && hook) {
			const char *fn = strchr(sec, '/') + 1;

			if (!btf || !hookable(btf, fn)) {
				log_debug("%s not loaded: no %s, or a newer form of it, here",
					  bpf_program__name(p), fn);
				load = 0;
			}
		}
		bpf_program__set_autoload(p, load);
	}
	l->uring = uring_args == 4 || uring_args == 8;
	bpf_program__set_autoload(l->skel->progs.uring_complete, uring_args == 4);
	bpf_program__set_autoload(l->skel->progs.uring_complete_res, uring_args == 8);
	/* Run on demand (loader__sweep), never attached. */
	bpf_program__set_autoattach(l->skel->progs.sweep, false);
}

/* Open, configure and load the skeleton for backend b.  Returns 0 or
 * -errno; quiet: a failure is the caller's to explain. */
static int load(struct loader *l, const struct loader_opts *o, enum backend b, int quiet)
{
	struct btf *btf = vmlinux_btf();
	int err;

	l->skel = custos_bpf__open();
	if (!l->skel) {
		err = -errno;
		log_warn("failed to open the BPF object");
		goto out;
	}
	l->backend = b;
	choose_programs(l, btf, b);
	l->skel->rodata->targ_hooks = b == BACKEND_HOOKS;
	l->skel->rodata->targ_host_mnt_ns = host_mnt_ns();
	err = bpf_map__set_max_entries(l->skel->maps.events, o->ring_bytes);
	if (err) {
		log_warnx("failed to size the ring buffer to %u bytes: %s", o->ring_bytes,
			  strerror(-err));
		goto out;
	}
	quiet_libbpf = quiet;
	err = custos_bpf__load(l->skel);
	quiet_libbpf = 0;
	if (err && !quiet)
		log_warnx("failed to load BPF programs: %s", strerror(-err));
out:
	btf__free(btf);
	return err;
}

#define PIN_DIR	 "/sys/fs/bpf/custos"
#define PIN_LINK "/sys/fs/bpf/custos/fail-closed"
#define PIN_HEIR "/sys/fs/bpf/custos/fail-closed-heir"

/* A fail-closed program a custosd before left pinned lets this process's
 * opens through once it is the heir; what the heir was, to put back if this
 * custosd gives up before it takes over. */
static int claimed;
static __u32 heir_before;

void loader__claim(void)
{
	__u32 zero = 0, self = getpid();
	int fd = bpf_obj_get(PIN_HEIR);

	/* No fail-closed program left by a predecessor: nothing to claim. */
	if (fd < 0)
		return;
	if (bpf_map_lookup_elem(fd, &zero, &heir_before) ||
	    bpf_map_update_elem(fd, &zero, &self, BPF_ANY))
		log_warn("failed to claim the fail-closed trees of the custosd before");
	else
		claimed = 1;
	close(fd);
}

void loader__unclaim(void)
{
	__u32 zero = 0, now = 0;
	int fd;

	if (!claimed)
		return;
	claimed = 0;
	fd = bpf_obj_get(PIN_HEIR);
	if (fd < 0)
		return;
	/* Once this process is gone its pid may be another's: the slot goes
	 * back to what it held. */
	if (!bpf_map_lookup_elem(fd, &zero, &now) && now == (__u32)getpid() &&
	    bpf_map_update_elem(fd, &zero, &heir_before, BPF_ANY))
		log_warn("failed to give back the fail-closed heir slot");
	close(fd);
}

/*
 * Fail-closed must hold while no custosd runs: the file_open program is
 * pinned, replacing a predecessor's (whose program refused opens until
 * this one was attached: no gap).  Without fail-closed, a predecessor's is
 * removed: access comes back.
 */
static int pin_failclosed(struct loader *l, uint64_t mask)
{
	int had = !access(PIN_LINK, F_OK), err = 0;

	unlink(PIN_LINK);
	unlink(PIN_HEIR);
	claimed = 0;
	if (!mask) {
		if (had)
			log_info("fail-closed of the custosd before is lifted");
		return 0;
	}
	if (mkdir(PIN_DIR, 0700) && errno != EEXIST)
		err = -errno;
	if (!err)
		err = bpf_link__pin(l->skel->links.hook_file_open, PIN_LINK)
			      ?: bpf_map__pin(l->skel->maps.failclosed_heir, PIN_HEIR);
	if (err)
		log_warnx("failed to pin the fail-closed program in %s: %s", PIN_DIR,
			  strerror(-err));
	return err;
}

struct loader *loader__start(const struct loader_opts *o)
{
	struct loader *l = calloc(1, sizeof(*l));
	enum backend b = o->backend;
	int err = 0;

	if (!l) {
		errno = ENOMEM;
		return NULL;
	}
	libbpf_set_print(libbpf_log);
	l->ncpus = libbpf_num_possible_cpus();
	if (l->ncpus <= 0) {
		err = l->ncpus ? l->ncpus : -EINVAL;
		log_warnx("failed to count CPUs: %s", strerror(-err));
		goto fail;
	}
	if (b != BACKEND_TRACEPOINTS && !bpf_lsm_active()) {
		if (b == BACKEND_HOOKS) {
			err = -EOPNOTSUPP;
			log_warnx("failed to start the hook backend: bpf is not an active LSM "
				  "(/sys/kernel/security/lsm; the kernel's lsm= list)");
			goto fail;
		}
		log_info("bpf is not an active LSM: the tracepoint backend");
		b = BACKEND_TRACEPOINTS;
	}
	if (b == BACKEND_AUTO) {
		/* Kernels that refuse LSM or fentry programs say so at load,
		 * before any verification. */
		err = load(l, o, BACKEND_HOOKS, 1);
		if (!err)
			b = BACKEND_HOOKS;
		else {
			log_info("the hook backend does not load here (%s): the tracepoint "
				 "backend",
				 strerror(-err));
			custos_bpf__destroy(l->skel);
			l->skel = NULL;
			b = BACKEND_TRACEPOINTS;
		}
	}
	if (o->failclosed_mask && b != BACKEND_HOOKS) {
		err = -EOPNOTSUPP;
		log_warnx("failed to start fail-closed mode: it needs the hooks backend, and "
			  "this kernel runs the tracepoint backend");
		goto fail;
	}
	if (!l->skel) {
		err = load(l, o, b, 0);
		if (err)
			goto fail;
	}
	l->skel->bss->self_tgid = o->self_tgid;
	l->skel->bss->progress_ns = o->progress_ns;
	l->skel->bss->fine_reads = o->fine_reads;
	l->skel->bss->beat_timeout_ns = o->beat_timeout_ns;
	/* Wake the consumer early enough that a burst cannot fill the ring
	 * between two polls. */
	l->skel->bss->wakeup_bytes = o->ring_bytes / 4;
	l->skel->bss->failclosed_mask = o->failclosed_mask;
	loader__beat(l);
	err = fill_protected(l, o->watch, o->n_watch)
		      ?: loader__set_roots(l, o->watch, o->n_watch, o->mounts);
	if (err)
		goto fail;
	err = custos_bpf__attach(l->skel);
	if (err) {
		log_warnx("failed to attach BPF programs: %s", strerror(-err));
		goto fail;
	}
	if (b == BACKEND_HOOKS)
		err = pin_failclosed(l, o->failclosed_mask);
	if (err)
		goto fail;
	return l;
fail:
	loader__destroy(l);
	errno = -err;
	return NULL;
}

void loader__beat(struct loader *l)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	l->skel->bss->beat_ns = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

const char *loader__backend(const struct loader *l)
{
	if (l->backend == BACKEND_HOOKS)
		return l->uring ? "hooks+io_uring" : "hooks";
	return l->uring ? "tracepoints+io_uring" : "tracepoints";
}

int loader__sweep(const struct loader *l, int all)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	l->skel->bss->sweep_all = all;
	if (bpf_prog_test_run_opts(bpf_program__fd(l->skel->progs.sweep), &opts))
		return -errno;
	return 0;
}

int loader__ring_fd(const struct loader *l)
{
	return bpf_map__fd(l->skel->maps.events);
}

uint32_t loader__ring_size(const struct loader *l)
{
	return bpf_map__max_entries(l->skel->maps.events);
}

int loader__ncpus(const struct loader *l)
{
	return l->ncpus;
}

int loader__stats(const struct loader *l, struct custos_stats *out)
{
	__u32 zero = 0;

	if (bpf_map__lookup_elem(l->skel->maps.stats, &zero, sizeof(zero), out,
				 sizeof(*out) * l->ncpus, 0))
		return -errno;
	return 0;
}

void loader__detach(struct loader *l)
{
	custos_bpf__detach(l->skel);
}

void loader__destroy(struct loader *l)
{
	if (!l)
		return;
	custos_bpf__destroy(l->skel);
	free(l);
}
