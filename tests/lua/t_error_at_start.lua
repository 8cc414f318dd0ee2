local skynet = require "skynet"
skynet.start(function() error("t_error_at_start fails on purpose") end)
