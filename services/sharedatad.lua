-- sharedatad (unique per node): the owner of every shared box of this node,
-- for skynet.sharedata, skynet.sharetable and skynet.datasheet.
--
-- Each name of each space ("sharedata", "sharetable", "datasheet") maps to a
-- box (skynet.sharebox: the data built once in C memory) and a version that
-- grows with every update.  A reader asks for a name and gets a handle (one
-- reference to the box, adopted by sharebox.open in the reader) and the
-- version; "monitor" answers when the version moves past the one the reader
-- has (or with nil when the name is deleted), which is how readers follow
-- updates.  Every reply starts with true, or is false and an error text.  Boxes are immutable: an update builds a new box, and the old one
-- lives on until its last reader lets go.
local skynet = require "skynet"
local sharebox = require "skynet.sharebox"

local NORET = {}     -- a command that answers later, through skynet.response
local spaces = {}   -- space -> name -> { box = box, version = n, waiting = { response... } }
local version = 0   -- one counter for everything: a version is never reused

local function space(s)
	local t = spaces[s]
	if t == nil then
		t = {}
		spaces[s] = t
	end
	return t
end

-- The table a load request describes: a table (packed by the caller), Lua
-- source, or "@filename"; source and files get the extra arguments as `...`.
local function make_table(kind, v, ...)
	if kind == "table" then
		return v
	end
	local f, err
	if kind == "file" then
		f, err = loadfile(v, "bt")
	else
		f, err = load(v, "=(shared data)", "bt")
	end
	if f == nil then
		error(err, 0)
	end
	local t = f(...)
	if type(t) ~= "table" then
		error("shared data must be a table, got " .. type(t), 0)
	end
	return t
end

local function wake(entry, ...)
	local waiting = entry.waiting
	entry.waiting = {}
	for _, resp in ipairs(waiting) do
		resp(true, true, ...)
	end
end

local command = {}

-- load(space, name, kind, value, ...): new or updated data; returns the version
function command.load(s, name, kind, v, ...)
	local box = sharebox.new(make_table(kind, v, ...))
	local t = space(s)
	local entry = t[name]
	version = version + 1
	if entry == nil then
		entry = { waiting = {} }
		t[name] = entry
	end
	entry.box = box
	entry.version = version
	-- every waiting monitor gets its own reference to the new box
	local waiting = entry.waiting
	entry.waiting = {}
	for _, resp in ipairs(waiting) do
		local h = sharebox.retain(box)
		if not resp(true, true, h, version) then
			sharebox.release(h) -- the reader is gone
		end
	end
	return version
end

-- query(space, name) -> handle, version | nil
function command.query(s, name)
	local entry = space(s)[name]
	if entry == nil then
		return nil
	end
	return sharebox.retain(entry.box), entry.version
end

-- names(space) -> every name of the space
function command.names(s)
	local list = {}
	for name in pairs(space(s)) do
		list[#list + 1] = name
	end
	table.sort(list)
	return list
end

-- monitor(space, name, version): answers with the next handle and version
-- once there is a newer version than `version`, or nil when the name goes.
function command.monitor(s, name, have)
	local entry = space(s)[name]
	if entry == nil then
		return nil
	end
	if entry.version > have then
		return sharebox.retain(entry.box), entry.version
	end
	entry.waiting[#entry.waiting + 1] = skynet.response()
	return NORET
end

function command.delete(s, name)
	local t = space(s)
	local entry = t[name]
	if entry then
		t[name] = nil
		wake(entry, nil)
	end
end

-- stat(space, name) -> shared bytes, tables, references
function command.stat(s, name)
	local entry = space(s)[name]
	if entry then
		return sharebox.stat(entry.box)
	end
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		local f = command[cmd]
		if f == nil then
			error("sharedatad: unknown command " .. tostring(cmd))
		end
		-- replies are (true, results...) or (false, error text): a bad load is
		-- the caller's error, with its reason, not a "call failed"
		local r = table.pack(pcall(f, ...))
		if r[2] ~= NORET then
			skynet.ret(skynet.pack(table.unpack(r, 1, r.n)))
		end
	end)
end)
