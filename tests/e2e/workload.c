// SPDX-License-Identifier: BSD-2-Clause
/*
 * The audited side of the end-to-end tests: real syscalls on a prepared tree.
 *
 *   workload setup TREE OUT    create the files (sizes the assertions know)
 *   workload access TREE OUT   the access scenario; prints "pid=N child=M"
 *   workload cat PATH          read PATH whole; prints "pid=N"
 *   workload waitcat FLAG PATH wait until FLAG exists, then read PATH (a process
 *                              older than custosd)
 *   workload as LOGINUID UID PATH   a login session of LOGINUID ("-": none), then
 *                              switch to UID (as sudo and su do) and read PATH
 *   workload burst TREE N      N x (open, read 4 KiB, close) of one file
 *   workload steady TREE FLAG  until FLAG exists: open, read whole and close a, d and e
 *                              in turn, up to 500 a second, while sub/b, opened once,
 *                              is read 100 bytes at a time; then close sub/b and print
 *                              "pid=N opens=N bytes=N held_bytes=N held_reads=N" (the
 *                              opens and bytes of a, d and e; sub/b's one session)
 *   workload via HOW PATH      read PATH whole another way: sendfile, splice, copy,
 *                              preadv2, mmap, handle, procfd, scm, dup2, noclose,
 *                              uring, uring_fixed, uring_splice, aio, slow, hold (100
 *                              bytes, then keep it open until killed); or
 *   workload uring_try PATH    an io_uring openat of PATH; prints the result
 *   workload chroot DIR REL    chroot to DIR and read REL there
 *   workload try DIR NAME      openat(DIR or "." for the cwd, NAME); prints the result
 *   workload int80 PATH        read PATH with i386 system calls (int $0x80) from this
 *                              64-bit program; prints "pid=N bytes=M"
 *   workload openhold FLAG PATH  open PATH, print "fd=N", read it once FLAG exists
 *   workload getfd PID FD      take PID's descriptor FD (pidfd_getfd) and read it
 *   workload link OLD NEW, workload rename OLD NEW   link(2), rename(2); print "pid=N"
 *   workload uring_rename OLD NEW   an io_uring RENAMEAT (no rename syscall); print "pid=N"
 *   workload hold N PATH FLAG  hold N descriptions of PATH open until FLAG exists
 *   workload deep DIR N FILE   make N nested directories below DIR, move FILE (an
 *                              absolute path) to the deepest, read it there
 *   workload fanotify DIR N    read whole the files opened in DIR by others, through
 *                              the descriptors fanotify gives, N of them
 *   workload steal PIN         as a root process can (docs/reliability.md): open the
 *                              pinned ring buffer PIN and move its consumer position to
 *                              the producer's, passing over what it holds; prints
 *                              "skipped=BYTES"
 *   workload peek PIN          print the 32-bit value of key 0 of the pinned array PIN
 *                              (the fail-closed heir)
 *   workload race FIFO         a thread blocks reading FIFO while another closes the
 *                              descriptor: the read's own reference is the last; then
 *                              5 bytes are written, so the read returns them
 *
 * Each step's expected record is spelled out in tests/e2e/capture.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/bpf.h>
#include <linux/openat2.h>
#include <liburing.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/fanotify.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "workload: failed to %s: %s\n", what, strerror(errno));
	exit(1);
}

static const char *at(const char *dir, const char *name)
{
	static char buf[8][4096];
	static int i;
	char *p = buf[i++ % 8];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
	return p;
}

static void make_file(const char *path, size_t size)
{
	char chunk[4096];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die(path);
	memset(chunk, 'x', sizeof(chunk));
	while (size) {
		size_t n = size < sizeof(chunk) ? size : sizeof(chunk);

		if (write(fd, chunk, n) != (ssize_t)n)
			die("write");
		size -= n;
	}
	close(fd);
}

static void setup(const char *tree, const char *out)
{
	if (mkdir(at(tree, "sub"), 0755) && errno != EEXIST)
		die("mkdir sub");
	make_file(at(tree, "a"), 1000);
	make_file(at(tree, "sub/b"), 10000);
	make_file(at(tree, "d"), 5000);
	make_file(at(tree, "e"), 3000);
	make_file(at(out, "c"), 2000);
	unlink(at(out, "link"));
	if (symlink(at(tree, "a"), at(out, "link")))
		die("symlink");
}

static size_t read_all(int fd)
{
	char buf[4096];
	size_t total = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	if (n < 0)
		die("read");
	return total;
}

static int open_or_die(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		die(path);
	return fd;
}

static void access_scenario(const char *tree, const char *out)
{
	char buf[4096];
	struct iovec iov[2] = { { buf, 2048 }, { buf + 2048, 2048 } };
	struct open_how how = { .flags = O_RDONLY };
	int fd, fd2;
	pid_t child;

	/* a: read(2) to the end: one session of 1000 bytes, 1 read. */
	fd = open_or_die(at(tree, "a"));
	read_all(fd);
	close(fd);

	/* sub/b: pread64 + readv + preadv = 4096 + 4096 + 1808 bytes, 3 reads. */
	fd = open_or_die(at(tree, "sub/b"));
	if (pread(fd, buf, 4096, 0) != 4096)
		die("pread");
	if (lseek(fd, 4096, SEEK_SET) < 0 || readv(fd, iov, 2) != 4096)
		die("readv");
	if (preadv(fd, iov, 2, 8192) != 1808)
		die("preadv");
	close(fd);

	/* Outside the tree: nothing may be recorded. */
	fd = open_or_die(at(out, "c"));
	read_all(fd);
	close(fd);

	/* Relative open after chdir: recorded as TREE/sub/b, 100 bytes. */
	if (chdir(at(tree, "sub")))
		die("chdir");
	fd = open_or_die("b");
	if (read(fd, buf, 100) != 100)
		die("read b");
	close(fd);
	if (chdir("/"))
		die("chdir /");

	/* dirfd-relative with "..": openat(TREE/sub, "../d") is TREE/d, 50 bytes. */
	fd2 = open(at(tree, "sub"), O_RDONLY | O_DIRECTORY);
	if (fd2 < 0)
		die("open sub");
	fd = openat(fd2, "../d", O_RDONLY);
	if (fd < 0 || read(fd, buf, 50) != 50)
		die("openat ../d");
	close(fd);
	close(fd2);

	/* A symlink outside pointing in: recorded as TREE/a, 1000 bytes. */
	fd = open_or_die(at(out, "link"));
	read_all(fd);
	close(fd);

	/* openat2: TREE/a, 10 bytes. */
	fd = syscall(SYS_openat2, AT_FDCWD, at(tree, "a"), &how, sizeof(how));
	if (fd < 0)
		die("openat2");
	if (read(fd, buf, 10) != 10)
		die("read a");
	close(fd);

	/* dup: one file description, one session of 2000 + 3000 bytes. */
	fd = open_or_die(at(tree, "d"));
	fd2 = dup(fd);
	if (fd2 < 0 || read(fd, buf, 2000) != 2000 || read(fd2, buf, 4096) != 3000)
		die("read d");
	close(fd);
	close(fd2);

	/* fork: the child reads all 3000 bytes and exits; the parent's close
	 * is the last and ends the session. */
	fd = open_or_die(at(tree, "e"));
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		read_all(fd);
		_exit(0);
	}
	if (waitpid(child, NULL, 0) != child)
		die("waitpid");
	close(fd);
	printf("pid=%d child=%d\n", getpid(), child);
}

/* Read one file whole, by any path: the mount tests use it. */
static void cat(const char *path)
{
	int fd = open_or_die(path);

	read_all(fd);
	close(fd);
	printf("pid=%d\n", getpid());
}

/* Simulate a login (the loginuid PAM's pam_loginuid writes) and a later
 * switch of user, then read: what custos must attribute. */
static void as_user(const char *loginuid, const char *uid, const char *path)
{
	uid_t u = (uid_t)strtoul(uid, NULL, 10);

	if (strcmp(loginuid, "-")) {
		FILE *f = fopen("/proc/self/loginuid", "w");

		if (!f || fprintf(f, "%s", loginuid) < 0 || fclose(f))
			die("write /proc/self/loginuid");
	}
	if (setresgid(u, u, u) || setresuid(u, u, u))
		die("switch user");
	cat(path);
}

static size_t file_size(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		die("fstat");
	return (size_t)st.st_size;
}

/* The other ways to get a file's bytes out; each must be recorded. */
/* Submit the one prepared sqe and wait for its result. */
static int uring_do(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	int res;

	io_uring_submit(ring);
	if (io_uring_wait_cqe(ring, &cqe))
		die("wait for io_uring");
	res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

/* Rename OLD to NEW with io_uring alone. */
static void uring_rename(const char *old, const char *new)
{
	struct io_uring ring;
	int res;

	if (io_uring_queue_init(4, &ring, 0))
		die("io_uring_queue_init");
	io_uring_prep_renameat(io_uring_get_sqe(&ring), AT_FDCWD, old, AT_FDCWD, new, 0);
	res = uring_do(&ring);
	errno = -res;
	if (res < 0)
		die("io_uring renameat");
	io_uring_queue_exit(&ring);
}

/* Open and read PATH whole with io_uring alone (no open or read syscall):
 * into the fd table ("uring"), into a fixed slot read with fixed-file reads
 * ("uring_fixed"), or spliced into a pipe ("uring_splice"). */
static void uring_read(const char *how, const char *path)
{
	int fixed = !strcmp(how, "uring_fixed"), spliced = !strcmp(how, "uring_splice");
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	char buf[4096];
	int ufd, p[2], n;
	off_t off = 0;

	if (io_uring_queue_init(4, &ring, 0))
		die("io_uring_queue_init");
	if (fixed && io_uring_register_files_sparse(&ring, 4))
		die("register a fixed file table");
	if (spliced && pipe(p))
		die("pipe");
	sqe = io_uring_get_sqe(&ring);
	if (fixed)
		io_uring_prep_openat_direct(sqe, AT_FDCWD, path, O_RDONLY, 0, 0);
	else
		io_uring_prep_openat(sqe, AT_FDCWD, path, O_RDONLY, 0);
	ufd = uring_do(&ring);
	errno = -ufd;
	if (ufd < 0)
		die("io_uring openat");
	do {
		sqe = io_uring_get_sqe(&ring);
		if (spliced)
			io_uring_prep_splice(sqe, ufd, off, p[1], -1, sizeof(buf), 0);
		else
			io_uring_prep_read(sqe, ufd, buf, sizeof(buf), off);
		if (fixed)
			sqe->flags |= IOSQE_FIXED_FILE;
		n = uring_do(&ring);
		if (n > 0 && spliced && read(p[0], buf, n) != n)
			die("drain the pipe");
		if (n > 0)
			off += n;
	} while (n > 0);
	errno = -n;
	if (n < 0)
		die("io_uring read");
	/* The fixed slot goes with the ring: no close(2) ever names it. */
	io_uring_queue_exit(&ring);
	if (!fixed)
		close(ufd);
}

/* An io_uring openat of path, no open syscall; prints its result. */
static void uring_try(const char *path)
{
	struct io_uring ring;
	int res;

	if (io_uring_queue_init(4, &ring, 0))
		die("io_uring_queue_init");
	io_uring_prep_openat(io_uring_get_sqe(&ring), AT_FDCWD, path, O_RDONLY, 0);
	res = uring_do(&ring);
	io_uring_queue_exit(&ring);
	printf("pid=%d result=%d\n", getpid(), res < 0 ? res : 0);
}

/* Read fd whole with Linux aio (io_submit), 4 KiB per request; no libaio:
 * the raw syscalls. */
static void aio_read_all(int fd)
{
	aio_context_t ctx = 0;
	struct iocb cb, *cbs[1] = { &cb };
	struct io_event ev;
	char buf[4096];
	off_t off = 0;

	if (syscall(SYS_io_setup, 1, &ctx))
		die("io_setup");
	for (;;) {
		memset(&cb, 0, sizeof(cb));
		cb.aio_fildes = fd;
		cb.aio_lio_opcode = IOCB_CMD_PREAD;
		cb.aio_buf = (unsigned long)buf;
		cb.aio_nbytes = sizeof(buf);
		cb.aio_offset = off;
		if (syscall(SYS_io_submit, ctx, 1, cbs) != 1)
			die("io_submit");
		if (syscall(SYS_io_getevents, ctx, 1, 1, &ev, NULL) != 1)
			die("io_getevents");
		if (ev.res < 0) {
			errno = -ev.res;
			die("aio read");
		}
		if (ev.res == 0)
			break;
		off += ev.res;
	}
	syscall(SYS_io_destroy, ctx);
}

static void read_via(const char *how, const char *path)
{
	char buf[4096];
	int fd = open_or_die(path), out, p[2], sv[2];
	size_t size = file_size(fd);
	ssize_t n;

	if (!strcmp(how, "sendfile")) {
		out = open("/dev/null", O_WRONLY);
		while ((n = sendfile(out, fd, NULL, 4096)) > 0)
			;
		close(out);
	} else if (!strcmp(how, "splice")) {
		if (pipe(p))
			die("pipe");
		while ((n = splice(fd, NULL, p[1], NULL, 4096, 0)) > 0)
			if (read(p[0], buf, sizeof(buf)) != n)
				die("drain");
		close(p[0]);
		close(p[1]);
	} else if (!strcmp(how, "copy")) {
		out = open("/tmp/custos-copy.out", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		while ((n = copy_file_range(fd, NULL, out, NULL, 4096, 0)) > 0)
			;
		close(out);
		unlink("/tmp/custos-copy.out");
	} else if (!strcmp(how, "preadv2")) {
		struct iovec iov = { buf, sizeof(buf) };
		off_t off = 0;

		while ((n = preadv2(fd, &iov, 1, off, 0)) > 0)
			off += n;
	} else if (!strcmp(how, "mmap")) {
		volatile char sum = 0;
		char *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (m == MAP_FAILED)
			die("mmap");
		for (size_t i = 0; i < size; i += 512)
			sum += m[i];
		munmap(m, size);
	} else if (!strcmp(how, "handle")) {
		struct file_handle *fh = malloc(sizeof(*fh) + MAX_HANDLE_SZ);
		int mount_id, hfd;

		fh->handle_bytes = MAX_HANDLE_SZ;
		if (name_to_handle_at(AT_FDCWD, path, fh, &mount_id, 0))
			die("name_to_handle_at");
		/* Any fd on the file system names the mount. */
		hfd = open_by_handle_at(fd, fh, O_RDONLY);
		if (hfd < 0)
			die("open_by_handle_at");
		read_all(hfd);
		close(hfd);
		free(fh);
	} else if (!strcmp(how, "procfd")) {
		char link[64];
		int again;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		again = open_or_die(link);
		read_all(again);
		close(again);
	} else if (!strcmp(how, "scm")) {
		/* The fd crosses a Unix socket to another process, which reads. */
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { buf, 1 };
		struct msghdr msg = { .msg_iov = &iov,
				      .msg_iovlen = 1,
				      .msg_control = cbuf,
				      .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c;
		pid_t child;

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
			die("socketpair");
		child = fork();
		if (child == 0) {
			if (recvmsg(sv[1], &msg, 0) < 0)
				die("recvmsg");
			c = CMSG_FIRSTHDR(&msg);
			memcpy(&out, CMSG_DATA(c), sizeof(int));
			read_all(out);
			close(out);
			_exit(0);
		}
		c = (struct cmsghdr *)cbuf;
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
		if (sendmsg(sv[0], &msg, 0) < 0)
			die("sendmsg");
		waitpid(child, NULL, 0);
		printf("reader=%d\n", child);
	} else if (!strncmp(how, "uring", 5)) {
		uring_read(how, path);
	} else if (!strcmp(how, "aio")) {
		aio_read_all(fd);
	} else if (!strcmp(how, "hold")) {
		/* 100 bytes, then keep the file open until killed. */
		if (read(fd, buf, 100) != 100)
			die("read");
		printf("pid=%d\n", getpid());
		fflush(stdout);
		pause();
	} else if (!strcmp(how, "slow")) {
		/* Keep the file open: 100 bytes, then 100 more every 0.6 s. */
		for (int i = 0; i < 5; i++) {
			if (read(fd, buf, 100) != 100)
				die("read");
			if (i < 4)
				usleep(600000);
		}
	} else if (!strcmp(how, "noclose")) {
		/* Exit with the file open: the kernel drops it, no close(2). */
		read_all(fd);
		printf("pid=%d\n", getpid());
		fflush(stdout);
		_exit(0);
	} else if (!strcmp(how, "dup2")) {
		if (dup2(fd, 100) != 100)
			die("dup2");
		close(fd);
		fd = 100;
		read_all(fd);
	} else {
		die("know that way");
	}
	close(fd);
	printf("pid=%d\n", getpid());
}

static void burst(const char *tree, long n)
{
	char buf[4096];
	const char *path = at(tree, "a");

	for (long i = 0; i < n; i++) {
		int fd = open_or_die(path);

		if (read(fd, buf, sizeof(buf)) < 0)
			die("read");
		close(fd);
	}
	printf("pid=%d\n", getpid());
}

static void steady(const char *tree, const char *flag)
{
	const char *names[] = { "a", "d", "e" };
	unsigned long opens = 0, bytes = 0, held_bytes = 0, held_reads = 0;
	char buf[100];
	int held = open_or_die(at(tree, "sub/b"));

	for (unsigned long i = 0; access(flag, F_OK); i++) {
		int fd = open_or_die(at(tree, names[i % 3]));
		ssize_t n;

		opens++;
		bytes += read_all(fd);
		close(fd);
		n = pread(held, buf, sizeof(buf), (off_t)(i % 100) * 100);
		if (n < 0)
			die("pread");
		held_bytes += n;
		held_reads++;
		if (i % 5 == 4)
			usleep(10000);
	}
	close(held);
	printf("pid=%d opens=%lu bytes=%lu held_bytes=%lu held_reads=%lu\n", getpid(), opens, bytes,
	       held_bytes, held_reads);
}

/* No libbpf here (a static binary): bpf(2) itself. */
static int pinned(const char *pin)
{
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.pathname = (unsigned long)pin;
	fd = syscall(__NR_bpf, BPF_OBJ_GET, &attr, sizeof(attr));
	if (fd < 0)
		die(pin);
	return fd;
}

static void peek(const char *pin)
{
	union bpf_attr attr;
	__u32 key = 0, value = 0;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = pinned(pin);
	attr.key = (unsigned long)&key;
	attr.value = (unsigned long)&value;
	if (syscall(__NR_bpf, BPF_MAP_LOOKUP_ELEM, &attr, sizeof(attr)))
		die("read the map");
	printf("%u\n", value);
}

static void steal(const char *pin)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long *cons, *prod;
	int fd = pinned(pin);

	cons = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	prod = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, page);
	if (cons == MAP_FAILED || prod == MAP_FAILED)
		die("map the ring");
	printf("skipped=%lu\n", *prod - *cons);
	__atomic_store_n(cons, __atomic_load_n(prod, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
}

static void *race_reader(void *arg)
{
	char buf[64];

	if (read(*(int *)arg, buf, sizeof(buf)) != 5)
		die("read the fifo");
	return NULL;
}

static void race(const char *fifo)
{
	int fd = open(fifo, O_RDWR), w;
	pthread_t t;

	if (fd < 0)
		die("open the fifo");
	if (pthread_create(&t, NULL, race_reader, &fd))
		die("start the reader");
	usleep(200000); /* the reader is in read(2), holding its reference */
	close(fd);
	w = open(fifo, O_WRONLY | O_NONBLOCK);
	if (w < 0 || write(w, "12345", 5) != 5)
		die("write the fifo");
	pthread_join(t, NULL);
	close(w);
	printf("pid=%d\n", getpid());
}

/* int $0x80 from this 64-bit program: an i386 system call, with the i386
 * numbers and registers; its pointers must be below 4 GiB (this static,
 * non-PIE program's data is). */
static long int80(long nr, long a, long b, long c)
{
	long ret;

	asm volatile("int $0x80"
		     : "=a"(ret)
		     : "a"(nr), "b"(a), "c"(b), "d"(c)
		     : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

static char int80_path[4096], int80_buf[4096];

/* open (5), read (3) and close (6) of the i386 table, from a 64-bit task. */
static void int80_cat(const char *path)
{
	long fd, n, total = 0;

	if ((uintptr_t)int80_buf > UINT32_MAX) {
		fprintf(stderr, "workload: int80: data above 4 GiB\n");
		exit(1);
	}
	snprintf(int80_path, sizeof(int80_path), "%s", path);
	fd = int80(5, (long)int80_path, O_RDONLY, 0);
	if (fd < 0) {
		errno = -fd;
		die("open by int 0x80");
	}
	while ((n = int80(3, fd, (long)int80_buf, sizeof(int80_buf))) > 0)
		total += n;
	int80(6, fd, 0, 0);
	printf("pid=%d bytes=%ld\n", getpid(), total);
}

/* Wait up to 30 s for flag to exist. */
static void wait_flag(const char *flag)
{
	for (int i = 0; access(flag, F_OK) && i < 3000; i++)
		usleep(10000);
}

/* Open path now, read it once flag exists: a description older than
 * custosd.  Prints "fd=N" as soon as it is open. */
static void openhold(const char *flag, const char *path)
{
	int fd = open_or_die(path);

	printf("fd=%d\n", fd);
	fflush(stdout);
	wait_flag(flag);
	printf("pid=%d bytes=%zu\n", getpid(), read_all(fd));
}

/* Take descriptor fd of process pid (pidfd_getfd) and read through it. */
static void getfd(const char *pid, const char *fd)
{
	int pidfd = syscall(SYS_pidfd_open, atoi(pid), 0);
	int mine = pidfd < 0 ? -1 : syscall(SYS_pidfd_getfd, pidfd, atoi(fd), 0);

	if (mine < 0)
		die("pidfd_getfd");
	printf("pid=%d bytes=%zu\n", getpid(), read_all(mine));
}

/* A fanotify listener on dir: it gets a descriptor of each file opened
 * there (the kernel opens it for the listener) and reads it whole; n
 * events, then "pid=N bytes=M" with the total.  "ready" once marked. */
static void listen_dir(const char *dir, int n)
{
	char events[4096];
	size_t total = 0;
	int fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY | O_LARGEFILE);

	if (fan < 0 ||
	    fanotify_mark(fan, FAN_MARK_ADD, FAN_OPEN | FAN_EVENT_ON_CHILD, AT_FDCWD, dir))
		die("watch with fanotify");
	printf("ready\n");
	fflush(stdout);
	while (n > 0) {
		ssize_t len = read(fan, events, sizeof(events));
		struct fanotify_event_metadata *m = (void *)events;

		if (len <= 0)
			die("read fanotify events");
		for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
			if (m->fd < 0)
				continue;
			total += read_all(m->fd);
			close(m->fd);
			n--;
		}
	}
	printf("pid=%d bytes=%zu\n", getpid(), total);
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "setup"))
		setup(argv[2], argv[3]);
	else if (argc == 4 && !strcmp(argv[1], "access"))
		access_scenario(argv[2], argv[3]);
	else if (argc == 3 && !strcmp(argv[1], "cat"))
		cat(argv[2]);
	else if (argc == 4 && !strcmp(argv[1], "via"))
		read_via(argv[2], argv[3]);
	else if (argc == 4 && !strcmp(argv[1], "try")) {
		int dir = strcmp(argv[2], ".") ? open(argv[2], O_RDONLY | O_DIRECTORY) : AT_FDCWD;
		int fd = openat(dir, argv[3], O_RDONLY);

		printf("pid=%d result=%d\n", getpid(), fd < 0 ? -errno : 0);
	} else if (argc == 4 && !strcmp(argv[1], "chroot")) {
		if (chroot(argv[2]) || chdir("/"))
			die("chroot");
		cat(argv[3]);
	} else if (argc == 4 && !strcmp(argv[1], "waitcat")) {
		wait_flag(argv[2]);
		cat(argv[3]);
	} else if (argc == 3 && !strcmp(argv[1], "int80"))
		int80_cat(argv[2]);
	else if (argc == 4 && !strcmp(argv[1], "openhold"))
		openhold(argv[2], argv[3]);
	else if (argc == 5 && !strcmp(argv[1], "deep")) {
		/* Down N new directories below DIR, FILE moved there, read. */
		long n = atol(argv[3]);

		if (chdir(argv[2]))
			die(argv[2]);
		for (long i = 0; i < n; i++)
			if (mkdir("z", 0755) || chdir("z"))
				die("make a deep directory");
		if (rename(argv[4], "f"))
			die("move the file down");
		cat("f");
	} else if (argc == 5 && !strcmp(argv[1], "hold")) {
		/* N descriptions of PATH held open until FLAG exists. */
		long n = atol(argv[2]);

		for (long i = 0; i < n; i++)
			open_or_die(argv[3]);
		printf("ready\n");
		fflush(stdout);
		wait_flag(argv[4]);
	} else if (argc == 4 && !strcmp(argv[1], "link")) {
		if (link(argv[2], argv[3]))
			die("link");
		printf("pid=%d\n", getpid());
	} else if (argc == 4 && !strcmp(argv[1], "rename")) {
		if (rename(argv[2], argv[3]))
			die("rename");
		printf("pid=%d\n", getpid());
	} else if (argc == 4 && !strcmp(argv[1], "uring_rename")) {
		uring_rename(argv[2], argv[3]);
		printf("pid=%d\n", getpid());
	} else if (argc == 4 && !strcmp(argv[1], "getfd"))
		getfd(argv[2], argv[3]);
	else if (argc == 4 && !strcmp(argv[1], "fanotify")) {
		listen_dir(argv[2], atoi(argv[3]));
	} else if (argc == 5 && !strcmp(argv[1], "as"))
		as_user(argv[2], argv[3], argv[4]);
	else if (argc == 3 && !strcmp(argv[1], "uring_try"))
		uring_try(argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "race"))
		race(argv[2]);
	else if (argc == 4 && !strcmp(argv[1], "burst"))
		burst(argv[2], atol(argv[3]));
	else if (argc == 4 && !strcmp(argv[1], "steady"))
		steady(argv[2], argv[3]);
	else if (argc == 3 && !strcmp(argv[1], "steal"))
		steal(argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "peek"))
		peek(argv[2]);
	else {
		fprintf(stderr,
			"usage: workload setup|access TREE OUT | cat PATH | as LOGINUID UID PATH |"
			" burst TREE N | steady TREE FLAG | steal PIN | peek PIN\n");
		return 2;
	}
	return 0;
}
