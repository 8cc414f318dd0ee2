-- skynet.console.reload: the debug console's hot reload commands, a command
-- module (skynet.console.commands) listed in services/debug_console.lua.
-- Each answers a table (text: one line per row; `json <command>` answers the
-- same result as JSON).
--
--   reload [cluster] TYPE [new|inject|restart] [module...]
--       clears the code cache, then: new (the default) leaves running
--       services alone, new instances of TYPE load the new code; inject
--       re-requires the modules (none named: each service's own) in every
--       running TYPE; restart runs TYPE's main file again in every running
--       instance, which keeps its handle.
--   clearcache [cluster]       forgets every cached file
--   hotfix [cluster] TARGET FILE
--       runs FILE in the service at TARGET (:hex) or in every service of type
--       TARGET (a snax service gets a snax hotfix); needs console_run = true
--
-- With `cluster` the command runs on every node of the harbor or cluster
-- (services/reloadd.lua).  The result has one row per service (per node for
-- clearcache and `reload ... new`): node, address, service, ok, error; and
-- the counts ok and failed.  The command itself succeeds when it could be
-- carried out; whether each service took it is in its row.
local skynet = require "skynet"
local commands = require "skynet.console.commands"

local M = {}

local function reloadd()
	return skynet.uniqueservice "reloadd"
end

-- strips a leading "cluster" word: returns the op call and the rest
local function scope(first, ...)
	if first == "cluster" then
		return "all", ...
	end
	return "run", first, ...
end

local function result(rows)
	local ok, failed = 0, 0
	for _, row in ipairs(rows) do
		if row.ok then ok = ok + 1 else failed = failed + 1 end
	end
	return { rows = rows, ok = ok, failed = failed }
end

local function text(print, r)
	for _, row in ipairs(r.rows) do
		local what = row.ok and "ok" or ("error: " .. tostring(row.error))
		if row.note then what = what .. " (" .. row.note .. ")" end
		print(tostring(row.node), row.address or "-", row.service or "-", what)
	end
	print(string.format("%d ok, %d failed", r.ok, r.failed))
end

M.reload = {
	help = "reload [cluster] TYPE [new|inject|restart] [module...] : hot reload a Lua service type",
	text = text,
	run = function(...)
		local call, typ, mode = scope(...)
		assert(typ, "usage: reload [cluster] TYPE [new|inject|restart] [module...]")
		local modules = { select(call == "all" and 4 or 3, ...) }
		return result(skynet.call(reloadd(), "lua", call, "reload", typ, mode, modules))
	end,
}

M.clearcache = {
	help = "clearcache [cluster] : clear the Lua code cache (of every node with cluster)",
	text = text,
	run = function(...)
		local call = scope(...)
		return result(skynet.call(reloadd(), "lua", call, "clearcache"))
	end,
}

M.hotfix = {
	help = "hotfix [cluster] ADDRESS|TYPE FILE : run FILE in a service or every service of a type (console_run)",
	text = text,
	run = function(...)
		commands.need_run("hotfix")
		local call, target, filename = scope(...)
		assert(target and filename, "usage: hotfix [cluster] TARGET FILE")
		local f = assert(io.open(filename, "rb"), "Can't open " .. tostring(filename))
		local source = f:read "a"
		f:close()
		return result(skynet.call(reloadd(), "lua", call, "hotfix", target, source, filename))
	end,
}

return M
