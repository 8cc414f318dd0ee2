"""run_load(): one run of the http_load client (build/tests/bench/http_load),
the load generator of http.bench.py and wsgate.bench.py.  Returns its
RESULT rate (requests or messages per second); raises with its whole output
when it printed none."""
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
