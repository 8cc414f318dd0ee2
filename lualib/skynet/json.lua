-- skynet.json — a small JSON encoder for operator tools (the console's `json`
-- answers).  Encoding only; output is one line.
--
--   local json = require "skynet.json"
--   json.encode(v)        -> string
--   json.array(t)         -> t, marked so that an empty t encodes as [] not {}
--   json.null             a value that encodes as null (a nil can't sit in a table)
--
-- Tables: a table whose keys are exactly 1..n (n >= 1), or one marked with
-- json.array, is an array; any other table is an object with its keys turned
-- into strings and sorted, so the output is stable.  Integers print as
-- integers, other numbers as short decimals (at most 15 significant digits); NaN and infinities (not JSON) print as null; functions,
-- userdata and threads print as their tostring().  Cycles raise an error.
local json = {}

local ARRAY = {}   -- metatable marking arrays
json.null = setmetatable({}, { __name = "json.null", __tostring = function() return "null" end })

function json.array(t)
	return setmetatable(t or {}, ARRAY)
end

local escapes = {
	['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
	["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}

-- Control characters are escaped; bytes that are not valid UTF-8 become the
-- code points U+0080..U+00FF (Latin-1), so the output is always valid JSON.
local function quote(s)
	local pattern = utf8.len(s) and '[%c"\\]' or '[%c"\\\128-\255]'
	s = string.gsub(s, pattern, function(c)
		return escapes[c] or string.format("\\u%04x", string.byte(c))
	end)
	return '"' .. s .. '"'
end

local function is_array(t)
	if getmetatable(t) == ARRAY then
		return true, #t
	end
	local n = #t
	if n == 0 then
		return false
	end
	local count = 0
	for _ in pairs(t) do
		count = count + 1
	end
	return count == n, n
end

local encode

local function encode_table(t, out, seen)
	if seen[t] then
		error("json: cycle in table")
	end
	seen[t] = true
	local arr, n = is_array(t)
	if arr then
		out[#out + 1] = "["
		for i = 1, n do
			if i > 1 then out[#out + 1] = "," end
			encode(t[i], out, seen)
		end
		out[#out + 1] = "]"
	else
		local keys = {}
		for k in pairs(t) do
			keys[#keys + 1] = k
		end
		table.sort(keys, function(a, b)
			if type(a) == "number" and type(b) == "number" then
				return a < b
			end
			return tostring(a) < tostring(b)
		end)
		out[#out + 1] = "{"
		for i, k in ipairs(keys) do
			if i > 1 then out[#out + 1] = "," end
			out[#out + 1] = quote(tostring(k))
			out[#out + 1] = ":"
			encode(t[k], out, seen)
		end
		out[#out + 1] = "}"
	end
	seen[t] = nil
end

function encode(v, out, seen)
	local tv = type(v)
	if tv == "nil" then
		out[#out + 1] = "null"
	elseif tv == "boolean" then
		out[#out + 1] = v and "true" or "false"
	elseif tv == "number" then
		if math.type(v) == "integer" then
			out[#out + 1] = string.format("%d", v)
		elseif v ~= v or v == math.huge or v == -math.huge then
			out[#out + 1] = "null"
		else
			-- 15 significant digits: a measured 0.1 + 0.2 prints 0.3, not
			-- 0.30000000000000004 (every float here is a measurement or a ratio)
			out[#out + 1] = string.format("%.15g", v)
		end
	elseif tv == "string" then
		out[#out + 1] = quote(v)
	elseif v == json.null then
		out[#out + 1] = "null"
	elseif tv == "table" then
		encode_table(v, out, seen)
	else
		out[#out + 1] = quote(tostring(v))
	end
end

function json.encode(v)
	local out = {}
	encode(v, out, {})
	return table.concat(out)
end

return json
