/*
 * skynet_start.c — start the node: subsystems, the first services, the threads;
 * then wait until the last service is gone and tear everything down.
 *
 * Threads: `thread` workers, one timer, one socket, one monitor. Every system
 * thread polls CHECK_ABORT (no services left) and exits; the timer thread, on
 * its way out, stops the socket thread and wakes every sleeping worker.
 *
 * Worker sleep/wakeup: a worker that finds the global queue empty sleeps on a
 * condition variable. The socket thread wakes one only if all sleep
 * (busy = 0); the timer thread wakes one if at least one sleeps
 * (busy = count - 1) and the global queue is not empty (a worker that sleeps
 * with work queued is woken by the next timer update: 2.5 ms apart while
 * busy, up to 10 ms on an idle node).
 * Spurious wakeups are harmless.
 *
 * Spinning before sleeping (`worker_spin` µs, default below): a worker that has
 * just done work and finds nothing more polls the global queue for a short
 * while before it sleeps, yielding its CPU on every poll. A message the socket
 * thread hands over in that window is picked up without a futex wake-up, which
 * on a cross-node round trip is one thread hand-off in two (the other is the
 * socket thread's own epoll wake-up). At most one worker spins at a time, and
 * only right after real work: a worker woken by the timer that finds nothing
 * goes straight back to sleep, so an idle node never spins. The spinner takes
 * work only while no other worker is active (`active` counts workers that are
 * neither spinning nor asleep): an active worker picks up what it queued
 * itself as soon as its current message is done, as it would without the
 * spin, so a ping-pong between two services stays on one worker (and its
 * cache) instead of bouncing between two.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "skynet.h"
#include "skynet_daemon.h"
#include "skynet_handle.h"
#include "skynet_harbor.h"
#include "skynet_imp.h"
#include "skynet_module.h"
#include "skynet_monitor.h"
#include "skynet_mq.h"
#include "skynet_server.h"
#include "skynet_socket.h"
#include "skynet_timer.h"

struct monitor {
	int count;
	struct skynet_monitor **m;
	pthread_cond_t cond;
	pthread_cond_t mcond; /* the monitor thread's 5 s wait; CLOCK_MONOTONIC */
	pthread_mutex_t mutex;
	/* Read without the mutex by wakeup() (a stale value only costs a spurious
	 * or a skipped wakeup, both harmless); written under it. */
	atomic_int sleep;
	atomic_int quit;
	atomic_int spinning; /* 1 while some worker spins (at most one does) */
	atomic_int active;   /* workers neither spinning nor asleep */
	uint64_t spin_ns;    /* 0: never spin */
};

struct worker_parm {
	struct monitor *m;
	int id;
	int weight;
};

/* Set by signal handlers, read by the timer thread: lock-free atomics are
 * async-signal-safe and, unlike volatile sig_atomic_t, safe across threads. */
static atomic_int SIG_HUP = 0;
static atomic_int SIG_TERM = 0;

static void handle_hup(int signal)
{
	if (signal == SIGHUP) {
		SIG_HUP = 1;
		skynet_timer_ring();
	}
}

static void handle_term(int signal)
{
	(void)signal;
	SIG_TERM = 1;
	skynet_timer_ring();
}

#define CHECK_ABORT                                                                                          \
	if (skynet_context_total() == 0)                                                                     \
		break;

static void create_thread(pthread_t *thread, void *(*start_routine)(void *), void *arg)
{
	if (pthread_create(thread, NULL, start_routine, arg)) {
		fprintf(stderr, "skiff: create thread failed\n");
		exit(1);
	}
}

static void wakeup(struct monitor *m, int busy)
{
	if (m->sleep >= m->count - busy) {
		/* signal sleep worker, "spurious wakeup" is harmless */
		pthread_cond_signal(&m->cond);
	}
}

static void *thread_socket(void *p)
{
	struct monitor *m = p;
	skynet_initthread(THREAD_SOCKET);
	for (;;) {
		int r = skynet_socket_poll();
		if (r == 0)
			break;
		if (r < 0) {
			CHECK_ABORT
			continue;
		}
		wakeup(m, 0);
	}
	return NULL;
}

static void free_monitor(struct monitor *m)
{
	int n = m->count;
	for (int i = 0; i < n; i++)
		skynet_monitor_free(m->m[i]);
	pthread_mutex_destroy(&m->mutex);
	pthread_cond_destroy(&m->cond);
	pthread_cond_destroy(&m->mcond);
	skynet_free(m->m);
	skynet_free(m);
}

static void *thread_monitor(void *p)
{
	struct monitor *m = p;
	int n = m->count;
	skynet_initthread(THREAD_MONITOR);
	/* 5 s between checks; the timer thread's shutdown broadcast ends the wait. */
	pthread_mutex_lock(&m->mutex);
	while (!m->quit) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 5;
		while (!m->quit && pthread_cond_timedwait(&m->mcond, &m->mutex, &ts) != ETIMEDOUT)
			;
		if (m->quit)
			break;
		pthread_mutex_unlock(&m->mutex);
		for (int i = 0; i < n; i++)
			skynet_monitor_check(m->m[i]);
		pthread_mutex_lock(&m->mutex);
	}
	pthread_mutex_unlock(&m->mutex);
	return NULL;
}

static void signal_hup(void)
{
	/* make log file reopen */
	struct skynet_message smsg;
	smsg.source = 0;
	smsg.session = 0;
	smsg.data = NULL;
	smsg.sz = (size_t)PTYPE_SYSTEM << MESSAGE_TYPE_SHIFT;
	uint32_t logger = skynet_handle_findname("logger");
	if (logger)
		skynet_context_push(logger, &smsg);
}

/* SIGTERM: the first one asks `.shutdown` (services/shutdownd.lua) to drain
 * the node, which ends with ABORT; without that service, or on a second
 * SIGTERM, every service is retired at once, as ABORT does. */
static void signal_term(void)
{
	static int asked;
	uint32_t drain = asked ? 0 : skynet_handle_findname("shutdown");
	if (drain) {
		static const char term[] = "TERM";
		struct skynet_message smsg;
		smsg.source = 0;
		smsg.session = 0;
		smsg.data = skynet_malloc(sizeof(term) - 1);
		memcpy(smsg.data, term, sizeof(term) - 1);
		smsg.sz = (sizeof(term) - 1) | ((size_t)PTYPE_TEXT << MESSAGE_TYPE_SHIFT);
		if (skynet_context_push(drain, &smsg) == 0) {
			asked = 1;
			skynet_error(NULL, "SIGTERM received, draining (a second SIGTERM stops at once)");
			return;
		}
		skynet_free(smsg.data);
	}
	skynet_error(NULL, "SIGTERM received, shutting down");
	skynet_handle_retireall();
}

/* The timer thread's nap between two updates while workers are busy:
 * TIMER_NAP_MIN while there is work queued, doubling to TIMER_NAP_MAX (one
 * timer tick) while there is none.  Once every worker sleeps and nothing is
 * queued, it sleeps until the next timer is due instead (skynet_timer_plan). */
#define TIMER_NAP_MIN 2500
#define TIMER_NAP_MAX 10000

/* Nothing for the timer thread to do before its next timer: no worker it
 * could wake (all asleep or spinning with nothing queued, or only one
 * worker), a service left, no signal to handle. */
static bool node_idle(struct monitor *m)
{
	return (m->count == 1 || (atomic_load(&m->active) == 0 && skynet_globalmq_empty())) &&
	       skynet_context_total() != 0 && !SIG_HUP && !SIG_TERM;
}

static void *thread_timer(void *p)
{
	struct monitor *m = p;
	skynet_initthread(THREAD_TIMER);
	useconds_t nap = TIMER_NAP_MIN;
	for (;;) {
		skynet_updatetime();
		skynet_socket_updatetime();
		CHECK_ABORT
		/* Wake a worker only when there is work: a due timeout or a
		 * message pushed without a wake-up is on the global queue by now. */
		if (!skynet_globalmq_empty()) {
			wakeup(m, m->count - 1);
			nap = TIMER_NAP_MIN;
		} else if (nap < TIMER_NAP_MAX) {
			nap *= 2;
		}
		if (m->count == 1 || atomic_load(&m->active) == 0) {
			/* An idle node: sleep until the next timer is due (at most
			 * 2.56 s).  Waking every 10 ms regardless cost each idle node
			 * ~0.1 % of a core, hundreds of nodes on one host a large
			 * part of one (docs/performance.md, "Idle cost of a harbor
			 * mesh").  Whatever makes work without a timer rings us: a
			 * worker woken by the socket thread (so that a second
			 * worker can be woken for what it queues), an earlier
			 * timeout, the last service's exit, a signal.  `active` is
			 * read after wake_at is published and a worker reads
			 * wake_at after raising `active`: one sees the other.
			 * With one worker there is never a second one to wake, so
			 * the timer thread sleeps so even while that one works. */
			int ms = skynet_timer_plan();
			skynet_timer_sleep(node_idle(m) ? ms : 0);
			nap = TIMER_NAP_MIN;
		} else {
			usleep(nap);
		}
		if (SIG_HUP) {
			signal_hup();
			SIG_HUP = 0;
		}
		if (SIG_TERM) {
			SIG_TERM = 0;
			signal_term();
		}
	}
	/* wakeup socket thread */
	skynet_socket_exit();
	/* wakeup all worker thread, and the monitor */
	pthread_mutex_lock(&m->mutex);
	m->quit = 1;
	pthread_cond_broadcast(&m->cond);
	pthread_cond_broadcast(&m->mcond);
	pthread_mutex_unlock(&m->mutex);
	return NULL;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Poll the global queue for up to spin_ns; true if work showed up. */
static bool spin_for_work(struct monitor *m)
{
	int idle = 0;
	if (m->spin_ns == 0 || !atomic_compare_exchange_strong(&m->spinning, &idle, 1))
		return false;
	uint64_t deadline = monotonic_ns() + m->spin_ns;
	bool found = false;
	for (;;) {
		if (!skynet_globalmq_empty() && atomic_load_explicit(&m->active, memory_order_relaxed) == 0) {
			found = true;
			break;
		}
		if (m->quit || monotonic_ns() >= deadline)
			break;
		/* the thread that will hand us work may be waiting for this CPU */
		sched_yield();
	}
	atomic_store(&m->spinning, 0);
	return found;
}

static void *thread_worker(void *p)
{
	struct worker_parm *wp = p;
	int id = wp->id;
	int weight = wp->weight;
	struct monitor *m = wp->m;
	struct skynet_monitor *sm = m->m[id];
	skynet_initthread(THREAD_WORKER);
	struct message_queue *q = NULL;
	bool worked = false; /* dispatched something since this worker last slept */
	while (!m->quit) {
		q = skynet_context_message_dispatch(sm, q, weight);
		if (q != NULL) {
			worked = true;
			continue;
		}
		atomic_fetch_sub(&m->active, 1);
		if (worked && spin_for_work(m)) {
			atomic_fetch_add(&m->active, 1);
			if (m->count > 1 && skynet_timer_sleeping())
				skynet_timer_ring();
			continue;
		}
		worked = false;
		if (pthread_mutex_lock(&m->mutex) == 0) {
			++m->sleep;
			/* "spurious wakeup" is harmless,
			 * because skynet_context_message_dispatch() can be call at any time. */
			if (!m->quit)
				pthread_cond_wait(&m->cond, &m->mutex);
			--m->sleep;
			if (pthread_mutex_unlock(&m->mutex)) {
				fprintf(stderr, "skiff: unlock mutex error");
				exit(1);
			}
		}
		atomic_fetch_add(&m->active, 1);
		/* The timer thread sleeps until its next timer while the node is
		 * idle; with other workers to wake for what this one queues, it
		 * must take up its naps again. */
		if (m->count > 1 && skynet_timer_sleeping())
			skynet_timer_ring();
	}
	/* A queue this worker was still serving goes back to the global queue,
	 * so the shutdown drain frees it (in_global is still set: consistent). */
	if (q)
		skynet_globalmq_push(q);
	return NULL;
}

/* Weight of worker i: -1 = one message per turn, k >= 0 = (backlog >> k). */
static int worker_weight(int i)
{
	static const int weight[] = {
		-1, -1, -1, -1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
		2,  2,  2,  2,  2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
	};
	if (i < (int)(sizeof(weight) / sizeof(weight[0])))
		return weight[i];
	return 0;
}

static void start(int thread, int spin_us)
{
	pthread_t pid[thread + 3];

	struct monitor *m = skynet_malloc(sizeof(*m));
	memset(m, 0, sizeof(*m));
	m->count = thread;
	m->sleep = 0;
	m->spinning = 0;
	m->active = thread;
	m->spin_ns = (uint64_t)spin_us * 1000u;

	m->m = skynet_malloc(thread * sizeof(struct skynet_monitor *));
	for (int i = 0; i < thread; i++)
		m->m[i] = skynet_monitor_new();
	if (pthread_mutex_init(&m->mutex, NULL)) {
		fprintf(stderr, "skiff: init mutex error");
		exit(1);
	}
	pthread_condattr_t mono;
	pthread_condattr_init(&mono);
	pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
	if (pthread_cond_init(&m->cond, NULL) || pthread_cond_init(&m->mcond, &mono)) {
		fprintf(stderr, "skiff: init cond error");
		exit(1);
	}
	pthread_condattr_destroy(&mono);

	create_thread(&pid[0], thread_monitor, m);
	create_thread(&pid[1], thread_timer, m);
	create_thread(&pid[2], thread_socket, m);

	// NOLINTNEXTLINE(clang-analyzer-core.VLASize): thread is 1..1024 (optint in skynet_main.c)
	struct worker_parm wp[thread];
	for (int i = 0; i < thread; i++) {
		wp[i].m = m;
		wp[i].id = i;
		wp[i].weight = worker_weight(i);
		create_thread(&pid[i + 3], thread_worker, &wp[i]);
	}

	for (int i = 0; i < thread + 3; i++)
		pthread_join(pid[i], NULL);

	free_monitor(m);
}

static int bootstrap(struct skynet_context *logger, const char *cmdline, const char *config_file)
{
	size_t sz = strlen(cmdline);
	char name[sz + 1];
	char args[sz + 1];
	int arg_pos;
	name[0] = args[0] = '\0';
	/* name is as long as cmdline: %s cannot overflow it */
	// cppcheck-suppress invalidscanf
	if (sscanf(cmdline, "%s", name) != 1) {
		fprintf(stderr, "skiff: %s: key 'bootstrap' is empty\n", config_file);
		return -1;
	}
	arg_pos = (int)(strstr(cmdline, name) - cmdline) + (int)strlen(name);
	while (cmdline[arg_pos] == ' ')
		arg_pos++;
	strncpy(args, cmdline + arg_pos, sz);
	args[sz] = '\0';
	struct skynet_context *ctx = skynet_context_new(name, args);
	if (ctx == NULL) {
		skynet_error(NULL, "Bootstrap error : %s", cmdline);
		skynet_context_dispatchall(logger);
		fprintf(stderr, "skiff: %s: key 'bootstrap': can't launch '%s' (see the log above)\n",
		        config_file, cmdline);
		return -1;
	}
	return 0;
}

static void drop_at_exit(struct skynet_message *msg, void *ud)
{
	(void)ud;
	skynet_message_drop_payload(msg);
}

/* The workers are gone: unlink every queue from the global queue, freeing the
 * released ones. A queue whose context still lives (the logger) is left
 * unlinked with in_global set, as if a worker were dispatching it. */
static void drain_released_queues(void)
{
	struct message_queue *q;
	while ((q = skynet_globalmq_pop()) != NULL)
		skynet_mq_try_free(q, drop_at_exit, NULL);
}

int skynet_start(struct skynet_config *config)
{
	/* register SIGHUP for log file reopen; SIGTERM/SIGINT for a clean stop */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = &handle_hup;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = &handle_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (config->daemon) {
		if (daemon_init(config->daemon))
			return 1;
	}
	skynet_harbor_init(config->harbor);
	skynet_handle_init(config->harbor);
	skynet_mq_init();
	if (skynet_module_init(config->module_path))
		return 1;
	skynet_timer_init();
	skynet_socket_init();
	skynet_profile_enable(config->profile);

	struct skynet_context *ctx = skynet_context_new(config->logservice, config->logger);
	if (ctx == NULL) {
		fprintf(stderr, "skiff: %s: Can't launch %s service (keys 'logservice'/'logger')\n",
		        config->config_file, config->logservice);
		return 1;
	}

	skynet_handle_namehandle(skynet_context_handle(ctx), "logger");
	/* The logger does not keep the node alive; it is flushed and released last. */
	skynet_context_reserve(ctx);
	skynet_socket_log_limits();

	if (bootstrap(ctx, config->bootstrap, config->config_file))
		return 1;

	start(config->thread, config->worker_spin);

	/* harbor_exit may call socket send, so it should exit before socket_free */
	skynet_harbor_exit();
	drain_released_queues();
	/* Write what is still queued for the logger, then let it go too. */
	skynet_context_dispatchall(ctx);
	skynet_handle_retire(skynet_context_handle(ctx));
	skynet_context_release(ctx);
	drain_released_queues();
	skynet_socket_free();
	if (config->daemon)
		daemon_exit(config->daemon);
	skynet_timer_exit();
	skynet_handle_exit();
	skynet_mq_exit();
	skynet_module_exit();
	return skynet_exit_status();
}
