// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "consumer.h"
#include "log.h"

struct consumer {
	int epfd;
	uint32_t size, mask;
	size_t page;
	uint64_t *consumer_pos; /* shared with the kernel, read-write */
	uint64_t *producer_pos; /* read-only */
	uint8_t *data;		/* the data area, mapped twice back to back */
	uint64_t cursor;	/* private: everything before it was drained */
	uint64_t stored;	/* the consumer position as this consumer last left it */
};

struct consumer *consumer__open(int map_fd, uint32_t size)
{
	struct consumer *c = calloc(1, sizeof(*c));
	struct epoll_event ev = { .events = EPOLLIN };
	void *p;
	int err = 0;

	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->epfd = -1;
	c->size = size;
	c->mask = size - 1;
	c->page = sysconf(_SC_PAGESIZE);
	/* Layout as the kernel exposes it: the consumer page, then the
	 * producer page followed by the data area mapped twice so a record
	 * that wraps around reads as one piece. */
	p = mmap(NULL, c->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		log_warn("failed to map the ring consumer page");
		goto fail;
	}
	c->consumer_pos = p;
	p = mmap(NULL, c->page + 2 * (size_t)size, PROT_READ, MAP_SHARED, map_fd, c->page);
	if (p == MAP_FAILED) {
		err = -errno;
		log_warn("failed to map the ring data");
		goto fail;
	}
	c->producer_pos = p;
	c->data = (uint8_t *)p + c->page;
	c->cursor = __atomic_load_n(c->consumer_pos, __ATOMIC_ACQUIRE);
	c->stored = c->cursor;
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epfd < 0 || epoll_ctl(c->epfd, EPOLL_CTL_ADD, map_fd, &ev)) {
		err = -errno;
		log_warn("failed to watch the ring buffer");
		goto fail;
	}
	return c;
fail:
	consumer__close(c);
	errno = -err;
	return NULL;
}

int consumer__wait(struct consumer *c, int timeout_ms)
{
	struct epoll_event ev;

	if (epoll_wait(c->epfd, &ev, 1, timeout_ms) < 0)
		return -errno;
	return 0;
}

long consumer__drain(struct consumer *c, consumer_fn fn, void *ctx, long max)
{
	uint64_t prod = __atomic_load_n(c->producer_pos, __ATOMIC_ACQUIRE);
	long n = 0;

	while (c->cursor < prod && n < max) {
		uint32_t *hdr = (uint32_t *)(c->data + (c->cursor & c->mask));
		uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		uint32_t size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);

		/* A record still being written stops the walk: the ones after
		 * it are handed over in order next time. */
		if (len & BPF_RINGBUF_BUSY_BIT)
			break;
		c->cursor += (size + BPF_RINGBUF_HDR_SZ + 7) & ~7ULL;
		if (len & BPF_RINGBUF_DISCARD_BIT)
			continue;
		int rc = fn(ctx, (uint8_t *)hdr + BPF_RINGBUF_HDR_SZ, size);

		if (rc)
			return rc;
		n++;
	}
	return n;
}

void consumer__advance(struct consumer *c)
{
	uint64_t expected = c->stored;

	/* Only from where this consumer left it: a position someone else
	 * moved meanwhile is left for consumer__moved to find. */
	if (__atomic_compare_exchange_n(c->consumer_pos, &expected, c->cursor, 0, __ATOMIC_RELEASE,
					__ATOMIC_RELAXED))
		c->stored = c->cursor;
}

void consumer__resume(struct consumer *c, uint64_t committed)
{
	uint64_t pos = __atomic_load_n(c->consumer_pos, __ATOMIC_ACQUIRE);

	/* Not a position this ring has reached: not its cursor. */
	if (committed > __atomic_load_n(c->producer_pos, __ATOMIC_ACQUIRE))
		return;
	/* Committed, but the consumer died before it released them. */
	if (pos < committed)
		__atomic_store_n(c->consumer_pos, committed, __ATOMIC_RELEASE);
	/* Past it: someone else moved it, which consumer__moved reports. */
	c->cursor = c->stored = committed;
}

/* The records from one position to another, walked by their headers (a
 * header the producer wrote over since ends the walk). */
static uint64_t records_between(const struct consumer *c, uint64_t from, uint64_t to)
{
	uint64_t n = 0;

	while (from < to) {
		uint32_t len =
			__atomic_load_n((uint32_t *)(c->data + (from & c->mask)), __ATOMIC_ACQUIRE);
		uint32_t size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);

		if ((len & BPF_RINGBUF_BUSY_BIT) || size > c->size)
			break;
		if (!(len & BPF_RINGBUF_DISCARD_BIT))
			n++;
		from += (size + BPF_RINGBUF_HDR_SZ + 7) & ~7ULL;
	}
	return n;
}

int consumer__moved(struct consumer *c, uint64_t *skipped)
{
	uint64_t pos = __atomic_load_n(c->consumer_pos, __ATOMIC_ACQUIRE);

	*skipped = 0;
	if (pos == c->stored)
		return 0;
	/* Ahead of what was read: the space is the producer's again, and
	 * what it held is lost to this consumer. */
	if (pos > c->cursor) {
		*skipped = records_between(c, c->cursor, pos);
		c->cursor = pos;
	}
	c->stored = pos;
	return 1;
}

uint64_t consumer__cursor(const struct consumer *c)
{
	return c->cursor;
}

void consumer__rewind(struct consumer *c)
{
	c->cursor = c->stored;
}

uint64_t consumer__pending(const struct consumer *c)
{
	return c->cursor - c->stored;
}

void consumer__close(struct consumer *c)
{
	if (!c)
		return;
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->producer_pos)
		munmap(c->producer_pos, c->page + 2 * (size_t)c->size);
	if (c->consumer_pos)
		munmap(c->consumer_pos, c->page);
	free(c);
}
