"""The one test harness of Skiff's Python tests: real `skiff` processes on
127.0.0.1, their output, and the small things every test needs.

    import harness
    port = harness.free_port()
    node = harness.Node(skiff, config_path, cwd=tmp)     # output collected in memory
    node = harness.Node(skiff, config_path, log=path)    # output in a file (kept for a dump)
    node.wait(r"READY (\\d+)", timeout=15)               # match, or AssertionError with the log
    node.search(r"...", timeout=5)                       # match, or None
    mark = node.mark(); ...; node.wait(rx, after=mark)   # only what came after `mark`
    node.kill()

Every wait has a deadline, and a wait ends early when the node has exited and
its output is all read.  Ports are picked at run time.  Suite-specific helpers
(mnlib, clusterlib, obslib, the runners) are built on this module; the ones
they share live here, once.
"""
import glob
import os
import re
import signal
import socket
import subprocess
import threading
import time
import traceback

# tests/: on every test node's lua_path, for testlib.lua (the Lua assertions).
TESTS_DIR = os.path.dirname(os.path.abspath(__file__))

# A sanitizer report anywhere in a node's output fails the test that ran it.
SANITIZER_RX = r"ERROR: AddressSanitizer|WARNING: ThreadSanitizer|runtime error:|ERROR: LeakSanitizer"


def free_port(host="127.0.0.1"):
    """A TCP port free on `host` right now."""
    s = socket.socket()
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_key(path):
    """A cluster key file (32 random bytes as hex, mode 0600), as `skiff --genkey` makes."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, os.urandom(32).hex().encode() + b"\n")
    finally:
        os.close(fd)
    return path


def make_token(path):
    """A debug console token file (48 random hex characters, mode 0600), for
    the config key console_token; returns (path, token)."""
    token = os.urandom(24).hex()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, token.encode() + b"\n")
    finally:
        os.close(fd)
    return path, token


def lua_dirs(*dirs):
    """Config lines putting each folder's ?.lua on luaservice and lua_path
    (test services and their modules), and tests/ on lua_path (testlib)."""
    pats = ";".join("%s/?.lua" % os.path.abspath(d) for d in dirs)
    return ['luaservice = luaservice .. ";%s"' % pats,
            'lua_path = lua_path .. ";%s;%s/?.lua"' % (pats, TESTS_DIR)]


def write_config(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def is_sanitized(exe):
    """True for an ASan build: its RSS and timings say nothing about ours."""
    try:
        with open(exe, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def lua_client_env(luaclib):
    """The environment for a stock lua5.4 that loads our luaclib/*.so: in a
    sanitizer build those need the sanitizer runtimes loaded first."""
    env = dict(os.environ)
    so = os.path.join(luaclib, "client.so")
    if is_sanitized(so):
        libs = []
        for name in ("libasan.so", "libubsan.so"):
            p = subprocess.run(["cc", "-print-file-name=" + name], stdout=subprocess.PIPE,
                               text=True).stdout.strip()
            if os.path.isabs(p) and os.path.exists(p):
                libs.append(p)
        env["LD_PRELOAD"] = " ".join(libs)
        env["ASAN_OPTIONS"] = "detect_leaks=0"
    return env


def run_in_thread(fn, args, done):
    """Runs fn(*args) on a daemon thread (a test's client): done(None) when
    it returns, done(text) with the exception and its traceback when it
    raises anything, an assertion included. Returns the thread."""
    def run():
        try:
            fn(*args)
        except BaseException as e:  # the client's failure is the test's verdict
            done("%s\n%s" % (e, traceback.format_exc()))
        else:
            done(None)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def wait_for(pred, what, timeout=15, step=0.1):
    """pred()'s first true result, polled every step seconds; an AssertionError
    from pred counts as not yet and is quoted if the wait times out."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            r = pred()
        except AssertionError as e:
            last = e
            r = None
        if r:
            return r
        time.sleep(step)
    raise AssertionError("timed out waiting for %s (last: %s)" % (what, last))


def recv_all(sock, got=b""):
    """`got` and then everything `sock` receives until the peer closes (or
    resets) the connection."""
    while True:
        try:
            piece = sock.recv(65536)
        except ConnectionResetError:
            return got
        if not piece:
            return got
        got += piece


def output_problems(out, expect=(), reject=()):
    """What is wrong with a node's output: each regex of `expect` that does
    not match it and each of `reject` that does, and a sanitizer report
    anywhere, whatever else was asked (multi-line mode). One line each."""
    problems = ["expected /%s/ in the output" % rx for rx in expect if not re.search(rx, out, re.M)]
    problems += ["/%s/ must not appear in the output" % rx for rx in list(reject) + [SANITIZER_RX]
                 if re.search(rx, out, re.M)]
    return problems


def check_output(out, expect=(), reject=()):
    """Prints a FAIL line for each of output_problems(); True when there is none."""
    problems = output_problems(out, expect, reject)
    for why in problems:
        print("FAIL: " + why)
    return not problems


def judge(verdict, out, expect=(), reject=()):
    """The end of a marker-line runner (run_http.py, run_socktest.py): checks
    the output (check_output), prints its tail and the verdict, and returns
    the exit status: 0 for a PASS verdict and nothing wrong in the output."""
    ok = check_output(out, expect, reject) and verdict == "PASS"
    print(out[-20000:])
    print(verdict)
    return 0 if ok else 1


def sanitizer_report(text):
    """The first sanitizer line in `text`, or None."""
    m = re.search(SANITIZER_RX, text, re.M)
    return m.group(0) if m else None


class Node:
    """One skiff process and everything it prints (stdout and stderr together).

    With `log`, the output goes to that file and text() reads it back; without,
    a reader thread collects it in memory.  Offsets (mark(), `after`) are
    character offsets into text()."""

    def __init__(self, exe, config, cwd=None, log=None, stdin=False, env=None, name=None,
                 new_session=False, preexec_fn=None):
        self.name = name if name is not None else os.path.basename(config)
        self.log = log
        self._buf = []
        self._len = 0
        self._cond = threading.Condition()
        out = open(log, "w") if log else subprocess.PIPE
        try:
            self.proc = subprocess.Popen(
                [os.path.abspath(exe), config], cwd=cwd, env=env,
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT,
                start_new_session=new_session, preexec_fn=preexec_fn)
        finally:
            if log:
                out.close()
        self._reader = None
        if not log:
            self._reader = threading.Thread(target=self._read, daemon=True)
            self._reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace")
            with self._cond:
                self._buf.append(line)
                self._len += len(line)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def text(self):
        if self.log:
            try:
                with open(self.log, errors="replace") as f:
                    return f.read()
            except FileNotFoundError:
                return ""
        with self._cond:
            return "".join(self._buf)

    def lines(self):
        return self.text().splitlines()

    def mark(self):
        """An offset for `after`: only output from now on is searched."""
        if self.log:
            return len(self.text())
        with self._cond:
            return self._len

    def finished(self):
        """Exited, and every byte it wrote has been read."""
        if self.proc.poll() is None:
            return False
        return self._reader is None or not self._reader.is_alive()

    def search(self, rx, timeout=15, after=0):
        """The first match of rx (multi-line mode) in the output from offset
        `after`; None at the deadline, or once the node exited without it."""
        pat = re.compile(rx, re.M)
        deadline = time.monotonic() + timeout
        while True:
            done = self.finished()    # read before the text: no line slips between
            m = pat.search(self.text(), after)
            if m:
                return m
            left = deadline - time.monotonic()
            if done or left <= 0:
                return None
            self.pause(left)

    def pause(self, left):
        """Sleeps until more output may have come, at most `left` seconds."""
        if self.log:
            time.sleep(min(left, 0.02))
        else:
            with self._cond:
                self._cond.wait(min(left, 0.2))

    def wait_line(self, pred, deadline):
        """The first line satisfying pred, or None at the deadline (a
        time.monotonic() value) or once the node exited without one."""
        seen = 0
        while True:
            done = self.finished()
            lines = self.lines()
            for line in lines[seen:]:
                if pred(line):
                    return line
            seen = len(lines)
            left = deadline - time.monotonic()
            if done or left <= 0:
                return None
            self.pause(left)

    def test_verdict(self, deadline):
        """A test service's verdict: "PASS" for a "TEST PASS" line, the line
        itself for a "TEST FAIL" one, or a sentence when neither came by the
        deadline (a time.monotonic() value) or before the node exited."""
        line = self.wait_line(lambda l: "TEST PASS" in l or "TEST FAIL" in l, deadline)
        if line is None:
            return "no verdict (timeout or crash)"
        return line if "TEST FAIL" in line else "PASS"

    def wait(self, rx, timeout=15, after=0, what=None):
        """Like search(), but a miss raises AssertionError with the log's tail."""
        m = self.search(rx, timeout, after)
        if m is None:
            state = ("exited (%s)" % self.proc.returncode) if self.proc.poll() is not None \
                else "no match within %ss" % timeout
            raise AssertionError("node %s: /%s/ not seen, %s%s\n--- log tail ---\n%s" % (
                self.name, rx, state, " (%s)" % what if what else "", self.text()[-6000:]))
        return m

    def signal(self, sig):
        """Send sig. For SIGSTOP, return once every thread of the node is
        stopped: kill() returns before a thread that is running or waking up
        has stopped, and a test that probes a stopped node must not race it."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            if sig == signal.SIGSTOP:
                self._wait_all_stopped()

    def _wait_all_stopped(self, timeout=5):
        def all_stopped():
            states = []
            for stat in glob.glob("/proc/%d/task/*/stat" % self.proc.pid):
                try:
                    with open(stat) as f:
                        states.append(f.read().rsplit(")", 1)[1].split()[0])
                except OSError:
                    pass  # a thread that ended
            if not states or any(s not in "Tt" for s in states):
                raise AssertionError("thread states %s" % "".join(states))
            return True
        wait_for(all_stopped, "node %s to stop after SIGSTOP" % self.name, timeout, step=0.01)

    def kill(self):
        """SIGKILL (a stopped process is continued first) and reap."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGCONT)
                self.proc.kill()
            except OSError:
                pass
        self.proc.wait()
        if self._reader:
            self._reader.join(2)

    def stop(self, grace=5):
        """SIGTERM, then SIGKILL after `grace` seconds; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._reader:
            self._reader.join(2)
        return self.proc.returncode
