/*
 * skynet_config.c — the config loader. The parsing rules are easiest to state
 * in Lua, so a small Lua program (below) runs the config in a sandboxed table
 * and checks it; C then copies the result into the env.
 *
 * `$NAME` substitution (skynet's rule: every $NAME in the raw text, an
 * undefined NAME is fatal) is done by a small Lua lexer, so that a value is
 * always data: escaped into the string it stands in, a quoted string (or a
 * number / true / false / nil literal) where it stands in code, untouched text
 * in a comment.  A value holding `"`, `]]` or a newline cannot end a literal
 * and run as config code.
 */
#include "skynet_config.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

#include "skynet_env.h"

/* Arguments: result table, top-level path, text or nil. Raises a one-line
 * error message "<file>: <what>" on any problem. */
static const char config_loader[] =
	"local result, top, toptext = ...\n"
	"local getenv, open, load, pcall, type, tostring, next, error, setmetatable =\n"
	"  os.getenv, io.open, load, pcall, type, tostring, next, error, setmetatable\n"
	"local fmt = string.format\n"
	"local function dirname(p) return p:match('^(.*/)') or '' end\n"
	"local function check(file)\n"
	"  for k, v in next, result do\n"
	"    if type(k) ~= 'string' then\n"
	"      error(fmt('%s: Invalid config table: key %s is not a string', file, tostring(k)), 0)\n"
	"    end\n"
	"    local t = type(v)\n"
	"    if t ~= 'string' and t ~= 'number' and t ~= 'boolean' then\n"
	"      error(fmt(\"%s: Invalid config table key = %s (a %s; only strings, numbers and booleans are allowed)\", file, k, t), 0)\n"
	"    end\n"
	"  end\n"
	"end\n"
	"-- Environment substitution: every $NAME becomes the value of NAME as data,\n"
	"-- never as code.  Inside a quoted string the value is escaped into it; in a\n"
	"-- long string the whole literal is rewritten as a quoted one; in code a value\n"
	"-- that is a number or true/false/nil is put as that literal (a number in\n"
	"-- parentheses, so `-$N` or `$A..$B` keep their meaning), any other value as\n"
	"-- a quoted string; in a comment nothing changes.  Line numbers are kept.  An\n"
	"-- undefined NAME is an error wherever it appears, as in skynet.\n"
	"local function escape(v)\n"
	"  return (v:gsub('[%c\"\\'\\\\]', function(c) return fmt('\\\\%03d', c:byte()) end))\n"
	"end\n"
	"local function code_value(v)\n"
	"  if v == 'true' or v == 'false' or v == 'nil' then return v end\n"
	"  if tonumber(v) and v:find('^%-?%.?%d[%w%.%+%-]*$') then return '(' .. v .. ')' end\n"
	"  return '\"' .. escape(v) .. '\"'\n"
	"end\n"
	"local function long_body(b)\n"
	"  local out, n, i = {}, 0, 1\n"
	"  while i <= #b do\n"
	"    local c = b:sub(i, i)\n"
	"    if c == '\\n' or c == '\\r' then\n"
	"      local d = b:sub(i + 1, i + 1)\n"
	"      if (d == '\\n' or d == '\\r') and d ~= c then i = i + 1 end\n"
	"      c = '\\n'\n"
	"      n = n + 1\n"
	"    end\n"
	"    out[#out + 1] = c\n"
	"    i = i + 1\n"
	"  end\n"
	"  return table.concat(out), n\n"
	"end\n"
	"local function substitute(text, filename)\n"
	"  local function value(name)\n"
	"    local v = getenv(name)\n"
	"    if v == nil then error(fmt('%s: undefined environment variable $%s', filename, name), 0) end\n"
	"    return v\n"
	"  end\n"
	"  local function in_quotes(s)\n"
	"    return (s:gsub('%$([%w_]+)', function(name) return escape(value(name)) end))\n"
	"  end\n"
	"  local out, len, i = {}, #text, 1\n"
	"  local function put(s) out[#out + 1] = s end\n"
	"  while i <= len do\n"
	"    local s = text:find('[-\"\\'%[%$]', i)\n"
	"    if not s then put(text:sub(i)) break end\n"
	"    put(text:sub(i, s - 1))\n"
	"    local c = text:sub(s, s)\n"
	"    i = s + 1\n"
	"    if c == '-' then\n"
	"      if text:sub(i, i) == '-' then\n"
	"        local eq = text:match('^%[(=*)%[', s + 2)\n"
	"        local e\n"
	"        if eq then e = select(2, text:find(']' .. eq .. ']', s + 2, true)) or len\n"
	"        else e = (text:find('[\\r\\n]', s) or len + 1) - 1 end\n"
	"        local comment = text:sub(s, e)\n"
	"        comment:gsub('%$([%w_]+)', value)\n"
	"        put(comment)\n"
	"        i = e + 1\n"
	"      else\n"
	"        put(c)\n"
	"      end\n"
	"    elseif c == '\"' or c == \"'\" then\n"
	"      local j = i\n"
	"      while j <= len do\n"
	"        local k = text:find('[\\\\\\r\\n' .. c .. ']', j)\n"
	"        if not k then j = len + 1 break end\n"
	"        if text:sub(k, k) ~= '\\\\' then j = k break end\n"
	"        local d = text:sub(k + 1, k + 1)\n"
	"        if d == 'z' then\n"
	"          j = select(2, text:find('^%s*', k + 2)) + 1\n"
	"        elseif d == '\\r' or d == '\\n' then\n"
	"          local d2 = text:sub(k + 2, k + 2)\n"
	"          j = k + (((d2 == '\\r' or d2 == '\\n') and d2 ~= d) and 3 or 2)\n"
	"        else\n"
	"          j = k + 2\n"
	"        end\n"
	"      end\n"
	"      put(c .. in_quotes(text:sub(i, j - 1)) .. text:sub(j, j))\n"
	"      i = j + 1\n"
	"    elseif c == '[' then\n"
	"      local eq = text:match('^%[(=*)%[', s)\n"
	"      local cs, ce\n"
	"      if eq then cs, ce = text:find(']' .. eq .. ']', s + #eq + 2, true) end\n"
	"      if not cs then\n"
	"        put(c)\n"
	"      else\n"
	"        local raw = text:sub(s + #eq + 2, cs - 1)\n"
	"        if raw:find('%$[%w_]') then\n"
	"          local body, lines = long_body(raw)\n"
	"          body = body:gsub('^\\n', ''):gsub('%$([%w_]+)', value)\n"
	"          put('\"' .. escape(body) .. '\"' .. string.rep('\\n', lines))\n"
	"        else\n"
	"          put(text:sub(s, ce))\n"
	"        end\n"
	"        i = ce + 1\n"
	"      end\n"
	"    else -- '$'\n"
	"      local name = text:match('^[%w_]+', i)\n"
	"      if name then\n"
	"        put(code_value(value(name)))\n"
	"        i = i + #name\n"
	"      else\n"
	"        put(c)\n"
	"      end\n"
	"    end\n"
	"  end\n"
	"  return table.concat(out)\n"
	"end\n"
	"-- Keys naming files: a relative value is relative to the folder of the file\n"
	"-- that set it, as include is (logger only while logservice is the default,\n"
	"-- since another logservice reads it as its own argument).\n"
	"local PATHKEYS = { 'cluster_key', 'cluster_pub', 'node_credential', 'logger', 'logpath',\n"
	"  'console_token', 'cluster', 'daemon', 'certfile', 'keyfile' }\n"
	"local resolved, unresolved = {}, {}\n"
	"local function resolve_paths(filename, before)\n"
	"  local dir = dirname(filename)\n"
	"  for _, k in ipairs(PATHKEYS) do\n"
	"    local v = result[k]\n"
	"    if type(v) == 'string' and v ~= before[k] and v ~= resolved[k] then\n"
	"      unresolved[k] = v\n"
	"      if dir ~= '' and v ~= '' and v:sub(1, 1) ~= '/' then v = dir .. v end\n"
	"      result[k], resolved[k] = v, v\n"
	"    end\n"
	"  end\n"
	"end\n"
	"local env\n"
	"local function run(filename, text)\n"
	"  if text == nil then\n"
	"    local f, err = open(filename, 'rb')\n"
	"    if not f then error(fmt('%s: cannot open config file (%s)', filename, err), 0) end\n"
	"    text = f:read('a')\n"
	"    f:close()\n"
	"  end\n"
	"  text = substitute(text, filename)\n"
	"  local chunk, err = load(text, '@' .. filename, 't', env)\n"
	"  if not chunk then error(err, 0) end\n"
	"  local before = {}\n"
	"  for _, k in ipairs(PATHKEYS) do before[k] = result[k] end\n"
	"  local ok, e = pcall(chunk)\n"
	"  if not ok then\n"
	"    if type(e) ~= 'string' then e = tostring(e) end\n"
	"    if e:sub(1, #filename) ~= filename then e = filename .. ': ' .. e end\n"
	"    error(e, 0)\n"
	"  end\n"
	"  check(filename)\n"
	"  resolve_paths(filename, before)\n"
	"end\n"
	"local function include(name)\n"
	"  if type(name) ~= 'string' then error('include needs a file name', 2) end\n"
	"  local info = debug.getinfo(2, 'S')\n"
	"  local from = info and info.source and info.source:sub(2) or top\n"
	"  if name:sub(1, 1) ~= '/' then name = dirname(from) .. name end\n"
	"  run(name)\n"
	"end\n"
	"env = setmetatable(result, { __index = function(_, k)\n"
	"  if k == 'include' then return include end\n"
	"  return _G[k]\n"
	"end })\n"
	"run(top, toptext)\n"
	"if result.logservice ~= nil and result.logservice ~= 'logger' and unresolved.logger then\n"
	"  result.logger = unresolved.logger\n"
	"end\n"
	"setmetatable(result, nil)\n";

static int load_into(lua_State *L)
{
	/* upvalue-free: args are on the stack (path, text-or-nil, defaults as table) */
	const char *path = lua_tostring(L, 1);
	int has_text = !lua_isnil(L, 2);
	if (luaL_loadbuffer(L, config_loader, sizeof(config_loader) - 1, "=[skiff config loader]") != LUA_OK)
		return lua_error(L);
	lua_pushvalue(L, 3); /* result table, with defaults already in it */
	lua_pushstring(L, path);
	if (has_text)
		lua_pushvalue(L, 2);
	else
		lua_pushnil(L);
	lua_call(L, 3, 0);
	return 0;
}

int skynet_config_load(const char *path, const char *text, size_t textlen,
                       const struct config_default *defaults, char *err, size_t errsz)
{
	lua_State *L = luaL_newstate();
	if (L == NULL) {
		snprintf(err, errsz, "%s: not enough memory to load the config", path);
		return -1;
	}
	luaL_openlibs(L);

	lua_pushcfunction(L, load_into);
	lua_pushstring(L, path);
	if (text)
		lua_pushlstring(L, text, textlen);
	else
		lua_pushnil(L);
	lua_newtable(L);
	for (const struct config_default *d = defaults; d && d->key; d++) {
		lua_pushstring(L, d->value);
		lua_setfield(L, -2, d->key);
	}
	lua_pushvalue(L, -1);
	lua_insert(L, 1); /* keep the result table below the call */

	if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
		const char *e = lua_tostring(L, -1);
		snprintf(err, errsz, "%s", e ? e : "unknown error while loading the config");
		lua_close(L);
		return -1;
	}

	/* result table at index 1. A key the config set to nil is unset, as in
	 * skynet, and an unset key takes its default: the runtime relies on every
	 * default key being there (`luaservice = nil` must not leave snlua
	 * without a search path). */
	for (const struct config_default *d = defaults; d && d->key; d++) {
		if (lua_getfield(L, 1, d->key) == LUA_TNIL) {
			lua_pushstring(L, d->value);
			lua_setfield(L, 1, d->key);
		}
		lua_pop(L, 1);
	}
	lua_pushnil(L);
	while (lua_next(L, 1) != 0) {
		const char *key = lua_tostring(L, -2);
		const char *value;
		if (lua_type(L, -1) == LUA_TBOOLEAN)
			value = lua_toboolean(L, -1) ? "true" : "false";
		else
			value = lua_tostring(L, -1); /* converts numbers in place: fine for values */
		if (key && value)
			skynet_setenv(key, value);
		lua_pop(L, 1);
	}
	lua_close(L);
	return 0;
}
