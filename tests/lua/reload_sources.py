"""The Lua sources the hot-reload tests write and rewrite: the handler
service rl_handler (HANDLER % tag, tag shows which main file answered) and
the module rl_impl it requires (IMPL % version, version shows which module
answered).  Shared by tests/multinode/test_reload.py (harbor mode) and
tests/cluster/test_reload.py (cluster mode) so both reload the same code."""

HANDLER = """local skynet = require "skynet"
local impl = require "rl_impl"
skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, n)
		skynet.ret(skynet.pack(impl.answer(n) .. "/%s"))
	end)
end)
"""
IMPL = """local M = {}
function M.answer(n) return "%s:" .. tostring(n) end
return M
"""
