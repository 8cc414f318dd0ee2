#!/usr/bin/env python3
"""Run one Lua test service on a real skiff node and judge it.

usage: run_test.py SKIFF_EXE TEST_SERVICE [--timeout S] [--threads N]
                   [--mode plain|console|stdin]

plain    the node's `start` service (test_runner) launches TEST_SERVICE; the
         test prints "TEST PASS <name>" or "TEST FAIL <name>: why" and aborts
         the node.  Pass = a PASS line, no FAIL line, no Lua error in the log
         unless the test expects it, and a clean exit before the timeout.
console  the node also runs the debug console on 127.0.0.1 with a port picked
         at run time; console_client.py then drives it over TCP.
stdin    the node's start service is `console`; we type TEST_SERVICE on its
         stdin and expect the PASS line from the service it launches.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402
from harness import is_sanitized  # noqa: E402


def write_config(tmpdir, test, threads, mode, extra=()):
    lines = [
        f"thread = {threads}",
        "harbor = 0",
        f'luaservice = luaservice .. ";{HERE}/?.lua;{HERE}/?/main.lua"',
        f'preload = "{HERE}/t_preload.lua"',
        f'lua_path = lua_path .. ";{HERE}/?.lua;{harness.TESTS_DIR}/?.lua"',
        f'test_name = "{test}"',
        f'logpath = "{tmpdir}"',
    ]
    if mode == "stdin":
        lines.append('start = "console"')
    else:
        lines.append('start = "test_runner"')
    if mode == "console":
        # the console needs a token file of mode 0600; clients find it through
        # SKIFF_CONSOLE_TOKEN_FILE (console_client.Console, tools/skiff-status).
        # console_run: the test drives inject and the remote debugger.
        token_file, _ = harness.make_token(os.path.join(tmpdir, "console.token"))
        os.environ["SKIFF_CONSOLE_TOKEN_FILE"] = token_file
        lines.append('console = "127.0.0.1:0"')
        lines.append(f'console_token = "{token_file}"')
        lines.append('console_run = true')
    if is_sanitized(sys.argv[1]):
        lines.append('sanitized = "true"')
    for kv in extra:
        k, v = kv.split("=", 1)
        lines.append(f'{k} = "{v}"')
    path = os.path.join(tmpdir, "config.lua")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def Node(exe, config, stdin=False):
    return harness.Node(exe, config, stdin=stdin, name="lua test")


def check_expected(lines, path):
    """PASS when every pattern of the file matches a line of the output, in
    the file's order (other lines may come between); else what is missing."""
    import re
    with open(path) as f:
        patterns = [p.rstrip("\n") for p in f if p.strip() and not p.startswith("#")]
    at = 0
    for pat in patterns:
        rx = re.compile(pat)
        while at < len(lines) and not rx.search(lines[at]):
            at += 1
        if at == len(lines):
            return f"expected output missing (in order): {pat!r}"
        at += 1
    return "PASS"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("skiff")
    ap.add_argument("test")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--set", action="append", default=[],
                    help="extra config line KEY=VALUE (string value)")
    ap.add_argument("--expect", help="file of regular expressions ('#' lines are comments) "
                    "that lines of the node's output must match, in this order")
    ap.add_argument("--mode", choices=["plain", "console", "stdin"], default="plain")
    args = ap.parse_args()

    deadline = time.monotonic() + args.timeout
    with tempfile.TemporaryDirectory(prefix="skiff-lua-") as tmpdir:
        config = write_config(tmpdir, args.test, args.threads, args.mode, args.set)
        node = Node(args.skiff, config, stdin=args.mode == "stdin")
        verdict = None
        try:
            if args.mode == "console":
                line = node.wait_line(lambda l: "Start debug console at" in l, deadline)
                if line is None:
                    verdict = "no debug console address in the log"
                else:
                    port = int(line.rsplit(":", 1)[1])
                    sys.path.insert(0, HERE)
                    import console_client
                    try:
                        console_client.run("127.0.0.1", port, node, tmpdir, deadline)
                    except Exception as e:  # the client's assertion is the verdict
                        verdict = f"console client: {e!r}"
                if verdict is None:
                    verdict = "PASS"
            else:
                if args.mode == "stdin":
                    time.sleep(0.5)
                    node.proc.stdin.write((args.test + " hello 42\n").encode())
                    node.proc.stdin.flush()
                verdict = node.test_verdict(deadline)
                if verdict == "PASS":
                    # a passing node must also exit by itself
                    try:
                        node.proc.wait(max(1.0, min(10.0, deadline - time.monotonic())))
                        verdict = "PASS"
                    except subprocess.TimeoutExpired:
                        verdict = "node did not exit after TEST PASS"
        finally:
            node.stop()
        log = "\n".join(node.lines())
        if verdict == "PASS" and "TEST FAIL" in log:
            verdict = "a TEST FAIL line was logged"
        if verdict == "PASS" and args.expect:
            verdict = check_expected(node.lines(), args.expect)
        print(log)
        rc = node.proc.returncode
        print(f"--- {args.test}: {verdict} (exit code {rc})")
        return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
