/*
 * spinlock.h — a test-and-test-and-set spinlock for very short critical sections
 * (queue push/pop). Never hold one across a call that may block or allocate much.
 */
#ifndef SKIFF_SPINLOCK_H
#define SKIFF_SPINLOCK_H

#include <sched.h>
#include <stdatomic.h>

#if defined(__x86_64__) || defined(__i386__)
#define spin_pause_() __builtin_ia32_pause()
#else
#define spin_pause_() ((void)0)
#endif

struct spinlock {
	atomic_int lock;
};

static inline void spinlock_init(struct spinlock *l)
{
	atomic_init(&l->lock, 0);
}

static inline void spinlock_lock(struct spinlock *l)
{
	for (;;) {
		if (!atomic_exchange_explicit(&l->lock, 1, memory_order_acquire))
			return;
		/* The machine may have fewer cores than runnable threads: if the holder
		 * was preempted, spinning burns its time slice, so yield after a while. */
		int spins = 0;
		while (atomic_load_explicit(&l->lock, memory_order_relaxed)) {
			if (++spins < 64)
				spin_pause_();
			else
				sched_yield();
		}
	}
}

static inline int spinlock_trylock(struct spinlock *l)
{
	return !atomic_load_explicit(&l->lock, memory_order_relaxed) &&
	       !atomic_exchange_explicit(&l->lock, 1, memory_order_acquire);
}

static inline void spinlock_unlock(struct spinlock *l)
{
	atomic_store_explicit(&l->lock, 0, memory_order_release);
}

static inline void spinlock_destroy(struct spinlock *l)
{
	(void)l;
}

#endif
