// SPDX-License-Identifier: BSD-2-Clause
/*
 * floor [--emit UID | --record UID | --lookup UID] PIDFILE: attach one of
 * make bench's floors (floor.bpf.c): the empty programs, or those that put
 * UID's opens and closes into the ring (drained here, as custosd drains it),
 * bare or with what the capture contract asks, or only look up what an
 * unprotected file's calls must; write PIDFILE once they are attached, and
 * keep them until SIGTERM or SIGINT.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static int on_record(void *ctx, void *data, size_t size)
{
	return 0;
}

int main(int argc, char **argv)
{
	struct floor_bpf *skel = NULL;
	struct ring_buffer *ring = NULL;
	int emit = argc == 4 && !strcmp(argv[1], "--emit");
	int lookup = argc == 4 && !strcmp(argv[1], "--lookup");
	int record = (argc == 4 && !strcmp(argv[1], "--record")) || lookup, err = 1;
	FILE *f;

	if (argc != 2 && !emit && !record) {
		fprintf(stderr,
			"usage: floor [--emit UID | --record UID | --lookup UID] PIDFILE\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	skel = floor_bpf__open();
	if (!skel)
		goto fail;
	bpf_program__set_autoload(skel->progs.floor_exit, !emit && !record);
	bpf_program__set_autoload(skel->progs.floor_close, !emit && !record);
	bpf_program__set_autoload(skel->progs.floor_emit_exit, emit);
	bpf_program__set_autoload(skel->progs.floor_emit_close, emit);
	bpf_program__set_autoload(skel->progs.floor_record_exit, record);
	bpf_program__set_autoload(skel->progs.floor_record_close, record);
	if (emit || record)
		skel->rodata->emit_uid = (__u32)strtoul(argv[2], NULL, 10);
	skel->rodata->record_opens = !lookup;
	if (floor_bpf__load(skel) || floor_bpf__attach(skel))
		goto fail;
	if ((emit || record) &&
	    !(ring = ring_buffer__new(bpf_map__fd(skel->maps.events), on_record, NULL, NULL)))
		goto fail;
	f = fopen(argv[argc - 1], "w");
	if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f)) {
		fprintf(stderr, "floor: failed to write %s: %s\n", argv[argc - 1], strerror(errno));
		goto cleanup;
	}
	/* No wake-ups: drained every 10 ms, more often than custosd's poll timer. */
	while (!stop) {
		if (ring)
			ring_buffer__consume(ring);
		usleep(10000);
	}
	err = 0;
	goto cleanup;
fail:
	fprintf(stderr, "floor: failed to attach the floor programs: %s\n", strerror(errno));
cleanup:
	ring_buffer__free(ring);
	floor_bpf__destroy(skel);
	return err;
}
