// SPDX-License-Identifier: BSD-2-Clause
/*
 * floor PIDFILE: attach make bench's empty programs (floor.bpf.c), write
 * PIDFILE once they are attached, and keep them until SIGTERM or SIGINT.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

int main(int argc, char **argv)
{
	struct floor_bpf *skel = NULL;
	FILE *f;
	int err = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: floor PIDFILE\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	skel = floor_bpf__open_and_load();
	if (!skel || floor_bpf__attach(skel)) {
		fprintf(stderr, "floor: failed to attach the empty programs: %s\n",
			strerror(errno));
		goto cleanup;
	}
	f = fopen(argv[1], "w");
	if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f)) {
		fprintf(stderr, "floor: failed to write %s: %s\n", argv[1], strerror(errno));
		goto cleanup;
	}
	while (!stop)
		pause();
	err = 0;
cleanup:
	floor_bpf__destroy(skel);
	return err;
}
