/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A ring-buffer consumer that commits before it advances: records are read
 * from a private cursor, and the kernel's consumer position moves only when
 * consumer__advance is called, after they are safely stored.  libbpf 1.1's
 * ring_buffer__consume advances after every callback, which would lose a
 * batch that was read but not yet committed (docs/reliability.md).
 */
#ifndef CUSTOS_CONSUMER_H
#define CUSTOS_CONSUMER_H

#include <stddef.h>
#include <stdint.h>

struct consumer;

/* Called for each record; a non-zero return stops the drain and is returned. */
typedef int (*consumer_fn)(void *ctx, const void *data, size_t len);

/* Map the ring (fd, size in bytes).  NULL with errno set; the reason was logged. */
struct consumer *consumer__open(int map_fd, uint32_t size);

/* Wait up to timeout_ms for a wake-up from the kernel.  Returns 0 or -errno
 * (-EINTR is normal: a signal arrived). */
int consumer__wait(struct consumer *c, int timeout_ms);

/* Hand at most max records past the private cursor to fn.  Returns the
 * number handed over, or fn's non-zero result. */
long consumer__drain(struct consumer *c, consumer_fn fn, void *ctx, long max);

/* Release everything drained so far back to the kernel.  Only from the
 * position this consumer last left: one moved by another process stays as
 * it is, for consumer__moved to report. */
void consumer__advance(struct consumer *c);

/* Where drained records end: the cursor to store with the batch that holds
 * them, so that a restart neither loses nor repeats one. */
uint64_t consumer__cursor(const struct consumer *c);

/*
 * Start from committed, a cursor stored with the last batch the ledger kept
 * (docs/reliability.md): records before it are in the ledger even when the
 * kernel's position was not moved past them (a crash between commit and
 * advance).  A cursor this ring has not reached is not its own: ignored.
 */
void consumer__resume(struct consumer *c, uint64_t committed);

/*
 * Whether another process moved the kernel's consumer position since this
 * consumer last left it (any holder of the map can: docs/reliability.md,
 * finding 8).  When it moved past what was drained, reading goes on from
 * there, and *skipped says how many records were passed over unread (as
 * far as their headers can still be walked).  Returns 1 if it moved, else 0.
 */
int consumer__moved(struct consumer *c, uint64_t *skipped);

/* Forget what was drained since the last advance (its batch was not
 * stored): the next drain hands the same records over again. */
void consumer__rewind(struct consumer *c);

/* Bytes drained but not yet advanced. */
uint64_t consumer__pending(const struct consumer *c);

void consumer__close(struct consumer *c);

#endif /* CUSTOS_CONSUMER_H */
