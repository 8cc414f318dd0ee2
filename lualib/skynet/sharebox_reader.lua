-- The reader side shared by skynet.sharedata, skynet.sharetable and
-- skynet.datasheet: one box per name per service, its root proxy, and the
-- switch to a newer version (sharebox.repoint: every table the service holds
-- now shows the new data, atomically for this service).
local skynet = require "skynet"
local sharebox = require "skynet.sharebox"

local reader = {}

local service
local function owner()
	if service == nil then
		service = skynet.uniqueservice "sharedatad"
	end
	return service
end
reader.owner = owner

local function unwrap(ok, ...)
	if not ok then
		error(..., 3)
	end
	return ...
end

-- A command of sharedatad; its error is raised here, with its text.
function reader.call(...)
	return unwrap(skynet.call(owner(), "lua", ...))
end

-- A reader of one space: r:query(name) -> proxy (or nil); r:switch(name, h, v).
function reader.new(space)
	local r = { space = space, boxes = {}, versions = {}, roots = {} }

	-- adopts handle h (version v) for name: the first box, or a newer one
	function r.adopt(name, h, v)
		local old = r.boxes[name]
		local box = sharebox.open(h)
		if old then
			if r.versions[name] >= v then
				return -- we already have this one; box's __gc drops the reference
			end
			sharebox.repoint(old, box)
		else
			r.roots[name] = sharebox.root(box)
		end
		r.boxes[name] = box
		r.versions[name] = v
	end

	function r.query(name)
		local root = r.roots[name]
		if root then
			return root
		end
		local h, v = reader.call("query", space, name)
		if h == nil then
			return nil
		end
		r.adopt(name, h, v)
		return r.roots[name]
	end

	-- fetches the current version of name now (sharetable.update)
	function r.refresh(name)
		local h, v = reader.call("query", space, name)
		if h then
			r.adopt(name, h, v)
		end
	end

	-- follows every update of name for as long as the service lives
	function r.follow(name)
		skynet.fork(function()
			while r.boxes[name] do
				local h, v = reader.call("monitor", space, name, r.versions[name])
				if h == nil then
					return -- deleted: readers keep the last version
				end
				r.adopt(name, h, v)
			end
		end)
	end

	return r
end

return reader
