/*
 * lua-tls.c — ltls.c and ltls.init.c: TLS on OpenSSL with memory BIOs, so the
 * bytes travel over the node's own non-blocking sockets and no call here ever
 * waits: OpenSSL reads ciphertext we hand it and leaves what it wants sent in
 * a buffer we drain.
 *
 * ltls.c
 *   newctx()                      -> ctx (TLS 1.2 or later; no peer check)
 *   ctx:set_cert(certfile, keyfile [, password])   PEM files, for a server
 *   ctx:set_ciphers(list)         OpenSSL cipher list (TLS 1.2 suites)
 *   ctx:set_verify(cafile)        extension: check the peer's certificate
 *                                 against these CAs (and, for a client, the
 *                                 host name given to newtls)
 *   newtls("client"|"server", ctx [, hostname]) -> tls
 *   tls:handshake([data])         feed received bytes; returns the bytes to
 *                                 send ("" when none); raises on failure
 *   tls:finished()                the handshake is done
 *   tls:read([data])              feed received bytes; returns the plaintext
 *                                 they complete ("" when a record is still
 *                                 partial); raises on a TLS error
 *   tls:write([plain])            returns the ciphertext to send (also
 *                                 whatever OpenSSL has pending)
 *   tls:set_ext_host_name(name)   SNI for a client
 *   tls:close()                   frees the session (also done by __gc)
 * ltls.init.c: constructor() / destructor() — OpenSSL 1.1+ initialises and
 * cleans up by itself; kept so code written for skynet's TLS holder runs.
 *
 * Invariants: a tls userdata owns its SSL, which owns both BIOs; `ctx` keeps
 * its SSL_CTX alive through a reference in the tls's user value, so the
 * context outlives every session made from it.
 */
#include <lauxlib.h>
#include <lua.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "preload.h"

#define CTX_MT "ltls.ctx"
#define TLS_MT "ltls.tls"

struct tls_ctx {
	SSL_CTX *ctx;
};

struct tls {
	SSL *ssl;
	BIO *in;  /* ciphertext received, for OpenSSL to read */
	BIO *out; /* ciphertext OpenSSL wrote, for us to send */
};

/* Raises with OpenSSL's queued errors (the queue is emptied).
 * OpenSSL's error queue belongs to the thread, and a service runs on any
 * worker thread: an error left queued by one connection would make
 * SSL_get_error call another connection's "want more bytes" a failure (with
 * the old error's text).  So the queue is emptied before every SSL call here
 * and on every error path. */
static int tls_raise(lua_State *L, const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();
	if (e == 0)
		return luaL_error(L, "tls: %s failed", what);
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return luaL_error(L, "tls: %s failed: %s", what, buf);
}

/* ---- context ---- */

static struct tls_ctx *check_ctx(lua_State *L, int i)
{
	struct tls_ctx *c = luaL_checkudata(L, i, CTX_MT);
	if (c->ctx == NULL)
		luaL_error(L, "tls: context is freed");
	return c;
}

static int ctx_gc(lua_State *L)
{
	struct tls_ctx *c = luaL_checkudata(L, 1, CTX_MT);
	if (c->ctx) {
		SSL_CTX_free(c->ctx);
		c->ctx = NULL;
	}
	return 0;
}

static int ctx_set_cert(lua_State *L)
{
	struct tls_ctx *c = check_ctx(L, 1);
	const char *cert = luaL_checkstring(L, 2);
	const char *key = luaL_checkstring(L, 3);
	const char *password = luaL_optstring(L, 4, NULL);
	if (password)
		SSL_CTX_set_default_passwd_cb_userdata(c->ctx, (void *)password);
	int ok = SSL_CTX_use_certificate_chain_file(c->ctx, cert) == 1 &&
	         SSL_CTX_use_PrivateKey_file(c->ctx, key, SSL_FILETYPE_PEM) == 1 &&
	         SSL_CTX_check_private_key(c->ctx) == 1;
	SSL_CTX_set_default_passwd_cb_userdata(c->ctx, NULL);
	if (!ok)
		return tls_raise(L, "set_cert");
	return 0;
}

static int ctx_set_ciphers(lua_State *L)
{
	struct tls_ctx *c = check_ctx(L, 1);
	if (SSL_CTX_set_cipher_list(c->ctx, luaL_checkstring(L, 2)) != 1)
		return tls_raise(L, "set_ciphers");
	return 0;
}

static int ctx_set_verify(lua_State *L)
{
	struct tls_ctx *c = check_ctx(L, 1);
	if (SSL_CTX_load_verify_locations(c->ctx, luaL_checkstring(L, 2), NULL) != 1)
		return tls_raise(L, "set_verify");
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return 0;
}

static int lnewctx(lua_State *L)
{
	struct tls_ctx *c = lua_newuserdatauv(L, sizeof(*c), 0);
	c->ctx = SSL_CTX_new(TLS_method());
	if (c->ctx == NULL)
		return tls_raise(L, "SSL_CTX_new");
	luaL_setmetatable(L, CTX_MT);
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	/* a write hands OpenSSL the whole buffer; memory BIOs never refuse it */
	SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return 1;
}

/* ---- session ---- */

static struct tls *check_tls(lua_State *L, int i)
{
	struct tls *t = luaL_checkudata(L, i, TLS_MT);
	if (t->ssl == NULL)
		luaL_error(L, "tls: session is closed");
	return t;
}

static int tls_close(lua_State *L)
{
	struct tls *t = luaL_checkudata(L, 1, TLS_MT);
	if (t->ssl) {
		SSL_free(t->ssl); /* frees both BIOs */
		t->ssl = NULL;
	}
	return 0;
}

/* Feeds the string at index i (if any) to the input BIO. */
static void feed(lua_State *L, struct tls *t, int i)
{
	size_t n;
	const char *data = luaL_optlstring(L, i, NULL, &n);
	if (data && n > 0) {
		if (BIO_write(t->in, data, (int)n) != (int)n)
			luaL_error(L, "tls: cannot buffer %d received bytes", (int)n);
	}
}

/* Pushes what OpenSSL queued to send. */
static void drain(lua_State *L, struct tls *t)
{
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (;;) {
		size_t pending = BIO_ctrl_pending(t->out);
		if (pending == 0)
			break;
		char *p = luaL_prepbuffsize(&b, pending);
		int r = BIO_read(t->out, p, (int)pending);
		if (r <= 0)
			break;
		luaL_addsize(&b, (size_t)r);
	}
	luaL_pushresult(&b);
}

static int tls_handshake(lua_State *L)
{
	struct tls *t = check_tls(L, 1);
	feed(L, t, 2);
	ERR_clear_error(); /* see the note at tls_raise */
	int r = SSL_do_handshake(t->ssl);
	if (r != 1) {
		int e = SSL_get_error(t->ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			long v = SSL_get_verify_result(t->ssl);
			if (v != X509_V_OK) {
				ERR_clear_error();
				return luaL_error(L, "tls: handshake failed: certificate: %s",
				                  X509_verify_cert_error_string(v));
			}
			return tls_raise(L, "handshake");
		}
	}
	drain(L, t);
	return 1;
}

static int tls_finished(lua_State *L)
{
	struct tls *t = check_tls(L, 1);
	lua_pushboolean(L, SSL_is_init_finished(t->ssl));
	return 1;
}

static int tls_read(lua_State *L)
{
	struct tls *t = check_tls(L, 1);
	feed(L, t, 2);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (;;) {
		char *p = luaL_prepbuffsize(&b, 16384);
		ERR_clear_error();
		int r = SSL_read(t->ssl, p, 16384);
		if (r > 0) {
			luaL_addsize(&b, (size_t)r);
			continue;
		}
		int e = SSL_get_error(t->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_ZERO_RETURN)
			break; /* need more bytes, or the peer's close_notify */
		if (e == SSL_ERROR_WANT_WRITE)
			break;
		return tls_raise(L, "read");
	}
	luaL_pushresult(&b);
	return 1;
}

static int tls_write(lua_State *L)
{
	struct tls *t = check_tls(L, 1);
	size_t n;
	const char *plain = luaL_optlstring(L, 2, "", &n);
	while (n > 0) {
		ERR_clear_error();
		int r = SSL_write(t->ssl, plain, n > 0x40000000 ? 0x40000000 : (int)n);
		if (r <= 0)
			return tls_raise(L, "write");
		plain += r;
		n -= (size_t)r;
	}
	drain(L, t);
	return 1;
}

static int tls_set_host(lua_State *L)
{
	struct tls *t = check_tls(L, 1);
	const char *name = luaL_checkstring(L, 2);
	if (SSL_set_tlsext_host_name(t->ssl, name) != 1)
		return tls_raise(L, "set_ext_host_name");
	return 0;
}

static int lnewtls(lua_State *L)
{
	const char *method = luaL_checkstring(L, 1);
	struct tls_ctx *c = check_ctx(L, 2);
	const char *hostname = luaL_optstring(L, 3, NULL);
	int client;
	if (strcmp(method, "client") == 0)
		client = 1;
	else if (strcmp(method, "server") == 0)
		client = 0;
	else
		return luaL_error(L, "tls: method is \"client\" or \"server\", not %s", method);
	struct tls *t = lua_newuserdatauv(L, sizeof(*t), 1);
	t->ssl = NULL;
	luaL_setmetatable(L, TLS_MT);
	lua_pushvalue(L, 2);
	lua_setiuservalue(L, -2, 1); /* keep the context alive */
	t->ssl = SSL_new(c->ctx);
	if (t->ssl == NULL)
		return tls_raise(L, "SSL_new");
	t->in = BIO_new(BIO_s_mem());
	t->out = BIO_new(BIO_s_mem());
	if (!t->in || !t->out) {
		BIO_free(t->in);
		BIO_free(t->out);
		return tls_raise(L, "BIO_new");
	}
	/* an empty input BIO means "wait for more", not end of file */
	BIO_set_mem_eof_return(t->in, -1);
	SSL_set_bio(t->ssl, t->in, t->out);
	if (client) {
		SSL_set_connect_state(t->ssl);
		if (hostname) {
			SSL_set_tlsext_host_name(t->ssl, hostname);
			/* checked only when the context verifies peers */
			SSL_set1_host(t->ssl, hostname);
		}
	} else {
		SSL_set_accept_state(t->ssl);
	}
	return 1;
}

int luaopen_ltls_c(lua_State *L)
{
	luaL_checkversion(L);
	static const luaL_Reg ctx_methods[] = {
		{ "set_cert", ctx_set_cert },
		{ "set_ciphers", ctx_set_ciphers },
		{ "set_verify", ctx_set_verify },
		{ NULL, NULL },
	};
	static const luaL_Reg tls_methods[] = {
		{ "handshake", tls_handshake },
		{ "finished", tls_finished },
		{ "read", tls_read },
		{ "write", tls_write },
		{ "set_ext_host_name", tls_set_host },
		{ "close", tls_close },
		{ NULL, NULL },
	};
	if (luaL_newmetatable(L, CTX_MT)) {
		luaL_newlib(L, ctx_methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, ctx_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_pop(L, 1);
	if (luaL_newmetatable(L, TLS_MT)) {
		luaL_newlib(L, tls_methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, tls_close);
		lua_setfield(L, -2, "__gc");
	}
	lua_pop(L, 1);
	static const luaL_Reg l[] = {
		{ "newctx", lnewctx },
		{ "newtls", lnewtls },
		{ NULL, NULL },
	};
	luaL_newlib(L, l);
	return 1;
}

static int linit_nothing(lua_State *L)
{
	(void)L;
	return 0;
}

int luaopen_ltls_init_c(lua_State *L)
{
	luaL_checkversion(L);
	static const luaL_Reg l[] = {
		{ "constructor", linit_nothing },
		{ "destructor", linit_nothing },
		{ NULL, NULL },
	};
	luaL_newlib(L, l);
	return 1;
}
