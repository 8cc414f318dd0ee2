/*
 * assembly.h — a cluster link's incoming multi-part messages, put back together.
 *
 * A message too big for one frame arrives as a first frame (Request or
 * Response with total > 0, an id and the first chunk) and then Part frames of
 * that id, the last one flagged (proto/cluster.proto).  Messages interleave;
 * each one's parts come in order.  This unit is that state machine alone, with
 * no link, service or runtime: the cluster service passes it the frames'
 * fields and gets back whole messages, or an error after which the link
 * must close (the peer broke the protocol or a limit).
 *
 * Limits, set per link:
 *   max_message  a message larger than this is not stored: its parts are
 *                checked and counted, then it completes with buf == NULL so
 *                the receiver can answer "too large" and the link goes on;
 *   max_pending  the sizes of the stored unfinished messages together never
 *                exceed this (the sender keeps to the same bound); a first
 *                frame that would is an error.
 *
 * Each message carries a `meta` pointer from its first frame (what the
 * receiver needs to deliver it: session, destination, ...), owned by the
 * assembly until the message is handed back, freed with meta_free if the
 * assembly is dropped first.
 */
#ifndef SKIFF_CLUSTER_ASSEMBLY_H
#define SKIFF_CLUSTER_ASSEMBLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct assembly; /* every unfinished multi-part message of one link */

/* A message whose last part arrived. */
struct assembly_msg {
	void *meta;   /* as given to assembly_begin */
	uint8_t *buf; /* malloc'd, headroom + total bytes, payload at buf + headroom;
	                * NULL: discarded, total is over max_message */
	uint64_t total;
};

/* NULL when out of memory.  meta_free may be NULL. */
struct assembly *assembly_new(size_t max_message, size_t max_pending, void (*meta_free)(void *));
/* Drops every unfinished message (freeing its meta); accepts NULL. */
void assembly_free(struct assembly *a);

/* A first frame: message `id` of `total` bytes (> 0), its first `len` bytes
 * at `data`.  `headroom` free bytes are kept before the payload in the final
 * buffer (the cluster service puts a response's status byte there).
 * Returns 0, and meta now belongs to the assembly; or -1 with *why set (a
 * static string) and meta still the caller's: the link must close. */
int assembly_begin(struct assembly *a, uint32_t id, uint64_t total, size_t headroom, void *meta,
                   const uint8_t *data, size_t len, const char **why);
/* A Part frame.  Returns 0 (more to come), 1 (the message is whole: *out
 * holds it, and its buf and meta are the caller's), or -1 with *why set. */
int assembly_part(struct assembly *a, uint32_t id, bool last, const uint8_t *data, size_t len,
                  struct assembly_msg *out, const char **why);

/* Bytes reserved by stored unfinished messages (<= max_pending). */
size_t assembly_pending(const struct assembly *a);
/* Unfinished messages, stored or discarding. */
size_t assembly_count(const struct assembly *a);

#endif
