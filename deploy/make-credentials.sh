#!/usr/bin/env bash
# Issue the demo cluster's per-node credentials into DIR (default deploy/secrets), making what
# is missing and keeping what exists:
#   DIR/ca/cluster.secret   the cluster signing key (mode 0600). It signs credentials and never
#                           goes to a node: compose mounts only the files below.
#   DIR/cluster.pub         the cluster's public key, the same for every node
#   DIR/master.cred         node credential for harbor id 1 (the master node), mode 0600
#   DIR/game1.cred          ... id 2
#   DIR/game2.cred          ... id 3
#   DIR/NODE.console-token  the access token of NODE's debug console and dashboard (one per
#                           node: master, game1, game2), mode 0600
#   DIR/metrics.token       the bearer token of every node's /metrics, also given to
#                           Prometheus (read-only numbers, so one token serves), mode 0600
# Each node gets only its own credential and console token, so a broken-into game node can
# speak for its own id and open its own console, and nothing more (docs/identity.md).
#
# The keys are made by `skiff --genkey`: $SKIFF, else `skiff` on the PATH, else build/skiff,
# else the node image (SKIFF_IMAGE, default skiff-demo:latest; deploy/build-image.sh).
# Compose bind-mounts the files as they are, so their owner must be the uid the containers run
# as (SKIFF_UID, default 10001, the image's "skiff" user): as root this script gives them to
# that uid; otherwise run the containers as yourself with
#   export SKIFF_UID=$(id -u) SKIFF_GID=$(id -g)
#
#   deploy/make-credentials.sh [DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here/secrets}
uid=${SKIFF_UID:-10001}
gid=${SKIFF_GID:-$uid}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

skiff_build=$here/../build/skiff
. "$here/genkey.sh"

if [ ! -s "$dir/ca/cluster.secret" ]; then
	rm -rf "$dir/ca"
	genkey cluster ca 2>/dev/null
	cp "$dir/ca/cluster.pub" "$dir/cluster.pub"
	# a new signing key makes every old credential worthless
	rm -f "$dir/master.cred" "$dir/game1.cred" "$dir/game2.cred"
	echo "make-credentials: created the cluster signing key $dir/ca/cluster.secret (keep it off the nodes)"
fi
for entry in master:1 game1:2 game2:3; do
	node=${entry%%:*}
	id=${entry##*:}
	if [ ! -s "$dir/$node.cred" ]; then
		rm -f "$dir/$node.cred"
		genkey node --id "$id" --signer ca/cluster.secret "$node.cred"
		echo "make-credentials: issued $dir/$node.cred (harbor id $id)"
	fi
done
# access tokens of the consoles and of /metrics: 24 random bytes in hex, no newline (the
# console and the metrics endpoint want at least 16 characters, no white space)
for name in master.console-token game1.console-token game2.console-token metrics.token; do
	if [ ! -s "$dir/$name" ]; then
		(umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/$name")
		echo "make-credentials: wrote the access token $dir/$name"
	fi
done
chmod 700 "$dir/ca"
chmod 600 "$dir/ca/cluster.secret" "$dir"/*.cred "$dir"/*.console-token "$dir/metrics.token"
chmod 644 "$dir/cluster.pub"
if [ "$(id -u)" = 0 ]; then
	chown "$uid:$gid" "$dir"/*.cred "$dir"/*.console-token "$dir/metrics.token" "$dir/cluster.pub"
elif [ "$(stat -c %u "$dir/master.cred")" != "$uid" ]; then
	echo "make-credentials: the credentials belong to uid $(id -u), the containers run as uid $uid;" >&2
	echo "make-credentials: run them as you: export SKIFF_UID=$(id -u) SKIFF_GID=$(id -g)" >&2
fi
