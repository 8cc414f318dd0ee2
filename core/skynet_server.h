/*
 * skynet_server.h — service contexts, dispatch, and the runtime-internal send API.
 */
#ifndef SKYNET_SERVER_H
#define SKYNET_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct skynet_context;
struct skynet_message;
struct skynet_monitor;

/* Launch a service of C module `name` with `parm`: returns the context (its
 * handle is skynet_context_handle) or NULL if the module is missing or its init
 * failed. Messages queued to a failed service get PTYPE_ERROR back. */
struct skynet_context *skynet_context_new(const char *name, const char *parm);
/* The new service's handle, 0 if it failed: for callers that must not keep the pointer */
uint32_t skynet_context_launch(const char *name, const char *parm);
void skynet_context_grab(struct skynet_context *);
/* Like grab, but the context no longer counts towards keeping the node alive
 * (the harbor service uses this). */
void skynet_context_reserve(struct skynet_context *ctx);
/* Drop one reference; returns ctx, or NULL when that was the last one and the
 * context was freed. */
struct skynet_context *skynet_context_release(struct skynet_context *);
uint32_t skynet_context_handle(struct skynet_context *);
/* Push a message to handle's queue: 0, or -1 if no such service (the caller
 * still owns message->data then). */
int skynet_context_push(uint32_t handle, struct skynet_message *message);
/* Push to a context we hold; the runtime owns msg from here. */
void skynet_context_send(struct skynet_context *context, void *msg, size_t sz, uint32_t source, int type,
                         int session);
int skynet_context_newsession(struct skynet_context *);
/* Messages waiting in ctx's queue (STAT mqlen without the string round trip):
 * transports use it to flush their batched output when they go idle. */
int skynet_context_mqlen(struct skynet_context *ctx);
/* Worker step: dispatch messages of one queue; returns the next queue to serve. */
struct message_queue *skynet_context_message_dispatch(struct skynet_monitor *, struct message_queue *,
                                                      int weight);
int skynet_context_total(void);
/* Dispatch everything queued to ctx on the calling thread (used to flush the
 * logger on a failed boot). */
void skynet_context_dispatchall(struct skynet_context *context);
/* Mark a context as stuck in an endless loop (monitor thread). */
void skynet_context_endless(uint32_t handle);

void skynet_globalinit(void);
void skynet_globalexit(void);
void skynet_initthread(int m);

void skynet_profile_enable(int enable);

/* Thread kinds stored as the "current handle" of system threads. */
#define THREAD_WORKER 0
#define THREAD_MAIN 1
#define THREAD_SOCKET 2
#define THREAD_TIMER 3
#define THREAD_MONITOR 4

/* Internal pieces shared by skynet_server.c and skynet_command.c. */
struct skynet_context *skynet_context_from_handle_grab(uint32_t handle);
void skynet_handle_exit_service(struct skynet_context *context, uint32_t handle);
uint32_t skynet_monitor_exit_handle(void);
void skynet_set_monitor_exit_handle(uint32_t handle);
/* The process exit status set by `ABORT status` (0 by default). */
void skynet_set_exit_status(int status);
int skynet_exit_status(void);

#endif
