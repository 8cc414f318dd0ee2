-- Captured locals (upvalues) in functions with many of them: the patched Lua
-- indexes a thread's open upvalues by stack slot once a capture walks past a
-- few of them. Every closure over one variable must share it while its frame
-- runs and after, through loops, coroutines, errors, stack growth and the
-- collector.
local t = require "luac_t"

local N = 60 -- locals per generated function: well past the index's threshold

-- Source of a function with N locals v1..vN = 1..N, whose closures get and
-- set each of them (captured from the highest slot down, then the lowest up,
-- so both the walk and the index make new upvalues), which calls
-- `mid(set, get, locals)` while every upvalue is open, then reads its locals.
local function many_locals_source()
	local src = { "local mid = ...\nreturn function()\n" }
	for i = 1, N do
		src[#src + 1] = ("local v%d = %d\n"):format(i, i)
	end
	src[#src + 1] = "local get, set = {}, {}\n"
	for i = N, 1, -2 do
		src[#src + 1] = ("get[%d] = function() return v%d end\n"):format(i, i)
	end
	for i = 1, N do
		src[#src + 1] = ("set[%d] = function(x) v%d = x end\n"):format(i, i)
	end
	for i = N - 1, 1, -2 do
		src[#src + 1] = ("get[%d] = function() return v%d end\n"):format(i, i)
	end
	src[#src + 1] = "local locals = function() return {"
	for i = 1, N do
		src[#src + 1] = ("v%d,"):format(i)
	end
	src[#src + 1] = "} end\nmid(set, get, locals)\nlocal direct = {"
	for i = 1, N do
		src[#src + 1] = ("v%d,"):format(i)
	end
	src[#src + 1] = "}\nreturn get, set, locals, direct\nend\n"
	return table.concat(src)
end

local function check_shared(get, set, locals, bias, what)
	for i = 1, N do
		set[i](i * 10 + bias)
	end
	local seen = locals and locals()
	for i = 1, N do
		t.eq(get[i](), i * 10 + bias, what .. ": get sees set, v" .. i)
		if seen then
			t.eq(seen[i], i * 10 + bias, what .. ": the frame's own local v" .. i)
		end
	end
end

t.run("upvalues", function()
	local make = assert(load(many_locals_source(), "=many_locals"))

	-- open, then closed: one variable per local, shared by its closures and the frame
	local f = make(function(set, get, locals)
		check_shared(get, set, locals, 1, "open")
		collectgarbage()
		check_shared(get, set, locals, 2, "open, after a full collection")
	end)
	local get, set, locals, direct = f()
	for i = 1, N do
		t.eq(direct[i], i * 10 + 2, "the frame read v" .. i .. " as its closures left it")
	end
	check_shared(get, set, locals, 3, "closed")
	local get2, set2 = f() -- a second call: new variables, not the first call's
	check_shared(get2, set2, nil, 4, "second call")
	t.eq(get[1](), 13, "the first call's variables are its own")

	-- a fresh variable per loop iteration, closed at the end of each one
	local function loop()
		local a1, a2, a3, a4, a5, a6, a7, a8, a9, a10 = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
		local keep = function() return a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 end
		local fs = {}
		for i = 1, 50 do
			local x = i
			fs[i] = function(d) x = x + (d or 0); return x end
			if i % 7 == 0 then
				collectgarbage("step")
			end
		end
		return keep, fs
	end
	local keep, fs = loop()
	t.eq(keep(), 55, "the function's own captures")
	for i = 1, 50 do
		t.eq(fs[i](1), i + 1, "iteration " .. i .. " has its own x")
	end

	-- a closure dropped while its variable is open: capturing again shares it
	local function drop_and_recapture()
		local b = {}
		for i = 1, 20 do
			b[i] = i
		end
		local u1, u2, u3, u4, u5, u6, u7, u8, u9, u10, u11, u12 = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
		local all = function() return u1, u2, u3, u4, u5, u6, u7, u8, u9, u10, u11, u12 end
		local w = function(x) u1 = x end
		all, w = nil, nil
		collectgarbage()
		collectgarbage()
		local r = function() return u1 end
		local w2 = function(x) u1 = x end
		w2(99)
		t.eq(u1, 99, "the frame sees a write through a recaptured variable")
		t.eq(r(), 99, "two new closures share it")
		return r, #b
	end
	local r = drop_and_recapture()
	t.eq(r(), 99, "closed with its last value")

	-- coroutines: open across yields and collections; closed by coroutine.close;
	-- collected while open when nothing refers to the coroutine any more
	local co = coroutine.create(function()
		local inner = make(function(set, get, locals)
			coroutine.yield(set, get, locals)
			check_shared(get, set, locals, 5, "in a resumed coroutine")
			coroutine.yield()
		end)
		inner()
	end)
	local ok, cset, cget, clocals = coroutine.resume(co)
	t.ok(ok, "coroutine started")
	collectgarbage("generational")
	collectgarbage()
	check_shared(cget, cset, nil, 6, "a suspended coroutine's open variables")
	t.ok(coroutine.resume(co), "resumed")
	t.ok(coroutine.close(co), "closed")
	check_shared(cget, cset, nil, 7, "closed by coroutine.close")
	collectgarbage("incremental")
	for _ = 1, 20 do
		local dead = coroutine.create(function()
			make(function() coroutine.yield() end)()
		end)
		coroutine.resume(dead)
	end
	collectgarbage()
	collectgarbage()

	-- an error unwinds the frame: its variables close with their last values
	local kept
	local okerr, err = pcall(make(function(set, get)
		set[5]("five")
		kept = get
		error("unwind")
	end))
	t.ok(not okerr and err:find("unwind"), "the error came through")
	t.eq(kept[5](), "five", "closed by the error")

	-- the stack grows (and moves) while the index exists
	local function deep(n)
		if n == 0 then
			return 0
		end
		return 1 + deep(n - 1)
	end
	local g3, s3 = make(function(set, get, locals)
		t.eq(deep(5000), 5000, "deep recursion")
		check_shared(get, set, locals, 8, "after the stack moved")
	end)()
	check_shared(g3, s3, nil, 9, "closed after the stack moved")
end)
