-- t_gated LOGIND: the message server of the login test; one t_msgagent per
-- user, requests forwarded to it as "client" messages.
local msgserver = require "snax.msgserver"
local skynet = require "skynet"

local logind = tonumber(...)
local servername
local users = {}    -- uid -> { username, agent, uid, subid }
local by_name = {}  -- username -> the same
local last_subid = 0

local server = {}

function server.login_handler(uid, secret)
	if users[uid] then
		error(uid .. " is logged in already")
	end
	last_subid = last_subid + 1
	local subid = last_subid
	local username = msgserver.username(uid, subid, servername)
	local agent = skynet.newservice("t_msgagent")
	skynet.call(agent, "lua", "login", uid, subid, secret)
	local u = { username = username, agent = agent, uid = uid, subid = subid }
	users[uid] = u
	by_name[username] = u
	msgserver.login(username, secret)
	return subid
end

function server.logout_handler(uid, subid)
	local u = users[uid]
	if u then
		assert(u.username == msgserver.username(uid, subid, servername))
		msgserver.logout(u.username)
		users[uid] = nil
		by_name[u.username] = nil
		skynet.call(logind, "lua", "logout", uid, subid)
	end
end

function server.kick_handler(uid, subid)
	local u = users[uid]
	if u then
		assert(u.username == msgserver.username(uid, subid, servername))
		pcall(skynet.call, u.agent, "lua", "logout") -- the agent exits
	end
end

function server.disconnect_handler(username)
	local u = by_name[username]
	if u then
		skynet.call(u.agent, "lua", "afk")
	end
end

function server.request_handler(username, msg)
	local u = by_name[username]
	return skynet.tostring(skynet.rawcall(u.agent, "client", msg))
end

function server.register_handler(name)
	servername = name
	skynet.call(logind, "lua", "register_gate", servername, skynet.self())
end

msgserver.start(server)
