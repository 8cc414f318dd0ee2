-- httptest_https: http.httpc over TLS against Python's http.server wrapped
-- in ssl (the runner's self-signed certificate for localhost/127.0.0.1).
local skynet = require "skynet"
local httpc = require "http.httpc"
local T = require "httptest_lib"
local check = T.check

T.run("httptest_https", function()
	local port = T.peer_port()
	local host = "https://localhost:" .. port
	-- as skynet: any certificate accepted when no CA file is given
	local code, body = httpc.get(host, "/hello")
	check(code == 200 and body == "hello from python", "https get", code, body)
	-- with the CA file: checked, name included
	httpc.cafile = skynet.getenv "httptest_cafile"
	local rh = {}
	code, body = httpc.get(host, "/chunked", rh)
	check(code == 200 and body == "part 1;part 2;part 3;part 4;part 5;" and rh["x-sum"] == "5", "https chunked", body)
	code, body = httpc.post(host, "/form", { a = "b" })
	check(code == 200 and body:find("a=b$"), "https post", body)
	local i = 0
	code, body = httpc.request("PUT", host, "/put", nil, nil, function()
		i = i + 1
		return i <= 3 and string.rep("z", 10000) or nil
	end)
	check(code == 200 and body:find("^/put|None|chunked|30000|"), "https chunked put", body:sub(1, 40))
	local s <close> = httpc.request_stream("GET", host, "/big")
	local total = 0
	for piece in s do
		if piece == "" then break end
		total = total + #piece
	end
	check(total == 3000000, "https stream", total)
	httpc.keepalive = true
	local _, p1 = httpc.get(host, "/port")
	local _, p2 = httpc.get(host, "/port")
	check(p1 == p2, "https keep-alive", p1, p2)
	httpc.keepalive = false
	-- a CA that did not sign the server's certificate: refused
	httpc.cafile = skynet.getenv "httptest_othercafile"
	T.raises("certificate", function() httpc.get(host, "/hello") end)
	-- plain http to the TLS port fails: the server's TLS handshake refuses the
	-- request and closes (the timeout only bounds the test if it did not)
	httpc.cafile = nil
	httpc.timeout = 200
	T.raises("[Socket Error]", function() httpc.get("http://127.0.0.1:" .. port, "/hello") end)
	httpc.timeout = nil
	code = httpc.get(host, "/hello")
	check(code == 200, "still works")
end)
