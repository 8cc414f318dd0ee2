#!/usr/bin/env bash
# Install the Debian packages Skiff needs to build and test (as root, or via sudo).
# Skips apt entirely when everything is already there.
set -eu
# libssl-dev: OpenSSL's libcrypto (skynet.crypt's SHA-1, HMAC, DES, MD5) and libssl (TLS).
# dpkg-dev: `apt-get source lua5.4` (dpkg-source, patch) for the default -Dlua=skiff,
# which builds Debian's lua5.4 source with lua/skiff-shared-proto.patch; liblua5.4-dev
# is -Dlua=system's Lua and the headers of luaclib/'s modules for a stock lua5.4.
pkgs="meson ninja-build gcc pkg-config dpkg-dev liblua5.4-dev lua5.4 libprotobuf-c-dev protobuf-c-compiler libsodium-dev libssl-dev libjemalloc-dev python3"
# Test peers: curl and Python's websockets for the web modules, openssl for test certificates.
pkgs="$pkgs python3-websockets curl openssl"
# Real database servers for the driver tests (tests/db): each test starts its own
# as a plain process on a free port; the packages' system services stay stopped.
pkgs="$pkgs redis-server redis-tools mariadb-server mariadb-client"
# A real browser: the console dashboard test (obs_dashboard) and the WebSocket
# tests (tests/http/test_browser_ws.py), headless, DevTools over a pipe.
pkgs="$pkgs chromium"
# Prometheus: tools/demo.sh runs one scraping the demo's nodes (and its test checks it);
# the package's system service stays stopped, as the database servers' do.
pkgs="$pkgs prometheus"
# clang-format: the C layout in .clang-format (`clang-format --dry-run FILE`).
pkgs="$pkgs clang-format"
# tests/ops: kubectl renders the Kubernetes kustomization (Debian's kubernetes-client unless
# some kubectl is already installed); python3-venv holds the kubernetes-validate PyPI package.
pkgs="$pkgs python3-venv"
command -v kubectl >/dev/null 2>&1 || pkgs="$pkgs kubernetes-client"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
for p in ${EXTRA_PKGS:-}; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
# -Dlua=skiff fetches Debian's lua5.4 source package at configure time: apt needs a
# deb-src entry (lua/add-deb-src.sh mirrors the deb entries; a no-op when one exists).
if ! grep -rqsE '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	$SUDO sh "$(dirname "$0")/../lua/add-deb-src.sh"
	[ -z "$missing" ] && { $SUDO apt-get update -qq; exit 0; }
fi
[ -z "$missing" ] && exit 0
echo "skiff: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Keep package scripts from starting system services (redis, mariadb, prometheus) while
# installing: tests run their own servers, and nothing else should listen.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod 0755 "$policy" && made_policy=1
fi
# shellcheck disable=SC2086
rc=0
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null || rc=$?
[ $made_policy = 1 ] && $SUDO rm -f "$policy"
exit $rc
