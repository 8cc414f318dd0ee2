-- clusterd: cluster mode's manager, one per node.
-- Reads the `cluster` node file (a Lua chunk run in an empty environment),
-- merges reloads into it and tells the cluster C service where nodes are, which
-- names are registered and where to listen.  Also creates proxies and senders.
local skynet = require "skynet"
require "skynet.manager"
local core = require "skynet.cluster.core"

local config_name = skynet.getenv "cluster"
local node_address = {}   -- name -> "host:port" | false
local register_name = {}  -- name -> handle
local register_addr = {}  -- handle -> name
local proxies = {}        -- "node.name" -> clusterproxy handle
local senders = {}        -- node -> clustersender handle
local nowaiting = false
local self_name           -- the name this node listens as (cluster.open(name)), if any
local csvc

skynet.register_protocol {
	name = "text",
	id = skynet.PTYPE_TEXT,
	pack = function(s) return s end,
	unpack = skynet.tostring,
}

local function ctl(...)
	local r = skynet.call(csvc, "text", table.concat({ ... }, " "))
	if r:sub(1, 2) ~= "OK" then
		error(r:gsub("^ERR ", ""), 0)
	end
	return r
end

local function loadconfig(tmp)
	if tmp == nil then
		tmp = {}
		if config_name then
			local f = assert(io.open(config_name))
			local source = f:read "a"
			f:close()
			assert(load(source, "@" .. config_name, "t", tmp))()
		end
	end
	local names = {}
	for name in pairs(tmp) do names[#names + 1] = name end
	table.sort(names)
	for _, name in ipairs(names) do
		local address = tmp[name]
		if name:sub(1, 2) == "__" then
			local opt = name:sub(3)
			skynet.error(string.format("Config %s = %s", opt, tostring(address)))
			if opt == "nowaiting" then
				nowaiting = address and true or false
				ctl("nowaiting", tostring(nowaiting))
			end
		else
			assert(address == false or (type(address) == "string" and address:find ":"),
				"invalid cluster address for " .. name)
			assert(not name:find "[%s]" and #name <= 63, "invalid cluster node name " .. name)
			if node_address[name] ~= address then
				node_address[name] = address
				ctl("node", name, address == false and "false" or address)
			end
		end
	end
end

local command = {}

function command.core()
	return csvc
end

function command.reload(source, config)
	loadconfig(config)
	return true
end

function command.listen(source, port_or_name, host)
	local port, name
	if type(port_or_name) == "string" then
		name = port_or_name
		local address = node_address[name]
		if not address then
			error(string.format("cluster node [%s] has no address in the config", name))
		end
		host, port = address:match "^(.*):(%d+)$"
		port = tonumber(port)
		self_name = self_name or name
		if not core.selfset then
			core.selfset = true
			ctl("self", name)
		end
	else
		port = port_or_name
		host = host or "0.0.0.0"
	end
	local r = ctl("listen", host, port, name or "-")
	if name then
		-- a named node takes part in cluster-wide hot reload (services/reloadd.lua)
		skynet.fork(function()
			local ok, err = pcall(skynet.uniqueservice, "reloadd")
			if not ok then skynet.error("clusterd: reloadd failed to start: " .. tostring(err)) end
		end)
	end
	local bound = tonumber(r:match "OK (%d+)")
	skynet.error(string.format("cluster listening on %s %s:%d", name or "-", host, bound))
	return host, bound
end

function command.sender(source, node)
	local s = senders[node]
	if not s then
		s = skynet.newservice("clustersender", node)
		if senders[node] then
			skynet.kill(s)
			s = senders[node]
		else
			senders[node] = s
		end
	end
	return s
end

-- nodes() -> name -> "host:port" | false, and the name this node listens as
function command.nodes()
	return node_address, self_name
end

function command.senders()
	return senders
end

function command.proxy(source, node, name)
	if name == nil then
		node, name = node:match "^([^@.]+)([@.].+)"
		if name == nil then
			error("Invalid name " .. tostring(node))
		end
	end
	local fullname = node .. "." .. name
	local p = proxies[fullname]
	if p == nil then
		p = skynet.newservice("clusterproxy", node, name)
		-- another request may have made one meanwhile
		if proxies[fullname] then
			skynet.kill(p)
			p = proxies[fullname]
		else
			proxies[fullname] = p
		end
	end
	return p
end

function command.register(source, name, addr)
	assert(register_name[name] == nil, "cluster name " .. name .. " is already registered")
	addr = addr or source
	local old = register_addr[addr]
	if old then
		register_name[old] = nil
		ctl("unregister", old)
	end
	register_addr[addr] = name
	register_name[name] = addr
	ctl("register", name, addr)
	skynet.error(string.format("Register [%s] :%08x", name, addr))
end

function command.unregister(source, name)
	local addr = register_name[name]
	if not addr then return end
	register_addr[addr] = nil
	register_name[name] = nil
	ctl("unregister", name)
	skynet.error(string.format("Unregister [%s] :%08x", name, addr))
end

function command.queryname(source, name)
	return register_name[name]
end

skynet.start(function()
	csvc = skynet.launch("cluster", core.nodename())
	if not csvc then
		error("cannot start the cluster service (see the log: cluster_key, or cluster_pub and node_credential, are required)")
	end
	loadconfig()
	skynet.dispatch("lua", function(session, source, cmd, ...)
		local f = assert(command[cmd], cmd)
		skynet.ret(skynet.pack(f(source, ...)))
	end)
end)
