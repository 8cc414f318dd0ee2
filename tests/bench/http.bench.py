# HTTP and WebSocket benchmarks for tests/bench/run.py, each beside a
# reference measured in the same run by the same load generator
# (http_load, C, epoll, one request in flight per connection):
#   httpd keep-alive GET /hello: Skiff (http.httpd in one Lua service) vs
#     Python's http.server (ThreadingHTTPServer)
#   WebSocket echo of 64-byte text messages: Skiff (http.websocket in one Lua
#     service) vs Python websockets (asyncio)
#   10,000 idle WebSocket connections held open: the server's RSS growth per
#     connection, Skiff vs Python websockets
# The Skiff node runs 2 worker threads.  Figures are printed, never asserted.
import os
import re
import subprocess
import sys
import tempfile

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
import http_loadlib  # noqa: E402
_SYS_PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


_load = http_loadlib.run_load


def _with_line(args, regex, body, cwd=None):
    """Start args, wait for a line matching regex, call body(match), stop it."""
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd)
    try:
        for raw in p.stdout:
            line = raw.decode(errors="replace")
            m = re.search(regex, line)
            if m:
                return body(m)
            if "FAIL" in line:
                raise RuntimeError(line.strip())
        raise RuntimeError("%s ended before printing /%s/" % (args[0], regex))
    finally:
        p.kill()
        p.wait()


def _server_config(tmp):
    """The config of the node under test: http_bench_server on 2 threads."""
    cfg = os.path.join(tmp, "config")
    with open(cfg, "w") as f:
        f.write("thread = 2\nharbor = 0\nstart = \"http_bench_server\"\n"
                "luaservice = luaservice .. \";%s/?.lua\"\n" % _HERE)
    return cfg


def _bench(mode, conns, seconds):
    def run(build):
        with tempfile.TemporaryDirectory(prefix="skiff-bench-http-") as tmp:
            cfg = _server_config(tmp)
            skiff = _with_line([os.path.join(build, "skiff"), cfg], r"BENCH HTTP (\d+) WS (\d+)",
                               lambda m: _load(build, mode, int(m.group(1 if mode == "http" else 2)),
                                               conns, seconds), cwd=tmp)
        ref = _with_line([_SYS_PY, os.path.join(_HERE, "http_refservers.py"), mode], r"REF PORT (\d+)",
                         lambda m: _load(build, mode, int(m.group(1)), conns, seconds))
        unit = "req/s" if mode == "http" else "msgs/s"
        return {"skiff " + unit: skiff, "python reference " + unit: ref}
    return run


_rss_kib = http_loadlib.rss_kib


def _held_growth(build, args, regex, group, n, cwd=None):
    """Start a server, hold n WebSocket connections to it, return its RSS
    growth per connection in KiB."""
    import time
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd)
    client = None
    try:
        port = None
        for raw in p.stdout:
            m = re.search(regex, raw.decode(errors="replace"))
            if m:
                port = int(m.group(group))
                break
        if port is None:
            raise RuntimeError("%s printed no port" % args[0])
        time.sleep(0.5)
        before = _rss_kib(p.pid)
        client = subprocess.Popen([os.path.join(build, "tests", "bench", "http_load"), "hold", str(port),
                                   str(n), "60"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        line = client.stdout.readline().decode(errors="replace")
        if not line.startswith("HELD %d" % n):
            raise RuntimeError("held only: %r %s" % (line, client.stdout.read(2000)))
        time.sleep(1.0)
        return (_rss_kib(p.pid) - before) / n
    finally:
        if client:
            client.kill()
            client.wait()
        p.kill()
        p.wait()


def _hold(n):
    def run(build):
        with tempfile.TemporaryDirectory(prefix="skiff-bench-http-") as tmp:
            cfg = _server_config(tmp)
            skiff = _held_growth(build, [os.path.join(build, "skiff"), cfg], r"BENCH HTTP (\d+) WS (\d+)", 2, n,
                                 cwd=tmp)
        ref = _held_growth(build, [_SYS_PY, os.path.join(_HERE, "http_refservers.py"), "ws"], r"REF PORT (\d+)",
                           1, n)
        return {"skiff KiB/conn": skiff, "python reference KiB/conn": ref}
    return run


BENCHES = [
    ("httpd keep-alive GET, 50 connections", _bench("http", 50, 5), "*", _bench("http", 4, 0.5)),
    ("WebSocket echo 64 B, 50 connections", _bench("ws", 50, 5), "*", _bench("ws", 4, 0.5)),
    ("10,000 idle WebSocket connections, server RSS", _hold(10000), "*", _hold(50)),
]
