-- testlib — the one assertion library of Skiff's Lua tests (every suite).
-- A test is a service; T.main(name, fn) runs fn as its start function.  The
-- node's stdout then gets "TEST PASS <name>" when fn returns, or
-- "TEST FAIL <name>: <error>" when it raises, and the node aborts so the
-- runner (run_test.py) sees the verdict and the exit.  The verdict goes to
-- stdout directly as well as to the log: an abort may drop queued log lines.
-- Suites whose runners read another verdict word get the same functions
-- through T.suite(word, opts) (tests/luac/luac_t.lua, tests/cluster/cltest.lua).
local skynet = require "skynet"
require "skynet.manager"

local T = {}

local function verdict(line)
	io.stdout:write(line, "\n")
	io.stdout:flush()
	skynet.error(line)
end

function T.finish(line)
	verdict(line)
	skynet.sleep(5) -- let the logger drain
	skynet.abort()
end

function T.main(name, fn)
	skynet.start(function()
		skynet.fork(function()
			local ok, err = xpcall(fn, debug.traceback)
			if ok then
				T.finish("TEST PASS " .. name)
			else
				T.finish("TEST FAIL " .. name .. ": " .. tostring(err))
			end
		end)
	end)
end

function T.eq(got, want, what)
	if got ~= want then
		error(string.format("%s: want %s, got %s", what or "value", tostring(want), tostring(got)), 2)
	end
end

-- check(cond, ...): the extra arguments, joined by spaces, say what failed.
function T.check(cond, ...)
	if not cond then
		local parts = { "check failed:" }
		for i = 1, select("#", ...) do
			parts[#parts + 1] = tostring((select(i, ...)))
		end
		error(table.concat(parts, " "), 2)
	end
	return cond
end

function T.ok(cond, what)
	if not cond then
		error("assertion failed: " .. tostring(what), 2)
	end
	return cond
end

-- Expect f(...) to raise an error whose text contains `pattern` (plain).
-- The pattern names the error meant: an empty one would accept any error,
-- a typo in the test included, so it is refused.
function T.raises(pattern, f, ...)
	if type(pattern) ~= "string" or pattern == "" then
		error("T.raises needs the text of the error it expects", 2)
	end
	local ok, err = pcall(f, ...)
	if ok then
		error("expected an error matching '" .. pattern .. "', got success", 2)
	end
	if not string.find(tostring(err), pattern, 1, true) then
		error("expected an error matching '" .. pattern .. "', got: " .. tostring(err), 2)
	end
	return err
end

-- Expect f(...) to raise an error whose text starts with `prefix`.
function T.fails(prefix, f, ...)
	if type(prefix) ~= "string" or prefix == "" then
		error("T.fails needs the start of the error it expects", 2)
	end
	local ok, err = pcall(f, ...)
	err = tostring(err)
	if ok or err:sub(1, #prefix) ~= prefix then
		error("expected an error starting with '" .. prefix .. "', got: " ..
			(ok and "success" or err), 2)
	end
	return err
end

-- Poll pred() every centisecond until it holds (default: up to 5 s). Use it
-- for outcomes that depend on other services getting scheduled, so a loaded
-- machine slows the test down instead of failing it.
function T.eventually(pred, what, timeout_cs)
	local deadline = skynet.now() + (timeout_cs or 500)
	while not pred() do
		if skynet.now() > deadline then
			error("timed out waiting for: " .. tostring(what), 2)
		end
		skynet.sleep(1)
	end
end

-- Deep compare of plain tables.
-- Runs fn(i) for i = 1..n, each in its own fork (n requests in flight at
-- once), and returns when all have returned; if any raised, raises the first
-- error then.
function T.parallel(n, fn)
	local me = coroutine.running()
	local left, failure = n, nil
	for i = 1, n do
		skynet.fork(function()
			local ok, err = xpcall(fn, debug.traceback, i)
			if not ok and failure == nil then
				failure = err
			end
			left = left - 1
			if left == 0 then
				skynet.wakeup(me)
			end
		end)
	end
	skynet.wait(me)
	if failure ~= nil then
		error(failure, 0)
	end
end

function T.same(a, b, what)
	local function same(x, y)
		if type(x) ~= "table" or type(y) ~= "table" then return x == y end
		for k, v in pairs(x) do if not same(v, y[k]) then return false end end
		for k in pairs(y) do if x[k] == nil then return false end end
		return true
	end
	if not same(a, b) then
		error(string.format("%s: tables differ", what or "value"), 2)
	end
end

-- Resident set size of the node, in KiB (Linux).
function T.rss_kib()
	local f = io.open("/proc/self/status")
	if not f then return nil end
	for line in f:lines() do
		local kb = string.match(line, "^VmRSS:%s+(%d+)")
		if kb then
			f:close()
			return tonumber(kb)
		end
	end
	f:close()
end

-- The same functions, with run(name, body): body runs as the start function
-- and the verdict is logged as "<word> PASS <name>" or "<word> FAIL <name>: why";
-- opts.abort stops the node after the verdict.
function T.suite(word, opts)
	local S = setmetatable({}, { __index = T })
	function S.run(name, body)
		skynet.start(function()
			local ok, err = xpcall(body, debug.traceback)
			if ok then
				skynet.error(word .. " PASS " .. name)
			else
				skynet.error(word .. " FAIL " .. name .. ": " .. tostring(err))
			end
			if opts and opts.abort then
				skynet.sleep(1) -- let the logger print
				skynet.abort()
			end
		end)
	end
	return S
end

return T
