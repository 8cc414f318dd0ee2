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

-- Starts `service` on the address the config key `key` holds ("host:port",
-- or just a port on 127.0.0.1), if it holds one; a failure is logged, and the
-- node goes on without it.
local function listener(key, service, what)
	local addr = skynet.getenv(key)
	if not addr then
		return
	end
	local host, port = string.match(addr, "^(.*):(%d+)$")
	if not host then
		host, port = "127.0.0.1", addr
	end
	if host == "" then
		host = "127.0.0.1"
	end
	local ok, err = pcall(skynet.newservice, service, host, port)
	if not ok then
		skynet.error("bootstrap: " .. what .. " failed: " .. tostring(err))
	end
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
	if harbor_id ~= 0 then
		-- shared data is harbor-wide: every node's sharedatad must be there to
		-- take updates (and to catch up when this node comes back)
		local sok, serr = pcall(skynet.uniqueservice, "sharedatad")
		if not sok then skynet.error("bootstrap: sharedatad failed to start: " .. tostring(serr)) end
		-- hot reload is harbor-wide too: the console of any node reaches this one's
		sok, serr = pcall(skynet.uniqueservice, "reloadd")
		if not sok then skynet.error("bootstrap: reloadd failed to start: " .. tostring(serr)) end
	end

	if skynet.getenv "enablessl" == "true" then
		local ok, err = pcall(skynet.newservice, "ltls_holder")
		if not ok then skynet.error("bootstrap: no TLS holder: " .. tostring(err)) end
	end

	-- Skiff's `console` key: "host:port" (or just a port) of the debug console;
	-- `metrics`: the same for the Prometheus endpoint
	listener("console", "debug_console", "debug console")
	listener("metrics", "metrics", "metrics endpoint")

	local ok, err = pcall(skynet.newservice, skynet.getenv "start" or "main")
	if not ok then
		-- Without its start service the node has nothing to do: stop it with a
		-- failure status rather than idle.
		skynet.error("error: bootstrap: start service failed: " .. tostring(err))
		require("skynet.core").command("ABORT", "1")
		return
	end
	-- the node is ready: joined (harbor.ready above) and its start service ran
	if skynet.localname ".metrics" then
		skynet.send(".metrics", "lua", "STARTED")
	end
	skynet.exit()
end)
