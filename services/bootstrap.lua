-- bootstrap — the first Lua service (spec §2.1).  It brings up, in order: the
-- launcher, the harbor controller (cdummy on a single node; cmaster/cslave
-- otherwise), the datacenter (standalone node only), the unique-service
-- manager, the debug console when the `console` key is set, then the user's
-- `start` service, and exits.
local skynet = require "skynet"
require "skynet.manager"

local function must(ok, ...)
	if not ok then
		skynet.error("bootstrap: " .. tostring((...)))
		skynet.abort()
	end
	return ...
end

skynet.start(function()
	local launcher = assert(skynet.launch("snlua", "launcher"))
	skynet.name(".launcher", launcher)

	local standalone = skynet.getenv "standalone"
	local harbor_id = tonumber(skynet.getenv "harbor" or 0) or 0
	if harbor_id == 0 then
		assert(standalone == nil, "standalone must be unset when harbor = 0")
		standalone = "true"
		skynet.setenv("standalone", standalone)
		local slave = must(pcall(skynet.newservice, "cdummy"))
		skynet.name(".cslave", slave)
	else
		if standalone then
			must(pcall(skynet.newservice, "cmaster"))
		end
		local slave = must(pcall(skynet.newservice, "cslave"))
		skynet.name(".cslave", slave)
	end

	if standalone then
		local datacenter = skynet.newservice "datacenterd"
		skynet.name("DATACENTER", datacenter)
	end
	skynet.newservice "service_mgr"

	if skynet.getenv "enablessl" == "true" then
		local ok, err = pcall(skynet.newservice, "ltls_holder")
		if not ok then skynet.error("bootstrap: no TLS holder: " .. tostring(err)) end
	end

	-- Skiff's `console` key: "host:port" (or just a port) of the debug console
	local console = skynet.getenv "console"
	if console then
		local host, port = string.match(console, "^(.*):(%d+)$")
		if not host then
			host, port = "127.0.0.1", console
		end
		if host == "" then host = "127.0.0.1" end
		local cok, cerr = pcall(skynet.newservice, "debug_console", host, port)
		if not cok then skynet.error("bootstrap: debug console failed: " .. tostring(cerr)) end
	end

	local ok, err = pcall(skynet.newservice, skynet.getenv "start" or "main")
	if not ok then
		skynet.error("bootstrap: start service failed: " .. tostring(err))
	end
	skynet.exit()
end)
