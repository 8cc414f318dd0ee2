-- The service the cluster tests call: echoes, says which node it is on,
-- sleeps on request, builds big replies, checks the order of sequences.
local skynet = require "skynet"

local node, tag = ...
local cluster = require "skynet.cluster"
local last = {}     -- stream -> last sequence number seen
local disorder = 0
local received = 0

local command = {}

function command.echo(...)
	return ...
end

function command.whoami()
	return node, tag, skynet.self()
end

-- Calls `cmd` on the echo service of another node (three nodes calling each other).
function command.relay(other, ...)
	return cluster.call(other, "@echo", ...)
end

function command.tracetag()
	return skynet.tracetag()
end

function command.sleep(cs)
	skynet.sleep(cs)
	return "slept"
end

function command.fail(text)
	error(text)
end

function command.big(n, fill)
	return string.rep(fill or "x", n)
end

function command.size(s)
	return #s, s:sub(1, 8), s:sub(-8)
end

function command.seq(stream, n, pad)
	received = received + 1
	local prev = last[stream] or 0
	if n ~= prev + 1 then disorder = disorder + 1 end
	last[stream] = n
	return n
end

function command.stats(stream)
	return received, disorder, last[stream] or 0
end

skynet.start(function()
	skynet.dispatch("lua", function(session, source, cmd, ...)
		local f = assert(command[cmd], cmd)
		if session == 0 then
			f(...)
		else
			skynet.ret(skynet.pack(f(...)))
		end
	end)
end)
