-- skynet.db.mysql: a MySQL / MariaDB client for services, on skynet.socketchannel.
--
--   local db = mysql.connect { host, port, database, user, password, charset,
--                              max_packet_size, on_connect, compact_arrays, overload,
--                              server_public_key }
--   db:query(sql)            rows | ok | badresult | { res1, res2, multiresultset = true }
--   db:prepare(sql)          stmt | badresult
--   db:execute(stmt, ...)    as query, rows decoded from the binary protocol
--   db:stmt_reset(stmt), db:stmt_close(stmt), db:ping(), db:disconnect()
--   mysql.quote_sql_str(s)
--
-- Shapes (as skynet's driver): rows are an array of tables keyed by column
-- name (by column index with compact_arrays); an OK reply is
-- { affected_rows, insert_id, server_status, warning_count, message }; a
-- server error is { badresult = true, errno, err, sqlstate }.  Several result
-- sets (multi-statements, CALL) come as an array with multiresultset = true;
-- an error in a later one sets the badresult fields on that array.
--
-- A reply that breaks the protocol raises "mysql: malformed reply ...": the
-- channel closes the connection (its state is unknown) and reconnects on the
-- next request, running the login again.
--
-- Login: mysql_native_password and caching_sha2_password (fast path, and the
-- full path over plain TCP by RSA-OAEP with the server's public key, asked
-- from the server unless given as server_public_key).  mysql_clear_password
-- is refused: it would send the password in clear over plain TCP.  TLS is not
-- spoken; a server that requires it refuses the login with its own error.
local socketchannel = require "skynet.socketchannel"
local crypt = require "skynet.crypt"
local aux = require "skynet.db.mysql.aux"

local byte, char, sub, rep, find = string.byte, string.char, string.sub, string.rep, string.find
local pack, unpack, format, gsub = string.pack, string.unpack, string.format, string.gsub
local concat = table.concat
local sha1, sha256, xor_str = crypt.sha1, aux.sha256, crypt.xor_str
local tonumber, tointeger, error, type = tonumber, math.tointeger, error, type

local mysql = { _VERSION = "skiff" }
local db = {}
db.__index = db

local COM_QUERY = 0x03
local COM_PING = 0x0e
local COM_STMT_PREPARE = 0x16
local COM_STMT_EXECUTE = 0x17
local COM_STMT_CLOSE = 0x19
local COM_STMT_RESET = 0x1a

local SERVER_MORE_RESULTS_EXISTS = 0x08

-- capability flags
local CLIENT_LONG_PASSWORD = 0x1
local CLIENT_FOUND_ROWS = 0x2
local CLIENT_LONG_FLAG = 0x4
local CLIENT_CONNECT_WITH_DB = 0x8
local CLIENT_PROTOCOL_41 = 0x200
local CLIENT_SSL = 0x800
local CLIENT_TRANSACTIONS = 0x2000
local CLIENT_SECURE_CONNECTION = 0x8000
local CLIENT_MULTI_STATEMENTS = 0x10000
local CLIENT_MULTI_RESULTS = 0x20000
local CLIENT_PS_MULTI_RESULTS = 0x40000
local CLIENT_PLUGIN_AUTH = 0x80000
local CLIENT_PLUGIN_AUTH_LENENC = 0x200000

-- a payload of this length is continued in the next packet
local MAX_PAYLOAD = 0xffffff
-- the largest reply accepted (the protocol's own largest max_allowed_packet):
-- a hostile server cannot make the service buffer without end
local MAX_REPLY = 1 << 30

local CHARSET = {
	_default = 0, big5 = 1, dec8 = 3, cp850 = 4, hp8 = 6, koi8r = 7, latin1 = 8,
	latin2 = 9, swe7 = 10, ascii = 11, ujis = 12, sjis = 13, hebrew = 16, tis620 = 18,
	euckr = 19, koi8u = 22, gb2312 = 24, greek = 25, cp1250 = 26, gbk = 28, latin5 = 30,
	armscii8 = 32, utf8 = 33, ucs2 = 35, cp866 = 36, keybcs2 = 37, macce = 38,
	macroman = 39, cp852 = 40, latin7 = 41, utf8mb4 = 45, cp1251 = 51, utf16 = 54,
	utf16le = 56, cp1256 = 57, cp1257 = 59, utf32 = 60, binary = 63, geostd8 = 92,
	cp932 = 95, eucjpms = 97, gb18030 = 248,
}

local function malformed(what)
	error("mysql: malformed reply: " .. what, 0)
end

---------------------------------------------------------------- packets

-- One logical packet: the payloads of packets of MAX_PAYLOAD bytes joined
-- with the packet that ends the run.  Returns payload, last sequence id.
local function read_packet(sock)
	local len, seq = unpack("<I3B", sock:read(4))
	local data = len > 0 and sock:read(len) or ""
	if len == MAX_PAYLOAD then
		local parts, total = { data }, len
		repeat
			len, seq = unpack("<I3B", sock:read(4))
			total = total + len
			if total > MAX_REPLY then
				malformed("packet larger than 1 GiB")
			end
			parts[#parts + 1] = len > 0 and sock:read(len) or ""
		until len < MAX_PAYLOAD
		data = concat(parts)
	end
	return data, seq
end

-- The wire form of `payload` starting at sequence id `seq`: cut in packets of
-- MAX_PAYLOAD bytes, with an empty one after an exact multiple.
local function compose(payload, seq)
	local n = #payload
	if n < MAX_PAYLOAD then
		return pack("<I3B", n, seq & 0xff) .. payload
	end
	local out, pos = {}, 1
	while true do
		local len = n - pos + 1
		if len > MAX_PAYLOAD then
			len = MAX_PAYLOAD
		end
		out[#out + 1] = pack("<I3B", len, seq & 0xff)
		out[#out + 1] = sub(payload, pos, pos + len - 1)
		seq = seq + 1
		pos = pos + len
		if len < MAX_PAYLOAD then
			break
		end
	end
	return concat(out)
end

local function command(cmd, body)
	return compose(char(cmd) .. (body or ""), 0)
end

-- length-encoded integer at pos: value (nil for the NULL marker 0xfb), next pos
local function lenenc(data, pos)
	local b = byte(data, pos)
	if b == nil then
		malformed("truncated length")
	elseif b < 0xfb then
		return b, pos + 1
	elseif b == 0xfb then
		return nil, pos + 1
	elseif b == 0xfc then
		return unpack("<I2", data, pos + 1)
	elseif b == 0xfd then
		return unpack("<I3", data, pos + 1)
	elseif b == 0xfe then
		local v, np = unpack("<i8", data, pos + 1)
		if v < 0 then
			malformed("length beyond 2^63")
		end
		return v, np
	end
	malformed("bad length byte 0xff")
end

local function lenenc_str(data, pos)
	local len
	len, pos = lenenc(data, pos)
	if len == nil then
		return nil, pos
	end
	local e = pos + len - 1
	if e > #data then
		malformed("string past the end of the packet")
	end
	return sub(data, pos, e), e + 1
end

local function lenenc_int(n)
	if n < 0xfb then
		return char(n)
	elseif n <= 0xffff then
		return pack("<BI2", 0xfc, n)
	elseif n <= 0xffffff then
		return pack("<BI3", 0xfd, n)
	end
	return pack("<Bi8", 0xfe, n)
end

local function parse_ok(data)
	local res = {}
	local pos
	res.affected_rows, pos = lenenc(data, 2)
	res.insert_id, pos = lenenc(data, pos)
	res.server_status, res.warning_count, pos = unpack("<I2I2", data, pos)
	local message = sub(data, pos)
	if message ~= "" then
		res.message = message
	end
	return res
end

-- errno, message, sqlstate of an ERR packet
local function parse_err(data)
	local errno, pos = unpack("<I2", data, 2)
	local sqlstate
	if sub(data, pos, pos) == "#" then
		sqlstate = sub(data, pos + 1, pos + 5)
		pos = pos + 6
	end
	return errno, sub(data, pos), sqlstate
end

local function is_eof(data)
	return byte(data, 1) == 0xfe and #data < 9
end

local function eof_status(data)
	if #data < 5 then
		return 0
	end
	local _, status = unpack("<I2I2", data, 2)
	return status
end

---------------------------------------------------------------- result sets

local function parse_column(data)
	local pos = 1
	for _ = 1, 4 do -- catalog, schema, table, org_table
		_, pos = lenenc_str(data, pos)
	end
	local col = {}
	col.name, pos = lenenc_str(data, pos)
	_, pos = lenenc_str(data, pos) -- org_name
	_, pos = lenenc(data, pos) -- length of the fixed fields
	local charset, _, typ, flags, decimals = unpack("<I2I4BI2B", data, pos)
	if col.name == nil then
		malformed("column without a name")
	end
	col.type = typ
	col.charset = charset
	col.decimals = decimals
	col.is_signed = flags & 0x20 == 0 -- UNSIGNED_FLAG
	return col
end

-- text protocol: the types read as numbers (tiny, short, long, float, double,
-- longlong, int24, year, decimal, newdecimal)
local numeric = {
	[0x00] = true, [0x01] = true, [0x02] = true, [0x03] = true, [0x04] = true,
	[0x05] = true, [0x08] = true, [0x09] = true, [0x0d] = true, [0xf6] = true,
}

local function text_row(data, cols, compact)
	local row, pos = {}, 1
	for i = 1, #cols do
		local col = cols[i]
		local v
		v, pos = lenenc_str(data, pos)
		if v ~= nil and numeric[col.type] then
			v = tonumber(v) or v
		end
		row[compact and i or col.name] = v
	end
	return row
end

-- binary protocol values: function(data, pos, col) -> value, next pos
local function fraction(micro, col)
	local d = col.decimals
	if d > 0 and d <= 6 then
		return "." .. sub(format("%06d", micro), 1, d)
	end
	return ""
end

-- the length byte that starts a binary date or time value, and the position
-- after it
local function value_length(data, pos, what)
	local len = byte(data, pos)
	if len == nil then
		malformed("truncated " .. what)
	end
	return len, pos + 1
end

local function datetime(data, pos, col)
	local len
	len, pos = value_length(data, pos, "date")
	local y, mo, d, h, mi, s, us = 0, 0, 0, 0, 0, 0, 0
	if len >= 4 then
		y, mo, d = unpack("<I2BB", data, pos)
	end
	if len >= 7 then
		h, mi, s = unpack("BBB", data, pos + 4)
	end
	if len >= 11 then
		us = unpack("<I4", data, pos + 7)
	end
	if len ~= 0 and len ~= 4 and len ~= 7 and len ~= 11 then
		malformed("date of length " .. len)
	end
	if col.type == 0x0a then
		return format("%04d-%02d-%02d", y, mo, d), pos + len
	end
	return format("%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, s) .. fraction(us, col), pos + len
end

local function time(data, pos, col)
	local len
	len, pos = value_length(data, pos, "time")
	if len == 0 then
		return "00:00:00" .. fraction(0, col), pos
	elseif len ~= 8 and len ~= 12 then
		malformed("time of length " .. len)
	end
	local neg, days, h, mi, s = unpack("<BI4BBB", data, pos)
	local us = len == 12 and unpack("<I4", data, pos + 8) or 0
	return format("%s%02d:%02d:%02d", neg == 1 and "-" or "", days * 24 + h, mi, s) .. fraction(us, col), pos + len
end

local function int_reader(signed, unsigned)
	return function(data, pos, col)
		return unpack(col.is_signed and signed or unsigned, data, pos)
	end
end

local function number_str(data, pos)
	local v
	v, pos = lenenc_str(data, pos)
	return tonumber(v) or v, pos
end

local binary_value = {
	[0x01] = int_reader("<i1", "<I1"),
	[0x02] = int_reader("<i2", "<I2"),
	[0x03] = int_reader("<i4", "<I4"),
	[0x04] = function(data, pos) return unpack("<f", data, pos) end,
	[0x05] = function(data, pos) return unpack("<d", data, pos) end,
	[0x07] = datetime,
	[0x08] = function(data, pos, col)
		local v, np = unpack("<i8", data, pos)
		if not col.is_signed and v < 0 then
			v = v + 18446744073709551616.0 -- as the text protocol's tonumber gives it
		end
		return v, np
	end,
	[0x09] = int_reader("<i4", "<I4"),
	[0x0a] = datetime,
	[0x0b] = time,
	[0x0c] = datetime,
	[0x0d] = function(data, pos) return unpack("<I2", data, pos) end,
	[0x00] = number_str,
	[0xf6] = number_str,
}

local function binary_row(data, cols, compact)
	local n = #cols
	local nullmap = 2
	local pos = 2 + (n + 9) // 8
	if pos - 1 > #data then
		malformed("row shorter than its NULL bitmap")
	end
	local row = {}
	for i = 1, n do
		local bit = i + 1 -- the first two bits are reserved
		local isnull = byte(data, nullmap + (bit >> 3)) & (1 << (bit & 7)) ~= 0
		if not isnull then
			local col = cols[i]
			local read = binary_value[col.type] or lenenc_str
			local v
			v, pos = read(data, pos, col)
			row[compact and i or col.name] = v
		end
	end
	return row
end

-- One result: rows, or an OK table; nil, err, errno, sqlstate on an ERR
-- packet.  The second result is true when the server has more results.
local function read_result(sock, binary, compact)
	local data = read_packet(sock)
	local first = byte(data, 1)
	if first == 0x00 then
		local ok = parse_ok(data)
		return ok, ok.server_status & SERVER_MORE_RESULTS_EXISTS ~= 0
	elseif first == 0xff then
		local errno, msg, sqlstate = parse_err(data)
		return nil, msg, errno, sqlstate
	elseif first == nil or first == 0xfb then
		malformed(first and "LOCAL INFILE request (not enabled)" or "empty packet")
	end
	local ncols = lenenc(data, 1)
	if ncols == nil or ncols == 0 then
		malformed("bad column count")
	end
	local cols = {}
	for i = 1, ncols do
		data = read_packet(sock)
		if byte(data, 1) == 0xff then
			local errno, msg, sqlstate = parse_err(data)
			return nil, msg, errno, sqlstate
		end
		cols[i] = parse_column(data)
	end
	data = read_packet(sock)
	if not is_eof(data) then
		malformed("no EOF after the column definitions")
	end
	local rowof = binary and binary_row or text_row
	local rows = {}
	while true do
		data = read_packet(sock)
		local b = byte(data, 1)
		if b == 0xfe and #data < 9 then
			return rows, eof_status(data) & SERVER_MORE_RESULTS_EXISTS ~= 0
		elseif b == 0xff then
			local errno, msg, sqlstate = parse_err(data)
			return nil, msg, errno, sqlstate
		elseif binary and b ~= 0x00 then
			malformed("binary row without its 0x00 header")
		end
		rows[#rows + 1] = rowof(data, cols, compact)
	end
end

-- Every result of one command, in skynet's shapes.  Protocol errors raised
-- inside are raised again with the "mysql: malformed reply" prefix.
local function read_results(sock, binary, compact)
	local res, more, errno, sqlstate = read_result(sock, binary, compact)
	if res == nil then
		return { badresult = true, err = more, errno = errno, sqlstate = sqlstate }
	end
	if not more then
		return res
	end
	local multi = { res, multiresultset = true }
	while more do
		res, more, errno, sqlstate = read_result(sock, binary, compact)
		if res == nil then
			multi.badresult = true
			multi.err = more
			multi.errno = errno
			multi.sqlstate = sqlstate
			break
		end
		multi[#multi + 1] = res
	end
	return multi
end

local function read_prepare(sock)
	local data = read_packet(sock)
	local first = byte(data, 1)
	if first == 0xff then
		local errno, msg, sqlstate = parse_err(data)
		return { badresult = true, errno = errno, err = msg, sqlstate = sqlstate }
	elseif first ~= 0x00 then
		malformed("prepare reply is neither OK nor ERR")
	end
	local stmt = { params = {}, fields = {} }
	stmt.prepare_id, stmt.field_count, stmt.param_count, stmt.warning_count =
		unpack("<I4I2I2xI2", data, 2)
	for _, part in ipairs { { "params", stmt.param_count }, { "fields", stmt.field_count } } do
		local list, n = stmt[part[1]], part[2]
		if n > 0 then
			for i = 1, n do
				list[i] = parse_column(read_packet(sock))
			end
			if not is_eof(read_packet(sock)) then
				malformed("no EOF after the statement's " .. part[1])
			end
		end
	end
	return stmt
end

-- a response function for socketchannel: the reply, or a raise that closes
-- the connection when the reply breaks the protocol
local function guarded(reader, ...)
	local ok, res = pcall(reader, ...)
	if not ok then
		if type(res) == "string" and not find(res, "^mysql: ") then
			res = "mysql: malformed reply: " .. res
		end
		error(res, 0)
	end
	return res
end

---------------------------------------------------------------- login

local function native_token(password, nonce)
	local stage1 = sha1(password)
	return xor_str(stage1, sha1(nonce .. sha1(stage1)))
end

local function sha2_token(password, nonce)
	local stage1 = sha256(password)
	return xor_str(stage1, sha256(sha256(stage1) .. nonce))
end

local function auth_token(plugin, password, nonce)
	if plugin == "mysql_native_password" then
		return password == "" and "" or native_token(password, nonce)
	elseif plugin == "caching_sha2_password" then
		return password == "" and "" or sha2_token(password, nonce)
	elseif plugin == "mysql_clear_password" then
		error("mysql: the server asks for mysql_clear_password, refused: it sends the password in clear over plain TCP", 0)
	end
	error("mysql: authentication plugin not supported: " .. tostring(plugin), 0)
end

local function parse_handshake(data)
	local proto = byte(data, 1)
	if proto == 0xff then
		local errno, msg = parse_err(data)
		error(format("mysql: server refused the connection: errno:%d, msg:%s", errno, msg), 0)
	elseif proto ~= 10 then
		malformed("handshake protocol " .. tostring(proto) .. " (want 10)")
	end
	local h = {}
	local pos
	h.version, pos = unpack("z", data, 2)
	h.thread_id, h.nonce, pos = unpack("<I4c8x", data, pos)
	local cap_lo, lang, status, cap_hi, nonce_len
	cap_lo, pos = unpack("<I2", data, pos)
	h.capabilities = cap_lo
	if pos <= #data then
		lang, status, cap_hi, nonce_len, pos = unpack("<BI2I2B", data, pos)
		h.lang, h.status = lang, status
		h.capabilities = cap_lo | cap_hi << 16
		pos = pos + 10 -- reserved
		if h.capabilities & CLIENT_SECURE_CONNECTION ~= 0 then
			local n = math.max(13, nonce_len - 8)
			local part2 = sub(data, pos, pos + n - 1)
			pos = pos + n
			h.nonce = h.nonce .. (gsub(part2, "%z$", ""))
		end
		if h.capabilities & CLIENT_PLUGIN_AUTH ~= 0 and pos <= #data then
			h.plugin = unpack("z", data .. "\0", pos)
		end
	end
	if h.capabilities & CLIENT_PROTOCOL_41 == 0 then
		error("mysql: server does not speak protocol 4.1", 0)
	end
	return h
end

-- one packet of the login exchange, with its sequence id
local function read_login_packet(sock)
	local data, seq = read_packet(sock)
	return true, { data, seq }
end

local function login_error(data)
	local errno, msg, sqlstate = parse_err(data)
	return format("errno:%d, msg:%s,sqlstate:%s", errno, msg, tostring(sqlstate))
end

-- caching_sha2_password after the scramble: 0x01 0x03 = fast path done,
-- 0x01 0x04 = full authentication by RSA (no TLS here)
local function sha2_more(self, channel, conf, nonce, data, seq)
	local status = byte(data, 2)
	if status == 3 then
		return channel:response(read_login_packet)
	elseif status ~= 4 then
		malformed("caching_sha2_password status " .. tostring(status))
	end
	local key = conf.server_public_key
	if not key then
		local r = channel:request(compose("\2", seq + 1), read_login_packet)
		data, seq = r[1], r[2]
		if byte(data, 1) == 0xff then
			error("mysql: login failed: " .. login_error(data), 0)
		elseif byte(data, 1) ~= 0x01 or #data < 2 then
			error("mysql: caching_sha2_password full authentication needs TLS or the server's RSA public key, and the server sent none", 0)
		end
		key = sub(data, 2)
	end
	local secret = aux.rsa_oaep_encrypt(key, xor_str(conf.password .. "\0", nonce))
	return channel:request(compose(secret, seq + 1), read_login_packet)
end

local function login(self, conf)
	return function(channel)
		local ok, err = pcall(self._login, self, conf, channel)
		if not ok then
			if type(err) == "string" and not find(err, "^mysql: ") then
				err = "mysql: malformed reply during login: " .. err
			end
			self._login_error = err -- for mysql.connect's message
			error(err, 0)
		end
	end
end

function db:_login(conf, channel)
	do
		local first = channel:response(read_login_packet)
		local h = parse_handshake(first[1])
		self._server_ver = h.version
		self._server_capabilities = h.capabilities
		local flags = CLIENT_LONG_PASSWORD | CLIENT_FOUND_ROWS | CLIENT_LONG_FLAG | CLIENT_PROTOCOL_41
			| CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION | CLIENT_MULTI_STATEMENTS
			| CLIENT_MULTI_RESULTS | CLIENT_PS_MULTI_RESULTS | CLIENT_PLUGIN_AUTH
			| CLIENT_PLUGIN_AUTH_LENENC
		if conf.database ~= "" then
			flags = flags | CLIENT_CONNECT_WITH_DB
		end
		flags = flags & (h.capabilities | CLIENT_PROTOCOL_41) & ~CLIENT_SSL
		local plugin = h.plugin or "mysql_native_password"
		local nonce = h.nonce
		local token = auth_token(plugin, conf.password, nonce)
		local body = pack("<I4I4Bc23z", flags, conf.max_packet_size, conf.charset, rep("\0", 23), conf.user)
		if flags & CLIENT_PLUGIN_AUTH_LENENC ~= 0 then
			body = body .. lenenc_int(#token) .. token
		else
			body = body .. pack("s1", token)
		end
		if flags & CLIENT_CONNECT_WITH_DB ~= 0 then
			body = body .. conf.database .. "\0"
		end
		if flags & CLIENT_PLUGIN_AUTH ~= 0 then
			body = body .. plugin .. "\0"
		end
		local r = channel:request(compose(body, first[2] + 1), read_login_packet)
		for _ = 1, 8 do -- a few switches at most; a server that loops is cut off
			local data, seq = r[1], r[2]
			local b = byte(data, 1)
			if b == 0x00 then
				if conf.on_connect then
					conf.on_connect(self)
				end
				return
			elseif b == 0xff then
				error("mysql: login failed: " .. login_error(data), 0)
			elseif b == 0xfe then -- auth switch: plugin name, new nonce
				if #data == 1 then
					error("mysql: server asks for the pre-4.1 password protocol, not supported", 0)
				end
				local pos
				plugin, pos = unpack("z", data .. "\0", 2)
				nonce = gsub(sub(data, pos), "%z$", "")
				r = channel:request(compose(auth_token(plugin, conf.password, nonce), seq + 1), read_login_packet)
			elseif b == 0x01 and plugin == "caching_sha2_password" then
				r = sha2_more(self, channel, conf, nonce, data, seq)
			else
				malformed(format("login reply 0x%02x for %s", b or 0, plugin))
			end
		end
		error("mysql: login did not settle", 0)
	end
end

---------------------------------------------------------------- the API

function mysql.connect(opts)
	local charset = CHARSET[opts.charset or "_default"]
	if not charset then
		error("mysql.connect: unknown charset " .. tostring(opts.charset), 2)
	end
	local self = setmetatable({}, db)
	self.compact = opts.compact_arrays
	local conf = {
		user = opts.user or "",
		password = opts.password or "",
		database = opts.database or "",
		charset = charset,
		max_packet_size = opts.max_packet_size or 1024 * 1024,
		on_connect = opts.on_connect,
		server_public_key = opts.server_public_key,
	}
	local compact = function() return self.compact end
	self._query_resp = function(sock)
		return true, guarded(read_results, sock, false, compact())
	end
	self._execute_resp = function(sock)
		return true, guarded(read_results, sock, true, compact())
	end
	self._prepare_resp = function(sock)
		return true, guarded(read_prepare, sock)
	end
	self.sockchannel = socketchannel.channel {
		host = opts.host or "127.0.0.1",
		port = opts.port or 3306,
		auth = login(self, conf),
		overload = opts.overload,
		nodelay = true,
	}
	-- one attempt: a bad address or a refused login fails here, with the reason
	local ok, err = pcall(self.sockchannel.connect, self.sockchannel, true)
	if not ok then
		self.sockchannel:close()
		error(self._login_error or ("mysql: connect to " .. tostring(opts.host) .. ":" .. tostring(opts.port or 3306)
			.. " failed: " .. tostring(err)), 0)
	end
	return self
end

function db:disconnect()
	self.sockchannel:close()
	setmetatable(self, nil)
end

function db:query(sql)
	return self.sockchannel:request(command(COM_QUERY, sql), self._query_resp)
end

function db:ping()
	return self.sockchannel:request(command(COM_PING), self._query_resp)
end

function db:prepare(sql)
	return self.sockchannel:request(command(COM_STMT_PREPARE, sql), self._prepare_resp)
end

-- the type and value of one parameter of COM_STMT_EXECUTE
local function param(v)
	local t = type(v)
	if t == "string" then
		return "\x0f\0", lenenc_int(#v) .. v
	elseif t == "number" then
		if tointeger(v) then
			return "\x08\0", pack("<i8", v)
		end
		return "\x05\0", pack("<d", v)
	elseif t == "boolean" then
		return "\x01\0", v and "\1" or "\0"
	elseif t == "nil" then
		return "\x06\0", ""
	end
	error("mysql: execute: invalid parameter type " .. t, 3)
end

function db:execute(stmt, ...)
	if type(stmt) ~= "table" or not stmt.prepare_id then
		error("mysql: execute: not a prepared statement" .. (type(stmt) == "table" and stmt.err and (" (" .. tostring(stmt.err) .. ")") or ""), 2)
	end
	local n = select("#", ...)
	if n ~= stmt.param_count then
		error(format("mysql: execute: the statement takes %d parameters, got %d", stmt.param_count, n), 2)
	end
	local body = { pack("<I4BI4", stmt.prepare_id, 0, 1) }
	if n > 0 then
		local nullmap = {}
		for i = 1, (n + 7) // 8 do
			nullmap[i] = 0
		end
		local types, values = {}, {}
		for i = 1, n do
			local v = select(i, ...)
			if v == nil then
				local k = (i - 1) // 8 + 1
				nullmap[k] = nullmap[k] | (1 << ((i - 1) % 8))
			end
			types[i], values[i] = param(v)
		end
		body[2] = char(table.unpack(nullmap))
		body[3] = "\1"
		body[4] = concat(types)
		body[5] = concat(values)
	end
	return self.sockchannel:request(command(COM_STMT_EXECUTE, concat(body)), self._execute_resp)
end

function db:stmt_reset(stmt)
	return self.sockchannel:request(command(COM_STMT_RESET, pack("<I4", stmt.prepare_id)), self._query_resp)
end

-- COM_STMT_CLOSE has no reply
function db:stmt_close(stmt)
	return self.sockchannel:request(command(COM_STMT_CLOSE, pack("<I4", stmt.prepare_id)))
end

function db:server_ver()
	return self._server_ver
end

function db:set_compact_arrays(value)
	self.compact = value
end

local escapes = {
	["\0"] = "\\0", ["\b"] = "\\b", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
	["\26"] = "\\Z", ["\\"] = "\\\\", ["'"] = "\\'", ['"'] = '\\"',
}

function mysql.quote_sql_str(s)
	return "'" .. gsub(s, "[%z\b\n\r\t\26\\'\"]", escapes) .. "'"
end

-- The reply readers alone, for the fuzz target (tests/fuzz/fuzz_mysql.c) and
-- the unit checks: each takes an object with read(n) that raises at the end.
mysql._wire = {
	read_results = function(sock, binary, compact) return guarded(read_results, sock, binary, compact) end,
	read_prepare = function(sock) return guarded(read_prepare, sock) end,
	parse_handshake = function(data) return guarded(parse_handshake, data) end,
	native_token = native_token,
	sha2_token = sha2_token,
	compose = compose,
	read_packet = read_packet,
}

return mysql
