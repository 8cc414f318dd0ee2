/*
 * test_containers.c — core's hash maps and FIFO (skynet_hashmap.h,
 * skynet_fifo.h) against a plain reference model: random puts, gets and
 * deletes (deletes exercise the backward shift, including runs that wrap
 * around the end of the table), iteration visiting each entry once, string
 * keys copied by the map, FIFO order across growth and wrap-around.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skynet_fifo.h"
#include "skynet_hashmap.h"

#include "../check.h"

#define KEYS 4000

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_u64(void)
{
	struct skynet_u64map *m = skynet_u64map_new();
	CHECK(m != NULL);
	static uint64_t keys[KEYS];
	static bool present[KEYS];
	static uint64_t value[KEYS];
	for (int i = 0; i < KEYS; i++)
		keys[i] = i < 16 ? (uint64_t)i : next_rand(); /* 0 is a key too */
	CHECK(!skynet_u64map_get(m, 0, NULL));
	CHECK(!skynet_u64map_del(m, 0, NULL));
	size_t count = 0;
	for (int round = 0; round < 200000; round++) {
		int i = (int)(next_rand() % (round < 100000 ? KEYS : 64)); /* then churn a few */
		uint64_t v;
		switch (next_rand() % 3) {
		case 0:
			CHECK(skynet_u64map_put(m, keys[i], (uint64_t)round) == 0);
			if (!present[i])
				count++;
			present[i] = true;
			value[i] = (uint64_t)round;
			break;
		case 1: {
			bool had = skynet_u64map_del(m, keys[i], &v);
			CHECKF(had == present[i], "del of key %d: map %d, model %d", i, had, present[i]);
			if (had) {
				CHECK(v == value[i]);
				count--;
			}
			present[i] = false;
			break;
		}
		default: {
			bool has = skynet_u64map_get(m, keys[i], &v);
			CHECKF(has == present[i], "get of key %d: map %d, model %d", i, has, present[i]);
			if (has)
				CHECK(v == value[i]);
			break;
		}
		}
		CHECK(skynet_u64map_count(m) == count);
	}
	for (int i = 0; i < KEYS; i++) {
		uint64_t v;
		CHECKF(skynet_u64map_get(m, keys[i], &v) == present[i], "key %d at the end", i);
	}
	/* iteration visits each entry once */
	size_t pos = 0, seen = 0;
	uint64_t k, v;
	struct skynet_u64map *visited = skynet_u64map_new();
	while (skynet_u64map_next(m, &pos, &k, &v)) {
		CHECK(!skynet_u64map_get(visited, k, NULL));
		CHECK(skynet_u64map_put(visited, k, 1) == 0);
		seen++;
	}
	CHECK(seen == count);
	skynet_u64map_free(visited);
	skynet_u64map_clear(m);
	CHECK(skynet_u64map_count(m) == 0);
	CHECK(!skynet_u64map_get(m, keys[20], NULL));
	CHECK(skynet_u64map_put(m, 7, 70) == 0 && skynet_u64map_get(m, 7, &v) && v == 70);
	skynet_u64map_free(m);
	skynet_u64map_free(NULL);
}

static void test_str(void)
{
	struct skynet_strmap *m = skynet_strmap_new();
	CHECK(m != NULL);
	static char names[KEYS][16];
	static bool present[KEYS];
	for (int i = 0; i < KEYS; i++)
		snprintf(names[i], sizeof(names[i]), "n%d", i);
	snprintf(names[0], sizeof(names[0]), "%s", ""); /* the empty key too */
	size_t count = 0;
	for (int round = 0; round < 100000; round++) {
		int i = (int)(next_rand() % KEYS);
		void *v;
		switch (next_rand() % 3) {
		case 0: {
			char copy[16];
			memcpy(copy, names[i], sizeof(copy));
			CHECK(skynet_strmap_put(m, copy, &names[i]) == 0);
			memset(copy, 'x', sizeof(copy) - 1); /* the map kept its own copy */
			if (!present[i])
				count++;
			present[i] = true;
			break;
		}
		case 1: {
			bool had = skynet_strmap_del(m, names[i], &v);
			CHECKF(had == present[i], "del of %s", names[i]);
			if (had) {
				CHECK(v == &names[i]);
				count--;
			}
			present[i] = false;
			break;
		}
		default:
			v = skynet_strmap_find(m, names[i]);
			CHECKF((v != NULL) == present[i], "find of %s", names[i]);
			if (v)
				CHECK(v == &names[i]);
			break;
		}
		CHECK(skynet_strmap_count(m) == count);
	}
	size_t pos = 0, seen = 0;
	const char *k;
	void *v;
	while (skynet_strmap_next(m, &pos, &k, &v)) {
		ptrdiff_t idx = (char(*)[16])v - names;
		CHECKF(idx >= 0 && idx < KEYS && present[idx], "walk found a value not in the model");
		CHECKF(strcmp(k, *(char(*)[16])v) == 0, "key %s maps to %s", k, *(char(*)[16])v);
		seen++;
	}
	CHECK(seen == count);
	skynet_strmap_free(m);
	skynet_strmap_free(NULL);
}

struct rec {
	uint32_t a;
	uint64_t b;
	char tag[5];
};

static void test_fifo(void)
{
	CHECK(skynet_fifo_new(0) == NULL);
	struct skynet_fifo *q = skynet_fifo_new(sizeof(struct rec));
	CHECK(q != NULL);
	CHECK(skynet_fifo_peek(q) == NULL);
	struct rec r;
	CHECK(!skynet_fifo_pop(q, &r));
	/* interleaved pushes and pops keep the ring wrapped while it grows */
	uint32_t pushed = 0, popped = 0;
	for (int round = 0; round < 50000; round++) {
		int burst = (int)(next_rand() % 7);
		for (int i = 0; i < burst; i++) {
			struct rec in = { .a = pushed, .b = (uint64_t)pushed * 3 };
			snprintf(in.tag, sizeof(in.tag), "%u", pushed % 1000);
			CHECK(skynet_fifo_push(q, &in) == 0);
			pushed++;
		}
		int take = (int)(next_rand() % 6);
		for (int i = 0; i < take && skynet_fifo_count(q); i++) {
			struct rec *head = skynet_fifo_peek(q);
			CHECK(head != NULL && head->a == popped);
			CHECK(skynet_fifo_pop(q, &r));
			CHECKF(r.a == popped && r.b == (uint64_t)popped * 3, "popped %u, expected %u", r.a,
			       popped);
			char tag[5];
			snprintf(tag, sizeof(tag), "%u", popped % 1000);
			CHECK(strcmp(r.tag, tag) == 0);
			popped++;
		}
		CHECK(skynet_fifo_count(q) == pushed - popped);
	}
	while (skynet_fifo_pop(q, &r))
		CHECK(r.a == popped++);
	CHECK(popped == pushed && skynet_fifo_count(q) == 0);
	/* an emptied ring is usable again */
	struct rec in = { .a = 42 };
	CHECK(skynet_fifo_push(q, &in) == 0 && skynet_fifo_pop(q, &r) && r.a == 42);
	skynet_fifo_free(q);
	skynet_fifo_free(NULL);
}

int main(void)
{
	test_u64();
	test_str();
	test_fifo();
	printf("containers OK\n");
	return 0;
}
