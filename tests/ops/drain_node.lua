-- The start service of the drain test's nodes (tests/ops/test_drain.py).
-- Config keys: test_role = "keeper" (node 1: global SINK that records what
-- hooks save) or "drainer" (node 2: a C gate and a Lua gate on test_cgate /
-- test_lgate, shutdown hooks).  Lines starting with "DRAIN " are what the
-- python side waits for.
--
-- The drainer's hooks: "save" waits until a client already connected sends
-- "release" (proving that existing clients are still served while the gates
-- refuse new ones), then calls SINK on node 1 and returns; "slow" (with
-- test_slow = true) never returns and must be cut at shutdown_timeout;
-- "raise" (with test_raise = true) raises.
local skynet = require "skynet"
require "skynet.manager"
local shutdown = require "skynet.shutdown"
local socket = require "skynet.socket"
local netpack = require "skynet.netpack"

local function say(...)
	skynet.error("DRAIN " .. table.concat({ ... }, " "))
end

local role = skynet.getenv "test_role"
local id = skynet.harbor(skynet.self())

local released = false
local release_waiter

local function reply(msg)
	if msg == "ping" then
		return "pong " .. skynet.call(".shutdown", "lua", "state")
	elseif msg == "release" then
		released = true
		if release_waiter then skynet.wakeup(release_waiter) end
		return "released"
	end
	return "unknown " .. msg
end

local cgate, lgate
local SOCKET = {}   -- the Lua gate's watchdog messages

function SOCKET.open(fd)
	skynet.call(lgate, "lua", "accept", fd)
end

function SOCKET.data(fd, msg)
	socket.write(fd, netpack.pack(reply(msg)))
end

function SOCKET.close() end
function SOCKET.error() end
function SOCKET.warning() end

skynet.register_protocol {  -- the C gate's watchdog messages: "<id> open|close|data ..."
	name = "text",
	id = skynet.PTYPE_TEXT,
	pack = function(s) return s end,
	unpack = skynet.tostring,
	dispatch = function(_, _, msg)
		skynet.ignoreret() -- the C gate puts the connection id in the session
		local cid, what, rest = msg:match("^(%d+) (%a+) ?(.*)$")
		if what == "open" then
			skynet.send(cgate, "text", "start " .. cid)
		elseif what == "data" then
			local out = reply(rest)
			local hdr = string.pack(">s2", out)
			skynet.send(cgate, "client", hdr .. string.pack("<I4", tonumber(cid)))
		end
	end,
}
skynet.register_protocol { name = "client", id = skynet.PTYPE_CLIENT, pack = function(s) return s end }

local CMD = {}
function CMD.saved(from, what)
	say("SAVED", what, "from", from)
	return true
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		if cmd == "socket" then
			local sub, fd, a = ...
			SOCKET[sub](fd, a)
			return
		end
		skynet.ret(skynet.pack(CMD[cmd](...)))
	end)
	say("STATE", skynet.call(".shutdown", "lua", "state"))
	if role == "keeper" then
		skynet.register "SINK"
		say("READY", id)
		return
	end
	cgate = skynet.launch("gate", "S", skynet.address(skynet.self()),
		"127.0.0.1:" .. skynet.getenv "test_cgate", 0, 16)
	lgate = skynet.newservice "gate"
	skynet.call(lgate, "lua", "open", { address = "127.0.0.1", port = tonumber(skynet.getenv "test_lgate"),
		watchdog = skynet.self() })
	shutdown.hook(function(reason)
		say("HOOK save begins", reason, skynet.call(".shutdown", "lua", "state"))
		if not released then
			release_waiter = coroutine.running()
			skynet.wait(release_waiter)
		end
		local ok = skynet.call("SINK", "lua", "saved", id, "players")
		say("HOOK save done", tostring(ok))
	end, "save")
	if skynet.getenv "test_slow" == "true" then
		shutdown.hook(function()
			say("HOOK slow begins")
			skynet.sleep(100000)
		end, "slow")
	end
	if skynet.getenv "test_raise" == "true" then
		shutdown.hook(function() error("hook raised on purpose") end, "raise")
	end
	say("READY", id)
end)
