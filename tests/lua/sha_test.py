#!/usr/bin/env python3
"""test_sha on a real node, judged like skynet's sha test script: the node
prints the number of every case, 1..N in order, and nothing fails.

usage: sha_test.py SKIFF_EXE [--timeout S]
"""
import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run_test import Node, write_config  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("skiff")
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    deadline = time.monotonic() + args.timeout
    with tempfile.TemporaryDirectory(prefix="skiff-sha-") as tmp:
        node = Node(args.skiff, write_config(tmp, "test_sha", 4, "plain"))
        try:
            end = node.test_verdict(deadline)
        finally:
            node.stop()
        print("\n".join(node.lines()))
        head = [l for l in node.lines() if l.startswith("SHA CASES ")]
        numbers = [l for l in node.lines() if l.isdigit()]
        if end != "PASS":
            verdict = f"service: {end}"
        elif not head:
            verdict = "no SHA CASES line"
        elif numbers != [str(i) for i in range(1, int(head[0].split()[-1]) + 1)]:
            verdict = f"printed {numbers}, want 1..{head[0].split()[-1]}"
        else:
            verdict = "PASS"
        print(f"--- test_sha: {verdict}")
        return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
