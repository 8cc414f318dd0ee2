-- cluster_discovery — cluster-mode members found in DNS, as a StatefulSet behind a headless
-- Service publishes them (deploy/k8s/), kept in the node table with cluster.reload.
--
-- Config keys:
--   cluster_discovery           DNS name of a member with %d for its ordinal, e.g.
--                               "skiff-lobby-%d.skiff-lobby.skiff.svc.cluster.local"
--   cluster_discovery_port      the members' cluster port (default 2528)
--   cluster_discovery_max       ordinals probed, 0 .. max-1 (default 32)
--   cluster_discovery_interval  seconds between rounds (default 5)
--   cluster_discovery_dns       "ip[:port]" of the DNS server (default: /etc/resolv.conf's)
-- A member's cluster node name is the first label of its DNS name (the pod's name), so
-- `cluster.call("skiff-lobby-1", "@lobby", ...)` reaches pod skiff-lobby-1.
--
-- Each round resolves every candidate at once (skynet.dns: only this service's coroutines
-- wait, never a worker).  A name that the server says does not exist (or has no address) is
-- not a member; a name whose lookup times out or fails otherwise keeps its previous state, so
-- a DNS hiccup does not drop members.  When the set changes (a member came, went, or came
-- back on another address, as a rescheduled pod does), one cluster.reload sets the new
-- addresses (name = "ip:port": the cluster service dials the address this service resolved)
-- and removes the gone ones (name = false), and one log line says who came and went.
--
-- Commands ("lua"): members -> sorted list of member names; refresh -> runs a round now and
-- returns the members.
local skynet = require "skynet"
local cluster = require "skynet.cluster"
local dns = require "skynet.dns"

local pattern = assert(skynet.getenv "cluster_discovery", "cluster_discovery is not set")
assert(pattern:find("%d", 1, true), "cluster_discovery must hold %d for the ordinal (got '" .. pattern .. "')")
local port = tonumber(skynet.getenv "cluster_discovery_port" or 2528)
local max = tonumber(skynet.getenv "cluster_discovery_max" or 32)
local interval = tonumber(skynet.getenv "cluster_discovery_interval" or 5)
local server = skynet.getenv "cluster_discovery_dns"

local members = {}   -- node name -> "ip:port"
local busy = false

local function absent(err)
	err = tostring(err)
	return err:find("no such name", 1, true) or err:find("no answer", 1, true)
end

local function sorted(t)
	local r = {}
	for k in pairs(t) do r[#r + 1] = k end
	table.sort(r)
	return r
end

local function round()
	if busy then return end
	busy = true
	dns.flush()  -- every round asks the server: a member that left must disappear
	local found, left = {}, max
	local me = coroutine.running()
	for i = 0, max - 1 do
		skynet.fork(function()
			local fqdn = pattern:gsub("%%d", tostring(i))
			local name = fqdn:match("^([^.]+)")
			local ok, ip = pcall(dns.resolve, fqdn)
			if ok and ip then
				found[name] = ip .. ":" .. port
			elseif ok or absent(ip) then
				found[name] = false
			else
				found[name] = members[name] or false  -- unknown: keep what we had
			end
			left = left - 1
			if left == 0 then skynet.wakeup(me) end
		end)
	end
	skynet.wait(me)
	local change, came, went = {}, {}, {}
	for name, addr in pairs(found) do
		if addr and members[name] ~= addr then
			change[name] = addr
			came[#came + 1] = name
		elseif not addr and members[name] then
			change[name] = false
			went[#went + 1] = name
		end
	end
	if next(change) then
		for name, addr in pairs(change) do members[name] = addr or nil end
		cluster.reload(change)
		table.sort(came)
		table.sort(went)
		skynet.error(string.format("cluster discovery: members %s (+%s -%s)",
			table.concat(sorted(members), ","), table.concat(came, ","), table.concat(went, ",")))
	end
	busy = false
end

skynet.start(function()
	if server then
		local host, p = server:match("^(.*):(%d+)$")
		dns.server(host or server, tonumber(p) or 53)
	end
	skynet.dispatch("lua", function(_, _, cmd)
		if cmd == "refresh" then
			round()
		elseif cmd ~= "members" then
			error("cluster_discovery: unknown command " .. tostring(cmd))
		end
		skynet.ret(skynet.pack(sorted(members)))
	end)
	skynet.fork(function()
		while true do
			local ok, err = pcall(round)
			if not ok then
				busy = false
				skynet.error("cluster discovery: " .. tostring(err))
			end
			skynet.sleep(math.floor(interval * 100))
		end
	end)
end)
