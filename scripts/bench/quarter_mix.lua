-- wrk: the quarter-end mix of SPEC 9 (make bench), the same requests for
-- the API and for its peer (bench/peer): of every 100 requests, 75
-- GET /v1/actions/{id} over all actions, 20 GET /v1/progress over the
-- cycle's quarters, 5 POST /v1/actions/{id}/updates by a lead on an action
-- of its entity, each with a fresh Idempotency-Key.
-- BENCH_IDS "min max" of action ids; BENCH_TOKEN a viewer's token;
-- BENCH_POSTERS a file of "token action" lines; BENCH_QUARTERS the cycle's
-- quarters, space-separated (the last is the one reported on).
local lo, hi = os.getenv("BENCH_IDS"):match("(%d+) (%d+)")
lo, hi = tonumber(lo), tonumber(hi)
local reader = "Bearer " .. os.getenv("BENCH_TOKEN")
local quarters = {}
for q in os.getenv("BENCH_QUARTERS"):gmatch("%S+") do quarters[#quarters + 1] = q end
local period = quarters[#quarters]
local posters = {}
for line in io.lines(os.getenv("BENCH_POSTERS")) do
	local token, action = line:match("(%S+) (%d+)")
	posters[#posters + 1] = { "Bearer " .. token, action }
end

local threads = {}
-- per thread (globals, which thread:get reads): its number, the requests
-- of each kind, POSTs answered 201, answers that were not 2xx
id, reads, writes, created, failed = 0, 0, 0, 0, 0

function setup(thread)
	thread:set("id", #threads + 1)
	threads[#threads + 1] = thread
end

function init(args)
	math.randomseed(os.time() * 1000 + id * 7919 + math.floor(os.clock() * 1e6))
end

function request()
	local r = math.random(100)
	if r <= 95 then
		reads = reads + 1
		local path = r <= 75 and "/v1/actions/" .. math.random(lo, hi)
			or "/v1/progress?as_of=" .. quarters[math.random(#quarters)]
		return wrk.format("GET", path, { ["Authorization"] = reader })
	end
	writes = writes + 1
	local p = posters[math.random(#posters)]
	-- the narrative holds the key: an update stored twice shows as a repeat
	local key = string.format("mix-%d-%d-%d", os.time(), id, writes)
	return wrk.format("POST", "/v1/actions/" .. p[2] .. "/updates", {
		["Authorization"] = p[1],
		["Content-Type"] = "application/json",
		["Idempotency-Key"] = key,
	}, string.format('{"period":"%s","status":"on_track","percent_complete":%d,'
		.. '"narrative":"Quarter-end update %s."}', period, math.random(0, 99), key))
end

function response(status, headers, body)
	if status == 201 then created = created + 1 end
	if status < 200 or status > 299 then failed = failed + 1 end
end

function done(summary, latency, requests)
	local t = { reads = 0, writes = 0, created = 0, failed = 0 }
	for _, th in ipairs(threads) do
		for k in pairs(t) do t[k] = t[k] + th:get(k) end
	end
	io.write(string.format("mix reads %d writes %d created %d failed %d\n",
		t.reads, t.writes, t.created, t.failed))
end
