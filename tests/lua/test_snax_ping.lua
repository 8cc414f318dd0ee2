-- snax: newservice, req/post, an error through req, hotfix keeping state,
-- the profile through debug INFO, exit through a post.  run_test.py checks
-- the printed lines against test_snax_ping.expect.
local skynet = require "skynet"
local snax = require "skynet.snax"
local T = require "testlib"

local PATCH <const> = [[
local i
local hello

function accept.hello()
	i = i + 1
	print("fix", i, hello)
end

function hotfix(...)
	local before = i
	i = 100
	return before
end
]]

T.main("test_snax_ping", function()
	skynet.trace()
	local ps = snax.newservice("pingserver", "hello world")
	T.eq(tostring(ps), string.format("[pingserver:%x]", ps.handle), "object name")
	print(ps.req.ping("foobar"))
	print(ps.post.hello())
	print(pcall(ps.req.error))
	print("Hotfix (i) :", snax.hotfix(ps, PATCH))
	print(ps.post.hello())
	T.eq(ps.req.count(), 101, "the patched hello shares the service's i")

	local info = skynet.call(ps.handle, "debug", "INFO")
	local names = {}
	for name in pairs(info) do
		names[#names + 1] = name
	end
	table.sort(names)
	for _, name in ipairs(names) do
		local v = info[name]
		print(string.format("%s\tcount:%d time:%f", name, v.count, v.time))
	end
	T.same(snax.profile_info(ps).hello.count, 2, "profile through the system call")

	-- what a patch may not do; the service keeps running
	T.raises("patch mismatch", snax.hotfix, ps, "function accept.nosuch() end")
	T.raises("patch:1:", snax.hotfix, ps, "function accept.hello(")
	T.raises("no exist", function() return ps.req.nosuch end)
	T.raises("no exist", function() return ps.post.ping end)
	T.eq(ps.req.count(), 101, "alive after refused patches")

	-- a patch's local function reaches the service's locals through the
	-- patched method; a patch's hotfix that raises makes snax.hotfix raise
	T.eq(snax.hotfix(ps, [[
local i
local function current() return i end
function response.count() return current() end
function hotfix(k) return k * 2 end
]], 21), 42, "the patch's hotfix results")
	T.eq(ps.req.count(), 101, "a patch's local function sees the service's i")
	T.raises("patch refused", snax.hotfix, ps, "function hotfix() error('patch refused') end")

	local self_class = snax.interface("pingserver")
	T.eq(self_class.system.init, 1, "system ids come first")
	T.ok(self_class.accept.sleep and self_class.response.ping, "interface lists methods")

	-- snax.enablecluster: the same methods answer "lua" messages
	T.eq(skynet.call(ps.handle, "lua", self_class.response.ping, "over lua"), "over lua", "lua dispatch")

	print(ps.post.exit("exit"))
	T.eventually(function()
		return not pcall(skynet.call, ps.handle, "snax", self_class.response.count)
	end, "the service exited")
end)
