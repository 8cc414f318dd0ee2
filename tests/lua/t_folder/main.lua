-- t_folder — a service in its own folder (template <dir>/?/main.lua): its
-- folder is SERVICE_PATH and the first place its requires look.
local skynet = require "skynet"
local helper = require "t_folder_helper"
skynet.start(function()
	skynet.dispatch("lua", function()
		skynet.retpack(SERVICE_PATH, helper.value, PRELOADED and PRELOADED[1])
	end)
end)
