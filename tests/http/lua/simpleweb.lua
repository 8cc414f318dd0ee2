-- simpleweb: the shape of skynet's examples/simpleweb.lua, written for these
-- tests: a listener hands each connection to one of 20 agent services in
-- turn; an agent reads one request (body limit 8192), answers with what it
-- saw (host, path, query fields, header fields, body) and closes.  The port
-- is chosen at run time instead of the example's 8001.
local skynet = require "skynet"
local socket = require "skynet.socket"
local httpd = require "http.httpd"
local sockethelper = require "http.sockethelper"
local urllib = require "http.url"

local mode = ...

if mode == "agent" then
	local function answer(id, write, ...)
		local ok, err = httpd.write_response(write, ...)
		if not ok then
			skynet.error(string.format("fd = %d, %s", id, err))
		end
	end

	local function describe(url, header, body)
		local out = {}
		if header.host then
			out[#out + 1] = "host: " .. header.host
		end
		local path, query = urllib.parse(url)
		out[#out + 1] = "path: " .. path
		if query and query ~= "" then
			for k, v in pairs(urllib.parse_query(query)) do
				out[#out + 1] = string.format("query: %s= %s", k, v)
			end
		end
		out[#out + 1] = "-----header----"
		for k, v in pairs(header) do
			out[#out + 1] = string.format("%s = %s", k, v)
		end
		out[#out + 1] = "-----body----\n" .. body
		return table.concat(out, "\n")
	end

	skynet.start(function()
		skynet.dispatch("lua", function(_, _, id)
			socket.start(id)
			local read, write = sockethelper.readfunc(id), sockethelper.writefunc(id)
			local code, url, method, header, body = httpd.read_request(read, 8192)
			if code then
				if code ~= 200 then
					answer(id, write, code)
				else
					answer(id, write, code, describe(url, header, body))
				end
			elseif url == sockethelper.socket_error then
				skynet.error("socket closed")
			else
				skynet.error(url)
			end
			socket.close(id)
		end)
	end)
else
	skynet.start(function()
		local agents = {}
		for i = 1, 20 do
			agents[i] = skynet.newservice(SERVICE_NAME, "agent")
		end
		local next_agent = 1
		local id, _, port = socket.listen("127.0.0.1", 0)
		skynet.error(string.format("Listen web port %d protocol:http", port))
		socket.start(id, function(fd, addr)
			skynet.error(string.format("%s connected, pass it to agent :%08x", addr, agents[next_agent]))
			skynet.send(agents[next_agent], "lua", fd)
			next_agent = next_agent % #agents + 1
		end)
		skynet.error("HTTPTEST READY " .. port)
	end)
end
