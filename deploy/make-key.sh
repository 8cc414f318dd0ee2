#!/usr/bin/env bash
# Create the demo cluster's key (deploy/secrets/cluster.key, or FILE) if it does not exist yet:
# 32 random bytes as hex, mode 0600.  docker-compose hands it to every node as the secret
# "cluster_key".  Compose bind-mounts the file as it is, so its owner must be the uid the
# containers run as (SKIFF_UID, default 10001, the image's "skiff" user): as root this script
# gives it to that uid; otherwise run the containers as yourself with
#   export SKIFF_UID=$(id -u) SKIFF_GID=$(id -g)
#
#   deploy/make-key.sh [FILE]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
key=${1:-$here/secrets/cluster.key}
uid=${SKIFF_UID:-10001}
gid=${SKIFF_GID:-$uid}
mkdir -p "$(dirname "$key")"
if [ ! -s "$key" ]; then
	(
		umask 077
		if command -v skiff >/dev/null 2>&1 && skiff --genkey "$key.new" >/dev/null 2>&1; then
			mv "$key.new" "$key"
		else
			rm -f "$key.new"
			od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$key"
			echo >>"$key"
		fi
	)
	echo "make-key: created $key"
fi
chmod 600 "$key"
if [ "$(id -u)" = 0 ]; then
	chown "$uid:$gid" "$key"
elif [ "$(stat -c %u "$key")" != "$uid" ]; then
	echo "make-key: $key belongs to uid $(stat -c %u "$key"), the containers run as uid $uid;" >&2
	echo "make-key: run them as you: export SKIFF_UID=$(id -u) SKIFF_GID=$(id -g)" >&2
fi
