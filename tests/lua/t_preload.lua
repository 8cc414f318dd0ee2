-- t_preload — the `preload` file of the test nodes: runs before each
-- service's main chunk, with the service's launch arguments.
PRELOADED = table.pack(...)
