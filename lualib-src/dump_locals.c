/*
 * dump_locals.c — see dump_locals.h.
 *
 * The walk follows the layout written by Lua 5.4's luaU_dump (ldump.c):
 * header, the main closure's upvalue count, then each function as
 *   source, linedefined, lastlinedefined, numparams, is_vararg, maxstacksize,
 *   code, constants, upvalues, nested functions,
 *   debug: lineinfo, abslineinfo, locvars, upvalue names
 * where counts and sizes are varints (7 bits a byte, most significant first,
 * the last byte with 0x80 set) and a string is its size + 1 (0 for none) then
 * its bytes.  Everything is copied from `in` to `out` (out <= in always, so
 * one buffer serves both) except the local variable entries, whose count is
 * written as 0.  Any inconsistency (a size past the end, an unknown constant
 * tag, nesting deeper than Lua allows) fails the whole rewrite.
 */
#include "dump_locals.h"

#include <lua.h>
#include <string.h>

#define MAX_DEPTH 200 /* LUAI_MAXCCALLS: the parser never nests deeper */

struct walk {
	char *buf;
	size_t in, out, len;
	size_t isize, nsize; /* sizeof(lua_Integer), sizeof(lua_Number) of the chunk */
	int bad;
};

static void copy(struct walk *w, size_t n)
{
	if (w->bad || n > w->len - w->in) {
		w->bad = 1;
		return;
	}
	if (w->out != w->in)
		memmove(w->buf + w->out, w->buf + w->in, n);
	w->in += n;
	w->out += n;
}

static void skip(struct walk *w, size_t n)
{
	if (w->bad || n > w->len - w->in) {
		w->bad = 1;
		return;
	}
	w->in += n;
}

/* Reads a varint; with `keep`, copies its bytes too. */
static size_t varint(struct walk *w, int keep)
{
	size_t x = 0, start = w->in;
	for (;;) {
		if (w->bad || w->in >= w->len || x > ((size_t)-1 >> 7)) {
			w->bad = 1;
			return 0;
		}
		unsigned char b = (unsigned char)w->buf[w->in++];
		x = (x << 7) | (b & 0x7f);
		if (b & 0x80)
			break;
	}
	if (keep) {
		size_t n = w->in - start;
		w->in = start;
		copy(w, n);
	}
	return x;
}

static void read_string(struct walk *w, int keep)
{
	size_t size = varint(w, keep);
	if (size > 0) {
		if (keep)
			copy(w, size - 1);
		else
			skip(w, size - 1);
	}
}

static void read_function(struct walk *w, int depth)
{
	if (depth > MAX_DEPTH) {
		w->bad = 1;
		return;
	}
	read_string(w, 1);       /* source */
	varint(w, 1);            /* linedefined */
	varint(w, 1);            /* lastlinedefined */
	copy(w, 3);              /* numparams, is_vararg, maxstacksize */
	size_t n = varint(w, 1); /* code */
	if (n > w->len / sizeof(int32_t)) {
		w->bad = 1;
		return;
	}
	copy(w, n * sizeof(int32_t));
	n = varint(w, 1); /* constants */
	for (size_t i = 0; i < n && !w->bad; i++) {
		if (w->in >= w->len) {
			w->bad = 1;
			return;
		}
		int tag = (unsigned char)w->buf[w->in];
		copy(w, 1);
		switch (tag) {
		case LUA_TNIL:
		case LUA_TBOOLEAN: /* false */
		case LUA_TBOOLEAN | (1 << 4): /* true */ break;
		case LUA_TNUMBER: /* integer */ copy(w, w->isize); break;
		case LUA_TNUMBER | (1 << 4): /* float */ copy(w, w->nsize); break;
		case LUA_TSTRING: /* short */
		case LUA_TSTRING | (1 << 4): /* long */ read_string(w, 1); break;
		default: w->bad = 1;
		}
	}
	n = varint(w, 1); /* upvalues: instack, idx, kind */
	if (n > w->len) {
		w->bad = 1;
		return;
	}
	copy(w, n * 3);
	n = varint(w, 1); /* nested functions */
	for (size_t i = 0; i < n && !w->bad; i++)
		read_function(w, depth + 1);
	n = varint(w, 1); /* lineinfo */
	copy(w, n);
	n = varint(w, 1); /* abslineinfo: pc, line */
	for (size_t i = 0; i < n && !w->bad; i++) {
		varint(w, 1);
		varint(w, 1);
	}
	n = varint(w, 0);                /* locvars: dropped */
	if (w->bad || w->out >= w->in) { /* the count just read took a byte: room for ours */
		w->bad = 1;
		return;
	}
	w->buf[w->out++] = (char)0x80; /* count 0 */
	for (size_t i = 0; i < n && !w->bad; i++) {
		read_string(w, 0);
		varint(w, 0);
		varint(w, 0);
	}
	n = varint(w, 1); /* upvalue names */
	for (size_t i = 0; i < n && !w->bad; i++)
		read_string(w, 1);
}

size_t skiff_dump_drop_locals(char *buf, size_t len)
{
	static const char data[] = "\x19\x93\r\n\x1a\n";
	const size_t fixed = 4 + 2 + 6 + 3; /* signature, version, format, data, three sizes */
	if (len < fixed || memcmp(buf, LUA_SIGNATURE, 4) != 0 || (unsigned char)buf[4] != 0x54 ||
	    buf[5] != 0 || memcmp(buf + 6, data, 6) != 0 || buf[12] != 4)
		return 0;
	struct walk w = { buf, 0, 0, len, (unsigned char)buf[13], (unsigned char)buf[14], 0 };
	if (w.isize != sizeof(lua_Integer) || w.nsize != sizeof(lua_Number))
		return 0;
	copy(&w, fixed + w.isize + w.nsize + 1); /* + the main closure's upvalue count */
	read_function(&w, 0);
	if (w.bad || w.in != w.len)
		return 0;
	return w.out;
}
