-- A service whose main chunk raises: snlua reports ERROR to .launcher.
error("LUAC_MAIN_ERROR")
