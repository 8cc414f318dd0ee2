-- lobby_main — the start service of the cluster-mode StatefulSet (skiff-lobby) in
-- deploy/k8s/: it listens for cluster links, answers as "@lobby", and finds the other
-- members in the headless Service's DNS (services/cluster_discovery.lua, which calls
-- cluster.reload when members come and go).  Every lobby_ping_interval seconds it calls
-- "@lobby" on every member and logs who answered, so a member that joined is seen in use.
-- Config keys: lobby_listen ("host:port"), lobby_ping_interval (seconds, default 10), and
-- the cluster_discovery* keys.
local skynet = require "skynet"
local cluster = require "skynet.cluster"

local me = skynet.getenv "lobby_name"
local CMD = {}

function CMD.ping(from)
	return me, from
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		local f = assert(CMD[cmd], "unknown command")
		skynet.ret(skynet.pack(f(...)))
	end)
	local host, port = assert(skynet.getenv "lobby_listen", "lobby_listen is not set"):match("^(.*):(%d+)$")
	cluster.open(tonumber(port), host)
	cluster.register("lobby", skynet.self())
	local discovery = skynet.newservice "cluster_discovery"
	local every = tonumber(skynet.getenv "lobby_ping_interval" or 10)
	skynet.error("lobby: " .. me .. " up")
	skynet.fork(function()
		local seen = {}
		while true do
			local members = skynet.call(discovery, "lua", "members")
			local now = {}
			for _, m in ipairs(members) do
				local ok, who = pcall(cluster.call, m, "@lobby", "ping", me)
				if ok then
					now[m] = true
					if not seen[m] then skynet.error("lobby: " .. who .. " answered " .. me) end
				end
			end
			seen = now
			skynet.sleep(math.floor(every * 100))
		end
	end)
end)
