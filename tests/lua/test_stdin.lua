-- test_stdin — launched by the `console` service from a line typed on the
-- node's stdin ("test_stdin hello 42"); checks it got the words as arguments.
local skynet = require "skynet"
local T = require "testlib"

local args = table.pack(...)

T.main("test_stdin", function()
	T.eq(args.n, 2, "two arguments")
	T.eq(args[1], "hello", "first word") T.eq(args[2], "42", "second word")
	local list = skynet.call(".launcher", "lua", "LIST")
	local console = false
	for _, v in pairs(list) do
		if v == "snlua console" then console = true end
	end
	T.ok(console, "the console service runs")
end)
