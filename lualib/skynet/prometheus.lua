-- skynet.prometheus — builds the Prometheus text exposition format (0.0.4).
--
--   local prometheus = require "skynet.prometheus"
--   local r = prometheus.new()
--   r:add("skiff_services", "gauge", "Services alive.", 12)
--   r:add("skiff_messages_dispatched_total", "counter", "Messages dispatched.", 99,
--         { module = "snlua" })
--   r:text()  -> "# HELP skiff_services Services alive.\n# TYPE ...\nskiff_services 12\n..."
--
-- Samples of one metric family are written together under one # HELP and one
-- # TYPE line, families in the order they were first added, labels sorted by
-- name.  Label values are escaped (\\, \", \n); values print as integers when
-- they are, otherwise with 15 significant digits; NaN and infinities use the
-- format's spellings.  A metric or label name that is not valid raises an error:
-- a bad name is a bug in the caller, not something to serve.
local prometheus = {}

local registry = {}
registry.__index = registry

function prometheus.new()
	return setmetatable({ families = {}, order = {} }, registry)
end

local function check_name(name, what)
	if type(name) ~= "string" or not string.match(name, "^[%a_:][%w_:]*$") then
		error(string.format("prometheus: bad %s name %q", what, tostring(name)), 3)
	end
end

function prometheus.escape_label(v)
	v = tostring(v)
	return (string.gsub(v, '[\\"\n]', { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n" }))
end

local function escape_help(v)
	return (string.gsub(v, "[\\\n]", { ["\\"] = "\\\\", ["\n"] = "\\n" }))
end

function prometheus.format_value(v)
	if type(v) == "boolean" then
		return v and "1" or "0"
	end
	v = tonumber(v)
	if v == nil or v ~= v then
		return "NaN"
	elseif v == math.huge then
		return "+Inf"
	elseif v == -math.huge then
		return "-Inf"
	elseif math.type(v) == "integer" then
		return string.format("%d", v)
	elseif v == math.floor(v) and math.abs(v) < 2 ^ 53 then
		return string.format("%d", math.floor(v))
	end
	return string.format("%.15g", v)
end

local TYPES = { counter = true, gauge = true, untyped = true }

-- Adds one sample; the first call for a name fixes its type and help.
function registry:add(name, mtype, help, value, labels)
	check_name(name, "metric")
	local fam = self.families[name]
	if not fam then
		assert(TYPES[mtype], "prometheus: bad metric type")
		fam = { name = name, type = mtype, help = help or "", samples = {} }
		self.families[name] = fam
		self.order[#self.order + 1] = fam
	elseif fam.type ~= mtype then
		error(string.format("prometheus: %s is a %s, not a %s", name, fam.type, mtype), 2)
	end
	local lbl = ""
	if labels and next(labels) then
		local keys = {}
		for k in pairs(labels) do
			check_name(k, "label")
			keys[#keys + 1] = k
		end
		table.sort(keys)
		local parts = {}
		for i, k in ipairs(keys) do
			parts[i] = string.format('%s="%s"', k, prometheus.escape_label(labels[k]))
		end
		lbl = "{" .. table.concat(parts, ",") .. "}"
	end
	fam.samples[#fam.samples + 1] = name .. lbl .. " " .. prometheus.format_value(value)
end

-- A family with no samples yet still gets its HELP/TYPE lines (so a scraper
-- sees that the metric exists, e.g. link metrics on a node with no peers).
function registry:declare(name, mtype, help)
	check_name(name, "metric")
	if not self.families[name] then
		assert(TYPES[mtype], "prometheus: bad metric type")
		local fam = { name = name, type = mtype, help = help or "", samples = {} }
		self.families[name] = fam
		self.order[#self.order + 1] = fam
	end
end

function registry:text()
	local out = {}
	for _, fam in ipairs(self.order) do
		out[#out + 1] = string.format("# HELP %s %s", fam.name, escape_help(fam.help))
		out[#out + 1] = string.format("# TYPE %s %s", fam.name, fam.type)
		for _, s in ipairs(fam.samples) do
			out[#out + 1] = s
		end
	end
	out[#out + 1] = ""
	return table.concat(out, "\n")
end

return prometheus
