-- http.httpd — the server half of HTTP/1.1 on any read/write functions
-- (sockethelper's for plain sockets).
--
-- httpd.read_request(readbytes [, bodylimit [, writefunc]])
--   -> 200, target, method, header, body, version
--   -> an error status (400, 413, 501, 505) and a reason: answer it and close
--   -> nil, err when reading failed (err == sockethelper.socket_error: the
--      peer went away) — then there is nothing to answer.
--   Header names are lower-case; a repeated field gives a list.  Bodies
--   come whole, de-chunked (trailer fields join the header).  With
--   writefunc, a client waiting on "Expect: 100-continue" is told to go on.
--   Bytes that arrived after the request (pipelining) are kept for the next
--   read_request on the same readfunc.
-- httpd.write_response(writefunc, status [, body [, header]]) -> ok, err
--   body: string (Content-Length), function returning pieces then nil
--   (chunked), or nil.  Never raises: a failed write is ok == false.
-- httpd.keepalive(header, version): whether to read another request.
local internal = require "http.internal"

local httpd = {}

httpd.STATUS = internal.STATUS

local function readall(readbytes, bodylimit, writefunc)
	local expect
	if writefunc then
		expect = function()
			writefunc("HTTP/1.1 100 Continue\r\n\r\n")
		end
	end
	local code, url, method, header, body, version, rest = internal.readrequest(readbytes, bodylimit, expect)
	if code ~= 200 then
		return code, url
	end
	internal.unread(readbytes, rest)
	return 200, url, method, header, body, version
end

function httpd.read_request(readbytes, bodylimit, writefunc)
	local ok, code, url, method, header, body, version = pcall(readall, readbytes, bodylimit, writefunc)
	if ok then
		return code, url, method, header, body, version
	end
	return nil, code
end

function httpd.write_response(writefunc, status, body, header)
	return pcall(internal.writeresponse, writefunc, status, body, header)
end

httpd.keepalive = internal.keepalive

return httpd
