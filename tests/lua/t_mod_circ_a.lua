require "t_mod_circ_b"
return {}
