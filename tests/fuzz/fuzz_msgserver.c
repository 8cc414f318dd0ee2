/*
 * fuzz_msgserver.c — snax.msgserver's packet handling (lualib/snax/msgcore.lua).
 *
 * msgserver keeps everything it does with a client's bytes in snax.msgcore,
 * plain Lua with no skynet API: the handshake parser and hmac check, the
 * request parser and the response cache of reconnects.  This target loads
 * that file (the one the node runs) into a plain Lua state with skynet.crypt
 * (lua-crypt.c, compiled in) and plays a script of operations against one
 * core with two logged-in users and four connections.
 *
 * Input: a sequence of operations, each an opcode byte and its operands:
 *   0 n text[n]      handshake with raw text on fd (opcode >> 3) & 3
 *   1 u i            a correctly signed handshake of user u with index i-128
 *   2 n text[n]      a request with raw text on fd
 *   3 n text[n] s    a request "text .. session s" answered at once (ok = s & 1)
 *   4 n text[n] s    the same request left pending; opcode 5 answers the oldest
 *   6                drop the fd;  7: log the user out and in again
 * Properties: handshake never raises and answers nil or one of the four
 * codes; a signed handshake is accepted exactly when its index is above the
 * user's last one; request raises only its three documented errors; a
 * delivered packet is one whole frame whose tail is the ok byte and the
 * session asked, with the handler's text when ok; a user's answered cache
 * stays within 3 * expired_number entries.
 */
#include <lauxlib.h>
#include <lualib.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_lua.h"
#include "lua-crypt.h"
#include "skiff_paths.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char script[] =
	"local msgcore, crypt = ...\n"
	"local EXPIRED <const> = 3\n"
	"local USERS <const> = { 'dQ==@cw==#MQ==', 'dg==@cw==#Mg==' }\n"
	"local SECRET <const> = { '\\1\\2\\3\\4\\5\\6\\7\\8', 'abcdefgh' }\n"
	"local CODES <const> = { ['404 User Not Found'] = true, ['403 Index Expired'] = true,\n"
	"  ['401 Unauthorized'] = true, ['400 Bad Request'] = true }\n"
	"local ERRORS <const> = { 'has no session', 'with no user', 'reused before its response' }\n"
	"return function(input)\n"
	"  local core = msgcore.new(crypt, EXPIRED)\n"
	"  for i = 1, 2 do core.login(USERS[i], SECRET[i]) end\n"
	"  local pos, pending = 1, {}\n"
	"  local function byte()\n"
	"    local b = input:byte(pos) or 0\n"
	"    pos = pos + 1\n"
	"    return b\n"
	"  end\n"
	"  local function text()\n"
	"    local n = byte()\n"
	"    local s = input:sub(pos, pos + n - 1)\n"
	"    pos = pos + n\n"
	"    return s\n"
	"  end\n"
	"  local function check_cache()\n"
	"    for i = 1, 2 do\n"
	"      local u = core.user(USERS[i])\n"
	"      if u then\n"
	"        local answered = 0\n"
	"        for _, e in pairs(u.response) do\n"
	"          if e.packet and e.fd == nil then answered = answered + 1 end\n"
	"        end\n"
	"        assert(answered <= 3 * EXPIRED, 'cache grew to ' .. answered)\n"
	"      end\n"
	"    end\n"
	"  end\n"
	"  local function deliver(job, ok, result)\n"
	"    local fd, packet = core.deliver(job)\n"
	"    assert(type(packet) == 'string')\n"
	"    local body, next = string.unpack('>s2', packet)\n"
	"    assert(next == #packet + 1, 'one frame')\n"
	"    assert(#body >= 5)\n"
	"    local okb, session = string.unpack('>BI4', body, #body - 4)\n"
	"    assert(session == job.session, 'session echoed')\n"
	"    if job.new then\n"
	"      assert(okb == (ok and 1 or 0), 'ok byte')\n"
	"      if ok then assert(body:sub(1, -6) == result, 'content') end\n"
	"    end\n"
	"    if fd then assert(core.connection(fd) == job.user) end\n"
	"  end\n"
	"  local function request(fd, raw)\n"
	"    local ok, job = pcall(core.request, fd, raw)\n"
	"    if not ok then\n"
	"      for _, e in ipairs(ERRORS) do\n"
	"        if string.find(job, e, 1, true) then return nil end\n"
	"      end\n"
	"      error('request raised: ' .. tostring(job))\n"
	"    end\n"
	"    if job then assert(job.new or job.entry.packet) end\n"
	"    return job\n"
	"  end\n"
	"  while pos <= #input do\n"
	"    local op = byte()\n"
	"    local fd = (op >> 3) & 3\n"
	"    local kind = op & 7\n"
	"    if kind == 0 then\n"
	"      local code = core.handshake(fd, 'addr', text())\n"
	"      assert(code == nil or CODES[code], 'handshake code')\n"
	"      if code == nil then assert(core.connection(fd)) end\n"
	"    elseif kind == 1 then\n"
	"      local i = byte() % 2 + 1\n"
	"      local index = byte() - 128\n"
	"      local u = core.user(USERS[i])\n"
	"      local before = u and u.version\n"
	"      local hs = USERS[i] .. ':' .. index\n"
	"      local mac = crypt.base64encode(crypt.hmac64(crypt.hashkey(hs), SECRET[i]))\n"
	"      local code = core.handshake(fd, 'addr', hs .. ':' .. mac)\n"
	"      if u == nil then assert(code == '404 User Not Found')\n"
	"      elseif index > before then assert(code == nil and core.connection(fd) == u, 'signed refused: ' .. tostring(code))\n"
	"      else assert(code == '403 Index Expired', 'old index: ' .. tostring(code)) end\n"
	"    elseif kind == 2 then\n"
	"      local job = request(fd, text())\n"
	"      if job then\n"
	"        if job.new then core.finish(job, true, job.content) end\n"
	"        deliver(job, true, job.content)\n"
	"      end\n"
	"    elseif kind == 3 or kind == 4 then\n"
	"      local body = text()\n"
	"      local s = byte()\n"
	"      local job = request(fd, body .. string.pack('>I4', s))\n"
	"      if job then\n"
	"        assert(not job.new or job.content == body)\n"
	"        if kind == 4 and job.new then\n"
	"          pending[#pending + 1] = job\n"
	"        else\n"
	"          local ok = s & 1 == 1\n"
	"          if job.new then core.finish(job, ok, body) end\n"
	"          deliver(job, ok, body)\n"
	"        end\n"
	"      end\n"
	"    elseif kind == 5 then\n"
	"      local job = table.remove(pending, 1)\n"
	"      if job then\n"
	"        core.finish(job, true, job.content)\n"
	"        deliver(job, true, job.content)\n"
	"      end\n"
	"    elseif kind == 6 then\n"
	"      core.drop(fd)\n"
	"    else\n"
	"      local i = fd % 2 + 1\n"
	"      core.logout(USERS[i])\n"
	"      core.login(USERS[i], SECRET[i])\n"
	"    end\n"
	"    check_cache()\n"
	"  end\n"
	"end\n";

static lua_State *setup(void)
{
	FUZZ_ASSERT(sodium_init() >= 0);
	lua_State *L = fuzz_lua_newstate();
	const char *path = SKIFF_SOURCE_ROOT "/lualib/snax/msgcore.lua";
	FUZZ_ASSERT(luaL_loadfile(L, path) == LUA_OK);
	lua_call(L, 0, 1); /* the msgcore module */
	FUZZ_ASSERT(luaL_loadbuffer(L, script, sizeof(script) - 1, "=fuzz_msgserver") == LUA_OK);
	lua_insert(L, -2);
	luaL_requiref(L, "skynet.crypt", luaopen_skynet_crypt, 0);
	lua_call(L, 2, 1); /* the per-input function */
	lua_setglobal(L, "run");
	fuzz_lua_trace(L);
	return L;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lua_State *L = fuzz_lua_input(setup);
	fuzz_lua_bytes(L, "run", data, size, "msgserver");
	return 0;
}
