-- skynet.db.mysql against a real mariadbd: what skynet's mysql test script
-- does (cats table, stored procedure with a blob, signed/unsigned tinyints,
-- several result sets, quoting, a bad query, queries from several
-- coroutines), with every result checked; then every column type through
-- both protocols, hostile strings, a 20 MiB blob (packets split at 16 MiB),
-- errors, a connection killed by the server, wrong passwords.
local skynet = require "skynet"
local mysql = require "skynet.db.mysql"
local T = require "testlib"

local host = skynet.getenv "db_host"
local port = tonumber(skynet.getenv "mysql_port")
local user = skynet.getenv "mysql_user"
local password = skynet.getenv "mysql_password"
local database = skynet.getenv "mysql_database"

local connects = 0
local function open(extra)
	local opts = {
		host = host, port = port, database = database, user = user, password = password,
		charset = "utf8mb4", max_packet_size = 64 * 1024 * 1024,
		on_connect = function(db)
			connects = connects + 1
			db:query "set charset utf8mb4"
		end,
	}
	for k, v in pairs(extra or {}) do opts[k] = v end
	return mysql.connect(opts)
end

local function ok_reply(r, what)
	T.ok(type(r) == "table" and not r.badresult, what .. ": " .. tostring(r and r.err))
	T.eq(math.type(r.affected_rows), "integer", what .. ": affected_rows")
	T.eq(math.type(r.server_status), "integer", what .. ": server_status")
	T.eq(math.type(r.warning_count), "integer", what .. ": warning_count")
	return r
end

local function q(db, sql)
	local r = db:query(sql)
	T.ok(not r.badresult, sql .. ": " .. tostring(r.err))
	return r
end

-- skynet's test script, step by step
local function cats(db)
	local r = ok_reply(db:query "drop table if exists cats", "drop")
	ok_reply(db:query "create table cats (id serial primary key, name varchar(5))", "create")
	r = ok_reply(db:query "insert into cats (name) values ('Bob'),(''),(null)", "insert")
	T.eq(r.affected_rows, 3, "three rows inserted")
	T.eq(r.insert_id, 1, "insert_id of the first row")
	T.ok(r.message and r.message:find("Records: 3", 1, true), "insert info message")
	local rows = q(db, "select * from cats order by id asc")
	T.eq(#rows, 3, "three cats")
	T.same(rows[1], { id = 1, name = "Bob" }, "row 1")
	T.same(rows[2], { id = 2, name = "" }, "row 2: empty string")
	T.same(rows[3], { id = 3 }, "row 3: NULL is absent")
end

local function sp_blob(db)
	q(db, "DROP TABLE IF EXISTS `test`")
	q(db, [[CREATE TABLE `test` (
		`id` int(11) NOT NULL AUTO_INCREMENT, `str` varchar(45) COLLATE utf8mb4_bin DEFAULT NULL,
		`dt` timestamp NULL DEFAULT NULL, `flt` double DEFAULT NULL, `blb` mediumblob,
		`num` int(11) DEFAULT NULL, PRIMARY KEY (`id`))
		ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin]])
	q(db, "DROP PROCEDURE IF EXISTS `get_test`")
	q(db, "CREATE PROCEDURE `get_test`(IN p_id int) BEGIN select * from test where id=p_id; END")
	local ins = db:prepare "INSERT test (str,dt,flt,num,blb) VALUES (?,?,?,?,?)"
	T.ok(not ins.badresult, "prepare insert: " .. tostring(ins.err))
	T.eq(ins.param_count, 5, "five parameters")
	T.eq(ins.field_count, 0, "an insert has no fields")
	local call = db:prepare "call get_test(?)"
	local blob = string.char(0xFF, 0x8F, 0x03, 0x04, 0x0a, 0x0b, 0x0d, 0x0e, 0x10, 0x20, 0x30, 0x40)
	local r = ok_reply(db:execute(ins, "test_str", "2020-3-20 15:30:40", 3.1415, 89, blob), "execute insert")
	T.eq(r.affected_rows, 1, "one row")
	T.eq(r.insert_id, 1, "insert_id")
	r = db:execute(call, 1)
	T.ok(r.multiresultset, "CALL gives a result set and a status")
	T.eq(#r, 2, "rows then OK")
	local row = r[1][1]
	T.eq(row.str, "test_str", "str")
	T.eq(row.dt, "2020-03-20 15:30:40", "dt")
	T.eq(row.flt, 3.1415, "flt")
	T.eq(row.num, 89, "num")
	T.eq(row.blb, blob, "blob bytes")
	T.eq(r[2].affected_rows, 0, "CALL status")
	db:stmt_close(ins)
	db:stmt_close(call)
end

local function signed(db)
	q(db, "drop table if exists test_i_u")
	q(db, "create table test_i_u (i tinyint primary key, u tinyint unsigned)")
	q(db, "insert into test_i_u (i,u) values (-1,1),(127,128),(-127,255)")
	local want = { { i = -127, u = 255 }, { i = -1, u = 1 }, { i = 127, u = 128 } }
	T.same(q(db, "select * from test_i_u order by i"), want, "tinyints, text protocol")
	local stmt = db:prepare "SELECT * FROM test_i_u order by i"
	T.same(db:execute(stmt), want, "tinyints, binary protocol")
	db:stmt_close(stmt)
end

local function multi(db)
	local r = db:query "select * from cats order by id asc ; select * from cats where id = 1"
	T.eq(r.multiresultset, true, "multiresultset flag")
	T.eq(#r, 2, "two result sets")
	T.eq(#r[1], 3, "first set")
	T.same(r[2], { { id = 1, name = "Bob" } }, "second set")
	r = db:query "select 1 as a; insert into cats (name) values ('x'); select 2 as b"
	T.eq(#r, 3, "rows, OK, rows")
	T.same(r[1], { { a = 1 } }, "first")
	T.eq(r[2].affected_rows, 1, "OK in the middle")
	T.same(r[3], { { b = 2 } }, "last")
	r = db:query "select 1 as a; select * from no_such_table; select 3"
	T.eq(r.multiresultset, true, "an error after a result set")
	T.eq(r.badresult, true, "badresult on the array")
	T.eq(r.errno, 1146, "errno of the failing statement")
	T.same(r[1], { { a = 1 } }, "the result before the error is kept")
	q(db, "delete from cats where name = 'x'")
end

local function bad_query(db)
	local r = db:query "select * from notexisttable"
	T.eq(r.badresult, true, "badresult")
	T.eq(r.errno, 1146, "errno")
	T.eq(r.sqlstate, "42S02", "sqlstate")
	T.ok(r.err:find("notexisttable", 1, true), "message names the table")
	r = db:query "this is not sql"
	T.eq(r.errno, 1064, "syntax error")
	r = db:prepare "select from where"
	T.eq(r.badresult, true, "prepare error")
	T.eq(r.errno, 1064, "prepare syntax error")
	T.raises("not a prepared statement", db.execute, db, r)
	local stmt = db:prepare "select ? + ?"
	T.raises("takes 2 parameters, got 1", db.execute, db, stmt, 1)
	T.raises("invalid parameter type table", db.execute, db, stmt, 1, {})
	-- still usable after all of that
	T.same(db:execute(stmt, 2, 3), { { ["? + ?"] = 5 } }, "the statement still works")
	db:stmt_close(stmt)
	r = db:execute(stmt, 1, 2)
	T.eq(r.badresult, true, "a closed statement is an error")
	T.eq(r.errno, 1243, "unknown prepared statement handler")
end

local function quoting(db)
	T.eq(mysql.quote_sql_str [[\mysql escape %string test'test"]], [['\\mysql escape %string test\'test\"']],
		"skynet's escape example")
	q(db, "drop table if exists hostile")
	q(db, "create table hostile (id int primary key, v longblob)")
	local all = {}
	for i = 0, 255 do all[#all + 1] = string.char(i) end
	local hostile = {
		"'; DROP TABLE cats; --", "\\", "\\'", "'", '"', "\0", "a\0b", "\26", "\r\n\t\b",
		"\\\\''\"\"", "%_", table.concat(all), string.rep("'\\", 1000), "",
	}
	for i, s in ipairs(hostile) do
		ok_reply(db:query("insert into hostile values (" .. i .. ", " .. mysql.quote_sql_str(s) .. ")"), "insert hostile " .. i)
		local rows = q(db, "select v from hostile where v = " .. mysql.quote_sql_str(s))
		T.eq(#rows, 1, "found by quoted value " .. i)
		T.eq(rows[1].v, s, "round trip of hostile string " .. i)
	end
	T.eq(#q(db, "select * from cats"), 3, "cats survived")
end

local function types(db)
	q(db, "drop table if exists types")
	q(db, [[create table types (
		id int primary key, ti tinyint, tiu tinyint unsigned, si smallint, siu smallint unsigned,
		mi mediumint, miu mediumint unsigned, i int, iu int unsigned, bi bigint, biu bigint unsigned,
		f float, d double, dec1 decimal(10,2), dec2 decimal(30,10),
		dt date, tm time, tm3 time(3), dtm datetime, dtm6 datetime(6), ts timestamp null, yr year,
		ch char(4), vc varchar(20), bl blob, tx text, vb varbinary(10), bt bit(8),
		en enum('a','b'), st set('x','y'), js longtext)]])
	q(db, [[insert into types values (1, -128, 255, -32768, 65535, -8388608, 16777215,
		-2147483648, 4294967295, -9223372036854775808, 18446744073709551615,
		1.5, -2.25, 12345678.91, -0.0000000001,
		'2024-02-29', '-838:59:59', '12:34:56.789', '1999-12-31 23:59:59', '2000-01-01 00:00:00.123456',
		'2038-01-19 03:14:07', 2155,
		'ab', 'héllo wörld', x'00ff10', 'text', x'0001', b'10100101', 'b', 'x,y', '{"k": [1, 2]}')]])
	q(db, [[insert into types (id, tm, dt, dtm, ts) values (2, '00:00:00', '0000-00-00', '0000-00-00 00:00:00', null)]])
	local want1 = {
		id = 1, ti = -128, tiu = 255, si = -32768, siu = 65535, mi = -8388608, miu = 16777215,
		i = -2147483648, iu = 4294967295, bi = math.mininteger, biu = 18446744073709551615.0,
		f = 1.5, d = -2.25, dec1 = 12345678.91, dec2 = -0.0000000001,
		dt = "2024-02-29", tm = "-838:59:59", tm3 = "12:34:56.789", dtm = "1999-12-31 23:59:59",
		dtm6 = "2000-01-01 00:00:00.123456", ts = "2038-01-19 03:14:07", yr = 2155,
		ch = "ab", vc = "héllo wörld", bl = "\0\255\16", tx = "text", vb = "\0\1", bt = "\xa5",
		en = "b", st = "x,y", js = '{"k": [1, 2]}',
	}
	local want2 = { id = 2, tm = "00:00:00", dt = "0000-00-00", dtm = "0000-00-00 00:00:00" }
	local text = q(db, "select * from types order by id")
	T.same(text, { want1, want2 }, "every type, text protocol")
	local stmt = db:prepare "select * from types order by id"
	T.eq(#stmt.fields, 31, "31 fields in the prepared statement")
	T.same(db:execute(stmt), { want1, want2 }, "every type, binary protocol")
	-- parameters of every Lua type, and NULLs among them
	local p = db:prepare "select ? as a, ? as b, ? as c, ? as d, ? as e, ? as f, ? as g, ? as h, ? as i"
	local r = db:execute(p, 7, nil, 2.5, "s", true, false, nil, math.maxinteger, "")
	T.same(r, { { a = 7, c = 2.5, d = "s", e = 1, f = 0, h = math.maxinteger, i = "" } }, "parameters")
	db:stmt_close(p)
	-- compact arrays: rows by column index
	db:set_compact_arrays(true)
	T.same(q(db, "select 1, null, 'x'"), { { 1, nil, "x" } }, "compact text row")
	T.same(db:execute(stmt)[2][1], 2, "compact binary row")
	db:set_compact_arrays(false)
	T.eq(db:stmt_reset(stmt).badresult, nil, "stmt_reset")
	db:stmt_close(stmt)
end

local function big(db)
	q(db, "drop table if exists big")
	q(db, "create table big (id int primary key, b longblob)")
	local parts = {}
	for i = 1, 20 * 1024 do
		parts[i] = string.format("%08d", i) .. string.rep(string.char(i % 256), 1016)
	end
	local blob = table.concat(parts) -- 20 MiB: the request and the replies span several packets
	T.eq(#blob, 20 * 1024 * 1024, "blob size")
	local ins = db:prepare "insert into big values (?, ?)"
	ok_reply(db:execute(ins, 1, blob), "insert 20 MiB by parameter")
	local rows = q(db, "select b, length(b) as n from big where id = 1")
	T.eq(rows[1].n, #blob, "server length")
	T.ok(rows[1].b == blob, "20 MiB back by the text protocol")
	local sel = db:prepare "select b from big where id = ?"
	T.ok(db:execute(sel, 1)[1].b == blob, "20 MiB back by the binary protocol")
	-- exactly one packet's worth (0xffffff bytes) needs an empty packet after it
	local exact = string.rep("z", 0xffffff - 40)
	local sql = "insert into big values (2, '" .. exact .. "')"
	sql = sql .. string.rep(" ", 0xffffff - 1 - #sql) -- with the command byte: 0xffffff
	ok_reply(db:query(sql), "a query of exactly 16 MiB - 1 payload bytes")
	T.eq(q(db, "select length(b) as n from big where id = 2")[1].n, #exact, "stored")
	-- a 20 MiB query string
	ok_reply(db:query("update big set b = " .. mysql.quote_sql_str(blob:sub(1, 10 * 1024 * 1024)) .. " where id = 2"),
		"a 10 MiB quoted literal")
	T.eq(q(db, "select md5(b) as m from big where id = 2")[1].m,
		q(db, "select md5(substr(b, 1, 10485760)) as m from big where id = 1")[1].m, "same bytes")
	db:stmt_close(ins)
	db:stmt_close(sel)
end

local function concurrent(db)
	local stmt = db:prepare "select ? as v, ? * 2 as w"
	local done, n = 0, 8
	local errors = {}
	for c = 1, n do
		skynet.fork(function()
			local ok, err = pcall(function()
				for i = 1, 50 do
					local v = c * 1000 + i
					if i % 2 == 0 then
						T.same(db:execute(stmt, v, v), { { v = v, w = 2 * v } }, "prepared from coroutine " .. c)
					else
						T.same(db:query("select " .. v .. " as v"), { { v = v } }, "query from coroutine " .. c)
					end
				end
			end)
			if not ok then errors[#errors + 1] = err end
			done = done + 1
		end)
	end
	while done < n do skynet.sleep(1) end
	T.eq(#errors, 0, "concurrent callers: " .. tostring(errors[1]))
	db:stmt_close(stmt)
end

local function reconnect(db)
	local before = connects
	local id = q(db, "select connection_id() as id")[1].id
	local killer = open()
	ok_reply(killer:query("kill " .. id), "kill the connection")
	killer:disconnect()
	-- the request in flight when the server hangs up may fail; the next one reconnects
	local newid
	for _ = 1, 50 do
		local ok, rows = pcall(db.query, db, "select connection_id() as id")
		if ok and not rows.badresult then
			newid = rows[1].id
			break
		end
		skynet.sleep(10)
	end
	T.ok(newid and newid ~= id, "a new connection after the kill")
	T.ok(connects > before, "on_connect ran again")
	T.eq(#q(db, "select * from cats"), 3, "the new connection works")
	T.eq(ok_reply(db:ping(), "ping after reconnect").affected_rows, 0, "ping")
end

local function logins()
	local err = T.raises("Access denied", open, { password = "wrong" })
	T.ok(tostring(err):find("1045", 1, true), "errno 1045 in the message: " .. tostring(err))
	T.raises("Access denied", open, { password = "" })
	T.raises("Access denied", open, { user = "nobody" })
	-- a user without a password
	local db = open { user = "nopw", password = "" }
	T.same(q(db, "select current_user() as u"), { { u = "nopw@127.0.0.1" } }, "empty password")
	db:disconnect()
	T.raises("unknown charset", mysql.connect, { host = host, port = port, charset = "klingon" })
	-- nothing listens: the connect fails at once
	T.raises("failed", mysql.connect, { host = host, port = 1, user = user, password = password })
end

T.main("test_mysql", function()
	local db = open()
	T.eq(connects, 1, "on_connect ran")
	T.ok(db:server_ver():find("MariaDB", 1, true), "server version " .. tostring(db:server_ver()))
	local p = ok_reply(db:ping(), "ping")
	T.ok(p.server_status & 2 ~= 0, "autocommit status bit")
	cats(db)
	sp_blob(db)
	signed(db)
	multi(db)
	bad_query(db)
	quoting(db)
	types(db)
	concurrent(db)
	big(db)
	reconnect(db)
	logins()
	db:disconnect()
end)
