-- t_sproto_peer: the other end of test_sproto's RPC flow. Loads the schema
-- test_sproto saved in sprotoloader slot 3 and answers the sproto packets it
-- is handed in "rpc" calls; "ask" makes it send a request of its own.
local skynet = require "skynet"
local loader = require "sprotoloader"

skynet.start(function()
	local sp = loader.load(3)
	local host = sp:host "package"
	local request = host:attach(sp)
	skynet.dispatch("lua", function(_, _, cmd, arg)
		if cmd == "rpc" then
			local kind, name, args, response, ud = host:dispatch(arg)
			assert(kind == "REQUEST", kind)
			if name == "move" then
				skynet.ret(skynet.pack(response({ ok = true, at = args.to }, ud + 1)))
			elseif name == "notify" then
				assert(response == nil, "a request without session has no response function")
				skynet.ret(skynet.pack("notified " .. args.text))
			elseif name == "ping" then
				assert(args == nil, "ping has no request content")
				skynet.ret(skynet.pack(response()))
			else
				error("unexpected request " .. tostring(name))
			end
		elseif cmd == "ask" then
			skynet.ret(skynet.pack(request("tick", nil, arg)))
		elseif cmd == "exit" then
			skynet.exit()
		end
	end)
end)
