#!/usr/bin/env bash
# Make the key material of deploy/k8s/ as the Secret manifest secrets/skiff-keys.yaml
# (which kustomization.yaml includes), making what is missing and keeping what exists:
#   secrets/ca/cluster.secret    the cluster signing key: it signs credentials and never
#                                goes into the cluster (keep it off the nodes, and backed up)
#   secrets/cluster.pub          the cluster's public key
#   secrets/skiff-master-0.cred  credential for harbor id 1
#   secrets/skiff-game-<n>.cred  credential for harbor id n + 2, for n = 0 .. GAMES-1
#   secrets/cluster.key          the shared key of the cluster-mode lobby nodes
# Each harbor pod's init container copies only its own credential (config/install-keys.sh).
# To scale the game StatefulSet past GAMES replicas, run this again with more and apply.
#
# Keys are made by `skiff --genkey`: $SKIFF, else `skiff` on the PATH, else build/skiff,
# else the node image (SKIFF_IMAGE, default skiff-demo:latest).
#
#   deploy/k8s/make-secrets.sh [GAMES] [DIR]       # GAMES default 4, DIR default deploy/k8s/secrets
set -eu
here=$(cd "$(dirname "$0")" && pwd)
games=${1:-4}
dir=${2:-$here/secrets}
case $games in ''|*[!0-9]*) echo "make-secrets.sh: GAMES must be a number (got '$games')" >&2; exit 2;; esac
if [ "$games" -gt 254 ]; then echo "make-secrets.sh: at most 254 game nodes (harbor ids 2..255)" >&2; exit 2; fi
mkdir -p "$dir/ca"
chmod 700 "$dir" "$dir/ca"
dir=$(cd "$dir" && pwd)

skiff_build=$here/../../build/skiff
. "$here/../genkey.sh"

[ -f "$dir/ca/cluster.secret" ] || genkey cluster ca >/dev/null
cp "$dir/ca/cluster.pub" "$dir/cluster.pub"
[ -f "$dir/cluster.key" ] || genkey cluster.key >/dev/null
issue() { # pod id
	[ -f "$dir/$1.cred" ] || genkey node --id "$2" --signer ca/cluster.secret "$1.cred" >/dev/null
}
issue skiff-master-0 1
for n in $(seq 0 $((games - 1))); do
	issue "skiff-game-$n" $((n + 2))
done

out=$dir/skiff-keys.yaml
{
	echo "# Made by deploy/k8s/make-secrets.sh: key material of the Skiff pods. Do not commit."
	echo "apiVersion: v1"
	echo "kind: Secret"
	echo "metadata:"
	echo "  name: skiff-keys"
	echo "  labels:"
	echo "    app.kubernetes.io/part-of: skiff"
	echo "type: Opaque"
	echo "data:"
	for f in cluster.pub cluster.key skiff-master-0.cred $(cd "$dir" && ls skiff-game-*.cred | sort -V); do
		echo "  $f: $(base64 -w0 <"$dir/$f")"
	done
} >"$out.tmp"
chmod 600 "$out.tmp"
mv "$out.tmp" "$out"
echo "make-secrets.sh: wrote $out (master + $games game credentials, lobby key); the signing key stays in $dir/ca"
