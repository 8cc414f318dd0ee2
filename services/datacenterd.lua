-- datacenterd (global `DATACENTER`) — a tree of values any service may read,
-- write or wait on.
--
-- `database` holds the values.  `waiting` mirrors the paths someone waits on:
-- each node maps keys to child nodes and keeps the response closures of
-- the waiters on exactly that path under the private key WAITERS.
local skynet = require "skynet"

local database = {}
local waiting = {}
local WAITERS = {}
local command = {}

local function query(db, key, ...)
	if db == nil then return nil end
	if key == nil then return db end
	if select("#", ...) == 0 then return db[key] end
	if type(db[key]) ~= "table" then return nil end
	return query(db[key], ...)
end

function command.QUERY(key, ...)
	return query(database[key], ...)
end

local function answer(node, value)
	local list = node[WAITERS]
	if list then
		node[WAITERS] = nil
		for _, resp in ipairs(list) do
			resp(true, value)
		end
	end
end

local function fail(node)
	local list = node[WAITERS]
	if list then
		node[WAITERS] = nil
		for _, resp in ipairs(list) do
			resp(false)
		end
	end
end

-- A table value may satisfy waiters deeper down its path.
local function answer_tree(node, value)
	answer(node, value)
	if type(value) == "table" then
		for k, child in pairs(node) do
			if k ~= WAITERS and value[k] ~= nil then
				answer_tree(child, value[k])
			end
		end
	end
end

function command.UPDATE(...)
	local n = select("#", ...)
	assert(n >= 2, "UPDATE needs a key and a value")
	local args = { ... }
	local value = args[n]
	local db = database
	for i = 1, n - 2 do
		local k = args[i]
		local sub = db[k]
		if sub == nil then
			sub = {}
			db[k] = sub
		end
		assert(type(sub) == "table", "datacenter: path goes through a non-table value")
		db = sub
	end
	local last = args[n - 1]
	local old = db[last]
	db[last] = value
	if value ~= nil then
		-- waiters on a prefix of this path wanted a leaf and now face a table
		local node = waiting
		for i = 1, n - 1 do
			local child = node[args[i]]
			if child == nil then
				node = nil
				break
			end
			if i < n - 1 then fail(child) end
			node = child
		end
		if node and old == nil then
			answer_tree(node, value)
		end
	end
	return old
end

function command.WAIT(...)
	local value = command.QUERY(...)
	if value ~= nil then
		skynet.ret(skynet.pack(value))
		return
	end
	local node = waiting
	for i = 1, select("#", ...) do
		local k = select(i, ...)
		local child = node[k]
		if child == nil then
			child = {}
			node[k] = child
		end
		node = child
	end
	local list = node[WAITERS]
	if list == nil then
		list = {}
		node[WAITERS] = list
	end
	list[#list + 1] = skynet.response()
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		if cmd == "WAIT" then
			command.WAIT(...)
		else
			local f = assert(command[cmd], "unknown datacenter command")
			skynet.ret(skynet.pack(f(...)))
		end
	end)
end)
