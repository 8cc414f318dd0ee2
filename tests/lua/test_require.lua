-- skynet.require: init functions, concurrent requires, circular requires.
local skynet = require "skynet"
local T = require "testlib"

-- loaded in the main chunk: its init runs before the start function
local early = require "t_mod_init"
local main_chunk_inited = early.inited
local main_init_ran = false
skynet.init(function() main_init_ran = true end)

T.main("test_require", function()
	T.eq(main_chunk_inited, false, "init deferred during the main chunk")
	T.eq(early.inited, true, "init ran before start")
	T.eq(main_init_ran, true, "skynet.init in the main chunk")
	T.same(early.order, { "body", "init" }, "body then init")

	-- two threads require a module whose body blocks: loaded once
	local got = {}
	T.parallel(2, function(i)
		got[i] = require "t_mod_slow"
	end)
	T.eq(got[1], got[2], "same module object")
	T.eq(got[1].loads, 1, "body ran once")

	-- circular require is an error
	T.raises("circular", require, "t_mod_circ_a")

	-- a missing module
	T.raises("t_mod_missing", require, "t_mod_missing")

	-- skynet.init after start runs at once
	local now = false
	skynet.init(function() now = true end)
	T.eq(now, true, "init after start runs immediately")
	T.eq(skynet.require, require, "require is skynet.require")
end)
