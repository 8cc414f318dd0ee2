#!/usr/bin/env python3
"""skynet.crypt, twice: client.crypt in a stock lua5.4, then skynet.crypt in a
service of a real node, both against the same independently computed vectors.

usage: crypt_test.py SKIFF_EXE LUACLIB_DIR [--timeout S]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("skiff")
    ap.add_argument("luaclib")
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    deadline = time.monotonic() + args.timeout
    lua = shutil.which("lua5.4")
    if lua is None:
        print("FAIL: lua5.4 not found (Debian package lua5.4)")
        return 1
    with tempfile.TemporaryDirectory(prefix="skiff-crypt-") as tmp:
        vectors = os.path.join(tmp, "vectors.lua")
        subprocess.run([sys.executable, os.path.join(HERE, "crypt_vectors.py"), vectors],
                       check=True, timeout=30)
        client = subprocess.run(env=harness.lua_client_env(args.luaclib), args=[lua, os.path.join(HERE, "crypt_client.lua"), args.luaclib, vectors],
                                capture_output=True, text=True,
                                timeout=max(5, deadline - time.monotonic()))
        print(client.stdout + client.stderr)
        if client.returncode != 0 or "CLIENT CRYPT PASS" not in client.stdout:
            print("FAIL: client.crypt checks")
            return 1
        node = subprocess.run(
            [sys.executable, os.path.join(HERE, "run_test.py"), args.skiff, "test_crypt",
             "--timeout", str(max(5, int(deadline - time.monotonic()) - 2)),
             "--set", f"crypt_vectors={vectors}"],
            timeout=max(5, deadline - time.monotonic()))
        return node.returncode


if __name__ == "__main__":
    sys.exit(main())
