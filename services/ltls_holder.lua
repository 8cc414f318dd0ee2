-- ltls_holder — started by bootstrap when the config says enablessl = "true",
-- as in skynet.  Skynet's holder initialises OpenSSL once per process; the
-- OpenSSL Skiff links (1.1 or later) initialises itself on first use, so
-- this service only runs ltls.init.c's constructor for code that expects it
-- and then idles.  TLS works with or without it.
local skynet = require "skynet"
local init = require "ltls.init.c"

skynet.start(function()
	init.constructor()
end)
