-- skynet.sharemap: a sproto-typed record written by one service, read by
-- another through skynet.stm; readers see a commit only after update().
-- (The steps of skynet's own sharemap test script, checked by assertions.)
local skynet = require "skynet"
local sharemap = require "skynet.sharemap"
local T = require "testlib"

T.main("test_sharemap", function()
	local path = os.tmpname()
	local f = assert(io.open(path, "w"))
	f:write(".player {\n\tlevel 0 : integer\n\tgold 1 : integer\n\tname 2 : string\n}\n")
	f:close()
	sharemap.register(path)
	os.remove(path)

	local reader = skynet.newservice("t_shared_reader")
	local w = sharemap.writer("player", { level = 1, gold = 0, name = "ann" })
	T.eq(w.level, 1, "the writer reads its own fields")
	skynet.call(reader, "lua", "smap_init", "player", w:copy())
	T.same({ skynet.call(reader, "lua", "smap_read") }, { false, 1, 0, "ann" }, "the first commit, read at init")

	w.gold = 50
	T.same({ skynet.call(reader, "lua", "smap_read") }, { false, 1, 0, "ann" }, "no commit: nothing changes")
	w:commit()
	T.same({ skynet.call(reader, "lua", "smap_peek") }, { 1, 0, "ann" }, "a commit is not seen before update()")
	T.same({ skynet.call(reader, "lua", "smap_read") }, { true, 1, 50, "ann" }, "after update()")
	T.same({ skynet.call(reader, "lua", "smap_read") }, { false, 1, 50, "ann" }, "one update per commit")

	w.level, w.name = 2, "bob"
	w:commit()
	w.gold = 70
	w:commit()
	T.same({ skynet.call(reader, "lua", "smap_read") }, { true, 2, 70, "bob" }, "the newest of two commits")
	T.same({ skynet.call(reader, "lua", "smap_write") }, { false }, "a reader's fields are read-only")
	T.raises("type not found: no_such_type", sharemap.writer, "no_such_type", {})
end)
