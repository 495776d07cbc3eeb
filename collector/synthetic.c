// SPDX-License-Identifier: BSD-2-Clause
/* custosd --synthetic's ring records (synthetic.h). */
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "synthetic.h"
#include "util.h"

#define FILES 10000 /* distinct files, in 100 directories */

void synthetic__init(struct synthetic *s, const struct watch *w, uint64_t start_ns)
{
	memset(s, 0, sizeof(*s));
	s->task = (struct custos_task_ids){ .pid = (uint32_t)getpid(),
					    .tid = (uint32_t)getpid(),
					    .ppid = (uint32_t)getppid(),
					    .uid = getuid(),
					    .euid = geteuid(),
					    .loginuid = UINT32_MAX,
					    .sessionid = UINT32_MAX,
					    .start_ns = start_ns };
	memcpy(s->task.comm, "synthetic", 10);
	s->dir = w->real;
	/* The kernel's dev_t (MINORBITS 20), as its events carry it. */
	s->kdev = major(w->dev) << 20 | minor(w->dev);
}

const void *synthetic__event(struct synthetic *s, uint64_t i, size_t *len)
{
	int read = i % 2;
	struct custos_file_ref *f = read ? &s->read.file : &s->open.file;
	struct custos_event_hdr *h = read ? &s->read.hdr : &s->open.hdr;
	size_t off = read ? offsetof(struct custos_read_event, path)
			  : offsetof(struct custos_open_event, path);
	/* As the kernel sends them: the open has the path, its session does not. */
	int n = read ? 0
		     : snprintf(s->open.path, CUSTOS_PATH_MAX, "%s/d%02u/f%04u", s->dir,
				(unsigned)(i / 2 % 100), (unsigned)(i / 2 % FILES));

	*f = (struct custos_file_ref){ .ino = 1000 + i / 2 % FILES,
				       .dev = s->kdev,
				       .dataset = 1,
				       .path_flags = read ? CUSTOS_PATH_OF_OPEN : 0,
				       .path_len = (uint16_t)n };
	*h = (struct custos_event_hdr){ .type = read ? CUSTOS_EV_READ_SESSION : CUSTOS_EV_OPEN,
					.size = (uint16_t)(off + n),
					.seq = i,
					.ktime_ns = (uint64_t)util__boottime_ns() };
	if (read) {
		s->read.task = s->task;
		s->read.bytes = 4096;
		s->read.reads = 1;
		s->read.first_ns = s->read.last_ns = h->ktime_ns;
		s->read.read_paths = CUSTOS_READ_READ;
		s->read.max_offset = 4096;
	} else {
		s->open.task = s->task;
		s->open.result = 3;
	}
	*len = off + n;
	return h;
}
