-- loader.lua — runs first in every snlua service.
-- snlua calls it with the launch string "<service> [args...]" and the globals
-- LUA_SERVICE, LUA_PATH, LUA_CPATH, LUA_PRELOAD set from the config.
local args = {}
for word in string.gmatch(..., "%S+") do
	args[#args + 1] = word
end

SERVICE_NAME = args[1]

local main, pattern
local errors = {}
for template in string.gmatch(LUA_SERVICE, "([^;]+);*") do
	local filename = string.gsub(template, "%?", function() return SERVICE_NAME end)
	local f, msg = loadfile(filename)
	if f then
		main, pattern = f, template
		break
	end
	errors[#errors + 1] = msg
end

if not main then
	error(table.concat(errors, "\n"))
end

LUA_SERVICE = nil
package.path, LUA_PATH = LUA_PATH, nil
package.cpath, LUA_CPATH = LUA_CPATH, nil

-- A template like ./svc/?/main.lua gives each service its own folder, which
-- also becomes the first place its requires look.
local dir = string.match(pattern, "^(.*/)[^/]*$")
if dir and string.find(dir, "?", 1, true) then
	dir = string.gsub(dir, "%?", function() return SERVICE_NAME end)
	package.path = dir .. "?.lua;" .. package.path
	SERVICE_PATH = dir
else
	SERVICE_PATH = dir
end

if LUA_PRELOAD then
	local f = assert(loadfile(LUA_PRELOAD))
	f(table.unpack(args))
	LUA_PRELOAD = nil
end

_G.require = (require "skynet.require").require

main(select(2, table.unpack(args)))
