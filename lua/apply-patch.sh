#!/bin/sh
# apply-patch.sh SRC PATCH OUTDIR FILE...: copy Lua's src/ files into the
# build dir and apply Skiff's patch there (the fetched source stays as
# Debian ships it). Run by meson at build time, again whenever the patch
# changes; FILE... are the outputs meson expects (paths as meson gives
# them; their base names are the files of src/).
set -eu
src=$1 patchfile=$2 out=$3
shift 3
tmp=$(mktemp -d "$out/.patch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$src"/*.c "$src"/*.h "$tmp"/
patch --quiet --batch --forward -p1 -d "$tmp" <"$patchfile" || {
	echo "lua: $patchfile does not apply to $src" >&2
	exit 1
}
for f in "$@"; do
	cp "$tmp/${f##*/}" "$f"
done
