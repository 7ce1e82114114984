-- wrk: the leads of the quarter-end mix (make bench), each posting the
-- quarter's update on an action their entity leads, every POST with a
-- fresh Idempotency-Key. BENCH_POSTERS: a file of "token action" lines;
-- BENCH_PERIOD: the quarter reported on.
local period = os.getenv("BENCH_PERIOD")
local posters = {}
for line in io.lines(os.getenv("BENCH_POSTERS")) do
	local token, action = line:match("(%S+) (%d+)")
	posters[#posters + 1] = { token, action }
end
local threads = {}
-- per thread (globals, which thread:get reads): its number, requests made, 201s
id, n, created = 0, 0, 0

function setup(thread)
	thread:set("id", #threads + 1)
	threads[#threads + 1] = thread
end

function init(args)
	math.randomseed(os.time() + id * 7919 + math.floor(os.clock() * 1e6))
end

-- each connection waits 40 ms between posts: about a hundred posts a
-- second from the four, a few percent of the requests, as in reporting week
function delay()
	return 40
end

function request()
	local p = posters[math.random(#posters)]
	n = n + 1
	return wrk.format("POST", "/v1/actions/" .. p[2] .. "/updates", {
		["Authorization"] = "Bearer " .. p[1],
		["Content-Type"] = "application/json",
		["Idempotency-Key"] = string.format("bench-%d-%d-%d", os.time(), id, n),
	}, string.format('{"period":"%s","status":"on_track","percent_complete":%d,'
		.. '"narrative":"Quarter-end update %d of thread %d."}', period, math.random(0, 99), n, id))
end

function response(status, headers, body)
	if status == 201 then created = created + 1 end
end

function done(summary, latency, requests)
	local total = 0
	for _, t in ipairs(threads) do total = total + t:get("created") end
	io.write(string.format("created %d\n", total))
end
