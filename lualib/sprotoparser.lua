-- sprotoparser: sproto schema text -> the binary schema sproto.new takes.
--
--   schema   := (typedef | protocol)*
--   typedef  := "." name "{" (field | typedef)* "}"
--   field    := name tag ":" ["*"] typename ["(" (digits | [name]) ")"]
--   protocol := name tag "{" (("request" | "response") (typename | struct))* "}"
--   struct   := "{" (field | typedef)* "}"
-- "#" starts a comment to the end of the line. A nested type is named
-- Outer.Inner; a protocol's inline struct is proto.request / proto.response;
-- `response nil` declares a response without content. integer(p) is a
-- fixed-point number with p decimals; *T(key) is an array of T sent as a
-- map keyed by T's field key; *T() is the map from T's first field to its
-- second (T must have exactly two).
--
-- The output is a sproto message of the schema described in
-- lualib-src/sproto_schema.c: types sorted by name (a struct field refers to
-- its type's index), protocols by tag, one skip entry per absent tag, so the
-- same text always yields the same bytes.
--
-- Written by hand (no lpeg), so it also runs in a stock lua5.4.

local parser = {}

local builtin = { integer = 0, boolean = 1, string = 2, binary = 2, double = 3 }
local MAXTAG = 32766 -- an inline value v is stored as (v + 1) * 2 in 16 bits

-- ---- tokens ----

local function tokenize(text, file)
	local tokens = {}
	local pos, line, len = 1, 1, #text
	while pos <= len do
		local c = text:sub(pos, pos)
		if c == "\n" then
			line = line + 1
			pos = pos + 1
		elseif c == " " or c == "\t" or c == "\r" then
			pos = pos + 1
		elseif c == "#" then
			local e = text:find("\n", pos, true)
			pos = e or len + 1
		elseif c:match "[%a_]" then
			local s, e = text:find("^[%w_]+", pos)
			-- a dotted typename (Outer.Inner) is one token
			while text:match("^%.[%a_]", e + 1) do
				e = select(2, text:find("^%.[%w_]+", e + 1))
			end
			tokens[#tokens + 1] = { kind = "word", value = text:sub(s, e), line = line }
			pos = e + 1
		elseif c:match "%d" then
			local s, e = text:find("^%d+", pos)
			tokens[#tokens + 1] = { kind = "number", value = tonumber(text:sub(s, e)), line = line }
			pos = e + 1
		elseif c:match "[{}():*.]" then
			tokens[#tokens + 1] = { kind = c, value = c, line = line }
			pos = pos + 1
		else
			error(string.format("syntax error at [%s] line (%d): unexpected %q", file, line, c), 0)
		end
	end
	tokens[#tokens + 1] = { kind = "eof", value = "end of text", line = line }
	return tokens
end

-- ---- grammar ----

local Parser = {}
Parser.__index = Parser

function Parser:fail(fmt, ...)
	local t = self.tokens[self.pos]
	error(string.format("syntax error at [%s] line (%d): " .. fmt, self.file, t.line, ...), 0)
end

function Parser:peek(kind)
	return self.tokens[self.pos].kind == kind
end

function Parser:take(kind, what)
	local t = self.tokens[self.pos]
	if t.kind ~= kind then
		self:fail("%s expected, got %s", what or kind, tostring(t.value))
	end
	self.pos = self.pos + 1
	return t.value
end

function Parser:name(what)
	local v = self:take("word", what)
	if v:find(".", 1, true) then
		self:fail("%s must not contain '.': %s", what, v)
	end
	return v
end

function Parser:tag(what)
	local v = self:take("number", what)
	if v > MAXTAG then
		self:fail("%s %d is larger than %d", what, v, MAXTAG)
	end
	return v
end

-- The body of a struct (after "{"), up to and including "}".
function Parser:struct_body(fullname)
	local def = { name = fullname, fields = {}, line = self.tokens[self.pos].line }
	local names, tags = {}, {}
	while not self:peek "}" do
		if self:peek "." then
			self.pos = self.pos + 1
			local inner = fullname .. "." .. self:name("type name")
			self:take("{", "'{'")
			self:struct_body(inner)
		else
			local f = { line = self.tokens[self.pos].line }
			f.name = self:name("field name")
			f.tag = self:tag("tag")
			self:take(":", "':'")
			if self:peek "*" then
				self.pos = self.pos + 1
				f.array = true
			end
			f.typename = self:take("word", "type name")
			if self:peek "(" then
				self.pos = self.pos + 1
				if self:peek "number" then
					f.decimal = self:take "number"
				elseif self:peek "word" then
					f.key = self:name("main index")
				else
					f.key = "" -- *T(): the two-field map
				end
				self:take(")", "')'")
			end
			if names[f.name] then
				error(string.format("redefine %s in type %s", f.name, fullname), 0)
			end
			if tags[f.tag] then
				error(string.format("redefine tag %d in type %s", f.tag, fullname), 0)
			end
			names[f.name], tags[f.tag] = true, true
			def.fields[#def.fields + 1] = f
		end
	end
	self:take("}", "'}'")
	if self.types[fullname] then
		error("redefined " .. fullname, 0)
	end
	table.sort(def.fields, function(a, b) return a.tag < b.tag end)
	self.types[fullname] = def
	return def
end

function Parser:protocol()
	local p = { name = self:name("protocol name") }
	p.tag = self:tag("protocol tag")
	self:take("{", "'{'")
	while not self:peek "}" do
		local part = self:take("word", "request or response")
		if part ~= "request" and part ~= "response" then
			self:fail("request or response expected, got %s", part)
		end
		if p[part] ~= nil or (part == "response" and p.confirm) then
			error(string.format("redefine %s in protocol %s", part, p.name), 0)
		end
		if self:peek "{" then
			self.pos = self.pos + 1
			p[part] = self:struct_body(p.name .. "." .. part).name
		else
			local t = self:take("word", "type name")
			if t == "nil" then
				if part == "response" then
					p.confirm = true
				end
			else
				p[part] = t
			end
		end
	end
	self:take("}", "'}'")
	return p
end

function Parser:schema()
	while not self:peek "eof" do
		if self:peek "." then
			self.pos = self.pos + 1
			local name = self:name("type name")
			self:take("{", "'{'")
			self:struct_body(name)
		else
			local p = self:protocol()
			if self.protocols[p.name] then
				error("redefined " .. p.name, 0)
			end
			for _, q in pairs(self.protocols) do
				if q.tag == p.tag then
					error(string.format("redefined protocol tag %d at %s", p.tag, p.name), 0)
				end
			end
			self.protocols[p.name] = p
		end
	end
end

-- ---- checks ----

-- The full name of type t used inside type scope: Scope.t, then the scopes
-- around it, then t itself.
local function resolve(types, scope, t)
	if builtin[t] then
		return t
	end
	while scope do
		local full = scope .. "." .. t
		if types[full] then
			return full
		end
		scope = scope:match "^(.+)%.[^.]+$"
	end
	if types[t] then
		return t
	end
end

local function check(types, protocols)
	for tname, def in pairs(types) do
		for _, f in ipairs(def.fields) do
			local full = resolve(types, tname, f.typename)
			if full == nil then
				error(string.format("Undefined type %s in type %s", f.typename, tname), 0)
			end
			f.typename = full
			if f.decimal then
				if full ~= "integer" then
					error(string.format("%s.%s: (%d) is only for integer", tname, f.name, f.decimal), 0)
				end
				if f.decimal > 18 then
					error(string.format("%s.%s: precision %d is too large", tname, f.name, f.decimal), 0)
				end
			end
			if f.key and (not f.array or builtin[full]) then
				error(string.format("%s.%s: a main index needs an array of structs", tname, f.name), 0)
			end
		end
	end
	for tname, def in pairs(types) do
		for _, f in ipairs(def.fields) do
			if f.key then
				local sub = types[f.typename].fields
				if f.key == "" then
					if #sub ~= 2 then
						error(string.format("Invalid map definition: %s, must only have two fields", f.name), 0)
					end
					f.map = true
					f.keyfield = sub[1]
				else
					for _, sf in ipairs(sub) do
						if sf.name == f.key then
							f.keyfield = sf
						end
					end
				end
				local k = f.keyfield
				if k == nil or not builtin[k.typename] or k.array then
					error(string.format("Invalid map index: %s in %s.%s", f.key, tname, f.name), 0)
				end
			end
		end
	end
	for pname, p in pairs(protocols) do
		for _, part in ipairs { "request", "response" } do
			if p[part] and not types[p[part]] then
				error(string.format("Undefined %s type %s in protocol %s", part, p[part], pname), 0)
			end
		end
	end
end

-- ---- encoding (a sproto struct whose values are inline integers or strings) ----

-- fields: { {tag, value} ... } in ascending tag order; a number value goes
-- inline, a string value into the data part. Each absent tag gets its own
-- skip entry.
local function struct(fields)
	local entries, data = {}, {}
	local last = -1
	for _, f in ipairs(fields) do
		for _ = last + 2, f[1] do
			entries[#entries + 1] = "\1\0"
		end
		local v = f[2]
		if type(v) == "number" then
			entries[#entries + 1] = string.pack("<I2", (v + 1) * 2)
		else
			entries[#entries + 1] = "\0\0"
			data[#data + 1] = string.pack("<s4", v)
		end
		last = f[1]
	end
	return string.pack("<I2", #entries) .. table.concat(entries) .. table.concat(data)
end

local function array(items)
	local out = {}
	for i, v in ipairs(items) do
		out[i] = string.pack("<s4", v)
	end
	return table.concat(out)
end

local function encode(types, protocols)
	local names = {}
	for name in pairs(types) do
		names[#names + 1] = name
	end
	table.sort(names)
	local index = {}
	for i, name in ipairs(names) do
		index[name] = i - 1
	end
	local tlist = {}
	for i, name in ipairs(names) do
		local fields = {}
		for j, f in ipairs(types[name].fields) do
			local rec = { { 0, f.name } }
			local b = builtin[f.typename]
			if b then
				rec[#rec + 1] = { 1, b }
				if f.decimal then
					rec[#rec + 1] = { 2, f.decimal }
				elseif f.typename == "binary" then
					rec[#rec + 1] = { 2, 1 }
				end
			else
				rec[#rec + 1] = { 2, index[f.typename] }
			end
			rec[#rec + 1] = { 3, f.tag }
			if f.array then
				rec[#rec + 1] = { 4, 1 }
				if f.keyfield then
					rec[#rec + 1] = { 5, f.keyfield.tag }
					if f.map then
						rec[#rec + 1] = { 6, 1 }
					end
				end
			end
			fields[j] = struct(rec)
		end
		if #fields > 0 then
			tlist[i] = struct { { 0, name }, { 1, array(fields) } }
		else
			tlist[i] = struct { { 0, name } }
		end
	end
	local plist = {}
	for _, p in pairs(protocols) do
		plist[#plist + 1] = p
	end
	table.sort(plist, function(a, b) return a.tag < b.tag end)
	for i, p in ipairs(plist) do
		local rec = { { 0, p.name }, { 1, p.tag } }
		if p.request then
			rec[#rec + 1] = { 2, index[p.request] }
		end
		if p.response then
			rec[#rec + 1] = { 3, index[p.response] }
		elseif p.confirm then
			rec[#rec + 1] = { 4, 1 }
		end
		plist[i] = struct(rec)
	end
	local group = {}
	if #tlist > 0 then
		group[#group + 1] = { 0, array(tlist) }
	end
	if #plist > 0 then
		group[#group + 1] = { 1, array(plist) }
	end
	return struct(group)
end

-- parser.parse(text[, name]) -> binary schema; errors name the file (name,
-- default "=text") and line.
function parser.parse(text, name)
	assert(type(text) == "string", "schema text expected")
	local self = setmetatable({
		tokens = tokenize(text, name or "=text"),
		pos = 1,
		file = name or "=text",
		types = {},
		protocols = {},
	}, Parser)
	self:schema()
	check(self.types, self.protocols)
	return encode(self.types, self.protocols)
end

-- parser.dump(bin): print bytes in hex, 16 a line.
function parser.dump(bin)
	for i = 1, #bin, 16 do
		local row = {}
		for j = i, math.min(i + 15, #bin) do
			row[#row + 1] = string.format("%02X", bin:byte(j))
		end
		print(table.concat(row, " "))
	end
end

return parser
