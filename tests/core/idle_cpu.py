#!/usr/bin/env python3
"""An idle node must not burn CPU, even with a long worker_spin.

usage: idle_cpu.py SKIFF TEST_CPATH

Workers spin for `worker_spin` µs after real work before they sleep; the timer
thread wakes a sleeping worker every 2.5 ms. If a worker spun after such an
empty wake-up, an idle node with worker_spin = 2000 would use ~80% of a CPU.
The node runs one idle C service; its CPU time over 3 s must stay under 10%.
"""
import os
import subprocess
import sys
import tempfile
import time


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def main():
    skiff, cpath = os.path.abspath(sys.argv[1]), sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="skiff-idle-") as tmp:
        cfg = os.path.join(tmp, "config")
        with open(cfg, "w") as f:
            f.write('thread = 2\nworker_spin = 2000\ncpath = cpath .. ";%s"\n'
                    'bootstrap = "tcore idle"\n' % cpath)
        p = subprocess.Popen([skiff, cfg], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp)
        try:
            time.sleep(1.0)  # start-up work, and its spin, are over
            if p.poll() is not None:
                print(p.stdout.read().decode(errors="replace"))
                print("FAIL: node exited early")
                return 1
            c0, t0 = cpu_seconds(p.pid), time.monotonic()
            time.sleep(3.0)
            used = (cpu_seconds(p.pid) - c0) / (time.monotonic() - t0)
        finally:
            p.kill()
            p.wait()
    print("idle node CPU: %.1f%% of one core" % (used * 100))
    if used >= 0.10:
        print("FAIL: an idle node keeps a CPU busy (workers spin after empty wake-ups?)")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
