-- a module whose body blocks: concurrent requires must wait for it
local skynet = require "skynet"
_G.t_mod_slow_loads = (_G.t_mod_slow_loads or 0) + 1
skynet.sleep(5)
return { loads = _G.t_mod_slow_loads }
