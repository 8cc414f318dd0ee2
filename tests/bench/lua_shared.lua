-- Shared config data: one config of 40,000 records read by 100 services.
-- For sharetable, sharedata and (as the reference) a private copy sent to each
-- reader: RSS growth per reader after it queried the config and read 100
-- records; and the cost of a field read through a shared table against a
-- plain Lua table (hot: fields read before; cold: each field's first read).
local skynet = require "skynet"
local sharetable = require "skynet.sharetable"
local sharedata = require "skynet.sharedata"
local B = require "lua_benchlib"

local RECORDS = B.n(40000)
local READERS = math.max(2, B.n(tonumber(skynet.getenv "bench_readers") or 100))

local function config()
	local t = {}
	for i = 1, RECORDS do
		t[i] = { id = i, name = "item" .. i, level = i % 100, price = i * 1.5,
			tags = { "t" .. (i % 7), "t" .. (i % 11) } }
	end
	return t
end

local function readers(mode)
	local list = {}
	for i = 1, READERS do
		list[i] = skynet.newservice("lua_shared_reader", mode, RECORDS)
	end
	return list
end

local function settle()
	collectgarbage "collect"
	skynet.sleep(20)
end

local function per_reader(mode, start)
	local list = readers(mode)
	settle()
	local before = B.rss_kib()
	local heap = 0
	B.parallel(READERS, function(i)
		local h = skynet.call(list[i], "lua", "read", start)
		heap = heap + h
	end)
	settle()
	local after = B.rss_kib()
	-- wait until every reader is gone: memory they free must not land in the
	-- next round's measurement (the call fails when the reader exits)
	B.parallel(READERS, function(i)
		pcall(skynet.call, list[i], "lua", "exit")
	end)
	settle()
	return (after - before) / READERS, heap / READERS
end

local function report(mode, note)
	local rss, heap = per_reader(mode)
	B.report("shared_rss_per_reader_" .. mode, rss, "KiB", note)
	B.report("shared_heap_per_reader_" .. mode, heap, "KiB", "(the reader's Lua heap growth: query + 100 records read)")
end

B.main(function()
	local data = config()
	-- the reference readers ask for a private copy of the whole config here
	require "skynet.manager"
	skynet.register ".shared_copy"
	skynet.dispatch("lua", function() skynet.retpack(data) end)
	sharetable.loadtable("items", data)
	sharedata.new("items", data)
	skynet.error("config of " .. RECORDS .. " records loaded")

	-- a first round warms the allocator up; its figure is not reported
	per_reader("sharedata")
	report("sharetable", "(" .. READERS .. " readers of " .. RECORDS .. " records, 100 read each)")
	report("sharedata", "(same)")
	report("copy", "(reference: each reader gets its own private copy)")

	-- read cost: the same 3 fields of 1,000 records, many times
	local shared = sharetable.query "items"
	local function bench(t, rounds)
		local sum = 0
		local t0 = B.clock()
		for _ = 1, rounds do
			for i = 1, 1000 do
				local r = t[i]
				sum = sum + r.level + r.id + #r.name
			end
		end
		return (B.clock() - t0) / (rounds * 1000 * 4) * 1e9, sum
	end
	local rounds = math.max(1, B.n(200))
	bench(shared, 1) -- the first pass caches
	local ns_shared = bench(shared, rounds)
	local ns_plain = bench(data, rounds)
	B.report("shared_read_hot_ns", ns_shared, "ns", "(a field of a sharetable, read before)")
	B.report("plain_read_ns", ns_plain, "ns", "(the same fields of a plain Lua table)")
	B.report("shared_read_ratio", ns_shared / ns_plain, "x", "(goal: at most 3x)")
	-- first reads: every record once, through a fresh service-side table
	sharetable.loadtable("items2", data)
	local cold = sharetable.query "items2"
	local t0 = B.clock()
	local sum = 0
	for i = 1, RECORDS do
		local r = cold[i]
		sum = sum + r.level + r.id + #r.name
	end
	B.report("shared_read_cold_ns", (B.clock() - t0) / (RECORDS * 4) * 1e9, "ns",
		"(first read of each field: the C lookup and the copy into the service)")
end)
