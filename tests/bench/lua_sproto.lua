-- sproto encode + decode of a typical game message (a player's state sync:
-- scalars, a fixed-point position, a keyed array of buffs, a short item list)
-- in one service, raw and 0-packed, and one RPC request through host/attach.
local sproto = require "sproto"
local B = require "lua_benchlib"

local sp = sproto.parse [[
.package { type 0 : integer  session 1 : integer }
.Vec3 { x 0 : integer(2)  y 1 : integer(2)  z 2 : integer(2) }
.Buff { id 0 : integer  stacks 1 : integer  expire 2 : integer }
.Item { id 0 : integer  count 1 : integer  bound 2 : boolean }
.Player {
	id 0 : integer
	name 1 : string
	level 2 : integer
	hp 3 : integer
	mp 4 : integer
	pos 5 : Vec3
	facing 6 : double
	moving 7 : boolean
	buffs 8 : *Buff(id)
	items 9 : *Item
	guild 10 : string
}
sync 1 { request Player  response { ok 0 : boolean } }
]]

local msg = {
	id = 1000123, name = "Rowan", level = 42, hp = 18250, mp = 930,
	pos = { x = 1203.25, y = -88.5, z = 12.75 }, facing = 1.5707963, moving = true,
	buffs = { [11] = { id = 11, stacks = 2, expire = 1733400000 }, [27] = { id = 27, stacks = 1, expire = 1733400300 } },
	items = { { id = 5001, count = 3 }, { id = 5002, count = 1, bound = true }, { id = 7300, count = 99 } },
	guild = "Northwind",
}

B.main(function()
	local n = B.n(300000)
	local bin = sp:encode("Player", msg)
	local packed = sp:pencode("Player", msg)
	local t0 = B.clock()
	for _ = 1, n do
		sp:decode("Player", sp:encode("Player", msg))
	end
	local dt = B.clock() - t0
	B.report("sproto_encode_decode", n / dt, "ops/s",
		string.format("(%d, a %d-byte player sync)", n, #bin))
	t0 = B.clock()
	for _ = 1, n do
		sp:pdecode("Player", sp:pencode("Player", msg))
	end
	dt = B.clock() - t0
	B.report("sproto_pencode_pdecode", n / dt, "ops/s",
		string.format("(%d, %d bytes packed)", n, #packed))
	local host = sp:host "package"
	local request = host:attach(sp)
	t0 = B.clock()
	for i = 1, n do
		local _, _, args, respond = host:dispatch(request("sync", msg, i))
		host:dispatch(respond { ok = args.level == 42 })
	end
	dt = B.clock() - t0
	B.report("sproto_rpc_roundtrip", n / dt, "ops/s",
		string.format("(%d, request + response through host/attach)", n))
end)
