/*
 * scheduler.h — the outgoing side of one cluster link: which frame goes next.
 *
 * Messages wait in one FIFO per local source (the caller, or the service that
 * answers a remote call).  A payload of at most `part` bytes travels as one
 * frame; a larger one as a first frame carrying the first `part` bytes, then
 * Parts of at most `part` bytes each (proto/cluster.proto).  The scheduler
 * decides the order; the owner encodes and seals each frame in ops->emit.  It
 * knows nothing of links, protobuf or the runtime, so tests drive it alone
 * (tests/cluster/scheduler_test.c).
 *
 * Invariants:
 *   - window: `inflight` counts the bytes of multi-part chunks (first frames
 *     and Parts) emitted and not yet acknowledged (sched_ack).  Such a chunk
 *     is emitted only while inflight < window, so inflight < window + part at
 *     all times: the socket never holds much more than a window of parts ahead
 *     of a small frame.  A single-frame message is never held by the window;
 *   - pending bound: `started` (sizes of multi-part messages begun and not
 *     finished) never exceeds max_pending, the bound the receiver's assembly
 *     (assembly.h) enforces on the messages it has begun;
 *   - order: a source's messages go out in the order enqueued, each one's
 *     frames in order, and a source's next message begins only after its
 *     previous one is complete, so the receiver sees per-source FIFO;
 *   - fairness: the queues with work are served round-robin, one frame per
 *     queue per turn, so a small message of one source overtakes another
 *     source's big transfer; the first queue the window blocked is served
 *     first when acks reopen it, so big transfers alternate instead of the
 *     first one taking every freed slot;
 *   - nothing is emitted before sched_open() or after an emit failed (the link
 *     broke; messages then wait for sched_free);
 *   - every message handed to sched_enqueue leaves through ops->release
 *     exactly once: done (every frame emitted) or not (dropped by sched_free).
 *
 * A single-frame message enqueued while its source has nothing waiting and
 * the link is open is emitted at once, without touching a queue (the hot path).
 */
#ifndef SKIFF_CLUSTER_SCHEDULER_H
#define SKIFF_CLUSTER_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The scheduler's part of an outgoing message; the owner embeds it in its own
 * record and fills data and size.  The other fields belong to the scheduler. */
struct sched_msg {
	struct sched_msg *next;
	const uint8_t *data; /* payload, borrowed until release */
	size_t size;
	size_t sent; /* payload bytes emitted */
	uint32_t id; /* multi-part id, non-zero once its first frame is out */
};

struct sched_ops {
	/* Emit the frame carrying data[off, off+len): off == 0 is the first frame
	 * (multi-part when m->id != 0, total m->size), off > 0 a Part, the last
	 * when off + len == m->size.  0, or -1: the link failed, the scheduler
	 * stops (m->sent is unchanged, so an unstarted message stays unstarted). */
	int (*emit)(void *ud, struct sched_msg *m, size_t off, size_t len);
	/* m leaves the scheduler: done (every frame emitted) or dropped; a dropped
	 * message with sent == 0 never had a frame out. */
	void (*release)(void *ud, struct sched_msg *m, bool done);
};

struct sched_limits {
	size_t part;        /* largest chunk in one frame, > 0 */
	size_t window;      /* inflight bound (above), > 0 */
	size_t max_pending; /* started bound (above), >= the largest message */
};

struct sched;

/* NULL when out of memory. */
struct sched *sched_new(const struct sched_limits *lim, const struct sched_ops *ops, void *ud);
/* Releases every message still queued (done = false); accepts NULL. */
void sched_free(struct sched *s);

/* The link is established: emits what waits. */
void sched_open(struct sched *s);
/* Takes m (payload set, other fields zero) for `source`; 0, or -1 when out of
 * memory (m is still the caller's, not released). */
int sched_enqueue(struct sched *s, uint32_t source, struct sched_msg *m);
/* The peer acknowledged `bytes` of chunks: emits what the window now allows.
 * -1 (nothing changed) if that is more than inflight: the peer broke the
 * protocol. */
int sched_ack(struct sched *s, uint64_t bytes);

bool sched_idle(const struct sched *s); /* nothing queued */
size_t sched_inflight(const struct sched *s);
size_t sched_started(const struct sched *s);

#endif
