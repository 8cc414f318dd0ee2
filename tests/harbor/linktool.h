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
/* Waits up to poll_ms for bytes from fd and reads them into buf: the count,
 * 0 when nothing came, -1 when the other side closed.  Once tool_now_ms() is
 * past `deadline` it prints "TIMEOUT" and exits with status 1. */
long tool_read(int fd, uint8_t *buf, size_t cap, int poll_ms, uint64_t deadline);
/* Where the link was when the other side closed, for an "EOF" line:
 * "handshake", "established", or "closed:<reason>" (a CLOSE record, or our
 * own end refused); written in buf when it needs to be. */
const char *tool_link_state(const struct link *l, int established, char *buf, size_t cap);
/* on_established callback: sets the int that `ud` points to. */
void tool_note_established(void *ud, struct link *l);
/* on_record callback for a peer that reads nothing. */
void tool_ignore_record(void *ud, struct link *l, unsigned type, uint8_t *data, size_t len);

#endif
