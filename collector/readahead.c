// SPDX-License-Identifier: BSD-2-Clause
/* A replay's reader thread, ahead of its checks (readahead.h). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "readahead.h"

/*
 * Reading and hashing run on two threads: rebuilding a record from SQLite
 * costs about as much as hashing, chaining and checking it, and the replay
 * is the auditor's wait.  A single-producer, single-consumer ring carries
 * each record's struct and, but for a database's access records, its
 * canonical bytes, from which the record is decoded again, so that whatever
 * it points to lives in the slot (custos verify --follow hands every field
 * on).  A database's access records, nearly all of a log, point into its
 * dictionaries, which outlive the replay, and are encoded by the consumer:
 * the reading thread was the slower one, and the encoding a fifth of its
 * work.
 */
#define PIPE_SLOTS  4096
#define SLOT_INLINE 512

struct slot {
	struct record r;
	int rc;
	size_t len;
	uint8_t *bytes; /* inline, or big when larger; NULL: to be encoded from r */
	uint8_t *big;
	size_t big_cap;
	uint8_t inline_buf[SLOT_INLINE];
};

struct readahead {
	readahead_next_fn next;
	void *src;
	struct slot *slots;
	uint64_t head; /* records produced (written by the producer) */
	uint64_t tail; /* records consumed (written by the consumer) */
	int stop;
	pthread_t producer;
};

static int slot_fill(struct slot *s, const uint8_t *bytes, size_t len)
{
	if (!bytes) {
		s->bytes = NULL;
		s->len = 0;
		return 0;
	}
	if (len > SLOT_INLINE) {
		if (s->big_cap < len) {
			uint8_t *p = realloc(s->big, len);

			if (!p)
				return -ENOMEM;
			s->big = p;
			s->big_cap = len;
		}
		s->bytes = s->big;
	} else {
		s->bytes = s->inline_buf;
	}
	memcpy(s->bytes, bytes, len);
	s->len = len;
	/* r points into the source's buffer, which its next record overwrites:
	 * point it at the copy. */
	return record__decode(&s->r, s->bytes, len);
}

/* Wait a little on the CPU before giving it up: the other side is usually
 * a few records away, and a sched_yield per record cost a quarter of the
 * replay in system time.  A side that keeps waiting (a consumer that hands
 * each record on to a database) sleeps instead, so as not to take a core
 * from the work it waits for. */
static void pipe_wait(int *spins)
{
	static const struct timespec nap = { 0, 100000 };

	if (++*spins < 256)
		__builtin_ia32_pause();
	else if (*spins < 1024)
		sched_yield();
	else
		nanosleep(&nap, NULL);
}

/* Slots are published in runs, so the two threads share the head's cache
 * line once per run, not once per record. */
#define PIPE_RUN 64

static void *produce(void *arg)
{
	struct readahead *p = arg;
	const uint8_t *bytes;
	uint64_t head = p->head;
	size_t len;
	int rc;

	do {
		struct slot *s;
		int spins = 0;

		while (head - __atomic_load_n(&p->tail, __ATOMIC_ACQUIRE) == PIPE_SLOTS) {
			__atomic_store_n(&p->head, head, __ATOMIC_RELEASE);
			if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
				return NULL;
			pipe_wait(&spins);
		}
		s = &p->slots[head % PIPE_SLOTS];
		rc = p->next(p->src, &s->r, &bytes, &len);
		if (rc == 1 && slot_fill(s, bytes, len))
			rc = -EBADMSG;
		s->rc = rc;
		head++;
		if (rc != 1 || head % PIPE_RUN == 0)
			__atomic_store_n(&p->head, head, __ATOMIC_RELEASE);
	} while (rc == 1 && !__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE));
	__atomic_store_n(&p->head, head, __ATOMIC_RELEASE);
	return NULL;
}

struct readahead *readahead__start(readahead_next_fn next, void *src)
{
	struct readahead *p = calloc(1, sizeof(*p));
	int err = ENOMEM;

	if (!p)
		goto fail;
	p->next = next;
	p->src = src;
	p->slots = calloc(PIPE_SLOTS, sizeof(*p->slots));
	if (!p->slots)
		goto fail;
	err = pthread_create(&p->producer, NULL, produce, p);
	if (!err)
		return p;
fail:
	if (p)
		free(p->slots);
	free(p);
	errno = err;
	return NULL;
}

int readahead__get(struct readahead *p, const struct record **r, const uint8_t **bytes, size_t *len)
{
	struct slot *s;
	int spins = 0;

	while (__atomic_load_n(&p->head, __ATOMIC_ACQUIRE) == p->tail)
		pipe_wait(&spins);
	s = &p->slots[p->tail % PIPE_SLOTS];
	*r = &s->r;
	*bytes = s->bytes;
	*len = s->len;
	return s->rc;
}

void readahead__done(struct readahead *p)
{
	__atomic_store_n(&p->tail, p->tail + 1, __ATOMIC_RELEASE);
}

void readahead__stop(struct readahead *p)
{
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
	readahead__done(p); /* frees a slot, should the producer wait for one */
	pthread_join(p->producer, NULL);
	for (size_t i = 0; i < PIPE_SLOTS; i++)
		free(p->slots[i].big);
	free(p->slots);
	free(p);
}
