/*
 * skynet_log.h — per-service message logs (LOGON / LOGOFF, needs env `logpath`).
 */
#ifndef SKYNET_LOG_H
#define SKYNET_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct skynet_context;

FILE *skynet_log_open(struct skynet_context *ctx, uint32_t handle);
void skynet_log_close(struct skynet_context *ctx, FILE *f, uint32_t handle);
void skynet_log_output(FILE *f, uint32_t source, int type, int session, void *buffer, size_t sz);

#endif
