-- pingserver: the snax service the snax tests drive (ping with a delay,
-- a lock shared by accept.sleep and accept.hello, an error, exit).
local skynet = require "skynet"
local queue = require "skynet.queue"
local snax = require "skynet.snax"

local i = 0
local hello = "hello"
local lock -- made in init: the interface pass has no real require

function response.ping(what)
	skynet.sleep(100)
	return what
end

-- queued: take the lock, so hellos posted after it wait for the sleep
function accept.sleep(queued, ticks)
	local function nap()
		print("queue=", queued, ticks)
		skynet.sleep(ticks)
	end
	if queued then
		lock(nap)
	else
		nap()
	end
end

function accept.hello()
	lock(function()
		i = i + 1
		print(i, hello)
	end)
end

function response.count()
	return i
end

function accept.exit(...)
	snax.exit(...)
end

function response.error()
	error "throw an error"
end

function init(...)
	print("ping server start:", ...)
	snax.enablecluster()
	lock = queue()
end

function exit(...)
	print("ping server exit:", ...)
end
