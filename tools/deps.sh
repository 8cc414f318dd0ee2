#!/usr/bin/env bash
# Install the Debian packages Skiff needs to build and test (as root, or via sudo).
# Skips apt entirely when everything is already there.
set -eu
pkgs="meson ninja-build gcc pkg-config liblua5.4-dev lua5.4 libprotobuf-c-dev protobuf-c-compiler libsodium-dev libjemalloc-dev python3 python3-websockets curl libssl-dev openssl"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
for p in ${EXTRA_PKGS:-}; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "skiff: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
