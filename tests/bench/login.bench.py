# Login benchmark for tests/bench/run.py: complete logins per second through
# snax.loginserver (DH exchange, challenge hmac, DES token, "200 subid") on a
# real node, from parallel plain lua5.4 clients (luaclib/client.so), one
# TCP connection per login.
import os
import re
import shutil
import subprocess
import importlib.util as _ilu

_hspec = _ilu.spec_from_file_location("harness", os.path.join(ROOT, "tests", "harness.py"))
_harness = _ilu.module_from_spec(_hspec)
_hspec.loader.exec_module(_harness)
import sys
import tempfile
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(_HERE))
from harness import Node  # noqa: E402


def _logins(clients, per_client):
    def run(build):
        lua = shutil.which("lua5.4")
        if lua is None:
            raise RuntimeError("lua5.4 not found (Debian package lua5.4)")
        luaclib = os.path.join(build, "luaclib")
        with tempfile.TemporaryDirectory(prefix="skiff-bench-login-") as tmp:
            cfg = os.path.join(tmp, "config")
            with open(cfg, "w") as f:
                f.write("\n".join([
                    "thread = 2",
                    f'luaservice = luaservice .. ";{_HERE}/?.lua"',
                    'start = "login_bench_logind"',
                    f'logpath = "{tmp}"',
                ]) + "\n")
            node = Node(os.path.join(build, "skiff"), cfg)
            try:
                m = node.search(r"login server listen at : \S+ (\d+)", timeout=30)
                if not m:
                    raise RuntimeError("no login port:\n" + node.text())
                port = m.group(1)
                t0 = time.monotonic()
                procs = [subprocess.Popen(
                    [lua, os.path.join(_HERE, "login_bench_client.lua"), luaclib, port,
                     str(per_client), "user%d" % i],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                    env=_harness.lua_client_env(luaclib)) for i in range(clients)]
                outs = [p.communicate(timeout=300)[0].decode(errors="replace") for p in procs]
                elapsed = time.monotonic() - t0
            finally:
                node.stop()
            done = sum(int(m.group(1)) for o in outs for m in [re.search(r"LOGINS (\d+)", o)] if m)
            if done != clients * per_client:
                raise RuntimeError("login clients failed:\n" + "\n".join(outs))
            return {"logins/s": done / elapsed}
    return run


BENCHES = [
    ("Login handshakes through snax.loginserver, 8 clients (logins/s)",
     _logins(8, 500), "logins/s", _logins(2, 20)),
]
