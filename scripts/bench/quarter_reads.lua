-- wrk: the readers of the quarter-end browse (make bench): co-chairs and
-- staff browsing while leads post (quarter_writes.lua), spread over every
-- action, pillar and quarter of the plan, charts included.
-- BENCH_IDS "min max" of action ids; BENCH_TOKENS viewers' tokens,
-- space-separated (each request is one viewer's).
local lo, hi = os.getenv("BENCH_IDS"):match("(%d+) (%d+)")
lo, hi = tonumber(lo), tonumber(hi)
local tokens = {}
for t in os.getenv("BENCH_TOKENS"):gmatch("%S+") do tokens[#tokens + 1] = "Bearer " .. t end

local function quarter()
	return string.format("%d-Q%d", math.random(2021, 2025), math.random(1, 4))
end

-- weights out of 100
local mix = {
	{ 56, function() return "/v1/actions/" .. math.random(lo, hi) end },
	{ 8, function() return "/v1/actions?pillar=" .. math.random(1, 8) end },
	{ 4, function() return "/v1/pillars" end },
	{ 4, function() return "/v1/pillars/" .. math.random(1, 8) end },
	{ 10, function() return "/v1/progress?as_of=" .. quarter() end },
	{ 5, function()
		local to = math.random(2021, 2025)
		return "/v1/progress/trend?from=2021-Q1&to=" .. to .. "-Q4"
			.. (math.random(2) == 1 and "" or "&pillar=" .. math.random(1, 8))
	end },
	{ 6, function() return "/v1/reporting?period=" .. quarter() end },
	{ 3, function() return "/v1/updates?pillar=" .. math.random(1, 8) end },
	{ 3, function() return "/v1/charts/status-by-pillar.svg?as_of=" .. quarter() end },
	{ 1, function() return "/v1/charts/pillar-burnup.svg?pillar=" .. math.random(1, 8) end },
}

function init(args)
	math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
	local r, acc = math.random(100), 0
	for _, m in ipairs(mix) do
		acc = acc + m[1]
		if r <= acc then
			return wrk.format("GET", m[2](), { ["Authorization"] = tokens[math.random(#tokens)] })
		end
	end
end
