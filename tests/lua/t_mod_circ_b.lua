require "t_mod_circ_a"
return {}
