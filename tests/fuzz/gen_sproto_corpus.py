#!/usr/bin/env python3
"""gen_sproto_corpus.py — seeds for the sproto fuzz target: messages of each
type of fuzz_sproto.c's schema, encoded by Skiff's own sproto (run in a stock
lua5.4 from lualib/ and the build's luaclib/sproto.so), raw and packed.

usage: gen_sproto_corpus.py BUILD_DIR
"""
import os
import subprocess
import sys

import seedfiles

ROOT = os.path.dirname(os.path.dirname(seedfiles.HERE))

SCRIPT = r'''
local luaclib, lualib = ...
package.cpath = luaclib .. "/?.so;" .. package.cpath
package.path = lualib .. "/?.lua;" .. package.path
local sproto = require "sproto"
local sp = sproto.parse [[
.Item { id 0 : integer  name 1 : string  count 2 : integer }
.Pair { k 0 : string  v 1 : integer }
.All {
	i 0 : integer  b 1 : boolean  s 2 : string  bin 3 : binary  d 4 : double
	money 5 : integer(2)  item 6 : Item  ints 7 : *integer  bools 8 : *boolean
	strs 9 : *string  doubles 10 : *double  items 11 : *Item  byid 12 : *Item(id)
	byname 13 : *Item(name)  dict 14 : *Pair()  prices 15 : *integer(3)
	.Nested { deep 0 : All  note 1 : string }
	nested 20 : Nested  far 1000 : integer
}
.package { type 0 : integer  session 1 : integer  ud 2 : integer }
]]
local types = { All = 0, ["All.Nested"] = 1, Item = 2, package = 3 }
local msgs = {
	{ "All", {} },
	{ "All", { i = 1, b = true, s = "s", bin = "\0\1", d = 0.5, money = 1.25 } },
	{ "All", { i = -5, far = 1 << 40, item = { id = 70000, name = "n", count = -1 } } },
	{ "All", { ints = { 1, 2, 3 }, bools = { true, false }, strs = { "a", "" }, doubles = { 1.5 } } },
	{ "All", { ints = { 1 << 33, -1 }, prices = { 0.125, -3 } } },
	{ "All", { items = { { id = 1 }, {} }, byid = { [3] = { id = 3, name = "x" } } } },
	{ "All", { byname = { k = { name = "k", count = 2 } }, dict = { a = 1, b = 2 } } },
	{ "All", { nested = { note = "n", deep = { nested = { deep = { i = 7 } } } } } },
	{ "All", { ints = {}, items = {}, dict = {} } },
	{ "All.Nested", { note = "hello", deep = { s = "deep" } } },
	{ "Item", { id = 0x7ffe, name = string.rep("z", 40), count = 0x7fff } },
	{ "package", { type = 1, session = 2, ud = 3 } },
}
for _, m in ipairs(msgs) do
	local raw = sp:encode(m[1], m[2])
	local t = types[m[1]] * 2
	for _, v in ipairs { { t, raw }, { t + 1, sproto.pack(raw) } } do
		io.write((string.char(v[1]) .. v[2]):gsub(".", function(c) return string.format("%02x", c:byte()) end), "\n")
	end
end
'''


def main():
    build = sys.argv[1]
    out = subprocess.run(["lua5.4", "-", os.path.join(build, "luaclib"), os.path.join(ROOT, "lualib")],
                         input=SCRIPT, capture_output=True, text=True, check=True).stdout
    seedfiles.write("sproto", [bytes.fromhex(line) for line in out.split()])


if __name__ == "__main__":
    main()
