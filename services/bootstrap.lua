-- bootstrap — the first Lua service.  It brings up, in order: the
-- launcher, the drain service `.shutdown`, the harbor controller (cdummy on a single node; the C services
-- harbor_master and harbor otherwise), the datacenter (standalone node only), the unique-service
-- manager, the debug console when the `console` key is set, then the user's
-- `start` service, and exits.
local skynet = require "skynet"
require "skynet.manager"

local function must(ok, ...)
	if not ok then
		skynet.error("error: bootstrap: " .. tostring((...)))
		require("skynet.core").command("ABORT", "1") -- exit status 1: the node could not start
	end
	return ...
end

skynet.start(function()
	local launcher = assert(skynet.launch("snlua", "launcher"))
	skynet.name(".launcher", launcher)
	-- the graceful drain (SIGTERM, console `shutdown`, skynet.shutdown hooks)
	must(pcall(skynet.newservice, "shutdownd"))

	local standalone = skynet.getenv "standalone"
	local harbor_id = tonumber(skynet.getenv "harbor" or 0) or 0
	if harbor_id == 0 then
		assert(standalone == nil, "standalone must be unset when harbor = 0")
		standalone = "true"
		skynet.setenv("standalone", standalone)
		local slave = must(pcall(skynet.newservice, "cdummy"))
		skynet.name(".cslave", slave)
	else
		-- harbor mode: the C services harbor_master (on the `standalone` node)
		-- and harbor; each logs why it failed, and the node must not run
		-- without them.
		if standalone and not skynet.launch("harbor_master") then
			skynet.error("bootstrap: harbor_master failed to start; aborting")
			require("skynet.core").command("ABORT", "1") -- exit status 1, as for every start failure
			return
		end
		if not skynet.launch("harbor") then
			skynet.error("bootstrap: harbor failed to start; aborting")
			require("skynet.core").command("ABORT", "1")
			return
		end
		require("skynet.harbor").ready()
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

	-- Skiff's `metrics` key: "host:port" (or just a port) of the Prometheus endpoint
	local metrics = skynet.getenv "metrics"
	if metrics then
		local host, port = string.match(metrics, "^(.*):(%d+)$")
		if not host then
			host, port = "127.0.0.1", metrics
		end
		if host == "" then host = "127.0.0.1" end
		local mok, merr = pcall(skynet.newservice, "metrics", host, port)
		if not mok then skynet.error("bootstrap: metrics endpoint failed: " .. tostring(merr)) end
	end

	local ok, err = pcall(skynet.newservice, skynet.getenv "start" or "main")
	if not ok then
		-- Without its start service the node has nothing to do: stop it with a
		-- failure status rather than idle.
		skynet.error("error: bootstrap: start service failed: " .. tostring(err))
		require("skynet.core").command("ABORT", "1")
		return
	end
	skynet.exit()
end)
