/*
 * socket_server.c — every socket of the node, driven by one thread with epoll.
 *
 * Threads and what they may touch:
 *   - The socket thread (socket_server_poll) owns the slot table: it creates and
 *     destroys sockets, reads, and writes queued data.
 *   - Any thread may reserve a slot (CAS INVALID -> RESERVE), create a listen or UDP
 *     socket it then hands over, queue a request, or write directly (below).
 *
 * Requests travel through `pending`, a vector under a mutex; the producer that makes
 * it non-empty writes the eventfd, and the socket thread swaps the whole vector out
 * after reading the eventfd, so no wakeup is lost and no request blocks a worker.
 *
 * Direct write invariant. A worker writes to a socket itself only while holding
 * the socket's dw_lock and seeing: the same id, a connected TCP socket, no request
 * of this slot in flight (`sending` == 0), both send lists empty and no leftover
 * direct-write buffer. The lists become non-empty only while the socket thread
 * handles a send request (so `sending` > 0 then), and they, the leftover buffer and
 * the socket state only change under dw_lock. Hence worker and socket thread never
 * write the same fd at once, and bytes leave in the order they were sent: the
 * leftover of a partial direct write is older than anything queued after it and is
 * put at the head of the high-priority list before the socket thread writes.
 *
 * Events for a socket closed earlier in the same epoll batch are cleared, so a slot
 * reused within the batch never sees its predecessor's readiness.
 */
#include "socket_server.h"
#include "socket_unix.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "skynet_malloc.h"
#include "spinlock.h"

#define MAX_SOCKET_P 16
#define MAX_SOCKET (1 << MAX_SOCKET_P)
#define MAX_EVENT 64
/* Accept back-off when descriptors run out: the first pause, its ceiling, and
 * how many listeners can be paused at once (more just keep shedding). */
#define ACCEPT_PAUSE_MIN_MS 50
#define ACCEPT_PAUSE_MAX_MS 1000
#define ACCEPT_PAUSED_MAX 64
#define MIN_READ_BUFFER 64
#define MAX_READ_BUFFER (1 << 20)
#define WARNING_SIZE (1024 * 1024)
#define MAX_UDP_PACKAGE 65535
#define MAX_INFO 128

#define SOCKET_TYPE_INVALID 0
#define SOCKET_TYPE_RESERVE 1
#define SOCKET_TYPE_PLISTEN 2
#define SOCKET_TYPE_LISTEN 3
#define SOCKET_TYPE_CONNECTING 4
#define SOCKET_TYPE_CONNECTED 5
#define SOCKET_TYPE_HALFCLOSE_READ 6
#define SOCKET_TYPE_HALFCLOSE_WRITE 7
#define SOCKET_TYPE_PACCEPT 8
#define SOCKET_TYPE_BIND 9

#define PROTOCOL_TCP 0
#define PROTOCOL_UDP 1
#define PROTOCOL_UDPv6 2
#define PROTOCOL_UNKNOWN 255

#define HASH_ID(id) (((unsigned)(id)) % MAX_SOCKET)

struct write_buffer {
	struct write_buffer *next;
	const void *buffer; /* what to release: a skynet_malloc block or a user object */
	const char *ptr;    /* next byte to write */
	size_t sz;          /* bytes left */
	bool userobject;
	bool partial; /* some bytes already written: must not be interleaved */
	uint8_t udp_address[UDP_ADDRESS_SIZE];
};

struct wb_list {
	struct write_buffer *head;
	struct write_buffer *tail;
};

struct socket {
	uintptr_t opaque;
	struct wb_list high;
	struct wb_list low;
	int64_t wb_size;   /* bytes in the lists */
	int64_t warn_size; /* next WARNING threshold; 0 = none raised */
	atomic_ullong read_bytes;
	atomic_ullong write_bytes;
	atomic_ullong rtime;
	atomic_ullong wtime;
	ATOM_UINT sending; /* requests for this slot queued but not yet handled */
	ATOM_INT id;
	ATOM_INT type;
	int fd;
	ATOM_INT protocol; /* read by workers deciding on a direct write */
	bool reading;
	bool writing;
	bool closing;               /* close requested, flushing the lists */
	bool close_reported;        /* CLOSE already delivered */
	bool accept_paused;         /* listener out of descriptors: EPOLLIN off until accept_resume */
	uint32_t accept_backoff_ms; /* last pause; 0 after a successful accept */
	uint64_t accept_resume;     /* monotonic ms */
	uint32_t events;            /* what epoll watches now */
	int rbuf_size;
	bool has_peer; /* UDP default destination set */
	uint8_t udp_peer[UDP_ADDRESS_SIZE];
	struct spinlock dw_lock;
	struct write_buffer *dw; /* leftover of a partial direct write */
};

/* What a send request carries; RAWPOINTER data was copied before queueing. */
struct send_item {
	const void *buffer;
	size_t sz;
	bool userobject;
};

struct request {
	char type;
	int id;
	uintptr_t opaque;
	int fd;
	int port;
	int flag;
	char *host; /* connect: skynet_malloc'd, freed by the socket thread */
	struct send_item send;
	uint8_t udp_address[UDP_ADDRESS_SIZE];
};

struct request_vec {
	struct request *r;
	size_t n;
	size_t cap;
};

struct socket_server {
	atomic_ullong time;
	uint64_t (*clock)(void); /* refreshes `time` after each epoll wait; may be NULL */
	int epfd;
	int ctrl_fd;                   /* eventfd: requests are pending */
	int reserve_fd;                /* spare fd to shed connections when out of descriptors */
	int paused[ACCEPT_PAUSED_MAX]; /* ids of paused listeners (socket thread only) */
	int npaused;
	ATOM_UINT alloc_id;
	pthread_mutex_t qlock;
	struct request_vec pending; /* under qlock */
	struct request_vec work;    /* socket thread only */
	size_t work_index;
	bool checkctrl;
	int event_n;
	int event_index;
	bool event_again; /* re-read the current event's socket (read buffer was full) */
	struct socket_object_interface soi;
	bool has_soi;
	struct epoll_event ev[MAX_EVENT];
	struct socket slot[MAX_SOCKET];
	char buffer[MAX_INFO];
	uint8_t udpbuffer[MAX_UDP_PACKAGE];
};

union sockaddr_all {
	struct sockaddr s;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
	struct sockaddr_un un;
};

/* ---- small helpers ---- */

static inline struct socket *slot_of(struct socket_server *ss, int id)
{
	return &ss->slot[HASH_ID(id)];
}

static void set_nonblocking(int fd)
{
	int flag = fcntl(fd, F_GETFL, 0);
	if (flag >= 0)
		fcntl(fd, F_SETFL, flag | O_NONBLOCK);
}

static void set_keepalive(int fd)
{
	int keepalive = 1;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &keepalive, sizeof(keepalive));
}

static uint64_t now_of(struct socket_server *ss)
{
	return atomic_load_explicit(&ss->time, memory_order_relaxed);
}

static void stat_write(struct socket_server *ss, struct socket *s, size_t n)
{
	atomic_fetch_add_explicit(&s->write_bytes, n, memory_order_relaxed);
	atomic_store_explicit(&s->wtime, now_of(ss), memory_order_relaxed);
}

static void release_item(struct socket_server *ss, const struct send_item *item)
{
	if (item->buffer == NULL)
		return;
	if (item->userobject)
		ss->soi.free((void *)item->buffer);
	else
		skynet_free((void *)item->buffer);
}

static void free_wb(struct socket_server *ss, struct write_buffer *wb)
{
	struct send_item item = { wb->buffer, 0, wb->userobject };
	release_item(ss, &item);
	skynet_free(wb);
}

static void free_wb_list(struct socket_server *ss, struct wb_list *list)
{
	struct write_buffer *wb = list->head;
	while (wb) {
		struct write_buffer *next = wb->next;
		free_wb(ss, wb);
		wb = next;
	}
	list->head = list->tail = NULL;
}

/* Release what the caller handed us, whatever its kind. */
static void release_sendbuffer(struct socket_server *ss, const struct socket_sendbuffer *buf)
{
	if (buf->type == SOCKET_BUFFER_MEMORY)
		skynet_free((void *)buf->buffer);
	else if (buf->type == SOCKET_BUFFER_OBJECT && ss->has_soi)
		ss->soi.free((void *)buf->buffer);
}

/* Bytes of a send buffer, as seen by a writer. */
static void buffer_bytes(struct socket_server *ss, const struct send_item *item, const char **ptr, size_t *sz)
{
	if (item->userobject) {
		*ptr = ss->soi.buffer(item->buffer);
		*sz = ss->soi.size(item->buffer);
	} else {
		*ptr = item->buffer;
		*sz = item->sz;
	}
}

/* Turn a caller's sendbuffer into an item the layer owns; 0 if unusable. */
static bool take_sendbuffer(struct socket_server *ss, const struct socket_sendbuffer *buf,
                            struct send_item *item)
{
	switch (buf->type) {
	case SOCKET_BUFFER_MEMORY:
		item->buffer = buf->buffer;
		item->sz = buf->sz;
		item->userobject = false;
		return true;
	case SOCKET_BUFFER_OBJECT:
		if (!ss->has_soi)
			return false;
		item->buffer = buf->buffer;
		item->sz = 0;
		item->userobject = true;
		return true;
	case SOCKET_BUFFER_RAWPOINTER: {
		void *copy = skynet_malloc(buf->sz ? buf->sz : 1);
		memcpy(copy, buf->buffer, buf->sz);
		item->buffer = copy;
		item->sz = buf->sz;
		item->userobject = false;
		return true;
	}
	default: return false;
	}
}

/* ---- UDP addresses: protocol byte, port (network order), address bytes ---- */

static int udp_address_size(const uint8_t *a)
{
	if (a[0] == PROTOCOL_UDP)
		return 1 + 2 + 4;
	if (a[0] == PROTOCOL_UDPv6)
		return 1 + 2 + 16;
	return 0;
}

static int gen_udp_address(int protocol, const union sockaddr_all *sa, uint8_t *out)
{
	out[0] = (uint8_t)protocol;
	if (protocol == PROTOCOL_UDP) {
		memcpy(out + 1, &sa->v4.sin_port, 2);
		memcpy(out + 3, &sa->v4.sin_addr, 4);
		return 7;
	}
	memcpy(out + 1, &sa->v6.sin6_port, 2);
	memcpy(out + 3, &sa->v6.sin6_addr, 16);
	return 19;
}

static socklen_t udp_sockaddr(int protocol, const uint8_t *a, union sockaddr_all *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (a[0] != protocol)
		return 0;
	if (protocol == PROTOCOL_UDP) {
		sa->v4.sin_family = AF_INET;
		memcpy(&sa->v4.sin_port, a + 1, 2);
		memcpy(&sa->v4.sin_addr, a + 3, 4);
		return sizeof(sa->v4);
	}
	sa->v6.sin6_family = AF_INET6;
	memcpy(&sa->v6.sin6_port, a + 1, 2);
	memcpy(&sa->v6.sin6_addr, a + 3, 16);
	return sizeof(sa->v6);
}

/* "ip" or "ip:port" ([v6]:port) into buf. */
static void format_address(const union sockaddr_all *sa, char *buf, size_t sz, bool with_port)
{
	char ip[INET6_ADDRSTRLEN];
	if (sa->s.sa_family == AF_INET) {
		inet_ntop(AF_INET, &sa->v4.sin_addr, ip, sizeof(ip));
		if (with_port)
			snprintf(buf, sz, "%s:%d", ip, ntohs(sa->v4.sin_port));
		else
			snprintf(buf, sz, "%s", ip);
	} else if (sa->s.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &sa->v6.sin6_addr, ip, sizeof(ip));
		if (with_port)
			snprintf(buf, sz, "[%s]:%d", ip, ntohs(sa->v6.sin6_port));
		else
			snprintf(buf, sz, "%s", ip);
	} else if (sa->s.sa_family == AF_UNIX) {
		snprintf(buf, sz, "unix");
	} else {
		snprintf(buf, sz, "unknown");
	}
}

/* ---- slots ---- */

static int reserve_id(struct socket_server *ss)
{
	for (int i = 0; i < MAX_SOCKET; i++) {
		int id = (int)((ATOM_FINC(&ss->alloc_id) + 1) & 0x7fffffff);
		if (id == 0)
			continue;
		struct socket *s = slot_of(ss, id);
		if (ATOM_LOAD(&s->type) == SOCKET_TYPE_INVALID &&
		    ATOM_CAS(&s->type, SOCKET_TYPE_INVALID, SOCKET_TYPE_RESERVE)) {
			ATOM_STORE(&s->id, id);
			s->fd = -1;
			s->protocol = PROTOCOL_UNKNOWN;
			return id;
		}
	}
	return -1;
}

/* Put a reserved slot back; only its reserver (or the socket thread) does this. */
static void unreserve(struct socket_server *ss, int id)
{
	struct socket *s = slot_of(ss, id);
	ATOM_STORE(&s->type, SOCKET_TYPE_INVALID);
}

static void update_events(struct socket_server *ss, struct socket *s)
{
	uint32_t want = (s->reading && !s->accept_paused ? EPOLLIN : 0) | (s->writing ? EPOLLOUT : 0);
	if (want == s->events)
		return;
	struct epoll_event ev = { .events = want, .data.ptr = s };
	epoll_ctl(ss->epfd, EPOLL_CTL_MOD, s->fd, &ev);
	s->events = want;
}

/* Socket thread: fill a reserved slot with a live fd. */
static struct socket *new_fd(struct socket_server *ss, int id, int fd, int protocol, uintptr_t opaque,
                             bool reading)
{
	struct socket *s = slot_of(ss, id);
	s->fd = fd;
	s->protocol = (uint8_t)protocol;
	s->opaque = opaque;
	s->reading = reading;
	s->writing = false;
	s->closing = false;
	s->close_reported = false;
	s->accept_paused = false;
	s->accept_backoff_ms = 0;
	s->high.head = s->high.tail = NULL;
	s->low.head = s->low.tail = NULL;
	s->wb_size = 0;
	s->warn_size = 0;
	s->rbuf_size = MIN_READ_BUFFER;
	s->has_peer = false;
	s->dw = NULL;
	atomic_store(&s->read_bytes, 0);
	atomic_store(&s->write_bytes, 0);
	atomic_store(&s->rtime, now_of(ss));
	atomic_store(&s->wtime, now_of(ss));
	s->events = reading ? EPOLLIN : 0;
	struct epoll_event ev = { .events = s->events, .data.ptr = s };
	if (epoll_ctl(ss->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return NULL;
	return s;
}

static void clear_closed_event(struct socket_server *ss, struct socket *s)
{
	for (int i = ss->event_index; i < ss->event_n; i++) {
		if (ss->ev[i].data.ptr == s)
			ss->ev[i].events = 0;
	}
}

/* Socket thread: destroy a socket, dropping unsent data. Fills result for an event. */
static void force_close(struct socket_server *ss, struct socket *s, struct socket_message *result)
{
	result->id = ATOM_LOAD(&s->id);
	result->ud = 0;
	result->data = NULL;
	result->opaque = s->opaque;
	int type = ATOM_LOAD(&s->type);
	if (type == SOCKET_TYPE_INVALID)
		return;
	spinlock_lock(&s->dw_lock);
	free_wb_list(ss, &s->high);
	free_wb_list(ss, &s->low);
	if (s->dw) {
		free_wb(ss, s->dw);
		s->dw = NULL;
	}
	if (s->fd >= 0) {
		epoll_ctl(ss->epfd, EPOLL_CTL_DEL, s->fd, NULL);
		if (type != SOCKET_TYPE_BIND)
			close(s->fd);
		s->fd = -1;
	}
	s->wb_size = 0;
	ATOM_STORE(&s->type, SOCKET_TYPE_INVALID);
	spinlock_unlock(&s->dw_lock);
	clear_closed_event(ss, s);
}

/* Must hold dw_lock. Moves a leftover direct write to the head of the high list. */
static void absorb_direct_write(struct socket *s)
{
	struct write_buffer *wb = s->dw;
	if (wb == NULL)
		return;
	s->dw = NULL;
	wb->next = s->high.head;
	s->high.head = wb;
	if (s->high.tail == NULL)
		s->high.tail = wb;
	s->wb_size += (int64_t)wb->sz;
}

static bool lists_empty(const struct socket *s)
{
	return s->high.head == NULL && s->low.head == NULL;
}

/* ---- create / release ---- */

struct socket_server *socket_server_create(uint64_t time)
{
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return NULL;
	int ctrl = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ctrl < 0) {
		close(epfd);
		return NULL;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, ctrl, &ev) != 0) {
		close(ctrl);
		close(epfd);
		return NULL;
	}
	struct socket_server *ss = skynet_calloc(1, sizeof(*ss));
	if (ss == NULL) {
		close(ctrl);
		close(epfd);
		return NULL;
	}
	atomic_init(&ss->time, time);
	ss->epfd = epfd;
	ss->ctrl_fd = ctrl;
	ss->reserve_fd = dup(1);
	ATOM_INIT(&ss->alloc_id, 0);
	pthread_mutex_init(&ss->qlock, NULL);
	/* The slots are left as calloc gave them: an all-zero slot is a free one
	 * (SOCKET_TYPE_INVALID is 0, its counters 0, its spinlock unlocked; fd is
	 * set when reserve_id takes it).  Writing all 65,536 of them here touched
	 * 11 MiB per process; untouched, a page is mapped only when a slot on it
	 * is first used (sockets are numbered in order, so a node with a few
	 * hundred sockets maps a few pages).  Scans of every slot (release, info)
	 * only read, which maps the kernel's shared zero page. */
	_Static_assert(SOCKET_TYPE_INVALID == 0, "a zeroed slot must be a free slot");
	return ss;
}

static void release_request(struct socket_server *ss, struct request *r)
{
	skynet_free(r->host);
	r->host = NULL;
	if (r->type == 'D' || r->type == 'P' || r->type == 'A')
		release_item(ss, &r->send);
	if ((r->type == 'L' || r->type == 'U') && r->fd >= 0)
		close(r->fd);
}

void socket_server_release(struct socket_server *ss)
{
	if (ss == NULL)
		return;
	struct socket_message dummy;
	for (int i = 0; i < MAX_SOCKET; i++) {
		struct socket *s = &ss->slot[i];
		int type = ATOM_LOAD(&s->type);
		if (type != SOCKET_TYPE_INVALID && type != SOCKET_TYPE_RESERVE)
			force_close(ss, s, &dummy);
	}
	for (size_t i = ss->work_index; i < ss->work.n; i++)
		release_request(ss, &ss->work.r[i]);
	for (size_t i = 0; i < ss->pending.n; i++)
		release_request(ss, &ss->pending.r[i]);
	skynet_free(ss->work.r);
	skynet_free(ss->pending.r);
	pthread_mutex_destroy(&ss->qlock);
	if (ss->reserve_fd >= 0)
		close(ss->reserve_fd);
	close(ss->ctrl_fd);
	close(ss->epfd);
	skynet_free(ss);
}

void socket_server_updatetime(struct socket_server *ss, uint64_t time)
{
	atomic_store_explicit(&ss->time, time, memory_order_relaxed);
}

void socket_server_clock(struct socket_server *ss, uint64_t (*clock)(void))
{
	ss->clock = clock;
}

void socket_server_userobject(struct socket_server *ss, struct socket_object_interface *soi)
{
	ss->soi = *soi;
	ss->has_soi = true;
}

/* ---- the request queue ---- */

static void push_request(struct socket_server *ss, const struct request *r)
{
	pthread_mutex_lock(&ss->qlock);
	struct request_vec *v = &ss->pending;
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		struct request *nr = skynet_realloc(v->r, cap * sizeof(*nr));
		if (nr == NULL) {
			pthread_mutex_unlock(&ss->qlock);
			fprintf(stderr, "socket-server: out of memory queueing a request\n");
			abort();
		}
		v->r = nr;
		v->cap = cap;
	}
	v->r[v->n++] = *r;
	bool wake = v->n == 1;
	pthread_mutex_unlock(&ss->qlock);
	if (wake) {
		uint64_t one = 1;
		ssize_t n;
		do {
			n = write(ss->ctrl_fd, &one, sizeof(one));
		} while (n < 0 && errno == EINTR);
	}
}

/* Socket thread: swap the pending vector in; true if it held anything. */
static bool take_requests(struct socket_server *ss)
{
	ss->work.n = 0;
	ss->work_index = 0;
	pthread_mutex_lock(&ss->qlock);
	struct request_vec tmp = ss->pending;
	ss->pending = ss->work;
	ss->work = tmp;
	pthread_mutex_unlock(&ss->qlock);
	return ss->work.n > 0;
}

static void simple_request(struct socket_server *ss, char type, uintptr_t opaque, int id, int flag)
{
	struct request r;
	memset(&r, 0, sizeof(r));
	r.type = type;
	r.opaque = opaque;
	r.id = id;
	r.flag = flag;
	r.fd = -1;
	push_request(ss, &r);
}

void socket_server_exit(struct socket_server *ss)
{
	simple_request(ss, 'X', 0, 0, 0);
}

void socket_server_close(struct socket_server *ss, uintptr_t opaque, int id)
{
	simple_request(ss, 'K', opaque, id, 0);
}

void socket_server_shutdown(struct socket_server *ss, uintptr_t opaque, int id)
{
	simple_request(ss, 'K', opaque, id, 1);
}

void socket_server_start(struct socket_server *ss, uintptr_t opaque, int id)
{
	simple_request(ss, 'R', opaque, id, 0);
}

void socket_server_pause(struct socket_server *ss, uintptr_t opaque, int id)
{
	simple_request(ss, 'S', opaque, id, 0);
}

void socket_server_nodelay(struct socket_server *ss, int id)
{
	simple_request(ss, 'T', 0, id, 0);
}

/* ---- creating sockets in the caller ---- */

static int resolve(const char *host, int port, int socktype, bool passive, struct addrinfo **out)
{
	char portstr[16];
	snprintf(portstr, sizeof(portstr), "%d", port);
	struct addrinfo hints;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = socktype;
	hints.ai_protocol = socktype == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
	if (passive)
		hints.ai_flags = AI_PASSIVE;
	return getaddrinfo(host, portstr, &hints, out);
}

static int bind_socket(const char *host, int port, int socktype, int *family)
{
	if (host == NULL || host[0] == '\0')
		host = "0.0.0.0";
	struct addrinfo *ai = NULL;
	int status = resolve(host, port, socktype, true, &ai);
	if (status != 0) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto failed;
	int reuse = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse)) != 0)
		goto failed_fd;
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0)
		goto failed_fd;
	*family = ai->ai_family;
	freeaddrinfo(ai);
	return fd;
failed_fd : {
	int e = errno;
	close(fd);
	errno = e;
}
failed : {
	int e = errno;
	freeaddrinfo(ai);
	errno = e;
}
	return -1;
}

/* Hands a listening descriptor to the socket thread: its id, or -1 (fd closed). */
static int listen_fd(struct socket_server *ss, uintptr_t opaque, int fd)
{
	int id = reserve_id(ss);
	if (id < 0) {
		close(fd);
		errno = EMFILE;
		return -1;
	}
	struct request r;
	memset(&r, 0, sizeof(r));
	r.type = 'L';
	r.id = id;
	r.opaque = opaque;
	r.fd = fd;
	push_request(ss, &r);
	return id;
}

int socket_server_listen(struct socket_server *ss, uintptr_t opaque, const char *addr, int port, int backlog)
{
	int family;
	int fd = bind_socket(addr, port, SOCK_STREAM, &family);
	if (fd < 0)
		return -1;
	if (listen(fd, backlog) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return listen_fd(ss, opaque, fd);
}

int socket_server_listen_unix(struct socket_server *ss, uintptr_t opaque, const char *path, int backlog)
{
	int fd = socket_unix_listen(path, backlog);
	if (fd < 0)
		return -1;
	return listen_fd(ss, opaque, fd);
}

int socket_server_connect(struct socket_server *ss, uintptr_t opaque, const char *addr, int port)
{
	int id = reserve_id(ss);
	if (id < 0)
		return -1;
	struct request r;
	memset(&r, 0, sizeof(r));
	r.type = 'O';
	r.id = id;
	r.opaque = opaque;
	r.port = port;
	r.fd = -1;
	r.host = skynet_strdup(addr ? addr : "");
	push_request(ss, &r);
	return id;
}

int socket_server_bind(struct socket_server *ss, uintptr_t opaque, int fd)
{
	int id = reserve_id(ss);
	if (id < 0)
		return -1;
	struct request r;
	memset(&r, 0, sizeof(r));
	r.type = 'B';
	r.id = id;
	r.opaque = opaque;
	r.fd = fd;
	push_request(ss, &r);
	return id;
}

int socket_server_udp(struct socket_server *ss, uintptr_t opaque, const char *addr, int port)
{
	int fd;
	int family;
	if (port != 0 || (addr && addr[0])) {
		fd = bind_socket(addr, port, SOCK_DGRAM, &family);
		if (fd < 0)
			return -1;
	} else {
		family = AF_INET;
		fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
	}
	set_nonblocking(fd);
	int id = reserve_id(ss);
	if (id < 0) {
		close(fd);
		errno = EMFILE;
		return -1;
	}
	struct request r;
	memset(&r, 0, sizeof(r));
	r.type = 'U';
	r.id = id;
	r.opaque = opaque;
	r.fd = fd;
	r.flag = family == AF_INET6 ? PROTOCOL_UDPv6 : PROTOCOL_UDP;
	push_request(ss, &r);
	return id;
}

/* Resolve addr:port into a UDP address of the given family; 0 on failure. */
static int udp_resolve(const char *addr, int port, int protocol, uint8_t *out)
{
	struct addrinfo *ai = NULL;
	if (resolve(addr, port, SOCK_DGRAM, false, &ai) != 0)
		return 0;
	int want = protocol == PROTOCOL_UDPv6 ? AF_INET6 : AF_INET;
	int n = 0;
	for (struct addrinfo *p = ai; p; p = p->ai_next) {
		if (p->ai_family == want) {
			union sockaddr_all sa;
			memset(&sa, 0, sizeof(sa));
			memcpy(&sa, p->ai_addr, p->ai_addrlen);
			n = gen_udp_address(protocol, &sa, out);
			break;
		}
	}
	freeaddrinfo(ai);
	return n;
}

static int udp_family_of(const char *addr)
{
	struct in6_addr tmp;
	if (addr && inet_pton(AF_INET6, addr, &tmp) == 1)
		return PROTOCOL_UDPv6;
	return PROTOCOL_UDP;
}

int socket_server_udp_connect(struct socket_server *ss, int id, const char *addr, int port)
{
	struct socket *s = slot_of(ss, id);
	if (ATOM_LOAD(&s->id) != id || ATOM_LOAD(&s->type) == SOCKET_TYPE_INVALID)
		return -1;
	/* The protocol is known once the creating request was queued (set in caller). */
	int protocol = s->protocol;
	if (protocol == PROTOCOL_UNKNOWN)
		protocol = udp_family_of(addr);
	struct request r;
	memset(&r, 0, sizeof(r));
	if (udp_resolve(addr, port, protocol, r.udp_address) == 0)
		return -1;
	r.type = 'C';
	r.id = id;
	r.fd = -1;
	push_request(ss, &r);
	return 0;
}

int socket_server_udp_listen(struct socket_server *ss, uintptr_t opaque, const char *addr, int port)
{
	return socket_server_udp(ss, opaque, addr, port);
}

int socket_server_udp_dial(struct socket_server *ss, uintptr_t opaque, const char *addr, int port)
{
	int protocol = udp_family_of(addr);
	uint8_t peer[UDP_ADDRESS_SIZE];
	if (udp_resolve(addr, port, protocol, peer) == 0)
		return -1;
	int fd = socket(protocol == PROTOCOL_UDPv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	set_nonblocking(fd);
	int id = reserve_id(ss);
	if (id < 0) {
		close(fd);
		return -1;
	}
	struct request r;
	memset(&r, 0, sizeof(r));
	r.type = 'U';
	r.id = id;
	r.opaque = opaque;
	r.fd = fd;
	r.flag = protocol;
	push_request(ss, &r);
	memset(&r, 0, sizeof(r));
	r.type = 'C';
	r.id = id;
	r.fd = -1;
	memcpy(r.udp_address, peer, sizeof(peer));
	push_request(ss, &r);
	return id;
}

const struct socket_udp_address *socket_server_udp_address(struct socket_server *ss,
                                                           struct socket_message *msg, int *addrsz)
{
	(void)ss;
	const uint8_t *a = (const uint8_t *)msg->data + msg->ud;
	int sz = udp_address_size(a);
	if (sz == 0)
		return NULL;
	*addrsz = sz;
	return (const struct socket_udp_address *)a;
}

/* ---- sending from any thread ---- */

static bool may_direct_write(struct socket *s, int id)
{
	int type = ATOM_LOAD(&s->type);
	return ATOM_LOAD(&s->id) == id && s->protocol == PROTOCOL_TCP &&
	       (type == SOCKET_TYPE_CONNECTED || type == SOCKET_TYPE_HALFCLOSE_READ) &&
	       ATOM_LOAD(&s->sending) == 0;
}

/* Try to write in the calling thread. True if the buffer was consumed. */
static bool direct_write(struct socket_server *ss, struct socket *s, const struct socket_sendbuffer *buf)
{
	int id = buf->id;
	if (!may_direct_write(s, id) || !spinlock_trylock(&s->dw_lock))
		return false;
	if (!may_direct_write(s, id) || !lists_empty(s) || s->dw != NULL || s->closing) {
		spinlock_unlock(&s->dw_lock);
		return false;
	}
	struct send_item view = { buf->buffer, buf->sz, buf->type == SOCKET_BUFFER_OBJECT };
	const char *ptr;
	size_t sz;
	buffer_bytes(ss, &view, &ptr, &sz);
	ssize_t n;
	do {
		n = write(s->fd, ptr, sz);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		n = 0; /* EAGAIN, or an error the socket thread will find and report */
	if (n > 0)
		stat_write(ss, s, (size_t)n);
	if ((size_t)n == sz) {
		spinlock_unlock(&s->dw_lock);
		release_sendbuffer(ss, buf);
		return true;
	}
	struct write_buffer *wb = skynet_malloc(sizeof(*wb));
	memset(wb, 0, sizeof(*wb));
	if (buf->type == SOCKET_BUFFER_RAWPOINTER) {
		size_t left = sz - (size_t)n;
		char *copy = skynet_malloc(left);
		memcpy(copy, ptr + n, left);
		wb->buffer = copy;
		wb->ptr = copy;
		wb->sz = left;
	} else {
		wb->buffer = buf->buffer;
		wb->userobject = buf->type == SOCKET_BUFFER_OBJECT;
		wb->ptr = ptr + n;
		wb->sz = sz - (size_t)n;
	}
	wb->partial = n > 0;
	s->dw = wb;
	spinlock_unlock(&s->dw_lock);
	/* Ask the socket thread to watch for writability; it also counts as in flight. */
	ATOM_FINC(&s->sending);
	simple_request(ss, 'W', 0, id, 0);
	return true;
}

static int queue_send(struct socket_server *ss, struct socket_sendbuffer *buf, char type,
                      const uint8_t *udp_address)
{
	int id = buf->id;
	struct socket *s = slot_of(ss, id);
	int state = ATOM_LOAD(&s->type);
	if (ATOM_LOAD(&s->id) != id || state == SOCKET_TYPE_INVALID) {
		release_sendbuffer(ss, buf);
		return -1;
	}
	if (type == 'D' && direct_write(ss, s, buf))
		return 0;
	struct request r;
	memset(&r, 0, sizeof(r));
	if (!take_sendbuffer(ss, buf, &r.send)) {
		release_sendbuffer(ss, buf);
		return -1;
	}
	r.type = type;
	r.id = id;
	r.fd = -1;
	if (udp_address)
		memcpy(r.udp_address, udp_address, (size_t)udp_address_size(udp_address));
	ATOM_FINC(&s->sending);
	push_request(ss, &r);
	return 0;
}

int socket_server_send(struct socket_server *ss, struct socket_sendbuffer *buf)
{
	return queue_send(ss, buf, 'D', NULL);
}

int socket_server_send_lowpriority(struct socket_server *ss, struct socket_sendbuffer *buf)
{
	return queue_send(ss, buf, 'P', NULL);
}

int socket_server_udp_send(struct socket_server *ss, const struct socket_udp_address *addr,
                           struct socket_sendbuffer *buf)
{
	const uint8_t *a = (const uint8_t *)addr;
	if (a == NULL || udp_address_size(a) == 0) {
		release_sendbuffer(ss, buf);
		return -1;
	}
	return queue_send(ss, buf, 'A', a);
}

/* ---- the socket thread: requests ---- */

static int report_error(struct socket_server *ss, struct socket *s, struct socket_message *result,
                        const char *err)
{
	force_close(ss, s, result);
	snprintf(ss->buffer, sizeof(ss->buffer), "%s", err);
	result->data = ss->buffer;
	return SOCKET_ERR;
}

static int open_connect(struct socket_server *ss, struct request *r, struct socket_message *result)
{
	int id = r->id;
	result->opaque = r->opaque;
	result->id = id;
	result->ud = 0;
	result->data = NULL;
	struct addrinfo *ai = NULL;
	int status = resolve(r->host, r->port, SOCK_STREAM, false, &ai);
	if (status != 0) {
		unreserve(ss, id);
		snprintf(ss->buffer, sizeof(ss->buffer), "%s", gai_strerror(status));
		result->data = ss->buffer;
		return SOCKET_ERR;
	}
	int fd = -1;
	int err = 0;
	bool inprogress = false;
	struct addrinfo *p;
	for (p = ai; p; p = p->ai_next) {
		fd = socket(p->ai_family, p->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, p->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		set_keepalive(fd);
		if (connect(fd, p->ai_addr, p->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			inprogress = true;
			break;
		}
		err = errno;
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		freeaddrinfo(ai);
		unreserve(ss, id);
		snprintf(ss->buffer, sizeof(ss->buffer), "%s", strerror(err ? err : ECONNREFUSED));
		result->data = ss->buffer;
		return SOCKET_ERR;
	}
	struct socket *s = new_fd(ss, id, fd, PROTOCOL_TCP, r->opaque, !inprogress);
	if (s == NULL) {
		close(fd);
		freeaddrinfo(ai);
		unreserve(ss, id);
		snprintf(ss->buffer, sizeof(ss->buffer), "%s", strerror(errno));
		result->data = ss->buffer;
		return SOCKET_ERR;
	}
	if (inprogress) {
		ATOM_STORE(&s->type, SOCKET_TYPE_CONNECTING);
		s->writing = true;
		update_events(ss, s);
		freeaddrinfo(ai);
		return -1;
	}
	ATOM_STORE(&s->type, SOCKET_TYPE_CONNECTED);
	union sockaddr_all sa;
	memset(&sa, 0, sizeof(sa));
	memcpy(&sa, p->ai_addr, p->ai_addrlen);
	format_address(&sa, ss->buffer, sizeof(ss->buffer), false);
	freeaddrinfo(ai);
	result->data = ss->buffer;
	return SOCKET_OPEN;
}

static int open_listen(struct socket_server *ss, struct request *r, struct socket_message *result)
{
	result->opaque = r->opaque;
	result->id = r->id;
	result->ud = 0;
	result->data = NULL;
	struct socket *s = new_fd(ss, r->id, r->fd, PROTOCOL_TCP, r->opaque, false);
	if (s == NULL) {
		close(r->fd);
		unreserve(ss, r->id);
		snprintf(ss->buffer, sizeof(ss->buffer), "%s", strerror(errno));
		result->data = ss->buffer;
		return SOCKET_ERR;
	}
	ATOM_STORE(&s->type, SOCKET_TYPE_PLISTEN);
	union sockaddr_all sa;
	socklen_t len = sizeof(sa);
	memset(&sa, 0, sizeof(sa));
	if (getsockname(r->fd, &sa.s, &len) == 0) {
		format_address(&sa, ss->buffer, sizeof(ss->buffer), false);
		if (sa.s.sa_family == AF_INET6)
			result->ud = ntohs(sa.v6.sin6_port);
		else if (sa.s.sa_family == AF_INET)
			result->ud = ntohs(sa.v4.sin_port);
	} else {
		snprintf(ss->buffer, sizeof(ss->buffer), "listen");
	}
	result->data = ss->buffer;
	return SOCKET_OPEN;
}

static struct socket *live_socket(struct socket_server *ss, int id)
{
	struct socket *s = slot_of(ss, id);
	int type = ATOM_LOAD(&s->type);
	if (ATOM_LOAD(&s->id) != id || type == SOCKET_TYPE_INVALID || type == SOCKET_TYPE_RESERVE)
		return NULL;
	return s;
}

static int start_socket(struct socket_server *ss, struct request *r, struct socket_message *result)
{
	int id = r->id;
	result->id = id;
	result->opaque = r->opaque;
	result->ud = 0;
	result->data = NULL;
	struct socket *s = live_socket(ss, id);
	if (s == NULL || s->closing) {
		result->data = "invalid socket";
		return SOCKET_ERR;
	}
	int type = ATOM_LOAD(&s->type);
	if (type == SOCKET_TYPE_PACCEPT || type == SOCKET_TYPE_PLISTEN) {
		ATOM_STORE(&s->type,
		           type == SOCKET_TYPE_PACCEPT ? SOCKET_TYPE_CONNECTED : SOCKET_TYPE_LISTEN);
		s->opaque = r->opaque;
		s->reading = true;
		update_events(ss, s);
		result->data = "start";
		return SOCKET_OPEN;
	}
	if (type == SOCKET_TYPE_CONNECTING)
		return -1;
	/* Already started: resume reading and (maybe) change owner. Always answer, so
	 * a service waiting in start (after abandon, or taking over) never hangs. */
	if (type != SOCKET_TYPE_HALFCLOSE_READ)
		s->reading = true;
	update_events(ss, s);
	s->opaque = r->opaque;
	result->data = "transfer";
	return SOCKET_OPEN;
}

static void pause_socket(struct socket_server *ss, struct request *r)
{
	struct socket *s = live_socket(ss, r->id);
	if (s == NULL || s->fd < 0)
		return;
	s->reading = false;
	update_events(ss, s);
}

static int close_socket(struct socket_server *ss, struct request *r, struct socket_message *result)
{
	int id = r->id;
	struct socket *s = live_socket(ss, id);
	if (s == NULL) {
		/* Tell the asker anyway, so a caller waiting for CLOSE never hangs. */
		result->id = id;
		result->opaque = r->opaque;
		result->ud = 0;
		result->data = NULL;
		return SOCKET_CLOSE;
	}
	bool shutdown_now = r->flag != 0;
	spinlock_lock(&s->dw_lock);
	absorb_direct_write(s);
	bool pending = !lists_empty(s);
	if (!shutdown_now && pending) {
		s->closing = true;
	}
	spinlock_unlock(&s->dw_lock);
	if (!shutdown_now && pending) {
		s->reading = false;
		s->writing = true;
		update_events(ss, s);
		if (s->close_reported)
			return -1;
		s->close_reported = true;
		result->id = id;
		result->opaque = s->opaque;
		result->ud = 0;
		result->data = NULL;
		return SOCKET_CLOSE;
	}
	bool reported = s->close_reported;
	force_close(ss, s, result);
	return reported ? -1 : SOCKET_CLOSE;
}

static int bind_fd(struct socket_server *ss, struct request *r, struct socket_message *result)
{
	result->id = r->id;
	result->opaque = r->opaque;
	result->ud = 0;
	set_nonblocking(r->fd);
	struct socket *s = new_fd(ss, r->id, r->fd, PROTOCOL_TCP, r->opaque, true);
	if (s == NULL) {
		unreserve(ss, r->id);
		snprintf(ss->buffer, sizeof(ss->buffer), "%s", strerror(errno));
		result->data = ss->buffer;
		return SOCKET_ERR;
	}
	ATOM_STORE(&s->type, SOCKET_TYPE_BIND);
	result->data = "binding";
	return SOCKET_OPEN;
}

static int add_udp(struct socket_server *ss, struct request *r, struct socket_message *result)
{
	struct socket *s = new_fd(ss, r->id, r->fd, r->flag, r->opaque, true);
	if (s == NULL) {
		close(r->fd);
		unreserve(ss, r->id);
		result->id = r->id;
		result->opaque = r->opaque;
		result->ud = 0;
		snprintf(ss->buffer, sizeof(ss->buffer), "%s", strerror(errno));
		result->data = ss->buffer;
		return SOCKET_ERR;
	}
	ATOM_STORE(&s->type, SOCKET_TYPE_CONNECTED);
	return -1;
}

static void set_udp_peer(struct socket_server *ss, struct request *r)
{
	struct socket *s = live_socket(ss, r->id);
	if (s == NULL || s->protocol != r->udp_address[0])
		return;
	memcpy(s->udp_peer, r->udp_address, sizeof(s->udp_peer));
	s->has_peer = true;
}

static void set_nodelay(struct socket_server *ss, struct request *r)
{
	struct socket *s = live_socket(ss, r->id);
	if (s == NULL || s->fd < 0 || s->protocol != PROTOCOL_TCP)
		return;
	int one = 1;
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void enable_write(struct socket_server *ss, struct socket *s)
{
	if (!s->writing) {
		s->writing = true;
		update_events(ss, s);
	}
}

static int check_warning(struct socket *s, struct socket_message *result)
{
	if (s->wb_size < WARNING_SIZE || s->wb_size < s->warn_size)
		return -1;
	s->warn_size = s->warn_size == 0 ? WARNING_SIZE * 2 : s->warn_size * 2;
	result->id = ATOM_LOAD(&s->id);
	result->opaque = s->opaque;
	result->ud = (int)((s->wb_size + 1023) / 1024);
	result->data = NULL;
	return SOCKET_WARNING;
}

static int queue_buffer(struct socket_server *ss, struct request *r, struct socket_message *result)
{
	struct socket *s = slot_of(ss, r->id);
	int type = ATOM_LOAD(&s->type);
	int ret = -1;
	bool ok = ATOM_LOAD(&s->id) == r->id && !s->closing &&
	          (type == SOCKET_TYPE_CONNECTED || type == SOCKET_TYPE_CONNECTING ||
	           type == SOCKET_TYPE_HALFCLOSE_READ);
	if (ok && s->protocol != PROTOCOL_TCP && r->type != 'A' && !s->has_peer)
		ok = false; /* UDP without a peer: nowhere to send */
	if (ok && r->type == 'A' && s->protocol != r->udp_address[0])
		ok = false;
	if (!ok) {
		if (ATOM_LOAD(&s->id) == r->id && type == SOCKET_TYPE_LISTEN)
			fprintf(stderr, "socket-server: write to listen fd %d\n", r->id);
		release_item(ss, &r->send);
		ATOM_FDEC(&s->sending);
		return -1;
	}
	struct write_buffer *wb = skynet_malloc(sizeof(*wb));
	memset(wb, 0, sizeof(*wb));
	wb->buffer = r->send.buffer;
	wb->userobject = r->send.userobject;
	buffer_bytes(ss, &r->send, &wb->ptr, &wb->sz);
	if (s->protocol != PROTOCOL_TCP)
		memcpy(wb->udp_address, r->type == 'A' ? r->udp_address : s->udp_peer, UDP_ADDRESS_SIZE);
	spinlock_lock(&s->dw_lock);
	struct wb_list *list;
	if (lists_empty(s) || r->type != 'P')
		list = &s->high;
	else
		list = &s->low;
	if (list->tail)
		list->tail->next = wb;
	else
		list->head = wb;
	list->tail = wb;
	s->wb_size += (int64_t)wb->sz;
	spinlock_unlock(&s->dw_lock);
	/* Only now may a worker see sending == 0: the list is already non-empty. */
	ATOM_FDEC(&s->sending);
	if (type != SOCKET_TYPE_CONNECTING)
		enable_write(ss, s);
	if (s->protocol == PROTOCOL_TCP)
		ret = check_warning(s, result);
	return ret;
}

/* A worker left part of a direct write behind: queue it and watch for writability. */
static int want_write(struct socket_server *ss, struct request *r, struct socket_message *result)
{
	struct socket *s = slot_of(ss, r->id);
	ATOM_FDEC(&s->sending);
	if (live_socket(ss, r->id) == NULL)
		return -1;
	spinlock_lock(&s->dw_lock);
	absorb_direct_write(s);
	spinlock_unlock(&s->dw_lock);
	if (ATOM_LOAD(&s->type) != SOCKET_TYPE_CONNECTING)
		enable_write(ss, s);
	return s->protocol == PROTOCOL_TCP ? check_warning(s, result) : -1;
}

static int handle_request(struct socket_server *ss, struct request *r, struct socket_message *result)
{
	int ret = -1;
	switch (r->type) {
	case 'X':
		result->opaque = 0;
		result->id = 0;
		result->ud = 0;
		result->data = NULL;
		return SOCKET_EXIT;
	case 'O': ret = open_connect(ss, r, result); break;
	case 'L':
		ret = open_listen(ss, r, result);
		r->fd = -1;
		break;
	case 'B': ret = bind_fd(ss, r, result); break;
	case 'U':
		ret = add_udp(ss, r, result);
		r->fd = -1;
		break;
	case 'C': set_udp_peer(ss, r); break;
	case 'R': ret = start_socket(ss, r, result); break;
	case 'S': pause_socket(ss, r); break;
	case 'K': ret = close_socket(ss, r, result); break;
	case 'T': set_nodelay(ss, r); break;
	case 'W': ret = want_write(ss, r, result); break;
	case 'D':
	case 'P':
	case 'A':
		ret = queue_buffer(ss, r, result);
		r->send.buffer = NULL;
		break;
	default: fprintf(stderr, "socket-server: unknown request %c\n", r->type); break;
	}
	skynet_free(r->host);
	r->host = NULL;
	return ret;
}

/* ---- the socket thread: I/O ---- */

static int report_connect(struct socket_server *ss, struct socket *s, struct socket_message *result)
{
	int error = 0;
	socklen_t len = sizeof(error);
	int code = getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &error, &len);
	if (code < 0 || error != 0)
		return report_error(ss, s, result, strerror(code < 0 ? errno : error));
	ATOM_STORE(&s->type, SOCKET_TYPE_CONNECTED);
	result->opaque = s->opaque;
	result->id = ATOM_LOAD(&s->id);
	result->ud = 0;
	s->writing = !lists_empty(s);
	if (s->closing) {
		/* closed while connecting: CLOSE was reported, just flush and go */
		update_events(ss, s);
		return -1;
	}
	s->reading = true;
	update_events(ss, s);
	union sockaddr_all sa;
	socklen_t slen = sizeof(sa);
	memset(&sa, 0, sizeof(sa));
	if (getpeername(s->fd, &sa.s, &slen) == 0)
		format_address(&sa, ss->buffer, sizeof(ss->buffer), false);
	else
		ss->buffer[0] = '\0';
	result->data = ss->buffer;
	return SOCKET_OPEN;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Stops accepting on `s` for `ms`; false if it cannot (the table is full). */
static bool pause_listener(struct socket_server *ss, struct socket *s, uint32_t ms)
{
	if (s->accept_paused)
		return true;
	if (ss->npaused == ACCEPT_PAUSED_MAX)
		return false;
	s->accept_resume = mono_ms() + ms;
	s->accept_paused = true;
	update_events(ss, s);
	ss->paused[ss->npaused++] = ATOM_LOAD(&s->id);
	return true;
}

/* Stops accepting on `s` for a while, doubling the pause while the shortage
 * lasts.  Without it a level-triggered listener with connections waiting and
 * no descriptor to take them would wake the socket thread forever. */
static void pause_accepts(struct socket_server *ss, struct socket *s)
{
	if (s->accept_paused)
		return;
	uint32_t ms = s->accept_backoff_ms ? s->accept_backoff_ms * 2 : ACCEPT_PAUSE_MIN_MS;
	if (ms > ACCEPT_PAUSE_MAX_MS)
		ms = ACCEPT_PAUSE_MAX_MS;
	if (pause_listener(ss, s, ms))
		s->accept_backoff_ms = ms;
}

void socket_server_accept_backoff(struct socket_server *ss, int id, uint32_t ms)
{
	struct socket *s = slot_of(ss, id);
	if (ATOM_LOAD(&s->id) == id && ATOM_LOAD(&s->type) == SOCKET_TYPE_LISTEN)
		pause_listener(ss, s, ms);
}

/* Turns paused listeners back on when their time has come (and tries to get
 * the spare descriptor back).  Returns the epoll timeout: ms until the next
 * resume, or -1 when nothing is paused. */
static int resume_accepts(struct socket_server *ss)
{
	if (ss->npaused == 0)
		return -1;
	uint64_t now = mono_ms();
	uint64_t next = UINT64_MAX;
	for (int i = 0; i < ss->npaused;) {
		struct socket *s = slot_of(ss, ss->paused[i]);
		bool live = ATOM_LOAD(&s->id) == ss->paused[i] && ATOM_LOAD(&s->type) == SOCKET_TYPE_LISTEN &&
		            s->accept_paused;
		if (live && now < s->accept_resume) {
			if (s->accept_resume < next)
				next = s->accept_resume;
			i++;
			continue;
		}
		if (live) {
			s->accept_paused = false;
			update_events(ss, s);
		}
		ss->paused[i] = ss->paused[--ss->npaused];
	}
	if (ss->reserve_fd < 0)
		ss->reserve_fd = dup(1);
	return next == UINT64_MAX ? -1 : (int)(next - now);
}

/* Out of descriptors or socket slots: shed one waiting connection with the
 * spare descriptor (so that peer is refused now, not left in the backlog),
 * then pause this listener. */
static int accept_shortage(struct socket_server *ss, struct socket *s, struct socket_message *result,
                           const char *why)
{
	bool shed = false;
	if (ss->reserve_fd >= 0) {
		close(ss->reserve_fd);
		int fd = accept(s->fd, NULL, NULL);
		if (fd >= 0) {
			close(fd);
			shed = true;
		}
		ss->reserve_fd = dup(1);
	}
	pause_accepts(ss, s);
	snprintf(ss->buffer, sizeof(ss->buffer), "%s%s", why, shed ? "; one waiting connection shed" : "");
	result->data = ss->buffer;
	result->ud = s->accept_paused ? (int)s->accept_backoff_ms : 0;
	return SOCKET_ACCEPT_PAUSED;
}

static int report_accept(struct socket_server *ss, struct socket *s, struct socket_message *result)
{
	union sockaddr_all sa = { 0 }; /* accept4 fills it; the analyzer cannot know */
	socklen_t len = sizeof(sa);
	int client = accept4(s->fd, &sa.s, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	result->opaque = s->opaque;
	result->id = ATOM_LOAD(&s->id);
	result->ud = 0;
	result->data = NULL;
	if (client < 0) {
		int err = errno;
		if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM)
			return accept_shortage(ss, s, result, strerror(err));
		return -1; /* EAGAIN, or a connection that died waiting: nothing to do */
	}
	int id = reserve_id(ss);
	if (id < 0) {
		close(client);
		return accept_shortage(ss, s, result, "every socket slot is in use");
	}
	s->accept_backoff_ms = 0;
	set_keepalive(client);
	struct socket *ns = new_fd(ss, id, client, PROTOCOL_TCP, s->opaque, false);
	if (ns == NULL) {
		close(client);
		unreserve(ss, id);
		return -1;
	}
	ATOM_STORE(&ns->type, SOCKET_TYPE_PACCEPT);
	atomic_fetch_add_explicit(&s->read_bytes, 1, memory_order_relaxed); /* accept count */
	atomic_store_explicit(&s->rtime, now_of(ss), memory_order_relaxed);
	if (sa.s.sa_family == AF_UNIX)
		socket_unix_peer(client, ss->buffer, sizeof(ss->buffer));
	else
		format_address(&sa, ss->buffer, sizeof(ss->buffer), true);
	result->ud = id;
	result->data = ss->buffer;
	return SOCKET_ACCEPT;
}

/* Send one datagram; false if the socket cannot take it now (EAGAIN). */
static bool send_datagram(struct socket_server *ss, struct socket *s, struct write_buffer *wb)
{
	union sockaddr_all sa;
	socklen_t len = udp_sockaddr(s->protocol, wb->udp_address, &sa);
	if (len == 0)
		return true; /* wrong address family: drop it */
	ssize_t n;
	do {
		n = sendto(s->fd, wb->ptr, wb->sz, 0, &sa.s, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return false;
		/* A datagram that cannot be sent is dropped; the socket stays usable. */
		fprintf(stderr, "socket-server: udp (%d) sendto error %s\n", ATOM_LOAD(&s->id),
		        strerror(errno));
		return true;
	}
	stat_write(ss, s, wb->sz);
	return true;
}

/* Write what a list holds until the kernel pushes back. 0 or an errno. Hold dw_lock. */
static int send_list(struct socket_server *ss, struct socket *s, struct wb_list *list)
{
	while (list->head) {
		struct write_buffer *wb = list->head;
		if (s->protocol != PROTOCOL_TCP) {
			if (!send_datagram(ss, s, wb))
				return 0;
		} else {
			ssize_t n;
			do {
				n = write(s->fd, wb->ptr, wb->sz);
			} while (n < 0 && errno == EINTR);
			if (n < 0)
				return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : errno;
			stat_write(ss, s, (size_t)n);
			if ((size_t)n < wb->sz) {
				s->wb_size -= n;
				wb->ptr += n;
				wb->sz -= (size_t)n;
				wb->partial = true;
				return 0;
			}
		}
		s->wb_size -= (int64_t)wb->sz;
		list->head = wb->next;
		free_wb(ss, wb);
	}
	list->tail = NULL;
	return 0;
}

static int send_buffer(struct socket_server *ss, struct socket *s, struct socket_message *result)
{
	spinlock_lock(&s->dw_lock);
	absorb_direct_write(s);
	int err = send_list(ss, s, &s->high);
	if (err == 0 && s->high.head == NULL && s->low.head) {
		err = send_list(ss, s, &s->low);
		struct write_buffer *wb = s->low.head;
		if (err == 0 && wb && wb->partial) {
			/* Promote the half-sent low packet so nothing cuts into it. */
			s->low.head = wb->next;
			if (s->low.head == NULL)
				s->low.tail = NULL;
			wb->next = NULL;
			s->high.head = s->high.tail = wb;
		}
	}
	bool empty = lists_empty(s);
	spinlock_unlock(&s->dw_lock);
	if (err != 0)
		return report_error(ss, s, result, strerror(err));
	if (!empty)
		return s->protocol == PROTOCOL_TCP ? check_warning(s, result) : -1;
	s->writing = false;
	update_events(ss, s);
	if (s->closing) {
		force_close(ss, s, result);
		return -1; /* CLOSE was reported when close was asked */
	}
	if (s->warn_size > 0) {
		s->warn_size = 0;
		result->opaque = s->opaque;
		result->id = ATOM_LOAD(&s->id);
		result->ud = 0;
		result->data = NULL;
		return SOCKET_WARNING;
	}
	return -1;
}

static int read_tcp(struct socket_server *ss, struct socket *s, struct socket_message *result, bool *again)
{
	int sz = s->rbuf_size;
	char *buffer = skynet_malloc((size_t)sz);
	ssize_t n;
	do {
		n = read(s->fd, buffer, (size_t)sz);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;
		skynet_free(buffer);
		if (e == EAGAIN || e == EWOULDBLOCK)
			return -1;
		return report_error(ss, s, result, strerror(e));
	}
	if (n == 0) {
		skynet_free(buffer);
		int type = ATOM_LOAD(&s->type);
		bool reported = s->close_reported;
		if (s->closing || type == SOCKET_TYPE_HALFCLOSE_WRITE || type == SOCKET_TYPE_BIND) {
			force_close(ss, s, result);
			return reported ? -1 : SOCKET_CLOSE;
		}
		/* Peer finished sending: stop reading, keep the socket for writing. */
		ATOM_STORE(&s->type, SOCKET_TYPE_HALFCLOSE_READ);
		s->reading = false;
		update_events(ss, s);
		result->opaque = s->opaque;
		result->id = ATOM_LOAD(&s->id);
		result->ud = 0;
		result->data = NULL;
		if (reported)
			return -1;
		s->close_reported = true;
		return SOCKET_CLOSE;
	}
	atomic_fetch_add_explicit(&s->read_bytes, (unsigned long long)n, memory_order_relaxed);
	atomic_store_explicit(&s->rtime, now_of(ss), memory_order_relaxed);
	if (n == sz) {
		if (sz < MAX_READ_BUFFER)
			s->rbuf_size = sz * 2;
		*again = true;
	} else if (sz > MIN_READ_BUFFER && n * 4 < sz) {
		/* Shrink only on a read under a quarter of the buffer: with "under
		 * half", a frame a little over the minimum read as (full, rest)
		 * made the buffer oscillate between two sizes, and every frame
		 * cost two reads, two events and two wake-ups. */
		s->rbuf_size = sz / 2;
	}
	result->opaque = s->opaque;
	result->id = ATOM_LOAD(&s->id);
	result->ud = (int)n;
	result->data = buffer;
	return SOCKET_DATA;
}

static int read_udp(struct socket_server *ss, struct socket *s, struct socket_message *result)
{
	union sockaddr_all sa;
	socklen_t len = sizeof(sa);
	ssize_t n = recvfrom(s->fd, ss->udpbuffer, MAX_UDP_PACKAGE, 0, &sa.s, &len);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return -1;
		/* e.g. ICMP unreachable from an earlier send: report, keep the socket */
		result->opaque = s->opaque;
		result->id = ATOM_LOAD(&s->id);
		result->ud = 0;
		snprintf(ss->buffer, sizeof(ss->buffer), "%s", strerror(errno));
		result->data = ss->buffer;
		return SOCKET_ERR;
	}
	atomic_fetch_add_explicit(&s->read_bytes, (unsigned long long)n, memory_order_relaxed);
	atomic_store_explicit(&s->rtime, now_of(ss), memory_order_relaxed);
	uint8_t addr[UDP_ADDRESS_SIZE];
	int asz = gen_udp_address(s->protocol, &sa, addr);
	char *data = skynet_malloc((size_t)n + (size_t)asz);
	memcpy(data, ss->udpbuffer, (size_t)n);
	memcpy(data + n, addr, (size_t)asz);
	result->opaque = s->opaque;
	result->id = ATOM_LOAD(&s->id);
	result->ud = (int)n;
	result->data = data;
	return SOCKET_UDP;
}

int socket_server_poll(struct socket_server *ss, struct socket_message *result, int *more)
{
	for (;;) {
		if (ss->work_index < ss->work.n) {
			struct request *r = &ss->work.r[ss->work_index++];
			int type = handle_request(ss, r, result);
			if (type != -1)
				return type;
			continue;
		}
		if (ss->checkctrl) {
			ss->checkctrl = false;
			if (take_requests(ss))
				continue;
		}
		if (ss->event_index == ss->event_n) {
			if (more)
				*more = 0;
			ss->event_index = 0;
			ss->event_n = epoll_wait(ss->epfd, ss->ev, MAX_EVENT, resume_accepts(ss));
			ss->checkctrl = true;
			/* the events read now are stamped with now, however long
			 * the wait (the timer thread may sleep longer still) */
			if (ss->clock)
				atomic_store_explicit(&ss->time, ss->clock(), memory_order_relaxed);
			if (ss->event_n <= 0) {
				/* 0: a paused listener's time is up (resume_accepts) */
				bool failed = ss->event_n < 0 && errno != EINTR;
				ss->event_n = 0;
				if (failed)
					fprintf(stderr, "socket-server: epoll_wait: %s\n", strerror(errno));
				continue;
			}
		}
		struct epoll_event *e = &ss->ev[ss->event_index];
		struct socket *s = e->data.ptr;
		uint32_t flags = e->events;
		if (s == NULL) {
			uint64_t count;
			ssize_t n = read(ss->ctrl_fd, &count, sizeof(count));
			(void)n;
			ss->checkctrl = true;
			ss->event_index++;
			continue;
		}
		if (flags == 0) {
			ss->event_index++;
			continue;
		}
		int type = ATOM_LOAD(&s->type);
		int ret = -1;
		switch (type) {
		case SOCKET_TYPE_INVALID:
		case SOCKET_TYPE_RESERVE: ss->event_index++; continue;
		case SOCKET_TYPE_CONNECTING:
			ss->event_index++;
			ret = report_connect(ss, s, result);
			break;
		case SOCKET_TYPE_LISTEN:
			ss->event_index++;
			if (flags & EPOLLIN)
				ret = report_accept(ss, s, result);
			break;
		default:
			if ((flags & EPOLLOUT) && s->writing) {
				/* Write first; the read half of this event is seen next round. */
				e->events &= ~(uint32_t)EPOLLOUT;
				ret = send_buffer(ss, s, result);
				if (ret != -1)
					return ret;
				continue;
			}
			if ((flags & (EPOLLIN | EPOLLHUP | EPOLLERR)) && s->reading) {
				bool again = false;
				if (s->protocol == PROTOCOL_TCP)
					ret = read_tcp(ss, s, result, &again);
				else
					ret = read_udp(ss, s, result);
				if (!again)
					ss->event_index++;
				break;
			}
			ss->event_index++;
			if ((flags & (EPOLLHUP | EPOLLERR)) && !s->writing) {
				/* Hang-up or error nobody is reading or writing: epoll would
				 * report it forever, so end the socket now. */
				int error = 0;
				socklen_t len = sizeof(error);
				getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &error, &len);
				if (error == 0 && s->close_reported) {
					force_close(ss, s, result);
					ret = -1;
				} else {
					ret = report_error(ss, s, result,
					                   error ? strerror(error) : "connection hang up");
				}
			}
			break;
		}
		if (ret != -1)
			return ret;
	}
}

/* ---- netstat ---- */

static int info_type(int type)
{
	switch (type) {
	case SOCKET_TYPE_LISTEN: return SOCKET_INFO_LISTEN;
	case SOCKET_TYPE_CONNECTED:
	case SOCKET_TYPE_CONNECTING:
	case SOCKET_TYPE_PACCEPT: return SOCKET_INFO_TCP;
	case SOCKET_TYPE_HALFCLOSE_READ:
	case SOCKET_TYPE_HALFCLOSE_WRITE: return SOCKET_INFO_CLOSING;
	case SOCKET_TYPE_BIND: return SOCKET_INFO_BIND;
	default: return SOCKET_INFO_UNKNOWN;
	}
}

uint64_t socket_server_rtime(struct socket_server *ss, int id)
{
	struct socket *s = slot_of(ss, id);
	uint64_t t = atomic_load_explicit(&s->rtime, memory_order_relaxed);
	/* the slot may be reused meanwhile: then the answer is about another socket,
	 * which only makes a caller's silence check a little late, never wrong-early */
	if (atomic_load_explicit(&s->id, memory_order_relaxed) != id)
		return 0;
	return t;
}

struct socket_info *socket_server_info(struct socket_server *ss)
{
	struct socket_info *head = NULL;
	for (int i = 0; i < MAX_SOCKET; i++) {
		struct socket *s = &ss->slot[i];
		int type = ATOM_LOAD(&s->type);
		if (type == SOCKET_TYPE_INVALID || type == SOCKET_TYPE_RESERVE || type == SOCKET_TYPE_PLISTEN)
			continue;
		struct socket_info *si = skynet_calloc(1, sizeof(*si));
		si->id = ATOM_LOAD(&s->id);
		si->type = s->protocol == PROTOCOL_TCP ? info_type(type) : SOCKET_INFO_UDP;
		if (s->closing)
			si->type = SOCKET_INFO_CLOSING;
		si->opaque = s->opaque;
		si->read = atomic_load_explicit(&s->read_bytes, memory_order_relaxed);
		si->write = atomic_load_explicit(&s->write_bytes, memory_order_relaxed);
		si->rtime = atomic_load_explicit(&s->rtime, memory_order_relaxed);
		si->wtime = atomic_load_explicit(&s->wtime, memory_order_relaxed);
		si->wbuffer = s->wb_size;
		si->reading = s->reading;
		si->writing = s->writing;
		union sockaddr_all sa;
		socklen_t len = sizeof(sa);
		memset(&sa, 0, sizeof(sa));
		int fd = s->fd;
		bool peer = si->type == SOCKET_INFO_TCP || si->type == SOCKET_INFO_CLOSING;
		if (fd >= 0 && (peer ? getpeername(fd, &sa.s, &len) : getsockname(fd, &sa.s, &len)) == 0)
			format_address(&sa, si->name, sizeof(si->name), true);
		si->next = head;
		head = si;
	}
	return head;
}

void socket_info_release(struct socket_info *si)
{
	while (si) {
		struct socket_info *next = si->next;
		skynet_free(si);
		si = next;
	}
}
