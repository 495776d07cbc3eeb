/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * custosd --synthetic's load: ring records made in memory as the kernel
 * makes them (an open, then its read session, in turn, by this process, of
 * files below one tree), for the benchmark of the collector alone.
 */
#ifndef CUSTOS_SYNTHETIC_H
#define CUSTOS_SYNTHETIC_H

#include <stddef.h>
#include <stdint.h>

#include "custos/abi.h"
#include "loader.h"

struct synthetic {
	struct custos_open_event open;
	struct custos_read_event read;
	struct custos_task_ids task;
	const char *dir; /* the tree's real path */
	uint32_t kdev;	 /* its file system, in the kernel's form */
};

/* The load on tree w, by this process (which started at start_ns, boot time). */
void synthetic__init(struct synthetic *s, const struct watch *w, uint64_t start_ns);

/* Event i of the load: its bytes, valid until the next call, and *len. */
const void *synthetic__event(struct synthetic *s, uint64_t i, size_t *len);

#endif /* CUSTOS_SYNTHETIC_H */
