-- A cluster server node: starts cl_echo, registers it as "echo" (and `cl_reg`
-- if set), opens the node's own name, prints "CLUSTER READY <port>".
local skynet = require "skynet"
local cluster = require "skynet.cluster"
require "skynet.manager"

skynet.start(function()
	local name = skynet.getenv "cl_name"
	local echo = skynet.newservice("cl_echo", name, skynet.getenv "cl_tag" or name)
	skynet.name(".echo", echo)
	skynet.name("GECHO", echo) -- a (single-node) harbor global name: a plain-string cluster address
	cluster.register("echo", echo)
	local host, port = cluster.open(name)
	skynet.error(string.format("CLUSTER READY %s %d echo=%d", name, port, echo))
end)
