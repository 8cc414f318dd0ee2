#!/usr/bin/env python3
"""The newcomer's examples run as written.

"harbor": examples/harbor (a complete minimal service and a two-node harbor),
copied as is; only its fixed ports (2013, 2526, 2527) are replaced by free
ones.  `skiff --genkey cluster.key`, node 1, node 2 from the example's folder
as its README says: node 2 prints the answer from HELLO on node 1 and exits 0;
SIGTERM stops node 1 with exit status 0.  The README's harbor snippet loads
skynet.manager before it calls skynet.register.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness  # noqa: E402


def check_readme(src):
    with open(os.path.join(src, "README.md")) as f:
        text = f.read()
    section = text.split("## Several nodes: the harbor", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```lua\n(.*?)```", section, re.S)
    reg = [b for b in blocks if "skynet.register" in b]
    assert reg, "no Lua block with skynet.register in the README's harbor section"
    for b in reg:
        i = b.find('require "skynet.manager"')
        assert 0 <= i < b.find("skynet.register"), "README snippet lacks require \"skynet.manager\":\n" + b


def run_harbor(src, skiff):
    check_readme(src)
    with tempfile.TemporaryDirectory(prefix="skiff-example-") as d:
        ex = os.path.join(d, "harbor")
        shutil.copytree(os.path.join(src, "examples", "harbor"), ex)
        ports = {p: str(harness.free_port()) for p in ("2013", "2526", "2527")}
        for name in ("node1.conf", "node2.conf"):
            path = os.path.join(ex, name)
            with open(path) as f:
                text = f.read()
            text = re.sub(r"\b(2013|2526|2527)\b", lambda m: ports[m.group(1)], text)
            with open(path, "w") as f:
                f.write(text)
        subprocess.run([skiff, "--genkey", "cluster.key"], cwd=ex, check=True, timeout=30,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        n1 = harness.Node(skiff, "node1.conf", cwd=ex, name="node1")
        n2 = None
        try:
            n1.wait(r"node 1: HELLO is up")
            n2 = harness.Node(skiff, "node2.conf", cwd=ex, name="node2")
            n2.wait(r"node 2 got: hello node 2, from node 1$")
            rc2 = n2.proc.wait(timeout=15)
            assert rc2 == 0, "node 2 exited with %s" % rc2
            n1.signal(15)
            rc1 = n1.proc.wait(timeout=15)
            assert rc1 == 0, "node 1 exited with %s" % rc1
        except BaseException:
            for n in (n1, n2):
                if n:
                    print("---- %s ----\n%s" % (n.name, n.text()[-4000:]))
            raise
        finally:
            for n in (n1, n2):
                if n:
                    n.kill()


def main(src, skiff, which):
    {"harbor": run_harbor}[which](src, os.path.abspath(skiff))
    print("PASS")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
