-- A command module of the debug console, loaded by the obs tests through the
-- config key console_modules (docs/console.md, "Adding commands").
return {
	obs_hello = {
		help = "obs_hello [who] : says hello (a test command)",
		readonly = true,
		run = function(who) return "hello " .. (who or "world") end,
	},
	obs_set = {
		help = "obs_set key value : sets an environment entry (changes the node: POST only)",
		run = function(k, v)
			require("skynet").setenv(k, v)
			return { [k] = v }
		end,
	},
}
