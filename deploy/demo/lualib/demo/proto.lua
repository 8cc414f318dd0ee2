-- demo.proto — the demo's client protocol, shared by the server services and the bots.
--
-- On the wire every packet is a 2-byte big-endian length followed by that many bytes (the
-- framing of skynet's gate / netpack).  A packet's bytes are words separated by single spaces;
-- the last field of `chat` and `say` is free text and may hold spaces.
--
--   client -> server (S = a session number chosen by the client, echoed in the reply)
--     login S <user> <token>     ok S <player>            | err S badtoken
--     join S                     ok S <room> <node>       | err S nospace
--     move S <x> <y>             ok S <tick>              | err S roomlost | err S notinroom
--     chat S <text...>           ok S                     | err S roomlost | err S notinroom
--     ping S                     ok S
--     status S                   ok S <key=value ...>     (allowed before login)
--   server -> client, unasked
--     state <room> <tick> <player>:<x>:<y> ...            (10 times a second, per room)
--     say <room> <player> <text...>
--
-- Tokens: token(secret, user) is FNV-1a (64-bit) of "secret|user" in hex. It shows where a real
-- login check goes; it is not a cryptographic MAC.
local proto = {}

local MAX_PACKET = 0xffff

-- One wire packet (length prefix included) from a payload string.
function proto.frame(payload)
	assert(#payload <= MAX_PACKET, "packet too large")
	return string.pack(">s2", payload)
end

-- Split a payload into its op, session and the remaining words.  `rest` keeps the raw tail
-- after the session (for free text).
function proto.parse(payload)
	local op, session, rest = payload:match("^(%a+) (%d+) ?(.*)$")
	if not op then
		op, rest = payload:match("^(%a+) ?(.*)$")
		if not op then
			return nil
		end
	end
	local args = {}
	for w in rest:gmatch("%S+") do
		args[#args + 1] = w
	end
	return op, tonumber(session), args, rest
end

function proto.token(secret, user)
	local h = 0xcbf29ce484222325
	local s = secret .. "|" .. user
	for i = 1, #s do
		h = h ~ s:byte(i)
		h = h * 0x100000001b3 -- wraps modulo 2^64, as FNV wants
	end
	return string.format("%016x", h)
end

-- A user name or room name: short, printable, no spaces.
function proto.valid_name(s)
	return type(s) == "string" and #s >= 1 and #s <= 32 and s:match("^[%w_.#-]+$") ~= nil
end

-- "k=v k=v" <-> { k = v }; values hold no spaces.
function proto.kv_encode(t, order)
	local out = {}
	for _, k in ipairs(order) do
		if t[k] ~= nil then
			out[#out + 1] = k .. "=" .. tostring(t[k])
		end
	end
	return table.concat(out, " ")
end

function proto.kv_decode(s)
	local t = {}
	for k, v in s:gmatch("(%w+)=(%S*)") do
		t[k] = v
	end
	return t
end

-- "a:1,b:2" <-> { {"a","1"}, {"b","2"} } (fields split at ':')
function proto.list_decode(s)
	local out = {}
	if s == nil or s == "" then
		return out
	end
	for item in s:gmatch("[^,]+") do
		local fields = {}
		for f in item:gmatch("[^:]+") do
			fields[#fields + 1] = f
		end
		out[#out + 1] = fields
	end
	return out
end

return proto
