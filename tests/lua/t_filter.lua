-- t_filter — skynet.filter: every message passes through a function first.
local skynet = require "skynet"
require "skynet.manager"

local filtered = 0
skynet.filter(function(ptype, msg, sz, session, source)
	filtered = filtered + 1
	return ptype, msg, sz, session, source
end, function()
	skynet.dispatch("lua", function(_, _, cmd)
		skynet.retpack(filtered)
	end)
end)
