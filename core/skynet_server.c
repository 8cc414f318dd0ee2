/*
 * skynet_server.c — service contexts: creation, reference counting, sending and
 * dispatching messages.
 *
 * Lifetime: a context starts with two references, one owned by the handle
 * table and one held while init runs. Retiring the handle drops the first; any
 * thread holding a handle grabs a reference for the duration of its use. The
 * context is freed (module released, queue marked for release) when the count
 * reaches zero; a worker then drains the queue, answering every message that
 * expected a reply with PTYPE_ERROR.
 *
 * Ownership: see skynet.h. Every path of skynet_send either hands `data` to a
 * queue / the harbor, or frees it (DONTCOPY) before returning an error.
 */
#include "skynet_server.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "skynet.h"
#include "skynet_handle.h"
#include "skynet_harbor.h"
#include "skynet_log.h"
#include "skynet_module.h"
#include "skynet_socket.h"
#include "skynet_monitor.h"
#include "skynet_mq.h"
#include "skynet_timer.h"
#include "skynet_context.h"
#include "skynet_metrics.h"

struct skynet_node {
	ATOM_INT total;
	int init;
	uint32_t monitor_exit;
	pthread_key_t handle_key;
	bool profile; /* default is on */
};

static struct skynet_node G_NODE;

/* The service a worker is dispatching, or -(THREAD_KIND) for system threads. */
static _Thread_local uint32_t current_handle_tls;
static _Thread_local bool current_handle_set;

int skynet_context_total(void)
{
	return ATOM_LOAD(&G_NODE.total);
}

static void context_inc(void)
{
	ATOM_FINC(&G_NODE.total);
}

static void context_dec(void)
{
	/* the last service gone: the timer thread, maybe asleep until its next
	 * timer, is the one that ends the node */
	if (ATOM_FDEC(&G_NODE.total) == 1)
		skynet_timer_ring();
}

uint32_t skynet_current_handle(void)
{
	if (current_handle_set)
		return current_handle_tls;
	return (uint32_t)(-THREAD_MAIN);
}

static void set_current_handle(uint32_t h)
{
	current_handle_tls = h;
	current_handle_set = true;
}

struct drop_t {
	uint32_t handle;
};

/* Standard drop: free the payload and tell the sender its message died with
 * the service (PTYPE_ERROR, also for session 0 = "that service is down"). */
static void drop_message(struct skynet_message *msg, void *ud)
{
	struct drop_t *d = ud;
	skynet_message_drop_payload(msg);
	uint32_t source = d->handle;
	assert(source);
	if (msg->source != 0)
		skynet_send(NULL, source, msg->source, PTYPE_ERROR, msg->session, NULL, 0);
}

/*
 * Once its queue is pushed, a new service may run on another worker, exit
 * and be freed at once (an init that fails, a service that exits in its
 * start): everything read from ctx is read before the push, and *handle
 * carries the handle out for callers that must not touch the pointer.
 */
static struct skynet_context *context_new(const char *name, const char *param, uint32_t *handle)
{
	struct skynet_module *mod = skynet_module_query(name);

	if (mod == NULL)
		return NULL;

	void *inst = skynet_module_instance_create(mod);
	if (inst == NULL)
		return NULL;
	struct skynet_context *ctx = skynet_malloc(sizeof(*ctx));

	ctx->mod = mod;
	ctx->instance = inst;
	ATOM_INIT(&ctx->ref, 2);
	ctx->cb = NULL;
	ctx->cb_ud = NULL;
	ctx->session_id = 0;
	ATOM_INIT(&ctx->logfile, (FILE *)NULL);

	ctx->init = false;
	ATOM_INIT(&ctx->endless, false);

	ctx->cpu_cost = 0;
	ctx->cpu_start = 0;
	ctx->message_count = 0;
	ctx->profile = G_NODE.profile;
	/* Should set to 0 first to avoid skynet_handle_retireall get an uninitialized handle */
	ctx->handle = 0;
	ctx->handle = skynet_handle_register(ctx);
	struct message_queue *queue = ctx->queue = skynet_mq_create(ctx->handle);
	/* init function maybe use ctx->handle, so it must init at last */
	context_inc();

	int r = skynet_module_instance_init(mod, inst, ctx, param);
	if (r == 0) {
		struct skynet_context *ret = skynet_context_release(ctx);
		if (ret) {
			ctx->init = true;
			*handle = ctx->handle;
			skynet_error(ret, "LAUNCH %s %s", name, param ? param : "");
		}
		skynet_globalmq_push(queue);
		return ret;
	} else {
		skynet_error(ctx, "error: launch %s FAILED", name);
		uint32_t failed = ctx->handle;
		skynet_context_release(ctx);
		skynet_handle_retire(failed);
		struct drop_t d = { failed };
		skynet_mq_release(queue, drop_message, &d);
		return NULL;
	}
}

struct skynet_context *skynet_context_new(const char *name, const char *param)
{
	uint32_t handle = 0;
	return context_new(name, param, &handle);
}

uint32_t skynet_context_launch(const char *name, const char *param)
{
	uint32_t handle = 0;
	return context_new(name, param, &handle) ? handle : 0;
}

int skynet_context_newsession(struct skynet_context *ctx)
{
	/* session always be a positive number */
	int session = ++ctx->session_id;
	if (session <= 0) {
		ctx->session_id = 1;
		return 1;
	}
	return session;
}

int skynet_context_mqlen(struct skynet_context *ctx)
{
	return skynet_mq_length(ctx->queue);
}

void skynet_context_grab(struct skynet_context *ctx)
{
	ATOM_FINC(&ctx->ref);
}

void skynet_context_reserve(struct skynet_context *ctx)
{
	skynet_context_grab(ctx);
	/* don't count the context reserved, because skynet abort (the worker threads
	 * terminate) only when the total context is 0 . the reserved context will be
	 * release at last. */
	context_dec();
}

static void delete_context(struct skynet_context *ctx)
{
	atomic_fetch_add_explicit(&ctx->mod->retired_messages, ctx->message_count, memory_order_relaxed);
	atomic_fetch_add_explicit(&ctx->mod->retired_cpu_us, ctx->cpu_cost, memory_order_relaxed);
	FILE *f = ATOM_LOAD(&ctx->logfile);
	if (f)
		fclose(f);
	skynet_module_instance_release(ctx->mod, ctx->instance);
	skynet_mq_mark_release(ctx->queue);
	skynet_free(ctx);
	context_dec();
}

struct skynet_context *skynet_context_release(struct skynet_context *ctx)
{
	if (ATOM_FDEC(&ctx->ref) == 1) {
		delete_context(ctx);
		return NULL;
	}
	return ctx;
}

int skynet_context_push(uint32_t handle, struct skynet_message *message)
{
	struct skynet_context *ctx = skynet_handle_grab(handle);
	if (ctx == NULL)
		return -1;
	skynet_mq_push(ctx->queue, message);
	skynet_context_release(ctx);

	return 0;
}

void skynet_context_endless(uint32_t handle)
{
	struct skynet_context *ctx = skynet_handle_grab(handle);
	if (ctx == NULL)
		return;
	ATOM_STORE(&ctx->endless, true);
	skynet_context_release(ctx);
}

int skynet_isremote(struct skynet_context *ctx, uint32_t handle, int *harbor)
{
	int ret = skynet_harbor_message_isremote(handle);
	if (harbor)
		*harbor = (int)(handle >> HANDLE_REMOTE_SHIFT);
	return ret;
}

/*
 * Profiling (ctx->profile): cpu_cost sums the worker thread's CPU clock
 * (CLOCK_THREAD_CPUTIME_ID, which does not advance while the thread sleeps or
 * is preempted) over the service's callbacks. Reading that clock is a system
 * call, so a worker shares one reading between two consecutive messages: *clock
 * is the reading that ended the message this worker dispatched last (0 when
 * there is none: at start-up, and after the worker found nothing to do and may
 * have slept, see skynet_context_message_dispatch), and becomes the start of
 * this one. The scheduler's few hundred instructions between two messages
 * (popping the next queue and message) are then charged to the next service,
 * below the clock's 1 us resolution; sleeping and the futex calls around it
 * never are. n back-to-back messages cost n + 1 readings instead of 2n.
 * cpu_start stays the start of the message being handled (STAT time).
 */
static void dispatch_message(struct skynet_context *ctx, struct skynet_message *msg, uint64_t *clock)
{
	assert(ctx->init);
	set_current_handle(ctx->handle);
	int type = msg->sz >> MESSAGE_TYPE_SHIFT;
	size_t sz = msg->sz & MESSAGE_TYPE_MASK;
	FILE *f = ATOM_LOAD(&ctx->logfile);
	if (f)
		skynet_log_output(f, msg->source, type, msg->session, msg->data, sz);
	/* Single writer (the dispatching worker): a relaxed load+store, no RMW. */
	atomic_store_explicit(&ctx->message_count,
	                      atomic_load_explicit(&ctx->message_count, memory_order_relaxed) + 1,
	                      memory_order_relaxed);
	int reserve_msg;
	if (ctx->profile) {
		uint64_t start = *clock ? *clock : skynet_thread_time();
		ctx->cpu_start = start;
		reserve_msg = ctx->cb(ctx, ctx->cb_ud, type, msg->session, msg->source, msg->data, sz);
		uint64_t end = skynet_thread_time();
		*clock = end;
		uint64_t cost_time = end - start;
		atomic_store_explicit(&ctx->cpu_cost,
		                      atomic_load_explicit(&ctx->cpu_cost, memory_order_relaxed) + cost_time,
		                      memory_order_relaxed);
	} else {
		*clock = 0; /* this callback's time must not reach the next profiled one */
		reserve_msg = ctx->cb(ctx, ctx->cb_ud, type, msg->session, msg->source, msg->data, sz);
	}
	if (!reserve_msg)
		skynet_free(msg->data);
}

void skynet_context_dispatchall(struct skynet_context *ctx)
{
	/* for skynet_error */
	struct skynet_message msg;
	struct message_queue *q = ctx->queue;
	uint64_t clock = 0;
	while (!skynet_mq_pop(q, &msg)) {
		if (ctx->cb)
			dispatch_message(ctx, &msg, &clock);
		else
			skynet_free(msg.data);
	}
}

/* The profiling clock reading that ended this worker's last message, 0 if
 * none (see dispatch_message). Each worker thread has its own. */
static _Thread_local uint64_t worker_clock;

static struct message_queue *dispatch_turn(struct skynet_monitor *sm, struct message_queue *q, int weight);

struct message_queue *skynet_context_message_dispatch(struct skynet_monitor *sm, struct message_queue *q,
                                                      int weight)
{
	struct message_queue *next = dispatch_turn(sm, q, weight);
	if (next == NULL)
		worker_clock = 0; /* the worker may sleep now: start afresh */
	return next;
}

static struct message_queue *dispatch_turn(struct skynet_monitor *sm, struct message_queue *q, int weight)
{
	if (q == NULL) {
		q = skynet_globalmq_pop();
		if (q == NULL)
			return NULL;
	}

	uint32_t handle = skynet_mq_handle(q);

	struct skynet_context *ctx = skynet_handle_grab(handle);
	if (ctx == NULL) {
		struct drop_t d = { handle };
		skynet_mq_release(q, drop_message, &d);
		worker_clock = 0; /* the drop's work is nobody's message */
		return skynet_globalmq_pop();
	}

	int n = 1;
	struct skynet_message msg;

	for (int i = 0; i < n; i++) {
		if (skynet_mq_pop(q, &msg)) {
			skynet_context_release(ctx);
			return skynet_globalmq_pop();
		} else if (i == 0 && weight >= 0) {
			n = skynet_mq_length(q);
			n >>= weight;
		}
		int overload = skynet_mq_overload(q);
		if (overload) {
			skynet_metrics_overload();
			skynet_error(ctx, "error: May overload, message queue length = %d", overload);
		}

		skynet_monitor_trigger(sm, msg.source, handle);

		if (ctx->cb == NULL)
			skynet_free(msg.data);
		else
			dispatch_message(ctx, &msg, &worker_clock);

		skynet_monitor_trigger(sm, 0, 0);
	}

	assert(q == ctx->queue);
	/* Our reference goes first: if the service exited in this turn, it is
	 * the last one, and the service is deleted (its queue marked released)
	 * before any other worker can pop q. Pushed back first, q would be
	 * popped by a worker that finds no context and a queue not yet
	 * released, and pushes it back again, and again, for as long as the
	 * deletion (lua_close) runs. */
	skynet_context_release(ctx);
	struct message_queue *nq = skynet_globalmq_pop();
	if (nq) {
		/* If global mq is not empty , push q back, and return next queue (nq)
		 * Else (global mq is empty or block, don't push q back, and return q
		 * again (for next dispatch) */
		skynet_globalmq_push(q);
		q = nq;
	}

	return q;
}

/* Copy or adopt the payload and pack the type into sz. Returns -2 (after
 * freeing a DONTCOPY payload) when the payload is too large. */
static int filter_args(struct skynet_context *context, int type, int *session, void **data, size_t *sz)
{
	int needcopy = !(type & PTYPE_TAG_DONTCOPY);
	int allocsession = type & PTYPE_TAG_ALLOCSESSION;
	type &= 0xff;

	if (allocsession) {
		assert(*session == 0);
		*session = skynet_context_newsession(context);
	}

	if (needcopy && *data) {
		char *msg = skynet_malloc(*sz + 1);
		memcpy(msg, *data, *sz);
		msg[*sz] = '\0';
		*data = msg;
	}

	*sz |= (size_t)type << MESSAGE_TYPE_SHIFT;
	return 0;
}

int skynet_send(struct skynet_context *context, uint32_t source, uint32_t destination, int type, int session,
                void *data, size_t sz)
{
	if ((sz & MESSAGE_TYPE_MASK) != sz) {
		skynet_error(context, "error: The message to %x is too large", destination);
		if (type & PTYPE_TAG_DONTCOPY)
			skynet_free(data);
		return -2;
	}
	filter_args(context, type, &session, (void **)&data, &sz);

	if (source == 0)
		source = context->handle;

	if (destination == 0) {
		if (data) {
			skynet_error(context, "Destination address can't be 0");
			skynet_free(data);
			return -1;
		}

		return session;
	}
	if (skynet_harbor_message_isremote(destination)) {
		struct remote_message *rmsg = skynet_malloc(sizeof(*rmsg));
		rmsg->destination.handle = destination;
		rmsg->message = data;
		rmsg->sz = sz & MESSAGE_TYPE_MASK;
		rmsg->type = sz >> MESSAGE_TYPE_SHIFT;
		skynet_harbor_send(rmsg, source, session);
	} else {
		struct skynet_message smsg;
		smsg.source = source;
		smsg.session = session;
		smsg.data = data;
		smsg.sz = sz;

		if (skynet_context_push(destination, &smsg)) {
			skynet_free(data);
			return -1;
		}
	}
	return session;
}

int skynet_sendname(struct skynet_context *context, uint32_t source, const char *addr, int type, int session,
                    void *data, size_t sz)
{
	if (source == 0)
		source = context->handle;
	uint32_t des = 0;
	if (addr[0] == ':') {
		des = strtoul(addr + 1, NULL, 16);
	} else if (addr[0] == '.') {
		des = skynet_handle_findname(addr + 1);
		if (des == 0) {
			if (type & PTYPE_TAG_DONTCOPY)
				skynet_free(data);
			return -1;
		}
	} else {
		if ((sz & MESSAGE_TYPE_MASK) != sz) {
			skynet_error(context, "error: The message to %s is too large", addr);
			if (type & PTYPE_TAG_DONTCOPY)
				skynet_free(data);
			return -2;
		}
		filter_args(context, type, &session, (void **)&data, &sz);

		struct remote_message *rmsg = skynet_malloc(sizeof(*rmsg));
		memset(rmsg->destination.name, 0, GLOBALNAME_LENGTH);
		size_t n = strlen(addr);
		memcpy(rmsg->destination.name, addr, n < GLOBALNAME_LENGTH ? n : GLOBALNAME_LENGTH);
		rmsg->destination.handle = 0;
		rmsg->message = data;
		rmsg->sz = sz & MESSAGE_TYPE_MASK;
		rmsg->type = sz >> MESSAGE_TYPE_SHIFT;

		skynet_harbor_send(rmsg, source, session);
		return session;
	}

	return skynet_send(context, source, des, type, session, data, sz);
}

uint32_t skynet_context_handle(struct skynet_context *ctx)
{
	return ctx->handle;
}

void skynet_callback(struct skynet_context *context, void *ud, skynet_cb cb)
{
	context->cb = cb;
	context->cb_ud = ud;
}

void skynet_context_send(struct skynet_context *ctx, void *msg, size_t sz, uint32_t source, int type,
                         int session)
{
	struct skynet_message smsg;
	smsg.source = source;
	smsg.session = session;
	smsg.data = msg;
	smsg.sz = sz | (size_t)type << MESSAGE_TYPE_SHIFT;

	skynet_mq_push(ctx->queue, &smsg);
}

void skynet_globalinit(void)
{
	ATOM_INIT(&G_NODE.total, 0);
	G_NODE.monitor_exit = 0;
	G_NODE.init = 1;
	G_NODE.profile = true;
	/* set mainthread's key */
	skynet_initthread(THREAD_MAIN);
}

void skynet_globalexit(void)
{
	G_NODE.init = 0;
}

void skynet_initthread(int m)
{
	set_current_handle((uint32_t)(-m));
}

void skynet_profile_enable(int enable)
{
	G_NODE.profile = (bool)enable;
}

/* ---- pieces used by skynet_command.c ---- */

static atomic_int exit_status;

void skynet_set_exit_status(int status)
{
	atomic_store(&exit_status, status);
}

int skynet_exit_status(void)
{
	return atomic_load(&exit_status);
}

uint32_t skynet_monitor_exit_handle(void)
{
	return G_NODE.monitor_exit;
}

void skynet_set_monitor_exit_handle(uint32_t handle)
{
	G_NODE.monitor_exit = handle;
}

void skynet_handle_exit_service(struct skynet_context *context, uint32_t handle)
{
	if (handle == 0) {
		handle = context->handle;
		skynet_error(context, "KILL self");
	} else {
		skynet_error(context, "KILL :%0x", handle);
	}
	if (G_NODE.monitor_exit)
		skynet_send(context, handle, G_NODE.monitor_exit, PTYPE_CLIENT, 0, NULL, 0);
	skynet_handle_retire(handle);
}
