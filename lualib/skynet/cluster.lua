-- skynet.cluster: calls to services of other nodes by node name.
-- Requests go straight from the caller to the node's
-- `cluster` C service (cluster/service_cluster.c), which carries them on secure
-- links; clusterd keeps the configuration, the registered names and the proxies.
--
-- A failed call raises an error whose text starts with "call failed" and says
-- why: the node is down or absent, the name is unknown, the remote service
-- raised an error, the message is too large.
local skynet = require "skynet"
local core = require "skynet.cluster.core"

local cluster = {}
local clusterd  -- the clusterd service
local csvc      -- the cluster C service

skynet.register_protocol {
	name = "cluster",
	id = core.PTYPE_CLUSTER,
}

local function resolve()
	if csvc == nil then
		clusterd = skynet.uniqueservice("clusterd")
		csvc = skynet.call(clusterd, "lua", "core")
	end
	return csvc
end

-- Resolve at service start, as skynet does, so the hot path never waits.
skynet.init(resolve)

local nodename = core.nodename()
local trace_seq = 0

-- The calling thread's trace tag, marked with where it crossed the first time.
local function tracetag(node)
	local tag = skynet.tracetag()
	if tag and tag:sub(1, 1) ~= "(" then
		trace_seq = trace_seq + 1
		tag = string.format("(%s-%s-%d)%s", nodename, node, trace_seq, tag)
	end
	return tag
end

function cluster.call(node, address, ...)
	local svc = csvc or resolve()
	local msg, sz = core.packrequest("call", node, address, tracetag(node), skynet.pack(...))
	return core.unpackresponse(skynet.rawcall(svc, "cluster", msg, sz))
end

function cluster.send(node, address, ...)
	local svc = csvc or resolve()
	skynet.rawsend(svc, "cluster", core.packrequest("push", node, address, tracetag(node),
		skynet.pack(...)))
end

-- Already packed payloads (clusterproxy, clustersender): msg is consumed.
-- Returns true, msg, sz (a copy the caller owns) or false, reason.
function cluster.rawcall(node, address, msg, sz)
	local svc = csvc or resolve()
	local m, s = core.packrequest("call", node, address, tracetag(node), msg, sz)
	return core.unpackraw(skynet.rawcall(svc, "cluster", m, s))
end

function cluster.rawsend(node, address, msg, sz)
	local svc = csvc or resolve()
	skynet.rawsend(svc, "cluster", core.packrequest("push", node, address, tracetag(node), msg, sz))
end

-- cluster.open(name) listens on the address the config gives `name`;
-- cluster.open(port [, host]) on host (default 0.0.0.0) and port (0: any).
-- Returns the bound host and port.
function cluster.open(port_or_name, host)
	resolve()
	return skynet.call(clusterd, "lua", "listen", port_or_name, host)
end

function cluster.reload(config)
	resolve()
	skynet.call(clusterd, "lua", "reload", config)
end

function cluster.proxy(node, name)
	resolve()
	return skynet.call(clusterd, "lua", "proxy", node, name)
end

function cluster.register(name, addr)
	assert(type(name) == "string")
	assert(addr == nil or type(addr) == "number")
	resolve()
	return skynet.call(clusterd, "lua", "register", name, addr or skynet.self())
end

function cluster.unregister(name)
	assert(type(name) == "string")
	resolve()
	return skynet.call(clusterd, "lua", "unregister", name)
end

function cluster.query(node, name)
	local svc = csvc or resolve()
	return core.unpackquery(skynet.rawcall(svc, "cluster", core.packrequest("query", node, name)))
end

function cluster.get_sender(node)
	resolve()
	return skynet.call(clusterd, "lua", "sender", node)
end

return cluster
