/*
 * scheduler_test.c — the cluster link's outgoing scheduler (cluster/scheduler.h)
 * alone: no link, no node.  Frames "emitted" are recorded; the test plays the
 * peer by acknowledging chunks.  Small limits (part 4, window 8) make every
 * rule visible in a few frames.
 *
 * What it proves: the hot path (a lone small message goes out at once); the
 * window invariant (a chunk is emitted only while inflight < window, so
 * inflight < window + part; small messages are never held); the pending
 * bound; per-source FIFO and contiguous chunks (a message stopped by the
 * window resumes where it stopped); round-robin fairness between big
 * transfers and small ones overtaking them; failure (an emit that fails stops
 * the scheduler; every message is released exactly once, the unstarted ones
 * with sent == 0); a bad ack is refused; and all of it again under a seeded
 * random workload.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scheduler.h"

#define PART 4
#define WINDOW 8
#define MAXLOG 100000

struct tmsg {
	struct sched_msg base; /* first: the scheduler's pointer is ours */
	uint32_t source;
	int seq; /* order enqueued within its source */
	int releases;
	bool done;
	size_t next_off; /* the next chunk must start here */
};

struct frame {
	struct tmsg *m;
	size_t off, len;
};

struct world {
	struct sched *s;
	struct sched_limits lim;
	struct frame log[MAXLOG];
	size_t nlog;
	int fail_at; /* emit number that fails; -1: none */
	int emits;
	int last_seq[16]; /* per source: seq of the last message begun */
	int finished[16]; /* per source: seq of the last message released done */
};

static struct world W;

static int emit(void *ud, struct sched_msg *sm, size_t off, size_t len)
{
	struct world *w = ud;
	struct tmsg *m = (struct tmsg *)sm;
	if (w->emits++ == w->fail_at)
		return -1;
	bool multi = sm->size > w->lim.part;
	/* window invariant: a chunk goes out only while inflight < window */
	if (multi)
		CHECKF(sched_inflight(w->s) < w->lim.window, "chunk emitted with inflight %zu",
		       sched_inflight(w->s));
	CHECK(sched_inflight(w->s) < w->lim.window + w->lim.part);
	CHECK(sched_started(w->s) <= w->lim.max_pending);
	/* chunks contiguous, within the message, at most one part */
	CHECKF(off == m->next_off, "chunk at %zu, expected %zu", off, m->next_off);
	CHECK(len <= w->lim.part && off + len <= sm->size);
	CHECK(multi ? sm->id != 0 : sm->id == 0);
	if (off == 0) {
		/* per-source FIFO: a message begins after the previous one finished */
		CHECKF(m->seq == w->finished[m->source] + 1, "source %u message %d began after %d", m->source,
		       m->seq, w->finished[m->source]);
		w->last_seq[m->source] = m->seq;
	}
	m->next_off = off + len;
	CHECK(w->nlog < MAXLOG);
	w->log[w->nlog++] = (struct frame){ m, off, len };
	return 0;
}

static void release(void *ud, struct sched_msg *sm, bool done)
{
	struct world *w = ud;
	struct tmsg *m = (struct tmsg *)sm;
	m->releases++;
	CHECK(m->releases == 1);
	m->done = done;
	if (done) {
		CHECK(m->next_off == sm->size);
		w->finished[m->source] = m->seq;
	}
}

static const struct sched_ops ops = { emit, release };

static void world_init(size_t max_pending)
{
	memset(&W, 0, sizeof(W));
	W.fail_at = -1;
	W.lim = (struct sched_limits){ PART, WINDOW, max_pending };
	W.s = sched_new(&W.lim, &ops, &W);
	CHECK(W.s != NULL);
}

static uint8_t payload[4096];
static int seqs[16];

static struct tmsg *msg(uint32_t source, size_t size)
{
	struct tmsg *m = calloc(1, sizeof(*m));
	CHECK(m != NULL);
	m->source = source;
	m->seq = ++seqs[source];
	m->base.data = payload;
	m->base.size = size;
	return m;
}

static void put(struct tmsg *m)
{
	CHECK(sched_enqueue(W.s, m->source, &m->base) == 0);
}

/* Acks every emitted chunk byte, one part at a time, until nothing moves. */
static void drain(void)
{
	while (sched_inflight(W.s) > 0)
		CHECK(sched_ack(W.s, sched_inflight(W.s) < PART ? sched_inflight(W.s) : PART) == 0);
}

static void test_hot_path(void)
{
	world_init(1000);
	memset(seqs, 0, sizeof(seqs));
	struct tmsg *early = msg(1, 3);
	put(early);
	CHECK(W.nlog == 0 && early->releases == 0); /* nothing before open */
	sched_open(W.s);
	CHECK(W.nlog == 1 && early->done);
	struct tmsg *m = msg(2, 4);
	put(m);
	CHECK(W.nlog == 2 && m->done && W.log[1].len == 4);
	CHECK(sched_idle(W.s));
	struct tmsg *empty = msg(2, 0); /* an empty payload is one frame too */
	put(empty);
	CHECK(empty->done && W.log[2].len == 0);
	sched_free(W.s);
	free(early);
	free(m);
	free(empty);
}

static void test_window(void)
{
	world_init(1000);
	memset(seqs, 0, sizeof(seqs));
	sched_open(W.s);
	struct tmsg *big = msg(1, 22);
	put(big);
	/* two chunks fill the window */
	CHECK(W.nlog == 2 && sched_inflight(W.s) == 8 && big->releases == 0);
	/* a small message of another source is not held by the window */
	struct tmsg *small = msg(2, 4);
	put(small);
	CHECK(W.nlog == 3 && small->done && sched_inflight(W.s) == 8);
	/* partial acks: each freed part lets exactly one chunk out, resuming
	 * where the message stopped (emit checks the offsets) */
	CHECK(sched_ack(W.s, 3) == 0);
	CHECK(W.nlog == 4 && sched_inflight(W.s) == 9); /* 5 < 8: one more chunk */
	CHECK(sched_ack(W.s, 1) == 0);
	CHECK(W.nlog == 4); /* 8: still closed */
	CHECK(sched_ack(W.s, 8) == 0);
	CHECK(W.nlog == 6 && sched_inflight(W.s) == 8 && !big->done);
	CHECK(sched_ack(W.s, 8) == 0);
	/* 22 = 4+4+4+4+4+2 */
	CHECK(big->done && sched_inflight(W.s) == 2);
	CHECK(W.log[W.nlog - 1].off == 20 && W.log[W.nlog - 1].len == 2);
	CHECK(sched_ack(W.s, 3) == -1 && sched_inflight(W.s) == 2); /* bad ack refused */
	drain();
	CHECK(sched_idle(W.s) && sched_started(W.s) == 0);
	sched_free(W.s);
	free(big);
	free(small);
}

static void test_fifo_and_pending(void)
{
	world_init(50);
	memset(seqs, 0, sizeof(seqs));
	/* source 1: a big message then a small one; the small one waits its turn */
	struct tmsg *a1 = msg(1, 40), *a2 = msg(1, 2);
	/* source 2: a big one that the pending bound holds back (40 + 40 > 50) */
	struct tmsg *b1 = msg(2, 40);
	put(a1);
	put(a2);
	put(b1);
	sched_open(W.s);
	CHECK(sched_started(W.s) == 40 && b1->base.id == 0 && a2->releases == 0);
	while (!a1->done)
		drain();
	CHECK(a2->done); /* right after a1, its source's order */
	drain();
	CHECK(b1->done && sched_idle(W.s));
	sched_free(W.s);
	free(a1);
	free(a2);
	free(b1);
}

static void test_fairness(void)
{
	world_init(1000);
	memset(seqs, 0, sizeof(seqs));
	sched_open(W.s);
	struct tmsg *a = msg(1, 40), *b = msg(2, 40);
	put(a);
	put(b);
	CHECK(W.nlog == 2); /* a took the window before b came */
	size_t from = W.nlog, a_end = 0;
	while (!a->done || !b->done) {
		CHECK(sched_ack(W.s, PART) == 0);
		if (a->done && a_end == 0)
			a_end = W.nlog;
	}
	/* with one part freed at a time the two transfers alternate strictly
	 * while both have parts left (then b finishes alone) */
	CHECK(a_end > from + 8);
	for (size_t i = from + 1; i < a_end; i++)
		CHECKF(W.log[i].m != W.log[i - 1].m, "frames %zu and %zu both of source %u", i - 1, i,
		       W.log[i].m->source);
	drain();
	sched_free(W.s);
	free(a);
	free(b);
}

static void test_failure(void)
{
	world_init(1000);
	memset(seqs, 0, sizeof(seqs));
	sched_open(W.s);
	struct tmsg *a = msg(1, 40), *b = msg(1, 3), *c = msg(2, 40), *d = msg(3, 2);
	W.fail_at = 3; /* a0 a1 | window full | ack: a2, then c's first frame fails */
	put(a);
	put(b);
	put(c);
	CHECK(W.nlog == 2);
	CHECK(sched_ack(W.s, 8) == 0);
	CHECK(W.nlog == 3);
	size_t n = W.nlog;
	/* stopped: acks and new messages emit nothing */
	CHECK(sched_ack(W.s, 4) == 0);
	put(d);
	CHECK(W.nlog == n);
	CHECK(a->releases == 0 && d->releases == 0);
	sched_free(W.s);
	CHECK(a->releases == 1 && !a->done && a->base.sent == 12);
	CHECK(c->releases == 1 && !c->done && c->base.sent == 0 && c->base.id == 0);
	CHECK(b->releases == 1 && !b->done && b->base.sent == 0); /* never started */
	CHECK(d->releases == 1 && !d->done && d->base.sent == 0);
	free(a);
	free(b);
	free(c);
	free(d);

	/* a lone small message whose emit fails is released at once, unstarted */
	world_init(1000);
	memset(seqs, 0, sizeof(seqs));
	sched_open(W.s);
	W.fail_at = 0;
	struct tmsg *e = msg(1, 1);
	put(e);
	CHECK(e->releases == 1 && !e->done && e->base.sent == 0);
	sched_free(W.s);
	free(e);
}

static uint64_t rng = 88172645463325252ULL;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* Random sources, sizes and acks; the checks in emit/release hold throughout,
 * and everything is delivered once the peer has acknowledged all. */
static void test_random(void)
{
	enum { N = 3000 };
	static struct tmsg *all[N];
	world_init(60);
	memset(seqs, 0, sizeof(seqs));
	int made = 0;
	for (int round = 0; round < 20000 && made < N; round++) {
		uint32_t r = rnd(10);
		if (r == 0)
			sched_open(W.s);
		else if (r < 6) {
			all[made] = msg(1 + rnd(8), rnd(3) ? rnd(PART + 1) : rnd(50));
			put(all[made++]);
		} else if (sched_inflight(W.s)) {
			CHECK(sched_ack(W.s, 1 + rnd((uint32_t)sched_inflight(W.s))) == 0);
		}
	}
	sched_open(W.s);
	for (int guard = 0; !sched_idle(W.s) && guard < 100000; guard++)
		drain();
	CHECK(sched_idle(W.s));
	for (int i = 0; i < made; i++) {
		CHECK(all[i]->done && all[i]->releases == 1);
		free(all[i]);
	}
	sched_free(W.s);
	printf("random: %d messages, %zu frames\n", made, W.nlog);
}

int main(void)
{
	test_hot_path();
	test_window();
	test_fifo_and_pending();
	test_fairness();
	test_failure();
	test_random();
	printf("scheduler_test: PASS\n");
	return 0;
}
