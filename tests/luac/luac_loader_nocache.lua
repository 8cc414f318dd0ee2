-- A lualoader that turns the code cache off in every service, then runs the
-- real loader (config key luac_real_loader): the no-cache side of luac_spawn.
require("skynet.codecache").mode("OFF")
local c = require "skynet.core"
local real = assert(c.command("GETENV", "luac_real_loader"), "luac_real_loader not set")
return assert(loadfile(real))(...)
