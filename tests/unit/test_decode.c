// SPDX-License-Identifier: BSD-2-Clause
/* decode.c: ring records into ledger records, and the ones that do not parse. */
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "decode.h"
#include "loader.h"
#include "opens.h"
#include "proctab.h"
#include "test.h"

static struct watch watch[1] = { { .dir = "/srv/alpha", .label = "alpha", .dataset = 1 } };

static void decoder_init(struct decoder *d)
{
	memset(d, 0, sizeof(*d));
	d->watch = watch;
	d->n_watch = 1;
	d->procs = proctab__new();
	d->opens = opens__new(64);
}

static void decoder_free(struct decoder *d)
{
	proctab__free(d->procs);
	opens__free(d->opens);
}

/* An open of PATH by this process, as the kernel sends it; returns its length. */
static size_t open_event(struct custos_open_event *e, const char *path, uint32_t kdev)
{
	size_t n = strlen(path), len = offsetof(struct custos_open_event, path) + n;

	memset(e, 0, sizeof(*e));
	e->hdr = (struct custos_event_hdr){ .type = CUSTOS_EV_OPEN, .size = (uint16_t)len };
	e->task = (struct custos_task_ids){ .pid = (uint32_t)getpid(), .uid = 1001, .euid = 0 };
	memcpy(e->task.comm, "cat", 4);
	e->file = (struct custos_file_ref){
		.ino = 42, .dev = kdev, .dataset = 1, .path_len = (uint16_t)n
	};
	e->result = 3;
	memcpy(e->path, path, n);
	return len;
}

/* len bytes of data must make no record, and count one malformed. */
static bool rejected(const void *data, size_t len)
{
	struct decoder d;
	struct record r;
	int made;

	decoder_init(&d);
	made = decode__event(&d, data, len, &r);
	decoder_free(&d);
	return made == 0 && d.malformed == 1;
}

TEST(open_becomes_access)
{
	static struct custos_open_event e;
	size_t len = open_event(&e, "/srv/alpha/a.csv", 8 << 20 | 3);
	struct decoder d;
	struct record r;

	decoder_init(&d);
	d.clock_off = 1000;
	e.hdr.ktime_ns = 5;
	ASSERT_EQ(decode__event(&d, &e, len, &r), 1);
	ASSERT_EQ(r.type, REC_FILE_ACCESS);
	ASSERT_EQ(r.access.op, OP_OPEN);
	ASSERT_EQ(r.access.path.len, 16);
	ASSERT_TRUE(!memcmp(r.access.path.p, "/srv/alpha/a.csv", 16));
	ASSERT_EQ(r.access.dataset.len, 5);
	ASSERT_TRUE(!memcmp(r.access.dataset.p, "alpha", 5));
	/* The kernel's dev_t (MINORBITS 20) in stat(2)'s form. */
	ASSERT_EQ(r.access.dev, makedev(8, 3));
	ASSERT_EQ(r.access.uid, 1001);
	ASSERT_EQ(r.access.result, 3);
	ASSERT_EQ(r.access.event_ns, 1005);
	ASSERT_EQ(r.access.comm.len, 3);
	ASSERT_EQ(d.malformed, 0);
	decoder_free(&d);
	return true;
}

/* A read session has no path of its own: its open's, from the cache. */
TEST(session_takes_its_opens_path)
{
	static struct custos_open_event e;
	static struct custos_read_event s;
	size_t len = open_event(&e, "/srv/alpha/b.csv", 8 << 20 | 3);
	struct decoder d;
	struct record r;

	decoder_init(&d);
	ASSERT_EQ(decode__event(&d, &e, len, &r), 1);
	memset(&s, 0, sizeof(s));
	s.hdr = (struct custos_event_hdr){ .type = CUSTOS_EV_READ_SESSION,
					   .size = offsetof(struct custos_read_event, path) };
	s.task = e.task;
	s.file = e.file;
	s.file.path_len = 0;
	s.file.path_flags = CUSTOS_PATH_OF_OPEN;
	s.bytes = 4096;
	s.reads = 2;
	ASSERT_EQ(decode__event(&d, &s, s.hdr.size, &r), 1);
	ASSERT_EQ(r.access.op, OP_READ);
	ASSERT_EQ(r.access.bytes, 4096);
	ASSERT_EQ(r.access.reads, 2);
	ASSERT_EQ(r.access.path.len, 16);
	ASSERT_TRUE(!memcmp(r.access.path.p, "/srv/alpha/b.csv", 16));
	ASSERT_EQ(r.access.path_flags & CUSTOS_PATH_OF_OPEN, 0);
	decoder_free(&d);
	return true;
}

TEST(process_events_make_no_record)
{
	struct custos_fork_event f = { .hdr = { .type = CUSTOS_EV_FORK, .size = sizeof(f) },
				       .parent_pid = 1,
				       .child_pid = 2 };
	struct decoder d;
	struct record r;

	decoder_init(&d);
	ASSERT_EQ(decode__event(&d, &f, sizeof(f), &r), 0);
	ASSERT_EQ(d.malformed, 0);
	decoder_free(&d);
	return true;
}

TEST(short_header)
{
	struct custos_event_hdr h = { .type = CUSTOS_EV_OPEN, .size = 4 };

	return rejected(&h, 4) && rejected(&h, 0);
}

TEST(size_disagrees_with_length)
{
	static struct custos_open_event e;
	size_t len = open_event(&e, "/srv/alpha/a", 0);

	return rejected(&e, len - 1) && rejected(&e, len + 1);
}

TEST(unknown_type)
{
	struct custos_event_hdr h = { .type = 0x7fff, .size = sizeof(h) };

	return rejected(&h, sizeof(h));
}

/* The path must end the record: a declared length past it, or short of it. */
TEST(path_length_lies)
{
	static struct custos_open_event e;
	size_t len = open_event(&e, "/srv/alpha/a", 0);

	e.file.path_len = 4000;
	if (!rejected(&e, len))
		return false;
	e.file.path_len = 2;
	return rejected(&e, len);
}

TEST(read_session_path_length_lies)
{
	static struct custos_read_event s;
	size_t len = offsetof(struct custos_read_event, path) + 8;

	memset(&s, 0, sizeof(s));
	s.hdr = (struct custos_event_hdr){ .type = CUSTOS_EV_READ_SESSION, .size = (uint16_t)len };
	s.file.path_len = 9;
	return rejected(&s, len);
}

TEST(link_lengths_lie)
{
	static struct custos_link_event l;
	size_t len = offsetof(struct custos_link_event, path) + 10;

	memset(&l, 0, sizeof(l));
	l.hdr = (struct custos_event_hdr){ .type = CUSTOS_EV_LINK, .size = (uint16_t)len };
	l.file.path_len = 5;
	l.target_len = 6;
	return rejected(&l, len);
}

TEST(exec_args_too_long)
{
	static struct custos_exec_event x;
	size_t len = offsetof(struct custos_exec_event, path);

	memset(&x, 0, sizeof(x));
	x.hdr = (struct custos_event_hdr){ .type = CUSTOS_EV_EXEC, .size = (uint16_t)len };
	x.args_len = CUSTOS_ARGS_MAX + 1;
	return rejected(&x, len);
}

TEST(fork_and_exit_of_another_size)
{
	static struct custos_fork_event f;
	static struct custos_exit_event x;

	f.hdr = (struct custos_event_hdr){ .type = CUSTOS_EV_FORK, .size = sizeof(f) - 1 };
	x.hdr = (struct custos_event_hdr){ .type = CUSTOS_EV_EXIT, .size = sizeof(x) + 1 };
	return rejected(&f, sizeof(f) - 1) && rejected(&x, sizeof(x) + 1);
}

RUN_TESTS(T(open_becomes_access), T(session_takes_its_opens_path), T(process_events_make_no_record),
	  T(short_header), T(size_disagrees_with_length), T(unknown_type), T(path_length_lies),
	  T(read_session_path_length_lies), T(link_lengths_lie), T(exec_args_too_long),
	  T(fork_and_exit_of_another_size))
