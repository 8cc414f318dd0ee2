#!/bin/sh
# add-deb-src.sh: give apt a deb-src entry for each Debian archive it already
# has a deb entry for (same URIs, suites, components, key), so that
# `apt-get source lua5.4` works. Run as root; does nothing when one exists.
set -eu
out=/etc/apt/sources.list.d/skiff-deb-src.sources
[ -e "$out" ] && exit 0
if grep -rqsE '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	exit 0
fi
tmp=$(mktemp)
# deb822 files: copy each stanza whose Types has deb, as deb-src.
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	awk 'BEGIN { RS = ""; ORS = "\n\n" }
	     /(^|\n)Types:[^\n]*deb([ \t\n]|$)/ {
	         sub(/Types:[^\n]*/, "Types: deb-src"); print }' "$f" >>"$tmp"
done
# one-line lists: deb URI SUITE COMPONENTS -> deb-src ...
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" >>"$tmp.list"
done
if [ -s "$tmp" ]; then
	cp "$tmp" "$out"
elif [ -s "$tmp.list" ]; then
	cp "$tmp.list" /etc/apt/sources.list.d/skiff-deb-src.list
else
	echo "lua: no Debian deb entry to mirror as deb-src" >&2
	rm -f "$tmp" "$tmp.list"
	exit 1
fi
rm -f "$tmp" "$tmp.list"
