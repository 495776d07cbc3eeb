// SPDX-License-Identifier: BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <limits.h>
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
#include <openssl/evp.h>

#include "custos.skel.h"
#include "loader.h"
#include "log.h"
#include "mounts.h"
#include "util.h"

#define TRACEFS_MAGIC	 0x74726163
#define BPF_FS_MAGIC	 0xcafe4a11
#define SECURITYFS_MAGIC 0x73636673

/*
 * Everything custosd loads is pinned below PIN_DIR (docs/reliability.md),
 * so that capture outlives a custosd that crashes or is killed: every map
 * of the object in maps/ (the ring, the session table, the counters, the
 * run-time settings in .bss ...), every attached program's link in links/,
 * and id, which says whose they are (struct pin_id).  id is pinned last and
 * removed first: a set without it is a half-made or half-removed one.
 * fail-closed and fail-closed-heir are the fail-closed program's own pins
 * (pin_failclosed): they outlive a clean stop too.
 */
#define PIN_DIR	  "/sys/fs/bpf/custos"
#define PIN_MAPS  PIN_DIR "/maps"
#define PIN_LINKS PIN_DIR "/links"
#define PIN_ID	  PIN_DIR "/id"
#define PIN_LINK  PIN_DIR "/fail-closed"
#define PIN_HEIR  PIN_DIR "/fail-closed-heir"

/* What a pinned set is: a custosd takes it over only when all of it is
 * what it would load itself. */
struct pin_id {
	uint8_t build[32];  /* SHA-256 of the object, its read-only settings and
			     * the programs chosen from it */
	uint8_t ledger[32]; /* the ledger the ring is consumed into */
	uint8_t watch[32];  /* the protected roots, in dataset order */
	uint32_t backend;
	uint32_t ring_bytes;
	uint32_t sessions; /* the session table's size */
	uint32_t _pad;
};

struct loader {
	struct custos_bpf *skel;
	int ncpus;
	int uring; /* io_uring completions are watched */
	enum backend backend;
	struct pin_id id;
	struct loader_resume resume;
	/* Programs whose pinned link was taken over: not loaded, not pinned again. */
	uint8_t *kept;
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

/* What is protected changed: the directories' verdicts made before are old
 * (after the change, as the programs age them after a rename). */
static void verdicts_age(struct loader *l)
{
	__atomic_fetch_add(&l->skel->bss->verdict_gen, 1, __ATOMIC_SEQ_CST);
}

int loader__protect(struct loader *l, dev_t dev, ino_t ino, uint32_t dataset)
{
	struct custos_inode_key key = { .ino = ino, .dev = kernel_dev(dev) };
	struct custos_protected val = { .dataset = dataset };
	__u32 h = CUSTOS_INO_FILTER_HASH(ino);

	/* The filter's bit before the entry, as the programs set it: a walk
	 * that would find the entry must not be told to skip it. */
	__atomic_fetch_or(&l->skel->bss->ino_filter[h >> 6], 1ULL << (h & 63), __ATOMIC_SEQ_CST);

	if (bpf_map__update_elem(l->skel->maps.protected, &key, sizeof(key), &val, sizeof(val),
				 BPF_ANY))
		return -errno;
	verdicts_age(l);
	return 0;
}

int loader__unprotect(struct loader *l, dev_t dev, ino_t ino)
{
	struct custos_inode_key key = { .ino = ino, .dev = kernel_dev(dev) };

	if (bpf_map__delete_elem(l->skel->maps.protected, &key, sizeof(key), 0))
		return -errno;
	verdicts_age(l);
	return 0;
}

static int fill_protected(struct loader *l, const struct watch *w, int n)
{
	for (int i = 0; i < n; i++) {
		int err = loader__protect(l, w[i].dev, w[i].ino, w[i].dataset);

		if (err) {
			log_warnx("failed to protect %s: %s", w[i].dir, strerror(-err));
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

/* Whether the kernel's BTF has the prefixed name of what p attaches to
 * (the part of its section after the '/'), of that kind; said when not. */
static int kernel_has(const struct btf *btf, struct bpf_program *p, const char *prefix, int kind)
{
	const char *name = strchr(bpf_program__section_name(p), '/') + 1;
	char full[128];

	snprintf(full, sizeof(full), "%s%s", prefix, name);
	if (btf && btf__find_by_name_kind(btf, full, kind) >= 0)
		return 1;
	log_debug("%s not loaded: this kernel has no %s", bpf_program__name(p), full);
	return 0;
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
		/* The syscall programs, and the ctime ones that follow renames:
		 * the hooks see the same where the kernel does the work, and
		 * leave syscalls untaxed. */
		int syscall = has_prefix(sec, "tp/syscalls/") || !strcmp(sec, "tp_btf/sys_exit") ||
			      has_prefix(sec, "tp_btf/ctime_") ||
			      !strcmp(sec, "tp_btf/inode_set_ctime_to_ts");
		int load = hook ? b == BACKEND_HOOKS : !(syscall && b == BACKEND_HOOKS);

		/* A security hook the kernel was built without (the path hooks
		 * need CONFIG_SECURITY_PATH) has no bpf_lsm_ stub; a tracepoint
		 * it does not have (the ctime ones came with 6.13), no
		 * btf_trace_ type. */
		if (load && has_prefix(sec, "lsm/"))
			load = kernel_has(btf, p, "bpf_lsm_", BTF_KIND_FUNC);
		else if (load && has_prefix(sec, "tp_btf/") && strcmp(sec, "tp_btf/sys_exit"))
			load = kernel_has(btf, p, "btf_trace_", BTF_KIND_TYPEDEF);
		else if (load && hook) {
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

/* Open the skeleton and configure it for backend b: the programs it loads,
 * its read-only settings, the ring's size.  Returns 0 or -errno (said). */
static int prepare(struct loader *l, const struct loader_opts *o, enum backend b)
{
	struct btf *btf = vmlinux_btf();
	int err = 0;

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
	/* Directory verdicts are kept where every move is seen: the renames
	 * and mounts of syscalls, and io_uring's renames at completion (the
	 * hooks would see the kernel's own too; they are not used there). */
	l->skel->rodata->targ_verdict_cache = b != BACKEND_HOOKS && l->uring;
	err = bpf_map__set_max_entries(l->skel->maps.events, o->ring_bytes);
	if (err)
		log_warnx("failed to size the ring buffer to %u bytes: %s", o->ring_bytes,
			  strerror(-err));
	if (!err) {
		err = bpf_map__set_max_entries(l->skel->maps.sessions, o->sessions);
		if (err)
			log_warnx("failed to size the session table to %u: %s", o->sessions,
				  strerror(-err));
	}
out:
	btf__free(btf);
	return err;
}

/* Load what prepare chose.  Returns 0 or -errno; quiet: a failure is the
 * caller's to explain. */
static int load(struct loader *l, int quiet)
{
	int err;

	quiet_libbpf = quiet;
	err = custos_bpf__load(l->skel);
	quiet_libbpf = 0;
	if (err && !quiet)
		log_warnx("failed to load BPF programs: %s", strerror(-err));
	return err;
}

static void unload(struct loader *l)
{
	custos_bpf__destroy(l->skel);
	l->skel = NULL;
}

/* The set prepare made, as struct pin_id says it.  Returns 0 or -ENOMEM. */
static int make_id(struct loader *l, const struct loader_opts *o, struct pin_id *id)
{
	const struct bpf_object_skeleton *s = l->skel->skeleton;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const void *p;
	size_t n;
	int ok;

	memset(id, 0, sizeof(*id));
	id->backend = l->backend;
	id->ring_bytes = o->ring_bytes;
	id->sessions = o->sessions;
	if (o->ledger_id)
		memcpy(id->ledger, o->ledger_id, sizeof(id->ledger));
	p = custos_bpf__elf_bytes(&n);
	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) && EVP_DigestUpdate(ctx, p, n);
	p = bpf_map__initial_value(l->skel->maps.rodata, &n);
	ok = ok && p && EVP_DigestUpdate(ctx, p, n);
	for (int i = 0; ok && i < s->prog_cnt; i++) {
		uint8_t on = bpf_program__autoload(*s->progs[i].prog);

		ok = EVP_DigestUpdate(ctx, s->progs[i].name, strlen(s->progs[i].name) + 1) &&
		     EVP_DigestUpdate(ctx, &on, 1);
	}
	ok = ok && EVP_DigestFinal_ex(ctx, id->build, NULL) &&
	     EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (int i = 0; ok && i < o->n_watch; i++) {
		struct {
			uint32_t dataset, dev;
			uint64_t ino;
		} root = { o->watch[i].dataset, kernel_dev(o->watch[i].dev), o->watch[i].ino };

		ok = EVP_DigestUpdate(ctx, &root, sizeof(root));
	}
	ok = ok && EVP_DigestFinal_ex(ctx, id->watch, NULL);
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		log_warnx("failed to hash the BPF object: out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* The id of the set pinned now.  Returns 0, -ENOENT (none) or another
 * -errno (one of another format: not taken over). */
static int read_pinned_id(struct pin_id *id)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), zero = 0;
	int fd = bpf_obj_get(PIN_ID), err = 0;

	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -errno;
	else if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(zero) ||
		 info.value_size != sizeof(*id))
		err = -EINVAL;
	else if (bpf_map_lookup_elem(fd, &zero, id))
		err = -errno;
	close(fd);
	return err;
}

/* Why the pinned set is not this one's, or NULL when it is. */
static const char *pin_mismatch(const struct pin_id *mine, const struct pin_id *pinned)
{
	if (memcmp(mine->ledger, pinned->ledger, sizeof(mine->ledger)))
		return "ledger";
	if (mine->backend != pinned->backend)
		return "backend";
	if (memcmp(mine->build, pinned->build, sizeof(mine->build)))
		return "build";
	if (mine->ring_bytes != pinned->ring_bytes)
		return "ring size";
	if (mine->sessions != pinned->sessions)
		return "session table size";
	if (memcmp(mine->watch, pinned->watch, sizeof(mine->watch)))
		return "watch list";
	return NULL;
}

/* Where an object named name is pinned in dir.  bpffs keeps names with a
 * dot for itself (EPERM), and libbpf names a section's map ".bss" after
 * the object ("custos_b.bss"): a dot becomes an underscore. */
static int pin_path(char *buf, const char *dir, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", dir, name);

	if (n >= PATH_MAX)
		return -ENAMETOOLONG;
	for (char *p = buf + strlen(dir) + 1; *p; p++)
		if (*p == '.')
			*p = '_';
	return 0;
}

/* Remove every pin in dir; the objects go with their last reference (a
 * link's: its program is detached).  Returns how many there were. */
static int drop_pins(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    !unlinkat(dirfd(d), e->d_name, 0))
			n++;
	closedir(d);
	return n;
}

static int make_pin_dirs(void)
{
	const char *dirs[] = { PIN_DIR, PIN_MAPS, PIN_LINKS };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (mkdir(dirs[i], 0700) && errno != EEXIST) {
			int err = -errno;

			log_warn("failed to create %s", dirs[i]);
			return err;
		}
	return 0;
}

/* Every map of the object, whatever the programs declare, by its name:
 * pinned, for the next custosd to find, or take_over: taken over from its
 * pin instead of made anew (the same object has the same names).  Returns
 * 0 or -errno (said). */
static int pin_maps(struct loader *l, int take_over)
{
	char path[PATH_MAX];
	struct bpf_map *m;

	bpf_object__for_each_map(m, l->skel->obj)
	{
		int fd = -1, err = pin_path(path, PIN_MAPS, bpf_map__name(m));

		if (!err && take_over) {
			fd = bpf_obj_get(path);
			err = fd < 0 ? -errno : bpf_map__reuse_fd(m, fd);
		} else if (!err && bpf_obj_pin(bpf_map__fd(m), path)) {
			err = -errno;
		}
		if (fd >= 0)
			close(fd);
		if (err) {
			log_warnx("failed to %s map %s: %s", take_over ? "take over pinned" : "pin",
				  path, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* The programs to attach whose link is pinned, and so still attached (the
 * custosd before died, or fail-closed kept its program at a stop), are
 * not loaded again: their links are taken over once the rest is loaded
 * (open_kept_links).  Returns how many; *total: how many there are to
 * attach. */
static int keep_links(struct loader *l, int *total)
{
	const struct bpf_object_skeleton *s = l->skel->skeleton;
	char path[PATH_MAX];
	int kept = 0;

	*total = 0;
	for (int i = 0; i < s->prog_cnt; i++) {
		struct bpf_program *p = *s->progs[i].prog;

		if (!bpf_program__autoload(p) || !bpf_program__autoattach(p))
			continue;
		(*total)++;
		if (pin_path(path, PIN_LINKS, s->progs[i].name) || access(path, F_OK))
			continue;
		bpf_program__set_autoload(p, false);
		l->kept[i] = 1;
		kept++;
	}
	return kept;
}

static int open_kept_links(struct loader *l)
{
	const struct bpf_object_skeleton *s = l->skel->skeleton;
	char path[PATH_MAX];

	for (int i = 0; i < s->prog_cnt; i++) {
		if (!l->kept[i])
			continue;
		pin_path(path, PIN_LINKS, s->progs[i].name);
		*s->progs[i].link = bpf_link__open(path);
		if (!*s->progs[i].link) {
			int err = -errno;

			log_warn("failed to take over pinned link %s", path);
			return err;
		}
	}
	return 0;
}

/* Every link this custosd attached, so that its programs stay attached if
 * it dies.  Returns 0 or -errno (said). */
static int pin_links(struct loader *l)
{
	const struct bpf_object_skeleton *s = l->skel->skeleton;
	char path[PATH_MAX];

	for (int i = 0; i < s->prog_cnt; i++) {
		struct bpf_link *link = *s->progs[i].link;
		int err;

		if (!link || l->kept[i])
			continue;
		err = pin_path(path, PIN_LINKS, s->progs[i].name);
		if (!err && bpf_obj_pin(bpf_link__fd(link), path))
			err = -errno;
		if (err) {
			log_warnx("failed to pin link %s: %s", path, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* The id, last: from now on the set is whole. */
static int pin_id(const struct pin_id *id)
{
	__u32 zero = 0;
	int fd =
		bpf_map_create(BPF_MAP_TYPE_ARRAY, "custos_id", sizeof(zero), sizeof(*id), 1, NULL);
	int err = fd < 0 ? -errno : 0;

	if (!err && (bpf_map_update_elem(fd, &zero, id, BPF_ANY) || bpf_obj_pin(fd, PIN_ID)))
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (err)
		log_warnx("failed to pin %s: %s", PIN_ID, strerror(-err));
	return err;
}

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
 * removed: access comes back.  The heir slot is emptied: this custosd's
 * own opens go through as its (self_tgid), and no pid is left there for
 * another process to be given later.
 */
static int pin_failclosed(struct loader *l, uint64_t mask)
{
	int had = !access(PIN_LINK, F_OK), err = 0;
	__u32 zero = 0;

	unlink(PIN_LINK);
	unlink(PIN_HEIR);
	claimed = 0;
	if (!mask) {
		if (had)
			log_info("fail-closed of the custosd before is lifted");
		return 0;
	}
	if (bpf_map__update_elem(l->skel->maps.failclosed_heir, &zero, sizeof(zero), &zero,
				 sizeof(zero), BPF_ANY) ||
	    bpf_obj_pin(bpf_link__fd(l->skel->links.hook_file_open), PIN_LINK) ||
	    bpf_obj_pin(bpf_map__fd(l->skel->maps.failclosed_heir), PIN_HEIR))
		err = -errno;
	if (err)
		log_warnx("failed to pin the fail-closed program in %s: %s", PIN_DIR,
			  strerror(-err));
	return err;
}

/* The backend's programs, loaded fresh: auto tries the hooks first. */
static int load_fresh(struct loader *l, const struct loader_opts *o, enum backend b)
{
	int err;

	if (b == BACKEND_AUTO) {
		/* Kernels that refuse LSM or fentry programs say so at load,
		 * before any verification. */
		err = prepare(l, o, BACKEND_HOOKS) ?: load(l, 1);
		if (!err)
			return make_id(l, o, &l->id);
		log_info("the hook backend does not load here (%s): the tracepoint backend",
			 strerror(-err));
		unload(l);
		b = BACKEND_TRACEPOINTS;
	}
	if (o->failclosed_mask && b != BACKEND_HOOKS) {
		log_warnx("failed to start fail-closed mode: it needs the hooks backend, and "
			  "this kernel runs the tracepoint backend");
		return -EOPNOTSUPP;
	}
	return prepare(l, o, b) ?: load(l, 0) ?: make_id(l, o, &l->id);
}

/*
 * Take over the pinned set: its maps, and the links still attached.  What
 * captured while no custosd ran: every program (custosd died), fail-closed's
 * open alone (a stop kept it), or nothing.
 */
static int load_reusing(struct loader *l)
{
	const struct bpf_object_skeleton *s = l->skel->skeleton;
	int total, kept, err, failclosed = 0;

	err = pin_maps(l, 1);
	if (err)
		return err;
	kept = keep_links(l, &total);
	err = load(l, 0) ?: open_kept_links(l);
	if (err)
		return err;
	for (int i = 0; i < s->prog_cnt; i++)
		if (l->kept[i] && *s->progs[i].prog == l->skel->progs.hook_file_open)
			failclosed = 1;
	l->resume.reused = 1;
	if (kept && kept == total)
		l->resume.kept = LOADER_KEPT_ALL;
	else if (kept == 1 && failclosed)
		l->resume.kept = LOADER_KEPT_FAILCLOSED;
	else if (kept)
		log_warnx("only %d of the %d programs of the custosd before were still "
			  "attached: the others are attached again",
			  kept, total);
	log_info("took over the maps pinned in %s, and %d of %d programs still attached", PIN_DIR,
		 kept, total);
	return 0;
}

/* Attach, replacing the programs of a pinned set this custosd does not take
 * over.  Theirs are detached only now that this one's are loaded, so that
 * no program runs only between the two; resume says when that was, if
 * theirs were the same ledger's. */
static int attach(struct loader *l, const struct pin_id *old)
{
	int dropped = 0, err;
	int64_t from = util__realtime_ns();

	if (!l->resume.reused) {
		unlink(PIN_ID);
		dropped = drop_pins(PIN_LINKS);
	}
	err = custos_bpf__attach(l->skel);
	if (err) {
		log_warnx("failed to attach BPF programs: %s", strerror(-err));
		return err;
	}
	if (dropped && old && !memcmp(old->ledger, l->id.ledger, sizeof(old->ledger))) {
		l->resume.blind_from_ns = from;
		l->resume.blind_to_ns = util__realtime_ns();
	}
	if (!l->resume.reused)
		drop_pins(PIN_MAPS);
	return make_pin_dirs() ?: (l->resume.reused ? 0 : pin_maps(l, 0)) ?: pin_links(l)
									  ?: (l->resume.reused ? 0 : pin_id(&l->id));
}

struct loader *loader__start(const struct loader_opts *o)
{
	struct loader *l = calloc(1, sizeof(*l));
	enum backend b = o->backend;
	struct pin_id pinned;
	const char *other = NULL; /* what the pinned set is another one's of */
	int err = 0, has_pins;

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
	has_pins = !read_pinned_id(&pinned);
	/* Auto takes the pinned set's backend, unless fail-closed needs the
	 * hooks and it is not theirs. */
	if (has_pins &&
	    (pinned.backend == BACKEND_TRACEPOINTS || pinned.backend == BACKEND_HOOKS) &&
	    (b == (enum backend)pinned.backend ||
	     (b == BACKEND_AUTO && (!o->failclosed_mask || pinned.backend == BACKEND_HOOKS)))) {
		err = prepare(l, o, pinned.backend) ?: make_id(l, o, &l->id);
		if (err)
			goto fail;
		other = pin_mismatch(&l->id, &pinned);
		if (other)
			unload(l);
	} else if (has_pins) {
		other = "backend";
	}
	if (other)
		log_info("the programs and maps pinned in %s are of another %s: replacing them",
			 PIN_DIR, other);
	if (l->skel) {
		l->kept = calloc(l->skel->skeleton->prog_cnt, 1);
		err = l->kept ? load_reusing(l) : -ENOMEM;
	} else {
		err = load_fresh(l, o, b);
		l->kept = err || !l->skel ? NULL : calloc(l->skel->skeleton->prog_cnt, 1);
		if (!err && !l->kept)
			err = -ENOMEM;
	}
	if (err)
		goto fail;
	l->skel->bss->self_tgid = o->self_tgid;
	l->skel->bss->self_start_ticks = o->self_start_ticks;
	l->skel->bss->progress_ns = o->progress_ns;
	l->skel->bss->fine_reads = o->fine_reads;
	l->skel->bss->beat_timeout_ns = o->beat_timeout_ns;
	/* Wake the consumer early enough that a burst cannot fill the ring
	 * between two polls. */
	l->skel->bss->wakeup_bytes = o->ring_bytes / 4;
	l->skel->bss->failclosed_mask = o->failclosed_mask;
	loader__beat(l);
	err = fill_protected(l, o->watch, o->n_watch)
		      ?: loader__set_roots(l, o->watch, o->n_watch, o->mounts)
		      ?: attach(l, has_pins ? &pinned : NULL)
		      ?: pin_failclosed(l, o->failclosed_mask);
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

void loader__rearm(struct loader *l)
{
	__atomic_store_n(&l->skel->bss->wakeup_sent, 0, __ATOMIC_RELEASE);
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

const struct loader_resume *loader__resume(const struct loader *l)
{
	return &l->resume;
}

uint32_t loader__ring_id(const struct loader *l)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(loader__ring_fd(l), &info, &len))
		return 0;
	return info.id;
}

void loader__destroy(struct loader *l)
{
	if (!l)
		return;
	custos_bpf__destroy(l->skel);
	free(l->kept);
	free(l);
}
