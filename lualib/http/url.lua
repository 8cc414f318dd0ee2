-- http.url — split a request target and decode its query (application/
-- x-www-form-urlencoded, as browsers send forms).
--   url.parse(target)       -> path (percent-decoded), query (raw text after '?', "" if none)
--   url.parse_query(query)  -> { name = value } (a repeated name gives a list)
--   url.encode(s)           -> s percent-encoded (everything but A-Z a-z 0-9 - _ . ~)
-- A '%' not followed by two hex digits is kept as it is.
local url = {}

local function hexbyte(h)
	return string.char(tonumber(h, 16))
end

local function decode(s)
	s = s:gsub("+", " ")
	return (s:gsub("%%(%x%x)", hexbyte))
end
url.decode = decode

function url.encode(s)
	return (s:gsub("[^%w%-_%.~]", function(c)
		return string.format("%%%02X", c:byte())
	end))
end

function url.parse(u)
	local path, query = u:match("^([^?#]*)%??([^#]*)")
	return decode(path), query
end

function url.parse_query(q)
	local r = {}
	for pair in q:gmatch("[^&]+") do
		local k, v = pair:match("^([^=]*)=?(.*)$")
		k, v = decode(k), decode(v)
		local old = r[k]
		if old == nil then
			r[k] = v
		elseif type(old) == "table" then
			old[#old + 1] = v
		else
			r[k] = { old, v }
		end
	end
	return r
end

return url
