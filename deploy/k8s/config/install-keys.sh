#!/bin/sh
# Init container of every Skiff pod (deploy/k8s/): copies this pod's key material from the
# Secret skiff-keys (mounted at /secrets, root-only) into /keys (an in-memory emptyDir), as
# files of mode 0600 owned by the uid skiff runs as (10001), which is what skiff requires of
# key files.  A harbor pod gets cluster.pub and its own credential, /secrets/$POD_NAME.cred,
# as node.cred: never another node's.  A cluster-mode pod (SKIFF_KEYS_KIND=shared) gets
# cluster.key.
# SKIFF_SECRETS_DIR and SKIFF_KEYS move /secrets and /keys (tests/ops/test_k8s.py).
set -eu
uid=${SKIFF_UID:-10001}
src=${SKIFF_SECRETS_DIR:-/secrets}
keys=${SKIFF_KEYS:-/keys}
umask 077
if [ "${SKIFF_KEYS_KIND:-credential}" = shared ]; then
	[ -f "$src/cluster.key" ] || { echo "install-keys: the Secret skiff-keys has no cluster.key (deploy/k8s/make-secrets.sh)"; exit 1; }
	cp "$src/cluster.key" "$keys/cluster.key"
else
	if [ ! -f "$src/$POD_NAME.cred" ]; then
		echo "install-keys: no credential for $POD_NAME in the Secret skiff-keys:" \
			"issue one with deploy/k8s/make-secrets.sh (scaled past the credentials issued?)"
		exit 1
	fi
	cp "$src/cluster.pub" "$keys/cluster.pub"
	cp "$src/$POD_NAME.cred" "$keys/node.cred"
fi
chown "$uid:$uid" "$keys"/*
ls -l "$keys"
