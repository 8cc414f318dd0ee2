-- httptest_dns: skynet.dns against a UDP DNS responder of the runner
-- (tests/http/http_peers.py dns_server) and a hosts file it writes; then the
-- real /etc/hosts.
local skynet = require "skynet"
local dns = require "skynet.dns"
local T = require "httptest_lib"
local check = T.check

T.run("httptest_dns", function()
	local port = T.peer_port()
	dns.server("127.0.0.1", port)
	dns.DEFAULT_HOSTS = skynet.getenv "httptest_hosts"
	dns.TIMEOUT = 50

	-- literal addresses come back unchanged
	check(dns.resolve("192.168.1.7") == "192.168.1.7", "ipv4 literal")
	check(dns.resolve("::1", true) == "::1", "ipv6 literal")
	check(dns.resolve("::1") == nil, "an ipv6 literal asked as ipv4")
	local ip, err = dns.resolve("bad name!")
	check(ip == nil and err == "illegal name", "illegal name", err)
	-- A with two records, AAAA
	local a, all = dns.resolve("a.test")
	check(a == "10.0.0.1" and #all == 2 and all[2] == "10.0.0.2", "A", a, #all)
	check(dns.resolve("A.Test.") == "10.0.0.1", "case and a trailing dot")
	local v6 = dns.resolve("a.test", true)
	check(v6 == "fd00:0:0:0:0:0:0:1", "AAAA", v6)
	-- a CNAME chain: the address at its end
	check(dns.resolve("alias.test") == "10.0.0.1", "CNAME")
	-- the hosts file wins, for both families
	check(dns.resolve("fromhosts.test") == "10.9.9.9", "hosts file v4")
	check(dns.resolve("other.test") == "10.9.9.9", "hosts file alias")
	check(dns.resolve("fromhosts.test", true) == "fd00::9", "hosts file v6")
	-- the cache: a.test again costs no query; count.test (TTL 0) does
	local c1 = dns.resolve("count.test")
	dns.resolve("a.test")
	local c2 = dns.resolve("count.test")
	check(tonumber(c2:match("%d+$")) == tonumber(c1:match("%d+$")) + 1, "cached a.test", c1, c2)
	-- failures: NXDOMAIN, silence (timeout), a stray reply (dropped, then timeout)
	T.raises("no such name", function() dns.resolve("missing.test") end)
	local t0 = skynet.now()
	T.raises("timeout", function() dns.resolve("silent.test") end)
	check(skynet.now() - t0 >= 45 and skynet.now() - t0 < 200, "timeout took", skynet.now() - t0)
	T.raises("timeout", function() dns.resolve("stray.test") end)
	-- malformed replies are dropped (with a log line): the question times out
	T.raises("timeout", function() dns.resolve("loop.test") end)
	T.raises("timeout", function() dns.resolve("trunc.test") end)
	-- many lookups at once from as many coroutines
	local done = 0
	for _ = 1, 50 do
		skynet.fork(function()
			if dns.resolve("count.test") then
				done = done + 1
			end
		end)
	end
	for _ = 1, 100 do
		if done == 50 then break end
		skynet.sleep(2)
	end
	check(done == 50, "concurrent lookups", done)
	-- the real /etc/hosts knows localhost
	dns.DEFAULT_HOSTS = "/etc/hosts"
	dns.flush()
	check(dns.resolve("localhost") == "127.0.0.1", "localhost from /etc/hosts")
end)
