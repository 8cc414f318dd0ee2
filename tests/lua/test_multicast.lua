-- skynet.multicast on one node: one package, many subscribers.
local skynet = require "skynet"
local multicast = require "skynet.multicast"
local T = require "testlib"

T.main("test_multicast", function()
	local mine = {}
	local ch = multicast.new {
		dispatch = function(channel, source, ...) mine[#mine + 1] = { ... } end,
	}
	T.ok(math.type(ch.channel) == "integer" and ch.channel > 0, "channel id")
	T.eq(ch.channel & 0xff, 0, "owner node in the low 8 bits")
	local subs = {}
	for i = 1, 5 do
		subs[i] = skynet.newservice "t_subscriber"
		skynet.call(subs[i], "lua", "sub", ch.channel)
	end
	ch:subscribe()
	ch:publish("hello", 1, { k = "v" })
	ch:publish("second")
	T.eventually(function()
		for i = 1, 5 do
			if #skynet.call(subs[i], "lua", "got") < 2 then return false end
		end
		return #mine == 2
	end, "every subscriber got both messages")
	for i = 1, 5 do
		local got = skynet.call(subs[i], "lua", "got")
		T.eq(#got, 2, "subscriber " .. i .. " got both")
		T.eq(got[1][1], skynet.self(), "source is the publisher")
		T.eq(got[1][2], "hello", "payload") T.eq(got[1][4].k, "v", "table payload")
		T.eq(got[2][2], "second", "order")
	end
	T.eq(#mine, 2, "publisher subscribed too")

	-- unsubscribed services get nothing more
	skynet.call(subs[1], "lua", "unsub")
	ch:publish("third")
	T.eventually(function() return #skynet.call(subs[2], "lua", "got") == 3 end, "third delivered")
	T.eq(#skynet.call(subs[1], "lua", "got"), 2, "unsubscribed")
	T.eq(#skynet.call(subs[2], "lua", "got"), 3, "still subscribed")

	-- a second channel is independent
	local ch2 = multicast.new {}
	T.ok(ch2.channel ~= ch.channel, "distinct ids")
	ch2:publish("nobody listens") -- freed with no subscriber
	ch:unsubscribe()
	ch:delete()
	ch2:delete()
	skynet.sleep(2)
end)
