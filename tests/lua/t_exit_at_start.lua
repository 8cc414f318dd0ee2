local skynet = require "skynet"
skynet.start(function() skynet.exit() end)
