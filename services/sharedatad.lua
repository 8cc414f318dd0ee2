-- sharedatad (unique per node): the owner of every shared box of this node,
-- for skynet.sharedata, skynet.sharetable and skynet.datasheet, and this
-- node's end of cluster-wide shared data.
--
-- Each name of each space ("sharedata", "sharetable", "datasheet") maps to a
-- box (skynet.sharebox: the data built once in C memory) and a local sequence
-- number that grows with every change the readers of this node must see.  A
-- reader asks for a name and gets a handle (one reference to the box, adopted
-- by sharebox.open in the reader) and that number; "monitor" answers when the
-- number moves past the one the reader has (or with nil when the name is
-- deleted), which is how readers follow updates.  Every reply starts with
-- true, or is false and an error text.  Boxes are immutable: an update builds
-- a new box, and the old one lives on until its last reader lets go.
--
-- Cluster-wide (harbor nodes, and cluster nodes unless sharedata_cluster =
-- "off"; skynet.sharedata_peers finds the peers): every change also carries a
-- version (version, origin): a Lamport counter and the node that made it, so
-- every node orders two changes of a name the same way and keeps the later
-- one.  A change made here is pushed to every peer ("peer_install", the plain
-- table); when a peer comes (back) up, both sides compare catalogues and each
-- fetches what the other has newer ("peer_get"), so a node that was down
-- during an update gets it when it returns.  A change replaces a name's box
-- as a whole: a reader on any node sees the old data or the new, never a mix.
-- Deletions are kept as tombstones (a version without a box) so that they
-- travel too.
--
-- Until its first catch-up with the peers that are up (at most READY_WAIT),
-- this node answers its readers' commands later: a node that comes back never
-- hands out data older than the cluster's.
local skynet = require "skynet"
local sharebox = require "skynet.sharebox"
local peers_of = require "skynet.sharedata_peers"

local NORET = {}     -- a command that answers later, through skynet.response
local READY_WAIT = 300 -- cs: the longest the first catch-up holds readers back
local spaces = {}   -- space -> name -> entry
-- entry = { box = box | nil (deleted), seq = n, version = n, origin = node, waiting = { response... } }
local seq = 0       -- local change counter: never reused, what readers compare
local clock = 0     -- Lamport clock of versions
local peers
local origin        -- this node's name in versions (found once the peers are known)
local ready = false
local held = {}     -- coroutines of commands waiting for ready

local function space(s)
	local t = spaces[s]
	if t == nil then
		t = {}
		spaces[s] = t
	end
	return t
end

-- (v1, o1) is later than (v2, o2)
local function newer(v1, o1, v2, o2)
	if v1 ~= v2 then
		return v1 > v2
	end
	return tostring(o1) > tostring(o2)
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

-- Makes `box` (nil: deleted) the data of s/name at (version, vorigin) and
-- tells this node's readers.
local function install(s, name, box, version, vorigin)
	local t = space(s)
	local entry = t[name]
	if entry == nil then
		entry = { waiting = {} }
		t[name] = entry
	end
	seq = seq + 1
	if version > clock then clock = version end
	entry.box, entry.seq, entry.version, entry.origin = box, seq, version, vorigin
	local waiting = entry.waiting
	entry.waiting = {}
	for _, resp in ipairs(waiting) do
		if box then
			local h = sharebox.retain(box)
			if not resp(true, true, h, seq) then
				sharebox.release(h) -- the reader is gone
			end
		else
			resp(true, true, nil)
		end
	end
end

local function push(s, name, entry, tbl)
	for _, key in ipairs(peers.reachable()) do
		peers.send(key, "peer_install", s, name, entry.version, entry.origin, tbl)
	end
end

-- A change made on this node: a new version, pushed to every peer.
local function change(s, name, tbl)
	if peers.mode == "cluster" then
		origin = peers.origin() -- known once cluster.open named this node
	end
	clock = clock + 1
	install(s, name, tbl and sharebox.new(tbl), clock, origin)
	push(s, name, space(s)[name], tbl)
end

local command = {}
local peer_command = {} -- answered at once, even before ready

-- load(space, name, kind, value, ...): new or updated data; returns the sequence number
function command.load(s, name, kind, v, ...)
	change(s, name, make_table(kind, v, ...))
	return seq
end

-- query(space, name) -> handle, sequence number | nil
function command.query(s, name)
	local entry = space(s)[name]
	if entry == nil or entry.box == nil then
		return nil
	end
	return sharebox.retain(entry.box), entry.seq
end

-- names(space) -> every name of the space
function command.names(s)
	local list = {}
	for name, entry in pairs(space(s)) do
		if entry.box then list[#list + 1] = name end
	end
	table.sort(list)
	return list
end

-- monitor(space, name, seq): answers with the next handle and sequence
-- number once there is a newer one than `seq`, or nil when the name goes.
function command.monitor(s, name, have)
	local entry = space(s)[name]
	if entry == nil or entry.box == nil then
		return nil
	end
	if entry.seq > have then
		return sharebox.retain(entry.box), entry.seq
	end
	entry.waiting[#entry.waiting + 1] = skynet.response()
	return NORET
end

function command.delete(s, name)
	local entry = space(s)[name]
	if entry and entry.box then
		change(s, name, nil)
	end
end

-- stat(space, name) -> shared bytes, tables, references
function command.stat(s, name)
	local entry = space(s)[name]
	if entry and entry.box then
		return sharebox.stat(entry.box)
	end
end

-- version(space, name) -> version, origin (the cluster-wide order), or nil
function command.version(s, name)
	local entry = space(s)[name]
	if entry then
		return entry.version, entry.origin, entry.box ~= nil
	end
end

-- ---- between the sharedatad of the nodes ----

-- peer_catalog() -> { { space, name, version, origin }... } of everything here
function peer_command.peer_catalog()
	local list = {}
	for s, t in pairs(spaces) do
		for name, entry in pairs(t) do
			if entry.version then
				list[#list + 1] = { s, name, entry.version, entry.origin }
			end
		end
	end
	return list
end

-- peer_get(space, name) -> version, origin, plain table (nil: deleted)
function peer_command.peer_get(s, name)
	local entry = space(s)[name]
	if entry == nil or entry.version == nil then
		return nil
	end
	return entry.version, entry.origin, entry.box and sharebox.copy(entry.box)
end

-- peer_install(space, name, version, origin, table | nil): a change made
-- elsewhere; kept if it is later than what this node has.
function peer_command.peer_install(s, name, version, vorigin, tbl)
	local entry = space(s)[name]
	if entry and entry.version and not newer(version, vorigin, entry.version, entry.origin) then
		return false
	end
	install(s, name, tbl and sharebox.new(tbl), version, vorigin)
	return true
end

-- A command of a peer's sharedatad (replies are true, results... or false, error)
local function peer_call(key, ...)
	local r = table.pack(peers.call(key, ...))
	if not r[1] then
		error(r[2], 0)
	end
	return table.unpack(r, 2, r.n)
end

-- Compares catalogues with peer `key`: fetches what it has newer, gives it
-- what this node has newer.
local function catch_up(key)
	local theirs = peer_call(key, "peer_catalog")
	local seen = {}
	for _, e in ipairs(theirs) do
		local s, name, version, vorigin = e[1], e[2], e[3], e[4]
		seen[s .. "\0" .. name] = true
		local mine = space(s)[name]
		if mine == nil or mine.version == nil or newer(version, vorigin, mine.version, mine.origin) then
			local v, o, tbl = peer_call(key, "peer_get", s, name)
			if v then
				peer_command.peer_install(s, name, v, o, tbl)
			end
		elseif newer(mine.version, mine.origin, version, vorigin) then
			peer_call(key, "peer_install", s, name, mine.version, mine.origin,
				mine.box and sharebox.copy(mine.box))
		end
	end
	for s, t in pairs(spaces) do
		for name, mine in pairs(t) do
			if mine.version and not seen[s .. "\0" .. name] then
				peer_call(key, "peer_install", s, name, mine.version, mine.origin,
					mine.box and sharebox.copy(mine.box))
			end
		end
	end
end

local settled = {}  -- peer key -> true once a first catch-up with it ended

local function on_up(key)
	local ok, err = pcall(catch_up, key)
	settled[key] = true
	if not ok then
		error(err, 0)
	end
end

local function start_peers()
	peers = peers_of.new(on_up)
	origin = peers.origin()
	if peers.mode then
		peers.register()
		local wanted = peers.reachable()
		peers.watch()
		local deadline = skynet.now() + READY_WAIT
		while skynet.now() < deadline do
			local all = true
			for _, key in ipairs(wanted) do
				if not settled[key] then all = false break end
			end
			if all then break end
			skynet.sleep(5)
		end
	end
	ready = true
	for _, co in ipairs(held) do
		skynet.wakeup(co)
	end
	held = nil
end

skynet.start(function()
	skynet.dispatch("lua", function(_, source, cmd, ...)
		local f = peer_command[cmd]
		local from_peer = f ~= nil
		if f == nil then
			f = command[cmd]
			if f == nil then
				error("sharedatad: unknown command " .. tostring(cmd))
			end
			if not ready then
				held[#held + 1] = coroutine.running()
				skynet.wait()
			end
		end
		-- replies are (true, results...) or (false, error text): a bad load is
		-- the caller's error, with its reason, not a "call failed"
		local r = table.pack(pcall(f, ...))
		if from_peer and not r[1] then
			-- a push (send) has nobody to answer: say it once here
			skynet.error(string.format("sharedatad: %s from %s failed: %s", cmd, skynet.address(source), tostring(r[2])))
		end
		if r[2] ~= NORET then
			skynet.ret(skynet.pack(table.unpack(r, 1, r.n)))
		end
	end)
	skynet.fork(start_peers)
end)
