# The C gate's WebSocket mode (protocol=ws) for tests/bench/run.py, each
# figure beside the Lua WebSocket module (http.websocket) measured in the same
# run by the same load generator (http_load, C, epoll):
#   echo of 64-byte text messages, 50 connections, one message in flight each:
#     C gate (ws_frame=text, connections forwarded to one Lua agent that
#     echoes through the gate) vs http.websocket in one Lua service
#   10,000 idle WebSocket connections held open: the node's RSS growth per
#     connection, C gate vs http.websocket
# Both nodes run 2 worker threads.  Figures are printed, never asserted.
import os
import re
import subprocess
import sys
import tempfile
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
import http_loadlib  # noqa: E402
_SOCKET_LUA = os.path.join(os.path.dirname(_HERE), "socket", "lua")


_load = http_loadlib.run_load


_rss_kib = http_loadlib.rss_kib


class _Node:
    """A skiff node running the C gate echo (wsgate_echo) or the Lua
    WebSocket echo (http_bench_server); .port is its WebSocket port."""

    def __init__(self, build, tmp, cgate, maxconn):
        cfg = os.path.join(tmp, "config")
        with open(cfg, "w") as f:
            if cgate:
                f.write('thread = 2\nharbor = 0\nstart = "wsgate_echo"\nwsgate_quiet = "1"\n'
                        'wsgate_maxconn = "%d"\nluaservice = luaservice .. ";%s/?.lua"\n'
                        % (maxconn, _SOCKET_LUA))
            else:
                f.write('thread = 2\nharbor = 0\nstart = "http_bench_server"\n'
                        'luaservice = luaservice .. ";%s/?.lua"\n' % _HERE)
        self.p = subprocess.Popen([os.path.join(build, "skiff"), cfg], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, cwd=tmp)
        self.port = None
        text_handle = None
        for raw in self.p.stdout:
            line = raw.decode(errors="replace")
            if cgate:
                m = re.search(r"WSGATE text (:[0-9a-f]+)", line)
                if m:
                    text_handle = m.group(1)
                m = re.search(r"\[(:[0-9a-f]+)\] gate: listen on 127\.0\.0\.1:(\d+)", line)
                if m and m.group(1) == text_handle:
                    self.port = int(m.group(2))
                    break
            else:
                m = re.search(r"BENCH HTTP (\d+) WS (\d+)", line)
                if m:
                    self.port = int(m.group(2))
                    break
        if self.port is None:
            self.stop()
            raise RuntimeError("the node printed no WebSocket port")
        # keep draining its output so it never blocks on a full pipe
        import threading
        threading.Thread(target=lambda: [None for _ in self.p.stdout], daemon=True).start()

    def stop(self):
        self.p.kill()
        self.p.wait()


def _echo(conns, seconds):
    def run(build):
        res = {}
        for name, cgate in (("C gate", True), ("Lua websocket", False)):
            with tempfile.TemporaryDirectory(prefix="skiff-bench-wsgate-") as tmp:
                node = _Node(build, tmp, cgate, conns + 16)
                try:
                    res[name + " msgs/s"] = _load(build, "ws", node.port, conns, seconds)
                finally:
                    node.stop()
        return res
    return run


def _held(build, cgate, n):
    with tempfile.TemporaryDirectory(prefix="skiff-bench-wsgate-") as tmp:
        node = _Node(build, tmp, cgate, n + 16)
        client = None
        try:
            time.sleep(0.5)
            before = _rss_kib(node.p.pid)
            client = subprocess.Popen([os.path.join(build, "tests", "bench", "http_load"), "hold",
                                       str(node.port), str(n), "60"],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            line = client.stdout.readline().decode(errors="replace")
            if not line.startswith("HELD %d" % n):
                raise RuntimeError("held only: %r %s" % (line, client.stdout.read(2000)))
            time.sleep(1.0)
            return (_rss_kib(node.p.pid) - before) / n
        finally:
            if client:
                client.kill()
                client.wait()
            node.stop()


def _hold(n):
    def run(build):
        return {"C gate KiB/conn": _held(build, True, n),
                "Lua websocket KiB/conn": _held(build, False, n)}
    return run


BENCHES = [
    ("WebSocket echo 64 B, 50 connections: C gate vs Lua websocket", _echo(50, 5), "*",
     _echo(4, 0.5)),
    ("10,000 idle WebSocket connections: C gate vs Lua websocket, RSS", _hold(10000), "*",
     _hold(50)),
]
