-- skynet.console.gate — who may run what on the debug console's HTTP side.
-- Pure Lua (http.admin and the command table, no skynet): the transport
-- (services/debug_console.lua) calls it for every request before anything
-- runs, and tests/fuzz/fuzz_console.c runs it on arbitrary request heads.
--
-- gate.verdict(req, policy) -> 200, command line (GET) or 200, nil (POST: the
-- line is the body) or 200, nil, file (GET of the dashboard's static files:
-- "/" is index.html, "/ui/<name>" the file <name>; they hold no secret, so no
-- token is asked, but Host and Origin are checked), or an error status and a
-- one-line reason.
--   req: from http.admin.read_request.
--   policy: token, equal(a, b), port, hosts (extra Host names), readonly(name),
--     known(name) (true for a command that exists: an unknown one may come by
--     GET and get its "Invalid command"), local_socket (true on the Unix
--     socket, where the file's permissions authenticate: no Host, Origin or
--     token check).
-- Rules (docs/console.md): Host naming the console, no foreign Origin, the
-- bearer token; GET runs read-only commands only; every other command is a
-- POST of Content-Type application/x-skiff-command (which no HTML form or
-- simple cross-site request can send) with a Content-Length up to BODY_MAX.
local admin = require "http.admin"
local commands = require "skynet.console.commands"

local gate = {}

gate.BODY_MAX = 65536
gate.COMMAND_TYPE = "application/x-skiff-command"

-- The command line a GET path names: "/json/getenv/x" -> "json getenv x".
function gate.path_command(target)
	return table.concat(admin.path_words(target), " ")
end

-- The dashboard file a GET path names, or nil: "/" -> "index.html",
-- "/ui/app.js" -> "app.js" (a plain name: no folders, no dots but the one
-- before the extension).
function gate.static_file(target)
	local path = string.match(target, "^[^?#]*")
	if path == "/" then
		return "index.html"
	end
	return string.match(path, "^/ui/([%w_%-]+%.%a+)$")
end

function gate.verdict(req, policy)
	local h = req.header
	if req.method == "GET" and not policy.local_socket then
		local file = gate.static_file(req.target)
		if file then
			local status, reason = admin.same_site(req, policy)
			if status then
				return status, reason
			end
			return 200, nil, file
		end
	end
	if not policy.local_socket then
		local status, reason = admin.guard(req, policy)
		if status then
			return status, reason
		end
	end
	if req.method == "GET" then
		local line = gate.path_command(req.target)
		local words = commands.split_words(line)
		local name = words[1] == "json" and words[2] or words[1]
		if name ~= nil and not policy.readonly(name) and policy.known(name) then
			return 405, string.format("%s changes the node: use POST with Content-Type: %s", name, gate.COMMAND_TYPE)
		end
		return 200, line
	elseif req.method == "POST" then
		local ctype = h["content-type"]
		ctype = type(ctype) == "string" and string.lower(string.match(ctype, "^[^;]*")) or nil
		if ctype == nil or string.match(ctype, "^%s*(.-)%s*$") ~= gate.COMMAND_TYPE then
			return 415, "POST needs Content-Type: " .. gate.COMMAND_TYPE
		end
		local n = h["content-length"]
		if type(n) ~= "string" or not string.match(n, "^%d+$") or #n > 15 or h["transfer-encoding"] ~= nil then
			return 411, "POST needs Content-Length"
		end
		if tonumber(n) > gate.BODY_MAX then
			return 413, "command body too large"
		end
		return 200, nil
	end
	return 405, "only GET (read-only commands) and POST"
end

return gate
