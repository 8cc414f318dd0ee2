-- skynet.console.commands — the debug console's one command table.
--
-- The console service (services/debug_console.lua, the transport) loads
-- command modules into this table and runs command lines against it; the
-- line protocol and HTTP share it.  A command module is a Lua module that
-- returns a table of commands by name:
--
--   return {
--     hello = {
--       help = "hello [who] : say hello",
--       readonly = true,                  -- changes nothing: allowed by HTTP GET
--       run = function(who) return "hello " .. (who or "world") end,
--       -- optional:
--       -- raw = true: run(req) gets { line = whole line, words = {...}, fd = socket }
--       -- text = function(print, result) ... end: its own text layout
--     },
--   }
--
-- and is registered with one line in the MODULES list of
-- services/debug_console.lua (or, for a game's own module, in the config key
-- `console_modules`).  A name may be registered once: a second module that
-- brings the same name is refused with an error naming both.
--
-- A module may also answer requests of other nodes' consoles (harbor mode:
-- every console registers the global name commands.console_name(id)):
-- commands.remote("NAME", function(...) return result end) at load time; the
-- console service answers "lua" NAME with it (STATUS for the cluster view,
-- LOAD for the overview).
--
-- `commands.settings` holds what the transport read from the config
-- (run = console_run); commands.need_run(what) raises unless it is on.
--
-- Answers: a command's result (a string, a table, or nil) is printed as text
-- (tab-separated lines; a table as sorted key/value lines unless the command
-- has its own `text`), or, for a line starting with the word `json`, as one
-- JSON document {"ok":true,"result":...} / {"ok":false,"error":"..."}.
-- Nothing here touches skynet: the table and the line splitting run in a
-- plain Lua state too (tests/fuzz/fuzz_console.c).
local json = require "skynet.json"

local commands = {}

local TABLE = {}    -- name -> spec
local REMOTE = {}   -- "lua" request name -> function, for other nodes' consoles
local ORIGIN = {}   -- name -> module that brought it

commands.settings = { run = false }

function commands.add(name, spec, origin)
	assert(type(name) == "string" and string.match(name, "^[%w_]+$"), "console command names are words")
	assert(type(spec) == "table" and type(spec.run) == "function", "console command " .. name .. " needs run")
	if TABLE[name] then
		error(string.format("console command %s from %s is already defined by %s", name,
			tostring(origin), tostring(ORIGIN[name])), 0)
	end
	TABLE[name] = spec
	ORIGIN[name] = origin or "?"
end

-- Adds every command of a command module (see above).
function commands.load(modname)
	local mod = require(modname)
	assert(type(mod) == "table", "console module " .. modname .. " must return a table of commands")
	local names = {}
	for name in pairs(mod) do names[#names + 1] = name end
	table.sort(names)
	for _, name in ipairs(names) do
		commands.add(name, mod[name], modname)
	end
end

function commands.remote(name, fn)
	assert(REMOTE[name] == nil, "console remote request " .. name .. " is already defined")
	REMOTE[name] = fn
end

function commands.remote_handler(name)
	return REMOTE[name]
end

function commands.get(name)
	return TABLE[name]
end

function commands.readonly(name)
	local spec = TABLE[name]
	return spec ~= nil and spec.readonly == true
end

-- name -> help line of every command (the `help` command answers this)
function commands.help()
	local h = {}
	for name, spec in pairs(TABLE) do
		h[name] = spec.help or name
	end
	h.json = "json command ... : any command, answered as one JSON line"
	return h
end

function commands.need_run(what)
	if not commands.settings.run then
		error(what .. " runs Lua code in a service: disabled unless the config sets console_run = true", 0)
	end
end

-- The global name of the console of harbor node `id` (the `cluster` view
-- asks every node's console for its links under this name).
function commands.console_name(id)
	return "skiffcon" .. tostring(id)
end

function commands.split_words(line)
	local words = {}
	for w in string.gmatch(line, "%S+") do
		words[#words + 1] = w
	end
	return words
end

local function format_table(t)
	local keys = {}
	for k in pairs(t) do keys[#keys + 1] = k end
	table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
	local parts = {}
	for _, k in ipairs(keys) do
		local v = t[k]
		if type(v) == "table" then
			v = "{" .. format_table(v) .. "}"
		end
		parts[#parts + 1] = string.format("%s:%s", tostring(k), tostring(v))
	end
	return table.concat(parts, "\t")
end

local function dump_list(print, list)
	local keys = {}
	for k in pairs(list) do keys[#keys + 1] = k end
	table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
	for _, k in ipairs(keys) do
		local v = list[k]
		if type(v) == "table" then
			print(tostring(k), format_table(v))
		else
			print(tostring(k), tostring(v))
		end
	end
end

-- Runs one command line.  Returns ok, result (the error text when not ok),
-- and whether the line asked for JSON.
function commands.execute(line, fd)
	local words = commands.split_words(line)
	local as_json = false
	if words[1] == "json" then
		as_json = true
		table.remove(words, 1)
		line = string.gsub(line, "^%s*json%s*", "", 1)
	end
	local spec = TABLE[words[1]]
	if not spec then
		return false, "Invalid command, type help for command list", as_json, nil
	end
	local ok, result
	if spec.raw then
		ok, result = pcall(spec.run, { line = line, words = words, fd = fd })
	else
		ok, result = pcall(spec.run, table.unpack(words, 2))
	end
	return ok, result, as_json, spec
end

-- Prints an answer (without the line protocol's terminator) through print(...).
function commands.render(print, ok, result, as_json, spec)
	if as_json then
		if ok then
			if result == nil then result = json.null end
			print(json.encode({ ok = true, result = result }))
		else
			print(json.encode({ ok = false, error = tostring(result) }))
		end
	elseif not ok then
		print(tostring(result))
	elseif result ~= nil then
		if spec and spec.text then
			spec.text(print, result)
		elseif type(result) == "table" then
			dump_list(print, result)
		else
			print(tostring(result))
		end
	end
end

return commands
