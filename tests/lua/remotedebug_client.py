#!/usr/bin/env python3
"""End-to-end test of the remote debugger (`debug addr` on the console).

usage: remotedebug_client.py SKIFF_EXE [--timeout S]

Starts a real node (run_test.write_config, console mode) whose test service
is test_remotedebug, then over TCP: attaches to it, reads and changes a
global, watches the next request and reads and changes the handler's locals
while stopped, steps, breaks on a function, detaches, and checks the console
works again and a hung-up debugger lets the service go.
"""
import argparse
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run_test  # noqa: E402
from console_client import Console, expect  # noqa: E402


class Debugger(Console):
    """A console connection that can also speak to the debugger's prompt."""

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n")

    def until(self, pattern):
        """Consume and return the text up to the end of the first match."""
        rx = re.compile(pattern)

        def hit(text):
            m = rx.search(text)
            return m

        m = self._read_until(hit)
        text = self.buf.decode(errors="replace")
        self.buf = text[m.end():].encode()
        return text[:m.end()]

    def dbg(self, line, stopped=False):
        """One debugger command; returns its output without the prompt."""
        self.send(line)
        prompt = re.escape(f"rdb {self.target}") + (r" \(stopped\)> " if stopped else r"> ")
        out = self.until(prompt)
        return out[:out.rfind("rdb ")].strip("\n")


def drive(host, port, node, deadline):
    line = node.wait_line(lambda l: "remotedebug target ready" in l, deadline)
    expect(line is not None, "target never started")
    target = line.split()[-1]
    expect(re.match(r"^:[0-9a-f]{8}$", target), "target address " + target)

    other = Debugger(host, port, deadline)   # a plain console next to the debugger
    d = Debugger(host, port, deadline)
    d.target = target
    expect("debug" in " ".join(other.cmd("help")), "help lists debug")

    # attach
    d.send(f"debug {target}")
    banner = d.until(re.escape(f"rdb {target}> "))
    expect(f"attached to {target}" in banner, f"banner: {banner!r}")

    # globals: read, change, the service uses the new value
    expect(d.dbg("greeting") == "hello", "read a global")
    expect(d.dbg("= 6 * 7") == "42", "expression")
    expect(d.dbg('greeting = "bonjour"') == "", "assign a global")
    got = other.cmd(f'call {target} "greet", "bob"')
    expect("1\tbonjour bob" in got, f"service sees the new global: {got}")
    # names the dispatcher closes over are reachable too
    expect(d.dbg("type(CMD.greet)") == "function", "dispatch upvalue")
    # errors come back as text; print goes to the debugger
    expect("error:" in d.dbg('error("boom")'), "runtime error reported")
    expect(d.dbg("this is not lua") != "", "syntax error reported")
    expect(d.dbg('print("from", "debugger")') == "from\tdebugger", "print")
    expect(d.dbg("c") == "not stopped", "c while running")

    # break on the next request: the handler's locals, stepping, setlocal
    expect("next lua request" in d.dbg("watch lua"), "watch")
    other.send(f'call {target} "greet", "eve"')
    stop = d.until(re.escape(f"rdb {target} (stopped)> "))
    expect("stopped (watch) at" in stop and "test_remotedebug.lua" in stop, f"stop: {stop!r}")
    expect(d.dbg("cmd", stopped=True) == "greet", "read a parameter of the handler")
    bt = d.dbg("bt", stopped=True)
    expect("stack traceback" in bt and "test_remotedebug.lua" in bt, f"bt: {bt!r}")
    expect("cmd = greet" in d.dbg("locals", stopped=True), "locals")
    out = d.dbg("n", stopped=True)
    expect("stopped (step)" in out, f"step over: {out!r}")
    expect(d.dbg("type(f)", stopped=True) == "function", "local after a step")
    out = d.dbg("s", stopped=True)
    expect("stopped (step)" in out, f"step into: {out!r}")
    expect(d.dbg("name", stopped=True) == "eve", "callee parameter")
    d.dbg("n", stopped=True)
    expect(d.dbg("who", stopped=True) == "eve", "local of the callee")
    d.dbg('who = "mallory"', stopped=True)
    expect(d.dbg("who", stopped=True) == "mallory", "setlocal")
    expect(d.dbg("greeting", stopped=True) == "bonjour", "global while stopped")
    d.dbg("c")
    got = other.until(r"<CMD (OK|Error)>\n")
    expect("bonjour mallory" in got and "<CMD OK>" in got, f"changed local used: {got!r}")

    # a breakpoint on a function, reached through another handler
    expect("breakpoint on CMD.greet" in d.dbg("break CMD.greet"), "break")
    other.send(f'call {target} "shout", "zed"')
    stop = d.until(re.escape(f"rdb {target} (stopped)> "))
    expect("shouting ZED" in stop, f"the service's print reaches the debugger: {stop!r}")
    expect("stopped (break CMD.greet)" in stop, f"breakpoint stop: {stop!r}")
    expect(d.dbg("name", stopped=True) == "ZED", "breakpoint locals")
    bt = d.dbg("bt", stopped=True)
    expect(bt.count("test_remotedebug.lua:") >= 3, f"bt shows the callers: {bt!r}")
    d.dbg("clear", stopped=True)
    d.dbg("c")
    got = other.until(r"<CMD (OK|Error)>\n")
    expect("bonjour ZED" in got, f"after breakpoint: {got!r}")
    # cleared: requests run straight through while still attached
    expect("1\tbonjour amy" in other.cmd(f'call {target} "greet", "amy"'), "no stop after clear")

    # cont leaves the debugger and the console is itself again
    d.send("cont")
    tail = d.until(r"<CMD (OK|Error)>\n")
    expect("debugger detached" in tail and tail.endswith("<CMD OK>\n"), f"cont: {tail!r}")
    ping = d.cmd(f"ping {target}")
    expect(len(ping) == 1 and ping[0].isdigit(), f"console after cont: {ping}")
    expect(d.cmd("getenv thread") != [], "console commands after cont")
    # the service's print is its own again
    expect("1\tbonjour X" in other.cmd(f'call {target} "shout", "x"'), "served after detach")

    # a debugger that hangs up lets the service go; it can be attached again
    h = Debugger(host, port, deadline)
    h.target = target
    h.send(f"debug {target}")
    h.until(re.escape(f"rdb {target}> "))
    h.send("watch")
    h.until(re.escape(f"rdb {target}> "))
    h.close()
    d.send(f"debug {target}")
    for _ in range(100):  # the hang-up may take a moment to reach the target
        text = d.until(re.escape(f"rdb {target}> ") + "|<CMD Error>\n")
        if "attached to" in text:
            break
        time.sleep(0.05)
        d.send(f"debug {target}")
    else:
        raise AssertionError("could not attach again after a hang-up")
    # the hung-up session's watch is gone with it
    expect("1\tbonjour ann" in other.cmd(f'call {target} "greet", "ann"'), "no stale watch")
    d.send("cont")
    d.until(r"<CMD OK>\n")

    # refusals
    d.cmd("debug", ok=False)
    d.cmd("debug .nosuchname", ok=False)

    # the target exits while attached: the session ends, the console goes on
    d.send(f"debug {target}")
    d.until(re.escape(f"rdb {target}> "))
    other.send(f'call {target} "quit"')
    d.until("debug session ended; press Enter\n")
    d.send("")
    end = d.until(r"<CMD (OK|Error)>\n")
    expect(end.endswith("<CMD Error>\n"), f"session ended by the target: {end!r}")
    lst = d.cmd("list")
    expect(not any(l.startswith(target) for l in lst), f"target gone: {lst}")
    other.until(r"<CMD (OK|Error)>\n")  # the quit call failed with its service
    d.close()
    other.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("skiff")
    ap.add_argument("--timeout", type=float, default=50)
    args = ap.parse_args()
    deadline = time.monotonic() + args.timeout
    with tempfile.TemporaryDirectory(prefix="skiff-rdb-") as tmpdir:
        config = run_test.write_config(tmpdir, "test_remotedebug", 4, "console")
        node = run_test.Node(args.skiff, config)
        verdict = "PASS"
        try:
            line = node.wait_line(lambda l: "Start debug console at" in l, deadline)
            if line is None:
                verdict = "no debug console address in the log"
            else:
                port = int(line.rsplit(":", 1)[1])
                try:
                    drive("127.0.0.1", port, node, deadline)
                except Exception as e:
                    verdict = f"remotedebug client: {e!r}"
        finally:
            node.stop()
        print(node.text())
        print(f"--- test_remotedebug: {verdict}")
        return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
