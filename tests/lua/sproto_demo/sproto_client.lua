-- sproto_client.lua: the demo's client in a stock lua5.4, as skynet's example
-- client is written: client.socket for TCP, sproto + sp_proto for packets.
-- usage: lua5.4 sproto_client.lua LUACLIB_DIR LUALIB_DIR PORT KEY VALUE
local luaclib, lualib, port, key, value = ...
local here = arg[0]:match "^(.*)/[^/]*$" or "."
package.cpath = luaclib .. "/?.so;" .. package.cpath
package.path = lualib .. "/?.lua;" .. here .. "/?.lua;" .. package.path

local socket = require "client.socket"
local proto = require "sp_proto"
local sproto = require "sproto"

local host = sproto.new(proto.s2c):host "package"
local request = host:attach(sproto.new(proto.c2s))

local fd = assert(socket.connect("127.0.0.1", tonumber(port)))

local function send_package(pack)
	socket.send(fd, string.pack(">s2", pack))
end

local last = ""
local function recv_package()
	while true do
		if #last >= 2 then
			local n = last:byte(1) * 256 + last:byte(2)
			if #last >= n + 2 then
				local p = last:sub(3, 2 + n)
				last = last:sub(3 + n)
				return p
			end
		end
		local r = socket.recv(fd)
		if r == nil then
			socket.usleep(1000)
		elseif r == "" then
			return nil -- closed
		else
			last = last .. r
		end
	end
end

local session = 0
local function send_request(name, args)
	session = session + 1
	send_package(request(name, args, session))
	return session
end

local function fail(why)
	print("FAIL: " .. why)
	os.exit(1)
end

local responses, heartbeats = {}, 0
local hs = send_request("handshake")
local st = send_request("set", { what = key, value = value })
local gt
local deadline = os.time() + 20
while not (gt and responses[gt] and heartbeats > 0) do
	if os.time() > deadline then fail("timeout") end
	local p = recv_package()
	if p == nil then fail("server closed early") end
	local kind, a, b = host:dispatch(p)
	if kind == "REQUEST" then
		print("REQUEST", a)
		heartbeats = heartbeats + 1
	else
		print("RESPONSE", a)
		responses[a] = b or true
		if a == st then gt = send_request("get", { what = key }) end
	end
end
if not (responses[hs] ~= true and responses[hs].msg:find("^Welcome to skynet")) then fail("handshake") end
if responses[st] ~= true then fail("set should have no content") end
if responses[gt].result ~= value then fail("get returned " .. tostring(responses[gt].result)) end
send_request("quit")
while recv_package() ~= nil do
	if os.time() > deadline then fail("not closed after quit") end
end
print("CLIENT OK heartbeats=" .. heartbeats)
