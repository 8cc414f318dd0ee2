/*
 * linktool.h — what the tools that play a hostile or scripted peer over real
 * TCP share (tests/multinode/hattack.c and hcred.c,
 * tests/cluster/cluster_attack.c): the monotonic clock, dialing HOST:PORT, a
 * write of every byte, and the link callbacks such a peer does not care about.
 * Errors here end the tool with status 2 and a line on stderr: a tool that
 * cannot even reach the node has nothing to report.
 */
#ifndef SKIFF_TESTS_LINKTOOL_H
#define SKIFF_TESTS_LINKTOOL_H

#include <stddef.h>
#include <stdint.h>

#include "link.h"

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t tool_now_ms(void);
/* A TCP connection to host:port (numeric IPv4); exits(2) if refused. */
int tool_dial(const char *host, int port);
/* Writes all n bytes (retrying after EINTR); 0, or -1 once the peer is gone. */
int tool_write_all(int fd, const uint8_t *p, size_t n);
/* on_established callback: sets the int that `ud` points to. */
void tool_note_established(void *ud, struct link *l);
/* on_record callback for a peer that reads nothing. */
void tool_ignore_record(void *ud, struct link *l, unsigned type, uint8_t *data, size_t len);

#endif
