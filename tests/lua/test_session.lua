-- Session rewind protection: a new session never reuses one still in use.
-- Waiting for the C counter to wrap (2^31 sessions) would take minutes, so the
-- test reaches into skynet.lua's scheduler state (debug upvalues) to mark
-- sessions just ahead of the counter as busy, as they would be after a wrap,
-- and checks that allocation steps over them.
local skynet = require "skynet"
local T = require "testlib"

local function upvalue(f, name)
	for i = 1, 255 do
		local n, v = debug.getupvalue(f, i)
		if n == nil then break end
		if n == name then return v, i end
	end
	error("no upvalue " .. name)
end

T.main("test_session", function()
	local guard = upvalue(skynet.genid, "session_guard")
	local busy = upvalue(guard, "session_id_coroutine")
	local _, safe_idx = upvalue(skynet.genid, "safe_until")
	local function force_check() debug.setupvalue(skynet.genid, safe_idx, 0) end

	local s0 = skynet.genid()
	busy[s0 + 1] = "BREAK"
	busy[s0 + 2] = "BREAK"
	busy[s0 + 4] = "BREAK"
	force_check()
	local s1 = skynet.genid()
	T.eq(s1, s0 + 3, "skipped two busy sessions")
	local s2 = skynet.genid()
	T.eq(s2, s0 + 5, "skipped the next busy one")
	local s3 = skynet.genid()
	T.eq(s3, s0 + 6, "free run afterwards")

	-- calls and timers go through the same guard
	local e = skynet.newservice "t_echo"
	local base = skynet.genid()
	busy[base + 1] = "BREAK"
	force_check()
	local session = skynet.call(e, "lua", "context")
	T.eq(session, base + 2, "call skipped a busy session")
	busy[base + 3] = "BREAK"
	force_check()
	skynet.sleep(1) -- allocates base + 4 for its timer
	T.eq(skynet.genid(), base + 5, "sleep skipped a busy session")

	-- the busy markers were never answered: clear them
	for _, s in ipairs { s0 + 1, s0 + 2, s0 + 4, base + 1, base + 3 } do
		busy[s] = nil
	end
	T.eq(skynet.call(e, "lua", "echo", "ok"), "ok", "normal service afterwards")
end)
