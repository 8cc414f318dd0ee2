#!/usr/bin/env python3
"""skynet.crypt, twice: client.crypt in a stock lua5.4, then skynet.crypt in a
service of a real node, both against the same independently computed vectors.

usage: crypt_test.py SKIFF_EXE LUACLIB_DIR [--timeout S]
"""
import os
import subprocess
import sys
import tempfile
import time

import luaclient


def main():
    client = luaclient.start()
    with tempfile.TemporaryDirectory(prefix="skiff-crypt-") as tmp:
        vectors = os.path.join(tmp, "vectors.lua")
        subprocess.run([sys.executable, os.path.join(luaclient.HERE, "crypt_vectors.py"), vectors],
                       check=True, timeout=30)
        proc = client.run(os.path.join(luaclient.HERE, "crypt_client.lua"), vectors)
        if proc.returncode != 0 or "CLIENT CRYPT PASS" not in proc.stdout:
            print("FAIL: client.crypt checks")
            return 1
        node = subprocess.run(
            [sys.executable, os.path.join(luaclient.HERE, "run_test.py"), client.args.skiff, "test_crypt",
             "--timeout", str(max(5, int(client.deadline - time.monotonic()) - 2)),
             "--set", f"crypt_vectors={vectors}"],
            timeout=client.left())
        return node.returncode


if __name__ == "__main__":
    sys.exit(main())
