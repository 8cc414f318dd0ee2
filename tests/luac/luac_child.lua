-- The service luac_spawn launches many times: a plain skynet service.
local skynet = require "skynet"
skynet.start(function() end)
