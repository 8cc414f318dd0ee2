-- skynet.core, exercised on a real node.
local skynet = require "skynet"
local c = require "skynet.core"
local t = require "luac_t"

local texts = {}
skynet.register_protocol {
	name = "text",
	id = skynet.PTYPE_TEXT,
	unpack = skynet.tostring,
	dispatch = function(session, source, msg)
		texts[#texts + 1] = { session = session, source = source, msg = msg }
		skynet.wakeup(texts)
	end,
}

skynet.dispatch("lua", function(_, _, cmd, ...)
	if cmd == "echo" then
		skynet.ret(skynet.pack(...))
	end
end)

t.run("core", function()
	-- every built-in C module is preloaded; the ones snlua opens itself are loaded
	for _, name in ipairs { "skynet.core", "skynet.profile", "skynet.memory", "skynet.codecache" } do
		t.ok(package.preload[name], "preload " .. name)
		t.eq(type(require(name)), "table", "require " .. name)
	end
	t.ok(package.loaded["skynet.profile"] and package.loaded["skynet.codecache"], "opened by snlua")
	for _, name in ipairs { "skynet.socketdriver", "skynet.netpack", "skynet.multicast.core",
		"skynet.cluster.core", "skynet.harbor.core" } do
		if package.preload[name] then
			t.eq(type(require(name)), "table", "require " .. name)
		end
	end

	local self = skynet.self()
	t.eq(c.addresscommand "REG", self, "REG")
	t.eq(c.self(), self, "self()")
	t.eq(type(c.addresscommand("QUERY", ".launcher")), "number", "QUERY .launcher")
	t.eq(c.addresscommand("QUERY", ".no_such_name"), nil, "QUERY missing name")

	-- send: session, nil for an invalid destination, false when too large
	t.eq(c.send(".no_such_name", skynet.PTYPE_TEXT, 0, "x"), nil, "send to missing name")
	t.eq(select("#", c.send(".no_such_name", skynet.PTYPE_TEXT, 0, "x")), 1, "one result")
	t.raises("Invalid service address 0", c.send, 0, skynet.PTYPE_TEXT, 0, "x")
	t.raises("address must be number or string", c.send, {}, skynet.PTYPE_TEXT, 0, "x")
	t.eq(c.send(self, skynet.PTYPE_TEXT, 0, "plain"), 0, "send returns session 0")
	local s = c.send(self, skynet.PTYPE_TEXT, nil, "alloc")
	t.ok(math.type(s) == "integer" and s > 0, "allocated session")
	local ud, sz = c.pack("big")
	t.eq(c.send(self, skynet.PTYPE_LUA, 0, ud, 1 << 57), false, "too large") -- runtime frees ud
	local a, b = c.genid(), c.genid()
	t.eq(b, a + 1, "genid increments")

	-- messages arrive with the right session/source; redirect forges the source
	c.redirect(self, 0x1234, skynet.PTYPE_TEXT, 77, "forged")
	while #texts < 3 do skynet.wait(texts) end
	t.eq(texts[1].msg, "plain", "copied string payload")
	t.eq(texts[2].session, s, "session delivered")
	t.eq(texts[3].source, 0x1234, "redirect source")
	t.eq(texts[3].session, 77, "redirect session")
	t.eq(texts[3].msg, "forged", "redirect payload")

	-- lightuserdata payload (ownership passes) through a real call
	local r1, r2, r3 = skynet.call(self, "lua", "echo", 1, "two", { 3 })
	t.eq(r1, 1) t.eq(r2, "two") t.eq(r3[1], 3)

	-- commands
	t.eq(c.command("GETENV", "harbor"), "0", "GETENV")
	t.eq(c.command("GETENV", "no_such_key"), nil, "GETENV missing")
	t.eq(math.type(c.intcommand("STAT", "mqlen")), "integer", "STAT mqlen")
	t.eq(math.type(c.intcommand("STAT", "cpu")), "float", "STAT cpu")
	t.eq(math.type(c.intcommand("STAT", "message")), "integer", "STAT message")
	t.eq(math.type(c.intcommand "STARTTIME"), "integer", "STARTTIME")
	t.raises("Invalid result", c.intcommand, "REG")
	local h, remote = c.harbor(self)
	t.eq(h, 0, "harbor id") t.eq(remote, false, "not remote")

	-- raw messages
	local p, psz = c.pack(1, "x", { y = true })
	t.eq(c.tostring(p, psz), c.packstring(1, "x", { y = true }), "pack == packstring")
	local x1, x2, x3 = c.unpack(p, psz)
	t.eq(x1, 1) t.eq(x2, "x") t.eq(x3.y, true)
	c.trash(p, psz)
	c.trash("strings are ignored", 3)
	t.eq(c.tostring(nil), nil, "tostring(nil)")
	t.eq(c.unpack(c.packstring("s")), "s", "unpack string")

	-- time
	local n0, h0 = c.now(), c.hpc()
	skynet.sleep(5)
	local dn, dh = c.now() - n0, c.hpc() - h0
	t.ok(dn >= 3 and dn < 500, "now advances in centiseconds: " .. dn)
	t.ok(dh >= 20000000, "hpc in nanoseconds: " .. dh) -- 20 ms

	-- logging
	c.error("LUAC_ERRJOIN", 1, true, nil, 2.5)
	c.error("LUAC_SINGLE")
	c.trace("luactag", "plainuser")
	c.trace("luactag2", "withsource", 1)
	c.trace("luactag3", "co", coroutine.running(), 1)
end)
