-- A service holding a global name, for the multinode name tests.
-- Launched as `mn_named <tag> <name>`; registers <name> with skynet.register.
--   who       -> tag
--   seq i     records i; -> tag, i
--   seqs      -> every i recorded, in arrival order
--   exit      exits (no answer)
local skynet = require "skynet"
require "skynet.manager"

local tag, name = ...
local seqs = {}

skynet.start(function()
	skynet.dispatch("lua", function(_, _, c, i)
		if c == "who" then
			skynet.ret(skynet.pack(tag))
		elseif c == "seq" then
			seqs[#seqs + 1] = i
			skynet.ret(skynet.pack(tag, i))
		elseif c == "seqs" then
			skynet.ret(skynet.pack(seqs))
		elseif c == "exit" then
			skynet.exit()
		end
	end)
	skynet.register(name)
end)
