-- reloadd (unique per node): hot reload of this node's Lua services, and the
-- fan-out of a reload to every node.  The console's reload, clearcache and
-- hotfix commands (skynet.console.reload) call it; docs/hot-reload.md says
-- what is safe to reload.
--
-- Commands ("lua"), each answered with a list of rows
-- { node = id or name, address = ":hex" | nil, service = launch line | nil,
--   ok = bool, error = text | nil }, one per service touched (one per node
-- for clearcache and for a reload that only concerns new instances):
--   run(op, ...)   on this node only
--   all(op, ...)   on this node and every other node that is up (harbor:
--                  the global name reloadd<id>; cluster mode: the cluster
--                  name "reloadd"); a node that does not answer gets one row
--                  with ok = false and why
-- Ops:
--   "clearcache"                        forget every cached file: the next
--                                       load of any file reads the disk
--   "reload", type, mode, {modules}     clearcache, then every service
--       launched as `type`: mode "new" touches none (new instances load the
--       new code), "inject" re-requires the modules (none: the service's
--       own), "restart" runs the main file again in place (same handle)
--   "hotfix", target, source, filename  runs source in the service at
--       target (":hex") or in every service of type target; a snax service
--       gets it as a snax hotfix (snax.hotfix), any other as debug RUN
--
-- A service that does not answer within SERVICE_TIMEOUT gets a row with
-- ok = false.  Nothing here blocks the node: every wait is a skynet call.
local skynet = require "skynet"
require "skynet.manager"

local SERVICE_TIMEOUT = 500  -- cs for one service to reload
local NODE_TIMEOUT = 1000    -- cs for another node to answer all of its services

local harbor_id = tonumber(skynet.getenv "harbor" or 0) or 0
local cluster_mode = harbor_id == 0 and skynet.getenv "cluster" ~= nil
local node_label = harbor_id

-- Runs every job (a function) in its own thread; returns, in order, each
-- job's { true, results... } or { false, error }, or { false, "timeout" }
-- for a job still running after ti cs.
local function parallel(jobs, ti)
	local results, left = {}, #jobs
	if left == 0 then
		return results
	end
	local me = coroutine.running()
	local waiting = true
	for i, job in ipairs(jobs) do
		skynet.fork(function()
			local r = table.pack(pcall(job))
			if results[i] == nil then
				results[i] = r
				left = left - 1
				if left == 0 and waiting then
					waiting = false
					skynet.wakeup(me)
				end
			end
		end)
	end
	skynet.timeout(ti, function()
		if waiting then
			waiting = false
			skynet.wakeup(me)
		end
	end)
	skynet.wait(me)
	for i = 1, #jobs do
		if results[i] == nil then
			results[i] = { false, string.format("no answer within %d s", ti // 100) }
		end
	end
	return results
end

-- address -> { line = launch line, type = service type, snax = bool }
local function services_of(target)
	local list = skynet.call(".launcher", "lua", "LIST")
	local found = {}
	for address, line in pairs(list) do
		local words = {}
		for w in line:gmatch("%S+") do words[#words + 1] = w end
		local typ, snax = words[2], false
		if typ == "snaxd" then
			typ, snax = words[3], true
		end
		if address == target or typ == target then
			found[#found + 1] = { address = address, line = line, type = typ, snax = snax,
				args = { table.unpack(words, 3) } }
		end
	end
	table.sort(found, function(a, b) return a.address < b.address end)
	return found
end

local function handle_of(address)
	return tonumber(address:sub(2), 16)
end

-- one row per service: job(svc) returns true or false, error
local function each_service(found, job, what)
	if #found == 0 then
		return { { node = node_label, ok = true, note = "no running service " .. what } }
	end
	local jobs = {}
	for i, svc in ipairs(found) do
		jobs[i] = function() return job(svc) end
	end
	local rows = {}
	for i, r in ipairs(parallel(jobs, SERVICE_TIMEOUT)) do
		local svc = found[i]
		local row = { node = node_label, address = svc.address, service = svc.line }
		if r[1] and r[2] then
			row.ok = true
		else
			row.ok = false
			row.error = tostring(r[1] and r[3] or r[2])
		end
		rows[#rows + 1] = row
	end
	return rows
end

local function clearcache()
	local cache = skynet.cache
	if cache == nil or cache.clear == nil then
		error("no code cache in this build", 0)
	end
	cache.clear()
end

local op = {}

function op.clearcache()
	clearcache()
	return { { node = node_label, ok = true } }
end

function op.reload(typ, mode, modules)
	assert(type(typ) == "string", "reload needs a service type")
	mode = mode or "new"
	clearcache()
	if mode == "new" then
		return { { node = node_label, ok = true, service = typ,
			note = "code cache cleared: new instances of " .. typ .. " load the new code" } }
	end
	local found = {}
	for _, svc in ipairs(services_of(typ)) do
		if not svc.snax then found[#found + 1] = svc end
	end
	if mode == "inject" then
		return each_service(found, function(svc)
			return skynet.call(handle_of(svc.address), "debug", "RELOAD", table.unpack(modules or {}))
		end, "of type " .. typ)
	elseif mode == "restart" then
		return each_service(found, function(svc)
			return skynet.call(handle_of(svc.address), "debug", "RESTART", table.unpack(svc.args))
		end, "of type " .. typ)
	end
	error("reload mode must be new, inject or restart, not " .. tostring(mode), 0)
end

function op.hotfix(target, source, filename)
	assert(type(target) == "string" and type(source) == "string", "hotfix needs a target and a source")
	local hex = target:match("^:(%x+)$")
	if hex then
		target = string.format(":%08x", tonumber(hex, 16))
	end
	local found = services_of(target)
	return each_service(found, function(svc)
		if svc.snax then
			local snax = require "skynet.snax"
			local obj = snax.bind(handle_of(svc.address), svc.type)
			local ok, err = pcall(snax.hotfix, obj, source)
			return ok, err
		end
		local ok, output = skynet.call(handle_of(svc.address), "debug", "RUN", source, filename)
		return ok, output
	end, target:sub(1, 1) == ":" and "at " .. target or "of type " .. target)
end

-- the rows of op `name` on this node; an op that fails as a whole (a bad
-- argument, no code cache) is one row with ok = false
local function run(name, ...)
	local f = op[name]
	if f == nil then
		return { { node = node_label, ok = false, error = "unknown operation " .. tostring(name) } }
	end
	local ok, rows = pcall(f, ...)
	if not ok then
		return { { node = node_label, ok = false, error = tostring(rows) } }
	end
	return rows
end

-- the other nodes: a list of { label, call(...) }
local function peers()
	local list = {}
	if harbor_id ~= 0 then
		local text = skynet.call(".harbor", "harbor", "STATS")
		for line in text:gmatch("[^\n]+") do
			local id, state = line:match("^peer id=(%d+) .*state=(%a+)")
			id = tonumber(id)
			if id and id ~= harbor_id then
				list[#list + 1] = { label = id, state = state, call = function(...)
					return skynet.call("reloadd" .. id, "lua", ...)
				end }
			end
		end
	elseif cluster_mode then
		local cluster = require "skynet.cluster"
		local nodes, self = skynet.call(skynet.uniqueservice "clusterd", "lua", "nodes")
		for name, address in pairs(nodes) do
			if address and name ~= self then
				list[#list + 1] = { label = name, state = "up", call = function(...)
					return cluster.call(name, "@reloadd", ...)
				end }
			end
		end
		table.sort(list, function(a, b) return a.label < b.label end)
	end
	return list
end

local function all(...)
	local rows = run(...)
	local jobs, ps = {}, {}
	for _, p in ipairs(peers()) do
		if p.state == "up" then
			ps[#ps + 1] = p
			local args = table.pack(...)
			jobs[#jobs + 1] = function() return p.call("run", table.unpack(args, 1, args.n)) end
		else
			rows[#rows + 1] = { node = p.label, ok = false, error = "node is " .. tostring(p.state) }
		end
	end
	for i, r in ipairs(parallel(jobs, NODE_TIMEOUT)) do
		if r[1] and type(r[2]) == "table" then
			for _, row in ipairs(r[2]) do rows[#rows + 1] = row end
		else
			rows[#rows + 1] = { node = ps[i].label, ok = false, error = tostring(r[2]) }
		end
	end
	return rows
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		if cmd == "run" then
			skynet.ret(skynet.pack(run(...)))
		elseif cmd == "all" then
			skynet.ret(skynet.pack(all(...)))
		else
			error("reloadd: unknown command " .. tostring(cmd))
		end
	end)
	if harbor_id ~= 0 then
		require("skynet.harbor").globalname("reloadd" .. harbor_id)
	elseif cluster_mode then
		skynet.fork(function()
			local cluster = require "skynet.cluster"
			local ok, err = pcall(cluster.register, "reloadd")
			if not ok then skynet.error("reloadd: not reachable by the other cluster nodes: " .. tostring(err)) end
			local nodes, self = skynet.call(skynet.uniqueservice "clusterd", "lua", "nodes")
			node_label = self or ""
		end)
	end
end)
