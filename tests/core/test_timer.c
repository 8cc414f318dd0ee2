/*
 * test_timer.c — the timing wheel fires every event exactly on its due tick,
 * at level boundaries and across the 32-bit wrap of the tick counter; and
 * timer_next_work, which the timer thread sleeps by, never sleeps past one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "skynet_timer.h"

struct expect {
	uint32_t due; /* absolute tick */
	int fired;
	uint32_t at;
};

#define MAXE 4096
static struct expect ev[MAXE];
static int nev;
static struct timer *T;
static int errors;

static void fire(void *ud, uint32_t handle, int session)
{
	(void)ud;
	(void)handle;
	struct expect *e = &ev[session];
	e->fired++;
	e->at = timer_current_tick(T);
}

static void add(int delay)
{
	if (nev >= MAXE)
		abort();
	ev[nev].due = timer_current_tick(T) + (uint32_t)delay;
	ev[nev].fired = 0;
	timer_add_event(T, 1, nev, delay);
	nev++;
}

static void run_until_all(uint64_t max_ticks)
{
	for (uint64_t i = 0; i < max_ticks; i++)
		timer_tick(T, fire, NULL);
	for (int i = 0; i < nev; i++) {
		if (ev[i].fired != 1 || ev[i].at != ev[i].due) {
			if (errors < 20)
				printf("event %d: fired %d times, at tick %u, due %u\n", i, ev[i].fired,
				       ev[i].at, ev[i].due);
			errors++;
		}
	}
}

static void scenario(uint32_t start, const int *delays, int n, uint64_t run)
{
	T = timer_create_wheel(start);
	nev = 0;
	for (int i = 0; i < n; i++)
		add(delays[i]);
	run_until_all(run);
	timer_destroy_wheel(T);
}

int main(void)
{
	/* Boundaries of the near wheel (256) and each level (2^14, 2^20, 2^26). */
	static const int d1[] = {
		1, 2, 254, 255, 256, 257, 511, 512, 1000, 16383, 16384, 16385, 65536, 100000
	};
	scenario(0, d1, (int)(sizeof(d1) / sizeof(d1[0])), 100001);
	/* Start just below level boundaries so events cross them. */
	static const int d2[] = { 1, 5, 200, 300, 5000, 20000 };
	scenario(255, d2, 6, 20001);
	scenario((1u << 14) - 3, d2, 6, 20001);
	scenario((1u << 20) - 100, d2, 6, 20001);
	scenario((1u << 26) - 1000, d2, 6, 20001);
	/* Across the 32-bit wrap. */
	static const int d3[] = { 1, 10, 255, 256, 300, 1000, 5000, 70000 };
	scenario(0xffffffffu - 500, d3, 8, 70001);
	scenario(0xffffffffu, d3, 8, 70001);
	scenario(0xffffffffu - 0x10000, d3, 8, 70001);
	/* Many random timers 0..100 ticks, added while ticking. */
	T = timer_create_wheel(0xfffffff0u);
	nev = 0;
	unsigned seed = 42;
	for (int round = 0; round < 30; round++) {
		for (int i = 0; i < 100; i++) {
			seed = seed * 1103515245u + 12345u;
			add(1 + (int)((seed >> 16) % 100));
		}
		timer_tick(T, fire, NULL);
	}
	run_until_all(200);
	timer_destroy_wheel(T);

	/* timer_next_work: no event fires on the d-1 ticks it says are idle, and
	 * the tick after them fires one or is a cascade (near-wheel boundary). */
	T = timer_create_wheel(0xffffff00u);
	nev = 0;
	static const int d4[] = { 3, 40, 255, 256, 700, 1500, 17000, 17001 };
	for (int i = 0; i < (int)(sizeof(d4) / sizeof(d4[0])); i++)
		add(d4[i]);
	int fired_before = 0, sleeps = 0;
	while (fired_before < nev) {
		uint32_t d = timer_next_work(T, 256);
		if (d < 1 || d > 256) {
			printf("timer_next_work: %u out of 1..256\n", d);
			errors++;
			break;
		}
		for (uint32_t k = 1; k < d; k++)
			timer_tick(T, fire, NULL);
		int fired = 0;
		for (int i = 0; i < nev; i++)
			fired += ev[i].fired;
		if (fired != fired_before) {
			printf("timer_next_work said %u idle ticks at %u, but an event fired\n", d - 1,
			       timer_current_tick(T));
			errors++;
		}
		timer_tick(T, fire, NULL);
		fired = 0;
		for (int i = 0; i < nev; i++)
			fired += ev[i].fired;
		if (fired == fired_before && (timer_current_tick(T) & 255) != 0 && d < 256) {
			printf("timer_next_work: tick %u has no work\n", timer_current_tick(T));
			errors++;
		}
		fired_before = fired;
		sleeps++;
	}
	run_until_all(0);
	/* 8 events and ~70 near-wheel turns: far fewer wake-ups than 17,001 ticks */
	if (sleeps > 100) {
		printf("timer_next_work: %d wake-ups for 17001 ticks\n", sleeps);
		errors++;
	}
	timer_destroy_wheel(T);

	if (errors) {
		printf("%d timer errors\n", errors);
		return 1;
	}
	printf("OK\n");
	return 0;
}
