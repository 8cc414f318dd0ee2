-- Prints the path keys as the node sees them (tests/ops/test_config_paths.py)
-- and stops the node.
local skynet = require "skynet"
skynet.start(function()
	for _, k in ipairs { "logger", "console_token", "cluster", "node_credential", "cluster_key" } do
		skynet.error(string.format("CFG %s=%s", k, tostring(skynet.getenv(k))))
	end
	skynet.error("CFG done")
	require("skynet.core").command("ABORT", "0")
end)
