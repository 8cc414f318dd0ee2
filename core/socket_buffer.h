/*
 * socket_buffer.h — what a service hands the socket layer to send.
 *
 * Ownership depends on the kind:
 *   SOCKET_BUFFER_MEMORY      `buffer` came from skynet_malloc; the socket layer owns it
 *                             from the call on, on every path (errors included).
 *   SOCKET_BUFFER_OBJECT      `buffer` is a user object read through the interface given
 *                             to socket_server_userobject(); the layer calls its free().
 *   SOCKET_BUFFER_RAWPOINTER  the caller keeps `buffer`; the layer copies whatever it
 *                             cannot write at once, so the caller may reuse it on return.
 */
#ifndef SKYNET_SOCKET_BUFFER_H
#define SKYNET_SOCKET_BUFFER_H

#include <stddef.h>

#define SOCKET_BUFFER_MEMORY 0
#define SOCKET_BUFFER_OBJECT 1
#define SOCKET_BUFFER_RAWPOINTER 2

struct socket_sendbuffer {
	int id;
	int type;
	const void *buffer;
	size_t sz;
};

#endif
