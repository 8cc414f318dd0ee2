"""Drive the debug console over TCP (imported by run_test.py --mode console).

Every command is checked for its "<CMD OK>"/"<CMD Error>" terminator and for
what it must print; any mismatch raises, which fails the test.
"""
import os
import re
import socket
import time


def console_token():
    """The token run_test.write_config wrote (SKIFF_CONSOLE_TOKEN_FILE)."""
    with open(os.environ["SKIFF_CONSOLE_TOKEN_FILE"]) as f:
        return f.read().strip()


class Console:
    """A line-protocol console session; authenticates with the test's token
    (or the one given) before anything else."""

    def __init__(self, host, port, deadline, token=None):
        self.deadline = deadline
        self.sock = socket.create_connection((host, port), timeout=10)
        self.buf = b""
        self.cmd("auth " + (token or console_token()))

    def close(self):
        self.sock.close()

    def _read_until(self, pred):
        while True:
            text = self.buf.decode(errors="replace")
            hit = pred(text)
            if hit is not None:
                return hit
            if time.monotonic() > self.deadline:
                raise AssertionError("timeout; got so far: %r" % text[-400:])
            self.sock.settimeout(max(0.1, min(10, self.deadline - time.monotonic())))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("console closed; got: %r" % text[-400:])
            self.buf += chunk

    def cmd(self, line, ok=True):
        """Send one command; return the lines it printed before its terminator."""
        self.sock.sendall(line.encode() + b"\n")

        def done(text):
            m = re.search(r"<CMD (OK|Error)>\n", text)
            if not m:
                return None
            return m

        m = self._read_until(done)
        text = self.buf.decode(errors="replace")
        body, status = text[:m.start()], m.group(1)
        self.buf = text[m.end():].encode()
        lines = [l for l in body.split("\n") if l and not l.startswith("Welcome")]
        if ok and status != "OK":
            raise AssertionError(f"{line!r} failed: {lines}")
        if not ok and status != "Error":
            raise AssertionError(f"{line!r} should fail, got: {lines}")
        return lines


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def http(host, port, request):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(request.encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data.decode(errors="replace")


def run(host, port, node, tmpdir, deadline):
    line = node.wait_line(lambda l: "console target ready" in l, deadline)
    expect(line is not None, "target never started")
    target = line.split()[-1]  # ":0000000a"
    expect(re.match(r"^:[0-9a-f]{8}$", target), "target address " + target)
    bound = node.wait_line(lambda l: "Start debug console at" in l, deadline)
    expect("127.0.0.1:" in bound, "console binds 127.0.0.1 by default: " + bound)

    c = Console(host, port, deadline)
    helpl = c.cmd("help")
    expect(any(l.startswith("list\t") for l in helpl), "help lists commands")

    lst = c.cmd("list")
    expect(any(l.startswith(target) and "snlua test_console" in l for l in lst), f"list shows the target: {lst}")

    stat = c.cmd("stat")
    expect(any(l.startswith(target) and "message:" in l and "mqlen:" in l for l in stat), f"stat: {stat}")
    mem = c.cmd("mem")
    expect(any(l.startswith(target) and "Kb" in l for l in mem), f"mem: {mem}")
    gc = c.cmd("gc")
    expect(any(l.startswith(target) for l in gc), f"gc: {gc}")

    info = c.cmd(f"info {target} a b")
    expect(info == ["target info a,b"], f"info: {info}")
    # bare hex and .name address forms
    info2 = c.cmd(f"info {target[1:]} x")
    expect(info2 == ["target info x"], f"info with bare hex: {info2}")
    info3 = c.cmd("info .target y")
    expect(info3 == ["target info y"], f"info with a local name: {info3}")

    call = c.cmd(f'call {target} "echo", 1, "two", {{3}}')
    expect("1\t1" in call and "2\ttwo" in call and "n\t3" in call and "3\t1:3" in call, f"call: {call}")
    c.cmd(f'call {target} "nope"', ok=False)

    ping = c.cmd(f"ping {target}")
    expect(len(ping) == 1 and ping[0].isdigit(), f"ping: {ping}")
    c.cmd(f"task {target}")
    c.cmd(f"uniqtask {target}")
    kt = c.cmd(f"killtask {target} thread:nothing")
    expect(kt == ["Not found"], f"killtask: {kt}")
    dbg = c.cmd(f"dbgcmd {target} SUPPORT lua")
    expect(dbg == ["true"], f"dbgcmd: {dbg}")

    script = os.path.join(tmpdir, "inject_me.lua")
    with open(script, "w") as f:
        f.write('local skynet = require "skynet"\nprint("injected", 40 + 2, skynet.address(skynet.self()))\n')
    inj = c.cmd(f"inject {target} {script}")
    expect(inj == [f"injected\t42\t{target}"], f"inject: {inj}")
    bad = os.path.join(tmpdir, "inject_bad.lua")
    with open(bad, "w") as f:
        f.write('error("broken on purpose")\n')
    c.cmd(f"inject {target} {bad}", ok=False)

    started = c.cmd("start t_echo")
    expect(len(started) == 1 and started[0].endswith("\tt_echo"), f"start: {started}")
    echo = started[0].split("\t")[0]
    killed = c.cmd(f"kill {echo}")
    expect(any(l.startswith(echo) for l in killed), f"kill: {killed}")
    lst = c.cmd("list")
    expect(not any(l.startswith(echo) for l in lst), "killed service left the list")

    started = c.cmd("start t_echo")
    echo2 = started[0].split("\t")[0]
    c.cmd(f"exit {echo2}")
    for _ in range(50):
        if not any(l.startswith(echo2) for l in c.cmd("list")):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("exit did not remove the service")
    c.cmd("start no_such_service_file")  # prints Failed, still OK
    logged = c.cmd("log t_echo")
    expect(len(logged) == 1 and logged[0].endswith("\tt_echo"), f"log: {logged}")
    logaddr = logged[0].split("\t")[0]
    expect(os.path.exists(os.path.join(tmpdir, "%08x.log" % int(logaddr[1:], 16))), "log launch opened a message log")

    svc = c.cmd("service")
    expect(isinstance(svc, list), "service")
    c.cmd("setenv console_test_key v42")
    env = c.cmd("getenv console_test_key")
    expect(env == ["console_test_key\tv42"], f"getenv: {env}")
    c.cmd("setenv console_test_key again", ok=False)

    net = c.cmd("netstat")
    expect(any("LISTEN" in l or "listen" in l.lower() for l in net), f"netstat shows the listen socket: {net}")
    cm = c.cmd("cmem")
    expect(any(l.startswith("total\t") for l in cm), f"cmem: {cm}")

    c.cmd(f"logon {target}")
    c.cmd(f"call {target} \"echo\", 1")
    c.cmd(f"logoff {target}")
    logfile = os.path.join(tmpdir, "%08x.log" % int(target[1:], 16))
    expect(os.path.exists(logfile), "logon wrote " + logfile)

    c.cmd(f"trace {target} on")
    c.cmd(f"trace {target} lua off")
    c.cmd(f"signal {target} 1")
    c.cmd("clearcache")
    c.cmd("frobnicate", ok=False)
    c.cmd("info", ok=False)
    c.close()

    # HTTP forms: one answer, then the console closes the connection.  The
    # token goes in an Authorization header; GET runs read-only commands, the
    # others need POST with the console's own content type.
    tok = console_token()
    auth = f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {tok}\r\n"
    r = http(host, port, f"GET /list HTTP/1.1\r\n{auth}\r\n")
    expect(r.startswith("HTTP/1.1 200 OK") and "snlua test_console" in r and "<CMD" not in r, f"GET: {r[:300]}")
    body = f"info {target} post"
    r = http(host, port, f"POST / HTTP/1.1\r\n{auth}Content-Type: application/x-skiff-command\r\n"
             f"Content-Length: {len(body)}\r\n\r\n{body}")
    expect(r.startswith("HTTP/1.1 200 OK") and "target info post" in r and "<CMD" not in r, f"POST: {r[:300]}")
    r = http(host, port, f"GET /getenv/console_test_key HTTP/1.1\r\n{auth}\r\n")
    expect("console_test_key\tv42" in r, f"GET with args: {r[:300]}")

    # the console survives a client that disconnects mid-command
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(b"stat")
    s.close()
    c = Console(host, port, deadline)
    expect(c.cmd("ping .target")[0].isdigit(), "console alive after an abrupt client")
    c.close()
