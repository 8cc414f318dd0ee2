-- clustersender: what cluster.get_sender(node) returns, for code written for
-- skynet's per-node sender: "req"(address, msg, sz) answers the remote's raw
-- reply, "push"(address, msg, sz) sends one way.  The transport itself is the
-- cluster C service; this is only the skynet-shaped entry point.
local skynet = require "skynet"
local cluster = require "skynet.cluster"

local node = ...

local command = {}

function command.req(address, msg, sz)
	local ok, m, s = cluster.rawcall(node, address, msg, sz)
	if not ok then
		error(m, 0)
	end
	skynet.ret(m, s)
end

function command.push(address, msg, sz)
	cluster.rawsend(node, address, msg, sz)
end

function command.changenode()
	skynet.ret(skynet.pack(nil))
end

skynet.start(function()
	skynet.dispatch("lua", function(session, source, cmd, ...)
		local f = assert(command[cmd], cmd)
		f(...)
	end)
end)
