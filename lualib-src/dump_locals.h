/*
 * dump_locals.h — drop the names of local variables from a Lua 5.4 binary
 * chunk (lua_dump output), keeping everything else: code, constants, line
 * information, upvalue names and sources.  The code cache applies it to the
 * runtime's own Lua library (every service loads skynet.lua), where the local
 * names were ~5 KiB of each service's heap and a third of the strings interned
 * at each load; see docs/performance.md.
 */
#ifndef SKIFF_DUMP_LOCALS_H
#define SKIFF_DUMP_LOCALS_H

#include <stddef.h>

/*
 * Rewrites buf[0..len) in place; returns the new length (never more than len),
 * or 0 when the bytes are not a Lua 5.4 binary chunk of this build's layout,
 * in which case buf may have been partly rewritten and must not be used.
 */
size_t skiff_dump_drop_locals(char *buf, size_t len);

#endif
