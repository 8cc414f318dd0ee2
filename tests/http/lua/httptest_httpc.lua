-- httptest_httpc: http.httpc against Python's http.server (started by the
-- runner; its port is the config key httptest_peer_port).
local skynet = require "skynet"
local httpc = require "http.httpc"
local T = require "httptest_lib"
local check = T.check

T.run("httptest_httpc", function()
	local port = T.peer_port()
	local host = "127.0.0.1:" .. port

	-- get, with the response fields
	local rh = {}
	local code, body = httpc.get(host, "/hello", rh)
	check(code == 200 and body == "hello from python", "get", code, body)
	check(rh["x-peer"] == "python", "recvheader", rh["x-peer"])
	-- a name from /etc/hosts (localhost), with the scheme written out
	code, body = httpc.get("http://localhost:" .. port, "/hello")
	check(code == 200 and body == "hello from python", "get via localhost", code)
	-- post: a urlencoded form
	code, body = httpc.post(host, "/form", { name = "a b&c", n = 1 })
	check(code == 200, "post", code)
	check(body:find("^/form|application/x%-www%-form%-urlencoded|None|%d+|"), "post head", body)
	check(body:find("name=a%%20b%%26c", 1, false) and body:find("n=1"), "post body", body)
	-- request with a chunked body from a function
	local pieces = { "one,", "two,", "three" }
	local i = 0
	code, body = httpc.request("PUT", host, "/put", nil, nil, function()
		i = i + 1
		return pieces[i]
	end)
	check(code == 200 and body == "/put|None|chunked|13|one,two,three", "chunked put", body)
	-- a chunked answer, with a trailer
	rh = {}
	code, body = httpc.get(host, "/chunked", rh)
	check(code == 200 and body == "part 1;part 2;part 3;part 4;part 5;", "chunked get", body)
	check(rh["x-sum"] == "5", "trailer field", rh["x-sum"])
	-- an answer delimited by the end of the connection
	code, body = httpc.get(host, "/close")
	check(code == 200 and body == "until the end", "close-delimited", body)
	-- head
	code = httpc.head(host, "/big")
	check(code == 200, "head", code)
	-- redirects are the caller's
	rh = {}
	code = httpc.get(host, "/redirect", rh)
	check(code == 302 and rh.location == "/hello", "redirect", code, rh.location)
	-- request_stream: a 3 MB body in pieces, and a chunked one
	local s = httpc.request_stream("GET", host, "/big")
	check(s.status == 200 and s.header["content-length"] == "3000000", "stream head")
	local total, n = 0, 0
	for piece in s do
		total = total + #piece
		n = n + 1
		if piece == "" then break end
	end
	check(total == 3000000 and n > 1, "stream body", total, n)
	s:close()
	do
		local cs <close> = httpc.request_stream("GET", host, "/chunked")
		local got = {}
		while true do
			local piece = cs:padding()
			if not piece or piece == "" then break end
			got[#got + 1] = piece
		end
		check(table.concat(got) == "part 1;part 2;part 3;part 4;part 5;", "chunked stream", table.concat(got))
		check(cs.header["x-sum"] == "5", "stream trailer")
	end
	-- keep-alive: two requests on one connection (the server sees one port)
	httpc.keepalive = true
	local _, p1 = httpc.get(host, "/port")
	local _, p2 = httpc.get(host, "/port")
	check(p1 == p2, "keep-alive reused the connection", p1, p2)
	httpc.keepalive = false
	local _, p3 = httpc.get(host, "/port")
	local _, p4 = httpc.get(host, "/port")
	check(p3 ~= p4, "without keep-alive a new connection", p3, p4)
	-- timeout: the server takes 3 s, we wait 0.5 s
	httpc.timeout = 50
	local t0 = skynet.now()
	T.raises("timeout", function() httpc.get(host, "/slow") end)
	check(skynet.now() - t0 < 200, "timeout took", skynet.now() - t0)
	-- a closed port: connect fails with an error, not a hang
	T.raises("connect failed", function() httpc.get("127.0.0.1:1", "/") end)
	httpc.timeout = nil
	-- a name nobody knows: the resolver's error
	T.raises("bad host name", function() httpc.get("bad_name!", "/") end)
	code, body = httpc.get(host, "/hello")
	check(code == 200, "still works")
end)
