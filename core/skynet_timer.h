/*
 * skynet_timer.h — the centisecond timer wheel and the runtime clock.
 */
#ifndef SKYNET_TIMER_H
#define SKYNET_TIMER_H

#include <stdbool.h>
#include <stdint.h>

/* Schedule a PTYPE_RESPONSE message {source 0, session, no data} to handle after
 * `time` centiseconds; time <= 0 delivers now. Returns session, or -1 when
 * time <= 0 and the handle does not exist. */
int skynet_timeout(uint32_t handle, int time, int session);
/* Advance the wheel to the monotonic clock (timer thread only). */
void skynet_updatetime(void);
/* The timer thread's sleep, in two steps (timer thread only): plan publishes
 * the tick it will wake at (the next tick with an event due or a cascade, at
 * most 2.56 s away) and returns the ms until then; sleep waits that long or
 * until skynet_timer_ring, then marks the thread awake (ms <= 0: no wait).
 * A timeout added for an earlier tick rings by itself. */
int skynet_timer_plan(void);
void skynet_timer_sleep(int ms);
/* True between plan and the end of sleep. */
bool skynet_timer_sleeping(void);
/* Wake the timer thread; async-signal-safe. */
void skynet_timer_ring(void);
uint32_t skynet_starttime(void);
/* CPU time of the calling thread, in microseconds. */
uint64_t skynet_thread_time(void);

void skynet_timer_init(void);
void skynet_timer_exit(void);

/* Internals exposed for the unit tests: a private wheel driven by hand. */
struct timer;
typedef void (*timer_fire_fn)(void *ud, uint32_t handle, int session);
struct timer *timer_create_wheel(uint32_t start_time);
void timer_destroy_wheel(struct timer *T);
void timer_add_event(struct timer *T, uint32_t handle, int session, int time);
/* One tick: fire what is due now, advance, cascade, fire what is due. */
void timer_tick(struct timer *T, timer_fire_fn fire, void *ud);
uint32_t timer_current_tick(struct timer *T);
/* Ticks from now to the first tick, at most `limit`, at which timer_tick has
 * work: an event due, or a cascade that may bring one. */
uint32_t timer_next_work(struct timer *T, uint32_t limit);

#endif
