"""What http.bench.py and wsgate.bench.py both need: run_load(), one run of
the http_load client (build/tests/bench/http_load) returning its RESULT rate
(requests or messages per second) and raising with its whole output when it
printed none; rss_kib(), a process's resident set."""
import os
import re
import subprocess


def run_load(build, mode, port, conns, seconds):
    exe = os.path.join(build, "tests", "bench", "http_load")
    p = subprocess.run([exe, mode, str(port), str(conns), str(seconds)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=seconds + 60)
    out = p.stdout.decode(errors="replace") + "(exit status %s)" % p.returncode
    m = re.search(r"RESULT \d+ in [\d.]+ s: (\d+)/s", out)
    if not m:
        raise RuntimeError("http_load %s failed: %s" % (mode, out))
    return float(m.group(1))


def rss_kib(pid):
    """The resident set of process pid in KiB (the idle-connection benches)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for %d" % pid)
