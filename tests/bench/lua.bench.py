# Lua-level benchmarks (tests/bench/lua_*.lua), run through run_lua_bench.py's
# runner: each is a node whose start service prints "BENCH metric value unit".
import importlib.util
import os

_spec = importlib.util.spec_from_file_location(
    "run_lua_bench", os.path.join(ROOT, "tests", "bench", "run_lua_bench.py"))
_lb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_lb)


def _lua(name, scale):
    def run(build):
        rows, failed, _ = _lb.run_one(os.path.join(build, "skiff"), name, 2, scale, 300)
        if failed:
            raise RuntimeError("lua bench %s: %s" % (name, failed))
        return {"%s %s" % (metric, unit): value for metric, value, unit, _note in rows}
    return run


BENCHES = [("Lua " + n, _lua(n, 1.0), "*", _lua(n, 0.05)) for n in _lb.BENCHES]
