#!/usr/bin/env python3
"""Run a skiff node for a socket test, drive it with a Python client, judge it.

usage: run_socktest.py SKIFF --service NAME [options]
  --service NAME         the `start` service (found in this folder's lua/)
  --config-line LINE     extra config line (repeatable)
  --client FUNC          a function of socket_clients.py, called with the port the
                         node announces ("SOCKTEST READY <port>"); it raises on failure
  --expect REGEX         must appear in the node's output (repeatable)
  --reject REGEX         must not appear (repeatable)
  --timeout S            whole-test deadline (default 60)
  --ready REGEX          what announces the port (group 1); default "SOCKTEST READY (\d+)"
  --lua-dir DIR          another folder searched for services (repeatable)

The node passes when it prints "SOCKTEST PASS" (services that check themselves),
or, with --client, when the client returns; "SOCKTEST FAIL" anywhere fails.
The node is killed at the end: these test nodes never exit on their own.
"""
import argparse
import os
import queue
import re
import signal
import sys
import tempfile
import time

# a service that failed to start never prints PASS: fail at once, not at the timeout
FATAL = r"lua loader error|init service failed|start service failed"
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("skiff")
    ap.add_argument("--service", required=True)
    ap.add_argument("--config-line", action="append", default=[])
    ap.add_argument("--client")
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--reject", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--ready", default=r"SOCKTEST READY (\d+)",
                    help="regex whose group 1 is the port to give the client")
    ap.add_argument("--lua-dir", action="append", default=[],
                    help="another folder of test services")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="skiff-sock-") as tmp:
        cfg = os.path.join(tmp, "config")
        lines = [
            "thread = 2",
            "harbor = 0",
            'start = "%s"' % a.service,
        ] + harness.lua_dirs(os.path.join(HERE, "lua"), *a.lua_dir) + a.config_line
        harness.write_config(cfg, lines)
        node = harness.Node(os.path.abspath(a.skiff), cfg, cwd=tmp, new_session=True)
        deadline = time.monotonic() + a.timeout
        verdict = None
        client_thread = None
        client_done = queue.Queue()

        def run_client(port):
            import socket_clients
            return harness.run_in_thread(getattr(socket_clients, a.client), (port,), client_done.put)

        seen = 0
        while verdict is None:
            left = deadline - time.monotonic()
            if left <= 0:
                verdict = "FAIL: timeout after %ss" % a.timeout
                break
            try:
                val = client_done.get_nowait()
                verdict = "PASS" if val is None else "FAIL: client: " + val
                break
            except queue.Empty:
                pass
            exited = node.finished()
            lines = node.lines()
            for line in lines[seen:]:
                if "SOCKTEST FAIL" in line or re.search(FATAL, line):
                    verdict = "FAIL: " + line
                elif "SOCKTEST PASS" in line and not a.client:
                    verdict = "PASS"
                else:
                    m = re.search(a.ready, line)
                    if m and a.client and client_thread is None:
                        client_thread = run_client(int(m.group(1)))
                if verdict:
                    break
            seen = len(lines)
            if verdict is None and exited:
                verdict = "FAIL: node exited (status %s)" % node.proc.returncode
            elif verdict is None:
                node.pause(min(left, 0.1))
        # let the node log what it was doing, then stop it
        time.sleep(0.3)
        try:
            os.killpg(node.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        node.kill()
        return harness.judge(verdict, node.text(), a.expect, a.reject)


if __name__ == "__main__":
    sys.exit(main())
