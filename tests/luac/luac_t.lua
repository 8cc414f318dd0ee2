-- luac_t — testlib for the tests/luac services: a test logs "LUAC PASS <name>"
-- or "LUAC FAIL <name>: why" and aborts the node; run_luac.py judges the log.
return require("testlib").suite("LUAC", { abort = true })
