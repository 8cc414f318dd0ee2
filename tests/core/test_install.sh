#!/usr/bin/env bash
# `meson install` gives a working install: the installed skiff finds its own C
# services, and a C service built outside the tree with
# `cc -shared -fPIC $(pkg-config --cflags skiff)` loads from a folder added to cpath.
# args: BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DESTDIR="$tmp/root" meson install -C "$build" --no-rebuild --quiet >/dev/null
skiff=$(find "$tmp/root" -path '*/bin/skiff' -type f | head -n1)
pc=$(find "$tmp/root" -name skiff.pc | head -n1)
[ -x "$skiff" ] || { echo "FAIL: no installed skiff"; exit 1; }
[ -f "$pc" ] || { echo "FAIL: no installed skiff.pc"; exit 1; }
cflags=$(PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR="$tmp/root" pkg-config --cflags skiff)
mkdir "$tmp/my"
# shellcheck disable=SC2086
cc -std=c11 -Wall -Werror -shared -fPIC $cflags "$src/tests/core/services/hello.c" -o "$tmp/my/hello.so"
cat > "$tmp/node.conf" <<CONF
thread = 2
cpath = cpath .. ";$tmp/my/?.so"
bootstrap = "hello from outside"
CONF
out=$(timeout 20 "$skiff" "$tmp/node.conf" 2>&1) || { echo "$out"; echo "FAIL: installed skiff failed"; exit 1; }
echo "$out"
echo "$out" | grep -q "HELLO from outside" || { echo "FAIL: service did not start"; exit 1; }
echo "$out" | grep -q "hello got: ping" || { echo "FAIL: service got no message"; exit 1; }
echo "$out" | grep -q "KILL self" || { echo "FAIL: service did not exit"; exit 1; }
# the plain-Lua client modules: lib/skiff/luaclib/client.so in a stock lua5.4
client=$(find "$tmp/root" -path '*/skiff/luaclib/client.so' -type f | head -n1)
[ -f "$client" ] || { echo "FAIL: no installed luaclib/client.so"; exit 1; }
command -v lua5.4 >/dev/null || { echo "FAIL: lua5.4 not found (Debian package lua5.4)"; exit 1; }
# a sanitizer build's modules need the sanitizer runtimes loaded first in a stock lua5.4
lua_run() {
	if grep -q __asan_init "$client"; then
		LD_PRELOAD="$(cc -print-file-name=libasan.so) $(cc -print-file-name=libubsan.so)" \
			ASAN_OPTIONS=detect_leaks=0 lua5.4 "$@"
	elif grep -q __tsan_init "$client"; then
		LD_PRELOAD="$(cc -print-file-name=libtsan.so)" lua5.4 "$@"
	else
		lua5.4 "$@"
	fi
}
lua_run -e "package.cpath = '$(dirname "$client")/?.so;' .. package.cpath
local crypt, socket = require 'client.crypt', require 'client.socket'
assert(crypt.hexencode(crypt.sha1 'abc') == 'a9993e364706816aba3e25717850c26c9cd0d89d')
assert(type(socket.connect) == 'function')
print 'installed client.so loads'" || { echo "FAIL: installed client.so"; exit 1; }
# sproto for plain Lua: luaclib/sproto.so with the installed lualib/*.lua
sprotoso=$(find "$tmp/root" -path '*/skiff/luaclib/sproto.so' -type f | head -n1)
sprotolua=$(find "$tmp/root" -path '*/lualib/sproto.lua' -type f | head -n1)
[ -f "$sprotoso" ] && [ -f "$sprotolua" ] || { echo "FAIL: no installed luaclib/sproto.so or lualib/sproto.lua"; exit 1; }
lua_run -e "package.cpath = '$(dirname "$sprotoso")/?.so;' .. package.cpath
package.path = '$(dirname "$sprotolua")/?.lua;' .. package.path
local sp = require 'sproto'.parse '.P { name 0 : string  age 1 : integer }'
assert(sp:encode('P', { name = 'Alice', age = 13 }) == '\\2\\0\\0\\0\\28\\0\\5\\0\\0\\0Alice')
print 'installed sproto.so loads'" || { echo "FAIL: installed sproto.so"; exit 1; }
echo OK
