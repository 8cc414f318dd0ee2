/*
 * skynet_metrics.c — collect runtime counters on demand.
 */
#include "skynet_metrics.h"

#include <stdatomic.h>
#include <string.h>

#include "skynet_context.h"
#include "skynet_handle.h"
#include "skynet_module.h"
#include "skynet_mq.h"

static _Atomic uint64_t timer_events;
static _Atomic uint64_t overloads;

void skynet_metrics_timer_event(void)
{
	atomic_fetch_add_explicit(&timer_events, 1, memory_order_relaxed);
}

void skynet_metrics_overload(void)
{
	atomic_fetch_add_explicit(&overloads, 1, memory_order_relaxed);
}

struct collect {
	struct skynet_metrics *m;
	int topn;
};

static struct skynet_metrics_module *module_slot(struct skynet_metrics *m, const char *name)
{
	for (int i = 0; i < m->nmodule; i++)
		if (m->module[i].name == name || strcmp(m->module[i].name, name) == 0)
			return &m->module[i];
	return NULL;
}

static void visit(struct skynet_context *ctx, void *ud)
{
	struct collect *c = ud;
	struct skynet_metrics *m = c->m;
	uint64_t msgs = atomic_load_explicit(&ctx->message_count, memory_order_relaxed);
	uint64_t cpu = atomic_load_explicit(&ctx->cpu_cost, memory_order_relaxed);
	m->services++;
	m->messages += msgs;
	m->cpu_us += cpu;
	struct skynet_metrics_module *mod = module_slot(m, ctx->mod->name);
	if (mod) {
		mod->services++;
		mod->messages += msgs;
		mod->cpu_us += cpu;
	}
	int len = skynet_mq_length(ctx->queue);
	if (len <= 0 || c->topn <= 0)
		return;
	/* insertion into the sorted top-n */
	int n = m->nqueue;
	if (n == c->topn && m->queue[n - 1].length >= len)
		return;
	int i = n < c->topn ? n : n - 1;
	while (i > 0 && m->queue[i - 1].length < len) {
		m->queue[i] = m->queue[i - 1];
		i--;
	}
	m->queue[i].handle = ctx->handle;
	m->queue[i].length = len;
	m->queue[i].module = ctx->mod->name;
	if (n < c->topn)
		m->nqueue++;
}

void skynet_metrics_collect(struct skynet_metrics *m, int topn)
{
	memset(m, 0, sizeof(*m));
	if (topn > SKYNET_METRICS_TOPQ)
		topn = SKYNET_METRICS_TOPQ;
	int nm = skynet_module_count();
	for (int i = 0; i < nm && i < SKYNET_METRICS_MODULES; i++) {
		struct skynet_module *mod = skynet_module_get(i);
		struct skynet_metrics_module *out = &m->module[m->nmodule++];
		out->name = mod->name;
		out->messages = atomic_load_explicit(&mod->retired_messages, memory_order_relaxed);
		out->cpu_us = atomic_load_explicit(&mod->retired_cpu_us, memory_order_relaxed);
		m->messages += out->messages;
		m->cpu_us += out->cpu_us;
	}
	struct collect c = { m, topn };
	skynet_handle_foreach(visit, &c);
	m->timer_events = atomic_load_explicit(&timer_events, memory_order_relaxed);
	m->overloads = atomic_load_explicit(&overloads, memory_order_relaxed);
}
