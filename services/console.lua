-- console — reads stdin; every line names a service to launch with its
-- arguments ("snax NAME ..." launches a snax service).
local skynet = require "skynet"
local socket = require "skynet.socket"

local function launch(words)
	if words[1] == "snax" then
		local snax = require "skynet.snax"
		return pcall(snax.newservice, table.unpack(words, 2))
	end
	return pcall(skynet.newservice, table.unpack(words))
end

local function main_loop()
	local stdin = socket.stdin()
	while true do
		local line = socket.readline(stdin, "\n")
		if not line then
			break
		end
		local words = {}
		for w in string.gmatch(line, "%S+") do
			words[#words + 1] = w
		end
		if #words > 0 then
			local ok, err = launch(words)
			if not ok then
				skynet.error("console: launch " .. line .. " failed: " .. tostring(err))
			end
		end
	end
end

skynet.start(function()
	skynet.fork(main_loop)
end)
