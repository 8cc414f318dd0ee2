-- skynet.pack / skynet.unpack round trips of a typical request in one service.
local skynet = require "skynet"
local B = require "lua_benchlib"

B.main(function()
	local pack, unpack, trash = skynet.pack, skynet.unpack, skynet.trash
	local msg = { cmd = "move", id = 12345, x = 1.5, y = -2.25, tags = { "a", "b", "c" }, ok = true }
	local n = B.n(1000000)
	local t0 = B.clock()
	for i = 1, n do
		local m, sz = pack("update", i, msg)
		unpack(m, sz)
		trash(m, sz)
	end
	local dt = B.clock() - t0
	B.report("pack_unpack", n / dt, "roundtrips/s", string.format("(%d, small table + 2 scalars)", n))
	local small = B.n(3000000)
	t0 = B.clock()
	for i = 1, small do
		local m, sz = pack("ping", i)
		unpack(m, sz)
		trash(m, sz)
	end
	dt = B.clock() - t0
	B.report("pack_unpack_scalars", small / dt, "roundtrips/s", string.format("(%d, a string and an integer)", small))
end)
