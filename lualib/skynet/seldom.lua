-- skynet.seldom — the parts of skynet's API an agent rarely calls: deferred
-- replies (skynet.response, skynet.context), unique services
-- (uniqueservice, queryservice), raw and redirected sends, tracecall, local
-- name queries, setenv, the STAT commands and term.  Stock Lua gives every
-- state its own copy of every prototype it loads, so each function kept out
-- of skynet.lua is ~0.4 KiB less in every service that never calls it (a
-- game node holds one idle agent per player); a service that does call one
-- loads this file once (~9 KiB).  skynet.lua installs these on the first
-- access to any of their names and hands over the scheduler internals they
-- need; the invariants are skynet.lua's (its header).
local c = require "skynet.core"

local M = {}

function M.init(skynet, I)
	local proto = I.proto
	local request_session = I.request_session
	local request_source = I.request_source
	local unresponse = I.unresponse
	local running_thread = I.running_thread
	local request = I.request
	local handle_error = I.handle_error
	local c_send = c.send
	local PTYPE_RESPONSE = skynet.PTYPE_RESPONSE
	local PTYPE_ERROR = skynet.PTYPE_ERROR

	-----------------------------------------------------------------------
	-- Deferred replies

	function skynet.context()
		local co = running_thread()
		return request_session[co], request_source[co]
	end

	local function no_response() end

	function skynet.response(pack)
		pack = pack or skynet.pack
		local co = running_thread()
		local session = request_session[co]
		if session == nil then error "No session" end
		request_session[co] = nil
		if session == 0 then return no_response end
		local address = request_source[co]
		local used = false
		local resp
		resp = function(ok, ...)
			if ok == "TEST" then
				return unresponse[resp] ~= nil
			end
			if used then error "Can't response more than once" end
			used = true
			if unresponse[resp] == nil then
				-- the requester died (or we are exiting): nobody to answer
				return false
			end
			unresponse[resp] = nil
			local ret
			if ok then
				ret = c_send(address, PTYPE_RESPONSE, session, pack(...))
				if ret == false then
					c_send(address, PTYPE_ERROR, session, "")
				end
			else
				ret = c_send(address, PTYPE_ERROR, session, "")
			end
			return ret ~= nil and ret ~= false
		end
		unresponse[resp] = address
		return resp
	end

	-----------------------------------------------------------------------
	-- Sending

	function skynet.rawsend(addr, typename, msg, sz)
		local p = proto[typename]
		return c_send(addr, p.id, 0, msg, sz)
	end

	function skynet.redirect(dest, source, typename, ...)
		return c.redirect(dest, source, proto[typename].id, ...)
	end

	function skynet.tracecall(tag, addr, typename, msg, sz)
		c.trace(tag, "tracecall begin")
		local rmsg, rsz = request(addr, proto[typename], msg, sz, tag)
		c.trace(tag, "tracecall end")
		return rmsg, rsz
	end

	-----------------------------------------------------------------------
	-- Services, names, environment

	function skynet.uniqueservice(global, ...)
		if global == true then
			return assert(skynet.call(".service", "lua", "GLAUNCH", ...))
		end
		return assert(skynet.call(".service", "lua", "LAUNCH", global, ...))
	end

	function skynet.queryservice(global, ...)
		if global == true then
			return assert(skynet.call(".service", "lua", "GQUERY", ...))
		end
		return assert(skynet.call(".service", "lua", "QUERY", global, ...))
	end

	function skynet.localname(name)
		return (c.addresscommand("QUERY", name))
	end

	function skynet.setenv(key, value)
		assert(c.command("GETENV", key) == nil, "Can't setenv exist key : " .. key)
		c.command("SETENV", key .. " " .. value)
	end

	-----------------------------------------------------------------------
	-- Inspection, and forgetting a dead service

	function skynet.endless()
		return c.intcommand("STAT", "endless") == 1
	end

	function skynet.mqlen()
		return c.intcommand("STAT", "mqlen")
	end

	function skynet.stat(what)
		return c.intcommand("STAT", what)
	end

	function skynet.term(address)
		handle_error(0, address)
	end
end

return M
