#!/usr/bin/env python3
"""deploy/k8s/, checked offline.

1. make-secrets.sh issues the key material (with this build's skiff) and
   `kubectl kustomize` renders the kustomization (kubectl: Debian package
   kubernetes-client).
2. Every manifest and the rendered output pass `kubernetes-validate --strict`
   (PyPI package kubernetes-validate, installed into a venv in the build
   folder); a manifest with an unknown field is refused, so strict mode is on.
3. What the manifests must say, checked on the rendered objects: StatefulSets
   behind headless Services that publish not-ready addresses, the harbor id
   from the pod ordinal (POD_NAME from metadata.name, id bases 1 and 2, no
   overlap, at most 255), /ready and /alive probes on the metrics port,
   terminationGracePeriodSeconds covering preStop + shutdown_timeout, PDBs
   selecting the game and lobby pods, the config from the ConfigMap and the
   keys from the Secret (a credential for every replica).
4. The ConfigMap's harbor.conf and install-keys.sh run for real: keys
   installed as the init container does, skiff-master-0 and skiff-game-1 start
   on 127.0.0.1 with the environment the manifests give them, and come up as
   harbor nodes 1 and 3, game node joined to the master.
"""
import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness  # noqa: E402

PLAIN = ["namespace.yaml", "master.yaml", "game.yaml", "lobby.yaml", "pdb.yaml"]


def venv_python(build):
    """A venv in the build folder with kubernetes-validate (and PyYAML with it)."""
    venv = os.path.join(build, "ops-venv")
    py = os.path.join(venv, "bin", "python")
    kv = os.path.join(venv, "bin", "kubernetes-validate")
    if not os.path.exists(kv):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=120)
        p = subprocess.run([py, "-m", "pip", "install", "-q", "kubernetes-validate"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
        if p.returncode != 0 or not os.path.exists(kv):
            raise SystemExit("FAIL: needs the PyPI package kubernetes-validate (pip install into %s "
                             "failed):\n%s" % (venv, p.stdout[-3000:]))
    return py, kv


def validate(kv, paths):
    p = subprocess.run([kv, "--strict", "--no-warn"] + paths, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=300)
    return p.returncode, p.stdout


def render(d):
    kubectl = shutil.which("kubectl")
    if not kubectl:
        raise SystemExit("FAIL: kubectl not found: install the Debian package kubernetes-client")
    p = subprocess.run([kubectl, "kustomize", d], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=120)
    assert p.returncode == 0, "kubectl kustomize failed:\n" + p.stderr
    return p.stdout


def check_objects(rendered_path, k8s_dir):
    """Runs under the venv's python (PyYAML)."""
    import yaml
    with open(rendered_path) as f:
        objs = [o for o in yaml.safe_load_all(f) if o]
    by = {}
    for o in objs:
        by[(o["kind"], o["metadata"]["name"])] = o
    cm = [o for o in objs if o["kind"] == "ConfigMap"]
    assert len(cm) == 1 and cm[0]["metadata"]["name"].startswith("skiff-config-"), cm
    cm = cm[0]
    for f in ("harbor.conf", "lobby.conf", "lobby_main.lua", "install-keys.sh"):
        assert f in cm["data"], "ConfigMap lacks " + f
    m = re.search(r'SKIFF_SHUTDOWN_TIMEOUT", "(\d+)"', cm["data"]["harbor.conf"])
    shutdown_timeout = int(m.group(1))
    secret = by[("Secret", "skiff-keys")]
    ids = {}
    for name in ("skiff-master", "skiff-game", "skiff-lobby"):
        sts = by[("StatefulSet", name)]
        spec = sts["spec"]
        svc = by[("Service", spec["serviceName"])]
        assert svc["spec"]["clusterIP"] == "None", name + ": its Service is not headless"
        assert svc["spec"].get("publishNotReadyAddresses") is True, name
        labels = spec["template"]["metadata"]["labels"]
        for k, v in svc["spec"]["selector"].items():
            assert labels.get(k) == v, name + ": the Service does not select its pods"
        pod = spec["template"]["spec"]
        vols = {v["name"]: v for v in pod["volumes"]}
        assert vols["config"]["configMap"]["name"] == cm["metadata"]["name"], name
        assert vols["secrets"]["secret"]["secretName"] == "skiff-keys", name
        assert [c["name"] for c in pod["initContainers"]] == ["keys"], name
        (c,) = pod["containers"]
        env = {e["name"]: e for e in c["env"]}
        assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name", name
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        assert ports["metrics"] == 9100, name
        assert c["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "metrics"}, name
        assert c["livenessProbe"]["httpGet"] == {"path": "/alive", "port": "metrics"}, name
        pre = c["lifecycle"]["preStop"]["exec"]["command"]
        assert pre[0] == "sleep", name
        grace = pod["terminationGracePeriodSeconds"]
        assert grace >= int(pre[1]) + shutdown_timeout + 5, "%s: grace %s < preStop %s + drain %s + 5" % (
            name, grace, pre[1], shutdown_timeout)
        assert c["securityContext"]["readOnlyRootFilesystem"] is True, name
        if name != "skiff-lobby":
            base = int(env["SKIFF_HARBOR_BASE"]["value"])
            n = spec["replicas"]
            ids[name] = set(range(base, base + n))
            assert base + n - 1 <= 255, name
            for i in range(n):
                key = "%s-%d.cred" % (name, i)
                assert key in secret["data"], "the Secret has no credential for pod %s-%d" % (name, i)
            assert c["command"] == ["skiff", "/etc/skiff/harbor.conf"], name
        else:
            assert c["command"] == ["skiff", "/etc/skiff/lobby.conf"], name
            assert "cluster.key" in secret["data"]
    assert ids["skiff-master"] == {1}, ids
    assert not ids["skiff-master"] & ids["skiff-game"], ids
    for name in ("skiff-game", "skiff-lobby"):
        pdb = by[("PodDisruptionBudget", name)]
        tmpl = by[("StatefulSet", name)]["spec"]["template"]["metadata"]["labels"]
        for k, v in pdb["spec"]["selector"]["matchLabels"].items():
            assert tmpl.get(k) == v, "PDB %s does not select its pods" % name
    print("objects OK: %d objects, harbor ids %s" % (len(objs), sorted(ids["skiff-master"] | ids["skiff-game"])))


def run_nodes(src, skiff, k8s, secrets):
    with tempfile.TemporaryDirectory(prefix="skiff-k8s-run-") as d:
        mport, gport = harness.free_port(), harness.free_port()
        nodes = []
        try:
            for pod, base, extra in (
                    ("skiff-master-0", 1, {"SKIFF_RUNS_MASTER": "true", "SKIFF_ROLES": "match,login,gate",
                                           "SKIFF_GATE": "127.0.0.1:%d" % gport}),
                    ("skiff-game-1", 2, {"SKIFF_ROLES": "game"})):
                keys = os.path.join(d, pod + "-keys")
                os.makedirs(keys, mode=0o700)
                env = dict(os.environ, POD_NAME=pod, SKIFF_SECRETS_DIR=secrets, SKIFF_KEYS=keys,
                           SKIFF_UID=str(os.getuid()))
                p = subprocess.run(["sh", os.path.join(k8s, "config", "install-keys.sh")], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
                assert p.returncode == 0, p.stdout
                assert oct(os.stat(os.path.join(keys, "node.cred")).st_mode & 0o777) == "0o600"
                env.update({
                    "POD_NAMESPACE": "skiff", "SKIFF_SERVICE": pod.rsplit("-", 1)[0],
                    "SKIFF_HARBOR_BASE": str(base), "SKIFF_ADDRESS": "127.0.0.1:%d" % harness.free_port(),
                    "SKIFF_MASTER": "127.0.0.1:%d" % mport,
                    "SKIFF_METRICS": "127.0.0.1:%d" % harness.free_port(),
                    "SKIFF_DEMO": os.path.join(src, "deploy", "demo"),
                    "SKIFF_HEALTH_FILE": os.path.join(d, pod + ".health"),
                })
                env.update(extra)
                n = harness.Node(skiff, os.path.join(k8s, "config", "harbor.conf"), cwd=d, env=env,
                                 name=pod, log=os.path.join(d, pod + ".log"))
                nodes.append(n)
                n.wait(r"harbor: node %d \([^,]+, incarnation" % (base + int(pod.rsplit("-", 1)[1])))
            nodes[0].wait(r"harbor master: node 3 \(\S+\) joined")
            nodes[1].wait(r"harbor: node 3 \(\S+\) ready")
            for n in nodes:
                n.signal(15)
                assert n.proc.wait(timeout=20) == 0, n.text()[-3000:]
        except BaseException:
            for n in nodes:
                print("---- %s ----\n%s" % (n.name, n.text()[-4000:]))
            raise
        finally:
            for n in nodes:
                n.kill()
    print("nodes OK: skiff-master-0 is harbor node 1, skiff-game-1 node 3")


def main(src, build, skiff):
    py, kv = venv_python(build)
    skiff = os.path.abspath(skiff)
    with tempfile.TemporaryDirectory(prefix="skiff-k8s-") as d:
        k8s = os.path.join(d, "k8s")
        shutil.copytree(os.path.join(src, "deploy", "k8s"), k8s,
                        ignore=shutil.ignore_patterns("secrets"))
        # make-secrets.sh sources deploy/genkey.sh from the folder above it
        shutil.copy(os.path.join(src, "deploy", "genkey.sh"), d)
        p = subprocess.run([os.path.join(k8s, "make-secrets.sh"), "2"], env=dict(os.environ, SKIFF=skiff),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        assert p.returncode == 0, p.stdout
        rendered = os.path.join(d, "rendered.yaml")
        with open(rendered, "w") as f:
            f.write(render(k8s))
        rc, out = validate(kv, [rendered] + [os.path.join(k8s, f) for f in PLAIN])
        assert rc == 0, "kubernetes-validate --strict failed:\n" + out
        # strict mode is on: an unknown field is refused
        bad = os.path.join(d, "bad.yaml")
        with open(os.path.join(k8s, "game.yaml")) as f:
            text = f.read()
        with open(bad, "w") as f:
            f.write(text.replace("  serviceName: skiff-game\n", "  serviceName: skiff-game\n  replicaz: 2\n"))
        rc, out = validate(kv, [bad])
        assert rc != 0 and "replicaz" in out, "strict validation let an unknown field through:\n" + out
        print("validated (strict): rendered kustomization + %s" % " ".join(PLAIN))
        p = subprocess.run([py, os.path.abspath(__file__), "--check", rendered, k8s],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        print(p.stdout.strip())
        assert p.returncode == 0, "manifest checks failed"
        run_nodes(src, skiff, k8s, os.path.join(k8s, "secrets"))
    print("PASS")


if __name__ == "__main__":
    if sys.argv[1] == "--check":
        check_objects(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1], sys.argv[2], sys.argv[3])
