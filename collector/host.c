// SPDX-License-Identifier: BSD-2-Clause
/* What custosd reads of its host and of itself, and the host's lock (host.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "host.h"
#include "log.h"

#define LOCK_DIR  "/run/custos"
#define LOCK_FILE LOCK_DIR "/custosd.lock"

int host__boot_id(uint8_t out[16])
{
	char text[64];
	int n = 0, fd;
	ssize_t len;

	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (len <= 0)
		return -EIO;
	text[len] = '\0';
	for (char *p = text; *p && n < 32; p++) {
		unsigned int x;

		if (*p == '-' || *p == '\n')
			continue;
		if (sscanf(p, "%1x", &x) != 1)
			return -EINVAL;
		out[n / 2] = (out[n / 2] << 4) | x;
		n++;
	}
	return n == 32 ? 0 : -EINVAL;
}

/* The process's start in clock ticks since boot, as /proc gives it: the
 * programs tell custosd's own I/O by it (with the pid). */
uint64_t host__start_ticks(void)
{
	char buf[1024], *p;
	unsigned long long ticks = 0;
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* Field 22, starttime; the 20 before it follow the comm. */
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
			 "%*d %*d %llu",
			 &ticks) != 1)
		return 0;
	return ticks;
}

/* The same in ns, so that the process table knows the synthetic events'
 * process as it knows any other. */
uint64_t host__start_ns(void)
{
	return host__start_ticks() * (1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK));
}

/* SHA-256 of the running binary: GENESIS names the software that wrote it. */
int host__exe_hash(uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t buf[65536];
	ssize_t n;
	int fd, err = -EIO;

	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (EVP_DigestUpdate(ctx, buf, n) != 1)
			goto out;
	if (n < 0)
		err = -errno;
	else if (EVP_DigestFinal_ex(ctx, out, NULL) == 1)
		err = 0;
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(ctx);
	return err;
}

/* Keys and the log must not leak through a core dump. */
void host__no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) || setrlimit(RLIMIT_CORE, &rl))
		log_warn("failed to disable core dumps");
}

/*
 * One custosd per host: the programs, their pins and the fail-closed heir
 * are the host's, and a second one would replace the first one's (and, on
 * the same ledger, keep a second chain head on the same keys).  The lock
 * is held as long as the descriptor is open: for custosd's life, however it
 * ends.  Returns the descriptor, or -1 (said).
 */
int host__lock(void)
{
	char pid[32] = "";
	int fd, n;

	if (mkdir(LOCK_DIR, 0700) && errno != EEXIST) {
		log_warn("failed to create %s", LOCK_DIR);
		return -1;
	}
	fd = open(LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_warn("failed to open %s", LOCK_FILE);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK) {
			log_warn("failed to lock %s", LOCK_FILE);
		} else {
			n = pread(fd, pid, sizeof(pid) - 1, 0);
			pid[n > 0 ? strcspn(pid, "\n") : 0] = '\0';
			log_warnx("failed to start: another custosd runs on this host (pid %s, %s)",
				  *pid ? pid : "unknown", LOCK_FILE);
		}
		close(fd);
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", getpid());
	if (ftruncate(fd, 0) || pwrite(fd, pid, n, 0) != n)
		log_warn("failed to write the pid into %s", LOCK_FILE);
	return fd;
}
