#!/bin/sh
# fetch-source.sh DIR: make sure DIR holds Debian's lua5.4 source package,
# unpacked with Debian's own patches (apt-get source), and print the path of
# its src/ folder. Run by meson at configure time (lua/meson.build); DIR is
# lua/debian-src in the source tree (git-ignored), shared by every build dir.
#
# Needs a deb-src entry for Debian's archive and dpkg-dev (tools/deps.sh sets
# both up). As root, a missing deb-src entry is added here, mirroring the
# machine's deb entries; otherwise the error says what to run.
set -eu
dir=$1
found() {
	for d in "$dir"/lua5.4-*/src; do
		if [ -f "$d/lapi.c" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}
found && exit 0

command -v dpkg-source >/dev/null 2>&1 || {
	echo "lua: apt-get source needs dpkg-source: install Debian package dpkg-dev (tools/deps.sh)" >&2
	exit 1
}
if ! apt-get source --print-uris lua5.4 >/dev/null 2>&1; then
	if [ "$(id -u)" != 0 ]; then
		echo "lua: no deb-src entry for Debian's archive; run tools/deps.sh as root (or build with -Dlua=system)" >&2
		exit 1
	fi
	sh "$(dirname "$0")/add-deb-src.sh" >&2
	apt-get update -qq >&2
fi
mkdir -p "$dir"
tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
# apt-get source runs dpkg-source -x, which applies Debian's patches.
if ! (cd "$tmp" && apt-get source -qq lua5.4 >&2); then
	rm -rf "$tmp"
	echo "lua: apt-get source lua5.4 failed" >&2
	exit 1
fi
for d in "$tmp"/lua5.4-*; do
	[ -f "$d/src/lapi.c" ] || continue
	rm -rf "$dir/${d##*/}"
	mv "$d" "$dir/"
done
rm -rf "$tmp"
found || {
	echo "lua: apt-get source lua5.4 gave no src/lapi.c" >&2
	exit 1
}
