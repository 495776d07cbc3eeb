// SPDX-License-Identifier: BSD-2-Clause
/*
 * The audited side of tests/e2e/compat.sh, built as a static i386 program
 * (build/tests/compat32) and a static x32 one (build/tests/compatx32): a
 * 32-bit program reads a protected file through one system call of its
 * ABI, made by number, so that the kernel sees exactly that call.
 *
 *   compat HOW PATH   read PATH whole; prints "pid=N bytes=M"
 *
 * HOW: open, openat, openat2 (the open; then read(2)), or the read: pread,
 * readv, preadv, preadv2, sendfile (i386: its 32-bit offset), sendfile64,
 * splice, copy (copy_file_range), aio (io_submit), mmap (i386: mmap2),
 * oldmmap (i386's first mmap, its arguments in memory).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static char buf[65536];

static void die(const char *what)
{
	fprintf(stderr, "compat: failed to %s: %s\n", what, strerror(errno));
	exit(1);
}

static long check(long r, const char *what)
{
	if (r < 0)
		die(what);
	return r;
}

static int open_how(const char *how, const char *path)
{
	struct open_how oh = { .flags = O_RDONLY };

	if (!strcmp(how, "open"))
		return check(syscall(SYS_open, path, O_RDONLY), "open");
	if (!strcmp(how, "openat2"))
		return check(syscall(SYS_openat2, AT_FDCWD, path, &oh, sizeof(oh)), "openat2");
	return check(syscall(SYS_openat, AT_FDCWD, path, O_RDONLY), "openat");
}

/* Bytes of fd read to its end with the HOW system call; size is its size. */
static long read_how(const char *how, int fd, long size)
{
	struct iovec iov[2] = { { buf, 1000 }, { buf + 1000, sizeof(buf) - 1000 } };
	long total = 0, n;
	int p[2];

	if (!strcmp(how, "pread"))
		while ((n = check(syscall(SYS_pread64, fd, buf, 4096,
#ifdef __i386__
					  (uint32_t)total, 0
#else
					  total
#endif
					  ),
				  "pread64")) > 0)
			total += n;
	else if (!strcmp(how, "readv"))
		while ((n = check(syscall(SYS_readv, fd, iov, 2), "readv")) > 0)
			total += n;
	else if (!strcmp(how, "preadv") || !strcmp(how, "preadv2"))
		while ((n = check(!strcmp(how, "preadv")
					  ? syscall(SYS_preadv, fd, iov, 2, (unsigned long)total, 0)
					  : syscall(SYS_preadv2, fd, iov, 2, (unsigned long)total,
						    0, 0),
				  how)) > 0)
			total += n;
	else if (!strcmp(how, "sendfile") || !strcmp(how, "sendfile64") || !strcmp(how, "splice") ||
		 !strcmp(how, "copy")) {
		/* copy_file_range writes a regular file, on the same file system
		 * (/tmp, as the tests' trees). */
		int out = check(!strcmp(how, "copy") ? open("/tmp/custos-compat.out",
							    O_WRONLY | O_CREAT | O_TRUNC, 0600)
						     : open("/dev/null", O_WRONLY),
				"open the output");
#ifdef __i386__
		int32_t off32 = 0;
#endif
		int64_t off64 = 0;

		if (!strcmp(how, "splice") && pipe(p))
			die("pipe");
		for (;;) {
			if (!strcmp(how, "sendfile"))
#ifdef __i386__
				n = syscall(SYS_sendfile, out, fd, &off32, 4096);
#else
				n = syscall(SYS_sendfile, out, fd, &off64, 4096);
#endif
#ifdef SYS_sendfile64
			else if (!strcmp(how, "sendfile64"))
				n = syscall(SYS_sendfile64, out, fd, &off64, 4096);
#endif
			else if (!strcmp(how, "splice")) {
				n = syscall(SYS_splice, fd, &off64, p[1], NULL, 4096, 0);
				if (n > 0 && read(p[0], buf, n) != n)
					die("read the pipe");
			} else
				n = syscall(SYS_copy_file_range, fd, &off64, out, NULL, 4096, 0);
			if (check(n, how) == 0)
				break;
			total += n;
		}
	} else if (!strcmp(how, "aio")) {
		aio_context_t ctx = 0;
		struct iocb cb, *cbs[1] = { &cb };
		struct io_event ev;

		check(syscall(SYS_io_setup, 1, &ctx), "io_setup");
		for (;;) {
			memset(&cb, 0, sizeof(cb));
			cb.aio_fildes = fd;
			cb.aio_lio_opcode = IOCB_CMD_PREAD;
			cb.aio_buf = (uintptr_t)buf;
			cb.aio_nbytes = 4096;
			cb.aio_offset = total;
			if (check(syscall(SYS_io_submit, ctx, 1, cbs), "io_submit") != 1 ||
			    check(syscall(SYS_io_getevents, ctx, 1, 1, &ev, NULL),
				  "io_getevents") != 1)
				die("aio");
			if (check(ev.res, "aio read") == 0)
				break;
			total += ev.res;
		}
	} else if (!strcmp(how, "mmap") || !strcmp(how, "oldmmap")) {
		volatile char *m;

#ifdef __i386__
		uint32_t args[6] = { 0, (uint32_t)size, PROT_READ, MAP_PRIVATE, (uint32_t)fd, 0 };

		if (!strcmp(how, "oldmmap"))
			m = (void *)syscall(SYS_mmap, args);
		else
#endif
			m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED)
			die(how);
		for (long i = 0; i < size; i++)
			total += m[i] == 'x';
	} else
		while ((n = check(syscall(SYS_read, fd, buf, sizeof(buf)), "read")) > 0)
			total += n;
	return total;
}

int main(int argc, char **argv)
{
	struct stat st;
	long total;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: compat HOW PATH\n");
		return 2;
	}
	fd = open_how(argv[1], argv[2]);
	if (fstat(fd, &st))
		die("fstat");
	total = read_how(argv[1], fd, st.st_size);
	check(syscall(SYS_close, fd), "close");
	printf("pid=%d bytes=%ld\n", getpid(), total);
	return 0;
}
