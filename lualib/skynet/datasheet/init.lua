-- skynet.datasheet: read-only data built by skynet.datasheet.builder and
-- read live: a table obtained with query() shows every later update.
--
--   local datasheet = require "skynet.datasheet"
--   local t = datasheet.query(name)       waits until the name has been built
local skynet = require "skynet"
local reader = require "skynet.sharebox_reader"

local r = reader.new "datasheet"
local datasheet = {}

function datasheet.query(name)
	local root = r.roots[name]
	if root then
		return root
	end
	-- wait for the first build (the builder may run after us)
	while true do
		root = r.query(name)
		if root then
			break
		end
		local h, v = reader.call("monitor", "datasheet", name, -1)
		if h then
			r.adopt(name, h, v)
			root = r.roots[name]
			break
		end
		skynet.sleep(10)
	end
	r.follow(name)
	return root
end

return datasheet
