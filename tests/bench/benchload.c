// SPDX-License-Identifier: BSD-2-Clause
/*
 * The benchmark's workload: the same syscalls whatever watches them.
 *
 *   benchload setup DIR                  100 dirs x 100 files of 4 KiB, and big.dat (1 GiB)
 *   benchload setup-small DIR            the small files only
 *   benchload setup-tree DIR N           N empty files in 1,000 directories
 *   benchload smallfiles DIR PASSES      open + read 4 KiB + close of each small file
 *   benchload bigread FILE               the file in sequential 4 KiB reads
 *   benchload syscalls N                 N getppid(): no probe of custos is on it
 *   benchload rate DIR RATE SECONDS      opens (and closes) of the small files at RATE/s
 *
 * Each run prints one line: "ops=N ns_per_op=X syscalls_per_op=S" (rate adds
 * "achieved=R/s").  Timing is CLOCK_MONOTONIC around the loop alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define DIRS	 100
#define FILES	 100
#define SMALL	 4096
#define BIG	 (1ULL << 30)
#define PATH_LEN 4096

static void die(const char *what)
{
	fprintf(stderr, "benchload: failed to %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void small_path(char *out, const char *dir, int i)
{
	snprintf(out, PATH_LEN, "%s/%02d/%02d.dat", dir, i / FILES, i % FILES);
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n <= 0)
			die("write");
		buf += n;
		len -= (size_t)n;
	}
}

static char buf[1 << 20];

static void setup_small(const char *dir)
{
	char path[PATH_LEN];
	int fd;

	memset(buf, 'x', sizeof(buf));
	for (int d = 0; d < DIRS; d++) {
		snprintf(path, sizeof(path), "%s/%02d", dir, d);
		if (mkdir(path, 0755) && errno != EEXIST)
			die("mkdir");
	}
	for (int i = 0; i < DIRS * FILES; i++) {
		small_path(path, dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			die("create a small file");
		write_all(fd, buf, SMALL);
		close(fd);
	}
}

static void setup(const char *dir)
{
	char path[PATH_LEN];
	int fd;

	setup_small(dir);
	snprintf(path, sizeof(path), "%s/big.dat", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("create big.dat");
	for (uint64_t done = 0; done < BIG; done += sizeof(buf))
		write_all(fd, buf, sizeof(buf));
	close(fd);
}

static void setup_tree(const char *dir, long n)
{
	long per_dir = (n + 999) / 1000;
	char path[PATH_LEN];
	int fd;

	for (long i = 0; i < n; i++) {
		if (i % per_dir == 0) {
			snprintf(path, sizeof(path), "%s/%04ld", dir, i / per_dir);
			if (mkdir(path, 0755) && errno != EEXIST)
				die("mkdir");
		}
		snprintf(path, sizeof(path), "%s/%04ld/%07ld", dir, i / per_dir, i);
		fd = open(path, O_WRONLY | O_CREAT, 0644);
		if (fd < 0)
			die("create a file of the tree");
		close(fd);
	}
}

/* The paths are made before the clock starts: only the syscalls are timed. */
static char (*all_paths(const char *dir))[PATH_LEN]
{
	char(*paths)[PATH_LEN] = malloc((size_t)DIRS * FILES * PATH_LEN);

	if (!paths)
		die("allocate paths");
	for (int i = 0; i < DIRS * FILES; i++)
		small_path(paths[i], dir, i);
	return paths;
}

static void smallfiles(const char *dir, long passes)
{
	char(*paths)[PATH_LEN] = all_paths(dir);
	char buf[SMALL];
	uint64_t t0, ops = 0;

	t0 = now_ns();
	for (long p = 0; p < passes; p++) {
		for (int i = 0; i < DIRS * FILES; i++) {
			int fd = open(paths[i], O_RDONLY);

			if (fd < 0)
				die("open");
			if (read(fd, buf, sizeof(buf)) != SMALL)
				die("read");
			close(fd);
			ops++;
		}
	}
	printf("ops=%llu ns_per_op=%.1f syscalls_per_op=3\n", (unsigned long long)ops,
	       (double)(now_ns() - t0) / (double)ops);
	free(paths);
}

static void bigread(const char *file)
{
	char buf[4096];
	uint64_t t0, ops = 0;
	ssize_t n;
	int fd = open(file, O_RDONLY);

	if (fd < 0)
		die("open");
	t0 = now_ns();
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		ops++;
	if (n < 0)
		die("read");
	printf("ops=%llu ns_per_op=%.1f syscalls_per_op=1\n", (unsigned long long)ops,
	       (double)(now_ns() - t0) / (double)ops);
	close(fd);
}

static void syscalls(long n)
{
	uint64_t t0 = now_ns();

	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	printf("ops=%ld ns_per_op=%.1f syscalls_per_op=1\n", n,
	       (double)(now_ns() - t0) / (double)n);
}

/* Opens paced to rate per second: a deadline per batch of 100, so the
 * clock is read 1% as often as files are opened. */
static void rate(const char *dir, long per_s, long seconds)
{
	char(*paths)[PATH_LEN] = all_paths(dir);
	uint64_t t0 = now_ns(), ops = 0, total = (uint64_t)per_s * (uint64_t)seconds;

	while (ops < total) {
		uint64_t due = t0 + ops * 1000000000ULL / (uint64_t)per_s;

		while (now_ns() < due)
			;
		for (int k = 0; k < 100 && ops < total; k++, ops++) {
			int fd = open(paths[ops % (DIRS * FILES)], O_RDONLY);

			if (fd < 0)
				die("open");
			close(fd);
		}
	}
	printf("ops=%llu ns_per_op=%.1f syscalls_per_op=2 achieved=%.0f/s\n",
	       (unsigned long long)ops, (double)(now_ns() - t0) / (double)ops,
	       (double)ops / ((double)(now_ns() - t0) / 1e9));
	free(paths);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "setup"))
		setup(argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "setup-small"))
		setup_small(argv[2]);
	else if (argc == 4 && !strcmp(argv[1], "setup-tree"))
		setup_tree(argv[2], atol(argv[3]));
	else if (argc == 4 && !strcmp(argv[1], "smallfiles"))
		smallfiles(argv[2], atol(argv[3]));
	else if (argc == 3 && !strcmp(argv[1], "bigread"))
		bigread(argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "syscalls"))
		syscalls(atol(argv[2]));
	else if (argc == 5 && !strcmp(argv[1], "rate"))
		rate(argv[2], atol(argv[3]), atol(argv[4]));
	else {
		fprintf(stderr, "usage: benchload setup DIR | setup-small DIR | setup-tree DIR N |"
				" smallfiles DIR PASSES |"
				" bigread FILE |"
				" syscalls N | rate DIR RATE SECONDS\n");
		return 2;
	}
	return 0;
}
