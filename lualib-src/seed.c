/*
 * seed.c — what every service state starts with, built once per process.
 *
 * With Skiff's Lua (lua/skiff-shared-proto.patch, LUA_SHARED_STRINGS) a
 * "seed" state opens the standard libraries and the preload table once, then
 * is spent:
 *   - its strings become the process's string table (lua_sharestrings): the
 *     libraries' field names, metamethod names, reserved words and the names
 *     snlua sets exist once, and each new state interns them as those;
 *   - the tables that hold only such names and plain values (functions
 *     without upvalues, numbers) become templates (lua_sharetable): a new
 *     state gets each as one copy of its hash part (lua_clonetable) instead
 *     of setting its fields one by one.
 * math is a template too, but its random generator is each state's own: the
 * state gets a new generator state for math.random and math.randomseed (the
 * C functions of the seed's, with a new upvalue) seeded as luaopen_math
 * seeds it. io is a template with its file handle metatable and methods; a
 * state gets its own stdin, stdout and stderr handles (luaL_Stream, made as
 * liolib makes them, with the seed's "cannot close" function). package
 * (searchers, paths) is opened the stock way. skynet.core's table is made
 * here too (skiff_core_template, lua-skynet.c) and copied by its luaopen.
 *
 * On Debian's plain Lua, skiff_seed does nothing and skiff_openlibs is
 * luaL_openlibs (with print writing whole lines: line_print) plus the
 * preload table.
 *
 * Invariant: the seed and its templates never change after seed_once, so any
 * thread may read them; they live until the process exits, as the code
 * cache's loader states do.
 */
#include <lauxlib.h>
#include <lualib.h>
#include <pthread.h>
#include <stdio.h>

#include "preload.h"

/* print, as the base library's, but the line leaves in one fwrite: the
 * stock print writes each argument and the newline separately, and the
 * logger (another service, on another thread, writing stdout too) could put
 * its line between them. */
static int line_print(lua_State *L)
{
	int n = lua_gettop(L);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, '\t');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_addchar(&b, '\n');
	luaL_pushresult(&b);
	size_t len;
	const char *line = lua_tolstring(L, -1, &len);
	fwrite(line, 1, len, stdout);
	fflush(stdout);
	return 0;
}

/* luaL_openlibs with print replaced (line_print). */
static void open_stock(lua_State *L)
{
	luaL_openlibs(L);
	lua_pushcfunction(L, line_print);
	lua_setglobal(L, "print");
}

#ifdef LUA_SHARED_STRINGS
/* Names a service state makes in snlua's start-up besides the libraries'. */
static const char *const seed_names[] = {
	"LUA_NOENV",   "skynet_context", "LUA_PATH", "LUA_CPATH",
	"LUA_SERVICE", "LUA_PRELOAD",    "memlimit", NULL,
};

/* Libraries whose tables are templates: functions without upvalues and plain values. */
static const char *const cloned[] = {
	LUA_COLIBNAME, LUA_TABLIBNAME, LUA_OSLIBNAME, LUA_STRLIBNAME, LUA_UTF8LIBNAME, LUA_DBLIBNAME,
};
#define NCLONED (sizeof(cloned) / sizeof(cloned[0]))

static struct {
	lua_State *L;        /* the spent seed (kept, so leak checkers see it reachable) */
	const void *globals; /* _G with its per-state values (libraries, _G, require) false */
	const void *lib[NCLONED];
	const void *string_meta;          /* the strings' metatable, __index false */
	const void *preload;              /* package.preload with the built-in C modules */
	const void *math;                 /* math with random and randomseed false */
	lua_CFunction random, randomseed; /* math's, over an upvalue of ransize bytes */
	size_t ransize;
	const void *io;           /* io with stdin, stdout, stderr false */
	const void *file_meta;    /* the LUA_FILEHANDLE metatable, __index false */
	const void *file_methods; /* its __index */
	lua_CFunction noclose;    /* closef of the standard files */
	int ready;                /* every template above was made */
} seed;

/* Whether the value at the top belongs to one state: a table, or a function
 * with upvalues (`require` holds the package table). */
static int per_state(lua_State *L)
{
	int t = lua_type(L, -1);
	if (t == LUA_TTABLE || t == LUA_TUSERDATA || t == LUA_TTHREAD)
		return 1;
	if (t != LUA_TFUNCTION)
		return 0;
	if (!lua_iscfunction(L, -1))
		return 1;
	if (lua_getupvalue(L, -1, 1) == NULL) /* NULL: a light C function */
		return 0;
	lua_pop(L, 1);
	return 1;
}

/* A copy of the table at the top with its per-state values false; pushed. */
static void push_plain(lua_State *L)
{
	int src = lua_gettop(L);
	int n = 0;
	lua_pushnil(L);
	while (lua_next(L, src)) {
		n++;
		lua_pop(L, 1);
	}
	lua_createtable(L, 0, n);
	lua_pushnil(L);
	while (lua_next(L, src)) {
		if (per_state(L)) {
			lua_pop(L, 1);
			lua_pushboolean(L, 0);
		}
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, -4);
	}
}

/* A template of the table at the top, which it pops: its plain copy
 * (push_plain), shared and anchored in the seed's registry; NULL if it cannot
 * be one. */
static const void *make_template(lua_State *L)
{
	push_plain(L);
	const void *t = lua_sharetable(L, -1);
	luaL_ref(L, LUA_REGISTRYINDEX);
	lua_pop(L, 1);
	return t;
}

/* The generator function `name` of math (at the top): its C function, if it
 * has exactly one upvalue, a full userdata of *size bytes (0: any size). */
static lua_CFunction generator(lua_State *L, const char *name, size_t *size)
{
	lua_CFunction f = NULL;
	lua_getfield(L, -1, name);
	if (lua_iscfunction(L, -1) && lua_getupvalue(L, -1, 1) != NULL) {
		size_t n = lua_type(L, -1) == LUA_TUSERDATA ? lua_rawlen(L, -1) : 0;
		if (n > 0 && (*size == 0 || *size == n) && lua_getupvalue(L, -2, 2) == NULL) {
			*size = n;
			f = lua_tocfunction(L, -2);
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	return f;
}

/* liolib keeps the default input and output files in the registry under
 * these names (its IO_INPUT, IO_OUTPUT); make_io checks them in the seed. */
static const struct {
	const char *field, *regkey;
} stdfiles[] = { { "stdin", "_IO_input" }, { "stdout", "_IO_output" }, { "stderr", NULL } };

static int make_io(lua_State *L)
{
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	lua_getfield(L, -1, LUA_IOLIBNAME);
	int io = lua_gettop(L);
	for (int i = 0; i < 3; i++) {
		lua_getfield(L, io, stdfiles[i].field);
		luaL_Stream *p = luaL_testudata(L, -1, LUA_FILEHANDLE);
		if (p == NULL || lua_rawlen(L, -1) != sizeof(*p) ||
		    (seed.noclose && p->closef != seed.noclose))
			return 0;
		seed.noclose = p->closef;
		if (stdfiles[i].regkey) {
			lua_getfield(L, LUA_REGISTRYINDEX, stdfiles[i].regkey);
			if (!lua_rawequal(L, -1, -2))
				return 0;
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
	seed.io = make_template(L);
	luaL_getmetatable(L, LUA_FILEHANDLE);
	lua_getfield(L, -1, "__index");
	if (lua_type(L, -1) != LUA_TTABLE)
		return 0;
	seed.file_methods = make_template(L);
	seed.file_meta = make_template(L);
	return seed.noclose && seed.io && seed.file_methods && seed.file_meta;
}

static int make_math(lua_State *L)
{
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	lua_getfield(L, -1, LUA_MATHLIBNAME);
	seed.random = generator(L, "random", &seed.ransize);
	seed.randomseed = generator(L, "randomseed", &seed.ransize);
	seed.math = make_template(L);
	return seed.random && seed.randomseed && seed.math;
}

/* Make every template; 0 if one cannot be (then states open libraries the stock way). */
static int make_templates(lua_State *L)
{
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	int loaded = lua_gettop(L);
	for (size_t i = 0; i < NCLONED; i++) {
		lua_getfield(L, loaded, cloned[i]);
		seed.lib[i] = make_template(L);
		if (seed.lib[i] == NULL)
			return 0;
	}
	lua_pushglobaltable(L);
	seed.globals = make_template(L);
	lua_pushliteral(L, "");
	if (!lua_getmetatable(L, -1))
		return 0;
	seed.string_meta = make_template(L); /* __index, the string table, is false */
	lua_getfield(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	seed.preload = make_template(L);
	skiff_core_template(L); /* skynet.core falls back to its own table if it fails */
	return seed.globals && seed.string_meta && seed.preload && make_math(L) && make_io(L);
}

static void seed_once(void)
{
	lua_State *L = luaL_newstate();
	if (L == NULL)
		return;        /* out of memory: states intern their own, as on plain Lua */
	lua_gc(L, LUA_GCSTOP); /* nothing is garbage here, and the seed never runs again */
	open_stock(L);
	skiff_lualib_preload(L);
	int ready = make_templates(L);
	lua_settop(L, 0);
	for (int i = 0; seed_names[i]; i++)
		lua_pushstring(L, seed_names[i]);
	lua_settop(L, 0);
	lua_sharestrings(L);
	seed.ready = ready;
	seed.L = L;
}

/* The table at the top becomes library `name`: in package.loaded and a global. Pops it. */
static void publish(lua_State *L, int loaded, int g, const char *name)
{
	lua_pushvalue(L, -1);
	lua_setfield(L, loaded, name);
	lua_setfield(L, g, name);
}

/* luaL_openlibs and the preload table, from the templates. */
static void open_cloned(lua_State *L)
{
	int top = lua_gettop(L);
	lua_clonetable(L, seed.globals); /* the new globals: nothing refers to the old ones yet */
	int g = lua_gettop(L);
	lua_pushvalue(L, g);
	lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
	lua_pushvalue(L, g);
	lua_setfield(L, g, LUA_GNAME);
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	int loaded = lua_gettop(L);
	lua_pushvalue(L, g);
	lua_setfield(L, loaded, LUA_GNAME);

	luaL_requiref(L, LUA_LOADLIBNAME, luaopen_package, 1);
	lua_clonetable(L, seed.preload);
	lua_pushvalue(L, -1);
	lua_setfield(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	lua_setfield(L, -2, "preload");
	lua_pop(L, 1);
	/* io: the file handle metatable, then io with this state's standard files */
	lua_clonetable(L, seed.file_meta);
	lua_clonetable(L, seed.file_methods);
	lua_setfield(L, -2, "__index");
	lua_setfield(L, LUA_REGISTRYINDEX, LUA_FILEHANDLE);
	lua_clonetable(L, seed.io);
	for (int i = 0; i < 3; i++) {
		luaL_Stream *p = lua_newuserdatauv(L, sizeof(*p), 0);
		p->f = i == 0 ? stdin : i == 1 ? stdout : stderr;
		p->closef = seed.noclose; /* the standard files are never closed */
		luaL_setmetatable(L, LUA_FILEHANDLE);
		if (stdfiles[i].regkey) {
			lua_pushvalue(L, -1);
			lua_setfield(L, LUA_REGISTRYINDEX, stdfiles[i].regkey);
		}
		lua_setfield(L, -2, stdfiles[i].field);
	}
	publish(L, loaded, g, LUA_IOLIBNAME);
	/* math: the template, and a generator of its own seeded as luaopen_math does */
	lua_clonetable(L, seed.math);
	lua_newuserdatauv(L, seed.ransize, 0);
	lua_pushvalue(L, -1);
	lua_pushcclosure(L, seed.random, 1);
	lua_setfield(L, -3, "random");
	lua_pushcclosure(L, seed.randomseed, 1);
	lua_pushvalue(L, -1);
	lua_setfield(L, -3, "randomseed");
	lua_call(L, 0, 0); /* randomseed(): from the time and the state's address */
	publish(L, loaded, g, LUA_MATHLIBNAME);

	for (size_t i = 0; i < NCLONED; i++) {
		lua_clonetable(L, seed.lib[i]);
		publish(L, loaded, g, cloned[i]);
	}
	/* strings index the string table, as luaopen_string arranges */
	lua_clonetable(L, seed.string_meta);
	lua_getfield(L, loaded, LUA_STRLIBNAME);
	lua_setfield(L, -2, "__index");
	lua_pushliteral(L, "");
	lua_insert(L, -2);
	lua_setmetatable(L, -2);
	lua_settop(L, top);
}
#endif

void skiff_seed(void)
{
#ifdef LUA_SHARED_STRINGS
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, seed_once);
#endif
}

void skiff_openlibs(lua_State *L)
{
#ifdef LUA_SHARED_STRINGS
	skiff_seed(); /* made by now (snlua_create); this also orders its reads after the writes */
	if (seed.ready) {
		open_cloned(L);
		return;
	}
#endif
	open_stock(L);
	skiff_lualib_preload(L);
}
