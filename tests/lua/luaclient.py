"""The frame shared by the tests in which a stock lua5.4 client (client.socket,
client.crypt, luaclib/sproto.so) talks to a real node: crypt_test.py,
dhlogin_test.py, login_test.py, sproto_demo_test.py.

Each of them is run as `NAME.py SKIFF_EXE LUACLIB_DIR [--timeout S]`.
`start()` reads that command line and fails (naming the Debian package) when
lua5.4 is missing; `run_node_test()` runs one test service on a node, hands the
node to the test's own steps, and prints the node's log and the verdict as
`--- SERVICE: VERDICT`. Every wait is bounded by the one deadline.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import harness  # noqa: E402
from run_test import Node, write_config  # noqa: E402


class Client:
    """The command line, the deadline and the lua5.4 interpreter of one test."""

    def __init__(self, args, lua):
        self.args = args
        self.lua = lua
        self.deadline = time.monotonic() + args.timeout

    def left(self, least=5):
        """Seconds to the deadline, but at least `least`."""
        return max(least, self.deadline - time.monotonic())

    def command(self, script, *argv):
        """lua5.4 running `script` with LUACLIB_DIR as its first argument."""
        return [self.lua, script, self.args.luaclib, *[str(a) for a in argv]]

    def run(self, script, *argv):
        """Runs a client to its end (printing what it wrote) and returns it."""
        proc = subprocess.run(self.command(script, *argv), env=harness.lua_client_env(self.args.luaclib),
                              capture_output=True, text=True, timeout=self.left())
        print(proc.stdout + proc.stderr)
        return proc

    def spawn(self, script, *argv):
        """Starts a client whose output (stdout and stderr) is read later."""
        return subprocess.Popen(self.command(script, *argv), env=harness.lua_client_env(self.args.luaclib),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def wait_exit(self, node):
        """Waits for the node, whose test service has passed, to exit."""
        node.proc.wait(max(1.0, min(10.0, self.deadline - time.monotonic())))


def start():
    """Reads the command line; exits with a FAIL line when lua5.4 is missing."""
    ap = argparse.ArgumentParser()
    ap.add_argument("skiff")
    ap.add_argument("luaclib")
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    lua = shutil.which("lua5.4")
    if lua is None:
        print("FAIL: lua5.4 not found (Debian package lua5.4)")
        sys.exit(1)
    return Client(args, lua)


def run_node_test(service, steps, config_lines=()):
    """Runs `service` on a node (4 threads, plain mode, `config_lines` appended
    to the config) and `steps(client, node)`, which returns "PASS" or what went
    wrong. Returns the exit status."""
    client = start()
    with tempfile.TemporaryDirectory(prefix=f"skiff-{service}-") as tmp:
        cfg = write_config(tmp, service, 4, "plain")
        with open(cfg, "a") as f:
            f.writelines(line + "\n" for line in config_lines)
        node = Node(client.args.skiff, cfg)
        try:
            verdict = steps(client, node)
        except subprocess.TimeoutExpired as e:
            verdict = f"timeout: {e}"
        finally:
            node.stop()
        print("\n".join(node.lines()))
        print(f"--- {service}: {verdict}")
        return 0 if verdict == "PASS" else 1
