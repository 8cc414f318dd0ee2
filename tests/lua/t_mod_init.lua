-- a module with an init function (skynet.require two-phase loading)
local skynet = require "skynet"
local M = { inited = false, order = {} }
M.order[#M.order + 1] = "body"
skynet.init(function()
	M.inited = true
	M.order[#M.order + 1] = "init"
end)
return M
