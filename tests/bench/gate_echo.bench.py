# Gate echo benchmarks for tests/bench/run.py: 100 clients keep one 64-byte
# packet each in flight through a gate (Lua gate + echo agent, or the C gate with
# a Lua watchdog) on a real node; the load comes from gate_echo_client (C, epoll).
import os
import re
import subprocess
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


def _gate_echo(cgate, clients, seconds):
    def run(build):
        args = [sys.executable, os.path.join(_HERE, "gate_echo.py"), os.path.join(build, "skiff"),
                "--client-exe", os.path.join(build, "tests", "socket", "gate_echo_client"),
                "--clients", str(clients), "--seconds", str(seconds)]
        if cgate:
            args.append("--cgate")
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=seconds + 120)
        out = p.stdout.decode(errors="replace")
        m = re.search(r"([\d.]+) packets/s, p50 ([\d.]+) ms, p99 ([\d.]+) ms", out)
        if p.returncode != 0 or not m:
            raise RuntimeError("gate echo failed:\n" + out)
        return {"packets/s": float(m.group(1)), "p50 ms": float(m.group(2)),
                "p99 ms": float(m.group(3))}
    return run


BENCHES = [
    ("Lua gate echo, 100 clients (packets/s, p99)", _gate_echo(False, 100, 5), "packets/s",
     _gate_echo(False, 10, 0.5)),
    ("C gate echo, 100 clients (packets/s, p99)", _gate_echo(True, 100, 5), "packets/s",
     _gate_echo(True, 10, 0.5)),
]
